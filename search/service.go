package search

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"quanzi/community"
)

// Service runs searches for callers: it asks the community for what the caller may see,
// has the engine search within it, and checks the hits against the store.
type Service struct {
	index     Index
	community *community.PostService
}

// NewService returns a Service over an index.
func NewService(idx Index, c *community.PostService) *Service {
	return &Service{index: idx, community: c}
}

// PostSearch is a search as a caller asks for it.
type PostSearch struct {
	Text   string
	Filter Filter
	Sort   Sort
	First  int
	// After is the cursor of the last hit of the previous page, or "".
	After string
	// SkipFacets leaves PostPage.Clubs and Tags empty, for callers that do not show them.
	SkipFacets bool
}

// FoundPost is a hit with its post, as the store has it now.
type FoundPost struct {
	Post         community.Post
	TitleSnippet string // HTML: escaped text, matched terms in <em>
	BodySnippet  string

	// The hit's cursor, encoded when read (see Cursor).
	community *community.PostService
	list      string
	offset    int
}

// Cursor returns the hit's cursor: encoded only when read, since encoding signs it and
// most pages are read without their hits' cursors.
func (f FoundPost) Cursor() string {
	if f.community == nil {
		return ""
	}
	return f.community.OffsetCursor(f.list, f.offset)
}

// PostPage is a page of hits.
type PostPage struct {
	Hits []FoundPost
	// StartCursor and EndCursor are the cursors of the page's first and last places ("" for
	// an empty page): a hit the store no longer shows leaves its place, not its cursor.
	StartCursor, EndCursor string
	HasNextPage            bool
	Total                  int
	TotalExact             bool
	Clubs, Tags            []FacetCount
}

// SearchPosts runs a post search for the caller. UNAUTHENTICATED without a token;
// BAD_USER_INPUT for a query too long, a bad sort, first out of 1–50, a cursor of another
// search, or filter values of the wrong shape.
func (s *Service) SearchPosts(ctx context.Context, in PostSearch) (PostPage, error) {
	q, err := s.query(in)
	if err != nil {
		return PostPage{}, err
	}
	scope, err := s.community.SearchScope(ctx)
	if err != nil {
		return PostPage{}, err
	}
	list := queryDigest(q)
	if in.After != "" {
		off, err := s.community.DecodeOffsetCursor(list, in.After)
		if err != nil {
			return PostPage{}, err
		}
		q.Offset = off + 1
	}
	if !narrow(&q, scope) {
		return PostPage{TotalExact: true}, nil
	}
	want := q.Limit
	if q.Offset >= MaxWindow {
		// Past the deepest page: no hits, but the total and facets still hold.
		q.Offset, want = 0, 0
	}
	// One more than asked, where the window allows, tells whether another page follows.
	q.Limit = min(want+1, MaxWindow-q.Offset)
	res, err := s.index.Search(ctx, q)
	if err != nil {
		return PostPage{}, err
	}
	page := PostPage{Total: res.Total, TotalExact: res.TotalExact, Clubs: res.Clubs, Tags: res.Tags}
	hits := res.Hits
	if len(hits) > want {
		hits, page.HasNextPage = hits[:want], true
	}
	if len(hits) > 0 {
		// The page's ends are where the engine's hits were, whether or not the store check
		// below keeps them, so that a page whose hits were all dropped still leads on.
		page.StartCursor = s.community.OffsetCursor(list, q.Offset)
		page.EndCursor = s.community.OffsetCursor(list, q.Offset+len(hits)-1)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	posts, err := s.community.VisiblePosts(ctx, ids)
	if err != nil {
		return PostPage{}, err
	}
	byID := make(map[string]community.Post, len(posts))
	for _, p := range posts {
		byID[p.ID] = p
	}
	for i, h := range hits {
		p, ok := byID[h.ID]
		if !ok {
			continue
		}
		page.Hits = append(page.Hits, FoundPost{
			Post: p, TitleSnippet: HTML(h.TitleSnippet), BodySnippet: HTML(h.BodySnippet),
			community: s.community, list: list, offset: q.Offset + i,
		})
	}
	return page, nil
}

// Limits of a post search.
const (
	DefaultFirst = 20
	MaxFirst     = 50
	// maxFilterValues bounds each list of a filter.
	maxFilterValues = 50
)

// query checks a search and turns it into the engine's query, scope not yet applied.
func (s *Service) query(in PostSearch) (Query, error) {
	text, err := community.CheckSearchText(in.Text)
	if err != nil {
		return Query{}, err
	}
	switch in.Sort {
	case "":
		in.Sort = SortRelevance
	case SortRelevance, SortNewest, SortMostEngaged:
	default:
		return Query{}, badInput("sort", "unknown sort %q", in.Sort)
	}
	if in.First < 1 || in.First > MaxFirst {
		return Query{}, badInput("first", "first must be between 1 and %d", MaxFirst)
	}
	f := in.Filter
	for name, ids := range map[string][]string{"filter.clubIds": f.ClubIDs, "filter.brandIds": f.BrandIDs} {
		if len(ids) > maxFilterValues {
			return Query{}, badInput(name, "at most %d values", maxFilterValues)
		}
		for _, id := range ids {
			if !community.ValidID(id) {
				return Query{}, badInput(name, "%q is not an id", id)
			}
		}
	}
	if f.AuthorID != "" && !community.ValidID(f.AuthorID) {
		return Query{}, badInput("filter.authorId", "%q is not an id", f.AuthorID)
	}
	if len(f.Tags) > maxFilterValues {
		return Query{}, badInput("filter.tags", "at most %d values", maxFilterValues)
	}
	tags := make([]string, 0, len(f.Tags))
	for _, t := range f.Tags {
		if t = community.NormalizeTag(t); utf8.RuneCountInString(t) > community.MaxTag || !utf8.ValidString(t) {
			return Query{}, badInput("filter.tags", "a tag is at most %d characters", community.MaxTag)
		}
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	f.Tags = tags
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Query{}, badInput("filter.to", "to must be after from")
	}
	return Query{Text: text, Filter: f, Sort: in.Sort, Limit: in.First, SkipFacets: in.SkipFacets}, nil
}

// narrow applies a caller's scope to a query. It reports false when the scope leaves
// nothing to find.
func narrow(q *Query, scope community.PostScope) bool {
	q.Scope = Scope{All: scope.All, ClubIDs: scope.ClubIDs, BrandIDs: scope.BrandIDs, HiddenClubIDs: scope.HiddenClubIDs}
	if scope.All || scope.Public {
		return true
	}
	// Without public clubs the scope is its brands' clubs only: a filter on those brands.
	if len(scope.BrandIDs) == 0 {
		return false
	}
	if len(q.Filter.BrandIDs) == 0 {
		q.Filter.BrandIDs = scope.BrandIDs
		return true
	}
	var both []string
	for _, b := range q.Filter.BrandIDs {
		if slices.Contains(scope.BrandIDs, b) {
			both = append(both, b)
		}
	}
	q.Filter.BrandIDs = both
	return len(both) > 0
}

// queryDigest names the list of hits of a query, for its cursors: the same text, filter
// and sort give the same list.
func queryDigest(q Query) string {
	b, _ := json.Marshal(struct {
		Text     string
		Filter   Filter
		Sort     Sort
		From, To int64
	}{q.Text, q.Filter, q.Sort, unixOrZero(q.Filter.From), unixOrZero(q.Filter.To)})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func badInput(field, format string, args ...any) error {
	e := community.Errorf(community.CodeBadUserInput, format, args...)
	e.Field = field
	return e
}
