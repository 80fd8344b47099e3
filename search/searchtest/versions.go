package searchtest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/search"
)

// versioned is post p1 at a version, with one distinctive word in its title.
func versioned(version int64, word string) search.Document {
	d := post("p1", "Version "+word, "A post about "+word+".")
	d.Version = version
	return d
}

// tombstone is post p1 deleted at a version: no text, not visible.
func tombstone(version int64) search.Document {
	return search.Document{ID: "p1", Version: version, ClubID: "club-default", AuthorID: "author-default", CreatedAt: base}
}

func testVersions(t *testing.T, newIndex NewIndex) {
	// Each step applies documents, then checks what the index holds of p1: its version and
	// which of the words of its versions a search finds.
	type step struct {
		name    string
		apply   [][]search.Document // batches, in order
		version int64               // 0: p1 absent
		finds   string              // the word a search finds p1 by; "" for none
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"FirstWrite", []step{
			{"apply", [][]search.Document{{versioned(1, "apple")}}, 1, "apple"},
		}},
		{"NewerOverwrites", []step{
			{"v1", [][]search.Document{{versioned(1, "apple")}}, 1, "apple"},
			{"v2", [][]search.Document{{versioned(2, "banana")}}, 2, "banana"},
		}},
		{"OlderIsSkipped", []step{
			{"v2", [][]search.Document{{versioned(2, "banana")}}, 2, "banana"},
			{"late v1", [][]search.Document{{versioned(1, "apple")}}, 2, "banana"},
		}},
		{"EqualRewrites", []step{
			{"v2", [][]search.Document{{versioned(2, "banana")}}, 2, "banana"},
			{"v2 again", [][]search.Document{{versioned(2, "cherry")}}, 2, "cherry"},
		}},
		{"NewestOfOneBatchWins", []step{
			{"v3 then v2", [][]search.Document{{versioned(3, "cherry"), versioned(2, "banana")}}, 3, "cherry"},
		}},
		{"OutOfOrderBatches", []step{
			{"v3", [][]search.Document{{versioned(3, "cherry")}}, 3, "cherry"},
			{"v1 v2", [][]search.Document{{versioned(1, "apple")}, {versioned(2, "banana")}}, 3, "cherry"},
		}},
		{"TombstoneIsNeverFound", []step{
			{"v1", [][]search.Document{{versioned(1, "apple")}}, 1, "apple"},
			{"deleted v2", [][]search.Document{{tombstone(2)}}, 2, ""},
		}},
		{"LateVisibleVersionDoesNotResurrect", []step{
			{"v1", [][]search.Document{{versioned(1, "apple")}}, 1, "apple"},
			{"deleted v3", [][]search.Document{{tombstone(3)}}, 3, ""},
			{"late v2", [][]search.Document{{versioned(2, "banana")}}, 3, ""},
		}},
		{"TombstoneFirst", []step{
			{"deleted v2", [][]search.Document{{tombstone(2)}}, 2, ""},
			{"late v1", [][]search.Document{{versioned(1, "apple")}}, 2, ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := newIndex(t)
			ctx := context.Background()
			for _, s := range tc.steps {
				for _, batch := range s.apply {
					apply(t, idx, batch...)
				}
				got, err := idx.Versions(ctx, []string{"p1", "absent"})
				if err != nil {
					t.Fatalf("%s: Versions: %v", s.name, err)
				}
				want := map[string]int64{}
				if s.version != 0 {
					want["p1"] = s.version
				}
				if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
					t.Errorf("%s: Versions (-want +got):\n%s", s.name, diff)
				}
				for _, word := range []string{"", "apple", "banana", "cherry"} {
					res := run(t, idx, search.Query{Text: word, Scope: search.Scope{All: true}})
					want := []string{}
					if s.finds != "" && (word == "" || word == s.finds) {
						want = []string{"p1"}
					}
					if diff := cmp.Diff(want, ids(res)); diff != "" {
						t.Errorf("%s: Search(%q) (-want +got):\n%s", s.name, word, diff)
					}
					if res.Total != len(want) {
						t.Errorf("%s: Search(%q) Total = %d, want %d", s.name, word, res.Total, len(want))
					}
				}
			}
		})
	}

	t.Run("ManyIDs", func(t *testing.T) {
		idx := newIndex(t)
		var docs []search.Document
		want := map[string]int64{}
		var ask []string
		for i := range 300 {
			d := post(idf("m", i), "Title", "Body")
			d.Version = int64(i + 1)
			d.Visible = i%3 != 0
			docs = append(docs, d)
			want[d.ID] = d.Version
			ask = append(ask, d.ID, idf("missing", i))
		}
		apply(t, idx, docs...)
		got, err := idx.Versions(context.Background(), ask)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Versions (-want +got):\n%s", diff)
		}
		if res := run(t, idx, search.Query{Limit: 1}); res.Total != 200 {
			t.Errorf("Total = %d, want the 200 visible posts", res.Total)
		}
	})
}
