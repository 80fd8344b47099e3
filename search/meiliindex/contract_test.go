package meiliindex

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/search"
	"quanzi/search/meiliindex/meilitest"
	"quanzi/search/searchtest"
)

// indexSeq tells apart the indexes of subtests opened within the same nanosecond.
var indexSeq atomic.Int64

// openTemp opens a fresh index on the test server, deleted when the test ends.
func openTemp(tb testing.TB) *Index {
	tb.Helper()
	url, key := meilitest.Server(tb)
	uid := fmt.Sprintf("posts_test_%d_%d", time.Now().UnixNano(), indexSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ix, err := Open(ctx, Config{URL: url, Key: key, Index: uid})
	if err != nil {
		tb.Fatalf("open %s: %v", uid, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := ix.drop(ctx, uid); err != nil {
			tb.Errorf("drop %s: %v", uid, err)
		}
		ix.Close()
	})
	return ix
}

// TestContract runs the shared contract suite against a Meilisearch server, one fresh
// index per subtest, deleted afterwards. It needs MEILI_URL (and MEILI_KEY, if the server
// has a master key): without them it skips, except in CI, where it fails.
func TestContract(t *testing.T) {
	meilitest.Server(t)
	searchtest.Run(t, func(t *testing.T) search.Index {
		t.Helper()
		return openTemp(t)
	})
}

// TestRelevance holds the index to the labelled relevance set, with the bar every engine
// is held to. It needs a Meilisearch server, as TestContract does.
func TestRelevance(t *testing.T) {
	searchtest.HoldRelevance(t, openTemp(t))
}
