package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"quanzi/community"
)

// Lease names. The relay delivers while it holds RelayLease; a rebuild holds RebuildLease
// for its whole run, and the relay stands aside (releasing RelayLease) while it is held, so
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
	// Batch is how many events one delivery takes (500).
	Batch int
	// Idle is how long the relay waits when the outbox is empty (100ms) — the lag of a
	// quiet system.
	Idle time.Duration
	// LeaseTTL is how long a lease lasts without renewal (15s): how soon another instance
	// takes over from one that died.
	LeaseTTL time.Duration
	// MinBackoff and MaxBackoff bound the waits after a failed delivery (200ms, 30s).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// Relay carries the search consumer's outbox events to the index: at least once, in batches, newest state only
// (it reads each post as the store has it when delivering, and the index keeps the higher
// version). Every instance runs one; a lease lets one deliver at a time.
type Relay struct {
	store  community.Store
	index  Index
	leases community.Leases
	cfg    RelayConfig
	log    *slog.Logger

	wake      chan struct{}
	delivered atomic.Int64
	failures  atomic.Int64
	mu        sync.Mutex
	lastErr   error
}

// NewRelay returns a relay from a store's outbox to an index.
func NewRelay(store community.Store, idx Index, leases community.Leases, cfg RelayConfig) *Relay {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 100 * time.Millisecond
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.Holder == "" {
		cfg.Holder = community.NewID()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Relay{store: store, index: idx, leases: leases, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the relay to look at the outbox now rather than after its idle wait.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// RelayStats is what a relay has done since it started.
type RelayStats struct {
	// Delivered counts events whose entity's state reached the index (an event renewed
	// meanwhile stays pending for its newer write).
	Delivered int64
	Failures  int64 // deliveries that failed (and were retried)
	LastError string
}

// Stats reports what the relay has done.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := RelayStats{Delivered: r.delivered.Load(), Failures: r.failures.Load()}
	if r.lastErr != nil {
		s.LastError = r.lastErr.Error()
	}
	return s
}

// Run delivers until ctx ends. It returns nil when ctx ends; failures are logged and
// retried with backoff, never returned.
func (r *Relay) Run(ctx context.Context) error {
	backoff := time.Duration(0)
	held := false
	defer func() {
		if held {
			r.leases.Release(context.WithoutCancel(ctx), RelayLease, r.cfg.Holder)
		}
	}()
	for ctx.Err() == nil {
		wait, err := r.step(ctx, &held)
		switch {
		case err != nil && ctx.Err() == nil:
			if backoff == 0 {
				backoff = r.cfg.MinBackoff
				r.log.Warn("search relay: delivery failed; retrying with backoff", "err", err)
			} else {
				backoff = min(2*backoff, r.cfg.MaxBackoff)
			}
			r.failures.Add(1)
			r.mu.Lock()
			r.lastErr = err
			r.mu.Unlock()
			// Jitter keeps instances from retrying in step.
			wait = backoff/2 + rand.N(backoff/2+1)
		case err == nil && backoff != 0:
			r.log.Info("search relay: delivering again")
			backoff = 0
			r.mu.Lock()
			r.lastErr = nil
			r.mu.Unlock()
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-r.wake:
			}
			t.Stop()
		}
	}
	return nil
}

// step does one round: stands aside during a rebuild, takes or renews the lease, and
// delivers one batch. It returns how long to wait before the next round.
func (r *Relay) step(ctx context.Context, held *bool) (time.Duration, error) {
	rebuilder, err := r.leases.Holder(ctx, RebuildLease)
	if err != nil {
		return 0, fmt.Errorf("search relay: look at the rebuild lease: %w", err)
	}
	if rebuilder != "" {
		if *held {
			*held = false
			if err := r.leases.Release(ctx, RelayLease, r.cfg.Holder); err != nil {
				return 0, fmt.Errorf("search relay: stand aside for a rebuild: %w", err)
			}
		}
		return r.cfg.Idle, nil
	}
	ok, err := r.leases.Acquire(ctx, RelayLease, r.cfg.Holder, r.cfg.LeaseTTL)
	if err != nil {
		*held = false
		return 0, fmt.Errorf("search relay: take the lease: %w", err)
	}
	*held = ok
	if !ok {
		// Another instance delivers; look again when its lease could have lapsed.
		return r.cfg.LeaseTTL / 3, nil
	}
	// Keep the lease while delivering: a slow engine or a big club must not let another
	// instance deliver beside this one.
	dctx, cancel := context.WithCancelCause(ctx)
	stop := holdLeases(dctx, cancel, r.leases, r.cfg.Holder, r.cfg.LeaseTTL, RelayLease)
	n, err := r.DeliverOnce(dctx)
	stop()
	if cause := context.Cause(dctx); err != nil && cause != nil && ctx.Err() == nil {
		err = cause
	}
	cancel(nil)
	if err != nil {
		return 0, err
	}
	if n < r.cfg.Batch {
		return r.cfg.Idle, nil
	}
	return 0, nil
}

// DeliverOnce delivers up to one batch of pending events, whoever holds the lease (Run
// checks it), and returns how many it delivered. Events are acknowledged only after the
// index has taken them.
func (r *Relay) DeliverOnce(ctx context.Context) (int, error) {
	events, err := r.store.PendingEvents(ctx, community.ConsumerSearch, r.cfg.Batch)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	var postIDs, clubIDs []string
	for _, e := range events {
		switch e.Kind {
		case community.EventPost:
			postIDs = append(postIDs, e.EntityID)
		case community.EventClub:
			clubIDs = append(clubIDs, e.EntityID)
		}
	}
	docs, err := Documents(ctx, r.store, postIDs)
	if err != nil {
		return 0, err
	}
	if err := r.index.Apply(ctx, docs); err != nil {
		return 0, fmt.Errorf("search relay: apply %d documents: %w", len(docs), err)
	}
	for _, id := range clubIDs {
		if err := r.reindexClub(ctx, id); err != nil {
			return 0, err
		}
	}
	if err := r.store.AckEvents(ctx, community.ConsumerSearch, events); err != nil {
		return 0, fmt.Errorf("search relay: acknowledge: %w", err)
	}
	r.delivered.Add(int64(len(events)))
	return len(events), nil
}

// reindexClub writes again the documents of a club's published posts, whose Private flag
// follows the club.
func (r *Relay) reindexClub(ctx context.Context, clubID string) error {
	clubs, err := r.store.ClubsByID(ctx, []string{clubID})
	if err != nil {
		return fmt.Errorf("search relay: read club %s: %w", clubID, err)
	}
	c, ok := clubs[clubID]
	if !ok {
		return nil
	}
	q := community.PostQuery{Sort: community.SortNew, First: 500}
	for {
		posts, more, err := r.store.ClubPosts(ctx, clubID, q)
		if err != nil {
			return fmt.Errorf("search relay: read posts of club %s: %w", clubID, err)
		}
		docs := make([]Document, len(posts))
		for i, p := range posts {
			docs[i] = DocumentOf(p, c)
		}
		if err := r.index.Apply(ctx, docs); err != nil {
			return fmt.Errorf("search relay: apply posts of club %s: %w", clubID, err)
		}
		if !more || len(posts) == 0 {
			return nil
		}
		last := posts[len(posts)-1]
		q.After = &community.PostPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

// Documents reads posts and their clubs from the store and returns their documents; ids
// the store does not have are left out.
func Documents(ctx context.Context, store community.Store, ids []string) ([]Document, error) {
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
func documentsOf(ctx context.Context, store community.Store, posts []community.Post, known map[string]community.Club) ([]Document, error) {
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
