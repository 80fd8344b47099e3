package neo4jstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The tests of this file check, for the club part of the store, what the contract suite
// leaves to each store or cannot see from outside: conflict messages, the shape of the
// graph, writes of one member's place in a club that race, and that the locks leave
// nothing behind.

// clubMembers reads one page of one club's members of a role ("" for all).
func clubMembers(ctx context.Context, s *Store, clubID string, role community.ClubRole, first int, after *community.Position) ([]community.ClubMembership, bool, error) {
	pages, err := s.ClubMembers(ctx, role, first, []community.ClubListRequest{{ClubID: clubID, After: after}})
	if err != nil {
		return nil, false, err
	}
	return pages[0].Memberships, pages[0].HasNextPage, nil
}

func addClub(t *testing.T, s *Store, slug, brandID, manager string) community.Club {
	t.Helper()
	c := community.Club{
		ID: community.NewID(), Slug: slug, Name: "俱乐部 " + slug, Kind: community.KindOwnerClub,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinApproval, BrandID: brandID, CreatedAt: brandBase,
	}
	var m *community.ClubMembership
	if manager != "" {
		m = &community.ClubMembership{ClubID: c.ID, MemberID: manager, Role: community.RoleManager, Since: brandBase}
	}
	mustDo(t, s.CreateClub(context.Background(), c, m))
	return c
}

// relationships counts the relationships of a type between a member and a club.
func relationships(t *testing.T, s *Store, relType, memberID, clubID string) int {
	t.Helper()
	ctx := context.Background()
	n, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherCountClubRelationships, map[string]any{"type": relType, "memberId": memberID, "clubId": clubID}, "n")
	})
	mustDo(t, err)
	return n
}

// wantJoinedOnce checks that a member holds one membership of a club and no request to
// join it, after the writes the report names.
func wantJoinedOnce(t *testing.T, s *Store, memberID, clubID, after string) {
	t.Helper()
	if got := relationships(t, s, "JOINED", memberID, clubID); got != 1 {
		t.Errorf("%s stored %d memberships, want 1", after, got)
	}
	if got := relationships(t, s, "REQUESTED_TO_JOIN", memberID, clubID); got != 0 {
		t.Errorf("%s left %d requests", after, got)
	}
}

const cypherCountClubRelationships = `
MATCH (:Member {id: $memberId})-[r]->(:Club {id: $clubId})
WHERE type(r) = $type
RETURN count(r) AS n`

// TestClubConflicts checks that club ids and slugs (case-insensitively) are unique, with
// messages about clubs, and that a refused or unknown-referencing club writes nothing.
func TestClubConflicts(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	brand := addBrand(t, s, "nio").ID
	manager := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", brand, manager)
	fresh := func(slug, brandID string) community.Club {
		return community.Club{ID: community.NewID(), Slug: slug, Name: "x", Kind: community.KindForum,
			Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, BrandID: brandID, CreatedAt: brandAt(1)}
	}
	taken := fresh("other", "")
	taken.ID = club.ID
	cases := []struct {
		name    string
		club    community.Club
		manager *community.ClubMembership
		code    community.Code
		message string
	}{
		{"slug", fresh("es8-owners", ""), nil, community.CodeConflict, "the slug is taken"},
		{"slug in another case", fresh("ES8-Owners", brand), nil, community.CodeConflict, "the slug is taken"},
		{"id", taken, nil, community.CodeConflict, "the club exists already"},
		{"unknown brand", fresh("a-club", community.NewID()), nil, community.CodeNotFound, ""},
		{"unknown manager", fresh("b-club", brand), &community.ClubMembership{MemberID: community.NewID(), Role: community.RoleManager}, community.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.CreateClub(ctx, c.club, c.manager)
			wantErrCode(t, err, c.code)
			if c.message != "" && community.ErrorMessage(err) != c.message {
				t.Errorf("message = %q, want %q", community.ErrorMessage(err), c.message)
			}
		})
	}
	got, err := s.ClubsOfBrands(ctx, []string{brand})
	mustDo(t, err)
	if diff := cmp.Diff(map[string][]community.Club{brand: {club}}, got); diff != "" {
		t.Errorf("ClubsOfBrands after refused clubs (-want +got):\n%s", diff)
	}
	recs, err := query(ctx, s, `MATCH (c:Club) RETURN count(c) AS n`, nil)
	mustDo(t, err)
	if n := integer(get(recs[0], "n")); n != 1 {
		t.Errorf("%d clubs stored after refused creations, want 1", n)
	}
}

// TestClubGraph checks the shape of the graph DESIGN §4 names: a brand's club is HOSTED_BY
// its brand, a platform club has no brandId, and the first manager has JOINED the club.
func TestClubGraph(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	brand := addBrand(t, s, "nio").ID
	manager := addMember(t, s, "li_hua")
	hosted := addClub(t, s, "es8-owners", brand, manager)
	platform := addClub(t, s, "cars", "", "")
	recs, err := query(ctx, s, cypherClubShape, map[string]any{"ids": []string{hosted.ID, platform.ID}})
	mustDo(t, err)
	type shape struct {
		Host, Managers string
		HasBrandID     bool
	}
	got := map[string]shape{}
	for _, r := range recs {
		got[str(get(r, "id"))] = shape{Host: str(get(r, "host")), Managers: fmt.Sprint(get(r, "managers")), HasBrandID: boolean(get(r, "hasBrandId"))}
	}
	want := map[string]shape{
		hosted.ID:   {Host: brand, Managers: fmt.Sprint([]any{manager}), HasBrandID: true},
		platform.ID: {Managers: fmt.Sprint([]any{}), HasBrandID: false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("club graph (-want +got):\n%s", diff)
	}
}

const cypherClubShape = `
UNWIND $ids AS id
MATCH (c:Club {id: id})
OPTIONAL MATCH (c)-[:HOSTED_BY]->(b:Brand)
RETURN id, b.id AS host, c.brandId IS NOT NULL AS hasBrandId,
  COLLECT { MATCH (m:Member)-[j:JOINED {role: 'MANAGER'}]->(c) RETURN m.id } AS managers`

// TestConcurrentJoins checks that many joins and requests of one member at the same time
// leave one membership, with the first place, and one request at most.
func TestConcurrentJoins(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	club := addClub(t, s, "es8-owners", "", "")
	m := addMember(t, s, "li_hua")
	const n = 12
	concurrently(t, n, func(i int) error {
		return s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, Message: fmt.Sprint(i), At: brandAt(1)})
	})
	if got := relationships(t, s, "REQUESTED_TO_JOIN", m, club.ID); got != 1 {
		t.Fatalf("%d concurrent requests stored %d, want 1", n, got)
	}
	concurrently(t, n, func(i int) error {
		return s.JoinClub(ctx, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: community.RoleMember, Since: brandAt(2 + i)})
	})
	wantJoinedOnce(t, s, m, club.ID, fmt.Sprintf("%d concurrent joins", n))
	// Requests of a member, made while it joins, are refused or removed by the join.
	mustDo(t, s.LeaveClub(ctx, club.ID, m))
	concurrently(t, n, func(i int) error {
		if i%2 == 0 {
			return s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: brandAt(20)})
		}
		return s.JoinClub(ctx, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: community.RoleMember, Since: brandAt(20)})
	}, community.CodeConflict)
	wantJoinedOnce(t, s, m, club.ID, "joins racing requests")
	noLocksLeft(t, s)
}

// TestConcurrentDecisions checks that of many decisions of one request at the same time,
// one decides it and the others find none, and that a decision racing a join leaves one
// membership.
func TestConcurrentDecisions(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	club := addClub(t, s, "es8-owners", "", "")
	const n = 12
	for round := range 4 {
		m := addMember(t, s, fmt.Sprintf("member_%d", round))
		mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, Message: "请通过", At: brandAt(round)}))
		approvals := make([]bool, n)
		decided := concurrently(t, n, func(i int) error {
			approve := (i+round)%2 == 0
			err := s.DecideJoinRequest(ctx, club.ID, m, approve, brandAt(10+round))
			if err == nil {
				approvals[i] = approve
			}
			return err
		}, community.CodeNotFound)
		if decided != 1 {
			t.Fatalf("round %d: %d concurrent decisions of one request succeeded, want 1", round, decided)
		}
		approved := false
		for _, a := range approvals {
			approved = approved || a
		}
		got, err := s.ClubMemberships(ctx, []community.ClubMemberKey{{ClubID: club.ID, MemberID: m}})
		mustDo(t, err)
		want := map[community.ClubMemberKey]community.ClubMembership{}
		if approved {
			want[community.ClubMemberKey{ClubID: club.ID, MemberID: m}] = community.ClubMembership{ClubID: club.ID, MemberID: m, Role: community.RoleMember, Since: brandAt(10 + round)}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round %d: membership after the decision (-want +got):\n%s", round, diff)
		}
		if got := relationships(t, s, "REQUESTED_TO_JOIN", m, club.ID); got != 0 {
			t.Errorf("round %d: %d requests left after the decision", round, got)
		}
	}
	// Approvals racing joins of the same members.
	var members []string
	for i := range n {
		m := addMember(t, s, fmt.Sprintf("racer_%d", i))
		mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: brandAt(30)}))
		members = append(members, m)
	}
	concurrently(t, 2*n, func(i int) error {
		m := members[i/2]
		if i%2 == 0 {
			return s.DecideJoinRequest(ctx, club.ID, m, true, brandAt(31))
		}
		return s.JoinClub(ctx, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: community.RoleMember, Since: brandAt(31)})
	}, community.CodeNotFound)
	for _, m := range members {
		wantJoinedOnce(t, s, m, club.ID, "an approval racing a join")
	}
	noLocksLeft(t, s)
}

// TestConcurrentRolesAndLeaves checks that role changes racing a leave either change the
// role or find no member, and never fail otherwise.
func TestConcurrentRolesAndLeaves(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	club := addClub(t, s, "es8-owners", "", "")
	const n = 8
	for round := range 3 {
		m := addMember(t, s, fmt.Sprintf("member_%d", round))
		mustDo(t, s.JoinClub(ctx, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: community.RoleMember, Since: brandAt(round)}))
		concurrently(t, n, func(i int) error {
			if i == n/2 {
				return s.LeaveClub(ctx, club.ID, m)
			}
			return s.SetClubRole(ctx, club.ID, m, community.RoleModerator)
		}, community.CodeNotFound)
		if got := relationships(t, s, "JOINED", m, club.ID); got != 0 {
			t.Errorf("round %d: %d memberships after leaving", round, got)
		}
	}
	noLocksLeft(t, s)
}

// TestConcurrentClubUpdates checks that updates of different fields of one club at the
// same time all take effect: each reads the club after the one before it wrote.
func TestConcurrentClubUpdates(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	club := addClub(t, s, "es8-owners", "", "")
	name, description := "蔚来 ES8 车主", "车主交流"
	private, open := community.VisibilityPrivate, community.JoinOpen
	updates := []community.UpdateClubInput{{Name: &name}, {Description: &description}, {Visibility: &private}, {JoinPolicy: &open}}
	for round := range 3 {
		concurrently(t, len(updates), func(i int) error {
			_, err := s.UpdateClub(ctx, club.ID, updates[i])
			return err
		})
		want := club
		for _, in := range updates {
			want = in.Apply(want)
		}
		got, err := s.ClubsByID(ctx, []string{club.ID})
		mustDo(t, err)
		if diff := cmp.Diff(map[string]community.Club{club.ID: want}, got); diff != "" {
			t.Errorf("round %d: club after concurrent updates (-want +got):\n%s", round, diff)
		}
		// Put the club back for the next round.
		reset := community.UpdateClubInput{Name: &club.Name, Description: &club.Description, Visibility: &club.Visibility, JoinPolicy: &club.JoinPolicy}
		_, err = s.UpdateClub(ctx, club.ID, reset)
		mustDo(t, err)
	}
	_, err := s.UpdateClub(ctx, community.NewID(), updates[0])
	wantErrCode(t, err, community.CodeNotFound)
	noLocksLeft(t, s)
}

// TestClubPages checks the order of join requests and members, ties in time included, by
// walking every page size, and the role filter.
func TestClubPages(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	club := addClub(t, s, "es8-owners", "", "")
	other := addClub(t, s, "et7-owners", "", "")
	const n = 7
	var wantRequests []community.JoinRequest
	var wantMembers []community.ClubMembership
	var ids []string
	for i := range n {
		ids = append(ids, addMember(t, s, fmt.Sprintf("member_%d", i)))
	}
	// Times repeat, so that the member id decides between some; the list order is time
	// descending, then id ascending.
	times := []int{3, 1, 3, 2, 1, 3, 0}
	for i, m := range ids {
		r := community.JoinRequest{ClubID: club.ID, MemberID: m, Message: fmt.Sprintf("第 %d 个", i), At: brandAt(times[i])}
		mustDo(t, s.RequestJoin(ctx, r))
		mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: other.ID, MemberID: m, At: brandAt(9)}))
		wantRequests = append(wantRequests, r)
		role := community.RoleMember
		if i%3 == 0 {
			role = community.RoleModerator
		}
		ms := community.ClubMembership{ClubID: other.ID, MemberID: m, Role: role, Since: brandAt(times[len(times)-1-i])}
		mustDo(t, s.JoinClub(ctx, ms))
		wantMembers = append(wantMembers, ms)
	}
	slices.SortFunc(wantRequests, func(a, b community.JoinRequest) int {
		return inListOrder(a.At, a.MemberID, b.At, b.MemberID)
	})
	slices.SortFunc(wantMembers, func(a, b community.ClubMembership) int {
		return inListOrder(a.Since, a.MemberID, b.Since, b.MemberID)
	})

	for size := 1; size <= n+1; size++ {
		t.Run(fmt.Sprintf("first=%d", size), func(t *testing.T) {
			var gotRequests []community.JoinRequest
			var after *community.Position
			for {
				page, more, err := s.JoinRequests(ctx, club.ID, size, after)
				mustDo(t, err)
				gotRequests = append(gotRequests, page...)
				if !more {
					break
				}
				last := page[len(page)-1]
				after = &community.Position{Since: last.At, ID: last.MemberID}
			}
			if diff := cmp.Diff(wantRequests, gotRequests); diff != "" {
				t.Errorf("join requests (-want +got):\n%s", diff)
			}
			var gotMembers []community.ClubMembership
			after = nil
			for {
				page, more, err := clubMembers(ctx, s, other.ID, "", size, after)
				mustDo(t, err)
				gotMembers = append(gotMembers, page...)
				if !more {
					break
				}
				last := page[len(page)-1]
				after = &community.Position{Since: last.Since, ID: last.MemberID}
			}
			if diff := cmp.Diff(wantMembers, gotMembers); diff != "" {
				t.Errorf("club members (-want +got):\n%s", diff)
			}
		})
	}
	var moderators []community.ClubMembership
	for _, m := range wantMembers {
		if m.Role == community.RoleModerator {
			moderators = append(moderators, m)
		}
	}
	got, more, err := clubMembers(ctx, s, other.ID, community.RoleModerator, n, nil)
	mustDo(t, err)
	if diff := cmp.Diff(moderators, got); diff != "" || more {
		t.Errorf("moderators (more %v) (-want +got):\n%s", more, diff)
	}
	page, more, err := s.JoinRequests(ctx, club.ID, 0, nil)
	mustDo(t, err)
	if len(page) != 0 || !more {
		t.Errorf("first=0: %d requests, more %v; want none and more", len(page), more)
	}
}

// inListOrder compares two items of a list ordered by time descending, then id ascending.
func inListOrder(at1 time.Time, id1 string, at2 time.Time, id2 string) int {
	if c := at2.Compare(at1); c != 0 {
		return c
	}
	return strings.Compare(id1, id2)
}

// TestClubMemberBatches checks the batch reads: duplicate and unknown keys, unknown clubs.
func TestClubMemberBatches(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	manager := addMember(t, s, "li_hua")
	plain := addMember(t, s, "wang_fang")
	a := addClub(t, s, "a-club", "", manager)
	b := addClub(t, s, "b-club", "", "")
	mustDo(t, s.JoinClub(ctx, community.ClubMembership{ClubID: b.ID, MemberID: plain, Role: community.RoleMember, Since: brandAt(1), Verified: true}))
	keys := []community.ClubMemberKey{
		{ClubID: a.ID, MemberID: manager}, {ClubID: a.ID, MemberID: manager},
		{ClubID: a.ID, MemberID: plain}, {ClubID: b.ID, MemberID: plain},
		{ClubID: community.NewID(), MemberID: plain}, {ClubID: b.ID, MemberID: community.NewID()},
	}
	got, err := s.ClubMemberships(ctx, keys)
	mustDo(t, err)
	want := map[community.ClubMemberKey]community.ClubMembership{
		{ClubID: a.ID, MemberID: manager}: {ClubID: a.ID, MemberID: manager, Role: community.RoleManager, Since: brandBase},
		{ClubID: b.ID, MemberID: plain}:   {ClubID: b.ID, MemberID: plain, Role: community.RoleMember, Since: brandAt(1), Verified: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ClubMemberships (-want +got):\n%s", diff)
	}
	unknown := community.NewID()
	counts, err := s.ClubMemberCounts(ctx, []string{a.ID, b.ID, unknown})
	mustDo(t, err)
	if diff := cmp.Diff(map[string]int{a.ID: 1, b.ID: 1}, counts); diff != "" {
		t.Errorf("ClubMemberCounts (-want +got):\n%s", diff)
	}
}

// TestClubsOfBrandsOrder checks what the contract leaves to the store: a brand's clubs
// created at the same time are listed by id.
func TestClubsOfBrandsOrder(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	brand := addBrand(t, s, "nio").ID
	var want []community.Club
	for _, slug := range []string{"c-club", "a-club", "d-club", "b-club"} {
		want = append(want, addClub(t, s, slug, brand, ""))
	}
	later := community.Club{ID: "0", Slug: "later", Name: "x", Kind: community.KindForum, Visibility: community.VisibilityPublic,
		JoinPolicy: community.JoinOpen, BrandID: brand, CreatedAt: brandAt(1)}
	mustDo(t, s.CreateClub(ctx, later, nil))
	slices.SortFunc(want, func(a, b community.Club) int { return strings.Compare(a.ID, b.ID) })
	want = append(want, later)
	got, err := s.ClubsOfBrands(ctx, []string{brand})
	mustDo(t, err)
	if diff := cmp.Diff(map[string][]community.Club{brand: want}, got); diff != "" {
		t.Errorf("ClubsOfBrands (-want +got):\n%s", diff)
	}
}
