// Club memberships, requests to join and brand memberships stored before their keys were
// kept get them, in one pass that commits every $batch of them, as 0031 keys follows. Each
// is keyed in the list of the club or brand it points to, with the time it has (since, or
// at for a request), encoded as 0031 encodes it (see sinceOrder); a club membership also
// gets the key of its role's list. One that cannot be keyed, without a time, a role or an
// id (which no statement writes), is left without keys, and out of the lists.
MATCH (m:Member)-[r:JOINED|REQUESTED_TO_JOIN|MEMBER_OF]->(o)
CALL (m, r, o) {
  WITH m, r, o, type(r) = 'JOINED' AS joined, CASE type(r) WHEN 'REQUESTED_TO_JOIN' THEN r.at ELSE r.since END AS at
  WITH m, r, o, joined, at
  WHERE at IS NOT NULL AND m.id IS NOT NULL AND o.id IS NOT NULL
    AND (r.inKey IS NULL OR (joined AND r.roleKey IS NULL AND r.role IS NOT NULL))
  WITH m, r, o, joined, datetime({datetime: at, timezone: 'UTC'}) AS t
  WITH m, r, o, joined,
    ' ' +
    right('000000000' + toString(999999999 - t.year), 10) +
    right('00' + toString(366 - t.ordinalDay), 3) +
    right('0000' + toString(86399 - (t.hour * 3600 + t.minute * 60 + t.second)), 5) +
    right('00000000' + toString(999999999 - t.nanosecond), 9) +
    ' ' + m.id AS sinceAndMember
  SET r.inKey = o.id + sinceAndMember,
    r.roleKey = CASE WHEN joined THEN o.id + ' ' + r.role + sinceAndMember END
} IN TRANSACTIONS OF $batch ROWS
