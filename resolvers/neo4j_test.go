package resolvers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"quanzi/community/jwtauth"
	"quanzi/community/neo4jstore"
	"quanzi/community/neo4jstore/neo4jtest"
)

// newNeo4jAPI is newAPI over the Neo4j at NEO4J_URI. The graph is not emptied: tests on it
// make members of handles of their own. Without NEO4J_URI the test skips, except in CI.
func newNeo4jAPI(t *testing.T) (*api, *neo4jstore.Store) {
	t.Helper()
	uri := neo4jtest.URI(t)
	release, err := neo4jtest.Exclusive(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	s, err := neo4jstore.Open(context.Background(), neo4jstore.Config{URI: uri, Username: os.Getenv("NEO4J_USER"), Password: os.Getenv("NEO4J_PASSWORD"), Database: os.Getenv("NEO4J_DATABASE"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return newAPIOver(t, s), s
}

// TestQueriesShareATransaction checks that on Neo4j a query's reads, level after level of
// nested lists, share one transaction whatever the length of its lists, and that a
// mutation's reads after its write see it.
func TestQueriesShareATransaction(t *testing.T) {
	a, s := newNeo4jAPI(t)
	run := fmt.Sprintf("%06d", rand.IntN(1000000))
	star, _ := a.register("star_"+run, "Star")
	adminToken := mint(t, jwtauth.Claims{Roles: []string{"ADMIN"}})
	var fans []string
	for i := range 12 {
		id, token := a.register(fmt.Sprintf("fan_%s_%02d", run, i), fmt.Sprintf("Fan %d", i))
		a.follow(token, star)
		if i > 0 {
			a.follow(token, fans[i-1])
		}
		fans = append(fans, id)
	}
	query := `query($id: ID!, $first: Int) { member(id: $id) { followers(first: $first) { edges { node {
		handle followerCount
		following(first: 3) { totalCount edges { node { handle followerCount } } }
	} } } } }`
	// The member; its followers, with their profiles and counts read ahead; their
	// followings, the same.
	for _, first := range []int{2, 10} {
		txs := s.RoundTrips().Transactions()
		trips := a.followersTrips(adminToken, query, star, first)
		if n := s.RoundTrips().Transactions() - txs; n != 1 {
			t.Errorf("followers(first: %d) with nested lists: %d transactions, want 1 (%d round trips)", first, n, trips)
		}
		if trips != 3 {
			t.Errorf("followers(first: %d) with nested lists: %d round trips, want 3", first, trips)
		}
	}
	// By handle, the member's counts and its first page of followers, with their
	// profiles and counts, are read with it.
	trips := s.RoundTrips().Total()
	var byHandle struct {
		MemberByHandle struct {
			FollowerCount int
			Followers     followList
		}
	}
	a.ok(adminToken, `query($h: String!) { memberByHandle(handle: $h) { followerCount followers(first: 5) { edges { cursor node { id handle followerCount } } } } }`, map[string]any{"h": "star_" + run}, &byHandle)
	if got := byHandle.MemberByHandle; got.FollowerCount != 12 || len(got.Followers.Edges) != 5 || got.Followers.Edges[0].Node.FollowerCount != 0 || got.Followers.Edges[4].Node.FollowerCount != 1 {
		t.Errorf("memberByHandle = %+v", got)
	}
	if n := s.RoundTrips().Total() - trips; n != 1 {
		t.Errorf("a member by handle with its count and its followers' counts: %d round trips, want 1", n)
	}
	// After a cursor, the page is not read ahead, and answers as it would.
	trips = s.RoundTrips().Total()
	var next struct {
		MemberByHandle struct{ Followers followList }
	}
	a.ok(adminToken, `query($h: String!, $after: String) { memberByHandle(handle: $h) { followers(first: 5, after: $after) { edges { node { id handle followerCount } } } } }`, map[string]any{"h": "star_" + run, "after": byHandle.MemberByHandle.Followers.Edges[1].Cursor}, &next)
	if got := next.MemberByHandle.Followers.Edges; len(got) != 5 || got[0].Node.ID != byHandle.MemberByHandle.Followers.Edges[2].Node.ID {
		t.Errorf("the page after the second follower = %+v", got)
	}
	if n := s.RoundTrips().Total() - trips; n != 2 {
		t.Errorf("a member by handle and a page of its followers after a cursor: %d round trips, want 2", n)
	}

	_, token := a.register("late_"+run, "Late")
	var out struct {
		Follow struct{ Member struct{ FollowerCount int } }
	}
	a.ok(token, `mutation($id: ID!) { follow(input: {memberId: $id}) { member { followerCount } } }`, map[string]any{"id": star}, &out)
	if got := out.Follow.Member.FollowerCount; got != 13 {
		t.Errorf("followerCount in the follow's payload = %d, want 13", got)
	}
}
