// Package redislease keeps community.Leases in Redis, so that of many API instances only
// one runs a background job at a time.
//
// Each lease is one key, the holder its value and the TTL its expiry, so a lease works the
// same on a single server, behind Sentinel and on a Cluster. Every change that depends on
// who holds the lease runs as one Lua script, so an instance never renews or deletes a
// lease another instance has taken in the meantime.
package redislease

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"quanzi/community"
)

// renewScript renews the lease in KEYS[1] for ARGV[1] by ARGV[2] milliseconds when ARGV[1]
// holds it, and takes it when nobody does: the lease may have lapsed between the SET NX
// that found it held and this script. It returns 1 when ARGV[1] holds the lease, else 0.
var renewScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
if cur == false then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
return 0
`)

// releaseScript deletes the lease in KEYS[1] when ARGV[1] holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Leases are community.Leases kept in Redis, one key per lease.
type Leases struct {
	client redis.UniversalClient
	prefix string
}

var _ community.Leases = (*Leases)(nil)

// New returns leases kept in client under keys that start with prefix (e.g.
// "quanzi:lease:"), followed by the lease's name. client may be a single, Sentinel or
// Cluster client; the caller keeps ownership of it and closes it.
func New(client redis.UniversalClient, prefix string) *Leases {
	return &Leases{client: client, prefix: prefix}
}

func (l *Leases) key(name string) string { return l.prefix + name }

// Acquire implements community.Leases. The TTL is rounded up to whole milliseconds, the
// unit of Redis expiry; a TTL that is not positive is an error.
func (l *Leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redislease: acquire %q: ttl %v is not positive", name, ttl)
	}
	ms := int64((ttl + time.Millisecond - 1) / time.Millisecond)
	key := l.key(name)

	// The common case for a lease nobody holds takes one round trip.
	set := redis.NewBoolCmd(ctx, "set", key, holder, "nx", "px", ms)
	if err := l.client.Process(ctx, set); err != nil {
		return false, fmt.Errorf("redislease: acquire %q: %w", name, err)
	}
	if set.Val() {
		return true, nil
	}
	held, err := renewScript.Run(ctx, l.client, []string{key}, holder, ms).Int64()
	if err != nil {
		return false, fmt.Errorf("redislease: acquire %q: renew: %w", name, err)
	}
	return held == 1, nil
}

// Release implements community.Leases.
func (l *Leases) Release(ctx context.Context, name, holder string) error {
	if err := releaseScript.Run(ctx, l.client, []string{l.key(name)}, holder).Err(); err != nil {
		return fmt.Errorf("redislease: release %q: %w", name, err)
	}
	return nil
}
