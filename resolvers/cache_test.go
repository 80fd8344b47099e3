package resolvers

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestByteCacheStaysWithinItsBudget(t *testing.T) {
	ctx := context.Background()
	c := NewPersistedQueryCache(64<<10, 4<<10)
	query := strings.Repeat("x", 1000)
	for i := range 1000 {
		c.Add(ctx, fmt.Sprintf("hash-%04d", i), query)
	}
	if got := c.Bytes(); got > 64<<10 {
		t.Errorf("after 1 MB of queries the cache holds %d bytes, over its budget of %d", got, 64<<10)
	}
	if got := c.Bytes(); got < 32<<10 {
		t.Errorf("the cache holds only %d bytes of a 64 KiB budget", got)
	}
	c.Add(ctx, "large", strings.Repeat("x", 5<<10))
	if _, ok := c.Get(ctx, "large"); ok {
		t.Error("a query over the largest entry was kept")
	}
	c.Add(ctx, "small", "{ __typename }")
	if q, ok := c.Get(ctx, "small"); !ok || q != "{ __typename }" {
		t.Errorf("a small query: %q, %v", q, ok)
	}
}
