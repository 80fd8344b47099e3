package resolvers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestMemberPagesReadAhead checks that on Neo4j a page of a club's or a brand's members
// reads, in its own statement, the members it lists and their follow counts when the
// query selects them, so that neither costs a round trip of its own; that the page answers
// as it would without; and that brand staff still see only the members who consented.
func TestMemberPagesReadAhead(t *testing.T) {
	a, s := newNeo4jAPI(t)
	run := fmt.Sprintf("%06d", rand.IntN(1000000))
	cm := mint(t, jwtClaimsRoles("COMMUNITY_MANAGER"))
	brand := a.createBrand("ahead-"+run, "预读 "+run)
	club := a.createClub(cm, map[string]any{"slug": "ahead-" + run, "name": "预读车友会", "kind": "OWNER_CLUB",
		"visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": brand})
	// Five owners, newest last: the n-th has n followers; all but the second share their
	// profile and activity with the brand.
	var owners []string
	for i := range 5 {
		id, tok := a.register(fmt.Sprintf("owner_%s_%d", run, i), fmt.Sprintf("车主 %d", i))
		a.join(tok, club)
		a.ok(tok, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { tier } } }`, map[string]any{"b": brand}, nil)
		if i != 1 {
			a.ok(tok, consentOp, map[string]any{"b": brand, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		}
		for j := range i {
			_, fan := a.register(fmt.Sprintf("fan_%s_%d_%d", run, i, j), "粉丝")
			a.follow(fan, id)
		}
		owners = append(owners, fmt.Sprintf("owner_%s_%d", run, i))
	}
	type page struct {
		Edges []struct {
			Node struct {
				Member struct {
					Handle        string
					FollowerCount int
				}
			}
		}
	}
	read := func(token, query string, vars map[string]any, list func(out map[string]map[string]page) page) (got []string, counts []int, trips map[string]int64) {
		t.Helper()
		ops := []string{"MembersByID", "FollowCounts", "ClubMembers", "BrandMembers"}
		was := map[string]int64{}
		for _, op := range ops {
			was[op] = a.trips.Of(op)
		}
		var out map[string]map[string]page
		a.ok(token, query, vars, &out)
		trips = map[string]int64{}
		for _, op := range ops {
			if n := a.trips.Of(op) - was[op]; n > 0 {
				trips[op] = n
			}
		}
		for _, e := range list(out).Edges {
			got, counts = append(got, e.Node.Member.Handle), append(counts, e.Node.Member.FollowerCount)
		}
		return got, counts, trips
	}
	clubPage := func(out map[string]map[string]page) page { return out["club"]["members"] }
	brandPage := func(out map[string]map[string]page) page { return out["brand"]["members"] }
	for _, tc := range []struct {
		name, token, query string
		vars               map[string]any
		list               func(map[string]map[string]page) page
		want               []string
		wantCounts         []int
		wantTrips          map[string]int64
	}{{
		name: "club members with counts", token: cm,
		query: `query($slug: String!) { club(slug: $slug) { members(first: 4) { edges { node { member { handle followerCount } } } } } }`,
		vars:  map[string]any{"slug": "ahead-" + run}, list: clubPage,
		want: []string{owners[4], owners[3], owners[2], owners[1]}, wantCounts: []int{4, 3, 2, 1},
		wantTrips: map[string]int64{"ClubMembers": 1},
	}, {
		name: "club members, handles only", token: cm,
		query: `query($slug: String!) { club(slug: $slug) { members(first: 2) { edges { node { member { handle } } } } } }`,
		vars:  map[string]any{"slug": "ahead-" + run}, list: clubPage,
		want: []string{owners[4], owners[3]}, wantCounts: []int{0, 0},
		wantTrips: map[string]int64{"ClubMembers": 1},
	}, {
		name: "club members seen by brand staff", token: staffToken(t, brand, "BRAND_STAFF"),
		query: `query($slug: String!) { club(slug: $slug) { members(first: 4) { edges { node { member { handle followerCount } } } } } }`,
		vars:  map[string]any{"slug": "ahead-" + run}, list: clubPage,
		want: []string{owners[4], owners[3], owners[2], owners[0]}, wantCounts: []int{4, 3, 2, 0},
		wantTrips: map[string]int64{"ClubMembers": 2},
	}, {
		name: "brand members with counts", token: staffToken(t, brand, "BRAND_STAFF"),
		query: `query($slug: String!) { brand(slug: $slug) { members(first: 3) { edges { node { member { handle followerCount } } } } } }`,
		vars:  map[string]any{"slug": "ahead-" + run}, list: brandPage,
		want: []string{owners[4], owners[3], owners[2]}, wantCounts: []int{4, 3, 2},
		wantTrips: map[string]int64{"BrandMembers": 1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			txs := s.RoundTrips().Transactions()
			got, counts, trips := read(tc.token, tc.query, tc.vars, tc.list)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCounts, counts); diff != "" {
				t.Errorf("follower counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTrips, trips); diff != "" {
				t.Errorf("round trips by method (-want +got):\n%s", diff)
			}
			if n := s.RoundTrips().Transactions() - txs; n != 1 {
				t.Errorf("%d transactions, want 1", n)
			}
		})
	}
}
