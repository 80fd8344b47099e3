// Package communitytest is the contract suite every community.Store adapter passes: one
// Run call per adapter, from that adapter's tests.
package communitytest

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// NewStore returns an empty store for one subtest; it cleans up after itself with t.Cleanup.
type NewStore func(t *testing.T) community.Store

// Run runs the whole contract suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Members", func(t *testing.T) { testMembers(t, newStore(t)) })
	t.Run("UpdateMember", func(t *testing.T) { testUpdateMember(t, newStore(t)) })
	t.Run("Identities", func(t *testing.T) { testIdentities(t, newStore(t)) })
	t.Run("Follow", func(t *testing.T) { testFollow(t, newStore(t)) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, newStore(t)) })
	t.Run("FollowingPaging", func(t *testing.T) { testFollowingPaging(t, newStore(t)) })
	t.Run("PagingWhileFollowsArrive", func(t *testing.T) { testPagingWhileFollowsArrive(t, newStore(t)) })
	t.Run("BatchedLists", func(t *testing.T) { testBatchedLists(t, newStore(t)) })
	t.Run("MutualFollows", func(t *testing.T) { testMutual(t, newStore(t)) })
	t.Run("Suggestions", func(t *testing.T) { testSuggestions(t, newStore(t)) })
	t.Run("Import", func(t *testing.T) { testImport(t, newStore(t)) })
	t.Run("Service", func(t *testing.T) { testService(t, newStore(t)) })
	t.Run("ConcurrentWrites", func(t *testing.T) { ConcurrentWrites(t, newStore(t)) })
	t.Run("Bulk", func(t *testing.T) { testBulk(t, newStore(t)) })
	testBrandStore(t, newStore)
	testClubStore(t, newStore)
	testPostStore(t, newStore)
	testReferralStore(t, newStore)
	testAttributionStore(t, newStore)
	testRankingStore(t, newStore)
	testFraudSignals(t, newStore)
	testDownlineStore(t, newStore)
	testOutboxStore(t, newStore)
	testIdempotencyStore(t, newStore)
	t.Run("RoundTrips", func(t *testing.T) { testRoundTrips(t, newStore(t)) })
}

// pageReq is one page of one list, as the suite asks for it.
type pageReq struct {
	First int
	After *community.Position
}

// list reads one page of one member's list of the given kind.
func list(s community.Store, kind community.ListKind, memberID string, r pageReq) (community.FollowPage, error) {
	pages, err := s.FollowLists(context.Background(), kind, r.First, []community.ListRequest{{MemberID: memberID, After: r.After}})
	if err != nil {
		return community.FollowPage{}, err
	}
	if len(pages) != 1 {
		return community.FollowPage{}, fmt.Errorf("FollowLists returned %d pages for 1 request", len(pages))
	}
	return pages[0], nil
}

// base is the suite's clock: whole microseconds, so every store keeps times exactly.
var base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

func newMember(handle string) community.Member {
	return community.Member{ID: community.NewID(), Handle: handle, DisplayName: "会员 " + handle, Bio: "爱车之人", JoinedAt: base}
}

func wechat(openID string) community.Identity {
	return community.Identity{Provider: community.ProviderWeChat, ExternalID: openID, LinkedAt: base}
}

func wantCode(t *testing.T, err error, code community.Code) {
	t.Helper()
	if got := community.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// checkRead fails the test if a read failed, and reports how what it read differs from
// want; what names the read in the report.
func checkRead[V any](t *testing.T, what string, want, got V, err error, opts ...cmp.Option) {
	t.Helper()
	must(t, err)
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// checkGrouped is checkRead for a read of lists keyed by id, where a store may omit the keys
// with nothing to report.
func checkGrouped[V any](t *testing.T, what string, want, got map[string][]V, err error) {
	t.Helper()
	checkRead(t, what, nonEmpty(want), nonEmpty(got), err)
}

// checkNone checks that a read of lists keyed by id, asked for no ids, succeeds with nothing;
// what names the read in the report.
func checkNone[V any](t *testing.T, what string, got map[string][]V, err error) {
	t.Helper()
	must(t, err)
	if len(nonEmpty(got)) != 0 {
		t.Errorf("%s = %v", what, got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// create stores members with one WeChat identity each and returns them.
func create(t *testing.T, s community.Store, handles ...string) []community.Member {
	t.Helper()
	out := make([]community.Member, len(handles))
	for i, h := range handles {
		out[i] = newMember(h)
		must(t, s.CreateMember(context.Background(), out[i], wechat("openid-"+h)))
	}
	return out
}

func testMembers(t *testing.T, s community.Store) {
	ctx := context.Background()
	lihua := newMember("li_hua")
	lihua.AvatarURL = "https://img.example.com/lihua.png"
	must(t, s.CreateMember(ctx, lihua, wechat("o-lihua")))

	got, err := s.MembersByID(ctx, []string{lihua.ID, community.NewID()})
	checkRead(t, "MembersByID", map[string]community.Member{lihua.ID: lihua}, got, err)
	byHandle, err := s.MemberByHandle(ctx, "LI_HUA")
	checkRead(t, "MemberByHandle is not case-insensitive", lihua, byHandle, err)
	_, err = s.MemberByHandle(ctx, "nobody")
	wantCode(t, err, community.CodeNotFound)

	t.Run("handle taken case-insensitively", func(t *testing.T) {
		other := newMember("Li_Hua")
		wantCode(t, s.CreateMember(ctx, other, wechat("o-other")), community.CodeConflict)
		if got, _ := s.MembersByID(ctx, []string{other.ID}); len(got) != 0 {
			t.Errorf("a refused member was stored: %v", got)
		}
		// The refused identity is still free.
		must(t, s.CreateMember(ctx, newMember("wang_fang"), wechat("o-other")))
	})
	t.Run("identity taken", func(t *testing.T) {
		other := newMember("zhang_wei")
		wantCode(t, s.CreateMember(ctx, other, wechat("o-lihua")), community.CodeConflict)
		if _, err := s.MemberByHandle(ctx, "zhang_wei"); community.ErrorCode(err) != community.CodeNotFound {
			t.Errorf("a refused member's handle was stored: %v", err)
		}
	})
}

func testUpdateMember(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "chen_jing", "zhao_lei")
	name, bio, handle := "陈静 Jing", "", "chenjing"
	got, err := s.UpdateMember(ctx, ms[0].ID, community.UpdateProfileInput{DisplayName: &name, Bio: &bio, Handle: &handle})
	must(t, err)
	want := ms[0]
	want.DisplayName, want.Bio, want.Handle = name, bio, handle
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateMember (-want +got):\n%s", diff)
	}
	stored, err := s.MembersByID(ctx, []string{ms[0].ID})
	must(t, err)
	if diff := cmp.Diff(want, stored[ms[0].ID]); diff != "" {
		t.Errorf("stored after update (-want +got):\n%s", diff)
	}
	if _, err := s.MemberByHandle(ctx, "chen_jing"); community.ErrorCode(err) != community.CodeNotFound {
		t.Errorf("old handle still finds the member: %v", err)
	}
	// The old handle is free again; the new one is taken.
	taken := "ChenJing"
	_, err = s.UpdateMember(ctx, ms[1].ID, community.UpdateProfileInput{Handle: &taken})
	wantCode(t, err, community.CodeConflict)
	free := "chen_jing"
	_, err = s.UpdateMember(ctx, ms[1].ID, community.UpdateProfileInput{Handle: &free})
	must(t, err)
	_, err = s.UpdateMember(ctx, community.NewID(), community.UpdateProfileInput{DisplayName: &name})
	wantCode(t, err, community.CodeNotFound)
}

func testIdentities(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "liu_yang", "sun_li")
	weibo := community.Identity{Provider: community.ProviderWeibo, ExternalID: "wb-1001", LinkedAt: at(5)}
	must(t, s.LinkIdentity(ctx, ms[0].ID, weibo))
	must(t, s.LinkIdentity(ctx, ms[0].ID, weibo)) // again: no-op

	got, err := s.IdentitiesOf(ctx, []string{ms[0].ID, ms[1].ID})
	must(t, err)
	want := map[string][]community.Identity{
		ms[0].ID: {wechat("openid-liu_yang"), weibo},
		ms[1].ID: {wechat("openid-sun_li")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IdentitiesOf (-want +got):\n%s", diff)
	}

	cases := []struct {
		name   string
		member string
		id     community.Identity
		code   community.Code
	}{
		{"identity of another member", ms[1].ID, weibo, community.CodeConflict},
		{"second identity of a provider", ms[0].ID, community.Identity{Provider: community.ProviderWeibo, ExternalID: "wb-2002", LinkedAt: at(6)}, community.CodeConflict},
		{"unknown member", community.NewID(), community.Identity{Provider: community.ProviderPhone, ExternalID: "+8613800000000", LinkedAt: at(6)}, community.CodeNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, s.LinkIdentity(ctx, c.member, c.id), c.code) })
	}

	wantCode(t, s.UnlinkIdentity(ctx, ms[0].ID, community.ProviderTmall), community.CodeNotFound)
	must(t, s.UnlinkIdentity(ctx, ms[0].ID, community.ProviderWeChat))
	wantCode(t, s.UnlinkIdentity(ctx, ms[0].ID, community.ProviderWeibo), community.CodeBadUserInput)
	got, err = s.IdentitiesOf(ctx, []string{ms[0].ID})
	must(t, err)
	if diff := cmp.Diff([]community.Identity{weibo}, got[ms[0].ID]); diff != "" {
		t.Errorf("after unlink (-want +got):\n%s", diff)
	}
	// The unlinked WeChat identity is free for another member.
	freed := community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-liu_yang", LinkedAt: at(7)}
	must(t, s.CreateMember(ctx, newMember("zhou_min"), freed))
	wantCode(t, s.LinkIdentity(ctx, ms[0].ID, freed), community.CodeConflict)
}

func testFollow(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "a_member", "b_member", "c_member")
	a, b, c := ms[0].ID, ms[1].ID, ms[2].ID
	must(t, s.Follow(ctx, a, b, at(1)))
	must(t, s.Follow(ctx, a, b, at(9))) // again: keeps the first time
	must(t, s.Follow(ctx, c, b, at(2)))
	must(t, s.Follow(ctx, b, a, at(3)))
	wantCode(t, s.Follow(ctx, a, community.NewID(), at(4)), community.CodeNotFound)
	wantCode(t, s.Follow(ctx, community.NewID(), a, at(4)), community.CodeNotFound)

	counts, err := s.FollowCounts(ctx, []string{a, b, c, community.NewID()})
	must(t, err)
	wantCounts := map[string]community.FollowCounts{
		a: {Followers: 1, Following: 1},
		b: {Followers: 2, Following: 1},
		c: {Followers: 0, Following: 1},
	}
	if diff := cmp.Diff(nonZero(wantCounts), nonZero(counts)); diff != "" {
		t.Errorf("FollowCounts (-want +got):\n%s", diff)
	}
	followers, err := list(s, community.ListFollowers, b, pageReq{First: 10})
	must(t, err)
	want := community.FollowPage{Edges: []community.FollowEdge{{MemberID: c, Since: at(2)}, {MemberID: a, Since: at(1)}}, TotalCount: 2}
	if diff := cmp.Diff(want, followers); diff != "" {
		t.Errorf("Followers (-want +got):\n%s", diff)
	}
	states, err := s.FollowStates(ctx, a, []string{b, c})
	must(t, err)
	if diff := cmp.Diff(map[string]community.FollowState{b: {ViewerFollows: true, FollowsViewer: true}}, nonZero(states)); diff != "" {
		t.Errorf("FollowStates (-want +got):\n%s", diff)
	}

	must(t, s.Unfollow(ctx, a, b))
	must(t, s.Unfollow(ctx, a, b)) // again: no-op
	wantCode(t, s.Unfollow(ctx, a, community.NewID()), community.CodeNotFound)
	following, err := list(s, community.ListFollowing, a, pageReq{First: 10})
	checkRead(t, "Following after unfollow", community.FollowPage{}, following, err, emptyEdges)
	counts, err = s.FollowCounts(ctx, []string{a, b})
	must(t, err)
	if got := counts[b].Followers; got != 1 {
		t.Errorf("b has %d followers after unfollow, want 1", got)
	}
	// Following again after an unfollow starts a new follow at the new time.
	must(t, s.Follow(ctx, a, b, at(20)))
	followers, err = list(s, community.ListFollowers, b, pageReq{First: 1})
	must(t, err)
	want = community.FollowPage{Edges: []community.FollowEdge{{MemberID: a, Since: at(20)}}, HasNextPage: true, TotalCount: 2}
	if diff := cmp.Diff(want, followers); diff != "" {
		t.Errorf("Followers after re-follow (-want +got):\n%s", diff)
	}
}

// nonZero drops the zero values of a map: stores may omit members with nothing to report.
func nonZero[V comparable](m map[string]V) map[string]V {
	out := map[string]V{}
	var zero V
	for k, v := range m {
		if v != zero {
			out[k] = v
		}
	}
	return out
}

var emptyEdges = cmp.Comparer(func(a, b []community.FollowEdge) bool {
	return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
})

// followersFixture makes a star: n followers of one member, some at the same time so the
// id decides their order. It returns the followee and the followers in list order.
func followersFixture(t *testing.T, s community.Store, n int) (string, []community.FollowEdge) {
	t.Helper()
	ctx := context.Background()
	star := create(t, s, "star")[0]
	var handles []string
	for i := range n {
		handles = append(handles, fmt.Sprintf("fan_%03d", i))
	}
	fans := create(t, s, handles...)
	var edges []community.FollowEdge
	for i, f := range fans {
		since := at(i / 3) // three follows a minute: ties broken by id
		must(t, s.Follow(ctx, f.ID, star.ID, since))
		edges = append(edges, community.FollowEdge{MemberID: f.ID, Since: since})
	}
	sortListOrder(edges)
	return star.ID, edges
}

// sortListOrder sorts edges newest first, then by id.
func sortListOrder(edges []community.FollowEdge) {
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].Since.Equal(edges[j].Since) {
			return edges[i].Since.After(edges[j].Since)
		}
		return edges[i].MemberID < edges[j].MemberID
	})
}

// walk pages through a list with the given page size and returns every edge seen.
func walk(t *testing.T, list func(pageReq) (community.FollowPage, error), size int, between func()) []community.FollowEdge {
	t.Helper()
	var all []community.FollowEdge
	var after *community.Position
	for range 1000 {
		p, err := list(pageReq{First: size, After: after})
		must(t, err)
		if len(p.Edges) > size {
			t.Fatalf("page of %d edges for first=%d", len(p.Edges), size)
		}
		all = append(all, p.Edges...)
		if !p.HasNextPage {
			return all
		}
		if len(p.Edges) == 0 {
			t.Fatal("empty page that says it has a next page")
		}
		last := p.Edges[len(p.Edges)-1]
		after = &community.Position{Since: last.Since, ID: last.MemberID}
		if between != nil {
			between()
		}
	}
	t.Fatal("paging did not end")
	return nil
}

func testPaging(t *testing.T, s community.Store) {
	star, want := followersFixture(t, s, 23)
	for _, size := range []int{1, 2, 5, 23, 50} {
		t.Run(fmt.Sprintf("first=%d", size), func(t *testing.T) {
			got := walk(t, func(r pageReq) (community.FollowPage, error) { return list(s, community.ListFollowers, star, r) }, size, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("followers walked in pages (-want +got):\n%s", diff)
			}
		})
	}
	p, err := list(s, community.ListFollowers, star, pageReq{First: 0})
	must(t, err)
	if len(p.Edges) != 0 || !p.HasNextPage || p.TotalCount != 23 {
		t.Errorf("first=0: %d edges, hasNext %v, total %d; want 0, true, 23", len(p.Edges), p.HasNextPage, p.TotalCount)
	}
	// A position past the end gives an empty last page.
	last := want[len(want)-1]
	p, err = list(s, community.ListFollowers, star, pageReq{First: 5, After: &community.Position{Since: last.Since, ID: last.MemberID}})
	must(t, err)
	if len(p.Edges) != 0 || p.HasNextPage {
		t.Errorf("after the last edge: %d edges, hasNext %v", len(p.Edges), p.HasNextPage)
	}
	// Following lists page the same way.
	fan := want[0].MemberID
	following, err := list(s, community.ListFollowing, fan, pageReq{First: 5})
	checkRead(t, "Following", community.FollowPage{Edges: []community.FollowEdge{{MemberID: star, Since: want[0].Since}}, TotalCount: 1}, following, err)
}

// testFollowingPaging pages through a member's followings, several followed at one time
// (in the reverse of their ids' order, so that only the id orders them), then unfollows one
// of those and follows it again: a page after its old position starts where it stood, and
// the new follow comes first, at its new time, once.
func testFollowingPaging(t *testing.T, s community.Store) {
	ctx := context.Background()
	fan := create(t, s, "fan")[0].ID
	var handles []string
	for i := range 11 {
		handles = append(handles, fmt.Sprintf("idol_%02d", i))
	}
	idols := create(t, s, handles...)
	var want []community.FollowEdge
	for i := len(idols) - 1; i >= 0; i-- {
		since := at(i / 4) // four follows a minute: ties broken by id
		must(t, s.Follow(ctx, fan, idols[i].ID, since))
		want = append(want, community.FollowEdge{MemberID: idols[i].ID, Since: since})
	}
	sortListOrder(want)
	following := func(r pageReq) (community.FollowPage, error) { return list(s, community.ListFollowing, fan, r) }
	for _, size := range []int{1, 3, 4, 11, 20} {
		t.Run(fmt.Sprintf("first=%d", size), func(t *testing.T) {
			if diff := cmp.Diff(want, walk(t, following, size, nil)); diff != "" {
				t.Errorf("followings walked in pages (-want +got):\n%s", diff)
			}
		})
	}
	// want[3:7] share a time: a page after the middle of them starts at the next id.
	gone := want[5]
	after := &community.Position{Since: gone.Since, ID: gone.MemberID}
	p, err := following(pageReq{First: 2, After: after})
	checkRead(t, "page after a position among equal times", community.FollowPage{Edges: want[6:8], HasNextPage: true, TotalCount: 11}, p, err)

	must(t, s.Unfollow(ctx, fan, gone.MemberID))
	p, err = following(pageReq{First: 2, After: after})
	checkRead(t, "page after an unfollowed position", community.FollowPage{Edges: want[6:8], HasNextPage: true, TotalCount: 10}, p, err)
	p, err = list(s, community.ListFollowers, gone.MemberID, pageReq{First: 5})
	checkRead(t, "followers after unfollow", community.FollowPage{}, p, err, emptyEdges)

	must(t, s.Follow(ctx, fan, gone.MemberID, at(30)))
	refollowed := []community.FollowEdge{{MemberID: gone.MemberID, Since: at(30)}}
	refollowed = append(refollowed, want[:5]...)
	refollowed = append(refollowed, want[6:]...)
	if diff := cmp.Diff(refollowed, walk(t, following, 3, nil)); diff != "" {
		t.Errorf("followings after a follow anew (-want +got):\n%s", diff)
	}
	p, err = list(s, community.ListFollowers, gone.MemberID, pageReq{First: 5})
	checkRead(t, "followers after a follow anew", community.FollowPage{Edges: []community.FollowEdge{{MemberID: fan, Since: at(30)}}, TotalCount: 1}, p, err)
}

// testPagingWhileFollowsArrive checks that new follows arriving between pages neither
// repeat nor hide the follows that were there when paging began.
func testPagingWhileFollowsArrive(t *testing.T, s community.Store) {
	ctx := context.Background()
	star, want := followersFixture(t, s, 12)
	late := create(t, s, "late_1", "late_2", "late_3", "late_4", "late_5", "late_6")
	n := 0
	got := walk(t, func(r pageReq) (community.FollowPage, error) { return list(s, community.ListFollowers, star, r) }, 4, func() {
		must(t, s.Follow(ctx, late[n].ID, star, at(100+n)))
		n++
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages changed by new follows (-want +got):\n%s", diff)
	}
}

// testBatchedLists asks for several members' lists in one call: each page is that
// member's, from its own position, in the order asked.
func testBatchedLists(t *testing.T, s community.Store) {
	ctx := context.Background()
	star, fans := followersFixture(t, s, 7)
	other := create(t, s, "other_star")[0].ID
	must(t, s.Follow(ctx, fans[0].MemberID, other, at(50)))
	must(t, s.Follow(ctx, fans[1].MemberID, other, at(51)))
	after := &community.Position{Since: fans[2].Since, ID: fans[2].MemberID}
	pages, err := s.FollowLists(ctx, community.ListFollowers, 2, []community.ListRequest{
		{MemberID: other},
		{MemberID: star, After: after},
		{MemberID: community.NewID()},
		{MemberID: star},
	})
	must(t, err)
	want := []community.FollowPage{
		{Edges: []community.FollowEdge{{MemberID: fans[1].MemberID, Since: at(51)}, {MemberID: fans[0].MemberID, Since: at(50)}}, TotalCount: 2},
		{Edges: fans[3:5], HasNextPage: true, TotalCount: 7},
		{},
		{Edges: fans[0:2], HasNextPage: true, TotalCount: 7},
	}
	if diff := cmp.Diff(want, pages, emptyEdges); diff != "" {
		t.Errorf("FollowLists (-want +got):\n%s", diff)
	}
	pages, err = s.FollowLists(ctx, community.ListFollowing, 0, []community.ListRequest{{MemberID: fans[0].MemberID}, {MemberID: star}})
	must(t, err)
	want = []community.FollowPage{{HasNextPage: true, TotalCount: 2}, {}}
	if diff := cmp.Diff(want, pages, emptyEdges); diff != "" {
		t.Errorf("FollowLists first=0 (-want +got):\n%s", diff)
	}
}

func testMutual(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "hub", "m1", "m2", "m3", "m4")
	hub := ms[0].ID
	for i, m := range ms[1:] {
		must(t, s.Follow(ctx, hub, m.ID, at(i)))
	}
	must(t, s.Follow(ctx, ms[1].ID, hub, at(10)))
	must(t, s.Follow(ctx, ms[3].ID, hub, at(11)))
	must(t, s.Follow(ctx, ms[4].ID, ms[1].ID, at(12))) // not towards hub: no effect
	want := []community.FollowEdge{{MemberID: ms[3].ID, Since: at(2)}, {MemberID: ms[1].ID, Since: at(0)}}
	got := walk(t, func(r pageReq) (community.FollowPage, error) { return list(s, community.ListMutual, hub, r) }, 1, nil)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MutualFollows (-want +got):\n%s", diff)
	}
	p, err := list(s, community.ListMutual, hub, pageReq{First: 1})
	must(t, err)
	if p.TotalCount != 2 || !p.HasNextPage {
		t.Errorf("mutual first page: total %d, hasNext %v; want 2, true", p.TotalCount, p.HasNextPage)
	}
}

func testSuggestions(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "me", "f1", "f2", "f3", "x", "y", "z", "w", "known")
	id := func(i int) string { return ms[i].ID }
	me, f1, f2, f3, x, y, z, w, known := id(0), id(1), id(2), id(3), id(4), id(5), id(6), id(7), id(8)
	follows := [][2]string{
		{me, f1}, {me, f2}, {me, f3}, {me, known},
		{f1, x}, {f2, x}, {f3, x}, // x: via 3
		{f1, y}, {f2, y}, // y: via 2
		{f1, z}, {f2, z}, // z: via 2, more followers than y
		{w, z},
		{f1, w},     // w: via 1
		{f1, me},    // never suggest oneself
		{f1, known}, // never suggest one already followed
	}
	for i, f := range follows {
		must(t, s.Follow(ctx, f[0], f[1], at(i)))
	}
	all, err := s.SuggestedFollows(ctx, []string{me, f3, community.NewID()}, 10)
	must(t, err)
	got := all[me]
	want := []community.Suggestion{
		{MemberID: x, Via: 3, FollowerCount: 3},
		{MemberID: z, Via: 2, FollowerCount: 3},
		{MemberID: y, Via: 2, FollowerCount: 2},
		{MemberID: w, Via: 1, FollowerCount: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SuggestedFollows (-want +got):\n%s", diff)
	}
	if len(all[f3]) != 0 {
		t.Errorf("f3 follows only x, who follows no one: suggestions %+v", all[f3])
	}
	all, err = s.SuggestedFollows(ctx, []string{me}, 2)
	must(t, err)
	got = all[me]
	if diff := cmp.Diff(want[:2], got); diff != "" {
		t.Errorf("SuggestedFollows limit 2 (-want +got):\n%s", diff)
	}
}

func testImport(t *testing.T, s community.Store) {
	ctx := context.Background()
	var batch []community.ImportedMember
	for i := range 50 {
		m := newMember(fmt.Sprintf("imported_%02d", i))
		batch = append(batch, community.ImportedMember{Member: m, Identities: []community.Identity{wechat(m.Handle)}})
	}
	must(t, s.ImportMembers(ctx, batch))
	var follows []community.Follow
	for i := 1; i < 50; i++ {
		follows = append(follows, community.Follow{FollowerID: batch[i].Member.ID, FolloweeID: batch[0].Member.ID, Since: at(i)})
	}
	// Two follows of batch[1]'s a minute, as batch[2]'s; and a duplicate, later, which is
	// skipped.
	follows[0].Since = at(2)
	follows = append(follows, community.Follow{FollowerID: follows[0].FollowerID, FolloweeID: follows[0].FolloweeID, Since: at(90)})
	follows = append(follows, community.Follow{FollowerID: community.NewID(), FolloweeID: batch[0].Member.ID, Since: at(1)})
	must(t, s.ImportFollows(ctx, follows))
	var want []community.FollowEdge
	for _, f := range follows[:49] {
		want = append(want, community.FollowEdge{MemberID: f.FollowerID, Since: f.Since})
	}
	sortListOrder(want)
	got := walk(t, func(r pageReq) (community.FollowPage, error) {
		return list(s, community.ListFollowers, batch[0].Member.ID, r)
	}, 7, nil)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("imported followers walked in pages (-want +got):\n%s", diff)
	}
	following, err := list(s, community.ListFollowing, batch[1].Member.ID, pageReq{First: 5})
	checkRead(t, "imported following", community.FollowPage{Edges: []community.FollowEdge{{MemberID: batch[0].Member.ID, Since: at(2)}}, TotalCount: 1}, following, err)
	counts, err := s.FollowCounts(ctx, []string{batch[0].Member.ID, batch[7].Member.ID})
	must(t, err)
	if diff := cmp.Diff(community.FollowCounts{Followers: 49}, counts[batch[0].Member.ID]); diff != "" {
		t.Errorf("imported follows (-want +got):\n%s", diff)
	}
	if got := counts[batch[7].Member.ID].Following; got != 1 {
		t.Errorf("imported follower follows %d, want 1", got)
	}
	m, err := s.MemberByHandle(ctx, "imported_42")
	checkRead(t, "imported member", batch[42].Member, m, err)
	// A batch that contradicts itself stores nothing.
	twice := newMember("twice_one")
	again := twice
	again.Handle = "twice_two"
	for name, b := range map[string][]community.ImportedMember{
		"same id":       {{Member: twice, Identities: []community.Identity{wechat("t1")}}, {Member: again, Identities: []community.Identity{wechat("t2")}}},
		"same provider": {{Member: twice, Identities: []community.Identity{wechat("t3"), wechat("t4")}}},
	} {
		wantCode(t, s.ImportMembers(ctx, b), community.CodeConflict)
		if _, err := s.MemberByHandle(ctx, "twice_one"); community.ErrorCode(err) != community.CodeNotFound {
			t.Errorf("%s: a refused batch stored part of itself: %v", name, err)
		}
	}
	// A batch with a taken handle stores nothing.
	dup := newMember("imported_07")
	fresh := newMember("fresh_one")
	err = s.ImportMembers(ctx, []community.ImportedMember{{Member: fresh, Identities: []community.Identity{wechat("fresh")}}, {Member: dup, Identities: []community.Identity{wechat("dup")}}})
	wantCode(t, err, community.CodeConflict)
	if _, err := s.MemberByHandle(ctx, "fresh_one"); community.ErrorCode(err) != community.CodeNotFound {
		t.Errorf("a refused batch stored part of itself: %v", err)
	}
}

// testService runs the rules of the community services over the store: what reaches the store
// after validation, and what never does.
func testService(t *testing.T, s community.Store) {
	now := at(0)
	svc := community.New(s, community.Config{Now: func() time.Time { now = now.Add(time.Second); return now }}).Members
	newcomer := func(openID string) context.Context {
		return community.WithActor(context.Background(), community.Actor{Identity: &community.Identity{Provider: community.ProviderWeChat, ExternalID: openID}})
	}
	as := func(id string) context.Context {
		return community.WithActor(context.Background(), community.Actor{MemberID: id})
	}
	lihua, err := svc.RegisterMember(newcomer("o-lihua"), community.RegisterMemberInput{Handle: " Li_Hua ", DisplayName: "  李华  "}, nil)
	must(t, err)
	if lihua.Handle != "li_hua" || lihua.DisplayName != "李华" {
		t.Errorf("registered %q %q, want normalized li_hua 李华", lihua.Handle, lihua.DisplayName)
	}
	_, err = svc.RegisterMember(newcomer("o-lihua"), community.RegisterMemberInput{Handle: "li_hua_2", DisplayName: "李华"}, nil)
	wantCode(t, err, community.CodeConflict)
	_, err = svc.RegisterMember(newcomer("o-bad"), community.RegisterMemberInput{Handle: "x", DisplayName: "短"}, nil)
	wantCode(t, err, community.CodeBadUserInput)
	if _, err := s.MemberByHandle(context.Background(), "x"); community.ErrorCode(err) != community.CodeNotFound {
		t.Errorf("an invalid registration reached the store: %v", err)
	}
	wang, err := svc.RegisterMember(newcomer("o-wang"), community.RegisterMemberInput{Handle: "wang_fang", DisplayName: "Wang Fang"}, nil)
	must(t, err)

	_, err = svc.Follow(as(lihua.ID), lihua.ID)
	wantCode(t, err, community.CodeBadUserInput)
	_, err = svc.Follow(as(lihua.ID), "not-an-id")
	wantCode(t, err, community.CodeNotFound)
	_, err = svc.Follow(context.Background(), wang.ID)
	wantCode(t, err, community.CodeUnauthenticated)
	followed, err := svc.Follow(as(lihua.ID), wang.ID)
	must(t, err)
	if followed.ID != wang.ID {
		t.Errorf("Follow returned %s, want the followed member %s", followed.ID, wang.ID)
	}
	// Follow lists are for the community: nobody anonymous reads them.
	_, errs := svc.FollowLists(context.Background(), []community.ListKey{{Kind: community.ListFollowers, MemberID: wang.ID, First: 10}})
	wantCode(t, errs[0], community.CodeUnauthenticated)
	ctx := as(lihua.ID)
	lists, errs := svc.FollowLists(ctx, []community.ListKey{{Kind: community.ListFollowers, MemberID: wang.ID, First: 10}})
	must(t, errs[0])
	edges := lists[0].ListedEdges()
	if len(edges) != 1 || edges[0].MemberID != lihua.ID {
		t.Fatalf("followers of wang = %+v", edges)
	}
	// A cursor works on its own list only; a forged or altered one nowhere.
	cursor := edges[0].Cursor()
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	raw[len(raw)-20] ^= 1
	tooMany, negative := community.MaxPageSize+1, -1
	keys := []community.ListKey{
		{Kind: community.ListFollowers, MemberID: wang.ID, First: 10, After: cursor},
		{Kind: community.ListFollowing, MemberID: wang.ID, First: 10, After: cursor},
		{Kind: community.ListFollowers, MemberID: lihua.ID, First: 10, After: cursor},
		{Kind: community.ListFollowers, MemberID: wang.ID, First: 10, After: "eyJpZCI6MX0"},
		{Kind: community.ListFollowers, MemberID: wang.ID, First: 10, After: base64.RawURLEncoding.EncodeToString(raw)},
		{Kind: community.ListFollowers, MemberID: wang.ID, First: tooMany},
		{Kind: community.ListFollowers, MemberID: wang.ID, First: negative},
	}
	_, errs = svc.FollowLists(ctx, keys)
	must(t, errs[0])
	for i, err := range errs[1:] {
		if community.ErrorCode(err) != community.CodeBadUserInput {
			t.Errorf("list key %+v: error %v, want BAD_USER_INPUT", keys[i+1], err)
		}
	}
	// Another instance with the same key takes the cursor; one with another key does not.
	key := []byte("a cursor key shared by instances")
	a1 := community.New(s, community.Config{CursorKey: key}).Members
	a2 := community.New(s, community.Config{CursorKey: key}).Members
	lists, _ = a1.FollowLists(ctx, []community.ListKey{{Kind: community.ListFollowers, MemberID: wang.ID, First: 1}})
	shared := lists[0].ListedEdges()[0].Cursor()
	_, errs = a2.FollowLists(ctx, []community.ListKey{{Kind: community.ListFollowers, MemberID: wang.ID, First: 1, After: shared}})
	must(t, errs[0])
	_, errs = svc.FollowLists(ctx, []community.ListKey{{Kind: community.ListFollowers, MemberID: wang.ID, First: 1, After: shared}})
	wantCode(t, errs[0], community.CodeBadUserInput)

	// A newcomer reads the identity its token names on the member it just registered.
	_, errs = svc.Identities(newcomer("o-wang"), []string{wang.ID, lihua.ID})
	must(t, errs[0])
	wantCode(t, errs[1], community.CodeForbidden)

	_, errs = svc.Identities(as(wang.ID), []string{lihua.ID, wang.ID})
	wantCode(t, errs[0], community.CodeForbidden)
	must(t, errs[1])
	_, errs = svc.Identities(community.WithActor(context.Background(), community.Actor{MemberID: community.NewID(), Roles: []community.Role{community.RoleAdmin}}), []string{lihua.ID})
	must(t, errs[0])
}

// errOf is the error of a call that also returns a value the caller does not need.
func errOf[T any](_ T, err error) error { return err }
