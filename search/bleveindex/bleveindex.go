// Package bleveindex is the embedded search engine: a search.Index kept on disk with Bleve.
//
// Analysis. Chinese has no spaces between words, so the index holds bigrams of adjacent
// Chinese characters (Bleve's unicode tokenizer, a width fold and cjk_bigram) and a query
// matches each run of Chinese characters it holds as a phrase of its bigrams: 车友会 finds
// 车友会活动 but not 朋友会员, which shares the characters but not the word. Other words
// are lowercased and stemmed with Snowball English. For typo tolerance the unstemmed words
// of four letters or more also go into a dictionary; a query word of five letters or more
// stands, besides itself, for the indexed words one edit away, each searched by its stem,
// ranked well below exact matches. Every word of a query is required, and is searched in
// the title, the tags and the body.
//
// Bigrams were chosen over a dictionary segmenter (gse, with its embedded dictionary,
// indexing words and the dictionary words inside them, querying a run as a phrase of
// its words). On the labelled relevance set of searchtest, R-precision and recall at 10:
//
//	                 Chinese        English        all
//	bigrams          1.000 / 1.000  1.000 / 1.000  1.000 / 1.000
//	gse segmenter    0.963 / 0.963  1.000 / 1.000  0.981 / 0.981
//
// The segmenter misses words its dictionary cuts differently in context (业主 in 在业主群里,
// 换电 in 换电站) and takes 2.4 s and about 200 MB to load its dictionary; bigrams need no
// dictionary, find words no dictionary knows (brand and model names, community slang),
// and cost nothing to load. The segmenter serves queries only: it cuts a run typed
// without spaces into the words every hit must hold (search.Words), and tells the posts
// holding the run as a word of its own from those where it straddles two (search.Tier);
// the index stays made of bigrams, so no word is lost to a cut made differently.
//
// Rebuild. The live index is a directory posts-<unix nanos>.bleve under Config.Dir, named
// by the pointer file CURRENT. A rebuild fills a new directory beside it; Switch renames a
// new pointer file into place, swaps the indexes under a lock and removes the old
// directory. Open removes directories the pointer does not name: builds a crash cut short.
package bleveindex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"quanzi/community"
	port "quanzi/search"
)

var _ port.Index = (*Index)(nil)

var _ port.Build = (*Build)(nil)

// Config says where the index lives.
type Config struct {
	// Dir holds the index: the pointer file and the index directories. It is created if
	// missing.
	Dir string
	// Logger receives start-up messages; nil discards them.
	Logger *slog.Logger
}

// pointerFile names the live index directory within Config.Dir.
const pointerFile = "CURRENT"

// layout names the mapping and analysis newMapping makes; it is kept in each index, and an
// index of another layout answers with its own until a rebuild replaces it (Outdated).
// Change it whenever newMapping or the analyzers change.
const layout = "posts-4"

// layoutKey is the internal key the layout is kept under.
var layoutKey = []byte("quanzi.layout")

// Index is a search.Index on disk. It is safe for concurrent use.
type Index struct {
	dir string
	log *slog.Logger

	// writeMu serialises the writers of the live index: Apply and Switch.
	writeMu sync.Mutex
	// mu guards live, builds and closed. Searches hold it for reading, so a switch waits
	// for the searches on the old index to finish.
	mu     sync.RWMutex
	live   *shard
	builds map[*Build]struct{}
	closed bool
	// outdated is whether the live index was made by another layout.
	outdated bool
}

// shard is one Bleve index directory.
type shard struct {
	name string // the directory's name within Config.Dir
	idx  bleve.Index
}

// Open opens the index under cfg.Dir, creating an empty one if there is none, and removes
// what unfinished rebuilds left behind.
func Open(cfg Config) (*Index, error) {
	if cfg.Dir == "" {
		return nil, errors.New("bleveindex: open: no directory configured")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("bleveindex: open: %w", err)
	}
	x := &Index{dir: cfg.Dir, log: logger, builds: map[*Build]struct{}{}}

	name, err := x.readPointer()
	if err != nil {
		return nil, err
	}
	var live *shard
	if name == "" {
		if live, err = x.createShard(); err != nil {
			return nil, err
		}
		if err := x.writePointer(live.name); err != nil {
			_ = live.idx.Close()
			return nil, err
		}
		logger.Info("bleveindex: created an empty index", "dir", filepath.Join(cfg.Dir, live.name))
	} else {
		idx, err := bleve.Open(filepath.Join(cfg.Dir, name))
		if err != nil {
			return nil, fmt.Errorf("bleveindex: open %s (named by %s; remove both to start empty, then reindex): %w",
				name, pointerFile, err)
		}
		live = &shard{name: name, idx: idx}
		n, _ := idx.DocCount()
		held, err := idx.GetInternal(layoutKey)
		if err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("bleveindex: open %s: read its layout: %w", name, err)
		}
		if string(held) != layout {
			x.outdated = true
			logger.Warn("bleveindex: the index was made by another layout; it answers as it is until rebuilt", "dir", filepath.Join(cfg.Dir, name), "layout", string(held), "want", layout)
		}
		logger.Info("bleveindex: opened", "dir", filepath.Join(cfg.Dir, name), "documents", n)
	}
	x.live = live
	x.removeStrays()
	return x, nil
}

// readPointer returns the name of the live index directory, "" when there is none yet.
func (x *Index) readPointer() (string, error) {
	b, err := os.ReadFile(filepath.Join(x.dir, pointerFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bleveindex: read %s: %w", pointerFile, err)
	}
	name := strings.TrimSpace(string(b))
	if !isShardName(name) {
		return "", fmt.Errorf("bleveindex: %s names %q, not an index directory", pointerFile, name)
	}
	return name, nil
}

// writePointer makes name the live index directory, atomically: a reader of the pointer
// file sees the old name or the new one, never a mix, even across a crash.
func (x *Index) writePointer(name string) error {
	tmp, err := os.CreateTemp(x.dir, pointerFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("bleveindex: write %s: %w", pointerFile, err)
	}
	_, err = tmp.WriteString(name + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(x.dir, pointerFile))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("bleveindex: write %s: %w", pointerFile, err)
	}
	if d, err := os.Open(x.dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows it
		_ = d.Close()
	}
	return nil
}

// removeStrays removes index directories other than the live one and pointer files
// never renamed into place.
func (x *Index) removeStrays() {
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if (isShardName(name) && name != x.live.name) || strings.HasPrefix(name, pointerFile+".tmp-") {
			if err := os.RemoveAll(filepath.Join(x.dir, name)); err == nil {
				x.log.Info("bleveindex: removed an unfinished rebuild", "dir", filepath.Join(x.dir, name))
			}
		}
	}
}

func isShardName(name string) bool {
	n, ok := strings.CutPrefix(name, "posts-")
	if !ok {
		return false
	}
	n, ok = strings.CutSuffix(n, ".bleve")
	if !ok {
		return false
	}
	_, err := strconv.ParseInt(n, 10, 64)
	return err == nil
}

// createShard creates an empty index directory with a name no other directory has.
func (x *Index) createShard() (*shard, error) {
	for t := time.Now().UnixNano(); ; t++ {
		name := fmt.Sprintf("posts-%d.bleve", t)
		path := filepath.Join(x.dir, name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		idx, err := bleve.New(path, newMapping())
		if err != nil {
			return nil, fmt.Errorf("bleveindex: create %s: %w", name, err)
		}
		if err := idx.SetInternal(layoutKey, []byte(layout)); err != nil {
			_ = idx.Close()
			return nil, fmt.Errorf("bleveindex: create %s: %w", name, err)
		}
		return &shard{name: name, idx: idx}, nil
	}
}

// current returns the live shard with mu held for reading; the caller calls x.mu.RUnlock.
func (x *Index) current() (*shard, error) {
	x.mu.RLock()
	if x.closed {
		x.mu.RUnlock()
		return nil, errClosed
	}
	return x.live, nil
}

var errClosed = errors.New("bleveindex: index is closed")

// Outdated implements search.Outdated: whether the live index was made by another layout
// than this code's, and needs a rebuild to search as this code expects.
func (x *Index) Outdated() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.outdated
}

// Apply writes documents to the live index, skipping those it holds at a greater version.
func (x *Index) Apply(ctx context.Context, docs []port.Document) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	s, err := x.current()
	if err != nil {
		return err
	}
	defer x.mu.RUnlock()
	return s.apply(ctx, docs)
}

// Versions returns the versions the live index holds of ids.
func (x *Index) Versions(ctx context.Context, ids []string) (map[string]int64, error) {
	s, err := x.current()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	return s.versions(ctx, ids)
}

// Ping reports whether the live index answers.
func (x *Index) Ping(ctx context.Context) error {
	s, err := x.current()
	if err != nil {
		return err
	}
	defer x.mu.RUnlock()
	if _, err := s.idx.DocCount(); err != nil {
		return fmt.Errorf("bleveindex: ping: %w", err)
	}
	return ctx.Err()
}

// Close closes the live index and drops rebuilds still in progress.
func (x *Index) Close() error {
	// Taking mu waits for the searches and writes in progress; later ones see closed.
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	builds, live := x.builds, x.live
	x.builds = nil
	x.mu.Unlock()

	for b := range builds {
		b.mu.Lock()
		_ = b.drop()
		b.mu.Unlock()
	}
	if err := live.idx.Close(); err != nil {
		return fmt.Errorf("bleveindex: close: %w", err)
	}
	return nil
}

// apply writes a batch to one shard. Calls are serialised by the caller, so the versions
// read here are still those in the index when the batch lands.
func (s *shard) apply(ctx context.Context, docs []port.Document) error {
	if len(docs) == 0 {
		return ctx.Err()
	}
	// Of one id, keep the greatest version; of equal versions, the later document.
	latest := make(map[string]port.Document, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		if d.ID == "" {
			return community.Errorf(community.CodeBadUserInput, "document without id")
		}
		prev, ok := latest[d.ID]
		if !ok {
			ids = append(ids, d.ID)
		}
		if !ok || d.Version >= prev.Version {
			latest[d.ID] = d
		}
	}
	held, err := s.versions(ctx, ids)
	if err != nil {
		return err
	}
	b := s.idx.NewBatch()
	for _, id := range ids {
		d := latest[id]
		if v, ok := held[id]; ok && v > d.Version {
			continue
		}
		if err := b.Index(id, bleveDocument(d)); err != nil {
			return fmt.Errorf("bleveindex: apply %q: %w", id, err)
		}
	}
	if b.Size() == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.idx.Batch(b); err != nil {
		return fmt.Errorf("bleveindex: apply %d documents: %w", b.Size(), err)
	}
	return nil
}

// bleveDocument is what the mapping of newMapping indexes of a document.
func bleveDocument(d port.Document) map[string]any {
	m := map[string]any{
		fieldVisible:    d.Visible,
		fieldPrivate:    d.Private,
		fieldEngagement: sortKey(int64(d.Engagement)),
		fieldVersion:    strconv.FormatInt(d.Version, 10),
	}
	if !d.CreatedAt.IsZero() {
		m[fieldCreated] = timeKey(d.CreatedAt)
		m[fieldCreatedMS] = float64(d.CreatedAt.UnixMilli())
	}
	for field, v := range map[string]string{
		fieldTitle: port.Clean(d.Title), fieldBody: port.Clean(d.Body),
		fieldClub: d.ClubID, fieldBrand: d.BrandID, fieldAuthor: d.AuthorID,
	} {
		if v != "" {
			m[field] = v
		}
	}
	if len(d.Tags) > 0 {
		m[fieldTags] = d.Tags
	}
	return m
}

// versions reads the stored versions of ids.
func (s *shard) versions(ctx context.Context, ids []string) (map[string]int64, error) {
	r, err := s.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("bleveindex: versions: %w", err)
	}
	reader, err := r.Reader()
	if err != nil {
		return nil, fmt.Errorf("bleveindex: versions: %w", err)
	}
	defer reader.Close()

	out := make(map[string]int64, len(ids))
	for i, id := range ids {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		doc, err := reader.Document(id)
		if err != nil {
			return nil, fmt.Errorf("bleveindex: version of %q: %w", id, err)
		}
		if doc == nil {
			continue
		}
		var verr error
		found := false
		doc.VisitFields(func(f index.Field) {
			if f.Name() == fieldVersion {
				v, err := strconv.ParseInt(string(f.Value()), 10, 64)
				out[id], verr, found = v, err, true
			}
		})
		if verr != nil || !found {
			return nil, fmt.Errorf("bleveindex: version of %q: stored version missing or unreadable (%v)", id, verr)
		}
	}
	return out, nil
}

// Search runs a query against the live index.
func (x *Index) Search(ctx context.Context, q port.Query) (port.Result, error) {
	s, err := x.current()
	if err != nil {
		return port.Result{}, err
	}
	defer x.mu.RUnlock()
	req, err := searchRequest(q, s.typos)
	if err != nil {
		return port.Result{}, err
	}
	if runs := port.RankedRuns(q); len(runs) > 0 {
		return s.searchRanked(ctx, q, req, runs)
	}
	res, err := s.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return port.Result{}, ctx.Err()
		}
		return port.Result{}, fmt.Errorf("bleveindex: search: %w", err)
	}
	return result(res), nil
}

// typos returns the indexed words within one edit of word, the most frequent first.
func (s *shard) typos(word string) ([]string, error) {
	adv, err := s.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("bleveindex: typos of %q: %w", word, err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("bleveindex: typos of %q: %w", word, err)
	}
	defer r.Close()
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return nil, nil
	}
	dict, err := fr.FieldDictFuzzy(fieldWords, word, 1, "")
	if err != nil {
		return nil, fmt.Errorf("bleveindex: typos of %q: %w", word, err)
	}
	defer dict.Close()
	var entries []index.DictEntry
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("bleveindex: typos of %q: %w", word, err)
		}
		if e == nil {
			break
		}
		entries = append(entries, *e)
	}
	slices.SortFunc(entries, func(a, b index.DictEntry) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Term, b.Term))
	})
	words := make([]string, 0, min(len(entries), maxTypoWords))
	for _, e := range entries[:min(len(entries), maxTypoWords)] {
		words = append(words, e.Term)
	}
	return words, nil
}

// searchRequest is the Bleve request of a query; BAD_USER_INPUT for one it cannot run.
func searchRequest(q port.Query, near typos) (*bleve.SearchRequest, error) {
	switch {
	case q.Offset < 0 || q.Limit < 0:
		return nil, community.Errorf(community.CodeBadUserInput, "offset and limit must not be negative")
	case q.Offset+q.Limit > port.MaxWindow:
		return nil, community.Errorf(community.CodeBadUserInput, "offset+limit must be at most %d", port.MaxWindow)
	}
	var order search.SortOrder
	newest := &search.SortField{Field: fieldCreated, Desc: true, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast}
	byID := &search.SortDocID{}
	switch q.Sort {
	case port.SortRelevance, "":
		order = search.SortOrder{&search.SortScore{Desc: true}, newest, byID}
	case port.SortNewest:
		order = search.SortOrder{newest, byID}
	case port.SortMostEngaged:
		engaged := &search.SortField{Field: fieldEngagement, Desc: true, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast}
		order = search.SortOrder{engaged, newest, byID}
	default:
		return nil, community.Errorf(community.CodeBadUserInput, "unknown sort %q", q.Sort)
	}

	text, err := textQuery(q.Text, near)
	if err != nil {
		return nil, err
	}
	bq := query.NewBooleanQuery(nil, nil, nil)
	if text != nil {
		bq.AddMust(text)
	}
	bq.AddFilter(filterQuery(q))

	req := bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
	req.SortByCustom(order)
	req.Highlight = bleve.NewHighlightWithStyle(snippetHighlighter)
	req.Highlight.AddField(fieldTitle)
	req.Highlight.AddField(fieldBody)
	if !q.SkipFacets {
		req.AddFacet(fieldClub, bleve.NewFacetRequest(fieldClub, port.MaxFacets))
		req.AddFacet(fieldTags, bleve.NewFacetRequest(fieldTags, port.MaxFacets))
	}
	return req, nil
}

// result is the port's view of a Bleve result.
func result(res *bleve.SearchResult) port.Result {
	out := port.Result{Total: int(res.Total), TotalExact: true}
	for _, h := range res.Hits {
		hit := port.Hit{ID: h.ID}
		if f := h.Fragments[fieldTitle]; len(f) > 0 {
			hit.TitleSnippet = f[0]
		}
		if f := h.Fragments[fieldBody]; len(f) > 0 {
			hit.BodySnippet = f[0]
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Clubs = facetCounts(res.Facets[fieldClub])
	out.Tags = facetCounts(res.Facets[fieldTags])
	return out
}

func facetCounts(f *search.FacetResult) []port.FacetCount {
	if f == nil || f.Terms == nil {
		return nil
	}
	var out []port.FacetCount
	for _, t := range f.Terms.Terms() {
		out = append(out, port.FacetCount{Value: t.Term, Count: t.Count})
	}
	return out
}
