// Follows stored before their keys were kept get them, in one pass over the follows that
// commits every $batch of them (CALL … IN TRANSACTIONS, in a transaction of its own), so
// that neither a graph of millions of follows is keyed in one transaction nor its follows
// read again for each batch. The pass only reads what it does not write (the keys are
// tested inside the call), so that no follow is held in memory for the whole pass; a
// pass cut short is taken up by the next start, as the migration is recorded only once it
// has run to the end. The time is encoded as sinceOrder encodes it in Go: the year, the
// day of the year, the second of the day and the nanosecond of the time in UTC, each
// subtracted from its largest value (999999999, 366, 86399, 999999999) and zero-padded to
// 10, 3, 5 and 9 digits. A follow without a time (which no statement writes) is left
// without keys, and out of the lists.
MATCH (a:Member)-[r:FOLLOWS]->(b:Member)
CALL (a, r, b) {
  WITH a, r, b WHERE (r.inKey IS NULL OR r.outKey IS NULL) AND r.since IS NOT NULL
  WITH a, r, b, datetime({datetime: r.since, timezone: 'UTC'}) AS t
  WITH a, r, b,
    right('000000000' + toString(999999999 - t.year), 10) +
    right('00' + toString(366 - t.ordinalDay), 3) +
    right('0000' + toString(86399 - (t.hour * 3600 + t.minute * 60 + t.second)), 5) +
    right('00000000' + toString(999999999 - t.nanosecond), 9) AS since
  SET r.inKey = b.id + ' ' + since + ' ' + a.id, r.outKey = a.id + ' ' + since + ' ' + b.id
} IN TRANSACTIONS OF $batch ROWS
