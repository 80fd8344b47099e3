package resolvers_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
	"quanzi/graph"
	"quanzi/resolvers"
	"quanzi/search"
	"quanzi/search/bleveindex"
)

// TestEveryMutationWrites checks that every field of Mutation carries @write, which clears
// the request's loaders around it, primes them with its payload and wakes the relay: a new
// mutation without it would answer from what the request read before it wrote.
func TestEveryMutationWrites(t *testing.T) {
	mutation := graph.NewExecutableSchema(graph.Config{}).Schema().Mutation
	if len(mutation.Fields) < 30 {
		t.Fatalf("Mutation has %d fields", len(mutation.Fields))
	}
	for _, f := range mutation.Fields {
		if f.Directives.ForName("write") == nil {
			t.Errorf("Mutation.%s has no @write", f.Name)
		}
	}
}

// TestMutationPrimesItsPayload checks that a field below a mutation's payload that looks
// up the entity the mutation returned reads it as the mutation wrote it, without another
// round trip.
func TestMutationPrimesItsPayload(t *testing.T) {
	a := newAPI(t)
	forum, _ := a.evTalk()
	_, author := a.register("li_hua", "李华")
	a.join(author, forum)
	post := a.createPost(author, forum, "旧标题")
	a.ok(author, `mutation($p: ID!) { addComment(input: {postId: $p, body: "沙发"}) { comment { id } } }`, map[string]any{"p": post}, nil)

	type edited struct {
		EditPost struct {
			Post struct {
				Title    string
				Comments struct {
					Edges []struct {
						Node struct{ Post *struct{ Title string } }
					}
				}
			}
		} `json:"editPost"`
	}
	edit := func(title, nested string) (edited, int64) {
		t.Helper()
		var out edited
		before := a.trips.Of("PostsByID")
		a.ok(author, `mutation($p: ID!, $t: String!) { editPost(input: {postId: $p, title: $t, body: "正文"}) {
			post { title comments(first: 5) { edges { node { `+nested+` } } } } } }`, map[string]any{"p": post, "t": title}, &out)
		return out, a.trips.Of("PostsByID") - before
	}
	_, alone := edit("标题一", "id")
	out, nested := edit("标题二", "id post { title }")
	if nested != alone {
		t.Errorf("the comments' post cost %d reads of posts beside the mutation's own %d, want none", nested-alone, alone)
	}
	var got []string
	for _, e := range out.EditPost.Post.Comments.Edges {
		if e.Node.Post == nil {
			t.Fatal("a comment's post is null")
		}
		got = append(got, e.Node.Post.Title)
	}
	if diff := cmp.Diff([]string{"标题二"}, got); diff != "" {
		t.Errorf("the comments' post after the edit (-want +got):\n%s", diff)
	}
}

// TestMutationWakesTheRelay checks that a mutation wakes the search relay: with a relay that
// would otherwise look at the outbox once an hour, a new post is searchable at once.
func TestMutationWakesTheRelay(t *testing.T) {
	s := openEmbedded(t)
	idx, err := bleveindex.Open(bleveindex.Config{Dir: filepath.Join(t.TempDir(), "search")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	svc := community.New(s, community.Config{})
	leases := &community.LocalLeases{}
	relay := search.NewRelay(s, idx, leases, search.RelayConfig{Idle: time.Hour, Logger: quietLog()})
	ops := search.NewOps(t.Context(), s, idx, leases, relay, "wake-test", quietLog())
	done := make(chan struct{})
	go func() {
		defer close(done)
		relay.Run(t.Context())
	}()
	// Stop the relay before the index closes.
	t.Cleanup(func() { <-done })
	srv := httptest.NewServer(resolvers.NewHandler(resolvers.Deps{
		Services: svc, Search: search.NewService(idx, svc.Posts), SearchOps: ops, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog(),
	}, development()))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL, trips: s.RoundTrips().ByMethod(), relay: relay}

	forum, _ := a.evTalk()
	_, author := a.register("li_hua", "李华")
	a.join(author, forum)
	a.createPost(author, forum, "电池保养")
	deadline := time.Now().Add(10 * time.Second)
	for len(a.search(author, "保养", nil).Edges) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a new post was not searchable within 10 s: the relay was not woken")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
