CREATE INDEX reward_brand_review IF NOT EXISTS FOR (r:Reward) ON (r.brandId, r.awaitsReview)
