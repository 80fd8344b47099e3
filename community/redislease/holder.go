package redislease

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Holder implements community.Leases: the lease key's value, which expires with the lease.
func (l *Leases) Holder(ctx context.Context, name string) (string, error) {
	h, err := l.client.Get(ctx, l.key(name)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redislease: holder of %q: %w", name, err)
	}
	return h, nil
}
