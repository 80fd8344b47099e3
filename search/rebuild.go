package search

import (
	"context"
	"fmt"
	"time"

	"quanzi/community"
)

// RebuildConfig configures Rebuild; zero fields take defaults.
type RebuildConfig struct {
	// Holder names the rebuild in leases.
	Holder string
	// Batch is how many posts one store read and one index write take (1,000).
	Batch int
	// LeaseTTL is how long the leases last without renewal (15s).
	LeaseTTL time.Duration
	// Progress, when set, is called after each batch with the number of posts indexed.
	Progress func(done int)
}

// Rebuild fills a new index from every post in the store and switches it in, while the
// live index keeps serving searches. It holds RebuildLease throughout, and RelayLease once
// the relay has stood aside, so no delivery runs meanwhile: changes written during the
// rebuild wait in the outbox and reach the new index after the switch. It returns the
// number of posts indexed.
func Rebuild(ctx context.Context, store community.Store, idx Index, leases community.Leases, cfg RebuildConfig) (int, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Holder == "" {
		cfg.Holder = "rebuild"
	}
	// Each rebuild holds the leases in a name of its own: two rebuilds named alike (by one
	// instance) must still exclude each other.
	cfg.Holder += "/" + community.NewID()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	names := []string{RebuildLease, RelayLease}
	for _, name := range names {
		if err := waitForLease(ctx, leases, name, cfg.Holder, cfg.LeaseTTL); err != nil {
			return 0, err
		}
		defer leases.Release(context.WithoutCancel(ctx), name, cfg.Holder)
	}
	// Renew both leases while the build runs; losing one stops the build.
	stop := holdLeases(ctx, cancel, leases, cfg.Holder, cfg.LeaseTTL, names...)
	defer stop()

	b, err := idx.Rebuild(ctx)
	if err != nil {
		return 0, fmt.Errorf("search: start rebuild: %w", err)
	}
	done, err := fill(ctx, store, b, cfg)
	if err == nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		// The leases must still be ours when the new index goes live: otherwise a relay
		// may have delivered past the build meanwhile.
		err = renewLeases(ctx, leases, cfg.Holder, cfg.LeaseTTL, names...)
	}
	if err == nil {
		err = b.Switch(ctx)
	}
	if err != nil {
		if derr := b.Discard(context.WithoutCancel(ctx)); derr != nil {
			err = fmt.Errorf("%w (and discarding the new index: %v)", err, derr)
		}
		return done, err
	}
	return done, nil
}

// fill writes every post of the store to a build, in id order.
func fill(ctx context.Context, store community.Store, b Build, cfg RebuildConfig) (int, error) {
	clubs := map[string]community.Club{}
	after, done := "", 0
	for {
		posts, err := store.ScanPosts(ctx, after, cfg.Batch)
		if err != nil {
			return done, fmt.Errorf("search: rebuild: scan posts: %w", err)
		}
		if len(posts) == 0 {
			return done, nil
		}
		docs, err := documentsOf(ctx, store, posts, clubs)
		if err != nil {
			return done, err
		}
		if err := b.Apply(ctx, docs); err != nil {
			return done, fmt.Errorf("search: rebuild: apply: %w", err)
		}
		done += len(posts)
		after = posts[len(posts)-1].ID
		if cfg.Progress != nil {
			cfg.Progress(done)
		}
	}
}

// waitForLease takes a lease, trying until it is free or ctx ends.
func waitForLease(ctx context.Context, leases community.Leases, name, holder string, ttl time.Duration) error {
	for {
		ok, err := leases.Acquire(ctx, name, holder, ttl)
		if err != nil {
			return fmt.Errorf("search: take lease %s: %w", name, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// renewLeases renews leases holder has, and fails when one of them is lost.
func renewLeases(ctx context.Context, leases community.Leases, holder string, ttl time.Duration, names ...string) error {
	for _, name := range names {
		ok, err := leases.Acquire(ctx, name, holder, ttl)
		if err != nil {
			return fmt.Errorf("search: renew lease %s: %w", name, err)
		}
		if !ok {
			return fmt.Errorf("search: lease %s was lost", name)
		}
	}
	return nil
}

// holdLeases renews leases every third of their TTL until ctx ends or stop is called; when
// a renewal fails it cancels ctx with the reason, so the work the leases guard stops. stop
// returns once the renewing goroutine has ended.
func holdLeases(ctx context.Context, cancel context.CancelCauseFunc, leases community.Leases, holder string, ttl time.Duration, names ...string) (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				if err := renewLeases(ctx, leases, holder, ttl, names...); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}
