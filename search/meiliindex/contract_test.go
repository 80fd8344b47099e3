package meiliindex

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/search"
	"quanzi/search/searchtest"
)

// indexSeq tells apart the indexes of subtests opened within the same nanosecond.
var indexSeq atomic.Int64

// TestContract runs the shared contract suite against a Meilisearch server, one fresh
// index per subtest, deleted afterwards. It needs MEILI_URL (and MEILI_KEY, if the server
// has a master key); without them it is skipped, in CI too, since no Meilisearch server
// is available there.
func TestContract(t *testing.T) {
	url := os.Getenv("MEILI_URL")
	if url == "" {
		t.Skip("MEILI_URL not set: the Meilisearch adapter's contract suite needs a Meilisearch server")
	}
	key := os.Getenv("MEILI_KEY")
	searchtest.Run(t, func(t *testing.T) search.Index {
		t.Helper()
		uid := fmt.Sprintf("posts_test_%d_%d", time.Now().UnixNano(), indexSeq.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ix, err := Open(ctx, Config{URL: url, Key: key, Index: uid})
		if err != nil {
			t.Fatalf("open %s: %v", uid, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := ix.drop(ctx, uid); err != nil {
				t.Errorf("drop %s: %v", uid, err)
			}
			if err := ix.Close(); err != nil {
				t.Errorf("close %s: %v", uid, err)
			}
		})
		return ix
	})
}
