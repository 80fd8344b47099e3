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
	// Batch is how many posts one store read and one index write take: the index's
	// WriteBatch when it has one, 1,000 otherwise.
	Batch int
	// LeaseTTL is how long the leases last without renewal (15s).
	LeaseTTL time.Duration
	// Progress, when set, is called after each batch with the number of posts indexed.
	Progress func(done int)
}

// Rebuild fills a new index from every post in the store and switches it in, while the
// live index keeps serving searches. It holds RebuildLease throughout, and RelayLease once
// the relay has given way, so no delivery runs meanwhile: changes written during the
// rebuild wait in the outbox and reach the new index after the switch. It returns the
// number of posts indexed.
func Rebuild(ctx context.Context, store Source, idx Index, leases community.Leases, cfg RebuildConfig) (int, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = writeBatch(idx, 1000)
	}
	if cfg.Holder == "" {
		cfg.Holder = "rebuild"
	}
	// Each rebuild holds the leases in a name of its own: two rebuilds named alike (by one
	// instance) must still exclude each other.
	holder := cfg.Holder + "/" + community.NewID()
	runner := func(lease string) *community.Runner {
		return community.NewRunner(leases, community.RunnerConfig{
			Lease: lease, Holder: holder, TTL: cfg.LeaseTTL, Retry: 100 * time.Millisecond,
		})
	}
	rebuild, relay := runner(RebuildLease), runner(RelayLease)
	done := 0
	err := rebuild.Do(ctx, func(ctx context.Context) error {
		return relay.Do(ctx, func(ctx context.Context) error {
			b, err := idx.Rebuild(ctx)
			if err != nil {
				return fmt.Errorf("search: start rebuild: %w", err)
			}
			done, err = fill(ctx, store, b, cfg)
			// The leases must still be ours when the new index goes live: otherwise a relay
			// may have delivered past the build meanwhile.
			if err == nil {
				err = rebuild.Confirm(ctx)
			}
			if err == nil {
				err = relay.Confirm(ctx)
			}
			if err == nil {
				err = b.Switch(ctx)
			}
			if err != nil {
				if derr := b.Discard(context.WithoutCancel(ctx)); derr != nil {
					err = fmt.Errorf("%w (and discarding the new index: %v)", err, derr)
				}
			}
			return err
		})
	})
	return done, err
}

// fill writes every post of the store to a build, in id order.
func fill(ctx context.Context, store Source, b Build, cfg RebuildConfig) (int, error) {
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
