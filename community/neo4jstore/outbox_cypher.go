package neo4jstore

// The Cypher of the outbox, one constant per statement, every value a parameter.
//
// A pending event is an (:OutboxEvent {key, consumer, kind, entityId, token, at}) node, one
// for each consumer of the entity's changes: key is consumer, ":", kind, ":", entity id,
// unique (so a consumer has one pending event per entity at most); at is the time of the
// transaction that wrote the entity's oldest change the consumer has not acknowledged; a
// range index on (consumer, at, key) holds each consumer's queue in its order; token is a
// random UUID that every write of the entity renews. A write MERGEs its entity's events in
// the statement that changes the entity (renewEvent), so the events commit or roll back
// with the change.
//
// Every writer of an entity locks it (see cypher.go) before it MERGEs the events, and
// AckEvents locks the entity too before it compares tokens and deletes: so an
// acknowledgement never deletes an event renewed by a write it did not see, and a write
// never renews an event that an acknowledgement is deleting under it (it finds none and
// creates a new one, at the back of the queue).

// renewEvent writes the pending events of the entity x, of kind $eventKind, one for each
// consumer in $eventConsumers (the consumers of the kind), for a statement that changed x:
// it keeps the time and place of an event already pending, and gives it a new token either
// way. It is a clause list, for the end of a statement or a FOREACH.
const renewEvent = `
  FOREACH (consumer IN $eventConsumers |
    MERGE (e:OutboxEvent {key: consumer + ':' + $eventKind + ':' + x.id})
    ON CREATE SET e.consumer = consumer, e.kind = $eventKind, e.entityId = x.id, e.at = datetime.transaction()
    SET e.token = randomUUID())`

// touchPost raises the version of the post x by one and renews its events (renewEvent),
// for a statement that changed x or its counters.
const touchPost = `
  SET x.version = coalesce(x.version, 1) + 1` + renewEvent

const (
	// cypherPendingEvents reads the first $limit events of $consumer's queue, by at, then
	// by key (kind and entity id). The index on (consumer, at, key) gives the rows in that
	// order, so the read stops after $limit entries and sorts nothing, however many events
	// share a time. (The planner seeks a composite index only with a predicate on each of
	// its properties.)
	cypherPendingEvents = `
MATCH (e:OutboxEvent)
WHERE e.consumer = $consumer AND e.at IS NOT NULL AND e.key IS NOT NULL
WITH e ORDER BY e.consumer, e.at, e.key LIMIT $limit
RETURN e.kind AS kind, e.entityId AS entityId, e.token AS token, e.at AS at`

	// cypherAckEvents deletes the events of $events (maps of key, kind, entityId and token,
	// sorted by entityId) whose token is still the one delivered. The entity, a post, a
	// club or a reward, is locked first, as its writers lock it, so that the token compared is that of
	// the last committed write.
	cypherAckEvents = `
UNWIND $events AS ev
OPTIONAL MATCH (p:Post {id: ev.entityId}) WHERE ev.kind = $postEvent
OPTIONAL MATCH (c:Club {id: ev.entityId}) WHERE ev.kind = $clubEvent
OPTIONAL MATCH (x:Reward {id: ev.entityId}) WHERE ev.kind = $rewardEvent
WITH ev, coalesce(p, c, x) AS entity
SET entity._lock = true REMOVE entity._lock
WITH ev
MATCH (e:OutboxEvent {key: ev.key})
WHERE e.token = ev.token
DELETE e`

	// cypherPendingClubs reads the clubs with a pending club event of the search consumer:
	// the keys of those events start with $prefix, which the unique index on keys seeks.
	cypherPendingClubs = `
MATCH (e:OutboxEvent)
WHERE e.key STARTS WITH $prefix
MATCH (c:Club {id: e.entityId})
RETURN ` + clubFields + ` AS club`

	// cypherOutboxBacklog counts the events of $consumer and reads the oldest time, both
	// from the index on (consumer, at, key): the count reads the consumer's entries of the
	// index, not the events, and the oldest time is the first of them.
	cypherOutboxBacklog = `
RETURN COUNT {
  MATCH (e:OutboxEvent)
  WHERE e.consumer = $consumer AND e.at IS NOT NULL AND e.key IS NOT NULL
} AS pending, head(COLLECT {
  MATCH (e:OutboxEvent)
  WHERE e.consumer = $consumer AND e.at IS NOT NULL AND e.key IS NOT NULL
  WITH e ORDER BY e.consumer, e.at, e.key LIMIT 1
  RETURN e.at AS at
}) AS oldest`
)
