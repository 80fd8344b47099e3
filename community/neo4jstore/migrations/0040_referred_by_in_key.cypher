// A member's referees in list order: inKey is the referrer's id, the time of the referral
// (newest first) and the referee's id (see listKey), and a page of level 1 of a downline is
// a seek of the referrer's range of this index, from the position it starts after, that
// stops after the page.
CREATE INDEX referred_by_in_key IF NOT EXISTS FOR ()-[r:REFERRED_BY]-() ON (r.inKey)
