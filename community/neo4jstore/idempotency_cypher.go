package neo4jstore

const (
	// cypherReserveIdempotencyKey finds or creates the (:IdempotencyKey {scope, key}) node,
	// takes its write lock before reading it (so that of two reservations of an expired key
	// one replaces it and the other reads the replacement), replaces it when it was made
	// before $expiredBefore, and returns the reservation that holds.
	cypherReserveIdempotencyKey = `
MERGE (k:IdempotencyKey {scope: $scope, key: $key})
ON CREATE SET k.entityId = $entityId, k.fingerprint = $fingerprint, k.at = $at
SET k._lock = true REMOVE k._lock
WITH k
FOREACH (x IN CASE WHEN k.at < $expiredBefore THEN [k] ELSE [] END |
  SET x.entityId = $entityId, x.fingerprint = $fingerprint, x.at = $at)
RETURN k.entityId AS entityId, k.fingerprint AS fingerprint, k.at AS at`

	// cypherSweepIdempotencyKeys deletes up to $limit reservations made before $before,
	// found through the index on their time, and returns how many.
	cypherSweepIdempotencyKeys = `
MATCH (k:IdempotencyKey) WHERE k.at < $before
WITH k LIMIT $limit
DELETE k
RETURN count(k) AS swept`
)
