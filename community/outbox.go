package community

import (
	"context"
	"time"
)

// EventKind names what an outbox event is about.
type EventKind string

// The kinds of outbox event.
const (
	// EventPost says a post changed: created, edited, deleted, or its counters moved.
	EventPost EventKind = "post"
	// EventClub says a club's visibility changed: what is indexed of its posts changes too.
	EventClub EventKind = "club"
)

// OutboxEvent is a change that must reach other systems (the search index), written in the
// same store transaction as the write that made it. An entity has at most one pending
// event: a later write to it renews the event's Token and keeps its place in the queue, so
// a busy entity is neither starved nor delivered once per write. Whoever delivers an event
// reads the entity's current state, so the event carries no payload.
type OutboxEvent struct {
	Kind     EventKind
	EntityID string
	// Token identifies the write the event was last renewed by; AckEvents removes the
	// event only while it still holds the token that was delivered.
	Token string
	// At is when the entity's oldest undelivered change was written.
	At time.Time
}

// Backlog is how much of the outbox waits for delivery.
type Backlog struct {
	Pending int
	// Oldest is the At of the oldest pending event (zero when none waits).
	Oldest time.Time
}

// Outbox is the queue of changes waiting for delivery. Only the relay that holds the
// outbox lease calls it; delivery is at least once, so consumers are idempotent.
type Outbox interface {
	// PendingEvents returns up to limit pending events, oldest first (At, then entity).
	PendingEvents(ctx context.Context, limit int) ([]OutboxEvent, error)
	// AckEvents removes delivered events. An event renewed since it was read (its Token
	// changed) stays pending; acknowledging an event that is gone changes nothing.
	AckEvents(ctx context.Context, events []OutboxEvent) error
	// OutboxBacklog counts the pending events and dates the oldest.
	OutboxBacklog(ctx context.Context) (Backlog, error)
	// PendingClubs returns the clubs that have a pending EventClub, as they are now: clubs
	// whose visibility changed and whose posts the index may still hold with the old one.
	// They are few (a club has one pending event at most, and only a change of visibility
	// makes one), and they are read through an index, not a scan of the outbox. Unlike the
	// rest of Outbox it only reads, and searches call it.
	PendingClubs(ctx context.Context) ([]Club, error)
}
