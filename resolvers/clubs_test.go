package resolvers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const createClubOp = `mutation($in: CreateClubInput!) { createClub(input: $in) { club { id slug } } }`
const joinClubOp = `mutation($c: ID!) { joinClub(input: {clubId: $c, message: "我是车主"}) { outcome club { memberCount viewerMembership { role verified } } } }`

type joinOut struct {
	JoinClub struct {
		Outcome string
		Club    struct {
			MemberCount      int
			ViewerMembership *struct {
				Role     string
				Verified bool
			}
		}
	} `json:"joinClub"`
}

func (a *api) createClub(token string, in map[string]any) string {
	a.t.Helper()
	var out struct {
		CreateClub struct{ Club struct{ ID string } } `json:"createClub"`
	}
	a.ok(token, createClubOp, map[string]any{"in": in}, &out)
	return out.CreateClub.Club.ID
}

func TestClubs(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	managerID, managerTok := a.register("club_manager", "车友会会长")
	cm := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	bydAdminMember := mint(t, jwtauth.Claims{RegisteredClaims: jwtClaims(managerID), Roles: []string{"BRAND_ADMIN"}, Brand: byd})

	// Who may create which club.
	forum := a.createClub(cm, map[string]any{"slug": "car-talk", "name": "汽车论坛", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"})
	owners := a.createClub(bydAdminMember, map[string]any{"slug": "byd-owners", "name": "比亚迪车友会", "kind": "OWNER_CLUB", "visibility": "PRIVATE", "joinPolicy": "VERIFIED_OWNER", "brandId": byd})
	approval := a.createClub(bydAdminMember, map[string]any{"slug": "byd-fans", "name": "比亚迪粉丝", "kind": "INTEREST", "visibility": "PUBLIC", "joinPolicy": "APPROVAL", "brandId": byd})
	_, memberTok := a.register("li_hua", "李华")
	wangID, wangTok := a.register("wang_fang", "王芳")
	zhaoID, zhaoTok := a.register("zhao_lei", "赵磊")
	for name, c := range map[string]struct {
		token string
		in    map[string]any
		code  community.Code
	}{
		"a member":             {memberTok, map[string]any{"slug": "x-club", "name": "x", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}, community.CodeForbidden},
		"another brand admin":  {staffToken(t, community.NewID(), "BRAND_ADMIN"), map[string]any{"slug": "x-club", "name": "x", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": byd}, community.CodeForbidden},
		"brand staff":          {staffToken(t, byd, "BRAND_STAFF"), map[string]any{"slug": "x-club", "name": "x", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": byd}, community.CodeForbidden},
		"taken slug":           {cm, map[string]any{"slug": "CAR-TALK", "name": "x", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}, community.CodeConflict},
		"owners without brand": {cm, map[string]any{"slug": "x-club", "name": "x", "kind": "OWNER_CLUB", "visibility": "PUBLIC", "joinPolicy": "VERIFIED_OWNER"}, community.CodeBadUserInput},
		"empty name":           {cm, map[string]any{"slug": "x-club", "name": " ", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}, community.CodeBadUserInput},
		"unknown brand":        {cm, map[string]any{"slug": "x-club", "name": "x", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": community.NewID()}, community.CodeNotFound},
	} {
		t.Run("create/"+name, func(t *testing.T) { a.fails(c.code, c.token, createClubOp, map[string]any{"in": c.in}) })
	}
	var brandClubs struct {
		Brand struct{ Clubs []struct{ Slug string } }
	}
	a.ok("", `{ brand(slug: "byd-auto") { clubs { slug } } }`, nil, &brandClubs)
	if fmt.Sprint(brandClubs.Brand.Clubs) != "[{byd-owners} {byd-fans}]" {
		t.Errorf("brand clubs = %v", brandClubs.Brand.Clubs)
	}

	// OPEN: at once, and twice changes nothing.
	var j joinOut
	for range 2 {
		a.ok(memberTok, joinClubOp, map[string]any{"c": forum}, &j)
		if j.JoinClub.Outcome != "JOINED" || j.JoinClub.Club.MemberCount != 1 || j.JoinClub.Club.ViewerMembership.Role != "MEMBER" {
			t.Errorf("joined the forum: %+v", j.JoinClub)
		}
	}

	// VERIFIED_OWNER: a purchase from the host brand lets an owner in at once, verified.
	staff := staffToken(t, byd, "BRAND_STAFF")
	record := `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`
	a.ok(staff, record, map[string]any{"in": map[string]any{"memberId": wangID, "brandId": byd, "amount": "189800", "currency": "CNY", "externalId": "car-1", "at": "2026-03-01T10:00:00Z"}}, nil)
	a.ok(wangTok, joinClubOp, map[string]any{"c": owners}, &j)
	if j.JoinClub.Outcome != "JOINED" || j.JoinClub.Club.ViewerMembership == nil || !j.JoinClub.Club.ViewerMembership.Verified {
		t.Errorf("a verified owner: %+v", j.JoinClub)
	}
	a.ok(zhaoTok, joinClubOp, map[string]any{"c": owners}, &j)
	if j.JoinClub.Outcome != "REQUESTED" || j.JoinClub.Club.ViewerMembership != nil {
		t.Errorf("an owner without a purchase: %+v", j.JoinClub)
	}

	// A private club shows its members to its members, staff and managers only.
	members := `query($s: String!) { club(slug: $s) { name memberCount members { edges { node { role member { handle } } } } } }`
	a.fails(community.CodeForbidden, memberTok, members, map[string]any{"s": "byd-owners"})
	a.fails(community.CodeUnauthenticated, "", members, map[string]any{"s": "byd-owners"})
	a.ok(wangTok, members, map[string]any{"s": "byd-owners"}, nil)
	// The brand's staff see of their club's members those who consented to share their
	// profile with the brand: here none.
	var seen struct {
		Club struct {
			MemberCount int
			Members     struct{ Edges []any }
		}
	}
	a.ok(staff, members, map[string]any{"s": "byd-owners"}, &seen)
	if seen.Club.MemberCount != 2 || len(seen.Club.Members.Edges) != 0 {
		t.Errorf("brand staff without consent see %+v", seen.Club)
	}
	a.ok(memberTok, members, map[string]any{"s": "car-talk"}, nil)

	// APPROVAL: requests that managers and brand staff decide.
	requests := `query($s: String!) { club(slug: $s) { joinRequests { edges { node { message member { handle } } } } } }`
	a.ok(zhaoTok, joinClubOp, map[string]any{"c": approval}, &j)
	a.ok(memberTok, joinClubOp, map[string]any{"c": approval}, &j)
	if j.JoinClub.Outcome != "REQUESTED" {
		t.Errorf("an APPROVAL club let a member in at once: %+v", j.JoinClub)
	}
	a.fails(community.CodeForbidden, wangTok, requests, map[string]any{"s": "byd-fans"})
	var rq struct {
		Club struct {
			JoinRequests struct {
				Edges []struct {
					Node struct {
						Message string
						Member  struct{ Handle string }
					}
				}
			}
		}
	}
	a.ok(managerTok, requests, map[string]any{"s": "byd-fans"}, &rq)
	if len(rq.Club.JoinRequests.Edges) != 2 || rq.Club.JoinRequests.Edges[0].Node.Message != "我是车主" {
		t.Errorf("join requests = %+v", rq.Club.JoinRequests.Edges)
	}
	approve := `mutation($c: ID!, $m: ID!) { approveJoinRequest(input: {clubId: $c, memberId: $m}) { club { memberCount } } }`
	reject := `mutation($c: ID!, $m: ID!) { rejectJoinRequest(input: {clubId: $c, memberId: $m}) { club { memberCount } } }`
	a.fails(community.CodeForbidden, wangTok, approve, map[string]any{"c": approval, "m": zhaoID})
	// Brand staff decide the requests of members who share their profile with the brand;
	// another's is not found, as it is not listed to them.
	a.fails(community.CodeNotFound, staff, approve, map[string]any{"c": approval, "m": zhaoID})
	a.ok(zhaoTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
	a.ok(staff, approve, map[string]any{"c": approval, "m": zhaoID}, nil)
	a.fails(community.CodeNotFound, managerTok, approve, map[string]any{"c": approval, "m": zhaoID})
	a.ok(managerTok, reject, map[string]any{"c": approval, "m": mustMemberID(t, a, memberTok)}, nil)
	var count struct{ Club struct{ MemberCount int } }
	a.ok("", `{ club(slug: "byd-fans") { memberCount } }`, nil, &count)
	if count.Club.MemberCount != 2 { // the manager and the approved member
		t.Errorf("after one approval and one rejection: %d members", count.Club.MemberCount)
	}

	// Roles: managers appoint moderators; managers are appointed by staff above them.
	setRole := `mutation($c: ID!, $m: ID!, $r: ClubRole!) { setClubRole(input: {clubId: $c, memberId: $m, role: $r}) { membership { role } } }`
	a.ok(managerTok, setRole, map[string]any{"c": approval, "m": zhaoID, "r": "MODERATOR"}, nil)
	zhaoMod := zhaoTok
	a.fails(community.CodeForbidden, zhaoMod, setRole, map[string]any{"c": approval, "m": managerID, "r": "MEMBER"})
	a.fails(community.CodeForbidden, managerTok, setRole, map[string]any{"c": approval, "m": zhaoID, "r": "MANAGER"})
	a.ok(bydAdminMember, setRole, map[string]any{"c": approval, "m": zhaoID, "r": "MANAGER"}, nil)
	a.fails(community.CodeNotFound, managerTok, setRole, map[string]any{"c": approval, "m": wangID, "r": "MODERATOR"})
	var mods struct {
		Club struct {
			Managers struct {
				Edges []struct {
					Node struct{ Member struct{ Handle string } }
				}
			}
		}
	}
	a.ok(managerTok, `{ club(slug: "byd-fans") { managers { edges { node { member { handle } } } } } }`, nil, &mods)
	if len(mods.Club.Managers.Edges) != 2 {
		t.Errorf("managers = %+v", mods.Club.Managers.Edges)
	}

	// Updates, and leaving.
	update := `mutation($in: UpdateClubInput!) { updateClub(input: $in) { club { name joinPolicy } } }`
	a.fails(community.CodeForbidden, memberTok, update, map[string]any{"in": map[string]any{"clubId": forum, "name": "改名"}})
	a.ok(cm, update, map[string]any{"in": map[string]any{"clubId": forum, "name": "汽车论坛（新）", "joinPolicy": "APPROVAL"}}, nil)
	a.fails(community.CodeBadUserInput, cm, update, map[string]any{"in": map[string]any{"clubId": forum}})
	a.fails(community.CodeBadUserInput, cm, update, map[string]any{"in": map[string]any{"clubId": forum, "joinPolicy": "VERIFIED_OWNER"}})
	leave := `mutation($c: ID!) { leaveClub(input: {clubId: $c}) { club { memberCount } } }`
	for range 2 {
		a.ok(memberTok, leave, map[string]any{"c": forum}, nil)
	}
	a.ok("", `{ club(slug: "car-talk") { memberCount } }`, nil, &count)
	if count.Club.MemberCount != 0 {
		t.Errorf("after leaving: %d members", count.Club.MemberCount)
	}
	a.fails(community.CodeNotFound, memberTok, leave, map[string]any{"c": community.NewID()})
}

func mustMemberID(t *testing.T, a *api, token string) string {
	t.Helper()
	var out struct{ Viewer struct{ ID string } }
	a.ok(token, `{ viewer { id } }`, nil, &out)
	return out.Viewer.ID
}

// TestClubListRoundTrips checks that the members and posts of a list of clubs, a brand's
// clubs or clubs resolved as entities, cost the same number of store round trips for 2
// clubs as for 6, but for the read of each club's page of posts: for a member, and for
// brand staff, who see only the members who consented and read on past the others.
func TestClubListRoundTrips(t *testing.T) {
	a := newAPI(t)
	cm := mint(t, jwtClaimsRoles("COMMUNITY_MANAGER"))
	_, viewer := a.register("club_viewer", "看客")
	type brand struct {
		slug, id, staff string
		clubs           []string
	}
	brands := []*brand{{slug: "small-brand"}, {slug: "large-brand"}}
	for b, size := range []int{2, 6} {
		br := brands[b]
		br.id = a.createBrand(br.slug, br.slug)
		br.staff = staffToken(t, br.id, "BRAND_STAFF")
		for c := range size {
			club := a.createClub(cm, map[string]any{"slug": fmt.Sprintf("%s-%d", br.slug, c), "name": fmt.Sprintf("车友会 %d", c),
				"kind": "OWNER_CLUB", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": br.id})
			br.clubs = append(br.clubs, club)
			// Five members, newest last; the fourth does not share its profile with the
			// brand, so that brand staff read past it.
			for j := range 5 {
				_, tok := a.register(fmt.Sprintf("owner_%d_%d_%d", b, c, j), "车主")
				a.join(tok, club)
				if j != 3 {
					a.ok(tok, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { tier } } }`, map[string]any{"b": br.id}, nil)
					a.ok(tok, consentOp, map[string]any{"b": br.id, "s": []string{"PROFILE"}}, nil)
				}
				if j < 4 {
					a.createPost(tok, club, fmt.Sprintf("帖子 %d", j))
				}
			}
		}
	}
	const fields = `members(first: 3) { edges { node { member { handle } } } } posts(first: 3) { edges { node { title } } }`
	byBrand := `query($slug: String!) { brand(slug: $slug) { clubs { ` + fields + ` } } }`
	entities := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Club { ` + fields + ` } } }`
	// ops are the store methods such a query reads with.
	ops := []string{"BrandBySlug", "ClubsOfBrands", "ClubsByID", "ClubMemberships", "ClubMembers", "MembersByID", "ConsentsOf", "ClubPosts", "RecentPostCounts", "PostsByID"}
	hotByBrand := strings.Replace(byBrand, "posts(first: 3)", "posts(first: 3, sort: HOT)", 1)
	// cost runs a query over a brand's clubs and returns its store round trips by method;
	// it fails when the query made any other.
	cost := func(t *testing.T, br *brand, query string, staff bool) map[string]int64 {
		t.Helper()
		vars := map[string]any{"slug": br.slug}
		if query == entities {
			var reps []map[string]any
			for _, id := range br.clubs {
				reps = append(reps, map[string]any{"__typename": "Club", "id": id})
			}
			vars = map[string]any{"r": reps}
		}
		total, was := a.trips.Total(), map[string]int64{}
		for _, op := range ops {
			was[op] = a.trips.Of(op)
		}
		token := viewer
		if staff {
			token = br.staff
		}
		res := a.do(token, query, vars)
		total = a.trips.Total() - total
		got := map[string]int64{}
		for _, op := range ops {
			if n := a.trips.Of(op) - was[op]; n > 0 {
				got[op] = n
				total -= n
			}
		}
		if total != 0 {
			t.Errorf("%d clubs: %d store round trips of other methods than %v", len(br.clubs), total, ops)
		}
		// The pages must hold what was asked for, or an equal cost would prove nothing.
		handles, titles := strings.Count(string(res.Data), `"handle"`), strings.Count(string(res.Data), `"title"`)
		if len(res.Errors) > 0 || handles != 3*len(br.clubs) || titles != 3*len(br.clubs) {
			t.Fatalf("%d clubs: %d members and %d posts shown (%v)", len(br.clubs), handles, titles, res.Errors)
		}
		// A member sees the fourth member among a club's newest three; brand staff do not.
		if shown := strings.Contains(string(res.Data), `_3"`); shown == staff {
			t.Errorf("%d clubs: the member who does not share its profile shown: %v, want %v", len(br.clubs), shown, !staff)
		}
		return got
	}
	cases := []struct {
		name  string
		query string
		staff bool
		// want are the round trips by method, whatever the number of clubs.
		want map[string]int64
	}{
		// The brand and its clubs; the clubs and the caller's standing in them, once for
		// Club.members and Club.posts both (the request memo); the members' pages and those
		// members; the posts' pages.
		{"a brand's clubs, as a member", byBrand, false,
			map[string]int64{"BrandBySlug": 1, "ClubsOfBrands": 1, "ClubsByID": 1, "ClubMemberships": 1, "ClubMembers": 1, "MembersByID": 1, "ClubPosts": 1}},
		// HOT pages: the candidates' counts of every club, then the pages' posts.
		{"a brand's clubs, HOT, as a member", hotByBrand, false,
			map[string]int64{"BrandBySlug": 1, "ClubsOfBrands": 1, "ClubsByID": 1, "ClubMemberships": 1, "ClubMembers": 1, "MembersByID": 1, "RecentPostCounts": 1, "PostsByID": 1}},
		// No standing to read; the members' pages twice, to read past the member who does
		// not share its profile, with the consents of each round's members.
		{"a brand's clubs, as brand staff", byBrand, true,
			map[string]int64{"BrandBySlug": 1, "ClubsOfBrands": 1, "ClubsByID": 1, "ClubMembers": 2, "ConsentsOf": 2, "MembersByID": 1, "ClubPosts": 1}},
		// The clubs themselves, then as for a brand's clubs.
		{"entities, as a member", entities, false,
			map[string]int64{"ClubsByID": 2, "ClubMemberships": 1, "ClubMembers": 1, "MembersByID": 1, "ClubPosts": 1}},
		{"entities, as brand staff", entities, true,
			map[string]int64{"ClubsByID": 2, "ClubMembers": 2, "ConsentsOf": 2, "MembersByID": 1, "ClubPosts": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, br := range brands {
				got := cost(t, br, tc.query, tc.staff)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%d clubs: store round trips by method (-want +got):\n%s", len(br.clubs), diff)
				}
				var total int64
				for _, n := range got {
					total += n
				}
				t.Logf("%d clubs: %d store round trips", len(br.clubs), total)
			}
		})
	}
	t.Run("two paths to one club", func(t *testing.T) {
		// One path loads the pages, the other primes them: each page is read once.
		query := `query($slug: String!, $r: [_Any!]!) { club(slug: $slug) { ` + fields + ` }
			_entities(representations: $r) { ... on Club { ` + fields + ` } } }`
		br := brands[0]
		members, posts := a.trips.Of("ClubMembers"), a.trips.Of("ClubPosts")
		res := a.do(viewer, query, map[string]any{"slug": br.slug + "-0", "r": []map[string]any{{"__typename": "Club", "id": br.clubs[0]}}})
		members, posts = a.trips.Of("ClubMembers")-members, a.trips.Of("ClubPosts")-posts
		if len(res.Errors) > 0 || strings.Count(string(res.Data), `"handle"`) != 6 || strings.Count(string(res.Data), `"title"`) != 6 {
			t.Fatalf("the club's pages, twice: %s (%v)", res.Data, res.Errors)
		}
		if members != 1 || posts != 1 {
			t.Errorf("the same pages through two paths cost %d reads of members and %d of posts; want 1 and 1", members, posts)
		}
	})
}
