CREATE INDEX reward_status_grants IF NOT EXISTS FOR (r:Reward) ON (r.status, r.grantsAt)
