// Each consumer's outbox queue in order, by time and then by key: PendingEvents reads a
// consumer's oldest events from the head of its part of this index, without sorting the
// queue, even when one import wrote thousands of events at one time; OutboxBacklog counts
// the consumer's entries and reads the oldest time from it.
CREATE INDEX outbox_event_consumer_at_key IF NOT EXISTS FOR (e:OutboxEvent) ON (e.consumer, e.at, e.key)
