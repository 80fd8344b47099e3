// Package meiliindex is the production search engine: a search.Index over Meilisearch
// (v1 API, v1.12 or later for the prefixSearch setting), through the meilisearch-go
// client. It stays thin: settings, documents, filters and queries map one to one onto
// Meilisearch's documented API. The additions are two kinds of derived fields, written
// beside each text and searched through rewritten query words (see text.go): bigram fields
// that let Chinese substrings be found, and English stem fields that let a word find its
// other forms, since Meilisearch does not stem. Snippets are marked again after the search
// for what was matched through them, and hits of a long Chinese run are checked against
// their text, since Meilisearch may piece a phrase together (see checked.go).
package meiliindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"quanzi/community"
	"quanzi/search"
)

var _ search.Index = (*Index)(nil)

// Config says where the Meilisearch server is and which index holds the posts.
type Config struct {
	// URL of the server, e.g. http://localhost:7700.
	URL string
	// Key is an API key allowed to manage indexes, settings, documents and tasks; empty
	// for a server without a master key.
	Key string
	// Index is the uid of the live index; "posts" when empty.
	Index string
	// Logger receives the start-up lines; none when nil.
	Logger *slog.Logger
}

// DefaultIndex is the uid of the live index when Config.Index is empty.
const DefaultIndex = "posts"

// Index is the posts index on a Meilisearch server.
type Index struct {
	client meilisearch.ServiceManager
	// httpClient is the HTTP client under client (see newHTTPClient).
	httpClient *http.Client
	uid        string
	log        *slog.Logger
}

// newHTTPClient is the HTTP client the Meilisearch client sends its requests through. Its
// transport asks for no compression. Go's transport asks for gzip by default, and
// Meilisearch then answers any response of more than about 1 KB compressed and chunked,
// which took about 44 ms on loopback where the same response uncompressed took about 1 ms:
// searches with many hits and the reads of stored versions all paid it. Between a service
// and its search engine the bytes saved are not worth it. The idle pool per host is the
// one meilisearch-go's own transport keeps, not Go's default of 2, so that concurrent
// requests reuse their connections.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 100
	return &http.Client{Transport: t}
}

// Open connects to the server, checks its health, creates the index if it is absent and
// applies the settings (again, harmlessly, if they are already there). An unreachable
// server is an error: the caller asked for Meilisearch, so it must not start without it.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.URL == "" {
		return nil, errors.New("meiliindex: open: no URL")
	}
	uid := cfg.Index
	if uid == "" {
		uid = DefaultIndex
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hc := newHTTPClient()
	ix := &Index{
		client:     meilisearch.New(cfg.URL, meilisearch.WithAPIKey(cfg.Key), meilisearch.WithCustomClient(hc)),
		httpClient: hc,
		uid:        uid,
		log:        log,
	}
	if err := ix.health(ctx); err != nil {
		return nil, fmt.Errorf("meiliindex: open: %w", err)
	}
	if err := ix.prepare(ctx, uid); err != nil {
		return nil, fmt.Errorf("meiliindex: open: %w", err)
	}
	log.Info("meiliindex: index ready", "url", cfg.URL, "index", uid)
	return ix, nil
}

// The document fields, as Meilisearch stores them.
const (
	fieldID         = "id"
	fieldTitle      = "title"
	fieldBody       = "body"
	fieldTags       = "tags"
	fieldTitleGrams = "titleGrams"
	fieldTagGrams   = "tagGrams"
	fieldBodyGrams  = "bodyGrams"
	fieldTitleStems = "titleStems"
	fieldTagStems   = "tagStems"
	fieldBodyStems  = "bodyStems"
	fieldClubID     = "clubId"
)

// document is a search.Document as Meilisearch stores it. Documents written before a
// derived field existed lack it, and are not found through it, until the index is rebuilt.
type document struct {
	ID       string   `json:"id"`
	Version  int64    `json:"version"`
	ClubID   string   `json:"clubId"`
	BrandID  string   `json:"brandId"`
	AuthorID string   `json:"authorId"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Tags     []string `json:"tags"`
	// Created is in Unix milliseconds: filters and sorts compare numbers.
	Created    int64 `json:"created"`
	Engagement int   `json:"engagement"`
	Visible    bool  `json:"visible"`
	Private    bool  `json:"private"`
	// The bigrams and the English stems of each searchable text (see text.go), one field
	// per text, so that the attribute ranking rule still ranks a title match above a body
	// match for a run or a stem.
	TitleGrams string `json:"titleGrams"`
	TagGrams   string `json:"tagGrams"`
	BodyGrams  string `json:"bodyGrams"`
	TitleStems string `json:"titleStems"`
	TagStems   string `json:"tagStems"`
	BodyStems  string `json:"bodyStems"`
}

// documentOf converts a document, cleaning its text of snippet markers.
func documentOf(d search.Document) document {
	tags := make([]string, len(d.Tags))
	for i, t := range d.Tags {
		tags[i] = search.Clean(t)
	}
	title, body := search.Clean(d.Title), search.Clean(d.Body)
	return document{
		ID: d.ID, Version: d.Version, ClubID: d.ClubID, BrandID: d.BrandID, AuthorID: d.AuthorID,
		Title: title, Body: body, Tags: tags,
		Created: d.CreatedAt.UnixMilli(), Engagement: d.Engagement,
		Visible: d.Visible, Private: d.Private,
		TitleGrams: grams(title), TagGrams: grams(tags...), BodyGrams: grams(body),
		TitleStems: stems(title), TagStems: stems(tags...), BodyStems: stems(body),
	}
}

// facetValues is how many values Meilisearch returns per facet, the most frequent first:
// far more than search.MaxFacets, so that values tied at Meilisearch's cut, whose order
// among themselves its documentation leaves open, are all here to be ordered by value.
const facetValues = 1000

// chinese is the locale of the searchable text. Left to itself Meilisearch guesses the
// language of each text, and may take a short run of Han characters for Japanese and
// segment it so; naming the locale keeps posts and queries segmented alike.
const chinese = "cmn"

// searchable lists the searchable fields in the order the attribute ranking rule ranks
// them: the title and the fields derived from it first, then the tags, then the body.
var searchable = []string{
	fieldTitle, fieldTitleGrams, fieldTitleStems,
	fieldTags, fieldTagGrams, fieldTagStems,
	fieldBody, fieldBodyGrams, fieldBodyStems,
}

// prefixSearchDisabled is the prefixSearch setting that turns prefix search off.
const prefixSearchDisabled = "disabled"

// settings are the index settings, applied with one PATCH.
func settings() *meilisearch.Settings {
	prefix := prefixSearchDisabled
	return &meilisearch.Settings{
		SearchableAttributes: slices.Clone(searchable),
		// id is filterable for Versions, which reads the stored versions with a filter.
		FilterableAttributes: []string{fieldID, fieldClubID, "brandId", fieldTags, "authorId", "created", "visible", "private"},
		SortableAttributes:   []string{"created", "engagement", fieldID},
		// Meilisearch's built-in rules in their default order, except sort, which comes
		// first: a NEWEST or MOST_ENGAGED search is ordered by its sort alone, not by
		// relevance first, while a RELEVANCE search, which sends no sort, is untouched by
		// it. The two custom rules at the end are the port's tie-break, newest then id.
		// ("attribute" is kept as a deprecated alias by versions that split it in two.)
		RankingRules: []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "created:desc", "id:asc"},
		// Counted on the words sent, which for English are stems (see text.go).
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled:             true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: oneTypo, TwoTypos: twoTypos},
		},
		// A query's words match whole words, as in every engine: the English ones are
		// stems, and a prefix of a stem says little ("elev", of elevators, begins
		// "eleven"); a Han run is a phrase, and a single Han character matches the single
		// characters of the bigram fields.
		PrefixSearch: &prefix,
		Pagination:   &meilisearch.Pagination{MaxTotalHits: search.MaxWindow},
		Faceting: &meilisearch.Faceting{
			MaxValuesPerFacet: facetValues,
			// By count, so that the values cut off are the rarest, not the last in
			// alphabetical order.
			SortFacetValuesBy: map[string]meilisearch.SortFacetType{"*": meilisearch.SortFacetTypeCount},
		},
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{{
			Locales:           []string{chinese},
			AttributePatterns: slices.Clone(searchable),
		}},
	}
}

// prepare creates the index uid if it is absent and applies the settings.
func (ix *Index) prepare(ctx context.Context, uid string) error {
	if _, err := ix.client.GetIndexWithContext(ctx, uid); err != nil {
		if apiCode(err) != "index_not_found" {
			return fmt.Errorf("get index %q: %w", uid, err)
		}
		task, err := ix.client.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: uid, PrimaryKey: fieldID})
		if err != nil {
			return fmt.Errorf("create index %q: %w", uid, err)
		}
		// Another instance may have created it meanwhile: that is as good.
		if err := ix.wait(ctx, task); err != nil && apiCode(err) != "index_already_exists" {
			return fmt.Errorf("create index %q: %w", uid, err)
		}
		ix.log.Info("meiliindex: created index", "index", uid)
	}
	task, err := ix.client.Index(uid).UpdateSettingsWithContext(ctx, settings())
	if err != nil {
		return fmt.Errorf("update settings of %q: %w", uid, err)
	}
	if err := ix.wait(ctx, task); err != nil {
		return fmt.Errorf("update settings of %q: %w", uid, err)
	}
	return nil
}

// taskError is a Meilisearch task that did not succeed.
type taskError struct {
	uid                 int64
	status, code, cause string
}

func (e *taskError) Error() string {
	return fmt.Sprintf("task %d %s: %s (%s)", e.uid, e.status, e.cause, e.code)
}

// pollInterval is how often a task's status is read while waiting for it.
const pollInterval = 20 * time.Millisecond

// wait waits until a task is done, and fails unless it succeeded. Meilisearch applies
// every write asynchronously; waiting is what makes a write searchable when it returns.
func (ix *Index) wait(ctx context.Context, info *meilisearch.TaskInfo) error {
	task, err := ix.client.WaitForTaskWithContext(ctx, info.TaskUID, pollInterval)
	if err != nil {
		return fmt.Errorf("wait for task %d: %w", info.TaskUID, err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return &taskError{uid: info.TaskUID, status: string(task.Status), code: task.Error.Code, cause: task.Error.Message}
	}
	return nil
}

// apiCode is the Meilisearch error code of err ("index_not_found", …), from a failed
// request or a failed task, or "".
func apiCode(err error) string {
	var me *meilisearch.Error
	if errors.As(err, &me) {
		return me.MeilisearchApiError.Code
	}
	var te *taskError
	if errors.As(err, &te) {
		return te.code
	}
	return ""
}

// Apply writes documents to the live index; see search.Index.
func (ix *Index) Apply(ctx context.Context, docs []search.Document) error {
	if err := ix.apply(ctx, ix.uid, docs); err != nil {
		return fmt.Errorf("meiliindex: apply: %w", err)
	}
	return nil
}

// apply writes documents to index uid, skipping those the index holds at a greater
// version. Meilisearch has no conditional write, so the check is a read followed by a
// write: sound because only one writer runs at a time, the relay under its lease or a
// rebuild on its own new index.
func (ix *Index) apply(ctx context.Context, uid string, docs []search.Document) error {
	if len(docs) == 0 {
		return nil
	}
	// Of one id twice in a batch, the greater version wins (the later, if equal), as if
	// the two had been applied one after the other.
	latest := make(map[string]search.Document, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		prev, seen := latest[d.ID]
		if !seen {
			ids = append(ids, d.ID)
		}
		if !seen || d.Version >= prev.Version {
			latest[d.ID] = d
		}
	}
	stored, err := ix.versions(ctx, uid, ids)
	if err != nil {
		return err
	}
	out := make([]document, 0, len(ids))
	for _, id := range ids {
		d := latest[id]
		if v, ok := stored[id]; ok && v > d.Version {
			continue
		}
		out = append(out, documentOf(d))
	}
	if len(out) == 0 {
		return nil
	}
	pk := fieldID
	task, err := ix.client.Index(uid).AddDocumentsWithContext(ctx, out, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err != nil {
		return fmt.Errorf("add %d documents to %q: %w", len(out), uid, err)
	}
	if err := ix.wait(ctx, task); err != nil {
		return fmt.Errorf("add %d documents to %q: %w", len(out), uid, err)
	}
	return nil
}

// Versions returns the versions the live index holds of ids; see search.Index.
func (ix *Index) Versions(ctx context.Context, ids []string) (map[string]int64, error) {
	v, err := ix.versions(ctx, ix.uid, ids)
	if err != nil {
		return nil, fmt.Errorf("meiliindex: versions: %w", err)
	}
	return v, nil
}

// versionsChunk is how many ids one request asks for, to keep each filter short.
const versionsChunk = 200

// versions reads the stored versions of ids from index uid.
func (ix *Index) versions(ctx context.Context, uid string, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	var unique []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	for chunk := range slices.Chunk(unique, versionsChunk) {
		var res meilisearch.DocumentsResult
		q := &meilisearch.DocumentsQuery{
			Filter: idsFilter(chunk),
			Fields: []string{fieldID, "version"},
			Limit:  int64(len(chunk)),
		}
		if err := ix.client.Index(uid).GetDocumentsWithContext(ctx, q, &res); err != nil {
			return nil, fmt.Errorf("get %d documents from %q: %w", len(chunk), uid, err)
		}
		for _, hit := range res.Results {
			var d struct {
				ID      string `json:"id"`
				Version int64  `json:"version"`
			}
			if err := hit.DecodeInto(&d); err != nil {
				return nil, fmt.Errorf("read documents from %q: %w", uid, err)
			}
			out[d.ID] = d.Version
		}
	}
	return out, nil
}

// Body snippets are cropped to about this many words around the matches.
const cropLength = 40

// facetsOf are the facets a search counts: none when the caller skips them.
func facetsOf(q search.Query) []string {
	if q.SkipFacets {
		return nil
	}
	return facetAttributes
}

// facetAttributes are the facets a search counts.
var facetAttributes = []string{fieldClubID, fieldTags}

// badQuery is the error a client sees for a query Meilisearch refuses.
func badQuery(message string) *community.Error {
	return &community.Error{Code: community.CodeBadUserInput, Message: message}
}

// Search runs a query on the live index; see search.Index.
func (ix *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	req, qt, err := searchRequest(q)
	if err != nil {
		return search.Result{}, fmt.Errorf("meiliindex: search: %w", err)
	}
	var res search.Result
	if runs := search.RankedRuns(q); qt.pieced() || len(runs) > 0 {
		res, err = ix.searchChecked(ctx, q, req, qt, runs)
	} else {
		res, err = ix.searchPage(ctx, req, qt, q.Limit)
	}
	if err != nil {
		if userFault(err) {
			// Both errors are kept: the code and message for the client, the detail for
			// the log.
			return search.Result{}, fmt.Errorf("meiliindex: search: %w: %w", badQuery("the search cannot be run"), err)
		}
		return search.Result{}, fmt.Errorf("meiliindex: search: %w", err)
	}
	return res, nil
}

// searchPage runs req, whose hits are the page asked for.
func (ix *Index) searchPage(ctx context.Context, req *meilisearch.SearchRequest, qt terms, limit int) (search.Result, error) {
	resp, err := ix.client.Index(ix.uid).SearchWithContext(ctx, req.Query, req)
	if err != nil {
		return search.Result{}, err
	}
	return resultOf(resp, qt, limit)
}

// searchRequest is the Meilisearch search of a query, with the terms (words of Han runs
// and Latin stems) its text was rewritten to. BAD_USER_INPUT for a page outside the window, an
// unknown order or too many words.
func searchRequest(q search.Query) (*meilisearch.SearchRequest, terms, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Offset+q.Limit > search.MaxWindow {
		return nil, terms{}, badQuery(fmt.Sprintf("a page must lie within the first %d hits", search.MaxWindow))
	}
	sort, err := sortOf(q.Sort)
	if err != nil {
		return nil, terms{}, err
	}
	text, qt, err := queryText(q.Text)
	if err != nil {
		return nil, terms{}, err
	}
	limit := int64(q.Limit)
	if limit == 0 {
		// The client leaves out a zero limit, and Meilisearch's default is 20: ask for
		// one hit, which resultOf drops.
		limit = 1
	}
	req := &meilisearch.SearchRequest{
		Query:  text,
		Offset: int64(q.Offset),
		Limit:  limit,
		Filter: filterOf(q.Filter, q.Scope),
		Sort:   sort,
		Facets: facetsOf(q),
		// Every query word must match, in every engine alike; Meilisearch's default
		// ("last") would drop words from the end until something matches.
		MatchingStrategy:      meilisearch.All,
		AttributesToRetrieve:  []string{fieldID},
		AttributesToHighlight: []string{fieldTitle, fieldBody},
		AttributesToCrop:      []string{fieldBody},
		CropLength:            cropLength,
		HighlightPreTag:       search.MarkStart,
		HighlightPostTag:      search.MarkEnd,
		Locales:               []string{chinese},
	}
	if !qt.empty() {
		// The whole body, to cut a snippet around a match if Meilisearch's crop missed it.
		req.AttributesToRetrieve = append(req.AttributesToRetrieve, fieldBody)
	}
	return req, qt, nil
}

// userFault reports whether Meilisearch refused a search for what it asked (its filter,
// sort, query or page), rather than failing to run it.
func userFault(err error) bool {
	var me *meilisearch.Error
	if !errors.As(err, &me) {
		return false
	}
	switch me.MeilisearchApiError.Code {
	case "invalid_search_q", "invalid_search_filter", "invalid_search_sort",
		"invalid_search_offset", "invalid_search_limit":
		return true
	}
	return false
}

// resultOf converts a search response, marking in the snippets what the terms match;
// limit is the query's, so that the hit asked for in place of none is dropped.
func resultOf(resp *meilisearch.SearchResponse, qt terms, limit int) (search.Result, error) {
	res := search.Result{Total: int(resp.EstimatedTotalHits), TotalExact: false}
	hits := resp.Hits
	if len(hits) > limit {
		hits = hits[:limit]
	}
	for _, h := range hits {
		var d struct {
			ID        string `json:"id"`
			Body      string `json:"body"`
			Formatted struct {
				Title string `json:"title"`
				Body  string `json:"body"`
			} `json:"_formatted"`
		}
		if err := h.DecodeInto(&d); err != nil {
			return search.Result{}, fmt.Errorf("read hit: %w", err)
		}
		body := markTerms(d.Formatted.Body, qt)
		if !qt.empty() && !strings.Contains(body, search.MarkStart) {
			if w, ok := cropAround(d.Body, qt); ok {
				body = markTerms(w, qt)
			}
		}
		res.Hits = append(res.Hits, search.Hit{
			ID:           d.ID,
			TitleSnippet: markTerms(d.Formatted.Title, qt),
			BodySnippet:  body,
		})
	}
	if len(resp.FacetDistribution) > 0 {
		var dist map[string]map[string]int
		if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
			return search.Result{}, fmt.Errorf("read facets: %w", err)
		}
		res.Clubs = facetCounts(dist[fieldClubID])
		res.Tags = facetCounts(dist[fieldTags])
	}
	return res, nil
}

// facetCounts orders a facet's counts, the most frequent first and then by value, and
// keeps search.MaxFacets of them.
func facetCounts(m map[string]int) []search.FacetCount {
	if len(m) == 0 {
		return nil
	}
	out := make([]search.FacetCount, 0, len(m))
	for v, n := range m {
		out = append(out, search.FacetCount{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b search.FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(out) > search.MaxFacets {
		out = out[:search.MaxFacets]
	}
	return out
}

// Rebuild creates a new index beside the live one, named after it and the time, with the
// same settings; see search.Index.
func (ix *Index) Rebuild(ctx context.Context) (search.Build, error) {
	uid := fmt.Sprintf("%s_%d", ix.uid, time.Now().UnixNano())
	if err := ix.prepare(ctx, uid); err != nil {
		return nil, fmt.Errorf("meiliindex: rebuild: %w", err)
	}
	ix.log.Info("meiliindex: rebuilding", "index", ix.uid, "into", uid)
	return &build{ix: ix, uid: uid}, nil
}

// build is a new index being filled; after Switch its uid names the old contents, which
// Switch deletes.
type build struct {
	ix       *Index
	uid      string
	switched bool
}

// Apply writes documents to the new index.
func (b *build) Apply(ctx context.Context, docs []search.Document) error {
	if b.switched {
		return fmt.Errorf("meiliindex: rebuild %q: apply after switch", b.uid)
	}
	if err := b.ix.apply(ctx, b.uid, docs); err != nil {
		return fmt.Errorf("meiliindex: rebuild %q: apply: %w", b.uid, err)
	}
	return nil
}

// Switch swaps the new index with the live one, atomically for searches, then deletes
// the old contents, which the swap left under the new index's uid. Called again after a
// failed delete, it only retries the delete.
func (b *build) Switch(ctx context.Context) error {
	if !b.switched {
		task, err := b.ix.client.SwapIndexesWithContext(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{b.ix.uid, b.uid}}})
		if err != nil {
			return fmt.Errorf("meiliindex: rebuild %q: swap with %q: %w", b.uid, b.ix.uid, err)
		}
		if err := b.ix.wait(ctx, task); err != nil {
			return fmt.Errorf("meiliindex: rebuild %q: swap with %q: %w", b.uid, b.ix.uid, err)
		}
		b.switched = true
		b.ix.log.Info("meiliindex: switched to the rebuilt index", "index", b.ix.uid)
	}
	if err := b.ix.drop(ctx, b.uid); err != nil {
		return fmt.Errorf("meiliindex: rebuild %q: drop the old index: %w", b.uid, err)
	}
	return nil
}

// Discard deletes the new index; after Switch there is nothing left to discard.
func (b *build) Discard(ctx context.Context) error {
	if b.switched {
		return nil
	}
	if err := b.ix.drop(ctx, b.uid); err != nil {
		return fmt.Errorf("meiliindex: rebuild %q: discard: %w", b.uid, err)
	}
	return nil
}

// drop deletes index uid; one already gone is as good.
func (ix *Index) drop(ctx context.Context, uid string) error {
	task, err := ix.client.DeleteIndexWithContext(ctx, uid)
	if err == nil {
		err = ix.wait(ctx, task)
	}
	if err != nil && apiCode(err) != "index_not_found" {
		return fmt.Errorf("delete index %q: %w", uid, err)
	}
	return nil
}

// Ping checks the server's health; see search.Index.
func (ix *Index) Ping(ctx context.Context) error {
	if err := ix.health(ctx); err != nil {
		return fmt.Errorf("meiliindex: ping: %w", err)
	}
	return nil
}

// health fails unless the server reports itself available.
func (ix *Index) health(ctx context.Context) error {
	h, err := ix.client.HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if h.Status != "available" {
		return fmt.Errorf("health: server is %q", h.Status)
	}
	return nil
}

// Close releases the client's idle connections. The index holds nothing else: its data
// lives on the server, and every write has been waited for.
func (ix *Index) Close() error {
	ix.client.Close()
	return nil
}
