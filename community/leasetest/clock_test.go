package leasetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"quanzi/community"
)

// pausable holds the calls of one instance to real leases while it is paused, as a long
// pause of that instance (a stop-the-world collection, a frozen virtual machine) does: the
// calls go on, with the leases as they are then, once it is resumed.
type pausable struct {
	community.Leases
	mu     sync.Mutex
	resume chan struct{} // nil while not paused
}

func (p *pausable) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resume = make(chan struct{})
}

func (p *pausable) unpause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.resume)
	p.resume = nil
}

func (p *pausable) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	p.mu.Lock()
	resume := p.resume
	p.mu.Unlock()
	if resume != nil {
		<-resume
	}
	return p.Leases.Acquire(ctx, name, holder, ttl)
}

// TestRunnerPausedHolder moves the clock of local leases past the TTL while the holder is
// paused: another runner takes the lease, and when the holder resumes, its renewal finds
// the lease lost and cancels its work; only the new holder works.
func TestRunnerPausedHolder(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	leases := &community.LocalLeases{Now: clock}
	a := &pausable{Leases: leases}
	cfg := community.RunnerConfig{Lease: "influence", TTL: time.Minute, Renew: 10 * time.Millisecond, Retry: 5 * time.Millisecond, Logger: quiet}
	cfgA, cfgB := cfg, cfg
	cfgA.Holder, cfgB.Holder = "instance-a", "instance-b"
	aWork, bWork := &worker{}, &worker{}
	stopA := started(community.NewRunner(a, cfgA), aWork)
	defer stopA()
	eventually(t, "a works", aWork.running.Load)
	stopB := started(community.NewRunner(leases, cfgB), bWork)
	defer stopB()

	// By the leases' clock no time passes: a's lease never lapses, and b waits.
	time.Sleep(50 * time.Millisecond)
	if bWork.runs.Load() != 0 {
		t.Fatal("b worked while a held the lease")
	}
	a.pause()
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	eventually(t, "b takes the lapsed lease", bWork.running.Load)
	if !aWork.running.Load() {
		t.Fatal("a stopped working while paused")
	}
	a.unpause()
	eventually(t, "a's work is cancelled", func() bool { return !aWork.running.Load() })
	if cause := aWork.lastCause(); !errors.Is(cause, community.ErrLeaseLost) {
		t.Errorf("a's work ended with %v, want ErrLeaseLost", cause)
	}
	holder(t, leases, "influence", "instance-b")
	if !bWork.running.Load() || aWork.runs.Load() != 1 {
		t.Errorf("after a resumed: b works %v, a ran %d times; want b working and a once", bWork.running.Load(), aWork.runs.Load())
	}
}
