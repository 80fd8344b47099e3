package communitytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// testClubStore runs the contract of community.ClubStore, each part on a fresh store.
func testClubStore(t *testing.T, newStore NewStore) {
	t.Run("Clubs", func(t *testing.T) { testClubs(t, newStore(t)) })
	t.Run("ClubMembership", func(t *testing.T) { testClubMembership(t, newStore(t)) })
	t.Run("JoinRequests", func(t *testing.T) { testJoinRequests(t, newStore(t)) })
	t.Run("ClubMembers", func(t *testing.T) { testClubMembers(t, newStore(t)) })
	t.Run("ClubMemberPages", func(t *testing.T) { testClubMemberPages(t, newStore(t)) })
	t.Run("ConcurrentClubWrites", func(t *testing.T) { testConcurrentClubWrites(t, newStore(t)) })
}

// newClub is an open, public owners' club of the brand ("" for a club of the platform),
// created at minute n of the suite's clock.
func newClub(slug, brandID string, n int) community.Club {
	return community.Club{
		ID: community.NewID(), Slug: slug, Name: "俱乐部 " + slug, Description: slug + " 车友会",
		Kind: community.KindOwnerClub, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen,
		BrandID: brandID, CreatedAt: at(n),
	}
}

// createClubs stores clubs without a first manager.
func createClubs(t *testing.T, s community.Store, clubs ...community.Club) {
	t.Helper()
	for _, c := range clubs {
		must(t, s.CreateClub(context.Background(), c, nil))
	}
}

// firstManager is the membership of a club's creator, for CreateClub.
func firstManager(c community.Club, memberID string) *community.ClubMembership {
	return &community.ClubMembership{ClubID: c.ID, MemberID: memberID, Role: community.RoleManager, Since: c.CreatedAt}
}

// clubMember is an unverified MEMBER of a club since minute n.
func clubMember(clubID, memberID string, n int) community.ClubMembership {
	return community.ClubMembership{ClubID: clubID, MemberID: memberID, Role: community.RoleMember, Since: at(n)}
}

func keyOf(m community.ClubMembership) community.ClubMemberKey {
	return community.ClubMemberKey{ClubID: m.ClubID, MemberID: m.MemberID}
}

func checkClubs(t *testing.T, s community.Store, ids []string, want map[string]community.Club) {
	t.Helper()
	got, err := s.ClubsByID(context.Background(), ids)
	checkRead(t, "ClubsByID", want, got, err, equateEmpty)
}

// checkClubBySlug checks the club ClubBySlug finds: want, or NOT_FOUND when want is the
// zero Club.
func checkClubBySlug(t *testing.T, s community.Store, slug string, want community.Club) {
	t.Helper()
	got, err := s.ClubBySlug(context.Background(), slug)
	if want.ID == "" {
		wantCode(t, err, community.CodeNotFound)
		return
	}
	must(t, err)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ClubBySlug(%q) (-want +got):\n%s", slug, diff)
	}
}

func checkClubsOfBrands(t *testing.T, s community.Store, brandIDs []string, want map[string][]community.Club) {
	t.Helper()
	got, err := s.ClubsOfBrands(context.Background(), brandIDs)
	checkGrouped(t, "ClubsOfBrands", want, got, err)
}

func checkClubMemberships(t *testing.T, s community.Store, keys []community.ClubMemberKey, want map[community.ClubMemberKey]community.ClubMembership) {
	t.Helper()
	got, err := s.ClubMemberships(context.Background(), keys)
	checkRead(t, "ClubMemberships", want, got, err, equateEmpty)
}

func checkClubMemberCounts(t *testing.T, s community.Store, clubIDs []string, want map[string]int) {
	t.Helper()
	got, err := s.ClubMemberCounts(context.Background(), clubIDs)
	must(t, err)
	if diff := cmp.Diff(nonZero(want), nonZero(got)); diff != "" {
		t.Errorf("ClubMemberCounts (-want +got):\n%s", diff)
	}
}

// checkJoinRequests checks a club's whole list of pending requests, read as one page.
func checkJoinRequests(t *testing.T, s community.Store, clubID string, want []community.JoinRequest) {
	t.Helper()
	got, more, err := s.JoinRequests(context.Background(), clubID, community.MaxPageSize, nil)
	must(t, err)
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" || more {
		t.Errorf("JoinRequests: more = %v (-want +got):\n%s", more, diff)
	}
}

// positionOrder compares two positions in list order: newest first, then by member id.
func positionOrder(a, b community.Position) int {
	if c := b.Since.Compare(a.Since); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func requestPosition(r community.JoinRequest) community.Position {
	return community.Position{Since: r.At, ID: r.MemberID}
}

func memberPosition(m community.ClubMembership) community.Position {
	return community.Position{Since: m.Since, ID: m.MemberID}
}

// pager reads one page of a list: up to first items after a position, and whether more
// follow.
type pager[T any] func(first int, after *community.Position) ([]T, bool, error)

// checkPages pages through a list with pages of every size from 1 to one more than the
// list's length, and compares each page, and whether more follow it, with the part of
// want it should hold; want is the whole list in list order.
func checkPages[T any](t *testing.T, want []T, pos func(T) community.Position, page pager[T]) {
	t.Helper()
	walkPages(t, want, pos, equateEmpty, listPage[T, community.Position](page))
}

// namedPosition is a position to page after, named for a subtest.
type namedPosition = named[community.Position]

// checkAfter reads the page after each position, large enough for the rest of the list,
// and compares it with the items of want that come strictly after the position.
func checkAfter[T any](t *testing.T, want []T, pos func(T) community.Position, positions []namedPosition, page pager[T]) {
	t.Helper()
	precedes := func(a, b community.Position) bool { return a.Precedes(b.Since, b.ID) }
	checkRest(t, want, pos, precedes, positions, equateEmpty, listPage[T, community.Position](page))
}

func testClubs(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto", "xpeng")
	nio, li, xpeng := bs[0].ID, bs[1].ID, bs[2].ID
	ms := create(t, s, "club_manager", "li_na")
	manager, lina := ms[0].ID, ms[1].ID

	// nio's clubs are stored out of time order: ClubsOfBrands lists them oldest first.
	owners := newClub("nio-owners", nio, 5)
	forum := newClub("nio-forum", nio, 2)
	forum.Kind, forum.Visibility, forum.JoinPolicy = community.KindForum, community.VisibilityPrivate, community.JoinApproval
	liOwners := newClub("li-owners", li, 3)
	liOwners.JoinPolicy = community.JoinVerifiedOwner
	platform := newClub("weekend-drives", "", 1)
	platform.Kind, platform.Description = community.KindInterest, ""
	ownersManager, platformManager := firstManager(owners, manager), firstManager(platform, lina)
	must(t, s.CreateClub(ctx, owners, ownersManager))
	must(t, s.CreateClub(ctx, forum, nil))
	must(t, s.CreateClub(ctx, liOwners, nil))
	must(t, s.CreateClub(ctx, platform, platformManager))

	stored := map[string]community.Club{owners.ID: owners, forum.ID: forum, liOwners.ID: liOwners, platform.ID: platform}
	clubIDs := []string{owners.ID, forum.ID, liOwners.ID, platform.ID}
	// The platform's club is hosted by no brand.
	ofBrands := map[string][]community.Club{nio: {forum, owners}, li: {liOwners}}
	brandIDs := []string{nio, li, xpeng, community.NewID()}
	slugOwner := func(slug string) community.Club {
		for _, c := range stored {
			if c.Slug == slug {
				return c
			}
		}
		return community.Club{}
	}
	// Every manager in every club.
	var keys []community.ClubMemberKey
	for _, c := range append(slices.Clone(clubIDs), community.NewID()) {
		for _, m := range []string{manager, lina, community.NewID()} {
			keys = append(keys, community.ClubMemberKey{ClubID: c, MemberID: m})
		}
	}
	memberships := map[community.ClubMemberKey]community.ClubMembership{
		keyOf(*ownersManager):   *ownersManager,
		keyOf(*platformManager): *platformManager,
	}
	counts := map[string]int{owners.ID: 1, platform.ID: 1}
	checkStored := func(t *testing.T, extraClub string) {
		t.Helper()
		checkClubs(t, s, append(slices.Clone(clubIDs), extraClub), stored)
		checkClubsOfBrands(t, s, brandIDs, ofBrands)
		checkClubMemberships(t, s, keys, memberships)
		checkClubMemberCounts(t, s, append(slices.Clone(clubIDs), extraClub), counts)
	}

	checkStored(t, community.NewID())
	for _, c := range stored {
		checkClubBySlug(t, s, c.Slug, c)
	}
	checkClubBySlug(t, s, "nobody-club", community.Club{})
	checkClubs(t, s, nil, map[string]community.Club{})
	got, err := s.ClubsOfBrands(ctx, nil)
	checkNone(t, "ClubsOfBrands of no brands", got, err)

	t.Run("refused create stores nothing", func(t *testing.T) {
		slugTaken := newClub("nio-owners", li, 6)
		platformSlugTaken := newClub("weekend-drives", nio, 6)
		idTaken := newClub("nio-owners-2", nio, 6)
		idTaken.ID = forum.ID
		unknownBrand := newClub("ghost-club", community.NewID(), 6)
		unknownManager := newClub("ghost-club", nio, 6)
		platformUnknownManager := newClub("ghost-club", "", 6)
		cases := []struct {
			name    string
			club    community.Club
			manager *community.ClubMembership
			code    community.Code
		}{
			{"slug taken", slugTaken, nil, community.CodeConflict},
			{"slug taken, with a manager", slugTaken, firstManager(slugTaken, lina), community.CodeConflict},
			{"slug of the platform's club taken", platformSlugTaken, nil, community.CodeConflict},
			{"id taken", idTaken, nil, community.CodeConflict},
			{"id taken, with a manager", idTaken, firstManager(idTaken, lina), community.CodeConflict},
			{"unknown brand", unknownBrand, nil, community.CodeNotFound},
			{"unknown brand, with a manager", unknownBrand, firstManager(unknownBrand, lina), community.CodeNotFound},
			{"unknown manager", unknownManager, firstManager(unknownManager, community.NewID()), community.CodeNotFound},
			{"unknown manager of a platform's club", platformUnknownManager, firstManager(platformUnknownManager, community.NewID()), community.CodeNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.CreateClub(ctx, tc.club, tc.manager), tc.code)
				checkStored(t, tc.club.ID)
				checkClubBySlug(t, s, tc.club.Slug, slugOwner(tc.club.Slug))
				if tc.manager != nil {
					checkClubMemberships(t, s, []community.ClubMemberKey{keyOf(*tc.manager)}, nil)
				}
				if tc.club.BrandID != "" {
					checkClubsOfBrands(t, s, []string{tc.club.BrandID}, map[string][]community.Club{tc.club.BrandID: ofBrands[tc.club.BrandID]})
				}
			})
		}
		// The id and the slug refused with an unknown brand are free.
		ghost := unknownBrand
		ghost.BrandID = nio
		ghostManager := firstManager(ghost, lina)
		must(t, s.CreateClub(ctx, ghost, ghostManager))
		stored[ghost.ID] = ghost
		clubIDs = append(clubIDs, ghost.ID)
		ofBrands[nio] = []community.Club{forum, owners, ghost}
		keys = append(keys, keyOf(*ghostManager))
		memberships[keyOf(*ghostManager)] = *ghostManager
		counts[ghost.ID] = 1
		checkStored(t, community.NewID())
		checkClubBySlug(t, s, ghost.Slug, ghost)
	})

	t.Run("UpdateClub", func(t *testing.T) {
		cases := []struct {
			name string
			in   community.UpdateClubInput
		}{
			{"name", community.UpdateClubInput{Name: new("蔚来车主俱乐部")}},
			{"description cleared", community.UpdateClubInput{Description: new("")}},
			{"visibility and join policy", community.UpdateClubInput{Visibility: new(community.VisibilityPrivate), JoinPolicy: new(community.JoinVerifiedOwner)}},
			{"every field", community.UpdateClubInput{
				Name: new("NIO 车主"), Description: new("蔚来车主的家"),
				Visibility: new(community.VisibilityPublic), JoinPolicy: new(community.JoinApproval),
			}},
		}
		want := owners
		for _, tc := range cases {
			want = tc.in.Apply(want)
			stored[owners.ID] = want
			for i, c := range ofBrands[nio] {
				if c.ID == owners.ID {
					ofBrands[nio][i] = want
				}
			}
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.UpdateClub(ctx, owners.ID, tc.in)
				checkRead(t, "UpdateClub", want, got, err)
				checkStored(t, community.NewID())
				checkClubBySlug(t, s, owners.Slug, want)
			})
		}
		t.Run("unknown club", func(t *testing.T) {
			unknown := community.NewID()
			_, err := s.UpdateClub(ctx, unknown, community.UpdateClubInput{Name: new("无名")})
			wantCode(t, err, community.CodeNotFound)
			checkStored(t, unknown)
		})
	})
}

func testClubMembership(t *testing.T, s community.Store) {
	ctx := context.Background()
	nio := createBrands(t, s, "nio")[0].ID
	owners := newClub("nio-owners", nio, 0)
	forum := newClub("weekend-drives", "", 0)
	createClubs(t, s, owners, forum)
	ms := create(t, s, "wang_fang", "li_na", "zhang_wei", "zhao_lei")
	wang, lina, zhang, zhao := ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID

	// Every member in every club, and unknown ones.
	clubIDs := []string{owners.ID, forum.ID, community.NewID()}
	var keys []community.ClubMemberKey
	for _, c := range clubIDs {
		for _, m := range []string{wang, lina, zhang, zhao, community.NewID()} {
			keys = append(keys, community.ClubMemberKey{ClubID: c, MemberID: m})
		}
	}
	state := map[community.ClubMemberKey]community.ClubMembership{}
	check := func(t *testing.T) {
		t.Helper()
		checkClubMemberships(t, s, keys, state)
		counts := map[string]int{}
		for k := range state {
			counts[k.ClubID]++
		}
		checkClubMemberCounts(t, s, clubIDs, counts)
	}

	verified := clubMember(owners.ID, wang, 1)
	verified.Verified = true
	for _, m := range []community.ClubMembership{verified, clubMember(owners.ID, lina, 2), clubMember(forum.ID, wang, 3)} {
		must(t, s.JoinClub(ctx, m))
		state[keyOf(m)] = m
	}
	check(t)

	// JoinClub of a member keeps its place, whatever the membership given.
	joinAgain := func(t *testing.T, m community.ClubMembership) {
		t.Helper()
		must(t, s.JoinClub(ctx, m))
		check(t)
	}
	t.Run("join again", func(t *testing.T) {
		moderator := clubMember(owners.ID, wang, 1)
		moderator.Role, moderator.Verified = community.RoleModerator, true
		lateVerified := clubMember(owners.ID, wang, 9)
		lateVerified.Verified = true
		earlyVerified := clubMember(owners.ID, wang, 0)
		earlyVerified.Verified = true
		linaVerified := clubMember(owners.ID, lina, 2)
		linaVerified.Verified = true
		cases := []struct {
			name string
			m    community.ClubMembership
		}{
			{"later", lateVerified},
			{"earlier", earlyVerified},
			{"as another role", moderator},
			{"unverified, once verified", clubMember(owners.ID, wang, 1)},
			{"verified, once unverified", linaVerified},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { joinAgain(t, tc.m) })
		}
	})

	t.Run("join unknown", func(t *testing.T) {
		cases := []struct {
			name string
			m    community.ClubMembership
		}{
			{"unknown club", clubMember(community.NewID(), zhang, 4)},
			{"unknown member", clubMember(owners.ID, community.NewID(), 4)},
			{"unknown member of an unknown club", clubMember(community.NewID(), community.NewID(), 4)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.JoinClub(ctx, tc.m), community.CodeNotFound)
				checkClubMemberships(t, s, []community.ClubMemberKey{keyOf(tc.m)}, nil)
				check(t)
			})
		}
	})

	t.Run("join removes the request", func(t *testing.T) {
		toForum := community.JoinRequest{ClubID: forum.ID, MemberID: zhao, Message: "周末一起自驾", At: at(4)}
		toOwners := community.JoinRequest{ClubID: owners.ID, MemberID: zhao, Message: "我也是车主", At: at(4)}
		must(t, s.RequestJoin(ctx, toForum))
		must(t, s.RequestJoin(ctx, toOwners))
		checkJoinRequests(t, s, forum.ID, []community.JoinRequest{toForum})
		joined := clubMember(forum.ID, zhao, 5)
		must(t, s.JoinClub(ctx, joined))
		state[keyOf(joined)] = joined
		check(t)
		checkJoinRequests(t, s, forum.ID, nil)
		wantCode(t, s.DecideJoinRequest(ctx, forum.ID, zhao, true, at(6)), community.CodeNotFound)
		// Only the request to the club joined goes.
		checkJoinRequests(t, s, owners.ID, []community.JoinRequest{toOwners})
		check(t)
	})

	t.Run("SetClubRole", func(t *testing.T) {
		steps := []struct {
			name             string
			clubID, memberID string
			role             community.ClubRole
		}{
			{"moderator", owners.ID, lina, community.RoleModerator},
			{"manager", owners.ID, wang, community.RoleManager},
			{"in another club", forum.ID, wang, community.RoleModerator},
			{"back to member", forum.ID, wang, community.RoleMember},
			{"the same role again", owners.ID, lina, community.RoleModerator},
		}
		for _, st := range steps {
			k := community.ClubMemberKey{ClubID: st.clubID, MemberID: st.memberID}
			m := state[k]
			m.Role = st.role
			state[k] = m
			t.Run(st.name, func(t *testing.T) {
				must(t, s.SetClubRole(ctx, st.clubID, st.memberID, st.role))
				check(t)
			})
		}
		// Joining again keeps the role.
		joinAgain(t, clubMember(owners.ID, lina, 20))

		cases := []struct {
			name             string
			clubID, memberID string
		}{
			{"not a member", owners.ID, zhang},
			{"with a pending request only", owners.ID, zhao},
			{"a member of another club", forum.ID, lina},
			{"unknown club", community.NewID(), wang},
			{"unknown member", owners.ID, community.NewID()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.SetClubRole(ctx, tc.clubID, tc.memberID, community.RoleModerator), community.CodeNotFound)
				check(t)
			})
		}
	})

	t.Run("LeaveClub", func(t *testing.T) {
		must(t, s.LeaveClub(ctx, owners.ID, wang))
		delete(state, community.ClubMemberKey{ClubID: owners.ID, MemberID: wang})
		check(t)
		// LeaveClub names no error: leaving where one is not a member changes nothing.
		cases := []struct {
			name             string
			clubID, memberID string
		}{
			{"again", owners.ID, wang},
			{"never a member", owners.ID, zhang},
			{"unknown club", community.NewID(), wang},
			{"unknown member", owners.ID, community.NewID()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				must(t, s.LeaveClub(ctx, tc.clubID, tc.memberID))
				check(t)
			})
		}
		wantCode(t, s.SetClubRole(ctx, owners.ID, wang, community.RoleModerator), community.CodeNotFound)
		check(t)
		// Joining again after leaving starts a new membership.
		again := clubMember(owners.ID, wang, 30)
		must(t, s.JoinClub(ctx, again))
		state[keyOf(again)] = again
		check(t)
	})

	got, err := s.ClubMemberships(ctx, nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ClubMemberships of no keys = %v", got)
	}
}

// sortRequests sorts requests as JoinRequests lists them.
func sortRequests(rs []community.JoinRequest) {
	slices.SortFunc(rs, func(a, b community.JoinRequest) int { return positionOrder(requestPosition(a), requestPosition(b)) })
}

func testJoinRequests(t *testing.T, s community.Store) {
	ctx := context.Background()
	nio := createBrands(t, s, "nio")[0].ID
	club := newClub("nio-owners", nio, 0)
	club.JoinPolicy = community.JoinApproval
	other := newClub("nio-forum", nio, 0)
	other.JoinPolicy = community.JoinApproval
	quiet := newClub("weekend-drives", "", 0)
	createClubs(t, s, club, other, quiet)
	insider := create(t, s, "insider")[0].ID
	insiderMembership := clubMember(club.ID, insider, 0)
	must(t, s.JoinClub(ctx, insiderMembership))

	const n = 13
	var handles []string
	for i := range n {
		handles = append(handles, fmt.Sprintf("applicant_%02d", i))
	}
	applicants := create(t, s, handles...)
	// Three requests a minute, so that the member id orders those of one minute; stored
	// out of order.
	var want []community.JoinRequest
	for j := range n {
		i := j * 5 % n
		r := community.JoinRequest{ClubID: club.ID, MemberID: applicants[i].ID, Message: fmt.Sprintf("我是第 %d 位车主", i), At: at(10 + i/3)}
		if i%4 == 0 {
			r.Message = ""
		}
		must(t, s.RequestJoin(ctx, r))
		want = append(want, r)
	}
	sortRequests(want)
	// A request to another club is not listed.
	elsewhere := community.JoinRequest{ClubID: other.ID, MemberID: applicants[0].ID, Message: "也想加入论坛", At: at(50)}
	must(t, s.RequestJoin(ctx, elsewhere))
	checkJoinRequests(t, s, club.ID, want)

	t.Run("RequestJoin", func(t *testing.T) {
		t.Run("again keeps the first", func(t *testing.T) {
			must(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: applicants[1].ID, Message: "再问一次", At: at(60)}))
			checkJoinRequests(t, s, club.ID, want)
		})
		cases := []struct {
			name string
			r    community.JoinRequest
			code community.Code
		}{
			{"a member", community.JoinRequest{ClubID: club.ID, MemberID: insider, Message: "我已经在了", At: at(61)}, community.CodeConflict},
			{"unknown club", community.JoinRequest{ClubID: community.NewID(), MemberID: applicants[2].ID, At: at(61)}, community.CodeNotFound},
			{"unknown member", community.JoinRequest{ClubID: club.ID, MemberID: community.NewID(), At: at(61)}, community.CodeNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.RequestJoin(ctx, tc.r), tc.code)
				checkJoinRequests(t, s, club.ID, want)
				if tc.r.ClubID != club.ID {
					checkJoinRequests(t, s, tc.r.ClubID, nil)
				}
				checkClubMemberships(t, s, []community.ClubMemberKey{{ClubID: club.ID, MemberID: insider}},
					map[community.ClubMemberKey]community.ClubMembership{keyOf(insiderMembership): insiderMembership})
			})
		}
	})

	page := func(clubID string) pager[community.JoinRequest] {
		return func(first int, after *community.Position) ([]community.JoinRequest, bool, error) {
			return s.JoinRequests(ctx, clubID, first, after)
		}
	}
	t.Run("pages", func(t *testing.T) { checkPages(t, want, requestPosition, page(club.ID)) })
	t.Run("after a position", func(t *testing.T) {
		checkAfter(t, want, requestPosition, []namedPosition{
			{"the last request", requestPosition(want[len(want)-1])},
			{"a member without a request", community.Position{Since: at(11), ID: insider}},
			{"a request to another club", requestPosition(elsewhere)},
			{"a time between two minutes", community.Position{Since: at(12).Add(30 * time.Second)}},
			{"a time after every request", community.Position{Since: at(1000)}},
			{"a time before every request", community.Position{Since: at(0)}},
		}, page(club.ID))
	})
	t.Run("other clubs", func(t *testing.T) {
		cases := []struct {
			name   string
			clubID string
			want   []community.JoinRequest
		}{
			{"another club", other.ID, []community.JoinRequest{elsewhere}},
			{"a club without requests", quiet.ID, nil},
			{"unknown club", community.NewID(), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { checkJoinRequests(t, s, tc.clubID, tc.want) })
		}
	})

	t.Run("DecideJoinRequest", func(t *testing.T) {
		approved, rejected := applicants[0].ID, applicants[7].ID
		must(t, s.DecideJoinRequest(ctx, club.ID, approved, true, at(70)))
		must(t, s.DecideJoinRequest(ctx, club.ID, rejected, false, at(71)))
		want = slices.DeleteFunc(want, func(r community.JoinRequest) bool { return r.MemberID == approved || r.MemberID == rejected })
		keys := []community.ClubMemberKey{
			{ClubID: club.ID, MemberID: approved}, {ClubID: club.ID, MemberID: rejected}, {ClubID: club.ID, MemberID: insider},
			{ClubID: club.ID, MemberID: applicants[1].ID}, {ClubID: other.ID, MemberID: approved}, {ClubID: quiet.ID, MemberID: applicants[1].ID},
		}
		memberships := map[community.ClubMemberKey]community.ClubMembership{
			{ClubID: club.ID, MemberID: approved}: clubMember(club.ID, approved, 70),
			keyOf(insiderMembership):              insiderMembership,
		}
		check := func(t *testing.T) {
			t.Helper()
			checkJoinRequests(t, s, club.ID, want)
			// The approved member's request to another club stands.
			checkJoinRequests(t, s, other.ID, []community.JoinRequest{elsewhere})
			checkClubMemberships(t, s, keys, memberships)
			checkClubMemberCounts(t, s, []string{club.ID, other.ID, quiet.ID}, map[string]int{club.ID: 2})
		}
		check(t)

		cases := []struct {
			name             string
			clubID, memberID string
			approve          bool
		}{
			{"approve again", club.ID, approved, true},
			{"reject the approved", club.ID, approved, false},
			{"reject again", club.ID, rejected, false},
			{"approve the rejected", club.ID, rejected, true},
			{"approve a member without a request", club.ID, insider, true},
			{"reject a member without a request", club.ID, insider, false},
			{"approve at a club asked of another", quiet.ID, applicants[1].ID, true},
			{"unknown club", community.NewID(), applicants[2].ID, true},
			{"unknown member", club.ID, community.NewID(), true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.DecideJoinRequest(ctx, tc.clubID, tc.memberID, tc.approve, at(72)), community.CodeNotFound)
				check(t)
			})
		}

		// The rejected member may ask again; the approved one is in the club.
		again := community.JoinRequest{ClubID: club.ID, MemberID: rejected, Message: "再试一次", At: at(80)}
		must(t, s.RequestJoin(ctx, again))
		want = append(want, again)
		sortRequests(want)
		wantCode(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: approved, At: at(80)}), community.CodeConflict)
		check(t)
	})
}

// clubMembers reads one page of one club's members of a role ("" for all).
func clubMembers(s community.Store, clubID string, role community.ClubRole, first int, after *community.Position) ([]community.ClubMembership, bool, error) {
	pages, err := s.ClubMembers(context.Background(), role, first, []community.ClubListRequest{{ClubID: clubID, After: after}})
	if err != nil {
		return nil, false, err
	}
	if len(pages) != 1 {
		return nil, false, fmt.Errorf("ClubMembers returned %d pages for 1 request", len(pages))
	}
	return pages[0].Memberships, pages[0].HasNextPage, nil
}

// sortClubMembers sorts memberships as ClubMembers lists them.
func sortClubMembers(ms []community.ClubMembership) {
	slices.SortFunc(ms, func(a, b community.ClubMembership) int { return positionOrder(memberPosition(a), memberPosition(b)) })
}

func testClubMembers(t *testing.T, s community.Store) {
	ctx := context.Background()
	nio := createBrands(t, s, "nio")[0].ID
	founder := create(t, s, "founder")[0].ID
	club := newClub("nio-owners", nio, 0)
	founding := firstManager(club, founder)
	must(t, s.CreateClub(ctx, club, founding))
	other := newClub("nio-forum", nio, 0)
	createClubs(t, s, other)

	const n = 16
	var handles []string
	for i := range n {
		handles = append(handles, fmt.Sprintf("owner_%02d", i))
	}
	owners := create(t, s, handles...)
	all := []community.ClubMembership{*founding}
	// Three joins a minute, so that the member id orders those of one minute; stored out
	// of order.
	for j := range n {
		i := j * 7 % n
		m := clubMember(club.ID, owners[i].ID, 1+i/3)
		m.Verified = i%2 == 0
		must(t, s.JoinClub(ctx, m))
		switch {
		case i%5 == 1:
			m.Role = community.RoleModerator
		case i%7 == 3:
			m.Role = community.RoleManager
		}
		if m.Role != community.RoleMember {
			must(t, s.SetClubRole(ctx, club.ID, m.MemberID, m.Role))
		}
		all = append(all, m)
	}
	sortClubMembers(all)
	// Neither a member who left, nor one who asked to join, nor a member of another club is listed.
	outsiders := create(t, s, "left_already", "applicant", "forum_member")
	left, applicant, elsewhere := outsiders[0].ID, outsiders[1].ID, outsiders[2].ID
	must(t, s.JoinClub(ctx, clubMember(club.ID, left, 3)))
	must(t, s.LeaveClub(ctx, club.ID, left))
	must(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: applicant, At: at(4)}))
	forumMember := clubMember(other.ID, elsewhere, 2)
	must(t, s.JoinClub(ctx, forumMember))

	page := func(clubID string, role community.ClubRole) pager[community.ClubMembership] {
		return func(first int, after *community.Position) ([]community.ClubMembership, bool, error) {
			return clubMembers(s, clubID, role, first, after)
		}
	}
	roles := []struct {
		name string
		role community.ClubRole
	}{
		{"every role", ""},
		{"members", community.RoleMember},
		{"moderators", community.RoleModerator},
		{"managers", community.RoleManager},
	}
	for _, r := range roles {
		var want []community.ClubMembership
		positions := []namedPosition{
			{"a member who left", community.Position{Since: at(3), ID: left}},
			{"a request", community.Position{Since: at(4), ID: applicant}},
			{"a member of another club", memberPosition(forumMember)},
			{"a time between two minutes", community.Position{Since: at(3).Add(30 * time.Second)}},
		}
		for _, m := range all {
			if r.role == "" || m.Role == r.role {
				want = append(want, m)
			} else {
				positions = append(positions, namedPosition{"a " + strings.ToLower(string(m.Role)), memberPosition(m)})
			}
		}
		positions = append(positions, namedPosition{"the last", memberPosition(want[len(want)-1])})
		t.Run(r.name, func(t *testing.T) {
			t.Run("pages", func(t *testing.T) { checkPages(t, want, memberPosition, page(club.ID, r.role)) })
			checkAfter(t, want, memberPosition, positions, page(club.ID, r.role))
		})
	}

	t.Run("other clubs", func(t *testing.T) {
		cases := []struct {
			name   string
			clubID string
			role   community.ClubRole
			want   []community.ClubMembership
		}{
			{"another club", other.ID, "", []community.ClubMembership{forumMember}},
			{"a role nobody has there", other.ID, community.RoleManager, nil},
			{"unknown club", community.NewID(), "", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, more, err := clubMembers(s, tc.clubID, tc.role, community.MaxPageSize, nil)
				must(t, err)
				if diff := cmp.Diff(tc.want, got, equateEmpty); diff != "" || more {
					t.Errorf("more = %v (-want +got):\n%s", more, diff)
				}
			})
		}
	})

	t.Run("batched", func(t *testing.T) {
		var moderators []community.ClubMembership
		for _, m := range all {
			if m.Role == community.RoleModerator {
				moderators = append(moderators, m)
			}
		}
		after := func(m community.ClubMembership) *community.Position { p := memberPosition(m); return &p }
		unknown := community.NewID()
		cases := []struct {
			name  string
			role  community.ClubRole
			first int
			reqs  []community.ClubListRequest
			want  []community.ClubMemberPage
		}{
			{"several clubs, each from its own position", "", 3,
				[]community.ClubListRequest{{ClubID: other.ID}, {ClubID: club.ID, After: after(all[4])}, {ClubID: unknown}, {ClubID: club.ID}, {ClubID: club.ID, After: after(all[len(all)-2])}},
				[]community.ClubMemberPage{
					{Memberships: []community.ClubMembership{forumMember}},
					{Memberships: all[5:8], HasNextPage: true},
					{},
					{Memberships: all[0:3], HasNextPage: true},
					{Memberships: all[len(all)-1:]},
				}},
			{"one role", community.RoleModerator, 2,
				[]community.ClubListRequest{{ClubID: club.ID}, {ClubID: other.ID}, {ClubID: club.ID, After: after(moderators[0])}},
				[]community.ClubMemberPage{{Memberships: moderators[0:2], HasNextPage: true}, {}, {Memberships: moderators[1:3]}}},
			{"first 0", "", 0,
				[]community.ClubListRequest{{ClubID: club.ID}, {ClubID: unknown}, {ClubID: other.ID}},
				[]community.ClubMemberPage{{HasNextPage: true}, {}, {HasNextPage: true}}},
			{"only unknown clubs", community.RoleManager, 5,
				[]community.ClubListRequest{{ClubID: unknown}, {ClubID: community.NewID()}},
				[]community.ClubMemberPage{{}, {}}},
			{"no requests", "", 5, nil, []community.ClubMemberPage{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ClubMembers(ctx, tc.role, tc.first, tc.reqs)
				checkRead(t, "ClubMembers", tc.want, got, err, equateEmpty)
			})
		}
	})

	// A change of role moves a membership from one role's list to the other's, at its place
	// in time, and a page that starts after the member whose role changed, whose cursor was
	// taken from either list before the change, goes on from there.
	t.Run("changes of role", func(t *testing.T) {
		moderator := slices.IndexFunc(all, func(m community.ClubMembership) bool { return m.Role == community.RoleModerator })
		member := -1
		for i, m := range all {
			if m.Role == community.RoleMember {
				member = i
			}
		}
		changed := []namedPosition{
			{"the first moderator", memberPosition(all[moderator])},
			{"the last member", memberPosition(all[member])},
		}
		steps := []struct {
			name string
			i    int
			role community.ClubRole
		}{
			{"a moderator made a member", moderator, community.RoleMember},
			{"a member made a moderator", member, community.RoleModerator},
			{"the new moderator made a manager", member, community.RoleManager},
			{"the moderator back", moderator, community.RoleModerator},
			{"the member back", member, community.RoleMember},
		}
		for _, st := range steps {
			must(t, s.SetClubRole(ctx, club.ID, all[st.i].MemberID, st.role))
			all[st.i].Role = st.role
			t.Run(st.name, func(t *testing.T) {
				for _, r := range roles {
					var want []community.ClubMembership
					for _, m := range all {
						if r.role == "" || m.Role == r.role {
							want = append(want, m)
						}
					}
					t.Run(r.name, func(t *testing.T) {
						t.Run("pages", func(t *testing.T) { checkPages(t, want, memberPosition, page(club.ID, r.role)) })
						checkAfter(t, want, memberPosition, changed, page(club.ID, r.role))
					})
				}
			})
		}
	})

	checkClubMemberCounts(t, s, []string{club.ID, other.ID, community.NewID()}, map[string]int{club.ID: n + 1, other.ID: 1})
	got, err := s.ClubMemberCounts(ctx, nil)
	must(t, err)
	if len(nonZero(got)) != 0 {
		t.Errorf("ClubMemberCounts of no clubs = %v", got)
	}
}

// testClubMemberPages checks the service's batch of pages of clubs' members: each key gets
// its own page or its own error, a cursor serves its own list only, and the batch reads
// the clubs and the caller's standing once and the store once for each (role, page size).
func testClubMemberPages(t *testing.T, s community.Store) {
	ctx := context.Background()
	svc := community.New(s, community.Config{}).Clubs
	nio := createBrands(t, s, "nio")[0].ID
	owners, forum, private := newClub("nio-owners", nio, 0), newClub("nio-forum", nio, 0), newClub("nio-inner", nio, 0)
	private.Visibility = community.VisibilityPrivate
	createClubs(t, s, owners, forum, private)
	ms := create(t, s, "owner_0", "owner_1", "owner_2", "owner_3", "owner_4", "forum_0", "inner_0")
	var all []community.ClubMembership // owners' members, newest first
	for i := 4; i >= 0; i-- {
		m := clubMember(owners.ID, ms[i].ID, i)
		must(t, s.JoinClub(ctx, m))
		if i == 1 {
			m.Role = community.RoleModerator
			must(t, s.SetClubRole(ctx, owners.ID, m.MemberID, m.Role))
		}
		all = append(all, m)
	}
	forumMember := clubMember(forum.ID, ms[5].ID, 1)
	must(t, s.JoinClub(ctx, forumMember))
	must(t, s.JoinClub(ctx, clubMember(private.ID, ms[6].ID, 1)))
	caller := community.WithActor(ctx, community.Actor{MemberID: ms[0].ID})

	type result struct {
		Members []community.ClubMembership
		More    bool
		Code    community.Code
	}
	// pages runs one batch and returns each key's page, or its error code, and the cursor
	// of each page's last member.
	pages := func(t *testing.T, ctx context.Context, keys []community.ClubMembersKey) ([]result, []string) {
		t.Helper()
		lists, errs := svc.ClubMemberPages(ctx, keys)
		if len(lists) != len(keys) || len(errs) != len(keys) {
			t.Fatalf("%d keys: %d pages and %d errors", len(keys), len(lists), len(errs))
		}
		out, cursors := make([]result, len(keys)), make([]string, len(keys))
		for i, l := range lists {
			if errs[i] != nil {
				out[i].Code = community.ErrorCode(errs[i])
				continue
			}
			out[i].More = l.More
			for _, m := range l.Members {
				out[i].Members = append(out[i].Members, m.ClubMembership)
				cursors[i] = m.Cursor()
			}
		}
		return out, cursors
	}
	trips := func() map[string]int64 {
		out := map[string]int64{}
		if c, ok := s.(interface{ RoundTrips() *community.RoundTrips }); ok {
			for _, op := range []string{"ClubsByID", "ClubMemberships", "ClubMembers"} {
				out[op] = c.RoundTrips().ByMethod().Of(op)
			}
		}
		return out
	}

	before := trips()
	got, cursors := pages(t, caller, []community.ClubMembersKey{
		{ClubID: owners.ID, First: 2},
		{ClubID: owners.ID, Role: community.RoleModerator, First: 5},
		{ClubID: forum.ID, First: 2},
		{ClubID: private.ID, First: 5},
		{ClubID: community.NewID(), First: 5},
		{ClubID: "not-an-id", First: 5},
		{ClubID: owners.ID, First: community.MaxPageSize + 1},
	})
	after := trips()
	want := []result{
		{Members: all[0:2], More: true},
		{Members: []community.ClubMembership{all[3]}},
		{Members: []community.ClubMembership{forumMember}},
		{Code: community.CodeForbidden},
		{Code: community.CodeNotFound},
		{Code: community.CodeNotFound},
		{Code: community.CodeBadUserInput},
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("first pages (-want +got):\n%s", diff)
	}
	if len(before) > 0 { // the store counts its round trips
		for op, n := range map[string]int64{"ClubsByID": 1, "ClubMemberships": 1, "ClubMembers": 2} {
			if d := after[op] - before[op]; d != n {
				t.Errorf("the batch made %d %s round trips, want %d", d, op, n)
			}
		}
	}

	// The next page after a cursor, which no other list takes.
	next := cursors[0]
	got, _ = pages(t, caller, []community.ClubMembersKey{
		{ClubID: owners.ID, First: 2, After: next},
		{ClubID: owners.ID, Role: community.RoleModerator, First: 2, After: next},
		{ClubID: forum.ID, First: 2, After: next},
		{ClubID: owners.ID, First: 2, After: "bm90LWEtY3Vyc29y"},
	})
	want = []result{
		{Members: all[2:4], More: true},
		{Code: community.CodeBadUserInput},
		{Code: community.CodeBadUserInput},
		{Code: community.CodeBadUserInput},
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("next pages (-want +got):\n%s", diff)
	}

	// Nobody anonymous sees inside a club.
	got, _ = pages(t, ctx, []community.ClubMembersKey{{ClubID: owners.ID, First: 2}})
	if diff := cmp.Diff([]result{{Code: community.CodeUnauthenticated}}, got, equateEmpty); diff != "" {
		t.Errorf("anonymous (-want +got):\n%s", diff)
	}
}

// testConcurrentClubWrites checks that club writes that read before they write see each
// other's effects when they run at the same time.
func testConcurrentClubWrites(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	nio := createBrands(t, s, "nio")[0].ID
	codes := func(errs []error) map[community.Code]int {
		out := map[community.Code]int{}
		for _, err := range errs {
			out[community.ErrorCode(err)]++
		}
		return out
	}
	// approvalClub stores a club that takes requests, for one subtest.
	approvalClub := func(t *testing.T, slug string) community.Club {
		t.Helper()
		c := newClub(slug, nio, 0)
		c.JoinPolicy = community.JoinApproval
		createClubs(t, s, c)
		return c
	}
	// membership returns the member's membership of the club, if any.
	membership := func(t *testing.T, clubID, memberID string) (community.ClubMembership, bool) {
		t.Helper()
		k := community.ClubMemberKey{ClubID: clubID, MemberID: memberID}
		got, err := s.ClubMemberships(ctx, []community.ClubMemberKey{k})
		must(t, err)
		m, ok := got[k]
		return m, ok
	}

	t.Run("join once", func(t *testing.T) {
		club := approvalClub(t, "join-once")
		m := create(t, s, "joiner")[0].ID
		errs := concurrently(n, func(i int) error { return s.JoinClub(ctx, clubMember(club.ID, m, i)) })
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent joins (-want +got):\n%s (%v)", diff, errs)
		}
		got, ok := membership(t, club.ID, m)
		if !ok || got.Since.Before(at(0)) || got.Since.After(at(n-1)) {
			t.Fatalf("after %d concurrent joins: membership %+v (%v), want one since one of the times given", n, got, ok)
		}
		want := clubMember(club.ID, m, 0)
		want.Since = got.Since
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("membership (-want +got):\n%s", diff)
		}
		checkClubMemberCounts(t, s, []string{club.ID}, map[string]int{club.ID: 1})
		listed, more, err := clubMembers(s, club.ID, "", community.MaxPageSize, nil)
		must(t, err)
		if diff := cmp.Diff([]community.ClubMembership{want}, listed); diff != "" || more {
			t.Errorf("ClubMembers: more = %v (-want +got):\n%s", more, diff)
		}
	})

	t.Run("request once", func(t *testing.T) {
		club := approvalClub(t, "request-once")
		m := create(t, s, "asker")[0].ID
		asked := make([]community.JoinRequest, n)
		for i := range asked {
			asked[i] = community.JoinRequest{ClubID: club.ID, MemberID: m, Message: fmt.Sprintf("第 %d 次", i), At: at(i)}
		}
		errs := concurrently(n, func(i int) error { return s.RequestJoin(ctx, asked[i]) })
		if diff := cmp.Diff(map[community.Code]int{"": n}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent requests (-want +got):\n%s (%v)", diff, errs)
		}
		got, _, err := s.JoinRequests(ctx, club.ID, community.MaxPageSize, nil)
		must(t, err)
		if len(got) != 1 || !slices.Contains(asked, got[0]) {
			t.Errorf("after %d concurrent requests: %+v, want one of the requests given", n, got)
		}
	})

	t.Run("approve or reject", func(t *testing.T) {
		club := approvalClub(t, "approve-or-reject")
		for round := range 5 {
			m := create(t, s, fmt.Sprintf("applicant_%d", round))[0].ID
			must(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: at(0)}))
			// f(0) approves, f(1) rejects.
			errs := concurrently(2, func(i int) error { return s.DecideJoinRequest(ctx, club.ID, m, i == 0, at(10)) })
			if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeNotFound: 1}, codes(errs)); diff != "" {
				t.Fatalf("round %d: error codes of a concurrent approve and reject (-want +got):\n%s (%v)", round, diff, errs)
			}
			got, ok := membership(t, club.ID, m)
			switch approved := errs[0] == nil; {
			case approved && !ok:
				t.Errorf("round %d: approved, yet not a member", round)
			case approved:
				if diff := cmp.Diff(clubMember(club.ID, m, 10), got); diff != "" {
					t.Errorf("round %d: membership (-want +got):\n%s", round, diff)
				}
			case ok:
				t.Errorf("round %d: rejected, yet a member: %+v", round, got)
			}
			checkJoinRequests(t, s, club.ID, nil)
		}
	})

	t.Run("approve once", func(t *testing.T) {
		club := approvalClub(t, "approve-once")
		m := create(t, s, "approved_once")[0].ID
		must(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: at(0)}))
		errs := concurrently(n, func(i int) error { return s.DecideJoinRequest(ctx, club.ID, m, true, at(20+i)) })
		if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeNotFound: n - 1}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent approvals (-want +got):\n%s (%v)", diff, errs)
		}
		winner := slices.Index(errs, nil)
		got, _ := membership(t, club.ID, m)
		if diff := cmp.Diff(clubMember(club.ID, m, 20+winner), got); diff != "" {
			t.Errorf("membership, since the approval that succeeded (-want +got):\n%s", diff)
		}
		checkClubMemberCounts(t, s, []string{club.ID}, map[string]int{club.ID: 1})
		checkJoinRequests(t, s, club.ID, nil)
	})

	t.Run("join while requesting", func(t *testing.T) {
		club := approvalClub(t, "join-while-requesting")
		for round := range 5 {
			m := create(t, s, fmt.Sprintf("impatient_%d", round))[0].ID
			joined := clubMember(club.ID, m, 30)
			// f(0) joins; f(1) asks to join, which the join removes or which finds a member.
			errs := concurrently(2, func(i int) error {
				if i == 0 {
					return s.JoinClub(ctx, joined)
				}
				return s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: at(30)})
			})
			if code := community.ErrorCode(errs[1]); errs[0] != nil || code != "" && code != community.CodeConflict {
				t.Fatalf("round %d: join %v, request %v; want nil, and nil or CONFLICT", round, errs[0], errs[1])
			}
			got, _ := membership(t, club.ID, m)
			if diff := cmp.Diff(joined, got); diff != "" {
				t.Errorf("round %d: membership (-want +got):\n%s", round, diff)
			}
			checkJoinRequests(t, s, club.ID, nil)
		}
	})

	t.Run("create one club of a slug", func(t *testing.T) {
		clubs := make([]community.Club, n)
		for i := range clubs {
			clubs[i] = newClub("one-slug", nio, i)
		}
		errs := concurrently(n, func(i int) error { return s.CreateClub(ctx, clubs[i], nil) })
		if diff := cmp.Diff(map[community.Code]int{"": 1, community.CodeConflict: n - 1}, codes(errs)); diff != "" {
			t.Fatalf("error codes of concurrent creates (-want +got):\n%s (%v)", diff, errs)
		}
		winner := clubs[slices.Index(errs, nil)]
		ids := make([]string, n)
		for i, c := range clubs {
			ids[i] = c.ID
		}
		checkClubs(t, s, ids, map[string]community.Club{winner.ID: winner})
		checkClubBySlug(t, s, "one-slug", winner)
	})
}
