package resolvers_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const downlineOp = `query($id: ID!, $level: Int, $first: Int, $after: String) { member(id: $id) {
	referrals(level: $level, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
		edges { cursor referredAt node { id handle } } }
	referralStats { direct total deepest perLevel converted } } }`

type statsOut struct {
	Direct, Total, Deepest, Converted int
	PerLevel                          []int
}

type downlineOut struct {
	Member struct {
		Referrals *struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct {
				Cursor string
				Node   *struct{ ID, Handle string }
			}
		}
		ReferralStats *statsOut
	}
}

func TestDownline(t *testing.T) {
	testDownline(t, newAPI(t), "")
}

func TestDownlineOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testDownline(t, a, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testDownline builds, through redeemInvite, root ← a, b, c; a ← a1, a2; a1 ← a11, and
// reads levels and figures as each role; run makes slugs and handles unique in a store that
// other tests share.
func testDownline(t *testing.T, a *api, run string) {
	slug := strings.ReplaceAll(run, "_", "-")
	byd := a.createBrand("byd"+slug, "比亚迪")
	nio := a.createBrand("nio"+slug, "蔚来")
	campaign := a.createCampaign(staffToken(t, byd, "BRAND_ADMIN"), byd, "树").ID
	names := []string{"root", "a", "b", "c", "a1", "a2", "a11"}
	parent := map[string]string{"a": "root", "b": "root", "c": "root", "a1": "a", "a2": "a", "a11": "a1"}
	ids, tokens := map[string]string{}, map[string]string{}
	for _, n := range names {
		ids[n], tokens[n] = a.register("dl_"+n+run, "树 "+n)
		if p, ok := parent[n]; ok {
			code := a.createInvite(tokens[p], campaign, "WECHAT", nil).Code
			a.ok(tokens[n], redeemOp, map[string]any{"code": code}, nil)
		}
	}
	read := func(token, who string, level, first any, after any) downlineOut {
		t.Helper()
		var out downlineOut
		a.ok(token, downlineOp, map[string]any{"id": ids[who], "level": level, "first": first, "after": after}, &out)
		return out
	}
	handles := func(out downlineOut) []string {
		var hs []string
		for _, e := range out.Member.Referrals.Edges {
			hs = append(hs, strings.TrimSuffix(strings.TrimPrefix(e.Node.Handle, "dl_"), run))
		}
		return hs
	}
	admin := adminToken(t)

	t.Run("levels and figures", func(t *testing.T) {
		// Newest referral first: c, b, a were redeemed in that order backwards.
		got := read(tokens["root"], "root", nil, nil, nil)
		if diff := cmp.Diff([]string{"c", "b", "a"}, handles(got)); diff != "" {
			t.Errorf("level 1 (-want +got):\n%s", diff)
		}
		if got.Member.Referrals.TotalCount != 3 || got.Member.Referrals.PageInfo.HasNextPage {
			t.Errorf("level 1: %+v", got.Member.Referrals)
		}
		want := statsOut{Direct: 3, Total: 6, Deepest: 3, PerLevel: []int{3, 2, 1, 0, 0, 0, 0, 0, 0, 0}}
		if diff := cmp.Diff(&want, got.Member.ReferralStats); diff != "" {
			t.Errorf("figures (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a2", "a1"}, handles(read(admin, "root", 2, nil, nil))); diff != "" {
			t.Errorf("level 2 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a11"}, handles(read(admin, "root", 3, nil, nil))); diff != "" {
			t.Errorf("level 3 (-want +got):\n%s", diff)
		}
		// Pages of one: the cursors walk the level.
		var walked []string
		var after any
		for range 5 {
			page := read(admin, "root", 1, 1, after)
			walked = append(walked, handles(page)...)
			if !page.Member.Referrals.PageInfo.HasNextPage {
				break
			}
			after = *page.Member.Referrals.PageInfo.EndCursor
		}
		if diff := cmp.Diff([]string{"c", "b", "a"}, walked); diff != "" {
			t.Errorf("level 1 a page at a time (-want +got):\n%s", diff)
		}
	})

	t.Run("who sees it", func(t *testing.T) {
		bydStaff, nioStaff := staffToken(t, byd, "BRAND_STAFF"), staffToken(t, nio, "BRAND_STAFF")
		manager := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
		for _, tok := range []string{tokens["root"], admin, manager} {
			if got := read(tok, "root", nil, nil, nil); got.Member.ReferralStats == nil || got.Member.Referrals == nil {
				t.Errorf("not read by one who may: %+v", got)
			}
		}
		// Another member, even one of the downline, and staff of brands the member shows its
		// profile, not its activity.
		a.ok(tokens["root"], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
		a.ok(tokens["root"], consentOp, map[string]any{"b": nio, "s": []string{"PROFILE"}}, nil)
		for name, tok := range map[string]string{"a member of the downline": tokens["a"], "another member": tokens["c"], "staff without consent": bydStaff, "other staff": nioStaff} {
			res := a.fails(community.CodeForbidden, tok, downlineOp, map[string]any{"id": ids["root"]})
			if len(res.Errors) != 2 {
				t.Errorf("%s: errors %+v, want one per field", name, res.Errors)
			}
		}
		// Not even staff whose brand the member shares its activity with: the downline and
		// its figures are the whole platform's, referrals through other brands' campaigns
		// and purchases from other brands included.
		a.ok(tokens["root"], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		a.ok(tokens["a"], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		for _, tok := range []string{bydStaff, staffToken(t, byd, "BRAND_ADMIN"), nioStaff} {
			res := a.fails(community.CodeForbidden, tok, downlineOp, map[string]any{"id": ids["root"]})
			if len(res.Errors) != 2 {
				t.Errorf("staff with consent: errors %+v, want one per field", res.Errors)
			}
		}
		// Staff of a brand the member does not show its profile see no member at all.
		other := a.createBrand("gac"+slug, "广汽")
		if got := read(staffToken(t, other, "BRAND_STAFF"), "root", nil, nil, nil); got.Member.Referrals != nil || got.Member.ReferralStats != nil {
			t.Errorf("staff of a brand without consent read %+v", got.Member)
		}
		a.fails(community.CodeUnauthenticated, "", downlineOp, map[string]any{"id": ids["root"]})
	})

	t.Run("refused", func(t *testing.T) {
		for _, level := range []int{0, -1, 11} {
			res := a.fails(community.CodeBadUserInput, admin, downlineOp, map[string]any{"id": ids["root"], "level": level})
			if f := res.Errors[0].Extensions["field"]; f != "level" {
				t.Errorf("level %d: field = %v, want level", level, f)
			}
		}
		page := read(admin, "root", 1, 1, nil)
		// A cursor of level 1 does not page level 2, nor another member's level 1.
		cursor := page.Member.Referrals.Edges[0].Cursor
		a.fails(community.CodeBadUserInput, admin, downlineOp, map[string]any{"id": ids["root"], "level": 2, "after": cursor})
		a.fails(community.CodeBadUserInput, admin, downlineOp, map[string]any{"id": ids["a"], "after": cursor})
		a.fails(community.CodeBadUserInput, admin, downlineOp, map[string]any{"id": ids["root"], "first": 101})
	})

	t.Run("round trips do not grow with the members listed", func(t *testing.T) {
		// A list of members, each with its referrals and figures, and theirs: root lists
		// three members and two below them, a lists two and one below them.
		q := `query($id: ID!) { member(id: $id) { referrals { edges { node { id referralStats { total perLevel }
			referrals(first: 5) { totalCount edges { node { id handle referralStats { total } } } } } } } } }`
		trips := func(who string) int64 { return a.fewestTrips(admin, q, map[string]any{"id": ids[who]}) }
		if root, one := trips("root"), trips("a"); root != one {
			t.Errorf("a list of three members costs %d round trips, of two %d", root, one)
		}
		// A count and the times read the page alone, not its members: the member asked for,
		// then the page.
		before := a.trips.Total()
		a.ok(admin, `query($id: ID!) { member(id: $id) { referrals { totalCount edges { referredAt } } } }`, map[string]any{"id": ids["root"]}, nil)
		if got := a.trips.Total() - before; got != 2 {
			t.Errorf("a count and the times of a page cost %d round trips, want 2", got)
		}
	})
}
