package community

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrLeaseLost is why a Runner stops its work when the lease is no longer its own: another
// instance took it after it lapsed, or the runner gave way to a lease that goes first.
var ErrLeaseLost = errors.New("lease lost")

// RunnerConfig configures a Runner; zero fields take defaults.
type RunnerConfig struct {
	// Lease names the lease the work needs.
	Lease string
	// Holder names this instance in leases, unique per process; empty means a new id.
	Holder string
	// TTL is how long the lease lasts without renewal (15s): how soon another instance
	// takes over from one that died.
	TTL time.Duration
	// Renew is how often the holder renews the lease (TTL/3). Keep it well under TTL: a
	// holder whose renewals are further apart than TTL loses the lease between them.
	Renew time.Duration
	// Retry is how often an instance without the lease asks for it again (TTL/3).
	Retry time.Duration
	// GiveWay names leases that go first: while anyone holds one of them, the runner does
	// not take its lease, and a holder that sees one taken stops its work and releases its
	// lease. They are looked at every Check.
	GiveWay []string
	// Check is how often GiveWay leases are looked at (250ms).
	Check time.Duration
	// MinBackoff and MaxBackoff bound the waits after an error (200ms, 30s).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// Runner runs leased background work (the outbox relays, the search index rebuild, reward
// grants, score recomputes): of the instances that run a Runner for one lease, only the
// one that holds it works. The holder renews the lease every Renew while the work runs and
// cancels the work's context as soon as a renewal fails, so work stops when its lease may
// be another's; on an error it backs off; when it stops it releases the lease, so another
// instance takes over at once, and an instance that dies hands the work on after TTL.
type Runner struct {
	leases Leases
	cfg    RunnerConfig
	log    *slog.Logger

	mu       sync.Mutex
	failures int64
	lastErr  error
}

// NewRunner returns a runner of work under cfg.Lease.
func NewRunner(leases Leases, cfg RunnerConfig) *Runner {
	if cfg.TTL <= 0 {
		cfg.TTL = 15 * time.Second
	}
	if cfg.Renew <= 0 {
		cfg.Renew = cfg.TTL / 3
	}
	if cfg.Retry <= 0 {
		cfg.Retry = cfg.TTL / 3
	}
	if cfg.Check <= 0 {
		cfg.Check = 250 * time.Millisecond
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.Holder == "" {
		cfg.Holder = NewID()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Runner{leases: leases, cfg: cfg, log: log}
}

// RunnerStats is what went wrong for a runner since it started.
type RunnerStats struct {
	Failures int64 // errors of the leases or of the work, each followed by a backoff
	// LastError is the last failure, or "" once the work ran under a renewed lease again
	// (or ended by itself).
	LastError string
}

// Stats reports the runner's failures.
func (r *Runner) Stats() RunnerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := RunnerStats{Failures: r.failures}
	if r.lastErr != nil {
		s.LastError = r.lastErr.Error()
	}
	return s
}

// failed counts a failure.
func (r *Runner) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	r.lastErr = err
}

// healthy clears the last failure: the lease was renewed under work that runs.
func (r *Runner) healthy() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr != nil {
		r.log.Info("leased work runs again", "lease", r.cfg.Lease)
		r.lastErr = nil
	}
}

// Run runs work whenever this instance holds the lease, until ctx ends, and returns nil
// then. work gets a context that ends when ctx ends or the lease is lost (its cause wraps
// ErrLeaseLost) or may be (its cause is the renewal's error); work is meant to run until
// that context ends. When it returns earlier, the runner releases the lease and starts
// over: at once after nil, after a backoff after an error. Errors are logged and counted
// in Stats, never returned.
func (r *Runner) Run(ctx context.Context, work func(context.Context) error) error {
	fail := backoff{min: r.cfg.MinBackoff, max: r.cfg.MaxBackoff}
	for ctx.Err() == nil {
		held, wait, err := r.take(ctx)
		if err == nil && held {
			workErr, stopped, renewed := r.hold(ctx, work)
			if renewed {
				fail.reset()
			}
			switch {
			case ctx.Err() != nil:
			case errors.Is(stopped, errGaveWay):
				r.log.Info("leased work gave way", "lease", r.cfg.Lease, "reason", stopped)
			case errors.Is(stopped, ErrLeaseLost):
				r.log.Warn("leased work stopped: the lease is another instance's now", "lease", r.cfg.Lease)
			case stopped != nil:
				err = stopped
			case workErr != nil:
				err = workErr
			default:
				// The work ended by itself: let another instance have a turn.
				r.healthy()
				fail.reset()
				wait = r.cfg.Retry
			}
		}
		if err != nil && ctx.Err() == nil {
			if !fail.active() {
				r.log.Warn("leased work failed; retrying with backoff", "lease", r.cfg.Lease, "err", err)
			}
			r.failed(err)
			wait = jitter(fail.next())
		}
		sleep(ctx, wait, nil)
	}
	return nil
}

// Do waits until this instance holds the lease, runs work once under it, and releases the
// lease. It returns work's error, or an error wrapping ErrLeaseLost when the lease was
// lost while work ran, or the error of a lease operation, or ctx's error when ctx ended
// before the lease was taken.
func (r *Runner) Do(ctx context.Context, work func(context.Context) error) error {
	for {
		held, wait, err := r.take(ctx)
		if err != nil {
			return err
		}
		if held {
			break
		}
		if sleep(ctx, wait, nil); ctx.Err() != nil {
			return ctx.Err()
		}
	}
	workErr, stopped, _ := r.hold(ctx, work)
	if stopped != nil {
		return stopped
	}
	return workErr
}

// Every runs work under the lease now and then every every, until ctx ends: each run
// takes the lease for its duration only (Do), so that one instance works at a time and
// none holds the lease between runs; a failed run is logged and tried again at the next.
func (r *Runner) Every(ctx context.Context, every time.Duration, work func(context.Context) error) {
	for {
		if err := r.Do(ctx, work); err != nil && ctx.Err() == nil {
			r.log.Warn("leased work failed; trying again at the next run", "lease", r.cfg.Lease, "err", err)
		}
		if sleep(ctx, every, nil); ctx.Err() != nil {
			return
		}
	}
}

// Confirm renews the lease now, and returns an error wrapping ErrLeaseLost when this
// instance no longer holds it: work calls it before a step that must not happen without
// the lease (a rebuild, before it switches the new index in).
func (r *Runner) Confirm(ctx context.Context) error {
	ok, err := r.leases.Acquire(ctx, r.cfg.Lease, r.cfg.Holder, r.cfg.TTL)
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", r.cfg.Lease, err)
	}
	if !ok {
		return fmt.Errorf("lease %s: %w", r.cfg.Lease, ErrLeaseLost)
	}
	return nil
}

// take takes the lease when nobody holds a lease to give way to; when it cannot, it says
// how long to wait before asking again.
func (r *Runner) take(ctx context.Context) (held bool, wait time.Duration, err error) {
	for _, name := range r.cfg.GiveWay {
		who, err := r.leases.Holder(ctx, name)
		if err != nil {
			return false, 0, fmt.Errorf("look at lease %s: %w", name, err)
		}
		if who != "" {
			return false, r.cfg.Check, nil
		}
	}
	ok, err := r.leases.Acquire(ctx, r.cfg.Lease, r.cfg.Holder, r.cfg.TTL)
	if err != nil {
		return false, 0, fmt.Errorf("take lease %s: %w", r.cfg.Lease, err)
	}
	if !ok {
		return false, r.cfg.Retry, nil
	}
	return true, 0, nil
}

// hold runs work under the lease just taken, renewing it every Renew and looking at the
// GiveWay leases every Check, until work returns; then it releases the lease, unless it
// was lost. It returns work's error; unless ctx ended, why the work was stopped when it
// was stopped for the lease's sake; and whether a renewal succeeded.
func (r *Runner) hold(ctx context.Context, work func(context.Context) error) (workErr, stopped error, renewed bool) {
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()

	renew := time.NewTicker(r.cfg.Renew)
	defer renew.Stop()
	var check <-chan time.Time
	if len(r.cfg.GiveWay) > 0 {
		t := time.NewTicker(r.cfg.Check)
		defer t.Stop()
		check = t.C
	}
	for {
		select {
		case workErr = <-done:
			if ctx.Err() != nil {
				r.release(ctx)
				return workErr, nil, renewed
			}
			// Cause is nil unless the lease's sake stopped the work.
			stopped = context.Cause(wctx)
			if lost := errors.Is(stopped, ErrLeaseLost) && !errors.Is(stopped, errGaveWay); !lost {
				r.release(ctx)
			}
			return workErr, stopped, renewed
		case <-renew.C:
			if wctx.Err() != nil {
				continue
			}
			// A renewal that hangs must not outlast the lease it renews.
			rctx, stop := context.WithTimeout(wctx, r.cfg.Renew)
			err := r.Confirm(rctx)
			stop()
			switch {
			case err != nil && wctx.Err() == nil:
				cancel(err)
			case err == nil && !renewed:
				renewed = true
				r.healthy()
			}
		case <-check:
			if wctx.Err() != nil {
				continue
			}
			for _, name := range r.cfg.GiveWay {
				who, err := r.leases.Holder(wctx, name)
				if err != nil && wctx.Err() == nil {
					cancel(fmt.Errorf("look at lease %s: %w", name, err))
					break
				}
				if who != "" {
					cancel(fmt.Errorf("lease %s: %w to lease %s, held by %s", r.cfg.Lease, errGaveWay, name, who))
					break
				}
			}
		}
	}
}

// errGaveWay is why a holder stopped its work for a lease that goes first; it wraps
// ErrLeaseLost, since the lease is given up.
var errGaveWay = fmt.Errorf("%w: gave way", ErrLeaseLost)

// release gives the lease up, even when ctx has ended: the runner is stopping.
func (r *Runner) release(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Renew)
	defer cancel()
	if err := r.leases.Release(rctx, r.cfg.Lease, r.cfg.Holder); err != nil {
		r.log.Warn("could not release a lease; it lapses after its TTL", "lease", r.cfg.Lease, "err", err)
	}
}

// backoff is a wait that doubles from min to max each time it is taken, until reset.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset()       { b.cur = 0 }
func (b *backoff) active() bool { return b.cur != 0 }

// jitter returns a wait between d/2 and d, so that instances do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or until ctx ends or wake (nil for none) receives, and reports whether a
// wake ended it. A wake sent before the call ends it at once.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
		return true
	}
	return false
}
