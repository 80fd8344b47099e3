package meiliindex

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/meilisearch/meilisearch-go"

	"quanzi/community"
	"quanzi/search"
)

func TestSearchRequest(t *testing.T) {
	t.Run("representative query", func(t *testing.T) {
		req, qt, err := searchRequest(search.Query{
			Text:   "BMW 车友会 charging",
			Filter: search.Filter{Tags: []string{"自驾"}},
			Scope:  search.Scope{ClubIDs: []string{"c9"}},
			Sort:   search.SortNewest,
			Offset: 20, Limit: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &meilisearch.SearchRequest{
			Query:                 `bmw "车友 友会" charg`,
			Offset:                20,
			Limit:                 10,
			Filter:                `visible = true AND (private = false OR clubId IN ["c9"]) AND tags IN ["自驾"]`,
			Sort:                  []string{"created:desc", "id:asc"},
			Facets:                []string{"clubId", "tags"},
			MatchingStrategy:      meilisearch.All,
			AttributesToRetrieve:  []string{"id", "body"},
			AttributesToHighlight: []string{"title", "body"},
			AttributesToCrop:      []string{"body"},
			CropLength:            40,
			HighlightPreTag:       search.MarkStart,
			HighlightPostTag:      search.MarkEnd,
			Locales:               []string{"cmn"},
		}
		if diff := cmp.Diff(want, req); diff != "" {
			t.Errorf("request mismatch (-want +got):\n%s", diff)
		}
		wantTerms := terms{runs: []string{"车友会"}, stems: []string{"bmw", "charg"}}
		if diff := cmp.Diff(wantTerms, qt, cmp.AllowUnexported(terms{})); diff != "" {
			t.Errorf("terms mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("empty text, relevance, no limit", func(t *testing.T) {
		req, qt, err := searchRequest(search.Query{Scope: search.Scope{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		if req.Query != "" || req.Sort != nil || req.Limit != 1 || req.Filter != "visible = true" || !qt.empty() {
			t.Errorf("got q=%q sort=%q limit=%d filter=%q terms=%+v", req.Query, req.Sort, req.Limit, req.Filter, qt)
		}
		if diff := cmp.Diff([]string{"id"}, req.AttributesToRetrieve); diff != "" {
			t.Errorf("attributesToRetrieve mismatch (-want +got):\n%s", diff)
		}
	})
	for _, tt := range []struct {
		name string
		q    search.Query
	}{
		{"negative offset", search.Query{Offset: -1, Limit: 10}},
		{"negative limit", search.Query{Limit: -1}},
		{"beyond the window", search.Query{Offset: search.MaxWindow - 5, Limit: 10}},
		{"unknown sort", search.Query{Limit: 10, Sort: "OLDEST"}},
		{"too many words", search.Query{Limit: 10, Text: "a b c d e f g h i j k"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := searchRequest(tt.q)
			if code := community.ErrorCode(err); code != community.CodeBadUserInput {
				t.Errorf("code = %q, want %q (err %v)", code, community.CodeBadUserInput, err)
			}
		})
	}
}

// hit builds a hit as Meilisearch's search response holds it.
func hit(t *testing.T, fields map[string]any) meilisearch.Hit {
	t.Helper()
	h := meilisearch.Hit{}
	for k, v := range fields {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		h[k] = raw
	}
	return h
}

func TestResultOf(t *testing.T) {
	road := strings.Repeat("The road goes on. ", 4)
	resp := &meilisearch.SearchResponse{
		EstimatedTotalHits: 42,
		Hits: meilisearch.Hits{
			hit(t, map[string]any{
				"id": "p1",
				"_formatted": map[string]string{
					"title": "周末" + ms + "BMW" + me + "车友会",
					"body":  "欢迎" + ms + "BMW" + me + "车友会的朋友…",
				},
			}),
			hit(t, map[string]any{
				"id":   "p2",
				"body": "很长的开头。我们明天一起去车友会。",
				"_formatted": map[string]string{
					"title": "通知",
					"body":  "很长的开头…",
				},
			}),
			hit(t, map[string]any{
				"id":   "p3",
				"body": road + "Then we charged the car. " + road,
				"_formatted": map[string]string{
					"title": "Charged overnight",
					"body":  "The road goes on. The road goes on…",
				},
			}),
		},
		FacetDistribution: json.RawMessage(`{"clubId":{"c2":3,"c1":3,"c3":7},"tags":{"suv":1}}`),
	}
	got, err := resultOf(resp, terms{runs: []string{"车友会"}, stems: []string{"bmw", "charg"}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := search.Result{
		Hits: []search.Hit{
			{
				ID:           "p1",
				TitleSnippet: "周末" + ms + "BMW" + me + ms + "车友会" + me,
				BodySnippet:  "欢迎" + ms + "BMW" + me + ms + "车友会" + me + "的朋友…",
			},
			{
				ID:           "p2",
				TitleSnippet: "通知",
				BodySnippet:  "很长的开头。我们明天一起去" + ms + "车友会" + me + "。",
			},
			{
				ID:           "p3",
				TitleSnippet: ms + "Charged" + me + " overnight",
				BodySnippet:  "…goes on. Then we " + ms + "charged" + me + " the car. The road goes on. The road goes on. The…",
			},
		},
		Total:      42,
		TotalExact: false,
		Clubs:      []search.FacetCount{{Value: "c3", Count: 7}, {Value: "c1", Count: 3}, {Value: "c2", Count: 3}},
		Tags:       []search.FacetCount{{Value: "suv", Count: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resultOf mismatch (-want +got):\n%s", diff)
	}

	t.Run("limit zero drops the hit asked for", func(t *testing.T) {
		got, err := resultOf(resp, terms{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Hits) != 0 || got.Total != 42 {
			t.Errorf("got %d hits, total %d; want 0 hits, total 42", len(got.Hits), got.Total)
		}
	})
}

func TestFacetCountsKeepsMaxFacets(t *testing.T) {
	m := map[string]int{}
	for i := range search.MaxFacets + 5 {
		m[string(rune('a'+i))] = 1
	}
	got := facetCounts(m)
	if len(got) != search.MaxFacets || got[0].Value != "a" {
		t.Errorf("got %d values starting at %q, want %d starting at %q", len(got), got[0].Value, search.MaxFacets, "a")
	}
}

func TestDocumentOf(t *testing.T) {
	created := time.Date(2024, 5, 1, 8, 30, 0, 123456789, time.UTC)
	got := documentOf(search.Document{
		ID: "p1", Version: 3, ClubID: "c1", BrandID: "b1", AuthorID: "m1",
		Title: "待处理" + ms + "事项" + me + " Charging", Body: "BMW车友会: spare batteries, 2 chargers.",
		Tags:      []string{"新能源", "road trips"},
		CreatedAt: created, Engagement: 9, Visible: true, Private: true,
	})
	want := document{
		ID: "p1", Version: 3, ClubID: "c1", BrandID: "b1", AuthorID: "m1",
		Title: "待处理事项 Charging", Body: "BMW车友会: spare batteries, 2 chargers.", Tags: []string{"新能源", "road trips"},
		Created: created.UnixMilli(), Engagement: 9, Visible: true, Private: true,
		TitleGrams: "待处 处理 理事 事项 . 待 处 理 事 项", TagGrams: "新能 能源 . 新 能 源", BodyGrams: "车友 友会 . 车 友 会",
		TitleStems: "charg", TagStems: "road trip", BodyStems: "bmw spare batteri charger",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documentOf mismatch (-want +got):\n%s", diff)
	}
	tomb := documentOf(search.Document{ID: "p2", Version: 5})
	if tomb.Tags == nil || len(tomb.Tags) != 0 {
		t.Errorf("tombstone tags = %#v, want an empty list", tomb.Tags)
	}
}

func TestSettings(t *testing.T) {
	s := settings()
	// Each field derived from a text is searched right after it, title before tags
	// before body, so that the attribute rule ranks a title match first however it matched.
	want := []string{
		"title", "titleGrams", "titleStems", "tags", "tagGrams", "tagStems", "body", "bodyGrams", "bodyStems",
	}
	if diff := cmp.Diff(want, s.SearchableAttributes); diff != "" {
		t.Errorf("searchableAttributes mismatch (-want +got):\n%s", diff)
	}
	// Every searchable field is segmented as the query is.
	wantLocales := []*meilisearch.LocalizedAttributes{{Locales: []string{"cmn"}, AttributePatterns: want}}
	if diff := cmp.Diff(wantLocales, s.LocalizedAttributes); diff != "" {
		t.Errorf("localizedAttributes mismatch (-want +got):\n%s", diff)
	}
	wantTypos := &meilisearch.TypoTolerance{
		Enabled:             true,
		MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 6, TwoTypos: 9},
	}
	if diff := cmp.Diff(wantTypos, s.TypoTolerance); diff != "" {
		t.Errorf("typoTolerance mismatch (-want +got):\n%s", diff)
	}
	if s.PrefixSearch == nil || *s.PrefixSearch != "disabled" {
		t.Errorf("prefixSearch = %v, want disabled", s.PrefixSearch)
	}
	// The settings are sent as JSON: the new fields must be in it under their names.
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"titleStems"`, `"tagStems"`, `"bodyStems"`, `"prefixSearch":"disabled"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("settings JSON %s lacks %s", raw, field)
		}
	}
}
