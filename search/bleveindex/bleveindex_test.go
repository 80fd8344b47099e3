package bleveindex_test

import (
	"testing"

	"quanzi/search"
	"quanzi/search/bleveindex"
	"quanzi/search/searchtest"
)

// open opens an index in a fresh directory, closed when the test ends.
func open(t testing.TB, dir string) *bleveindex.Index {
	t.Helper()
	idx, err := bleveindex.Open(bleveindex.Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := idx.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return idx
}

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return open(t, t.TempDir()) })
}

// TestRelevance holds the index to the labelled relevance set, with the bar every engine
// is held to.
func TestRelevance(t *testing.T) {
	searchtest.HoldRelevance(t, open(t, t.TempDir()))
}
