package leasetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/community"
)

// The runner suite runs community.Runner on real leases. Times in it are bounds the
// runners are configured with; the suite waits for conditions with deadlines, and asserts
// times only as lower bounds, which a slow machine cannot break.

// within is how long the suite waits for something that should happen soon.
const within = 15 * time.Second

// runRunner runs the suite's part about community.Runner, each part on leases from
// newLeases.
func runRunner(t *testing.T, newLeases NewLeases) {
	t.Run("OneAtATime", func(t *testing.T) { testRunnerOneAtATime(t, newLeases(t)) })
	t.Run("CrashedHolder", func(t *testing.T) { testRunnerCrashedHolder(t, newLeases(t)) })
	t.Run("LossCancelsWork", func(t *testing.T) { testRunnerLossCancelsWork(t, newLeases(t)) })
	t.Run("GiveWay", func(t *testing.T) { testRunnerGiveWay(t, newLeases(t)) })
	t.Run("Backoff", func(t *testing.T) { testRunnerBackoff(t, newLeases(t)) })
	t.Run("Do", func(t *testing.T) { testRunnerDo(t, newLeases(t)) })
}

// eventually waits until cond holds, and fails the test when it does not within the
// suite's deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(cond) {
		t.Fatalf("%s: not within %s", what, within)
	}
}

// poll waits until cond holds, for at most the suite's deadline, and reports whether it
// came to hold.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

var quiet = slog.New(slog.DiscardHandler)

// severable passes calls to real leases until it is severed; from then on every call
// fails, as the calls of an instance that lost its connection, or died, do: it neither
// renews nor releases.
type severable struct {
	community.Leases
	severed atomic.Bool
	// lastTaken is when the last Acquire that got the lease was sent.
	mu        sync.Mutex
	lastTaken time.Time
	asked     atomic.Int64
}

var errSevered = errors.New("connection to the leases lost")

func (s *severable) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if s.severed.Load() {
		return false, errSevered
	}
	s.asked.Add(1)
	sent := time.Now()
	ok, err := s.Leases.Acquire(ctx, name, holder, ttl)
	if ok && err == nil {
		s.mu.Lock()
		s.lastTaken = sent
		s.mu.Unlock()
	}
	return ok, err
}

func (s *severable) Release(ctx context.Context, name, holder string) error {
	if s.severed.Load() {
		return errSevered
	}
	return s.Leases.Release(ctx, name, holder)
}

func (s *severable) Holder(ctx context.Context, name string) (string, error) {
	if s.severed.Load() {
		return "", errSevered
	}
	return s.Leases.Holder(ctx, name)
}

// worker is the work of one runner: it records whether it runs, and with what its
// context ended.
type worker struct {
	// active counts the workers of one lease that run now; shared by the suite's runners.
	active   *atomic.Int64
	overlaps *atomic.Int64

	runs    atomic.Int64
	running atomic.Bool
	mu      sync.Mutex
	cause   error // why the context of the last run ended
	fail    error // what each run returns at once, when not nil
}

func (w *worker) work(ctx context.Context) error {
	w.runs.Add(1)
	w.mu.Lock()
	fail := w.fail
	w.mu.Unlock()
	if fail != nil {
		return fail
	}
	if w.active != nil && w.active.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	w.running.Store(true)
	<-ctx.Done()
	w.running.Store(false)
	if w.active != nil {
		w.active.Add(-1)
	}
	w.mu.Lock()
	w.cause = context.Cause(ctx)
	w.mu.Unlock()
	return nil
}

func (w *worker) lastCause() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause
}

// started runs a runner in the background until the returned stop is called; stop
// returns once Run has.
func started(r *community.Runner, w *worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx, w.work) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// testRunnerOneAtATime runs two runners of one lease and stops whichever works, three
// times: the other takes over, and never do both work at once. A runner that stops
// releases its lease.
func testRunnerOneAtATime(t *testing.T, l community.Leases) {
	var active, overlaps atomic.Int64
	cfg := community.RunnerConfig{Lease: "influence", TTL: 2 * time.Second, Retry: 20 * time.Millisecond, Logger: quiet}
	type instance struct {
		name   string
		runner *community.Runner
		work   *worker
		stop   func()
	}
	var instances [2]*instance
	for i, name := range []string{"instance-a", "instance-b"} {
		c := cfg
		c.Holder = name
		in := &instance{name: name, runner: community.NewRunner(l, c), work: &worker{active: &active, overlaps: &overlaps}}
		in.stop = started(in.runner, in.work)
		instances[i] = in
	}
	defer func() {
		for _, in := range instances {
			in.stop()
		}
	}()
	for round := range 3 {
		var busy, idle *instance
		eventually(t, "one runner works", func() bool { return active.Load() == 1 })
		if instances[0].work.running.Load() {
			busy, idle = instances[0], instances[1]
		} else {
			busy, idle = instances[1], instances[0]
		}
		holder(t, l, "influence", busy.name)
		idleRuns := idle.work.runs.Load()
		busy.stop()
		if busy.work.running.Load() {
			t.Fatalf("round %d: %s still works after it stopped", round, busy.name)
		}
		if h, err := l.Holder(context.Background(), "influence"); err != nil || h == busy.name {
			t.Fatalf("round %d: holder after %s stopped = %q, %v; want it released", round, busy.name, h, err)
		}
		eventually(t, idle.name+" takes over", func() bool { return idle.work.runs.Load() > idleRuns })
		busy.stop = started(busy.runner, busy.work)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("two runners worked at once %d times", n)
	}
}

// testRunnerCrashedHolder cuts the holder off the leases, as if it died: its work stops
// at its next renewal, and the other runner takes over once the lease lapses, not before.
func testRunnerCrashedHolder(t *testing.T, l community.Leases) {
	const ttl, renew = time.Second, 50 * time.Millisecond
	var active, overlaps atomic.Int64
	a := &severable{Leases: l}
	aWork, bWork := &worker{active: &active, overlaps: &overlaps}, &worker{active: &active, overlaps: &overlaps}
	cfg := community.RunnerConfig{Lease: "reward-grants", TTL: ttl, Renew: renew, Retry: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet}
	cfgA, cfgB := cfg, cfg
	cfgA.Holder, cfgB.Holder = "instance-a", "instance-b"
	stopA := started(community.NewRunner(a, cfgA), aWork)
	defer stopA()
	eventually(t, "a works", aWork.running.Load)
	stopB := started(community.NewRunner(l, cfgB), bWork)
	defer stopB()

	// Let a renew a few times while b asks in vain.
	asked := a.asked.Load()
	eventually(t, "a renews", func() bool { return a.asked.Load() >= asked+3 })
	if bWork.runs.Load() != 0 {
		t.Fatal("b worked while a held the lease")
	}
	a.severed.Store(true)
	eventually(t, "a stops working once it cannot renew", func() bool { return !aWork.running.Load() })
	// a renews in one goroutine, so the renewal that failed came after every other.
	a.mu.Lock()
	lastTaken := a.lastTaken
	a.mu.Unlock()
	if cause := aWork.lastCause(); !errors.Is(cause, errSevered) {
		t.Errorf("a's work ended with %v, want the renewal's error", cause)
	}
	eventually(t, "b takes over", bWork.running.Load)
	// The lease lapses TTL after a's last renewal reached the leases, by their clock: a
	// few milliseconds allow for a server's clock and its rounding.
	if took := time.Since(lastTaken); took < ttl-10*time.Millisecond {
		t.Errorf("b took over %s after a's last renewal, before the lease's TTL of %s", took, ttl)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("two runners worked at once %d times", n)
	}
}

// testRunnerLossCancelsWork has a holder whose renewals come further apart than its TTL,
// as those of a stalled instance do: another instance takes the lapsed lease, and the
// holder's next renewal cancels its work with ErrLeaseLost. It works again only once the
// lease is free.
func testRunnerLossCancelsWork(t *testing.T, l community.Leases) {
	a := &severable{Leases: l}
	w := &worker{}
	stop := started(community.NewRunner(a, community.RunnerConfig{
		Lease: "score-recompute", Holder: "instance-a", TTL: 100 * time.Millisecond, Renew: 500 * time.Millisecond,
		Retry: 10 * time.Millisecond, Logger: quiet,
	}), w)
	defer stop()
	eventually(t, "a works", w.running.Load)
	eventually(t, "the intruder takes the lapsed lease", func() bool {
		ok, err := l.Acquire(context.Background(), "score-recompute", "intruder", long)
		return err == nil && ok
	})
	eventually(t, "a's work is cancelled", func() bool { return !w.running.Load() })
	if cause := w.lastCause(); !errors.Is(cause, community.ErrLeaseLost) {
		t.Fatalf("a's work ended with %v, want ErrLeaseLost", cause)
	}
	// a asks again and again, and is refused.
	asked := a.asked.Load()
	eventually(t, "a asks for the lease again", func() bool { return a.asked.Load() >= asked+3 })
	if n := w.runs.Load(); n != 1 {
		t.Fatalf("a worked %d times while the intruder held the lease, want once before", n)
	}
	holder(t, l, "score-recompute", "intruder")
	release(t, l, "score-recompute", "intruder")
	eventually(t, "a works again", func() bool { return w.runs.Load() == 2 && w.running.Load() })
}

// testRunnerGiveWay takes a lease the runner gives way to: the holder stops its work and
// releases its lease, does not work while the other lease is held, and works again once
// it is released.
func testRunnerGiveWay(t *testing.T, l community.Leases) {
	w := &worker{}
	stop := started(community.NewRunner(l, community.RunnerConfig{
		Lease: "outbox-relay", Holder: "instance-a", GiveWay: []string{"reindex"}, Check: 10 * time.Millisecond, Logger: quiet,
	}), w)
	defer stop()
	eventually(t, "the runner works", w.running.Load)
	acquire(t, l, "reindex", "rebuilder", long, true)
	eventually(t, "the runner stops", func() bool { return !w.running.Load() })
	if cause := w.lastCause(); !errors.Is(cause, community.ErrLeaseLost) {
		t.Errorf("the work ended with %v, want ErrLeaseLost", cause)
	}
	eventually(t, "the runner releases its lease", func() bool {
		h, err := l.Holder(context.Background(), "outbox-relay")
		return err == nil && h == ""
	})
	// The rebuilder takes the runner's lease too, as a rebuild does.
	acquire(t, l, "outbox-relay", "rebuilder", long, true)
	release(t, l, "outbox-relay", "rebuilder")
	if n := w.runs.Load(); n != 1 {
		t.Fatalf("the runner worked %d times, want once before it gave way", n)
	}
	release(t, l, "reindex", "rebuilder")
	eventually(t, "the runner works again", func() bool { return w.runs.Load() == 2 && w.running.Load() })
}

// testRunnerBackoff runs work that fails at once: the runner runs it again and again,
// waiting longer each time, and counts the failures; once the work runs, the last error
// is cleared.
func testRunnerBackoff(t *testing.T, l community.Leases) {
	const minBackoff = 20 * time.Millisecond
	r := community.NewRunner(l, community.RunnerConfig{
		Lease: "reward-grants", Holder: "instance-a", TTL: time.Second, Renew: 50 * time.Millisecond,
		MinBackoff: minBackoff, MaxBackoff: 8 * minBackoff, Logger: quiet,
	})
	var (
		mu     sync.Mutex
		starts []time.Time
		fail   = true
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		r.Run(ctx, func(ctx context.Context) error {
			mu.Lock()
			starts = append(starts, time.Now())
			failing := fail
			mu.Unlock()
			if failing {
				return errors.New("the points ledger is unreachable")
			}
			<-ctx.Done()
			return nil
		})
	})
	const attempts = 5
	eventually(t, "the work is tried again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(starts) >= attempts
	})
	mu.Lock()
	got := starts[:attempts]
	fail = false
	mu.Unlock()
	// The k-th wait is the backoff, doubling from minBackoff, less at most half of it.
	wait := minBackoff
	for k := 1; k < attempts; k++ {
		if gap := got[k].Sub(got[k-1]); gap < wait/2 {
			t.Errorf("try %d came %s after the one before, want at least %s", k+1, gap, wait/2)
		}
		wait = min(2*wait, 8*minBackoff)
	}
	if s := r.Stats(); s.Failures < attempts-1 || s.LastError == "" {
		t.Errorf("stats while failing = %+v, want %d failures or more and the last error", s, attempts-1)
	}
	eventually(t, "the last error is cleared once the work runs", func() bool { return r.Stats().LastError == "" })
}

// testRunnerDo runs one-off work: Do waits while the lease is held, runs the work once
// and releases the lease, and reports the work's error, the loss of the lease, or the end
// of its context.
func testRunnerDo(t *testing.T, l community.Leases) {
	ctx := context.Background()
	newRunner := func(ttl, renew time.Duration) *community.Runner {
		return community.NewRunner(l, community.RunnerConfig{
			Lease: "reindex", Holder: "rebuilder", TTL: ttl, Renew: renew, Retry: 10 * time.Millisecond, Logger: quiet,
		})
	}

	t.Run("waits, runs once, releases", func(t *testing.T) {
		acquire(t, l, "reindex", "other", long, true)
		r := newRunner(long, 0)
		var ran atomic.Int64
		done := make(chan error, 1)
		go func() {
			done <- r.Do(ctx, func(context.Context) error {
				ran.Add(1)
				return r.Confirm(ctx)
			})
		}()
		holder(t, l, "reindex", "other")
		if ran.Load() != 0 {
			t.Fatal("Do ran while another held the lease")
		}
		release(t, l, "reindex", "other")
		if err := <-done; err != nil {
			t.Fatalf("Do: %v", err)
		}
		if ran.Load() != 1 {
			t.Errorf("Do ran the work %d times, want once", ran.Load())
		}
		holder(t, l, "reindex", "")
	})

	t.Run("the work's error", func(t *testing.T) {
		errBuild := errors.New("the new index could not be filled")
		if err := newRunner(long, 0).Do(ctx, func(context.Context) error { return errBuild }); !errors.Is(err, errBuild) {
			t.Errorf("Do = %v, want the work's error", err)
		}
		holder(t, l, "reindex", "")
	})

	t.Run("lease lost", func(t *testing.T) {
		r := newRunner(100*time.Millisecond, 500*time.Millisecond)
		err := r.Do(ctx, func(wctx context.Context) error {
			// The work runs in a goroutine of the runner's: it cannot stop the test.
			taken := poll(func() bool {
				ok, err := l.Acquire(ctx, "reindex", "intruder", long)
				return err == nil && ok
			})
			if !taken {
				t.Errorf("the intruder did not take the lapsed lease within %s", within)
				return nil
			}
			if err := r.Confirm(ctx); !errors.Is(err, community.ErrLeaseLost) {
				t.Errorf("Confirm after the lease was lost = %v, want ErrLeaseLost", err)
			}
			<-wctx.Done()
			return wctx.Err()
		})
		if !errors.Is(err, community.ErrLeaseLost) {
			t.Errorf("Do = %v, want ErrLeaseLost", err)
		}
		holder(t, l, "reindex", "intruder")
		release(t, l, "reindex", "intruder")
	})

	t.Run("context ends while waiting", func(t *testing.T) {
		acquire(t, l, "reindex", "other", long, true)
		defer release(t, l, "reindex", "other")
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := newRunner(long, 0).Do(wctx, func(context.Context) error {
			return fmt.Errorf("ran without the lease")
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Do = %v, want the context's error", err)
		}
	})
}
