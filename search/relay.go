package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"quanzi/community"
)

// Lease names. The relay delivers while it holds RelayLease; a rebuild holds RebuildLease
// for its whole run, and the relay gives way (releasing RelayLease) while it is held, so
// that changes written during a rebuild wait in the outbox and reach the new index after
// the switch.
const (
	RelayLease   = "search-relay"
	RebuildLease = "search-rebuild"
)

// RelayConfig configures a Relay; zero fields take defaults.
type RelayConfig struct {
	// Holder names this instance in leases; unique per process.
	Holder string
	// Batch is how many events one delivery takes: the index's WriteBatch when it has
	// one, 500 otherwise.
	Batch int
	// Idle is the first wait after the outbox was found drained (100ms), doubling while it
	// stays empty up to MaxIdle (2s): the lag of a quiet system for writes that do not
	// wake this instance's relay.
	Idle, MaxIdle time.Duration
	// LeaseTTL is how long a lease lasts without renewal (15s): how soon another instance
	// takes over from one that died.
	LeaseTTL time.Duration
	// MinBackoff and MaxBackoff bound the waits after a failed delivery (200ms, 30s).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// RelayStats is what a relay has done since it started.
type RelayStats = community.RelayStats

// Relay carries the search consumer's outbox events to the index: at least once, in
// batches, newest state only (Handler reads each post as the store has it when delivering,
// and the index keeps the higher version). Every instance runs one; RelayLease lets one
// deliver at a time.
type Relay struct {
	relay  *community.Relay
	runner *community.Runner
}

// Batcher is implemented by an index that writes much faster in batches of a size of its
// own than in the relay's default ones.
type Batcher interface {
	// WriteBatch is how many documents one Apply should carry when many wait.
	WriteBatch() int
}

// writeBatch is idx's preferred batch, or def.
func writeBatch(idx Index, def int) int {
	if b, ok := idx.(Batcher); ok && b.WriteBatch() > 0 {
		return b.WriteBatch()
	}
	return def
}

// NewRelay returns a relay from a store's outbox to an index.
func NewRelay(store Source, idx Index, leases community.Leases, cfg RelayConfig) *Relay {
	if cfg.Batch <= 0 {
		cfg.Batch = writeBatch(idx, 500)
	}
	return &Relay{
		relay: community.NewRelay(store, community.ConsumerSearch, Handler(store, idx), community.RelayConfig{
			Batch: cfg.Batch, MinIdle: cfg.Idle, MaxIdle: cfg.MaxIdle,
			MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, Logger: cfg.Logger,
		}),
		runner: community.NewRunner(leases, community.RunnerConfig{
			Lease: RelayLease, Holder: cfg.Holder, TTL: cfg.LeaseTTL, GiveWay: []string{RebuildLease},
			MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, Logger: cfg.Logger,
		}),
	}
}

// Wake asks the relay to look at the outbox now rather than after its idle wait.
func (r *Relay) Wake() { r.relay.Wake() }

// Stats reports what the relay has done; its failures count those of the lease too.
func (r *Relay) Stats() RelayStats {
	s, l := r.relay.Stats(), r.runner.Stats()
	s.Failures += l.Failures
	if s.LastError == "" {
		s.LastError = l.LastError
	}
	return s
}

// Run delivers while this instance holds RelayLease, until ctx ends. It returns nil when
// ctx ends; failures are logged and retried with backoff, never returned.
func (r *Relay) Run(ctx context.Context) error { return r.runner.Run(ctx, r.relay.Run) }

// DeliverOnce delivers up to one batch of pending events, whoever holds the lease (Run
// checks it), and returns how many it delivered. Events are acknowledged only after the
// index has taken them.
func (r *Relay) DeliverOnce(ctx context.Context) (int, error) { return r.relay.DeliverOnce(ctx) }

// Handler returns the search consumer's handler: it writes to idx the documents of the
// posts that events name, and again those of the published posts of the clubs whose
// visibility changed, each as the store has it now.
func Handler(store Source, idx Index) community.Handler {
	return func(ctx context.Context, events []community.OutboxEvent) error {
		var postIDs, clubIDs []string
		for _, e := range events {
			switch e.Kind {
			case community.EventPost:
				postIDs = append(postIDs, e.EntityID)
			case community.EventClub:
				clubIDs = append(clubIDs, e.EntityID)
			}
		}
		docs, err := Documents(ctx, store, postIDs)
		if err != nil {
			return err
		}
		if err := idx.Apply(ctx, docs); err != nil {
			return fmt.Errorf("search relay: apply %d documents: %w", len(docs), err)
		}
		if len(clubIDs) == 0 {
			return nil
		}
		clubs, err := store.ClubsByID(ctx, clubIDs)
		if err != nil {
			return fmt.Errorf("search relay: read %d clubs: %w", len(clubIDs), err)
		}
		for _, id := range clubIDs {
			if c, ok := clubs[id]; ok {
				if err := reindexClub(ctx, store, idx, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// reindexClub writes again the documents of a club's published posts, whose Private flag
// follows the club.
func reindexClub(ctx context.Context, store Source, idx Index, c community.Club) error {
	q := community.PostQuery{Sort: community.SortNew, First: 500}
	var after *community.PostPosition
	for {
		posts, more, err := community.ClubPostsOf(ctx, store, c.ID, q, after)
		if err != nil {
			return fmt.Errorf("search relay: read posts of club %s: %w", c.ID, err)
		}
		docs := make([]Document, len(posts))
		for i, p := range posts {
			docs[i] = DocumentOf(p, c)
		}
		if err := idx.Apply(ctx, docs); err != nil {
			return fmt.Errorf("search relay: apply posts of club %s: %w", c.ID, err)
		}
		if !more || len(posts) == 0 {
			return nil
		}
		last := posts[len(posts)-1]
		after = &community.PostPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

// Documents reads posts and their clubs from the store and returns their documents; ids
// the store does not have are left out.
func Documents(ctx context.Context, store Source, ids []string) ([]Document, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	posts, err := store.PostsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("search: read posts: %w", err)
	}
	list := make([]community.Post, 0, len(posts))
	for _, id := range ids {
		if p, ok := posts[id]; ok {
			list = append(list, p)
		}
	}
	return documentsOf(ctx, store, list, nil)
}

// documentsOf returns the documents of posts, reading the clubs that known lacks.
func documentsOf(ctx context.Context, store Source, posts []community.Post, known map[string]community.Club) ([]Document, error) {
	var missing []string
	for _, p := range posts {
		if _, ok := known[p.ClubID]; !ok && !slices.Contains(missing, p.ClubID) {
			missing = append(missing, p.ClubID)
		}
	}
	if len(missing) > 0 {
		clubs, err := store.ClubsByID(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("search: read clubs: %w", err)
		}
		if known == nil {
			known = clubs
		} else {
			for id, c := range clubs {
				known[id] = c
			}
		}
	}
	docs := make([]Document, 0, len(posts))
	for _, p := range posts {
		c, ok := known[p.ClubID]
		if !ok {
			return nil, errors.New("search: a post's club is missing: " + p.ClubID)
		}
		docs = append(docs, DocumentOf(p, c))
	}
	return docs, nil
}
