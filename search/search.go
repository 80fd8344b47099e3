// Package search finds posts: the port every search engine adapter implements, the query
// model, the handler of the search consumer's outbox events (run by a community.Relay under
// a lease), and the rebuild that fills a new index from the store. Engines live in
// subpackages (bleveindex, meiliindex); searchtest is the contract suite they all pass.
package search

import (
	"context"
	"html"
	"strings"
	"time"

	"quanzi/community"
)

// Document is what the index holds of a post. Every post is indexed, deleted ones too, as
// a tombstone (Visible false, no text): a tombstone keeps its version, so an older event
// delivered late cannot bring the post back.
type Document struct {
	ID       string
	Version  int64
	ClubID   string
	BrandID  string // the club's host brand, or ""
	AuthorID string
	Title    string
	Body     string
	Tags     []string
	// CreatedAt is kept to the second or finer; engines may round it to the millisecond.
	CreatedAt  time.Time
	Engagement int
	// Visible is false for posts that are not listed (see community.Post.Listed): searches
	// never return them.
	Visible bool
	// Private is true when the post's club is PRIVATE: searches return it only to callers
	// whose Scope names the club or its brand.
	Private bool
}

// DocumentOf is the document of a post in its club.
func DocumentOf(p community.Post, c community.Club) Document {
	d := Document{
		ID: p.ID, Version: p.Version, ClubID: p.ClubID, BrandID: c.BrandID, AuthorID: p.AuthorID,
		CreatedAt: p.CreatedAt, Engagement: p.Engagement(),
		Visible: p.Listed(), Private: c.Visibility == community.VisibilityPrivate,
	}
	if d.Visible {
		d.Title, d.Body, d.Tags = p.Title, p.Body, p.Tags
	}
	return d
}

// Sort orders hits.
type Sort string

// The orders of hits. Ties are broken by newest first, then by id.
const (
	SortRelevance   Sort = "RELEVANCE"
	SortNewest      Sort = "NEWEST"
	SortMostEngaged Sort = "MOST_ENGAGED"
)

// Filter narrows a search; empty fields do not narrow it. Values of one list are
// alternatives (any club of ClubIDs); the fields together must all hold.
type Filter struct {
	ClubIDs  []string
	BrandIDs []string
	// Tags are normalised (community.NormalizeTag) by the caller.
	Tags     []string
	AuthorID string
	// From and To bound CreatedAt: From inclusive, To exclusive; zero is unbounded.
	From, To time.Time
}

// Source is what search reads of the graph store: the posts it indexes and their clubs,
// and its consumer's queue in the outbox.
type Source interface {
	PostsByID(ctx context.Context, ids []string) (map[string]community.Post, error)
	ScanPosts(ctx context.Context, afterID string, limit int) ([]community.Post, error)
	ClubsByID(ctx context.Context, ids []string) (map[string]community.Club, error)
	ClubPosts(ctx context.Context, q community.PostQuery, reqs []community.ClubPostsRequest) ([]community.PostPage, error)
	community.Outbox
}

// Scope is what a caller may find, from community.PostService.SearchScope: every visible post
// when All; otherwise visible posts of public clubs, plus those of the clubs in ClubIDs
// and of the clubs hosted by the brands in BrandIDs. The posts of the clubs in
// HiddenClubIDs are not public, whatever their documents say: those clubs turned private
// and their documents wait for the relay. Hits, totals and facets leave them out alike.
type Scope struct {
	All           bool
	ClubIDs       []string
	BrandIDs      []string
	HiddenClubIDs []string
}

// Query is one search, as the engine runs it.
type Query struct {
	// Text is what the caller typed: Chinese, English or both, one or more words. Empty
	// matches every post the filter and scope let through.
	Text   string
	Filter Filter
	Scope  Scope
	Sort   Sort
	// Offset and Limit page through the hits; Offset+Limit is at most MaxWindow.
	Offset int
	Limit  int
	// SkipFacets leaves Result.Clubs and Result.Tags empty, for callers that do not show
	// them: counting them costs a look at every hit.
	SkipFacets bool
}

// MaxWindow is how deep a search pages: Offset+Limit never exceeds it (Meilisearch's
// default maxTotalHits is the same).
const MaxWindow = 1000

// MaxFacets is how many values each facet lists, the most frequent first.
const MaxFacets = 20

// Hit is one post found, with snippets of its title and body in which the matched terms
// are marked between MarkStart and MarkEnd (see HTML).
type Hit struct {
	ID           string
	TitleSnippet string
	BodySnippet  string
}

// FacetCount is how many hits share one value of a facet.
type FacetCount struct {
	Value string
	Count int
}

// Result is a page of hits, with the total and facets over every hit of the query.
type Result struct {
	Hits  []Hit
	Total int
	// TotalExact is false when Total is the engine's estimate.
	TotalExact bool
	// Clubs and Tags count the hits by club id and by tag, the most frequent first (then
	// by value), at most MaxFacets each.
	Clubs []FacetCount
	Tags  []FacetCount
}

// Index is a search engine's index of posts. Only the relay and Rebuild write to it.
type Index interface {
	// Apply writes documents. A document whose id the index holds at a greater version is
	// skipped, so delivery may repeat and arrive out of order; an equal version is
	// written again. The writes are searchable when Apply returns.
	Apply(ctx context.Context, docs []Document) error
	// Search runs a query. BAD_USER_INPUT for a query the engine cannot run.
	Search(ctx context.Context, q Query) (Result, error)
	// Versions returns the versions the index holds of the given ids; absent ids are left out.
	Versions(ctx context.Context, ids []string) (map[string]int64, error)
	// Rebuild starts building a new index beside the live one, with the same settings;
	// the live one keeps serving until the new one is switched in.
	Rebuild(ctx context.Context) (Build, error)
	// Ping reports whether the engine answers.
	Ping(ctx context.Context) error
	// Close releases the index.
	Close() error
}

// Outdated is implemented by indexes that can tell that the live index was built with other
// settings than the code's (an analyzer changed, say) and needs a rebuild to apply them;
// the server starts one at start-up.
type Outdated interface {
	Outdated() bool
}

// Build is a new index being filled by Rebuild.
type Build interface {
	// Apply writes documents to the new index, as Index.Apply does.
	Apply(ctx context.Context, docs []Document) error
	// Switch makes the new index the live one and drops the old one.
	Switch(ctx context.Context) error
	// Discard drops the new index, leaving the live one as it was.
	Discard(ctx context.Context) error
}

// Markers around a matched term in a snippet. They are Unicode private-use characters, which
// posts do not contain (Clean strips them), so they survive escaping.
const (
	MarkStart = "\ue000"
	MarkEnd   = "\ue001"
)

// Clean removes the snippet markers from text an engine is about to index.
func Clean(s string) string {
	if !strings.ContainsAny(s, MarkStart+MarkEnd) {
		return s
	}
	return strings.NewReplacer(MarkStart, "", MarkEnd, "").Replace(s)
}

// HTML turns a marked snippet into HTML: the text escaped, each matched term in <em>.
func HTML(snippet string) string {
	s := html.EscapeString(snippet)
	return strings.NewReplacer(MarkStart, "<em>", MarkEnd, "</em>").Replace(s)
}
