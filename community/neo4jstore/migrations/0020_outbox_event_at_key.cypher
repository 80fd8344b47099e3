// The outbox queue in order, by time and then by key: PendingEvents reads the oldest events
// from the head of this index, without sorting the queue, even when one import wrote
// thousands of events at one time; OutboxBacklog reads the oldest time from it.
CREATE INDEX outbox_event_at_key IF NOT EXISTS FOR (e:OutboxEvent) ON (e.at, e.key)
