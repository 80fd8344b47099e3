// Referrals stored before their keys were kept get them, in one pass that commits every
// $batch of them, as 0031 keys follows: the referrer's id, the time of the referral as
// sinceOrder encodes it, and the referee's id.
MATCH (m:Member)-[r:REFERRED_BY]->(ref:Member)
CALL (m, r, ref) {
  WITH m, r, ref WHERE r.inKey IS NULL AND r.at IS NOT NULL
  WITH m, r, ref, datetime({datetime: r.at, timezone: 'UTC'}) AS t
  SET r.inKey = ref.id + ' ' +
    right('000000000' + toString(999999999 - t.year), 10) +
    right('00' + toString(366 - t.ordinalDay), 3) +
    right('0000' + toString(86399 - (t.hour * 3600 + t.minute * 60 + t.second)), 5) +
    right('00000000' + toString(999999999 - t.nanosecond), 9) +
    ' ' + m.id
} IN TRANSACTIONS OF $batch ROWS
