package search_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/neo4jstore"
	"quanzi/community/synthetic"
	"quanzi/search"
	"quanzi/search/bleveindex"
	"quanzi/search/meiliindex"
)

// benchWorld is a generated community in a store, indexed by the relay into an engine. It
// is built once in a directory that later runs reuse.
type benchWorld struct {
	store   community.Store
	index   search.Index
	content synthetic.Content
	// indexRate is the relay's throughput when it indexed the posts, in documents per
	// second (0 when the index was reused).
	indexRate float64
}

var (
	benchOnce sync.Once
	bench     *benchWorld
	benchErr  error
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchCommunity builds or reopens the benchmark community: QUANZI_BENCH_POSTS posts
// (200,000) by QUANZI_BENCH_MEMBERS members (20,000) in 200 clubs, in the embedded store
// under QUANZI_BENCH_DIR (a directory in the system's temporary directory), or with
// QUANZI_BENCH_STORE=neo4j in the Neo4j at NEO4J_URI (an empty one, or one an earlier run
// filled together with the same QUANZI_BENCH_DIR). The posts are indexed by Bleve under
// the same directory, or with QUANZI_BENCH_SEARCH=meilisearch by the Meilisearch at
// MEILI_URL (MEILI_KEY), in an index named after the directory; when the store was built
// by an earlier run and that index is empty (a new server), a rebuild fills it.
func benchCommunity(b *testing.B) *benchWorld {
	benchOnce.Do(func() { bench, benchErr = buildBenchCommunity() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func buildBenchCommunity() (*benchWorld, error) {
	ctx := context.Background()
	posts, members := envInt("QUANZI_BENCH_POSTS", 200_000), envInt("QUANZI_BENCH_MEMBERS", 20_000)
	storeName := os.Getenv("QUANZI_BENCH_STORE")
	if storeName == "" {
		storeName = "embedded"
	}
	engine := os.Getenv("QUANZI_BENCH_SEARCH")
	if engine == "" {
		engine = "embedded"
	}
	dir := os.Getenv("QUANZI_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("quanzi-search-bench-%s-%s-%d-%d", storeName, engine, members, posts))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	var store community.Store
	switch storeName {
	case "neo4j":
		s, err := neo4jstore.Open(ctx, neo4jstore.Config{URI: os.Getenv("NEO4J_URI"), Logger: quiet})
		if err != nil {
			return nil, err
		}
		store = s
	case "embedded":
		s, err := embedded.Open(embedded.Config{Path: filepath.Join(dir, "graph.db"), Logger: quiet})
		if err != nil {
			return nil, err
		}
		store = s
	default:
		return nil, fmt.Errorf("QUANZI_BENCH_STORE must be embedded or neo4j, not %q", storeName)
	}
	var idx search.Index
	switch engine {
	case "embedded":
		ix, err := bleveindex.Open(bleveindex.Config{Dir: filepath.Join(dir, "search")})
		if err != nil {
			return nil, err
		}
		idx = ix
	case "meilisearch":
		ix, err := meiliindex.Open(ctx, meiliindex.Config{URL: os.Getenv("MEILI_URL"), Key: os.Getenv("MEILI_KEY"),
			Index: "posts_bench_" + strings.NewReplacer("-", "_", ".", "_").Replace(filepath.Base(dir))})
		if err != nil {
			return nil, err
		}
		idx = ix
	default:
		return nil, fmt.Errorf("QUANZI_BENCH_SEARCH must be embedded or meilisearch, not %q", engine)
	}
	w := &benchWorld{store: store, index: idx}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	spec := synthetic.Spec{Members: members, Follows: 5 * members, Seed: 7}
	contentSpec := synthetic.ContentSpec{Clubs: 200, Posts: posts, Reactions: posts, Seed: 7, Now: now}
	if _, err := store.ClubBySlug(ctx, "club-0000"); err == nil {
		// Built by an earlier run: regenerate the ids only.
		g, err := synthetic.Generate(ctx, discard{}, spec)
		if err != nil {
			return nil, err
		}
		if w.content, err = synthetic.GenerateContent(ctx, discard{}, g, contentSpec); err != nil {
			return nil, err
		}
		// A new Meilisearch server has none of the posts the relay indexed before.
		res, err := idx.Search(ctx, search.Query{Limit: 1, SkipFacets: true, Scope: search.Scope{All: true}})
		if err != nil || res.Total > 0 {
			return w, err
		}
		start := time.Now()
		n, err := search.Rebuild(ctx, store, idx, &community.LocalLeases{}, search.RebuildConfig{})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "%s: rebuilt the %s index of %d posts in %s\n", storeName, engine, n, time.Since(start).Round(time.Millisecond))
		return w, nil
	}
	start := time.Now()
	g, err := synthetic.Generate(ctx, store, spec)
	if err != nil {
		return nil, err
	}
	if w.content, err = synthetic.GenerateContent(ctx, store, g, contentSpec); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "%s: generated %d members and %d posts in %s\n", storeName, members, posts, time.Since(start).Round(time.Second))
	// Every imported post waits in the outbox: the relay indexes them all.
	relay := search.NewRelay(store, idx, &community.LocalLeases{}, search.RelayConfig{Logger: quiet, Batch: envInt("QUANZI_BENCH_RELAY_BATCH", 0)})
	start = time.Now()
	delivered := 0
	for {
		n, err := relay.DeliverOnce(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		delivered += n
	}
	took := time.Since(start)
	w.indexRate = float64(delivered) / took.Seconds()
	fmt.Fprintf(os.Stderr, "%s: relay indexed %d posts into %s in %s: %.0f documents/s\n", storeName, delivered, engine, took.Round(time.Millisecond), w.indexRate)
	return w, nil
}

// discard is a store that keeps nothing: generating into it recomputes the ids of a
// community stored earlier.
type discard struct{ community.Store }

func (discard) ImportMembers(context.Context, []community.ImportedMember) error { return nil }
func (discard) ImportFollows(context.Context, []community.Follow) error         { return nil }
func (discard) CreateClub(context.Context, community.Club, *community.ClubMembership) error {
	return nil
}
func (discard) ImportClubMembers(context.Context, []community.ClubMembership) error { return nil }
func (discard) ImportPosts(context.Context, []community.Post) error                 { return nil }
func (discard) ImportReactions(context.Context, []community.Reaction) error         { return nil }

// percentiles reports the 50th and 99th percentiles of durations, in milliseconds.
func percentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkSearch runs one- to three-word queries, Chinese and English, with and without
// filters, against the engine holding the benchmark community's posts.
func BenchmarkSearch(b *testing.B) {
	w := benchCommunity(b)
	if w.indexRate > 0 {
		b.Logf("relay indexing throughput: %.0f documents/s", w.indexRate)
	}
	clubs := w.content.ClubIDs
	week := search.Filter{From: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name       string
		texts      []string
		filter     search.Filter
		sort       search.Sort
		skipFacets bool
	}{
		{"1 word", []string{"保养", "续航", "charging", "insurance", "车友会", "处理"}, search.Filter{}, search.SortRelevance, false},
		{"1 word, no facets", []string{"保养", "续航", "charging", "insurance", "车友会", "处理"}, search.Filter{}, search.SortRelevance, true},
		{"2 words", []string{"比亚迪 续航", "冬季 充电桩", "winter range", "tyre replacement", "Seal charging", "露营 装备"}, search.Filter{}, search.SortRelevance, false},
		{"3 words", []string{"比亚迪 海豹 续航", "road trip Qiandao", "物业 电梯 报修", "battery health report"}, search.Filter{}, search.SortRelevance, false},
		{"2-3 Chinese words typed together", []string{"比亚迪续航", "冬季充电桩", "物业电梯报修", "露营装备"}, search.Filter{}, search.SortRelevance, false},
		{"1 word, club filter", []string{"保养", "charging", "续航"}, search.Filter{ClubIDs: clubs[:3]}, search.SortRelevance, false},
		{"2 words, tag and week, newest", []string{"冬季 续航", "winter range"}, search.Filter{Tags: []string{"ev", "续航"}, From: week.From}, search.SortNewest, false},
		{"no text, club filter, most engaged", []string{""}, search.Filter{ClubIDs: clubs[:1]}, search.SortMostEngaged, false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			times := make([]time.Duration, 0, b.N)
			hits := 0
			b.ResetTimer()
			for i := range b.N {
				q := search.Query{Text: tc.texts[i%len(tc.texts)], Filter: tc.filter, Sort: tc.sort, Limit: 20,
					Scope: search.Scope{ClubIDs: clubs[:2]}, SkipFacets: tc.skipFacets}
				start := time.Now()
				res, err := w.index.Search(ctx, q)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				hits += res.Total
			}
			b.StopTimer()
			percentiles(b, times)
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
}

// BenchmarkRelayLag writes posts at a steady rate (QUANZI_BENCH_WRITES_PER_S, 100) with
// the relay running, waking it after each write as the API does, and reports how long
// each post took to become searchable: from the write's return until the index holds its
// version. b.N is the number of posts written.
func BenchmarkRelayLag(b *testing.B) {
	w := benchCommunity(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay := search.NewRelay(w.store, w.index, &community.LocalLeases{}, search.RelayConfig{Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	rate := envInt("QUANZI_BENCH_WRITES_PER_S", 100)
	clubs, err := w.store.ClubsByID(ctx, w.content.ClubIDs[:1])
	if err != nil {
		b.Fatal(err)
	}
	club := clubs[w.content.ClubIDs[0]]
	author, err := clubAuthor(ctx, w.store, club.ID)
	if err != nil {
		b.Fatal(err)
	}
	// The writer adds what it wrote to waiting; the watcher polls the index for their
	// versions and records each post's lag once it is there.
	type write struct {
		id string
		at time.Time
	}
	var (
		mu      sync.Mutex
		waiting []write
		lags    []time.Duration
		done    bool
	)
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			mu.Lock()
			batch, finished := slices.Clone(waiting), done
			mu.Unlock()
			if len(batch) == 0 && finished {
				return
			}
			ids := make([]string, len(batch))
			for i, x := range batch {
				ids[i] = x.id
			}
			v, err := w.index.Versions(context.Background(), ids)
			if err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			mu.Lock()
			kept := waiting[:0]
			for _, x := range waiting {
				if v[x.id] >= 1 {
					lags = append(lags, now.Sub(x.at))
				} else {
					kept = append(kept, x)
				}
			}
			waiting = kept
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	})
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		p := community.Post{ID: community.NewID(), ClubID: club.ID, AuthorID: author, Title: fmt.Sprintf("充电桩 lag test %d", i),
			Body: "steady write load", CreatedAt: time.Now(), Status: community.PostPublished}
		if _, err := w.store.CreatePost(ctx, p); err != nil {
			b.Fatal(err)
		}
		// As the API does after every mutation.
		relay.Wake()
		mu.Lock()
		waiting = append(waiting, write{p.ID, time.Now()})
		mu.Unlock()
	}
	mu.Lock()
	done = true
	mu.Unlock()
	watch.Wait()
	b.StopTimer()
	percentiles(b, lags)
}

// clubAuthor finds a member of a club, to write posts as.
func clubAuthor(ctx context.Context, s community.Store, clubID string) (string, error) {
	pages, err := s.ClubMembers(ctx, "", 1, []community.ClubListRequest{{ClubID: clubID}})
	if err != nil {
		return "", fmt.Errorf("members of club %s: %w", clubID, err)
	}
	if len(pages[0].Memberships) == 0 {
		return "", fmt.Errorf("no member in club %s", clubID)
	}
	return pages[0].Memberships[0].MemberID, nil
}
