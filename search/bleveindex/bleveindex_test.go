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

// TestRelevance holds the index to the labelled relevance set.
func TestRelevance(t *testing.T) {
	report := searchtest.Relevance(t, open(t, t.TempDir()))
	for _, s := range []struct {
		name  string
		score searchtest.RelevanceScore
	}{{"Chinese", report.Chinese}, {"English", report.English}, {"overall", report.Overall}} {
		if s.score.RPrecision < 0.9 {
			t.Errorf("%s R-precision %.3f, want at least 0.9", s.name, s.score.RPrecision)
		}
	}
}
