package resolvers_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/community/synthetic"
	"quanzi/resolvers"
)

// BenchmarkFollowQueries measures what the server spends on the follow-list queries that
// bench/peer compares with the Neo4j GraphQL Library, through the whole handler in process
// on the embedded store, seeded as `seed -members 20000 -follows 200000 -seed 7` seeds it:
// (a) a member by handle, its follower count and its first 50 followers with theirs, and
// (b) its first 10 followers, each one's first 10 following, each one's first 5 followers,
// for the members nearest 296 and 5,381 followers. Besides ns/op, B/op and allocs/op it
// reports the process's CPU time per request (cpu-ms/op, all goroutines, the collector's
// included) and its inverse, the requests served per CPU-second (req/cpu-s).
//
//	go test -run '^$' -bench FollowQueries -benchmem ./resolvers/
func BenchmarkFollowQueries(b *testing.B) {
	env := setupFollowBench(b)
	for _, q := range followQueries {
		for _, m := range env.targets {
			b.Run(fmt.Sprintf("%s/followers=%d", q.name, m.followers), func(b *testing.B) {
				vars := map[string]any{"handle": m.handle}
				rng := rand.New(rand.NewPCG(1, 2))
				b.ReportAllocs()
				start := processCPU()
				for b.Loop() {
					rec := httptest.NewRecorder()
					env.handler.ServeHTTP(rec, request("/query", env.tokens[rng.IntN(len(env.tokens))], q.text, vars))
					checkResponse(b, rec.Code, rec.Body.Bytes())
				}
				if cpu := processCPU() - start; cpu > 0 {
					b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
					b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
				}
			})
		}
	}
}

// followQueries are bench/peer's queries (a) and (b), as Quanzi's schema writes them.
var followQueries = []struct{ name, text string }{
	{"a", `query A($handle: String!) {
  memberByHandle(handle: $handle) {
    handle followerCount
    followers(first: 50) { edges { node { handle followerCount } } }
  }
}`},
	{"b", `query B($handle: String!) {
  memberByHandle(handle: $handle) {
    handle
    followers(first: 10) { edges { node { handle
      following(first: 10) { edges { node { handle
        followers(first: 5) { edges { node { handle } } }
      } } }
    } } }
  }
}`},
}

// followBenchTargets are the follower counts bench/peer queries members of.
var followBenchTargets = []int{296, 5381}

type followBench struct {
	handler http.Handler
	tokens  []string
	targets []followTarget
}

type followTarget struct {
	handle    string
	followers int
}

var (
	followBenchOnce sync.Once
	followBenchEnv  *followBench
	followBenchErr  error
	// followBenchDone closes the store and removes its directory, when the run ends.
	followBenchDone func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if followBenchDone != nil {
		followBenchDone()
	}
	os.Exit(code)
}

// setupFollowBench seeds the benchmark's community once per run.
func setupFollowBench(b *testing.B) *followBench {
	b.Helper()
	followBenchOnce.Do(func() { followBenchEnv, followBenchErr = seedFollowBench(b) })
	if followBenchErr != nil {
		b.Fatal(followBenchErr)
	}
	return followBenchEnv
}

func seedFollowBench(b *testing.B) (*followBench, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "quanzi-follow-bench-")
	if err != nil {
		return nil, err
	}
	store, err := embedded.Open(embedded.Config{Path: filepath.Join(dir, "graph.db"), Logger: quietLog()})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The store serves the whole run (each -count calls the benchmark again).
	followBenchDone = func() {
		store.Close()
		os.RemoveAll(dir)
	}
	start := time.Now()
	gen, err := synthetic.Generate(ctx, store, synthetic.Spec{Members: 20_000, Follows: 200_000, Seed: 7})
	if err != nil {
		return nil, err
	}
	counts, err := store.FollowCounts(ctx, gen.IDs)
	if err != nil {
		return nil, err
	}
	env := &followBench{}
	for _, want := range followBenchTargets {
		// The nearest, then the smallest id, as bench/peer picks them.
		id := slices.MinFunc(gen.IDs, func(x, y string) int {
			dx, dy := abs(counts[x].Followers-want), abs(counts[y].Followers-want)
			return cmp.Or(cmp.Compare(dx, dy), cmp.Compare(x, y))
		})
		ms, err := store.MembersByID(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		env.targets = append(env.targets, followTarget{handle: ms[id].Handle, followers: counts[id].Followers})
	}
	fmt.Fprintf(os.Stderr, "follow queries: 20,000 members and 200,000 follows seeded in %s; targets %+v\n", time.Since(start).Round(time.Millisecond), env.targets)
	svc := community.New(store, community.Config{})
	env.handler = resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development())
	// Eight members query, as bench/peer's eight clients do.
	for _, id := range gen.IDs[:8] {
		c := jwtauth.Claims{}
		c.Subject = id
		tok, err := jwtauth.Mint([]byte(testSecret), c, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		env.tokens = append(env.tokens, tok)
	}
	return env, nil
}

func abs(n int) int { return max(n, -n) }
