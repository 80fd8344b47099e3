package resolvers_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const pathOp = `query($from: ID!, $to: ID!) { referralPath(fromId: $from, toId: $to) {
	direction length links { depth member { id } } } }`

type pathOut struct {
	ReferralPath *struct {
		Direction string
		Length    int
		Links     []struct {
			Depth  int
			Member *struct{ ID string }
		}
	} `json:"referralPath"`
}

// shown is a path as the test compares it: the direction, then each link's member id
// ("-" for a member not shown), checking that the depths count up from 0 and the length.
func (p pathOut) shown(t *testing.T) []string {
	t.Helper()
	if p.ReferralPath == nil {
		return nil
	}
	out := []string{p.ReferralPath.Direction}
	for i, l := range p.ReferralPath.Links {
		if l.Depth != i {
			t.Errorf("link %d has depth %d", i, l.Depth)
		}
		id := "-"
		if l.Member != nil {
			id = l.Member.ID
		}
		out = append(out, id)
	}
	if p.ReferralPath.Length != len(p.ReferralPath.Links)-1 {
		t.Errorf("length %d for %d links", p.ReferralPath.Length, len(p.ReferralPath.Links))
	}
	return out
}

func TestReferralPath(t *testing.T) {
	testReferralPath(t, newAPI(t), "")
}

func TestReferralPathOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testReferralPath(t, a, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testReferralPath builds the chain root ← m1 ← m2 ← m3 through redeemInvite, beside a
// member of no chain, and reads paths along it.
func testReferralPath(t *testing.T, a *api, run string) {
	slug := strings.ReplaceAll(run, "_", "-")
	byd, nio := a.createBrand("byd-path"+slug, "比亚迪"), a.createBrand("nio-path"+slug, "蔚来")
	campaign := a.createCampaign(staffToken(t, byd, "BRAND_ADMIN"), byd, "链").ID
	ids, tokens := make([]string, 4), make([]string, 4)
	for i := range ids {
		ids[i], tokens[i] = a.register(fmt.Sprintf("path_%d%s", i, run), fmt.Sprintf("链 %d", i))
		if i > 0 {
			a.ok(tokens[i], redeemOp, map[string]any{"code": a.createInvite(tokens[i-1], campaign, "WECHAT", nil).Code}, nil)
		}
	}
	loneID, lone := a.register("path_lone"+run, "独行")
	admin, manager := adminToken(t), mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	bydStaff, nioStaff := staffToken(t, byd, "BRAND_STAFF"), staffToken(t, nio, "BRAND_STAFF")
	path := func(token, from, to string) []string {
		t.Helper()
		var out pathOut
		a.ok(token, pathOp, map[string]any{"from": from, "to": to}, &out)
		return out.shown(t)
	}
	up := []string{"UP", ids[3], ids[2], ids[1], ids[0]}
	down := []string{"DOWN", ids[0], ids[1], ids[2], ids[3]}
	for _, tc := range []struct {
		name, token, from, to string
		want                  []string
	}{
		{"up to the root", admin, ids[3], ids[0], up},
		{"down from the root", admin, ids[0], ids[3], down},
		{"a community manager", manager, ids[3], ids[0], up},
		{"the lower member: its upline", tokens[3], ids[3], ids[1], []string{"UP", ids[3], ids[2], ids[1]}},
		{"the upper member: its downline", tokens[1], ids[1], ids[3], []string{"DOWN", ids[1], ids[2], ids[3]}},
		{"one step", tokens[0], ids[1], ids[0], []string{"UP", ids[1], ids[0]}},
		{"a member of no chain", lone, loneID, ids[0], nil},
		{"no path between two others", admin, loneID, ids[3], nil},
		{"an unknown member", admin, ids[3], community.NewID(), nil},
		{"an id of no form", admin, "nobody", ids[0], nil},
		{"to brand staff, a referral they may not read is no path", bydStaff, ids[3], ids[0], nil},
		{"to another brand, a referral through another brand's campaign is no path", nioStaff, ids[3], ids[0], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, path(tc.token, tc.from, tc.to)); diff != "" {
				t.Errorf("path (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, token, from, to string
			code                  community.Code
		}{
			{"a member in the middle, not an end", tokens[1], ids[0], ids[3], community.CodeForbidden},
			{"a member of no chain", lone, ids[3], ids[0], community.CodeForbidden},
			{"a member asking about unknown members", lone, community.NewID(), community.NewID(), community.CodeForbidden},
			{"nobody", "", ids[3], ids[0], community.CodeUnauthenticated},
			{"the same member", admin, ids[2], ids[2], community.CodeBadUserInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := a.fails(tc.code, tc.token, pathOp, map[string]any{"from": tc.from, "to": tc.to})
				if tc.code == community.CodeBadUserInput && res.Errors[0].Extensions["field"] != "toId" {
					t.Errorf("field = %v, want toId", res.Errors[0].Extensions["field"])
				}
			})
		}
	})

	t.Run("brand staff with the lower member's consent", func(t *testing.T) {
		a.ok(tokens[3], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		a.ok(tokens[1], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
		// The path is read; its members are shown through their own PROFILE consents.
		want := []string{"UP", ids[3], "-", ids[1], "-"}
		if diff := cmp.Diff(want, path(bydStaff, ids[3], ids[0])); diff != "" {
			t.Errorf("path (-want +got):\n%s", diff)
		}
		// The upper member's consent decides nothing: the path down to m2 needs m2's.
		if got := path(bydStaff, ids[0], ids[2]); got != nil {
			t.Errorf("path down to a member without consent = %v", got)
		}
		a.ok(tokens[3], consentOp, map[string]any{"b": nio, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		if got := path(nioStaff, ids[3], ids[0]); got != nil {
			t.Errorf("another brand reads a path through a campaign not its own: %v", got)
		}
	})

	t.Run("round trips do not grow with the path", func(t *testing.T) {
		trips := func(from, to string) int64 {
			before := a.trips.Total()
			var out pathOut
			a.ok(admin, `query($from: ID!, $to: ID!) { referralPath(fromId: $from, toId: $to) {
				length links { depth member { id handle displayName } } } }`, map[string]any{"from": from, "to": to}, &out)
			if out.ReferralPath == nil {
				t.Fatalf("no path from %s to %s", from, to)
			}
			return a.trips.Total() - before
		}
		short, long := trips(ids[1], ids[0]), trips(ids[3], ids[0])
		if short != long || long != 2 {
			t.Errorf("a path of 2 members cost %d round trips, of 4 members %d; want 2 (the walk, the members)", short, long)
		}
	})
}

const topOp = `query($b: ID!, $c: ID, $from: Time, $to: Time, $by: ReferrerRanking, $first: Int) {
	topReferrers(brandId: $b, campaignId: $c, from: $from, to: $to, by: $by, first: $first) { rank count member { id } } }`

type topOut struct {
	TopReferrers []struct {
		Rank, Count int
		Member      *struct{ ID string }
	} `json:"topReferrers"`
}

// row is a ranking's row as the test compares it: rank, count and member id ("-" for a
// member not shown).
type row struct {
	Rank, Count int
	Member      string
}

func TestTopReferrers(t *testing.T) {
	testTopReferrers(t, newAPI(t), "")
}

func TestTopReferrersOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testTopReferrers(t, a, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testTopReferrers builds, through the API, referrals of byd's campaigns A and B and of
// nio's campaign N:
//
//	r1 ─┬─ m1 (A) ── m11 (A)
//	    ├─ m2 (A)
//	    └─ m5 (B)
//	r2 ─┬─ m3 (A)
//	    └─ m4 (N)
//
// m2 and m11 bought from byd, m3 too but was refunded. r1 consents to share its PROFILE
// and ACTIVITY with byd, m1 its ACTIVITY only, r2 nothing.
func testTopReferrers(t *testing.T, a *api, run string) {
	slug := strings.ReplaceAll(run, "_", "-")
	byd, nio := a.createBrand("byd-top"+slug, "比亚迪"), a.createBrand("nio-top"+slug, "蔚来")
	bydAdmin, nioAdmin := staffToken(t, byd, "BRAND_ADMIN"), staffToken(t, nio, "BRAND_ADMIN")
	campA, campB := a.createCampaign(bydAdmin, byd, "春季").ID, a.createCampaign(bydAdmin, byd, "夏日").ID
	campN := a.createCampaign(nioAdmin, nio, "蔚来").ID
	id, tok := map[string]string{}, map[string]string{}
	for _, n := range []string{"r1", "r2", "m1", "m2", "m3", "m4", "m5", "m11"} {
		id[n], tok[n] = a.register("top_"+n+run, "会员 "+n)
	}
	start := time.Now().UTC().Add(-time.Second)
	for _, r := range []struct{ referee, referrer, campaign string }{
		{"m1", "r1", campA}, {"m2", "r1", campA}, {"m5", "r1", campB}, {"m11", "m1", campA}, {"m3", "r2", campA}, {"m4", "r2", campN},
	} {
		a.ok(tok[r.referee], redeemOp, map[string]any{"code": a.createInvite(tok[r.referrer], r.campaign, "WECHAT", nil).Code}, nil)
	}
	end := time.Now().UTC().Add(time.Second)
	admin := adminToken(t)
	record := `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`
	// The purchases were made before the referrals, so they earn no rewards: the ranking
	// counts a referee's purchases whenever they were made, and the graph of a shared
	// Neo4j keeps no rewards of this test for other tests' reward jobs to grant.
	for i, m := range []string{"m2", "m11", "m3"} {
		var out struct {
			RecordPurchase struct{ Purchase struct{ ID string } } `json:"recordPurchase"`
		}
		a.ok(admin, record, map[string]any{"in": map[string]any{"memberId": id[m], "brandId": byd, "amount": "99.00", "currency": "CNY",
			"externalId": fmt.Sprintf("top-%d%s", i, run), "at": start.Add(-time.Hour).Format(time.RFC3339)}}, &out)
		if m == "m3" {
			a.ok(admin, `mutation($b: ID!, $p: ID!) { refundPurchase(input: {brandId: $b, purchaseId: $p}) { purchase { id } } }`,
				map[string]any{"b": byd, "p": out.RecordPurchase.Purchase.ID}, nil)
		}
	}
	a.ok(tok["r1"], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
	a.ok(tok["m1"], consentOp, map[string]any{"b": byd, "s": []string{"ACTIVITY"}}, nil)

	manager := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	bydStaff := staffToken(t, byd, "BRAND_STAFF")
	top := func(token string, vars map[string]any) []row {
		t.Helper()
		var out topOut
		a.ok(token, topOp, vars, &out)
		rows := []row{}
		for _, r := range out.TopReferrers {
			m := "-"
			if r.Member != nil {
				m = r.Member.ID
			}
			rows = append(rows, row{r.Rank, r.Count, m})
		}
		return rows
	}
	// ranked is the ranking of named counts: highest first, then by member id, ranked.
	ranked := func(counts map[string]int, hidden ...string) []row {
		var rows []row
		for n, c := range counts {
			rows = append(rows, row{Count: c, Member: id[n]})
		}
		slices.SortFunc(rows, func(x, y row) int {
			if x.Count != y.Count {
				return y.Count - x.Count
			}
			return strings.Compare(x.Member, y.Member)
		})
		for i := range rows {
			rows[i].Rank = i + 1
			if i > 0 && rows[i].Count == rows[i-1].Count {
				rows[i].Rank = rows[i-1].Rank
			}
			for _, h := range hidden {
				if rows[i].Member == id[h] {
					rows[i].Member = "-"
				}
			}
		}
		return append([]row{}, rows...)
	}
	vars := func(kv ...any) map[string]any {
		v := map[string]any{"b": byd}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1]
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		token string
		vars  map[string]any
		want  []row
	}{
		{"direct, the default", admin, vars(), ranked(map[string]int{"r1": 3, "r2": 1, "m1": 1})},
		{"the whole downline", manager, vars("by", "TOTAL"), ranked(map[string]int{"r1": 4, "r2": 1, "m1": 1})},
		{"converted", admin, vars("by", "CONVERTED"), ranked(map[string]int{"r1": 1, "m1": 1})},
		{"one campaign", admin, vars("c", campB), ranked(map[string]int{"r1": 1})},
		{"first 1", admin, vars("first", 1), ranked(map[string]int{"r1": 3})},
		{"the window of the referrals", admin, vars("from", start, "to", end), ranked(map[string]int{"r1": 3, "r2": 1, "m1": 1})},
		{"a window after them", admin, vars("from", end), ranked(nil)},
		{"a window before them", admin, vars("to", start), ranked(nil)},
		{"an empty window", admin, vars("from", start, "to", start), ranked(nil)},
		{"the brand's admins", bydAdmin, vars(), ranked(map[string]int{"r1": 3, "m1": 1}, "m1")},
		{"the brand's staff see consenting members only", bydStaff, vars("by", "TOTAL"), ranked(map[string]int{"r1": 4, "m1": 1}, "m1")},
		{"another brand's ranking", manager, vars("b", nio), ranked(map[string]int{"r2": 1})},
		{"another brand's ranking, to its staff, without consent", nioAdmin, vars("b", nio), ranked(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, top(tc.token, tc.vars)); diff != "" {
				t.Errorf("topReferrers (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		member := tok["r1"]
		nioStaff := staffToken(t, nio, "BRAND_STAFF")
		for _, tc := range []struct {
			name  string
			token string
			vars  map[string]any
			code  community.Code
			field string
		}{
			{"nobody", "", vars(), community.CodeUnauthenticated, ""},
			{"a member", member, vars(), community.CodeForbidden, ""},
			{"another brand's staff", nioStaff, vars(), community.CodeForbidden, ""},
			{"first 0", admin, vars("first", 0), community.CodeBadUserInput, "first"},
			{"first 101", admin, vars("first", 101), community.CodeBadUserInput, "first"},
			{"first -1", bydStaff, vars("first", -1), community.CodeBadUserInput, "first"},
			{"from after to", admin, vars("from", end, "to", start), community.CodeBadUserInput, "to"},
			{"an unknown brand", admin, vars("b", community.NewID()), community.CodeNotFound, ""},
			{"an id of no form", manager, vars("b", "byd"), community.CodeNotFound, ""},
			{"an unknown campaign", bydStaff, vars("c", community.NewID()), community.CodeNotFound, ""},
			{"another brand's campaign", bydStaff, vars("c", campN), community.CodeNotFound, ""},
			{"a campaign id of no form", admin, vars("c", "spring"), community.CodeNotFound, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := a.fails(tc.code, tc.token, topOp, tc.vars)
				if got, _ := res.Errors[0].Extensions["field"].(string); got != tc.field {
					t.Errorf("field = %q, want %q", got, tc.field)
				}
			})
		}
		res := a.do(admin, topOp, vars("by", "SHARES"))
		if len(res.Errors) == 0 {
			t.Errorf("an unknown ranking answered %s", res.Data)
		}
	})

	t.Run("round trips do not grow with the ranking", func(t *testing.T) {
		profiles := `query($b: ID!, $first: Int) { topReferrers(brandId: $b, first: $first) {
			rank count member { id handle displayName avatarUrl } } }`
		trips := func(token string, first int) int64 {
			before := a.trips.Total()
			var out topOut
			a.ok(token, profiles, map[string]any{"b": byd, "first": first}, &out)
			if len(out.TopReferrers) == 0 || out.TopReferrers[0].Member == nil {
				t.Fatalf("first %d: %+v", first, out.TopReferrers)
			}
			return a.trips.Total() - before
		}
		for _, tc := range []struct {
			name  string
			token string
			want  int64
		}{
			{"ADMIN: the ranking, the members", admin, 2},
			{"brand staff: the ranking, the members' consents, the members", bydStaff, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				one, all := trips(tc.token, 1), trips(tc.token, 20)
				if one != all || all != tc.want {
					t.Errorf("first 1 cost %d round trips, first 20 %d; want %d", one, all, tc.want)
				}
			})
		}
	})
}

// TestRankingBudget checks what rankings and paths cost in the query budget: a ranking
// costs the reading of its window beside its page, TOTAL most; a path's links cost as a
// chain at its deepest limit.
func TestRankingBudget(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-budget", "比亚迪")
	_, member := a.register("budget_path", "预算")
	admin := adminToken(t)
	for _, tc := range []struct {
		name, token, query string
		code               string // "" for an answer without errors
	}{
		{"a ranking of 100 members with their profiles", admin,
			`{ topReferrers(brandId: "` + byd + `", first: 100) { rank count member { id handle displayName avatarUrl bio } } }`, ""},
		{"the whole downline of 100 members", admin,
			`{ topReferrers(brandId: "` + byd + `", by: TOTAL, first: 100) { rank count member { id handle } } }`, ""},
		{"two rankings of the whole downline", admin,
			`{ a: topReferrers(brandId: "` + byd + `", by: TOTAL) { count } b: topReferrers(brandId: "` + byd + `", by: TOTAL) { count } }`,
			"COMPLEXITY_LIMIT_EXCEEDED"},
		{"a converted ranking beside a direct one", admin,
			`{ a: topReferrers(brandId: "` + byd + `", by: CONVERTED) { count } b: topReferrers(brandId: "` + byd + `") { count } }`, ""},
		{"a converted ranking beside one of the whole downline", admin,
			`{ a: topReferrers(brandId: "` + byd + `", by: CONVERTED) { count } b: topReferrers(brandId: "` + byd + `", by: TOTAL) { count } }`,
			"COMPLEXITY_LIMIT_EXCEEDED"},
		{"four direct rankings", admin, `{ a: topReferrers(brandId: "` + byd + `") { count } b: topReferrers(brandId: "` + byd + `") { count }
			c: topReferrers(brandId: "` + byd + `") { count } d: topReferrers(brandId: "` + byd + `") { count } }`, ""},
		{"six direct rankings", admin, `{ a: topReferrers(brandId: "` + byd + `") { count } b: topReferrers(brandId: "` + byd + `") { count }
			c: topReferrers(brandId: "` + byd + `") { count } d: topReferrers(brandId: "` + byd + `") { count }
			e: topReferrers(brandId: "` + byd + `") { count } f: topReferrers(brandId: "` + byd + `") { count } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"each ranked member's followers", admin,
			`{ topReferrers(brandId: "` + byd + `", first: 100) { member { followers(first: 50) { edges { node { id } } } } } }`,
			"COMPLEXITY_LIMIT_EXCEEDED"},
		{"a path with its members", member,
			`{ referralPath(fromId: "` + community.NewID() + `", toId: "` + community.NewID() + `") { links { depth member { id handle displayName } } } }`, ""},
		{"a path with each member's followers", member,
			`{ referralPath(fromId: "` + community.NewID() + `", toId: "` + community.NewID() + `") { links { member { followers(first: 50) { edges { node { id handle } } } } } } }`,
			"COMPLEXITY_LIMIT_EXCEEDED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := a.do(tc.token, tc.query, nil)
			var got string
			if len(res.Errors) > 0 {
				got, _ = res.Errors[0].Extensions["code"].(string)
			}
			if got != tc.code && !(tc.code == "" && got == string(community.CodeForbidden)) {
				t.Errorf("code %q (%.200v), want %q", got, res.Errors, tc.code)
			}
		})
	}
}
