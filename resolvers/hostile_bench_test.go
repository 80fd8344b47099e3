package resolvers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/jwtauth"
	"quanzi/community/synthetic"
	"quanzi/resolvers"
)

// BenchmarkHostile measures a normal query's latency over HTTP on loopback, alone and
// while 16 clients send hostile requests of one class back to back, each waiting for its
// answer before sending again — as one member (one caller), and for some classes as 16
// members, one each:
//
//	go test -run '^$' -bench Hostile -benchtime 400x .
//
// The normal query is a member's first 20 followers with their follower counts. The
// classes are those a review found could take the server down: fragments spreading the
// next twice, conflicting aliases, copies of __typename, aliased introspection, and HOT
// pages of a club where one member posted 1,000 long posts. Each sub-benchmark reports the
// normal query's p50 and p99 (p50-ms, p99-ms) and the hostile requests answered per second.
func BenchmarkHostile(b *testing.B) {
	env := setupHostile(b)
	normal := request(env.server.URL+"/query", env.token,
		`query($id: ID!) { member(id: $id) { handle followerCount followers(first: 20) { edges { node { handle followerCount } } } } }`,
		map[string]any{"id": env.popular})
	normalBody, _ := io.ReadAll(normal.Body)
	conflicting := query(aliases(1600, func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }), nil)
	copies := query(aliases(16000, func(int) string { return "__typename" }), nil)
	classes := []struct {
		name string
		body string
		// callers is how many members send the hostile requests: one, or one each.
		callers int
	}{
		{"alone", "", 1},
		{"benign-typename", query(`{ __typename }`, nil), 1},
		{"fragment-fan-out", query(fanOut(27, "__typename"), nil), 1},
		{"conflicting-aliases", conflicting, 1},
		{"conflicting-aliases-150", query(aliases(150, func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }), nil), 1},
		{"typename-copies", copies, 1},
		{"aliased-introspection", query(aliases(800, func(i int) string { return fmt.Sprintf("s%d: __schema { types { name fields { name } } }", i) }), nil), 1},
		{"hot-pages", query(aliases(40, func(i int) string {
			return fmt.Sprintf(`c%d: club(slug: "open-forum") { posts(first: 1, sort: HOT) { edges { node { id } } } }`, i)
		}), nil), 1},
		{"benign-typename-16-callers", query(`{ __typename }`, nil), 16},
		{"conflicting-aliases-16-callers", conflicting, 16},
		{"typename-copies-16-callers", copies, 16},
	}
	for _, c := range classes {
		b.Run(c.name, func(b *testing.B) {
			ctx, stop := context.WithCancel(context.Background())
			var hostile sync.WaitGroup
			var answered, refused int64
			var mu sync.Mutex
			if c.body != "" {
				for i := range 16 {
					attacker := env.attackers[i%c.callers]
					hostile.Go(func() {
						client := &http.Client{}
						for ctx.Err() == nil {
							req, _ := http.NewRequestWithContext(ctx, "POST", env.server.URL+"/query", strings.NewReader(c.body))
							req.Header.Set("Content-Type", "application/json")
							req.Header.Set("Authorization", "Bearer "+attacker)
							res, err := client.Do(req)
							if err != nil {
								continue
							}
							io.Copy(io.Discard, res.Body)
							res.Body.Close()
							mu.Lock()
							answered++
							if res.StatusCode != http.StatusOK {
								refused++
							}
							mu.Unlock()
						}
					})
				}
				time.Sleep(200 * time.Millisecond) // let them get going
			}
			client := &http.Client{}
			latencies := make([]time.Duration, 0, b.N)
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest("POST", env.server.URL+"/query", bytes.NewReader(normalBody))
				req.Header = normal.Header.Clone()
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				latencies = append(latencies, time.Since(t0))
				checkResponse(b, res.StatusCode, body)
			}
			elapsed := time.Since(start)
			stop()
			hostile.Wait()
			slices.Sort(latencies)
			ms := func(q float64) float64 {
				return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(float64(answered)/elapsed.Seconds(), "hostile/s")
			if refused > 0 {
				b.ReportMetric(float64(refused)/float64(answered), "hostile-refused")
			}
		})
	}
}

type hostileEnv struct {
	server *httptest.Server
	// token is the member who sends the normal query; attackers, 16 other members, send
	// the hostile ones.
	token     string
	attackers []string
	popular   string
}

// setupHostile builds a community of 2,000 members and 20,000 follows, and an open club in
// which one member has posted 1,000 posts of 20,000 characters each.
func setupHostile(b *testing.B) *hostileEnv {
	b.Helper()
	ctx := context.Background()
	s := openEmbedded(b)
	gen, err := synthetic.Generate(ctx, s, synthetic.Spec{Members: 2000, Follows: 20000, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	author := gen.IDs[0]
	now := time.Now().UTC()
	club := community.Club{ID: community.NewID(), Slug: "open-forum", Name: "Open forum", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: now.Add(-time.Hour)}
	if err := s.CreateClub(ctx, club, &community.ClubMembership{ClubID: club.ID, MemberID: author, Role: community.RoleManager, Since: club.CreatedAt}); err != nil {
		b.Fatal(err)
	}
	long := strings.Repeat("周末自驾去千岛湖，续航和充电都很顺利。", 1000) // 20,000 characters
	posts := make([]community.Post, 1000)
	for i := range posts {
		posts[i] = community.Post{ID: community.NewID(), ClubID: club.ID, AuthorID: author, Title: fmt.Sprintf("帖子 %d", i),
			Body: long, CreatedAt: now.Add(-time.Duration(i) * time.Minute), Status: community.PostPublished}
	}
	if err := s.ImportPosts(ctx, posts); err != nil {
		b.Fatal(err)
	}
	svc := community.New(s, community.Config{})
	srv := httptest.NewServer(resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development()))
	b.Cleanup(srv.Close)
	token := func(id string) string {
		c := jwtauth.Claims{}
		c.Subject = id
		tok, err := jwtauth.Mint([]byte(testSecret), c, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	env := &hostileEnv{server: srv, token: token(gen.IDs[1]), popular: gen.Popular[0]}
	for _, id := range gen.IDs[2:18] {
		env.attackers = append(env.attackers, token(id))
	}
	return env
}

// BenchmarkHostileRefusal measures what one hostile request costs the server, through the
// whole handler in process, from a member with a turn of its own:
//
//	go test -run '^$' -bench HostileRefusal -benchmem .
func BenchmarkHostileRefusal(b *testing.B) {
	s := openEmbedded(b)
	h := resolvers.NewHandler(resolvers.Deps{Services: community.New(s, community.Config{}), Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development())
	serve := func(body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
	}
	for _, c := range []struct{ name, body string }{
		{"typename", query(`{ __typename }`, nil)},
		{"fragment-fan-out-27", query(fanOut(27, "__typename"), nil)},
		{"conflicting-aliases-1600", query(aliases(1600, func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }), nil)},
		{"conflicting-aliases-150", query(aliases(150, func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }), nil)},
		{"typename-copies-16000", query(aliases(16000, func(int) string { return "__typename" }), nil)},
		{"typename-copies-900", query(aliases(900, func(int) string { return "__typename" }), nil)},
		{"aliased-introspection-800", query(aliases(800, func(i int) string { return fmt.Sprintf("s%d: __schema { types { name fields { name } } }", i) }), nil)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(c.body)
			}
		})
	}
	// For scale, a valid query of the kind front ends send, new each time: parsed,
	// checked and validated, where the others are refused or found in the cache.
	b.Run("new-valid-query", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			serve(query(fmt.Sprintf(`query Q%d { a%d: __typename viewer { id handle followers(first: 5) { totalCount edges { node { handle } } } } }`, n, n), nil))
		}
	})
}
