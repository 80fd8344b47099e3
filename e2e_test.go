package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/meilisearch/meilisearch-go"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/search/meiliindex/meilitest"
)

// program is the real program, started with run on port 0.
type program struct {
	url  string
	stop func() error
}

func start(t *testing.T, env map[string]string, args ...string) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		p := &program{url: "http://" + a}
		var once sync.Once
		var stopErr error
		// stop may be called again (a deferred stop after an explicit one): once is enough.
		p.stop = func() error {
			once.Do(func() {
				cancel()
				select {
				case stopErr = <-done:
				case <-time.After(20 * time.Second):
					t.Error("the program did not stop within 20 s of its signal")
				}
			})
			return stopErr
		}
		return p
	case err := <-done:
		cancel()
		t.Fatalf("the program ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the program did not start listening within 30 s")
	}
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"QUANZI_ADDR": "127.0.0.1:0", "QUANZI_DATA_DIR": dataDir, "QUANZI_JWT_SECRET": testSecret}
	p := start(t, env)
	a := newClient(t, p.url)

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/": 200, "/nothing-here": 404} {
		if code, _ := get(t, p.url+path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
	lihua, lihuaToken := a.register("li_hua", "李华")
	wang, _ := a.register("wang_fang", "王芳")
	a.OK(lihuaToken, `mutation($id: ID!) { follow(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": wang}, nil)

	t.Run("federation gateway", func(t *testing.T) { runGateway(t, p.url+"/query", lihua, "li_hua", lihuaToken) })

	if err := p.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	// After a restart on the same data directory everything is still there.
	p = start(t, env)
	defer p.stop()
	a = newClient(t, p.url)
	var out struct {
		Member struct {
			Handle    string
			Following struct {
				Edges []struct{ Node struct{ Handle string } }
			}
		}
	}
	a.OK(lihuaToken, `query($id: ID!) { member(id: $id) { handle following { edges { node { handle } } } } }`, map[string]any{"id": lihua}, &out)
	if out.Member.Handle != "li_hua" || len(out.Member.Following.Edges) != 1 || out.Member.Following.Edges[0].Node.Handle != "wang_fang" {
		t.Errorf("after restart: %+v", out.Member)
	}
}

// runGateway composes this subgraph with a second one behind a real Apollo Federation
// gateway (federation/gateway-test.mjs) and runs queries that cross both.
func runGateway(t *testing.T, url, memberID, handle, token string) {
	if _, err := os.Stat(filepath.Join("federation", "node_modules", "@apollo", "gateway")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("federation/node_modules is missing: run `npm ci --prefix federation` (the test command does)")
		}
		t.Skip("federation/node_modules is missing: run `npm ci --prefix federation` to compose with a real gateway")
	}
	cmd := exec.Command("node", filepath.Join("federation", "gateway-test.mjs"))
	cmd.Env = append(os.Environ(), "QUANZI_URL="+url, "QUANZI_MEMBER_ID="+memberID, "QUANZI_MEMBER_HANDLE="+handle, "QUANZI_TOKEN="+token)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		t.Fatalf("gateway test failed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "federation: 2 passed, 0 failed") {
		t.Fatalf("gateway test did not report its checks:\n%s", out.String())
	}
}

func TestConfiguration(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"production without a secret", map[string]string{"QUANZI_ENV": "production"}, "development secret is refused"},
		{"production with the development secret", map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": jwtauth.DevelopmentSecret}, "development secret is refused"},
		{"statement log in production", map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": testSecret, "QUANZI_NEO4J_LOG_STATEMENTS": "true"}, "QUANZI_NEO4J_LOG_STATEMENTS"},
		{"production without a device key", map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": testSecret}, "QUANZI_DEVICE_KEY"},
		{"production with the development device key", map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": testSecret,
			"QUANZI_DEVICE_KEY": community.DevelopmentDeviceKey}, "QUANZI_DEVICE_KEY"},
		{"production with a short device key", map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": testSecret,
			"QUANZI_DEVICE_KEY": "short"}, "QUANZI_DEVICE_KEY"},
		{"bad burst limit", map[string]string{"QUANZI_BURST_LIMIT": "0"}, "QUANZI_BURST_LIMIT"},
		{"bad burst window", map[string]string{"QUANZI_BURST_WINDOW": "an hour"}, "QUANZI_BURST_WINDOW"},
		{"burst window too long", map[string]string{"QUANZI_BURST_WINDOW": "200h"}, "burst-window"},
		{"unknown store", map[string]string{"QUANZI_STORE": "mysql"}, "QUANZI_STORE"},
		{"neo4j without a URI", map[string]string{"QUANZI_STORE": "neo4j"}, "NEO4J_URI"},
		{"unreachable neo4j", map[string]string{"QUANZI_STORE": "neo4j", "NEO4J_URI": "bolt://127.0.0.1:1"}, "neo4j"},
		{"unknown search engine", map[string]string{"QUANZI_SEARCH": "elastic"}, "QUANZI_SEARCH"},
		{"meilisearch without a URL", map[string]string{"QUANZI_SEARCH": "meilisearch"}, "MEILI_URL"},
		{"unreachable meilisearch", map[string]string{"QUANZI_SEARCH": "meilisearch", "MEILI_URL": "http://127.0.0.1:1"}, "meiliindex"},
		{"bad meilisearch index", map[string]string{"QUANZI_SEARCH": "meilisearch", "MEILI_URL": "http://127.0.0.1:1", "QUANZI_MEILI_INDEX": "posts/all"}, "QUANZI_MEILI_INDEX"},
		{"unreachable redis", map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, "redis"},
		{"bad redis url", map[string]string{"REDIS_URL": "http://example.com"}, "REDIS_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c.env["QUANZI_ADDR"] = "127.0.0.1:0"
			c.env["QUANZI_DATA_DIR"] = t.TempDir()
			err := run(ctx, nil, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run = %v, want an error about %s", err, c.want)
			}
		})
	}
	t.Run("production serves no playground and no introspection", func(t *testing.T) {
		p := start(t, map[string]string{"QUANZI_ENV": "production", "QUANZI_JWT_SECRET": testSecret, "QUANZI_DEVICE_KEY": testDeviceKey,
			"QUANZI_ADDR": "127.0.0.1:0", "QUANZI_DATA_DIR": t.TempDir()})
		defer p.stop()
		if code, _ := get(t, p.url+"/"); code != 404 {
			t.Errorf("GET / in production = %d, want 404", code)
		}
		a := newClient(t, p.url)
		res := a.Do("", `{ __schema { types { name } } }`, nil)
		if len(res.Errors) == 0 {
			t.Error("introspection answered in production")
		}
	})
}

func TestTokenCommand(t *testing.T) {
	var out bytes.Buffer
	env := func(k string) string { return map[string]string{"QUANZI_JWT_SECRET": testSecret}[k] }
	if err := run(context.Background(), []string{"token", "--identity", "wechat:openid-9", "--role", "ADMIN"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	actor, err := jwtauth.New([]byte(testSecret), nil).Verify(context.Background(), strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if actor.Identity == nil || actor.Identity.ExternalID != "openid-9" || string(actor.Identity.Provider) != "WECHAT" || len(actor.Roles) != 1 {
		t.Errorf("token names %+v", actor)
	}
	err = run(context.Background(), []string{"token", "--member", "x"}, func(k string) string { return map[string]string{"QUANZI_ENV": "production"}[k] }, io.Discard, io.Discard)
	if err == nil {
		t.Error("a development token was minted in production")
	}
}

func TestSeed(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"QUANZI_DATA_DIR": dir, "QUANZI_JWT_SECRET": testSecret, "QUANZI_ADDR": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Seeded the demo community") || !strings.Contains(out.String(), "li_hua (李华)") {
		t.Fatalf("seed printed:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"seed"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("seeding twice: %v", err)
	}
	if !strings.Contains(out.String(), "seeded already") {
		t.Errorf("a second seed printed:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"seed", "-members", "300", "-posts", "400", "-seed", "9"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p := start(t, env)
	defer p.stop()
	a := newClient(t, p.url)
	var got struct {
		Club struct {
			MemberCount int
			Brand       struct{ Slug string }
		}
		Synthetic *struct{ ID string } `json:"synthetic"`
		Ev        struct {
			MemberCount int
		} `json:"ev"`
	}
	a.OK(adminToken(t), `{ club(slug: "byd-owners") { memberCount brand { slug } } ev: club(slug: "ev-talk") { memberCount } synthetic: memberByHandle(handle: "member_0000299") { id } }`, nil, &got)
	// The owners' club has its manager and the two members with a purchase; the third
	// member without one has asked to join.
	if got.Club.MemberCount != 3 || got.Club.Brand.Slug != "byd-auto" || got.Ev.MemberCount != len(demoMembers) || got.Synthetic == nil {
		t.Errorf("seeded community: %+v", got)
	}
	// The referral campaigns, chains and flags of the demo, built through redemptions.
	var refs struct {
		Liu, Zhou struct {
			ReferralChain []struct{ Member struct{ Handle string } }
		}
		Sun struct {
			ReferredVia struct {
				Flags    []string
				Campaign struct{ Brand struct{ Slug string } }
			}
		}
		Zhang struct{ ReferredVia struct{ Flags []string } }
	}
	a.OK(adminToken(t), `{ liu: memberByHandle(handle: "liu_yang") { referralChain { member { handle } } }
		zhou: memberByHandle(handle: "zhou_min") { referralChain { member { handle } } }
		sun: memberByHandle(handle: "sun_li") { referredVia { flags campaign { brand { slug } } } }
		zhang: memberByHandle(handle: "zhang_wei") { referredVia { flags } } }`, nil, &refs)
	handles := func(chain []struct{ Member struct{ Handle string } }) []string {
		var out []string
		for _, l := range chain {
			out = append(out, l.Member.Handle)
		}
		return out
	}
	if diff := cmp.Diff([]string{"zhao_lei", "zhang_wei", "wang_fang", "li_hua"}, handles(refs.Liu.ReferralChain)); diff != "" {
		t.Errorf("liu_yang's seeded chain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"david_wu", "emma_chen", "chen_jing"}, handles(refs.Zhou.ReferralChain)); diff != "" {
		t.Errorf("zhou_min's seeded chain (-want +got):\n%s", diff)
	}
	// Rewards in every status, earned by the purchases of the referees: one of each.
	var rewards map[string]struct {
		Rewards struct {
			Edges []struct {
				Node struct {
					Status  string
					Level   int
					Referee struct{ Handle string }
				}
			}
		}
	}
	var q strings.Builder
	q.WriteString("{")
	for _, h := range []string{"li_hua", "wang_fang", "zhang_wei", "zhao_lei", "chen_jing", "emma_chen", "david_wu"} {
		fmt.Fprintf(&q, " %s: memberByHandle(handle: %q) { rewards { edges { node { status level referee { handle } } } } }", h, h)
	}
	q.WriteString(" }")
	a.OK(adminToken(t), q.String(), nil, &rewards)
	statuses := map[string][]string{}
	for h, m := range rewards {
		for _, e := range m.Rewards.Edges {
			statuses[e.Node.Status] = append(statuses[e.Node.Status], fmt.Sprintf("%s L%d from %s", h, e.Node.Level, e.Node.Referee.Handle))
		}
	}
	for _, st := range []string{"PENDING", "GRANTED", "REVERSED", "CLAWED_BACK", "REJECTED"} {
		if len(statuses[st]) == 0 {
			t.Errorf("no seeded reward is %s; the rewards are %v", st, statuses)
		}
	}
	if got := refs.Sun.ReferredVia; len(got.Flags) != 1 || got.Flags[0] != "SHARED_DEVICE" || got.Campaign.Brand.Slug != "byd-auto" || len(refs.Zhang.ReferredVia.Flags) != 0 {
		t.Errorf("seeded referrals: sun_li %+v, zhang_wei %+v", got, refs.Zhang.ReferredVia)
	}

	var posts struct {
		Demo struct {
			Posts struct {
				Edges []struct{ Node struct{ Title string } }
			}
		} `json:"demo"`
		Synthetic struct {
			Posts struct {
				Edges []struct{ Node struct{ Title string } }
			}
		} `json:"synthetic"`
	}
	a.OK(adminToken(t), `{ demo: club(slug: "ev-talk") { posts(sort: HOT) { edges { node { title } } } } synthetic: club(slug: "club-0000") { posts { edges { node { title } } } } }`, nil, &posts)
	if len(posts.Demo.Posts.Edges) != 3 || len(posts.Synthetic.Posts.Edges) == 0 {
		t.Errorf("seeded posts: demo %d, synthetic %d", len(posts.Demo.Posts.Edges), len(posts.Synthetic.Posts.Edges))
	}

	// The server's relay indexes the seeded posts in the background.
	admin := adminToken(t)
	total := func() int {
		var out struct{ SearchPosts struct{ TotalCount int } }
		a.OK(admin, `{ searchPosts(query: "") { totalCount } }`, nil, &out)
		return out.SearchPosts.TotalCount
	}
	deadline := time.Now().Add(60 * time.Second)
	for total() < 400 {
		if time.Now().After(deadline) {
			t.Fatalf("the relay indexed %d of the seeded posts in a minute", total())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Against a shared store, reindex needs the servers' leases in Redis, or -alone.
	err := run(context.Background(), []string{"reindex", "-store", "neo4j", "-neo4j-uri", "bolt://127.0.0.1:1"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("reindex against Neo4j without Redis: %v", err)
	}
	// reindex cannot open the embedded store while the server holds it, and says what to do.
	err = run(context.Background(), []string{"reindex"}, getenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "rebuildSearchIndex") {
		t.Errorf("reindex beside a running server: %v", err)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	if err := run(context.Background(), []string{"reindex"}, getenv, io.Discard, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "reindexed 4") {
		t.Errorf("reindex printed:\n%s", progress.String())
	}
	p = start(t, env)
	defer p.stop()
	a.URL = p.url
	var hit struct {
		SearchPosts struct {
			TotalCount int
			Edges      []struct{ TitleSnippet string }
		}
	}
	a.OK(admin, `{ searchPosts(query: "保养", first: 1) { totalCount edges { titleSnippet } } }`, nil, &hit)
	if hit.SearchPosts.TotalCount == 0 || !strings.Contains(hit.SearchPosts.Edges[0].TitleSnippet, "<em>保养</em>") {
		t.Errorf("search after reindexing: %+v", hit)
	}
}

// TestSearchOnMeilisearch runs the program with QUANZI_SEARCH=meilisearch, on an index of
// its own in the test Meilisearch: the relay indexes the seeded posts there, and
// searchPosts answers from it with highlights and filters.
func TestSearchOnMeilisearch(t *testing.T) {
	url, key := meilitest.Server(t)
	index := fmt.Sprintf("posts_e2e_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropMeiliIndex(t, url, key, index) })
	env := map[string]string{"QUANZI_DATA_DIR": t.TempDir(), "QUANZI_JWT_SECRET": testSecret, "QUANZI_ADDR": "127.0.0.1:0",
		"QUANZI_SEARCH": "meilisearch", "MEILI_URL": url, "MEILI_KEY": key, "QUANZI_MEILI_INDEX": index}
	getenv := func(k string) string { return env[k] }
	if err := run(context.Background(), []string{"seed", "-members", "100", "-posts", "150", "-seed", "9"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p := start(t, env)
	defer p.stop()
	a := newClient(t, p.url)
	admin := adminToken(t)
	var all struct{ SearchPosts struct{ TotalCount int } }
	deadline := time.Now().Add(60 * time.Second)
	for all.SearchPosts.TotalCount < 150 {
		if time.Now().After(deadline) {
			t.Fatalf("the relay indexed %d of the seeded posts into Meilisearch in a minute", all.SearchPosts.TotalCount)
		}
		time.Sleep(50 * time.Millisecond)
		a.OK(admin, `{ searchPosts(query: "") { totalCount } }`, nil, &all)
	}
	type hits struct {
		SearchPosts struct {
			TotalCount int
			Edges      []struct {
				TitleSnippet string
				Node         struct{ Club struct{ ID string } }
			}
		}
	}
	const q = `query($clubs: [ID!]) { searchPosts(query: "保养", filter: {clubIds: $clubs}) { totalCount edges { titleSnippet node { club { id } } } } }`
	var everywhere hits
	a.OK(admin, q, nil, &everywhere)
	if everywhere.SearchPosts.TotalCount == 0 || len(everywhere.SearchPosts.Edges) == 0 {
		t.Fatal("保养 found nothing on Meilisearch")
	}
	if !strings.Contains(everywhere.SearchPosts.Edges[0].TitleSnippet, "<em>保养</em>") {
		t.Errorf("the best hit's title is not highlighted: %q", everywhere.SearchPosts.Edges[0].TitleSnippet)
	}
	club := everywhere.SearchPosts.Edges[0].Node.Club.ID
	var in hits
	a.OK(admin, q, map[string]any{"clubs": []string{club}}, &in)
	if in.SearchPosts.TotalCount == 0 || in.SearchPosts.TotalCount > everywhere.SearchPosts.TotalCount {
		t.Errorf("保养 in club %s: %d hits, of %d in all clubs", club, in.SearchPosts.TotalCount, everywhere.SearchPosts.TotalCount)
	}
	for _, e := range in.SearchPosts.Edges {
		if e.Node.Club.ID != club {
			t.Errorf("a hit of the club filter is in club %s, not %s", e.Node.Club.ID, club)
		}
	}
}

// dropMeiliIndex deletes a test's index from the test Meilisearch; Meilisearch finishes the
// deletion on its own.
func dropMeiliIndex(t *testing.T, url, key, index string) {
	if _, err := meilisearch.New(url, meilisearch.WithAPIKey(key)).DeleteIndex(index); err != nil {
		t.Errorf("drop index %s: %v", index, err)
	}
}

// TestSeedStopsAtItsFirstFailure seeds a store where a demo member's handle is taken: the
// seed says which step failed, instead of going on with what that step did not make.
func TestSeedStopsAtItsFirstFailure(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(dir, "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	taken := community.Member{ID: community.NewID(), Handle: "li_hua", DisplayName: "另一个李华", JoinedAt: time.Now()}
	if err := s.CreateMember(context.Background(), taken, community.Identity{Provider: community.ProviderWeChat, ExternalID: "someone-else"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out bytes.Buffer
	env := map[string]string{"QUANZI_DATA_DIR": dir, "QUANZI_JWT_SECRET": testSecret}
	err = run(context.Background(), []string{"seed"}, func(k string) string { return env[k] }, &out, io.Discard)
	if community.ErrorCode(err) != community.CodeConflict || !strings.Contains(err.Error(), "seed the demo community") {
		t.Errorf("seed over a taken handle: %v", err)
	}
	if strings.Contains(out.String(), "Seeded the demo community") {
		t.Errorf("a failed seed said it seeded:\n%s", out.String())
	}
}
