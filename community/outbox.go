package community

import (
	"context"
	"fmt"
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
	// EventReward says a reward was created or changed status (granted, reversed, clawed
	// back, reviewed).
	EventReward EventKind = "reward"
)

// Consumer names a system the outbox feeds. Each consumer has a queue of its own: it
// reads and acknowledges its events apart from the others, so a slow or failing consumer
// holds back nobody else.
type Consumer string

// The consumers of the outbox.
const (
	// ConsumerSearch keeps the search index: posts as they are now, and the posts of clubs
	// whose visibility changed.
	ConsumerSearch Consumer = "search"
	// ConsumerRewards announces the reward ledger's changes: the reward job reads it, and
	// hands each change to whatever pays and notifies (see RewardGrants).
	ConsumerRewards Consumer = "rewards"
)

// Subscription says which kinds of event one consumer receives.
type Subscription struct {
	Consumer Consumer
	Kinds    []EventKind
}

// Subscriptions is a table of the outbox's consumers. A store reads it when it writes: a
// write that emits an event of a kind queues one event for each consumer of that kind, in
// the write's transaction.
type Subscriptions []Subscription

// OutboxSubscriptions is the domain's table, which the stores use unless configured with
// another. A new consumer (reward grants, notifications, webhooks) is one row here and a
// Handler that a Relay runs for it; the stores need no change.
var OutboxSubscriptions = Subscriptions{
	{Consumer: ConsumerSearch, Kinds: []EventKind{EventPost, EventClub}},
	{Consumer: ConsumerRewards, Kinds: []EventKind{EventReward}},
}

// ByKind checks the table (Validate) and returns the consumers of each kind of event, in
// the table's order: what a store keeps to queue a write's events. A nil table is
// OutboxSubscriptions.
func (s Subscriptions) ByKind() (map[EventKind][]Consumer, error) {
	if s == nil {
		s = OutboxSubscriptions
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	out := map[EventKind][]Consumer{}
	for _, sub := range s {
		for _, kind := range sub.Kinds {
			out[kind] = append(out[kind], sub.Consumer)
		}
	}
	return out, nil
}

// Validate reports a table the stores cannot key events by: a consumer listed twice, or
// one whose name is empty or has a character other than a lower-case letter, a digit,
// '-' or '_' (stores put the name in front of the event's key, before a separator).
func (s Subscriptions) Validate() error {
	seen := map[Consumer]bool{}
	for _, sub := range s {
		if sub.Consumer == "" {
			return fmt.Errorf("community: an outbox consumer has no name")
		}
		for _, r := range sub.Consumer {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("community: outbox consumer %q: name has %q", sub.Consumer, r)
			}
		}
		if seen[sub.Consumer] {
			return fmt.Errorf("community: outbox consumer %q is listed twice", sub.Consumer)
		}
		seen[sub.Consumer] = true
	}
	return nil
}

// OutboxEvent is a change that must reach one consumer, written in the same store
// transaction as the write that made it. A consumer has at most one pending event per
// entity: a later write to the entity renews the event's Token and keeps its place in the
// consumer's queue, so a busy entity is neither starved nor delivered once per write.
// Whoever delivers an event reads the entity's current state, so the event carries no
// payload.
type OutboxEvent struct {
	Kind     EventKind
	EntityID string
	// Token identifies the write the event was last renewed by; AckEvents removes the
	// event only while it still holds the token that was delivered.
	Token string
	// At is when the entity's oldest change that the consumer has not acknowledged was
	// written.
	At time.Time
}

// Backlog is how much of one consumer's queue waits for delivery.
type Backlog struct {
	Pending int
	// Oldest is the At of the oldest pending event (zero when none waits).
	Oldest time.Time
}

// Outbox is the queue of changes waiting for delivery, one queue per consumer. Only the
// relay that holds a consumer's lease reads and acknowledges its queue; delivery is at
// least once, so consumers are idempotent. Each call is one round trip to the store. A
// consumer the store's table does not name has an empty queue.
type Outbox interface {
	// PendingEvents returns up to limit of consumer's pending events, oldest first (At,
	// then kind and entity).
	PendingEvents(ctx context.Context, consumer Consumer, limit int) ([]OutboxEvent, error)
	// AckEvents removes consumer's delivered events; the other consumers' events of the
	// same entities stay. An event renewed since it was read (its Token changed) stays
	// pending; acknowledging an event that is gone changes nothing.
	AckEvents(ctx context.Context, consumer Consumer, events []OutboxEvent) error
	// OutboxBacklog counts consumer's pending events and dates the oldest.
	OutboxBacklog(ctx context.Context, consumer Consumer) (Backlog, error)
}
