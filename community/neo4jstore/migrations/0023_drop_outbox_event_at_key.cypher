// The queue of all events by time gave way to each consumer's queue
// (outbox_event_consumer_at_key); nothing reads it any more.
DROP INDEX outbox_event_at_key IF EXISTS
