// An entity has one pending outbox event at most: key is its kind, ":", its id. The
// constraint is also what makes two MERGEs of one event find one node.
CREATE CONSTRAINT outbox_event_key IF NOT EXISTS FOR (e:OutboxEvent) REQUIRE e.key IS UNIQUE
