package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/community/neo4jstore"
	"quanzi/community/synthetic"
	"quanzi/resolvers"
)

// The benchmarks run on a generated community of QUANZI_BENCH_MEMBERS members (100,000 by
// default) and ten follows each, on the embedded store and, when NEO4J_URI is set, on
// Neo4j. A Neo4j that already holds the generated community (same size) is reused.
//
//	go test -run '^$' -bench . -benchtime 2000x

type benchEnv struct {
	svc     community.Services
	trips   *community.RoundTrips
	gen     synthetic.Generated
	content synthetic.Content
	handler http.Handler
	server  *httptest.Server
	tokens  []string // of the first members, for writes
	seq     atomic.Int64
}

var (
	benchEnvs  = map[string]*benchEnv{}
	benchEnvMu sync.Mutex
)

func benchSpec() synthetic.Spec {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("QUANZI_BENCH_MEMBERS")); err == nil && v > 1 {
		n = v
	}
	return synthetic.Spec{Members: n, Follows: 10 * n, Seed: 7}
}

// benchContentSpec is the content of the benchmarks' community: QUANZI_BENCH_POSTS posts
// (200,000 by default) in 200 clubs, and five reactions a post.
func benchContentSpec() synthetic.ContentSpec {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("QUANZI_BENCH_POSTS")); err == nil && v >= 0 {
		n = v
	}
	return synthetic.ContentSpec{Clubs: 200, Posts: n, Reactions: 5 * n, Seed: 7, Now: time.Now().UTC().Truncate(time.Hour)}
}

func setupBench(b *testing.B, storeName string) *benchEnv {
	b.Helper()
	benchEnvMu.Lock()
	defer benchEnvMu.Unlock()
	if env := benchEnvs[storeName]; env != nil {
		return env
	}
	ctx := context.Background()
	spec := benchSpec()
	store := openBenchStore(b, storeName, "quanzi-bench-")
	start := time.Now()
	target := store
	last := fmt.Sprintf("member_%07d", spec.Members-1)
	if _, err := store.MemberByHandle(ctx, last); err == nil {
		target = discardingStore{} // already generated: only recompute the ids
	}
	spec.Progress = func(m, f int) {
		if f%200_000 == 0 {
			fmt.Fprintf(os.Stderr, "\r%s: %d members, %d follows generated", storeName, m, f)
		}
	}
	gen, err := synthetic.Generate(ctx, target, spec)
	if err != nil {
		b.Fatal(err)
	}
	contentSpec := benchContentSpec()
	contentSpec.Progress = func(done int) {
		if done%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "\r%s: %d content rows generated", storeName, done)
		}
	}
	contentTarget := store
	if _, err := store.ClubBySlug(ctx, "club-0000"); err == nil {
		contentTarget = discardingStore{} // already generated: only recompute the ids
	}
	content, err := synthetic.GenerateContent(ctx, contentTarget, gen, contentSpec)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "\r%s: community of %d members ready in %s\n", storeName, spec.Members, time.Since(start).Round(time.Second))
	svc := community.New(store, community.Config{})
	env := &benchEnv{svc: svc, trips: roundTrips(store), gen: gen, content: content}
	env.handler = resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development())
	env.server = httptest.NewServer(env.handler)
	for _, id := range gen.IDs[:1000] {
		c := jwtauth.Claims{}
		c.Subject = id
		tok, err := jwtauth.Mint([]byte(testSecret), c, 24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		env.tokens = append(env.tokens, tok)
	}
	benchEnvs[storeName] = env
	return env
}

// discardingStore takes imports and stores nothing: for recomputing a generated graph's ids.
type discardingStore struct{ community.Store }

func (discardingStore) ImportMembers(context.Context, []community.ImportedMember) error { return nil }
func (discardingStore) ImportFollows(context.Context, []community.Follow) error         { return nil }
func (discardingStore) CreateClub(context.Context, community.Club, *community.ClubMembership) error {
	return nil
}
func (discardingStore) ImportClubMembers(context.Context, []community.ClubMembership) error {
	return nil
}
func (discardingStore) ImportPosts(context.Context, []community.Post) error         { return nil }
func (discardingStore) ImportReactions(context.Context, []community.Reaction) error { return nil }

const (
	followersPageOp = `query($id: ID!) { member(id: $id) { followers(first: 50) { totalCount edges { node { id handle followerCount } } } } }`
	suggestionsOp   = `query($id: ID!) { member(id: $id) { suggestedFollows(first: 20) { followedByFollowings member { id handle followerCount } } } }`
	followOp        = `mutation($id: ID!) { follow(input: {memberId: $id}) { member { id } } }`
	feedOp          = `query { feed(first: 20) { edges { at node { id title commentCount reactionCounts { kind count } author { handle followerCount } } } } }`
	clubHotOp       = `query($slug: String!) { club(slug: $slug) { posts(sort: HOT, first: 20) { edges { node { id title commentCount shareCount reactionCounts { kind count } author { handle } } } } } }`
)

// operation is one GraphQL request of a benchmark, made anew for each iteration.
type operation func(env *benchEnv, rng *rand.Rand) (token, query string, vars map[string]any)

var benchOps = []struct {
	name string
	op   operation
}{
	{"FollowersPage50", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		return env.tokens[rng.IntN(len(env.tokens))], followersPageOp, map[string]any{"id": env.gen.Popular[rng.IntN(20)]}
	}},
	{"SuggestedFollows20", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		i := rng.IntN(len(env.tokens))
		return env.tokens[i], suggestionsOp, map[string]any{"id": env.gen.IDs[i]}
	}},
	{"Register", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		n := env.seq.Add(1)
		tok, _ := jwtauth.Mint([]byte(testSecret), jwtauth.Claims{Identity: &jwtauth.IdentityClaim{Provider: "WECHAT", ExternalID: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n)}}, time.Hour)
		handle := fmt.Sprintf("b%x_%d", time.Now().UnixNano()&0xffffffffff, n)
		return tok, registerOp, map[string]any{"in": map[string]any{"handle": handle, "displayName": "新会员"}}
	}},
	{"Feed20", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		return env.tokens[rng.IntN(len(env.tokens))], feedOp, nil
	}},
	{"ClubHot20", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		return env.tokens[rng.IntN(len(env.tokens))], clubHotOp, map[string]any{"slug": env.content.ClubSlugs[rng.IntN(3)]}
	}},
	{"Follow", func(env *benchEnv, rng *rand.Rand) (string, string, map[string]any) {
		i := rng.IntN(len(env.tokens))
		return env.tokens[i], followOp, map[string]any{"id": env.gen.IDs[len(env.tokens)+rng.IntN(len(env.gen.IDs)-len(env.tokens))]}
	}},
}

func request(url, token, query string, vars map[string]any) *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func checkResponse(b *testing.B, code int, body []byte) {
	if code != 200 || bytes.Contains(body, []byte(`"errors"`)) {
		b.Fatalf("status %d: %s", code, body)
	}
}

// BenchmarkAPI measures each operation through the whole handler in process (ns/op and
// allocs/op of one request), and over HTTP on loopback with parallel clients (req/s).
func BenchmarkAPI(b *testing.B) {
	for _, storeName := range []string{"embedded", "neo4j"} {
		b.Run(storeName, func(b *testing.B) {
			env := setupBench(b, storeName)
			for _, o := range benchOps {
				b.Run(o.name, func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 2))
					b.ReportAllocs()
					before := env.trips.Total()
					for b.Loop() {
						tok, q, vars := o.op(env, rng)
						rec := httptest.NewRecorder()
						env.handler.ServeHTTP(rec, request("/query", tok, q, vars))
						checkResponse(b, rec.Code, rec.Body.Bytes())
					}
					b.ReportMetric(float64(env.trips.Total()-before)/float64(b.N), "trips/op")
				})
				b.Run(o.name+"/HTTP", func(b *testing.B) {
					client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
					var seed atomic.Uint64
					b.SetParallelism(4)
					start := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						rng := rand.New(rand.NewPCG(seed.Add(1), 3))
						buf := new(bytes.Buffer)
						for pb.Next() {
							tok, q, vars := o.op(env, rng)
							res, err := client.Do(request(env.server.URL+"/query", tok, q, vars))
							if err != nil {
								b.Fatal(err)
							}
							buf.Reset()
							buf.ReadFrom(res.Body)
							res.Body.Close()
							checkResponse(b, res.StatusCode, buf.Bytes())
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				})
			}
		})
	}
}

// openBenchStore opens the store a benchmark environment is built on: an embedded store in
// a new directory named after dirPrefix, kept for the environments the benchmarks of the
// package share, or the Neo4j at NEO4J_URI (skipped without one).
func openBenchStore(b *testing.B, storeName, dirPrefix string) community.Store {
	b.Helper()
	switch storeName {
	case "embedded":
		dir, err := os.MkdirTemp("", dirPrefix)
		if err != nil {
			b.Fatal(err)
		}
		s, err := embedded.Open(embedded.Config{Path: filepath.Join(dir, "graph.db"), Logger: quietLog()})
		if err != nil {
			b.Fatal(err)
		}
		return s
	case "neo4j":
		uri := os.Getenv("NEO4J_URI")
		if uri == "" {
			b.Skip("NEO4J_URI not set: start one with scripts/neo4j.sh start")
		}
		s, err := neo4jstore.Open(context.Background(), neo4jstore.Config{URI: uri, Username: os.Getenv("NEO4J_USER"),
			Password: os.Getenv("NEO4J_PASSWORD"), Database: os.Getenv("NEO4J_DATABASE"), Logger: quietLog()})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Fatalf("no store %q", storeName)
	return nil
}
