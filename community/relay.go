package community

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Handler delivers a batch of one consumer's events, oldest first. It returns nil once
// every event of the batch has taken effect, and the relay then acknowledges them all; an
// error leaves them all pending, to be delivered again, so a handler is idempotent. It
// reads each entity as the store has it when it runs: events carry no payload.
type Handler func(ctx context.Context, events []OutboxEvent) error

// RelayConfig configures a Relay; zero fields take defaults.
type RelayConfig struct {
	// Batch is how many events one delivery takes (500).
	Batch int
	// MinIdle is the first wait after the queue was found drained (100ms); each further
	// look that finds it empty doubles the wait, up to MaxIdle (2s). A Wake cuts the wait
	// short and starts again from MinIdle.
	MinIdle, MaxIdle time.Duration
	// MinBackoff and MaxBackoff bound the waits after a failed delivery (200ms, 30s).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// RelayStats is what a relay has done since it started.
type RelayStats struct {
	// Delivered counts events acknowledged after their handler took them (an event renewed
	// meanwhile stays pending for its newer write).
	Delivered int64
	Failures  int64 // deliveries that failed (and were retried)
	// LastError is the last failure, or "" once a delivery succeeded again.
	LastError string
}

// Relay carries one consumer's outbox events to its handler: at least once, in batches,
// acknowledging each batch once the handler has taken it. It holds no lease itself: run it
// under a Runner, so that of many instances one delivers.
type Relay struct {
	outbox   Outbox
	consumer Consumer
	handle   Handler
	cfg      RelayConfig
	log      *slog.Logger

	wake chan struct{}

	mu        sync.Mutex
	delivered int64
	failures  int64
	lastErr   error
}

// NewRelay returns a relay of consumer's events from outbox to handle.
func NewRelay(outbox Outbox, consumer Consumer, handle Handler, cfg RelayConfig) *Relay {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.MinIdle <= 0 {
		cfg.MinIdle = 100 * time.Millisecond
	}
	if cfg.MaxIdle < cfg.MinIdle {
		cfg.MaxIdle = max(2*time.Second, cfg.MinIdle)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Relay{outbox: outbox, consumer: consumer, handle: handle, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the relay to look at its queue now rather than after its idle wait: after a
// write, so that the write reaches the consumer without waiting for the next poll.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats reports what the relay has done.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := RelayStats{Delivered: r.delivered, Failures: r.failures}
	if r.lastErr != nil {
		s.LastError = r.lastErr.Error()
	}
	return s
}

// Run delivers until ctx ends, and returns nil then. Failed deliveries are logged,
// counted in Stats and retried with backoff, never returned. Between deliveries it waits
// while the queue is drained: MinIdle at first, doubling up to MaxIdle while it stays
// empty, or until Wake.
func (r *Relay) Run(ctx context.Context) error {
	fail := backoff{min: r.cfg.MinBackoff, max: r.cfg.MaxBackoff}
	idle := backoff{min: r.cfg.MinIdle, max: r.cfg.MaxIdle}
	for ctx.Err() == nil {
		n, err := r.DeliverOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !fail.active() {
				r.log.Warn("outbox relay: delivery failed; retrying with backoff", "consumer", r.consumer, "err", err)
			}
			r.record(0, err)
			// A wake does not cut a backoff short: the writes that wake the relay go on
			// while the consumer is down.
			sleep(ctx, jitter(fail.next()), nil)
			continue
		}
		if fail.active() {
			r.log.Info("outbox relay: delivering again", "consumer", r.consumer)
			r.record(0, nil)
			fail.reset()
		}
		if n > 0 {
			idle.reset()
		}
		// Short of a full batch, wait for a write or the idle interval. A wake that came
		// during the delivery, perhaps for a write it missed, ends the wait at once.
		if n < r.cfg.Batch && sleep(ctx, idle.next(), r.wake) {
			idle.reset()
		}
	}
	return nil
}

// DeliverOnce delivers up to one batch of pending events, whoever holds the lease (Run
// under a Runner checks it), and returns how many it delivered. Events are acknowledged
// only after the handler has taken them.
func (r *Relay) DeliverOnce(ctx context.Context) (int, error) {
	events, err := r.outbox.PendingEvents(ctx, r.consumer, r.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("outbox relay %s: read pending events: %w", r.consumer, err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	if err := r.handle(ctx, events); err != nil {
		return 0, err
	}
	if err := r.outbox.AckEvents(ctx, r.consumer, events); err != nil {
		return 0, fmt.Errorf("outbox relay %s: acknowledge: %w", r.consumer, err)
	}
	r.record(int64(len(events)), nil)
	return len(events), nil
}

// record counts delivered events, or a failure when err is not nil; a success clears the
// last error.
func (r *Relay) record(delivered int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delivered += delivered
	if err != nil {
		r.failures++
	}
	r.lastErr = err
}
