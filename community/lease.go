package community

import (
	"context"
	"sync"
	"time"
)

// Leases let one of many instances run a background job (the outbox relay, recomputing
// influence) at a time. A lease lapses when its holder stops renewing it, so a crashed
// instance hands the job on after its TTL.
type Leases interface {
	// Acquire takes the named lease for holder, or renews it when holder has it already,
	// for ttl from now, and reports whether holder has it.
	Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up when holder has it, and does nothing otherwise.
	Release(ctx context.Context, name, holder string) error
	// Holder returns who holds the named lease now, or "" when nobody does.
	Holder(ctx context.Context, name string) (string, error)
}

// LocalLeases are leases among the goroutines of one process: the default when no Redis is
// configured, where one process is the whole deployment.
type LocalLeases struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	held map[string]localLease
}

type localLease struct {
	holder string
	until  time.Time
}

var _ Leases = (*LocalLeases)(nil)

func (l *LocalLeases) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Acquire implements Leases.
func (l *LocalLeases) Acquire(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if cur, ok := l.held[name]; ok && cur.holder != holder && now.Before(cur.until) {
		return false, nil
	}
	if l.held == nil {
		l.held = map[string]localLease{}
	}
	l.held[name] = localLease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

// Release implements Leases.
func (l *LocalLeases) Release(_ context.Context, name, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.held[name]; ok && cur.holder == holder {
		delete(l.held, name)
	}
	return nil
}

// Holder implements Leases.
func (l *LocalLeases) Holder(_ context.Context, name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.held[name]; ok && l.now().Before(cur.until) {
		return cur.holder, nil
	}
	return "", nil
}
