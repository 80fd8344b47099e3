// Package leasetest is the contract of community.Leases, run against every implementation,
// with community.Runner's work on top of each.
package leasetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"quanzi/community"
)

// NewLeases returns empty leases for one test: no lease of the names the suite uses is
// held in them.
type NewLeases func(t *testing.T) community.Leases

const (
	// long outlives any test: a lease taken for it lapses only if an implementation
	// gets expiry wrong.
	long = time.Minute
	// short lapses within a test; lapsed is how long the suite waits for that, with a
	// margin for slow machines, the race detector and a round trip to a server.
	short  = 200 * time.Millisecond
	lapsed = 3 * short
)

// Run runs the contract of community.Leases, and the Runner suite, each part on leases from
// newLeases.
func Run(t *testing.T, newLeases NewLeases) {
	t.Run("FirstAcquireWins", func(t *testing.T) { testFirstAcquireWins(t, newLeases(t)) })
	t.Run("OtherHolderRefused", func(t *testing.T) { testOtherHolderRefused(t, newLeases(t)) })
	t.Run("HolderRenews", func(t *testing.T) { testHolderRenews(t, newLeases(t)) })
	t.Run("Lapse", func(t *testing.T) { testLapse(t, newLeases(t)) })
	t.Run("ReleaseByOther", func(t *testing.T) { testReleaseByOther(t, newLeases(t)) })
	t.Run("ReleaseByHolder", func(t *testing.T) { testReleaseByHolder(t, newLeases(t)) })
	t.Run("ReleaseUnheld", func(t *testing.T) { testReleaseUnheld(t, newLeases(t)) })
	t.Run("IndependentNames", func(t *testing.T) { testIndependentNames(t, newLeases(t)) })
	t.Run("ConcurrentAcquire", func(t *testing.T) { testConcurrentAcquire(t, newLeases(t)) })
	t.Run("Runner", func(t *testing.T) { runRunner(t, newLeases) })
}

// acquire asks for the lease and fails the test unless the answer is want.
func acquire(t *testing.T, l community.Leases, name, holder string, ttl time.Duration, want bool) {
	t.Helper()
	got, err := l.Acquire(context.Background(), name, holder, ttl)
	if err != nil {
		t.Fatalf("Acquire(%q, %q, %v): %v", name, holder, ttl, err)
	}
	if got != want {
		t.Fatalf("Acquire(%q, %q, %v) = %v, want %v", name, holder, ttl, got, want)
	}
}

func release(t *testing.T, l community.Leases, name, holder string) {
	t.Helper()
	if err := l.Release(context.Background(), name, holder); err != nil {
		t.Fatalf("Release(%q, %q): %v", name, holder, err)
	}
}

// holder fails the test unless want holds the lease now ("" for nobody).
func holder(t *testing.T, l community.Leases, name, want string) {
	t.Helper()
	got, err := l.Holder(context.Background(), name)
	if err != nil {
		t.Fatalf("Holder(%q): %v", name, err)
	}
	if got != want {
		t.Fatalf("Holder(%q) = %q, want %q", name, got, want)
	}
}

func testFirstAcquireWins(t *testing.T, l community.Leases) {
	holder(t, l, "outbox-relay", "")
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	holder(t, l, "outbox-relay", "instance-a")
}

func testOtherHolderRefused(t *testing.T, l community.Leases) {
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	acquire(t, l, "outbox-relay", "instance-b", long, false)
	holder(t, l, "outbox-relay", "instance-a")
	// Being refused takes nothing from the holder, and asking again changes nothing.
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	acquire(t, l, "outbox-relay", "instance-b", long, false)
}

// testHolderRenews renews a short lease for long: the lease must outlive its first TTL.
func testHolderRenews(t *testing.T, l community.Leases) {
	acquire(t, l, "influence", "instance-a", short, true)
	acquire(t, l, "influence", "instance-a", long, true)
	time.Sleep(lapsed)
	holder(t, l, "influence", "instance-a")
	acquire(t, l, "influence", "instance-b", long, false)
	acquire(t, l, "influence", "instance-a", long, true)
}

// testLapse lets a lease lapse: another holder takes it, and the first one is refused.
func testLapse(t *testing.T, l community.Leases) {
	acquire(t, l, "influence", "instance-a", short, true)
	time.Sleep(lapsed)
	holder(t, l, "influence", "")
	acquire(t, l, "influence", "instance-b", long, true)
	holder(t, l, "influence", "instance-b")
	acquire(t, l, "influence", "instance-a", long, false)
}

func testReleaseByOther(t *testing.T, l community.Leases) {
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	release(t, l, "outbox-relay", "instance-b")
	holder(t, l, "outbox-relay", "instance-a")
	acquire(t, l, "outbox-relay", "instance-b", long, false)
	acquire(t, l, "outbox-relay", "instance-a", long, true)
}

func testReleaseByHolder(t *testing.T, l community.Leases) {
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	release(t, l, "outbox-relay", "instance-a")
	holder(t, l, "outbox-relay", "")
	acquire(t, l, "outbox-relay", "instance-b", long, true)
	acquire(t, l, "outbox-relay", "instance-a", long, false)
	// A second release by the former holder leaves the new holder's lease alone.
	release(t, l, "outbox-relay", "instance-a")
	holder(t, l, "outbox-relay", "instance-b")
	acquire(t, l, "outbox-relay", "instance-a", long, false)
}

func testReleaseUnheld(t *testing.T, l community.Leases) {
	release(t, l, "never-taken", "instance-a")
	holder(t, l, "never-taken", "")
	acquire(t, l, "never-taken", "instance-b", long, true)
}

func testIndependentNames(t *testing.T, l community.Leases) {
	acquire(t, l, "outbox-relay", "instance-a", long, true)
	acquire(t, l, "influence", "instance-b", long, true)
	acquire(t, l, "outbox-relay", "instance-b", long, false)
	acquire(t, l, "influence", "instance-a", long, false)
	holder(t, l, "outbox-relay", "instance-a")
	holder(t, l, "influence", "instance-b")
	holder(t, l, "reindex", "")

	release(t, l, "outbox-relay", "instance-a")
	acquire(t, l, "influence", "instance-a", long, false)
	acquire(t, l, "outbox-relay", "instance-c", long, true)

	// A lapse of one lease leaves the others held.
	acquire(t, l, "reindex", "instance-a", short, true)
	time.Sleep(lapsed)
	acquire(t, l, "reindex", "instance-c", long, true)
	acquire(t, l, "influence", "instance-c", long, false)
	acquire(t, l, "outbox-relay", "instance-b", long, false)
}

// testConcurrentAcquire starts many holders at once, over several rounds: each time exactly
// one of them gets the lease.
func testConcurrentAcquire(t *testing.T, l community.Leases) {
	const holders, rounds = 16, 10
	for round := range rounds {
		name := fmt.Sprintf("contended-%d", round)
		start := make(chan struct{})
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			errs    []error
		)
		for i := range holders {
			holder := fmt.Sprintf("instance-%02d", i)
			wg.Go(func() {
				<-start
				ok, err := l.Acquire(context.Background(), name, holder, long)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					winners = append(winners, holder)
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: Acquire: %v", round, err)
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d holders got the lease %q, want exactly 1: %v", round, len(winners), name, winners)
		}
		// The winner holds it; everyone else is still refused.
		holder(t, l, name, winners[0])
		acquire(t, l, name, winners[0], long, true)
		for i := range holders {
			if holder := fmt.Sprintf("instance-%02d", i); holder != winners[0] {
				acquire(t, l, name, holder, long, false)
			}
		}
	}
}
