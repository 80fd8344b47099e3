package searchtest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/search"
)

// numbered returns n posts with ids prefix-000…, each holding word.
func numbered(prefix, word string, n int) []search.Document {
	docs := make([]search.Document, n)
	for i := range docs {
		docs[i] = post(idf(prefix, i), "Post about "+word, "This post talks about "+word+".")
	}
	return docs
}

func docIDs(docs []search.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	slices.Sort(out)
	return out
}

func testRebuild(t *testing.T, newIndex NewIndex) {
	ctx := context.Background()
	// finds checks what a search for word (every post when "") finds in the live index.
	finds := func(t *testing.T, idx search.Index, word string, want []string) {
		t.Helper()
		res := run(t, idx, search.Query{Text: word, Limit: 1000})
		if diff := cmp.Diff(sorted(want...), found(res)); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", word, diff)
		}
	}
	versions := func(t *testing.T, idx search.Index, ids []string, want map[string]int64) {
		t.Helper()
		got, err := idx.Versions(ctx, ids)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("Versions (-want +got):\n%s", diff)
		}
	}

	t.Run("Switch", func(t *testing.T) {
		idx := newIndex(t)
		old := numbered("old", "apple", 2)
		apply(t, idx, old...)

		b, err := idx.Rebuild(ctx)
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		fresh := numbered("new", "banana", 3)
		fresh[0].Version = 7
		apply(t, b, fresh...)

		// The build is invisible, and the live index keeps serving and taking writes.
		finds(t, idx, "", docIDs(old))
		finds(t, idx, "banana", nil)
		versions(t, idx, []string{"old-000", "new-000"}, map[string]int64{"old-000": 1})
		late := post("old-late", "Late apple post", "Written while the index was being rebuilt: apple.")
		apply(t, idx, late)
		finds(t, idx, "apple", append(docIDs(old), late.ID))

		if err := b.Switch(ctx); err != nil {
			t.Fatalf("Switch: %v", err)
		}
		finds(t, idx, "", docIDs(fresh))
		finds(t, idx, "apple", nil)
		finds(t, idx, "banana", docIDs(fresh))
		versions(t, idx, []string{"old-000", "old-late", "new-000", "new-001"}, map[string]int64{"new-000": 7, "new-001": 1})

		// The new index is the live one: it takes writes, and versions still hold.
		apply(t, idx, post("new-extra", "Extra banana", "More banana."))
		stale := fresh[0]
		stale.Version, stale.Title, stale.Body = 6, "Stale cherry", "cherry"
		apply(t, idx, stale)
		finds(t, idx, "banana", append(docIDs(fresh), "new-extra"))
		finds(t, idx, "cherry", nil)
	})

	t.Run("Discard", func(t *testing.T) {
		idx := newIndex(t)
		old := numbered("old", "apple", 2)
		apply(t, idx, old...)
		b, err := idx.Rebuild(ctx)
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		apply(t, b, numbered("new", "banana", 3)...)
		if err := b.Discard(ctx); err != nil {
			t.Fatalf("Discard: %v", err)
		}
		finds(t, idx, "", docIDs(old))
		finds(t, idx, "banana", nil)
		versions(t, idx, []string{"old-000", "new-000"}, map[string]int64{"old-000": 1})
		apply(t, idx, post("after", "After the discard", "apple"))
		finds(t, idx, "apple", append(docIDs(old), "after"))

		// A later rebuild starts empty again.
		b, err = idx.Rebuild(ctx)
		if err != nil {
			t.Fatalf("Rebuild again: %v", err)
		}
		apply(t, b, numbered("other", "cherry", 1)...)
		if err := b.Switch(ctx); err != nil {
			t.Fatalf("Switch: %v", err)
		}
		finds(t, idx, "", []string{"other-000"})
	})

	t.Run("SearchesDuringBuildAndSwitch", func(t *testing.T) {
		idx := newIndex(t)
		old := numbered("old", "apple", 5)
		apply(t, idx, old...)
		fresh := numbered("new", "banana", 120)
		oldIDs, newIDs := docIDs(old), docIDs(fresh)

		// A reader searches all along; every answer is the whole old index or the whole
		// new one, never an error or a mix.
		var (
			wg       sync.WaitGroup
			switched = make(chan struct{})
			started  = make(chan struct{})
			start    sync.Once
			answers  [2]int
			problem  string
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer start.Do(func() { close(started) })
			// Bounded in time, not in count: an engine behind a network answers slower.
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
				done := false
				select {
				case <-switched:
					done = true
				default:
				}
				res, err := idx.Search(ctx, search.Query{Limit: 1000})
				if err != nil {
					problem = "search failed: " + err.Error()
					return
				}
				got := found(res)
				switch {
				case slices.Equal(got, oldIDs) && res.Total == len(oldIDs):
					answers[0]++
				case slices.Equal(got, newIDs) && res.Total == len(newIDs):
					answers[1]++
				default:
					problem = "a search saw neither index whole: " + cmp.Diff(oldIDs, got)
					return
				}
				start.Do(func() { close(started) })
				if done {
					return
				}
			}
		}()

		// The build starts once the reader has had its first answer (or failed), so that
		// searches do run while it is built.
		<-started
		b, err := idx.Rebuild(ctx)
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		for i := 0; i < len(fresh); i += 20 {
			apply(t, b, fresh[i:i+20]...)
		}
		if err := b.Switch(ctx); err != nil {
			t.Fatalf("Switch: %v", err)
		}
		close(switched)
		wg.Wait()
		if problem != "" {
			t.Fatal(problem)
		}
		if answers[0] == 0 {
			t.Errorf("no search answered from the old index while the new one was built")
		}
		if answers[1] == 0 {
			t.Errorf("no search answered from the new index after the switch")
		}
		finds(t, idx, "", newIDs)
	})
}
