// Package searchtest is the contract suite every search.Index adapter passes: one Run call
// per adapter, from that adapter's tests.
//
// The suite asserts what any sane engine does, so that an embedded engine and a search
// server both pass it: which posts a query finds and which it must not, exact orders only
// where the port defines them (NEWEST, MOST_ENGAGED, ties), and for relevance only orders
// no ranking could dispute (a title match above a body-only match, an exact word above a
// typo). Every word of a multi-word query is required, and is searched in the title, the
// tags and the body.
package searchtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
	"quanzi/search"
)

// NewIndex returns an empty index for one subtest; it cleans up after itself with t.Cleanup.
type NewIndex func(t *testing.T) search.Index

// Run runs the whole contract suite against indexes made by newIndex. Subtests that only
// read share one index, so an engine that is slow to create indexes stays fast enough.
func Run(t *testing.T, newIndex NewIndex) {
	t.Run("ApplyAndSearch", func(t *testing.T) { testApplyAndSearch(t, newIndex) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, newIndex) })
	t.Run("Rebuild", func(t *testing.T) { testRebuild(t, newIndex) })

	t.Run("Library", func(t *testing.T) {
		idx := newIndex(t)
		apply(t, idx, library()...)
		t.Run("Scope", func(t *testing.T) { testScope(t, idx) })
		t.Run("Filter", func(t *testing.T) { testFilter(t, idx) })
		t.Run("Sort", func(t *testing.T) { testSort(t, idx) })
		t.Run("Paging", func(t *testing.T) { testPaging(t, idx) })
		t.Run("Facets", func(t *testing.T) { testFacets(t, idx) })
		t.Run("BadInput", func(t *testing.T) { testBadInput(t, idx) })
	})
	t.Run("ManyFacetValues", func(t *testing.T) { testManyFacetValues(t, newIndex) })

	t.Run("Language", func(t *testing.T) {
		idx := newIndex(t)
		apply(t, idx, words()...)
		t.Run("Chinese", func(t *testing.T) { testFinds(t, idx, chineseCases) })
		t.Run("English", func(t *testing.T) { testFinds(t, idx, englishCases) })
		t.Run("Mixed", func(t *testing.T) { testFinds(t, idx, mixedCases) })
		t.Run("Tags", func(t *testing.T) { testFinds(t, idx, tagCases) })
		t.Run("OneField", func(t *testing.T) { testFinds(t, idx, oneFieldCases) })
		t.Run("OneFieldCounts", func(t *testing.T) { testOneFieldCounts(t, idx) })
		t.Run("Words", func(t *testing.T) { testFinds(t, idx, wordsCases) })
		t.Run("RankedPages", func(t *testing.T) { testRankedPages(t, idx) })
		t.Run("Ranking", func(t *testing.T) { testRanking(t, idx) })
		t.Run("Snippets", func(t *testing.T) { testSnippets(t, idx) })
	})
}

// base is the time fixtures are created around; times are whole seconds, which every
// engine keeps exactly.
var base = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// hoursAfter is base plus h hours.
func hoursAfter(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }

// post is a visible post of a public club, version 1, in club "club-default".
func post(id, title, body string) search.Document {
	return search.Document{
		ID: id, Version: 1, ClubID: "club-default", AuthorID: "author-default",
		Title: title, Body: body, CreatedAt: base, Visible: true,
	}
}

func apply(t *testing.T, idx interface {
	Apply(context.Context, []search.Document) error
}, docs ...search.Document) {
	t.Helper()
	if err := idx.Apply(context.Background(), docs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func run(t *testing.T, idx search.Index, q search.Query) search.Result {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	res, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return res
}

// ids returns the ids of the hits, in order.
func ids(res search.Result) []string {
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

// found returns the ids of the hits, sorted.
func found(res search.Result) []string {
	out := ids(res)
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy of ids, never nil.
func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// equateEmpty makes a nil slice equal to an empty one.
var equateEmpty = cmpopts.EquateEmpty()

func testApplyAndSearch(t *testing.T, newIndex NewIndex) {
	idx := newIndex(t)
	ctx := context.Background()
	if err := idx.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if res := run(t, idx, search.Query{}); res.Total != 0 || len(res.Hits) != 0 {
		t.Fatalf("empty index: got %d hits, total %d", len(res.Hits), res.Total)
	}
	if err := idx.Apply(ctx, nil); err != nil {
		t.Fatalf("Apply(nil): %v", err)
	}

	d := post("p1", "Weekend drive to the lake", "We met at nine and drove along the lake shore.")
	d.Tags = []string{"trip"}
	apply(t, idx, d, post("p2", "Parking tips", "Where to park downtown."))

	res := run(t, idx, search.Query{Text: "lake"})
	want := search.Result{
		Hits: []search.Hit{{
			ID:           "p1",
			TitleSnippet: "Weekend drive to the " + search.MarkStart + "lake" + search.MarkEnd,
			BodySnippet:  "We met at nine and drove along the " + search.MarkStart + "lake" + search.MarkEnd + " shore.",
		}},
		Total: 1,
		Clubs: []search.FacetCount{{Value: "club-default", Count: 1}},
		Tags:  []search.FacetCount{{Value: "trip", Count: 1}},
	}
	if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(search.Result{}, "TotalExact")); diff != "" {
		t.Errorf("Search(lake) (-want +got):\n%s", diff)
	}

	t.Run("EmptyTextMatchesAll", func(t *testing.T) {
		res := run(t, idx, search.Query{})
		if diff := cmp.Diff([]string{"p1", "p2"}, found(res)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if res.Total != 2 {
			t.Errorf("Total = %d, want 2", res.Total)
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		res := run(t, idx, search.Query{Text: "volcano"})
		if len(res.Hits) != 0 || res.Total != 0 || len(res.Clubs) != 0 || len(res.Tags) != 0 {
			t.Errorf("got %+v, want nothing", res)
		}
	})
	t.Run("MarkersInTextAreCleaned", func(t *testing.T) {
		apply(t, idx, post("p3", "Odd "+search.MarkStart+"title"+search.MarkEnd, "Body"+search.MarkEnd+" text"))
		res := run(t, idx, search.Query{Text: "odd"})
		if len(res.Hits) != 1 {
			t.Fatalf("got %v, want p3", ids(res))
		}
		want := search.Hit{ID: "p3", TitleSnippet: search.MarkStart + "Odd" + search.MarkEnd + " title", BodySnippet: "Body text"}
		if diff := cmp.Diff(want, res.Hits[0]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func testBadInput(t *testing.T, idx search.Index) {
	for _, tc := range []struct {
		name string
		q    search.Query
	}{
		{"NegativeOffset", search.Query{Offset: -1, Limit: 10}},
		{"NegativeLimit", search.Query{Limit: -1}},
		{"BeyondMaxWindow", search.Query{Offset: search.MaxWindow - 5, Limit: 10}},
		{"UnknownSort", search.Query{Limit: 10, Sort: "OLDEST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idx.Search(context.Background(), tc.q)
			if got := community.ErrorCode(err); got != community.CodeBadUserInput {
				t.Errorf("Search(%+v) code = %q (%v), want %q", tc.q, got, err, community.CodeBadUserInput)
			}
		})
	}
	t.Run("MaxWindowItself", func(t *testing.T) {
		if _, err := idx.Search(context.Background(), search.Query{Offset: search.MaxWindow - 10, Limit: 10}); err != nil {
			t.Errorf("Search at the edge of the window: %v", err)
		}
	})
}

// idf is an id made of a prefix and a number, sorting in the number's order.
func idf(prefix string, i int) string { return fmt.Sprintf("%s-%03d", prefix, i) }
