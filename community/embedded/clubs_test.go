package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
)

// newClub returns a club of the brand ("" for the platform) created at the minute.
func newClub(slug, brandID string, minute int) community.Club {
	return community.Club{
		ID: community.NewID(), Slug: slug, Name: "俱乐部 " + slug, Description: "车友会",
		Kind: community.KindOwnerClub, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen,
		BrandID: brandID, CreatedAt: at(minute),
	}
}

func clubKey(clubID, memberID string) community.ClubMemberKey {
	return community.ClubMemberKey{ClubID: clubID, MemberID: memberID}
}

func membership(clubID, memberID string, role community.ClubRole, minute int) community.ClubMembership {
	return community.ClubMembership{ClubID: clubID, MemberID: memberID, Role: role, Since: at(minute)}
}

// clubMembers reads one page of one club's members of a role ("" for all).
func clubMembers(ctx context.Context, s community.Store, clubID string, role community.ClubRole, first int, after *community.Position) ([]community.ClubMembership, bool, error) {
	pages, err := s.ClubMembers(ctx, role, first, []community.ClubListRequest{{ClubID: clubID, After: after}})
	if err != nil {
		return nil, false, err
	}
	return pages[0].Memberships, pages[0].HasNextPage, nil
}

func TestClubs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bs := brands(t, s, "nio", "xpeng", "li-auto")
	nio, xpeng := bs[0].ID, bs[1].ID
	ms := members(t, s, 2)

	owners := newClub("nio-owners", nio, 10)
	manager := membership(owners.ID, ms[0], community.RoleManager, 10)
	must(t, s.CreateClub(ctx, owners, &manager))
	platform := newClub("city-drives", "", 11)
	must(t, s.CreateClub(ctx, platform, nil))

	t.Run("create refused", func(t *testing.T) {
		cases := []struct {
			name    string
			club    community.Club
			manager *community.ClubMembership
			code    community.Code
		}{
			{"taken id", func() community.Club { c := newClub("other", nio, 12); c.ID = owners.ID; return c }(), nil, community.CodeConflict},
			{"taken slug", newClub("nio-owners", xpeng, 12), nil, community.CodeConflict},
			{"taken slug of a platform club", newClub("city-drives", nio, 12), nil, community.CodeConflict},
			{"unknown brand", newClub("ghost-owners", community.NewID(), 12), nil, community.CodeNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.CreateClub(ctx, tc.club, tc.manager), tc.code)
			})
		}
		t.Run("unknown manager", func(t *testing.T) {
			c := newClub("lonely", nio, 12)
			m := membership(c.ID, community.NewID(), community.RoleManager, 12)
			wantCode(t, s.CreateClub(ctx, c, &m), community.CodeNotFound)
			got, err := s.ClubsByID(ctx, []string{c.ID})
			must(t, err)
			diff(t, "club whose manager is unknown", map[string]community.Club{}, got)
			_, err = s.ClubBySlug(ctx, "lonely")
			wantCode(t, err, community.CodeNotFound)
		})
	})

	got, err := s.ClubsByID(ctx, []string{owners.ID, community.NewID(), platform.ID})
	must(t, err)
	diff(t, "ClubsByID", map[string]community.Club{owners.ID: owners, platform.ID: platform}, got)
	bySlug, err := s.ClubBySlug(ctx, "city-drives")
	must(t, err)
	diff(t, "ClubBySlug", platform, bySlug)
	_, err = s.ClubBySlug(ctx, "no-such-club")
	wantCode(t, err, community.CodeNotFound)

	found, err := s.ClubMemberships(ctx, []community.ClubMemberKey{clubKey(owners.ID, ms[0]), clubKey(owners.ID, ms[1]), clubKey(platform.ID, ms[0])})
	must(t, err)
	diff(t, "the manager's membership", map[community.ClubMemberKey]community.ClubMembership{clubKey(owners.ID, ms[0]): manager}, found)

	t.Run("update", func(t *testing.T) {
		name, policy := "蔚来车主俱乐部", community.JoinApproval
		updated, err := s.UpdateClub(ctx, owners.ID, community.UpdateClubInput{Name: &name, JoinPolicy: &policy})
		must(t, err)
		want := owners
		want.Name, want.JoinPolicy = name, policy
		diff(t, "UpdateClub", want, updated)
		got, err := s.ClubsByID(ctx, []string{owners.ID})
		must(t, err)
		diff(t, "club after UpdateClub", want, got[owners.ID])
		owners = want
		_, err = s.UpdateClub(ctx, community.NewID(), community.UpdateClubInput{Name: &name})
		wantCode(t, err, community.CodeNotFound)
	})

	t.Run("clubs of brands", func(t *testing.T) {
		// Clubs created at the same time are ordered by id.
		same := []community.Club{newClub("nio-divers", nio, 5), newClub("nio-hikers", nio, 5)}
		for _, c := range same {
			must(t, s.CreateClub(ctx, c, nil))
		}
		slices.SortFunc(same, func(a, b community.Club) int { return strings.Compare(a.ID, b.ID) })
		xpengClub := newClub("xpeng-owners", xpeng, 1)
		must(t, s.CreateClub(ctx, xpengClub, nil))
		got, err := s.ClubsOfBrands(ctx, []string{nio, xpeng, bs[2].ID, community.NewID()})
		must(t, err)
		want := map[string][]community.Club{nio: {same[0], same[1], owners}, xpeng: {xpengClub}}
		diff(t, "ClubsOfBrands", want, got)
	})

	t.Run("times come back in UTC", func(t *testing.T) {
		c := newClub("utc-club", nio, 0)
		c.CreatedAt = c.CreatedAt.In(time.FixedZone("CST", 8*3600))
		m := membership(c.ID, ms[1], community.RoleManager, 0)
		m.Since = m.Since.In(time.FixedZone("CST", 8*3600))
		must(t, s.CreateClub(ctx, c, &m))
		got, err := s.ClubBySlug(ctx, "utc-club")
		must(t, err)
		if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(at(0)) {
			t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, at(0))
		}
		found, err := s.ClubMemberships(ctx, []community.ClubMemberKey{clubKey(c.ID, ms[1])})
		must(t, err)
		if since := found[clubKey(c.ID, ms[1])].Since; since.Location() != time.UTC || !since.Equal(at(0)) {
			t.Errorf("Since = %v, want %v in UTC", since, at(0))
		}
	})
}

func TestClubMembership(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	nio := brands(t, s, "nio")[0].ID
	ms := members(t, s, 4)
	a, b, c, d := ms[0], ms[1], ms[2], ms[3]
	club := newClub("nio-owners", nio, 0)
	must(t, s.CreateClub(ctx, club, nil))
	other := newClub("nio-forum", nio, 0)
	must(t, s.CreateClub(ctx, other, nil))
	key := func(memberID string) community.ClubMemberKey { return clubKey(club.ID, memberID) }
	request := func(memberID, message string, minute int) community.JoinRequest {
		return community.JoinRequest{ClubID: club.ID, MemberID: memberID, Message: message, At: at(minute)}
	}
	requests := func() []community.JoinRequest {
		t.Helper()
		got, more, err := s.JoinRequests(ctx, club.ID, 100, nil)
		must(t, err)
		if more {
			t.Fatal("JoinRequests of 100 says there are more")
		}
		return got
	}
	memberships := func() map[community.ClubMemberKey]community.ClubMembership {
		t.Helper()
		got, err := s.ClubMemberships(ctx, []community.ClubMemberKey{key(a), key(b), key(c), key(d)})
		must(t, err)
		return got
	}

	// Joining: unknown club or member; joining again keeps the first membership.
	wantCode(t, s.JoinClub(ctx, membership(community.NewID(), a, community.RoleMember, 1)), community.CodeNotFound)
	wantCode(t, s.JoinClub(ctx, membership(club.ID, community.NewID(), community.RoleMember, 1)), community.CodeNotFound)
	verified := membership(club.ID, a, community.RoleMember, 1)
	verified.Verified = true
	must(t, s.JoinClub(ctx, verified))
	must(t, s.JoinClub(ctx, membership(club.ID, a, community.RoleManager, 2)))
	diff(t, "memberships after joining twice", map[community.ClubMemberKey]community.ClubMembership{key(a): verified}, memberships())

	// Requests: unknown club or member; a member cannot ask; asking again keeps the first.
	wantCode(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: community.NewID(), MemberID: b, At: at(3)}), community.CodeNotFound)
	wantCode(t, s.RequestJoin(ctx, request(community.NewID(), "", 3)), community.CodeNotFound)
	wantCode(t, s.RequestJoin(ctx, request(a, "", 3)), community.CodeConflict)
	must(t, s.RequestJoin(ctx, request(b, "我是车主", 3)))
	must(t, s.RequestJoin(ctx, request(b, "again", 4)))
	must(t, s.RequestJoin(ctx, request(c, "", 5)))
	must(t, s.RequestJoin(ctx, request(d, "", 6)))
	diff(t, "JoinRequests", []community.JoinRequest{request(d, "", 6), request(c, "", 5), request(b, "我是车主", 3)}, requests())
	other1, more, err := s.JoinRequests(ctx, other.ID, 10, nil)
	must(t, err)
	if len(other1) != 0 || more {
		t.Errorf("requests of another club = %+v, %v; want none", other1, more)
	}

	// Joining removes the member's request.
	must(t, s.JoinClub(ctx, membership(club.ID, d, community.RoleMember, 7)))
	diff(t, "JoinRequests after d joined", []community.JoinRequest{request(c, "", 5), request(b, "我是车主", 3)}, requests())

	// Deciding: no request; rejecting; approving.
	wantCode(t, s.DecideJoinRequest(ctx, club.ID, a, true, at(8)), community.CodeNotFound)
	wantCode(t, s.DecideJoinRequest(ctx, community.NewID(), b, true, at(8)), community.CodeNotFound)
	wantCode(t, s.DecideJoinRequest(ctx, other.ID, b, true, at(8)), community.CodeNotFound)
	must(t, s.DecideJoinRequest(ctx, club.ID, c, false, at(8)))
	wantCode(t, s.DecideJoinRequest(ctx, club.ID, c, true, at(9)), community.CodeNotFound)
	must(t, s.DecideJoinRequest(ctx, club.ID, b, true, at(9)))
	diff(t, "JoinRequests after deciding", []community.JoinRequest(nil), requests())
	want := map[community.ClubMemberKey]community.ClubMembership{
		key(a): verified,
		key(b): membership(club.ID, b, community.RoleMember, 9),
		key(d): membership(club.ID, d, community.RoleMember, 7),
	}
	diff(t, "memberships after deciding", want, memberships())

	// Roles.
	wantCode(t, s.SetClubRole(ctx, club.ID, c, community.RoleModerator), community.CodeNotFound)
	wantCode(t, s.SetClubRole(ctx, community.NewID(), a, community.RoleModerator), community.CodeNotFound)
	must(t, s.SetClubRole(ctx, club.ID, b, community.RoleModerator))
	must(t, s.SetClubRole(ctx, club.ID, a, community.RoleManager))
	want[key(b)] = membership(club.ID, b, community.RoleModerator, 9)
	verified.Role = community.RoleManager
	want[key(a)] = verified
	diff(t, "memberships after setting roles", want, memberships())

	counts, err := s.ClubMemberCounts(ctx, []string{club.ID, other.ID})
	must(t, err)
	diff(t, "ClubMemberCounts", map[string]int{club.ID: 3, other.ID: 0}, counts)

	// Leaving: twice, an unknown club and an unknown member are all fine.
	must(t, s.LeaveClub(ctx, club.ID, d))
	must(t, s.LeaveClub(ctx, club.ID, d))
	must(t, s.LeaveClub(ctx, community.NewID(), a))
	must(t, s.LeaveClub(ctx, club.ID, community.NewID()))
	delete(want, key(d))
	diff(t, "memberships after leaving", want, memberships())
	counts, err = s.ClubMemberCounts(ctx, []string{club.ID})
	must(t, err)
	diff(t, "ClubMemberCounts after leaving", map[string]int{club.ID: 2}, counts)
	page, _, err := clubMembers(ctx, s, club.ID, "", 10, nil)
	must(t, err)
	diff(t, "ClubMembers after leaving", []community.ClubMembership{want[key(b)], want[key(a)]}, page)

	// One who left may request, and approving someone who joined meanwhile keeps them as
	// they are.
	must(t, s.RequestJoin(ctx, request(d, "", 20)))
	must(t, s.RequestJoin(ctx, request(c, "", 21)))
	must(t, s.JoinClub(ctx, membership(club.ID, c, community.RoleMember, 22)))
	wantCode(t, s.DecideJoinRequest(ctx, club.ID, c, true, at(23)), community.CodeNotFound)
	must(t, s.DecideJoinRequest(ctx, club.ID, d, true, at(24)))
	want[key(c)] = membership(club.ID, c, community.RoleMember, 22)
	want[key(d)] = membership(club.ID, d, community.RoleMember, 24)
	diff(t, "memberships at the end", want, memberships())
}

// storeWithClub returns a new store that holds the club nio-owners, hosted by no brand,
// and n members, who have not joined it, with their ids.
func storeWithClub(t *testing.T, n int) (community.Store, community.Club, []string) {
	t.Helper()
	s := newStore(t)
	club := newClub("nio-owners", "", 0)
	must(t, s.CreateClub(context.Background(), club, nil))
	return s, club, members(t, s, n)
}

// TestClubPaging pages through members and requests of one club, many of them at the
// same time, and checks the pages join up into the whole list in order.
func TestClubPaging(t *testing.T) {
	ctx := context.Background()
	s, club, ms := storeWithClub(t, 23)
	var all, moderators []community.ClubMembership
	var requests []community.JoinRequest
	for i, m := range ms[:15] {
		role := community.RoleMember
		if i%3 == 0 {
			role = community.RoleModerator
		}
		cm := membership(club.ID, m, role, i/4) // four at a time
		must(t, s.JoinClub(ctx, cm))
		all = append(all, cm)
		if role == community.RoleModerator {
			moderators = append(moderators, cm)
		}
	}
	for i, m := range ms[15:] {
		r := community.JoinRequest{ClubID: club.ID, MemberID: m, Message: fmt.Sprint("请求 ", i), At: at(i / 3)}
		must(t, s.RequestJoin(ctx, r))
		requests = append(requests, r)
	}
	sortMemberships := func(list []community.ClubMembership) {
		slices.SortFunc(list, func(x, y community.ClubMembership) int {
			return compareNewest(x.Since, x.MemberID, y.Since, y.MemberID)
		})
	}
	sortMemberships(all)
	sortMemberships(moderators)
	slices.SortFunc(requests, func(x, y community.JoinRequest) int { return compareNewest(x.At, x.MemberID, y.At, y.MemberID) })

	for _, size := range []int{1, 2, 3, 4, 100} {
		t.Run(fmt.Sprint("members by ", size), func(t *testing.T) {
			diff(t, "all members", all, pageAll(t, size, func(first int, after *community.Position) ([]community.ClubMembership, bool, error) {
				return clubMembers(ctx, s, club.ID, "", first, after)
			}, func(m community.ClubMembership) community.Position {
				return community.Position{Since: m.Since, ID: m.MemberID}
			}))
			diff(t, "moderators", moderators, pageAll(t, size, func(first int, after *community.Position) ([]community.ClubMembership, bool, error) {
				return clubMembers(ctx, s, club.ID, community.RoleModerator, first, after)
			}, func(m community.ClubMembership) community.Position {
				return community.Position{Since: m.Since, ID: m.MemberID}
			}))
		})
		t.Run(fmt.Sprint("requests by ", size), func(t *testing.T) {
			diff(t, "requests", requests, pageAll(t, size, func(first int, after *community.Position) ([]community.JoinRequest, bool, error) {
				return s.JoinRequests(ctx, club.ID, first, after)
			}, func(r community.JoinRequest) community.Position {
				return community.Position{Since: r.At, ID: r.MemberID}
			}))
		})
	}

	t.Run("edges", func(t *testing.T) {
		got, more, err := clubMembers(ctx, s, club.ID, "", 0, nil)
		must(t, err)
		if len(got) != 0 || !more {
			t.Errorf("first 0: %d members, more %v; want none and true", len(got), more)
		}
		got, more, err = clubMembers(ctx, s, club.ID, community.RoleManager, 10, nil)
		must(t, err)
		if len(got) != 0 || more {
			t.Errorf("managers: %+v, more %v; want none", got, more)
		}
		got, more, err = clubMembers(ctx, s, community.NewID(), "", 10, nil)
		must(t, err)
		if len(got) != 0 || more {
			t.Errorf("members of an unknown club: %+v, more %v; want none", got, more)
		}
		last := all[len(all)-1]
		got, more, err = clubMembers(ctx, s, club.ID, "", 10, &community.Position{Since: last.Since, ID: last.MemberID})
		must(t, err)
		if len(got) != 0 || more {
			t.Errorf("after the last member: %+v, more %v; want none", got, more)
		}
		// A position that is no member's still cuts the list where it would stand.
		got, _, err = clubMembers(ctx, s, club.ID, "", 100, &community.Position{Since: at(2), ID: ""})
		must(t, err)
		i := slices.IndexFunc(all, func(m community.ClubMembership) bool { return m.Since.Equal(at(2)) })
		diff(t, "members after a position of no one", all[i:], got)
		reqs, more, err := s.JoinRequests(ctx, club.ID, 0, nil)
		must(t, err)
		if len(reqs) != 0 || !more {
			t.Errorf("first 0 requests: %d, more %v; want none and true", len(reqs), more)
		}
	})
}

// compareNewest orders items newest first, then by member id ascending: list order.
func compareNewest(ti time.Time, idi string, tj time.Time, idj string) int {
	if c := tj.Compare(ti); c != 0 {
		return c
	}
	return strings.Compare(idi, idj)
}

// pageAll reads a whole list a page of size at a time.
func pageAll[T any](t *testing.T, size int, page func(first int, after *community.Position) ([]T, bool, error), pos func(T) community.Position) []T {
	t.Helper()
	var out []T
	var after *community.Position
	for range 1000 {
		got, more, err := page(size, after)
		must(t, err)
		if len(got) > size {
			t.Fatalf("page of %d has %d items", size, len(got))
		}
		out = append(out, got...)
		if !more {
			return out
		}
		if len(got) == 0 {
			t.Fatal("an empty page says there are more")
		}
		p := pos(got[len(got)-1])
		after = &p
	}
	t.Fatal("the pages never end")
	return nil
}

// clubState is everything the ClubStore answers about a set of clubs and members.
type clubState struct {
	ByID        map[string]community.Club
	BySlug      map[string]community.Club
	OfBrands    map[string][]community.Club
	Members     map[string][]community.ClubMembership
	Requests    map[string][]community.JoinRequest
	Counts      map[string]int
	Memberships map[community.ClubMemberKey]community.ClubMembership
}

func snapshotClubs(t *testing.T, s community.Store, clubs []community.Club, brandIDs, memberIDs []string) clubState {
	t.Helper()
	ctx := context.Background()
	st := clubState{BySlug: map[string]community.Club{}, Members: map[string][]community.ClubMembership{}, Requests: map[string][]community.JoinRequest{}}
	var ids []string
	var keys []community.ClubMemberKey
	for _, c := range clubs {
		ids = append(ids, c.ID)
		var err error
		st.BySlug[c.Slug], err = s.ClubBySlug(ctx, c.Slug)
		must(t, err)
		st.Members[c.ID], _, err = clubMembers(ctx, s, c.ID, "", 100, nil)
		must(t, err)
		st.Requests[c.ID], _, err = s.JoinRequests(ctx, c.ID, 100, nil)
		must(t, err)
		for _, m := range memberIDs {
			keys = append(keys, community.ClubMemberKey{ClubID: c.ID, MemberID: m})
		}
	}
	var err error
	st.ByID, err = s.ClubsByID(ctx, ids)
	must(t, err)
	st.OfBrands, err = s.ClubsOfBrands(ctx, brandIDs)
	must(t, err)
	st.Counts, err = s.ClubMemberCounts(ctx, ids)
	must(t, err)
	st.Memberships, err = s.ClubMemberships(ctx, keys)
	must(t, err)
	return st
}

// TestReopenClubs checks that clubs, their members and pending join requests are there,
// the same, after the file is reopened, and that what was removed stays removed.
func TestReopenClubs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	bs := brands(t, s, "nio", "xpeng")
	ms := members(t, s, 6)
	var brandIDs []string
	for _, b := range bs {
		brandIDs = append(brandIDs, b.ID)
	}
	clubs := []community.Club{newClub("nio-owners", bs[0].ID, 1), newClub("nio-forum", bs[0].ID, 0), newClub("city-drives", "", 2)}
	manager := membership(clubs[0].ID, ms[0], community.RoleManager, 1)
	must(t, s.CreateClub(ctx, clubs[0], &manager))
	must(t, s.CreateClub(ctx, clubs[1], nil))
	must(t, s.CreateClub(ctx, clubs[2], nil))
	desc := "蔚来车主的家"
	updated, err := s.UpdateClub(ctx, clubs[1].ID, community.UpdateClubInput{Description: &desc})
	must(t, err)
	clubs[1] = updated
	verified := membership(clubs[0].ID, ms[1], community.RoleMember, 3)
	verified.Verified = true
	must(t, s.JoinClub(ctx, verified))
	must(t, s.JoinClub(ctx, membership(clubs[0].ID, ms[2], community.RoleMember, 3)))
	must(t, s.SetClubRole(ctx, clubs[0].ID, ms[2], community.RoleModerator))
	must(t, s.JoinClub(ctx, membership(clubs[2].ID, ms[0], community.RoleMember, 4)))
	must(t, s.LeaveClub(ctx, clubs[2].ID, ms[0]))
	for i, m := range ms[3:] {
		must(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: clubs[0].ID, MemberID: m, Message: fmt.Sprint("请求 ", i), At: at(5 + i%2)}))
	}
	must(t, s.DecideJoinRequest(ctx, clubs[0].ID, ms[3], true, at(7)))
	must(t, s.DecideJoinRequest(ctx, clubs[0].ID, ms[4], false, at(7)))

	before := snapshotClubs(t, s, clubs, brandIDs, ms)
	if len(before.Members[clubs[0].ID]) != 4 || len(before.Requests[clubs[0].ID]) != 1 || len(before.OfBrands[bs[0].ID]) != 2 {
		t.Fatalf("the populated clubs lack something to compare: %+v", before)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	diff(t, "clubs after reopening", before, snapshotClubs(t, s, clubs, brandIDs, ms))

	// What is stored still constrains writes.
	wantCode(t, s.CreateClub(ctx, newClub("nio-owners", "", 9), nil), community.CodeConflict)
	wantCode(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: clubs[0].ID, MemberID: ms[3], At: at(9)}), community.CodeConflict)
	wantCode(t, s.DecideJoinRequest(ctx, clubs[0].ID, ms[4], true, at(9)), community.CodeNotFound)
	must(t, s.DecideJoinRequest(ctx, clubs[0].ID, ms[5], true, at(9)))
	counts, err := s.ClubMemberCounts(ctx, []string{clubs[0].ID})
	must(t, err)
	diff(t, "members after approving the request kept across the reopen", map[string]int{clubs[0].ID: 5}, counts)
}

// TestConcurrentClubWrites joins, requests, decides and reads at the same time, and checks
// that every write is counted once.
func TestConcurrentClubWrites(t *testing.T) {
	ctx := context.Background()
	s, club, ms := storeWithClub(t, 40)
	errs := make(chan error, 3*len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			if i%2 == 0 {
				errs <- s.JoinClub(ctx, membership(club.ID, m, community.RoleMember, i))
				return
			}
			if err := s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: at(i)}); err != nil {
				errs <- err
				return
			}
			errs <- s.DecideJoinRequest(ctx, club.ID, m, i%4 == 1, at(100+i))
		})
		wg.Go(func() {
			_, _, err := clubMembers(ctx, s, club.ID, "", 5, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	counts, err := s.ClubMemberCounts(ctx, []string{club.ID})
	must(t, err)
	diff(t, "members after concurrent writes", map[string]int{club.ID: 30}, counts)
	reqs, _, err := s.JoinRequests(ctx, club.ID, 100, nil)
	must(t, err)
	if len(reqs) != 0 {
		t.Errorf("%d requests are left pending, want none", len(reqs))
	}
}
