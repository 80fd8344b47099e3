package meiliindex

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/meilisearch/meilisearch-go"

	"quanzi/search"
)

// Exact Chinese words. A query's Han run is sent as a phrase of its bigrams, and
// Meilisearch checks a phrase by pairs of its words: that each pair (within three words of
// each other) stands at the right distance somewhere in the document. For a run of four
// characters or more the pairs may come from different places: 业主委员会 is found in
// 业主委员们，主委员会议, and 四轮定位 in a post titled 四轮定检 whose body is 轮定位置在哪.
// The embedded engine finds a run only where it stands unbroken within one field, and so
// must this one: a search whose runs Meilisearch may piece together takes the hits of
// the whole window (search.MaxWindow) with their text, keeps those that hold every run
// unbroken in the title, the body or one tag, and pages through what it kept. The total
// and the facets leave out what it dropped; a second request, for the page's posts only,
// brings their snippets.

// Ranking by words. A relevance search with Han runs ranks its first search.RankWindow
// hits by search.Tier first (the whole run unbroken as a word of its own, then unbroken,
// then its words apart), and by Meilisearch's ranking within a tier. That too needs the
// text of the hits, and takes the same path, reading the hits up to the end of the page,
// at least RankWindow of them (the whole window when it checks them).

// minPieced is the length from which Meilisearch may piece a run together: a run of three
// characters is two bigrams, one pair, which it checks exactly.
const minPieced = 4

// pieced reports whether Meilisearch may find one of the runs where it does not stand
// unbroken.
func (t terms) pieced() bool {
	for _, run := range t.runs {
		if utf8.RuneCountInString(run) >= minPieced {
			return true
		}
	}
	return false
}

// heldBy reports whether every run stands unbroken within one of the texts.
func (t terms) heldBy(texts ...string) bool {
	for _, run := range t.runs {
		found := false
		for _, text := range texts {
			if strings.Contains(text, run) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// candidate is a hit of the window, with what checking and counting it needs.
type candidate struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Body   string   `json:"body"`
	Tags   []string `json:"tags"`
	ClubID string   `json:"clubId"`
}

// texts are the fields a run may stand in, each apart.
func (c candidate) texts() []string {
	return append([]string{c.Title, c.Body}, c.Tags...)
}

// searchChecked runs req, a search whose words Meilisearch may piece together or whose
// hits are ranked by runs, keeping only the hits that hold every word unbroken within one
// field, ordered by search.Tier of runs first (see above).
func (ix *Index) searchChecked(ctx context.Context, q search.Query, req *meilisearch.SearchRequest, qt terms, runs []string) (search.Result, error) {
	window := *req
	window.Offset, window.Limit = 0, int64(max(search.RankWindow, q.Offset+q.Limit))
	if qt.pieced() {
		// Every hit is checked, so that the total and the facets leave out all it drops.
		window.Limit = search.MaxWindow
	}
	window.AttributesToRetrieve = []string{fieldID, fieldTitle, fieldBody, fieldTags, fieldClubID}
	window.AttributesToHighlight, window.AttributesToCrop, window.CropLength = nil, nil, 0
	window.HighlightPreTag, window.HighlightPostTag = "", ""
	resp, err := ix.client.Index(ix.uid).SearchWithContext(ctx, window.Query, &window)
	if err != nil {
		return search.Result{}, err
	}
	var held, dropped []candidate
	for _, h := range resp.Hits {
		var c candidate
		if err := h.DecodeInto(&c); err != nil {
			return search.Result{}, fmt.Errorf("read hit: %w", err)
		}
		if qt.heldBy(c.texts()...) {
			held = append(held, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	order := search.ByTier(len(held), runs, func(i int) []string { return held[i].texts() })
	kept := make([]string, len(order))
	for i, h := range order {
		kept[i] = held[h].ID
	}
	res := search.Result{Total: max(0, int(resp.EstimatedTotalHits)-len(dropped))}
	if len(resp.FacetDistribution) > 0 {
		var dist map[string]map[string]int
		if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
			return search.Result{}, fmt.Errorf("read facets: %w", err)
		}
		for _, c := range dropped {
			uncount(dist[fieldClubID], c.ClubID)
			for _, tag := range c.Tags {
				uncount(dist[fieldTags], tag)
			}
		}
		res.Clubs, res.Tags = facetCounts(dist[fieldClubID]), facetCounts(dist[fieldTags])
	}
	page := kept[min(q.Offset, len(kept)):min(q.Offset+q.Limit, len(kept))]
	if len(page) == 0 {
		return res, nil
	}

	// The snippets of the page, in the page's order.
	snip := *req
	snip.Offset, snip.Limit, snip.Facets = 0, int64(len(page)), nil
	snip.Filter = fmt.Sprintf("(%s) AND %s", req.Filter, idsFilter(page))
	sresp, err := ix.client.Index(ix.uid).SearchWithContext(ctx, snip.Query, &snip)
	if err != nil {
		return search.Result{}, err
	}
	byID := make(map[string]meilisearch.Hit, len(sresp.Hits))
	for _, h := range sresp.Hits {
		var d struct {
			ID string `json:"id"`
		}
		if err := h.DecodeInto(&d); err != nil {
			return search.Result{}, fmt.Errorf("read hit: %w", err)
		}
		byID[d.ID] = h
	}
	ordered := &meilisearch.SearchResponse{}
	for _, id := range page {
		// A post changed between the two requests may be missing: it is left out.
		if h, ok := byID[id]; ok {
			ordered.Hits = append(ordered.Hits, h)
		}
	}
	hits, err := resultOf(ordered, qt, len(page))
	if err != nil {
		return search.Result{}, err
	}
	res.Hits = hits.Hits
	return res, nil
}

// uncount takes one off the count of value, dropping it at zero.
func uncount(counts map[string]int, value string) {
	if n, ok := counts[value]; ok {
		if n <= 1 {
			delete(counts, value)
		} else {
			counts[value] = n - 1
		}
	}
}
