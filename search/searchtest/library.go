package searchtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/search"
)

// library is ten visible posts and one deleted, spread over four clubs:
//
//	club-ev   hosted by brand-byd, public
//	club-road no brand, public
//	club-vip  hosted by brand-byd, private
//	club-nio  hosted by brand-nio, private
//
// Two pairs share a creation time and two pairs an engagement, to show the tie-breakers.
func library() []search.Document {
	type row struct {
		id, club, author string
		tags             []string
		hour, engagement int
	}
	brands := map[string]string{"club-ev": "brand-byd", "club-vip": "brand-byd", "club-nio": "brand-nio"}
	private := map[string]bool{"club-vip": true, "club-nio": true}
	var docs []search.Document
	for _, r := range []row{
		{"L01", "club-ev", "author-a", []string{"ev", "charging"}, 0, 5},
		{"L02", "club-ev", "author-b", []string{"ev"}, 1, 20},
		{"L03", "club-road", "author-a", []string{"trip"}, 2, 20},
		{"L04", "club-road", "author-c", []string{"trip", "ev"}, 3, 0},
		{"L05", "club-vip", "author-a", []string{"ev", "vip"}, 4, 50},
		{"L06", "club-vip", "author-b", []string{"vip"}, 5, 1},
		{"L07", "club-nio", "author-c", []string{"nio"}, 6, 7},
		{"L08", "club-ev", "author-b", []string{"charging"}, 6, 7},
		{"L09", "club-road", "author-a", nil, 8, 3},
		{"L10", "club-ev", "author-c", []string{"ev"}, 8, 3},
	} {
		docs = append(docs, search.Document{
			ID: r.id, Version: 1, ClubID: r.club, BrandID: brands[r.club], AuthorID: r.author,
			Title: "Club notes " + r.id, Body: "Notes of the club meeting, with photos of the drive.",
			Tags: r.tags, CreatedAt: hoursAfter(r.hour), Engagement: r.engagement,
			Visible: true, Private: private[r.club],
		})
	}
	// A deleted post: found by nothing, counted in no facet.
	docs = append(docs, search.Document{
		ID: "L11", Version: 2, ClubID: "club-ev", BrandID: "brand-byd", AuthorID: "author-a",
		CreatedAt: hoursAfter(9), Engagement: 99,
	})
	return docs
}

var (
	allPosts    = []string{"L01", "L02", "L03", "L04", "L05", "L06", "L07", "L08", "L09", "L10"}
	publicPosts = []string{"L01", "L02", "L03", "L04", "L08", "L09", "L10"}
)

func testScope(t *testing.T, idx search.Index) {
	for _, tc := range []struct {
		name  string
		scope search.Scope
		want  []string
	}{
		{"All", search.Scope{All: true}, allPosts},
		{"PublicOnly", search.Scope{}, publicPosts},
		{"PrivateClub", search.Scope{ClubIDs: []string{"club-vip"}}, append(sorted(publicPosts...), "L05", "L06")},
		{"PublicClubAddsNothing", search.Scope{ClubIDs: []string{"club-ev"}}, publicPosts},
		{"BrandOfPrivateClub", search.Scope{BrandIDs: []string{"brand-nio"}}, append(sorted(publicPosts...), "L07")},
		{"BrandWithPublicAndPrivateClubs", search.Scope{BrandIDs: []string{"brand-byd"}}, append(sorted(publicPosts...), "L05", "L06")},
		{"ClubAndBrand", search.Scope{ClubIDs: []string{"club-vip"}, BrandIDs: []string{"brand-nio"}}, allPosts},
		{"UnknownBrand", search.Scope{BrandIDs: []string{"brand-none"}, ClubIDs: []string{"club-none"}}, publicPosts},
		// club-ev and club-road turned private a moment ago; their documents still say public.
		{"HiddenClub", search.Scope{HiddenClubIDs: []string{"club-ev"}}, []string{"L03", "L04", "L09"}},
		{"HiddenClubs", search.Scope{HiddenClubIDs: []string{"club-ev", "club-road"}}, nil},
		{"HiddenClubOfTheCaller", search.Scope{ClubIDs: []string{"club-ev"}, HiddenClubIDs: []string{"club-road"}}, []string{"L01", "L02", "L08", "L10"}},
		{"HiddenClubOfTheCallersBrand", search.Scope{BrandIDs: []string{"brand-byd"}, HiddenClubIDs: []string{"club-road"}}, []string{"L01", "L02", "L05", "L06", "L08", "L10"}},
		{"HiddenPrivateClubAddsNothing", search.Scope{HiddenClubIDs: []string{"club-vip"}}, publicPosts},
		{"HiddenUnknownClub", search.Scope{HiddenClubIDs: []string{"club-none"}}, publicPosts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, idx, search.Query{Scope: tc.scope})
			if diff := cmp.Diff(sorted(tc.want...), found(res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if res.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", res.Total, len(tc.want))
			}
			// The scope holds with text too.
			res = run(t, idx, search.Query{Text: "notes", Scope: tc.scope})
			if diff := cmp.Diff(sorted(tc.want...), found(res)); diff != "" {
				t.Errorf("with text (-want +got):\n%s", diff)
			}
		})
	}
}

func testFilter(t *testing.T, idx search.Index) {
	all := search.Scope{All: true}
	for _, tc := range []struct {
		name   string
		text   string
		filter search.Filter
		scope  search.Scope
		want   []string
	}{
		{"NoFilter", "", search.Filter{}, all, allPosts},
		{"Club", "", search.Filter{ClubIDs: []string{"club-ev"}}, all, []string{"L01", "L02", "L08", "L10"}},
		{"Clubs", "", search.Filter{ClubIDs: []string{"club-ev", "club-nio"}}, all, []string{"L01", "L02", "L07", "L08", "L10"}},
		{"Brand", "", search.Filter{BrandIDs: []string{"brand-byd"}}, all, []string{"L01", "L02", "L05", "L06", "L08", "L10"}},
		{"OtherBrand", "", search.Filter{BrandIDs: []string{"brand-nio"}}, all, []string{"L07"}},
		{"Tag", "", search.Filter{Tags: []string{"ev"}}, all, []string{"L01", "L02", "L04", "L05", "L10"}},
		{"AnyOfTags", "", search.Filter{Tags: []string{"vip", "nio"}}, all, []string{"L05", "L06", "L07"}},
		{"Author", "", search.Filter{AuthorID: "author-a"}, all, []string{"L01", "L03", "L05", "L09"}},
		{"FromIsInclusive", "", search.Filter{From: hoursAfter(6)}, all, []string{"L07", "L08", "L09", "L10"}},
		{"ToIsExclusive", "", search.Filter{To: hoursAfter(6)}, all, []string{"L01", "L02", "L03", "L04", "L05", "L06"}},
		{"FromTo", "", search.Filter{From: hoursAfter(2), To: hoursAfter(5)}, all, []string{"L03", "L04", "L05"}},
		{"EmptyRange", "", search.Filter{From: hoursAfter(3), To: hoursAfter(3)}, all, nil},
		{"ClubAndTag", "", search.Filter{ClubIDs: []string{"club-ev"}, Tags: []string{"ev"}}, all, []string{"L01", "L02", "L10"}},
		{"ClubAuthorFrom", "", search.Filter{ClubIDs: []string{"club-ev"}, AuthorID: "author-b", From: hoursAfter(1)}, all, []string{"L02", "L08"}},
		{"BrandAndTag", "", search.Filter{BrandIDs: []string{"brand-byd"}, Tags: []string{"charging"}}, all, []string{"L01", "L08"}},
		{"EveryField", "", search.Filter{
			ClubIDs: []string{"club-ev", "club-vip"}, BrandIDs: []string{"brand-byd"}, Tags: []string{"ev", "vip"},
			AuthorID: "author-a", From: hoursAfter(0), To: hoursAfter(5),
		}, all, []string{"L01", "L05"}},
		{"FilterWithinScope", "", search.Filter{BrandIDs: []string{"brand-byd"}}, search.Scope{}, []string{"L01", "L02", "L08", "L10"}},
		{"NothingMatches", "", search.Filter{AuthorID: "author-none"}, all, nil},
		{"WithText", "L05", search.Filter{Tags: []string{"ev"}}, all, []string{"L05"}},
		{"TextOutsideFilter", "L06", search.Filter{Tags: []string{"ev"}}, all, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, idx, search.Query{Text: tc.text, Filter: tc.filter, Scope: tc.scope})
			if diff := cmp.Diff(sorted(tc.want...), found(res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if res.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", res.Total, len(tc.want))
			}
		})
	}
}

// The orders of the library's visible posts.
var (
	newest      = []string{"L09", "L10", "L07", "L08", "L06", "L05", "L04", "L03", "L02", "L01"}
	mostEngaged = []string{"L05", "L03", "L02", "L07", "L08", "L01", "L09", "L10", "L06", "L04"}
)

func testSort(t *testing.T, idx search.Index) {
	all := search.Scope{All: true}
	for _, tc := range []struct {
		name string
		q    search.Query
		want []string
	}{
		{"Newest", search.Query{Sort: search.SortNewest, Scope: all}, newest},
		{"MostEngaged", search.Query{Sort: search.SortMostEngaged, Scope: all}, mostEngaged},
		// Without text every post is as relevant as any other: the ties go newest first.
		{"RelevanceWithoutText", search.Query{Sort: search.SortRelevance, Scope: all}, newest},
		{"NewestWithText", search.Query{Text: "club notes", Sort: search.SortNewest, Scope: all}, newest},
		{"MostEngagedWithText", search.Query{Text: "club notes", Sort: search.SortMostEngaged, Scope: all}, mostEngaged},
		{"NewestFiltered", search.Query{Sort: search.SortNewest, Scope: all, Filter: search.Filter{Tags: []string{"ev"}}},
			[]string{"L10", "L05", "L04", "L02", "L01"}},
		{"MostEngagedFiltered", search.Query{Sort: search.SortMostEngaged, Scope: all, Filter: search.Filter{AuthorID: "author-c"}},
			[]string{"L07", "L10", "L04"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ids(run(t, idx, tc.q))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func testPaging(t *testing.T, idx search.Index) {
	all := search.Scope{All: true}
	for _, tc := range []struct {
		name string
		q    search.Query
	}{
		{"Newest", search.Query{Sort: search.SortNewest, Scope: all}},
		{"MostEngaged", search.Query{Sort: search.SortMostEngaged, Scope: all}},
		{"RelevanceWithText", search.Query{Text: "notes", Sort: search.SortRelevance, Scope: all}},
		{"PublicOnly", search.Query{Sort: search.SortNewest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := run(t, idx, tc.q)
			for _, size := range []int{1, 3, 4} {
				var pages []string
				for offset := 0; offset < whole.Total+size; offset += size {
					q := tc.q
					q.Offset, q.Limit = offset, size
					res := run(t, idx, q)
					if res.Total != whole.Total {
						t.Fatalf("page at %d: Total = %d, want %d", offset, res.Total, whole.Total)
					}
					if len(res.Hits) > size {
						t.Fatalf("page at %d: %d hits, limit %d", offset, len(res.Hits), size)
					}
					pages = append(pages, ids(res)...)
				}
				if diff := cmp.Diff(ids(whole), pages); diff != "" {
					t.Errorf("pages of %d (-whole +pages):\n%s", size, diff)
				}
			}
		})
	}
	t.Run("BeyondTheEnd", func(t *testing.T) {
		res := run(t, idx, search.Query{Scope: all, Offset: 50, Limit: 10})
		if len(res.Hits) != 0 || res.Total != len(allPosts) {
			t.Errorf("got %d hits, total %d; want none, total %d", len(res.Hits), res.Total, len(allPosts))
		}
	})
}

func testFacets(t *testing.T, idx search.Index) {
	for _, tc := range []struct {
		name        string
		q           search.Query
		total       int
		clubs, tags []search.FacetCount
	}{
		{
			name:  "All",
			q:     search.Query{Scope: search.Scope{All: true}},
			total: 10,
			clubs: counts("club-ev", 4, "club-road", 3, "club-vip", 2, "club-nio", 1),
			tags:  counts("ev", 5, "charging", 2, "trip", 2, "vip", 2, "nio", 1),
		},
		{
			name:  "PublicWithTag",
			q:     search.Query{Filter: search.Filter{Tags: []string{"ev"}}},
			total: 4,
			clubs: counts("club-ev", 3, "club-road", 1),
			tags:  counts("ev", 4, "charging", 1, "trip", 1),
		},
		{
			name:  "WithText",
			q:     search.Query{Text: "L03", Scope: search.Scope{All: true}},
			total: 1,
			clubs: counts("club-road", 1),
			tags:  counts("trip", 1),
		},
		{
			name:  "NoHits",
			q:     search.Query{Filter: search.Filter{AuthorID: "author-none"}},
			total: 0,
		},
		{
			// club-ev turned private a moment ago: neither the total nor a facet counts it.
			name:  "HiddenClub",
			q:     search.Query{Scope: search.Scope{HiddenClubIDs: []string{"club-ev"}}},
			total: 3,
			clubs: counts("club-road", 3),
			tags:  counts("trip", 2, "ev", 1),
		},
		{
			name:  "HiddenClubWithText",
			q:     search.Query{Text: "notes", Scope: search.Scope{HiddenClubIDs: []string{"club-road"}}, Filter: search.Filter{Tags: []string{"ev"}}},
			total: 3,
			clubs: counts("club-ev", 3),
			tags:  counts("ev", 3, "charging", 1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Facets count every hit of the query, whatever the page.
			for _, page := range []struct{ offset, limit int }{{0, 100}, {0, 1}, {2, 2}, {50, 10}} {
				q := tc.q
				q.Offset, q.Limit = page.offset, page.limit
				res := run(t, idx, q)
				if res.Total != tc.total {
					t.Errorf("page %v: Total = %d, want %d", page, res.Total, tc.total)
				}
				if diff := cmp.Diff(tc.clubs, res.Clubs, equateEmpty); diff != "" {
					t.Errorf("page %v: Clubs (-want +got):\n%s", page, diff)
				}
				if diff := cmp.Diff(tc.tags, res.Tags, equateEmpty); diff != "" {
					t.Errorf("page %v: Tags (-want +got):\n%s", page, diff)
				}
				// Skipping the facets changes nothing else.
				q.SkipFacets = true
				skipped := run(t, idx, q)
				if len(skipped.Clubs) != 0 || len(skipped.Tags) != 0 {
					t.Errorf("page %v: facets counted though skipped: %v %v", page, skipped.Clubs, skipped.Tags)
				}
				if diff := cmp.Diff(res.Hits, skipped.Hits); diff != "" || skipped.Total != res.Total {
					t.Errorf("page %v: skipping facets changed the hits (-with +without):\n%s (total %d, %d)", page, diff, res.Total, skipped.Total)
				}
			}
		})
	}
}

// testManyFacetValues shows that a facet lists at most search.MaxFacets values, the most
// frequent first, then by value.
func testManyFacetValues(t *testing.T, newIndex NewIndex) {
	idx := newIndex(t)
	var docs []search.Document
	for i := range 25 {
		d := post(idf("f", i), "Facet post", "Counting values.")
		d.ClubID = idf("club", i)
		if i >= 22 {
			d.ClubID = idf("club", 0)
		}
		d.Tags = []string{idf("t", 24-i)}
		if i < 3 {
			d.Tags = append(d.Tags, "common")
		}
		if i < 5 {
			d.Tags = append(d.Tags, "popular")
		}
		docs = append(docs, d)
	}
	apply(t, idx, docs...)

	var clubs, tags []search.FacetCount
	clubs = append(clubs, search.FacetCount{Value: idf("club", 0), Count: 4})
	tags = append(tags, search.FacetCount{Value: "popular", Count: 5}, search.FacetCount{Value: "common", Count: 3})
	for i := 1; len(clubs) < search.MaxFacets; i++ {
		clubs = append(clubs, search.FacetCount{Value: idf("club", i), Count: 1})
	}
	for i := 0; len(tags) < search.MaxFacets; i++ {
		tags = append(tags, search.FacetCount{Value: idf("t", i), Count: 1})
	}
	res := run(t, idx, search.Query{Limit: 5})
	if res.Total != 25 {
		t.Errorf("Total = %d, want 25", res.Total)
	}
	if diff := cmp.Diff(clubs, res.Clubs); diff != "" {
		t.Errorf("Clubs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tags, res.Tags); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
}

// counts makes facet counts of alternating values and counts.
func counts(pairs ...any) []search.FacetCount {
	var out []search.FacetCount
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, search.FacetCount{Value: pairs[i].(string), Count: pairs[i+1].(int)})
	}
	return out
}
