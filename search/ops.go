package search

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"quanzi/community"
)

// Ops watches and rebuilds an instance's index, for platform staff: the outbox backlog,
// the relay's record, and rebuilds run in the background.
type Ops struct {
	// base bounds the background rebuilds: they stop when it ends (the server shuts down).
	base   context.Context
	store  Source
	index  Index
	leases community.Leases
	relay  *Relay
	holder string
	log    *slog.Logger

	mu      sync.Mutex
	rebuild *RebuildState
	jobs    sync.WaitGroup
}

// NewOps returns the operations of an instance whose relay (nil when none runs) delivers
// from store to index; the rebuilds it starts stop when base ends.
func NewOps(base context.Context, store Source, idx Index, leases community.Leases, relay *Relay, holder string, log *slog.Logger) *Ops {
	if log == nil {
		log = slog.Default()
	}
	return &Ops{base: base, store: store, index: idx, leases: leases, relay: relay, holder: holder, log: log}
}

// Wake asks the instance's relay to deliver now: after a write, so that it is searchable
// without waiting for the relay's next poll.
func (o *Ops) Wake() {
	if o.relay != nil {
		o.relay.Wake()
	}
}

// RebuildState is what a rebuild has done.
type RebuildState struct {
	StartedAt  time.Time
	FinishedAt time.Time // zero while it runs
	Indexed    int
	Failed     bool
}

// IndexStatus is the state of the index's feed.
type IndexStatus struct {
	community.Backlog
	Relay   RelayStats
	Rebuild *RebuildState // the last rebuild this instance ran, or nil
}

// Status reports the backlog and the relay's record. Platform staff only.
func (o *Ops) Status(ctx context.Context) (IndexStatus, error) {
	if err := community.CanWatchSearch(ctx); err != nil {
		return IndexStatus{}, err
	}
	b, err := o.store.OutboxBacklog(ctx, community.ConsumerSearch)
	if err != nil {
		return IndexStatus{}, err
	}
	st := IndexStatus{Backlog: b}
	if o.relay != nil {
		st.Relay = o.relay.Stats()
	}
	o.mu.Lock()
	if o.rebuild != nil {
		r := *o.rebuild
		st.Rebuild = &r
	}
	o.mu.Unlock()
	return st, nil
}

// StartRebuild starts rebuilding the index in the background (see Rebuild) and returns
// its state. ADMIN only; CONFLICT while a rebuild this instance started runs.
func (o *Ops) StartRebuild(ctx context.Context) (RebuildState, error) {
	if err := community.CanRebuildSearch(ctx); err != nil {
		return RebuildState{}, err
	}
	return o.start()
}

// RebuildIfOutdated starts a rebuild when the index says it was built with other settings
// (see Outdated), as the server does at start, and reports whether it started one.
func (o *Ops) RebuildIfOutdated() bool {
	if x, ok := o.index.(Outdated); !ok || !x.Outdated() {
		return false
	}
	o.log.Info("rebuilding the search index with this version's settings; the old index answers meanwhile")
	_, err := o.start()
	return err == nil
}

// Wait returns once the rebuilds this instance started have ended: after base has ended,
// they stop soon.
func (o *Ops) Wait() { o.jobs.Wait() }

// start runs a rebuild in the background; CONFLICT while one runs.
func (o *Ops) start() (RebuildState, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rebuild != nil && o.rebuild.FinishedAt.IsZero() {
		return RebuildState{}, community.Errorf(community.CodeConflict, "a rebuild is running already")
	}
	state := &RebuildState{StartedAt: time.Now().UTC()}
	o.rebuild = state
	o.jobs.Go(func() {
		n, err := Rebuild(o.base, o.store, o.index, o.leases, RebuildConfig{
			Holder: "rebuild-" + o.holder,
			Progress: func(done int) {
				o.mu.Lock()
				state.Indexed = done
				o.mu.Unlock()
			},
		})
		o.mu.Lock()
		state.Indexed, state.FinishedAt, state.Failed = n, time.Now().UTC(), err != nil
		o.mu.Unlock()
		if err != nil {
			o.log.Error("search index rebuild failed", "err", err)
			return
		}
		o.log.Info("search index rebuilt", "posts", n)
	})
	return *state, nil
}
