package bleveindex

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	port "quanzi/search"
)

// searchRanked runs req, a relevance search with Han runs, ranking its first
// search.RankWindow hits by search.Tier first and by score within a tier: it reads the
// hits up to the end of the page, at least RankWindow of them, with their text, orders
// them, and asks again for the page's posts only, with their snippets. The total and the
// facets are the first search's.
func (s *shard) searchRanked(ctx context.Context, q port.Query, req *bleve.SearchRequest, runs []string) (port.Result, error) {
	window := *req
	window.From, window.Size = 0, max(port.RankWindow, q.Offset+q.Limit)
	window.Highlight = nil
	window.Fields = []string{fieldTitle, fieldBody, fieldTagText}
	res, err := s.idx.SearchInContext(ctx, &window)
	if err != nil {
		return port.Result{}, searchError(ctx, err)
	}
	order := port.ByTier(len(res.Hits), runs, func(i int) []string { return storedTexts(res.Hits[i]) })

	out := result(res)
	out.Hits = nil
	from, to := min(q.Offset, len(order)), min(q.Offset+q.Limit, len(order))
	if from == to {
		return out, nil
	}
	ids := make([]string, 0, to-from)
	for _, i := range order[from:to] {
		ids = append(ids, res.Hits[i].ID)
	}
	page := bleve.NewSearchRequestOptions(query.NewConjunctionQuery([]query.Query{req.Query, query.NewDocIDQuery(ids)}), len(ids), 0, false)
	page.Highlight = req.Highlight
	pres, err := s.idx.SearchInContext(ctx, page)
	if err != nil {
		return port.Result{}, searchError(ctx, err)
	}
	byID := make(map[string]port.Hit, len(ids))
	for _, h := range result(pres).Hits {
		byID[h.ID] = h
	}
	for _, id := range ids {
		if h, ok := byID[id]; ok {
			out.Hits = append(out.Hits, h)
		}
	}
	return out, nil
}

// storedTexts are the title, body and tags a hit was read with.
func storedTexts(h *search.DocumentMatch) []string {
	var texts []string
	for _, f := range []string{fieldTitle, fieldBody, fieldTagText} {
		switch v := h.Fields[f].(type) {
		case string:
			texts = append(texts, v)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					texts = append(texts, s)
				}
			}
		}
	}
	return texts
}

// searchError is the error of a failed search: the context's when it ended.
func searchError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("bleveindex: search: %w", err)
}
