// The referrals of a campaign in time order: a ranking of a brand's referrers seeks each of
// its campaigns' range of this index, between the window's times, and reads no other
// referral.
CREATE INDEX referred_by_campaign_at IF NOT EXISTS FOR ()-[r:REFERRED_BY]-() ON (r.campaign, r.at)
