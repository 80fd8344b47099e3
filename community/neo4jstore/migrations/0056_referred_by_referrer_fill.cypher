// Referrals stored before the referrer's id was kept on them get it, in one pass that
// commits every $batch of them (see 0031_follows_keys_fill), so that bursts count them.
MATCH (:Member)-[r:REFERRED_BY]->(ref:Member)
CALL (r, ref) {
  WITH r, ref WHERE r.referrer IS NULL
  SET r.referrer = ref.id
} IN TRANSACTIONS OF $batch ROWS
