// Events written before the outbox had consumers were all the search index's: they become
// the search consumer's, keyed as renewEvent keys them now (consumer, ":", kind, ":",
// entity id), a batch at a time: the migration runs again while it changes any.
MATCH (e:OutboxEvent)
WHERE e.consumer IS NULL
WITH e LIMIT 10000
SET e.consumer = 'search', e.key = 'search:' + e.key
RETURN count(e) AS changed
