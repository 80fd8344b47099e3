// Follows stored before their keys were kept get them, a batch at a time: the migration
// runs again while it changes any. The time is encoded as sinceOrder encodes it in Go: the
// year, the day of the year, the second of the day and the nanosecond of the time in UTC,
// each subtracted from its largest value (999999999, 366, 86399, 999999999) and
// zero-padded to 10, 3, 5 and 9 digits. A follow without a time (which no statement
// writes) is left without keys, and out of the lists, rather than keyed again forever.
MATCH (a:Member)-[r:FOLLOWS]->(b:Member)
WHERE (r.inKey IS NULL OR r.outKey IS NULL) AND r.since IS NOT NULL
WITH a, r, b LIMIT 10000
WITH a, r, b, datetime({datetime: r.since, timezone: 'UTC'}) AS t
WITH a, r, b,
  right('000000000' + toString(999999999 - t.year), 10) +
  right('00' + toString(366 - t.ordinalDay), 3) +
  right('0000' + toString(86399 - (t.hour * 3600 + t.minute * 60 + t.second)), 5) +
  right('00000000' + toString(999999999 - t.nanosecond), 9) AS since
SET r.inKey = b.id + ' ' + since + ' ' + a.id, r.outKey = a.id + ' ' + since + ' ' + b.id
RETURN count(r) AS changed
