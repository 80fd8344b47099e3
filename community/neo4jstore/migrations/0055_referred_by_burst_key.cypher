// A referrer's referrals of a campaign by time: the burst count of a redemption
// (RedemptionFacts.RecentReferrals) is a seek of the referrer's and campaign's range of
// this index from the start of the burst window, so that it reads the referrals within
// the window only, however many the referrer has. referrer is the referrer's id, kept on
// the relationship for this index (an index holds the relationship's own properties).
CREATE INDEX referred_by_burst_key IF NOT EXISTS FOR ()-[r:REFERRED_BY]-() ON (r.referrer, r.campaign, r.at)
