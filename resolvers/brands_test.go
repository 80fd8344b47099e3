package resolvers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

func adminToken(t *testing.T) string { return mint(t, jwtauth.Claims{Roles: []string{"ADMIN"}}) }

func staffToken(t *testing.T, brandID string, roles ...string) string {
	return mint(t, jwtauth.Claims{Roles: roles, Brand: brandID})
}

// createBrand makes a brand as ADMIN and returns its id.
func (a *api) createBrand(slug, name string) string {
	a.t.Helper()
	var out struct {
		CreateBrand struct{ Brand struct{ ID string } } `json:"createBrand"`
	}
	a.ok(adminToken(a.t), `mutation($in: CreateBrandInput!) { createBrand(input: $in) { brand { id } } }`,
		map[string]any{"in": map[string]any{"slug": slug, "name": name}}, &out)
	return out.CreateBrand.Brand.ID
}

const consentOp = `mutation($b: ID!, $s: [ConsentScope!]!) { grantConsent(input: {brandId: $b, scopes: $s}) { consent { scopes } } }`
const revokeOp = `mutation($b: ID!, $s: [ConsentScope!]!) { revokeConsent(input: {brandId: $b, scopes: $s}) { consent { scopes } } }`

func TestBrandsAndPartners(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	nio := a.createBrand("nio", "蔚来")
	a.fails(community.CodeConflict, adminToken(t), `mutation { createBrand(input: {slug: "BYD-auto", name: "x"}) { brand { id } } }`, nil)
	a.fails(community.CodeBadUserInput, adminToken(t), `mutation { createBrand(input: {slug: "-bad-", name: "x"}) { brand { id } } }`, nil)
	_, memberTok := a.register("li_hua", "李华")
	a.fails(community.CodeForbidden, memberTok, `mutation { createBrand(input: {slug: "tesla", name: "特斯拉"}) { brand { id } } }`, nil)
	a.fails(community.CodeUnauthenticated, "", `mutation { createBrand(input: {slug: "tesla", name: "特斯拉"}) { brand { id } } }`, nil)

	var got struct {
		Brand struct {
			Name  string
			Tiers []struct {
				Name      string
				Threshold int
			}
		}
	}
	a.ok("", `{ brand(slug: "BYD-Auto") { name tiers { name threshold } } }`, nil, &got)
	if got.Brand.Name != "比亚迪" || len(got.Brand.Tiers) != 3 || got.Brand.Tiers[1].Name != "银卡" {
		t.Errorf("brand = %+v", got.Brand)
	}

	tiers := `mutation($b: ID!, $t: [TierInput!]!) { setBrandTiers(input: {brandId: $b, tiers: $t}) { brand { tiers { name threshold } } } }`
	good := []map[string]any{{"name": "普通", "threshold": 0}, {"name": "金卡", "threshold": 2000}}
	a.ok(staffToken(t, byd, "BRAND_ADMIN"), tiers, map[string]any{"b": byd, "t": good}, nil)
	a.fails(community.CodeForbidden, staffToken(t, byd, "BRAND_STAFF"), tiers, map[string]any{"b": byd, "t": good})
	a.fails(community.CodeForbidden, staffToken(t, nio, "BRAND_ADMIN"), tiers, map[string]any{"b": byd, "t": good})
	for name, bad := range map[string][]map[string]any{
		"first not 0":    {{"name": "普通", "threshold": 10}},
		"not increasing": {{"name": "普通", "threshold": 0}, {"name": "金卡", "threshold": 0}},
		"same name":      {{"name": "普通", "threshold": 0}, {"name": "普通", "threshold": 5}},
		"none":           {},
	} {
		t.Run("tiers/"+name, func(t *testing.T) {
			a.fails(community.CodeBadUserInput, staffToken(t, byd, "BRAND_ADMIN"), tiers, map[string]any{"b": byd, "t": bad})
		})
	}

	invite := `mutation($b: ID!, $p: ID!) { invitePartner(input: {brandId: $b, partnerBrandId: $p}) { brand { id } } }`
	accept := `mutation($b: ID!, $p: ID!) { acceptPartnership(input: {brandId: $b, partnerBrandId: $p}) { brand { id } } }`
	end := `mutation($b: ID!, $p: ID!) { endPartnership(input: {brandId: $b, partnerBrandId: $p}) { brand { id } } }`
	bydAdmin, nioAdmin := staffToken(t, byd, "BRAND_ADMIN"), staffToken(t, nio, "BRAND_ADMIN")
	a.fails(community.CodeForbidden, nioAdmin, invite, map[string]any{"b": byd, "p": nio})
	a.fails(community.CodeBadUserInput, bydAdmin, invite, map[string]any{"b": byd, "p": byd})
	a.fails(community.CodeNotFound, bydAdmin, invite, map[string]any{"b": byd, "p": community.NewID()})
	a.ok(bydAdmin, invite, map[string]any{"b": byd, "p": nio}, nil)
	a.fails(community.CodeConflict, nioAdmin, invite, map[string]any{"b": nio, "p": byd})
	partners := `query($s: String!) { brand(slug: $s) { partners { status inviter { slug } invitee { slug } acceptedAt } } }`
	type partnersOut struct {
		Brand struct {
			Partners []struct {
				Status     string
				Inviter    struct{ Slug string }
				Invitee    struct{ Slug string }
				AcceptedAt *string
			}
		}
	}
	var ps partnersOut
	a.ok("", partners, map[string]any{"s": "nio"}, &ps)
	if len(ps.Brand.Partners) != 0 {
		t.Errorf("a pending invitation is public: %+v", ps.Brand.Partners)
	}
	a.ok(nioAdmin, partners, map[string]any{"s": "nio"}, &ps)
	if len(ps.Brand.Partners) != 1 || ps.Brand.Partners[0].Status != "PENDING" {
		t.Errorf("the invited brand's staff do not see the invitation: %+v", ps.Brand.Partners)
	}
	a.fails(community.CodeNotFound, bydAdmin, accept, map[string]any{"b": byd, "p": nio}) // the inviter cannot accept
	a.ok(nioAdmin, accept, map[string]any{"b": nio, "p": byd}, nil)
	a.ok("", partners, map[string]any{"s": "byd-auto"}, &ps)
	if len(ps.Brand.Partners) != 1 || ps.Brand.Partners[0].Status != "ACTIVE" || ps.Brand.Partners[0].Inviter.Slug != "byd-auto" || ps.Brand.Partners[0].AcceptedAt == nil {
		t.Errorf("active partnership = %+v", ps.Brand.Partners)
	}
	a.ok(nioAdmin, end, map[string]any{"b": nio, "p": byd}, nil)
	a.fails(community.CodeNotFound, bydAdmin, end, map[string]any{"b": byd, "p": nio})
	a.ok("", partners, map[string]any{"s": "byd-auto"}, &ps)
	if len(ps.Brand.Partners) != 0 {
		t.Errorf("an ended partnership is listed: %+v", ps.Brand.Partners)
	}
	a.ok(nioAdmin, invite, map[string]any{"b": nio, "p": byd}, nil) // after the end, a new invitation
}

func TestMembershipConsentAndPurchases(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	nio := a.createBrand("nio", "蔚来")
	lihua, lihuaTok := a.register("li_hua", "李华")
	wang, wangTok := a.register("wang_fang", "王芳")
	staff := staffToken(t, byd, "BRAND_STAFF")
	follow := `mutation($id: ID!) { follow(input: {memberId: $id}) { member { id } } }`
	a.ok(lihuaTok, follow, map[string]any{"id": wang}, nil)
	a.ok(wangTok, follow, map[string]any{"id": lihua}, nil)

	join := `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { tier points brand { slug } } } }`
	for range 2 {
		var out struct {
			JoinBrand struct {
				Membership struct {
					Tier   string
					Points int
				}
			} `json:"joinBrand"`
		}
		a.ok(lihuaTok, join, map[string]any{"b": byd}, &out)
		if out.JoinBrand.Membership.Tier != "普通" || out.JoinBrand.Membership.Points != 0 {
			t.Errorf("joined: %+v", out.JoinBrand.Membership)
		}
	}
	a.ok(wangTok, join, map[string]any{"b": byd}, nil)
	a.fails(community.CodeNotFound, lihuaTok, join, map[string]any{"b": community.NewID()})

	record := `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id amount currency points refundedAt } } }`
	purchase := map[string]any{"memberId": lihua, "brandId": byd, "amount": "899.90", "currency": "cny", "externalId": "SO-2026-001", "at": "2026-03-01T10:00:00Z"}
	type purchaseOut struct {
		RecordPurchase struct {
			Purchase struct {
				ID, Amount, Currency string
				Points               int
				RefundedAt           *string
			}
		} `json:"recordPurchase"`
	}
	var p1, p2 purchaseOut
	a.ok(staff, record, map[string]any{"in": purchase}, &p1)
	a.ok(staff, record, map[string]any{"in": purchase}, &p2) // a retry: the same purchase
	if p1.RecordPurchase.Purchase != p2.RecordPurchase.Purchase || p1.RecordPurchase.Purchase.Amount != "899.90" || p1.RecordPurchase.Purchase.Currency != "CNY" || p1.RecordPurchase.Purchase.Points != 899 {
		t.Errorf("recorded %+v then %+v", p1.RecordPurchase.Purchase, p2.RecordPurchase.Purchase)
	}
	changed := map[string]any{}
	for k, v := range purchase {
		changed[k] = v
	}
	changed["amount"] = "1.00"
	a.fails(community.CodeConflict, staff, record, map[string]any{"in": changed})
	for name, bad := range map[string]map[string]any{
		"negative amount":  {"amount": "-5"},
		"three decimals":   {"amount": "1.005"},
		"no currency":      {"currency": "元"},
		"future":           {"at": "2099-01-01T00:00:00Z"},
		"empty externalId": {"externalId": " "},
	} {
		t.Run("purchase/"+name, func(t *testing.T) {
			in := map[string]any{}
			for k, v := range purchase {
				in[k] = v
			}
			for k, v := range bad {
				in[k] = v
			}
			in["externalId"] = fmt.Sprint(in["externalId"]) + "-" + name
			if name == "empty externalId" {
				in["externalId"] = " "
			}
			a.fails(community.CodeBadUserInput, staff, record, map[string]any{"in": in})
		})
	}
	a.fails(community.CodeForbidden, staffToken(t, nio, "BRAND_ADMIN"), record, map[string]any{"in": purchase})
	a.fails(community.CodeForbidden, lihuaTok, record, map[string]any{"in": purchase})

	// 899 points: still 普通; a second purchase reaches 银卡.
	second := map[string]any{"memberId": lihua, "brandId": byd, "amount": "200", "currency": "CNY", "externalId": "SO-2026-002", "at": "2026-03-02T10:00:00Z"}
	var p3 purchaseOut
	a.ok(staff, record, map[string]any{"in": second}, &p3)
	memberships := `{ viewer { brandMemberships { tier points brand { slug } } purchases { amount points } } }`
	var mine struct {
		Viewer struct {
			BrandMemberships []struct {
				Tier   string
				Points int
			}
			Purchases []struct {
				Amount string
				Points int
			}
		}
	}
	a.ok(lihuaTok, memberships, nil, &mine)
	if len(mine.Viewer.BrandMemberships) != 1 || mine.Viewer.BrandMemberships[0].Points != 1099 || mine.Viewer.BrandMemberships[0].Tier != "银卡" {
		t.Errorf("memberships after purchases: %+v", mine.Viewer.BrandMemberships)
	}
	if len(mine.Viewer.Purchases) != 2 || mine.Viewer.Purchases[0].Amount != "200.00" {
		t.Errorf("purchases, newest first: %+v", mine.Viewer.Purchases)
	}
	refund := `mutation($b: ID!, $p: ID!) { refundPurchase(input: {brandId: $b, purchaseId: $p}) { purchase { points refundedAt } } }`
	a.fails(community.CodeNotFound, staffToken(t, nio, "BRAND_STAFF"), refund, map[string]any{"b": nio, "p": p3.RecordPurchase.Purchase.ID})
	for range 2 {
		a.ok(staff, refund, map[string]any{"b": byd, "p": p3.RecordPurchase.Purchase.ID}, nil)
	}
	a.ok(lihuaTok, memberships, nil, &mine)
	if mine.Viewer.BrandMemberships[0].Points != 899 || mine.Viewer.BrandMemberships[0].Tier != "普通" || mine.Viewer.Purchases[0].Points != 0 {
		t.Errorf("after the refund: %+v %+v", mine.Viewer.BrandMemberships, mine.Viewer.Purchases)
	}

	// Brand.members: staff only, consenting members only, by tier.
	members := `query($tier: String) { brand(slug: "byd-auto") { memberCount members(first: 10, tier: $tier) { edges { node { tier member { handle } } } } } }`
	type membersOut struct {
		Brand struct {
			MemberCount int
			Members     *struct {
				Edges []struct {
					Node struct {
						Tier   string
						Member struct{ Handle string }
					}
				}
			}
		}
	}
	var ms membersOut
	a.ok(staff, members, nil, &ms)
	if ms.Brand.MemberCount != 2 || len(ms.Brand.Members.Edges) != 0 {
		t.Errorf("without consent staff see %d of %d members", len(ms.Brand.Members.Edges), ms.Brand.MemberCount)
	}
	a.ok(lihuaTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
	a.ok(wangTok, consentOp, map[string]any{"b": nio, "s": []string{"PROFILE"}}, nil) // another brand: no effect here
	a.ok(staff, members, nil, &ms)
	if len(ms.Brand.Members.Edges) != 1 || ms.Brand.Members.Edges[0].Node.Member.Handle != "li_hua" {
		t.Errorf("consenting members = %+v", ms.Brand.Members.Edges)
	}
	// A count staff may not read is not read from the store: li_hua shares her profile
	// with the brand, not her activity.
	counts := a.trips.Of("FollowCounts")
	denied := a.do(staff, `{ brand(slug: "byd-auto") { members(first: 10) { edges { node { member { handle followerCount } } } } } }`, nil)
	if len(denied.Errors) != 1 || denied.Errors[0].Extensions["code"] != string(community.CodeForbidden) {
		t.Errorf("staff read a follower count without the ACTIVITY consent: %s %+v", denied.Data, denied.Errors)
	}
	if n := a.trips.Of("FollowCounts") - counts; n != 0 {
		t.Errorf("follow counts no one may read cost %d reads, want 0", n)
	}
	a.ok(staff, members, map[string]any{"tier": "银卡"}, &ms)
	if len(ms.Brand.Members.Edges) != 0 {
		t.Errorf("银卡 members = %+v", ms.Brand.Members.Edges)
	}
	a.fails(community.CodeBadUserInput, staff, members, map[string]any{"tier": "钻石"})
	res := a.fails(community.CodeForbidden, wangTok, members, nil)
	if strings.Contains(string(res.Data), "li_hua") {
		t.Errorf("a member read the brand's member list: %s", res.Data)
	}

	// The consent ledger keeps every change; the current state follows it.
	a.ok(lihuaTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
	// One request reads each member's consents once, however many fields of the members
	// it shows ask for them: one read for the page's members, one for the members of their
	// follow lists.
	before := a.trips.Of("ConsentsOf")
	a.ok(staff, `query($b: ID!) { brand(slug: "byd-auto") { members(first: 10) { edges { node { tier member { id handle displayName bio avatarUrl joinedAt followerCount followingCount brandMemberships { tier } purchases(brandId: $b) { amount } followers(first: 3) { edges { node { handle } } } following(first: 3) { edges { node { handle } } } } } } } } }`, map[string]any{"b": byd}, nil)
	if n := a.trips.Of("ConsentsOf") - before; n != 2 {
		t.Errorf("a page of a brand's members read consents %d times, want 2", n)
	}
	a.ok(lihuaTok, revokeOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
	a.fails(community.CodeBadUserInput, lihuaTok, consentOp, map[string]any{"b": byd, "s": []string{}})
	history := `query($after: String) { viewer { consents { brand { slug } scopes } consentHistory(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { scope granted brand { slug } } } } } }`
	var h struct {
		Viewer struct {
			Consents []struct {
				Brand  struct{ Slug string }
				Scopes []string
			}
			ConsentHistory struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						Scope   string
						Granted bool
					}
				}
			}
		}
	}
	a.ok(lihuaTok, history, nil, &h)
	if len(h.Viewer.Consents) != 1 || fmt.Sprint(h.Viewer.Consents[0].Scopes) != "[ACTIVITY]" {
		t.Errorf("current consents = %+v", h.Viewer.Consents)
	}
	var ledger []string
	for {
		for _, e := range h.Viewer.ConsentHistory.Edges {
			ledger = append(ledger, fmt.Sprintf("%s:%v", e.Node.Scope, e.Node.Granted))
		}
		if !h.Viewer.ConsentHistory.PageInfo.HasNextPage {
			break
		}
		a.ok(lihuaTok, history, map[string]any{"after": h.Viewer.ConsentHistory.PageInfo.EndCursor}, &h)
	}
	if want := "[PROFILE:false ACTIVITY:true PROFILE:true]"; fmt.Sprint(ledger) != want {
		t.Errorf("ledger = %v, want %s", ledger, want)
	}
	a.fails(community.CodeForbidden, wangTok, `query($id: ID!) { member(id: $id) { consents { scopes } } }`, map[string]any{"id": lihua})
}

// TestConsentMatrix walks every (reader × consent × field) combination and checks that a
// field is served exactly when the rules say, and that a refused field carries nothing.
func TestConsentMatrix(t *testing.T) {
	a := newAPI(t)
	brandA := a.createBrand("brand-a", "品牌甲")
	brandB := a.createBrand("brand-b", "品牌乙")
	// A and B are partners: that must give B nothing of what members share with A.
	a.ok(staffToken(t, brandA, "BRAND_ADMIN"), `mutation($b: ID!, $p: ID!) { invitePartner(input: {brandId: $b, partnerBrandId: $p}) { brand { id } } }`, map[string]any{"b": brandA, "p": brandB}, nil)
	a.ok(staffToken(t, brandB, "BRAND_ADMIN"), `mutation($b: ID!, $p: ID!) { acceptPartnership(input: {brandId: $b, partnerBrandId: $p}) { brand { id } } }`, map[string]any{"b": brandB, "p": brandA}, nil)

	target, targetTok := a.register("target_member", "目标会员")
	fan, fanTok := a.register("fan_member", "粉丝")
	a.follow(fanTok, target)
	// The fan shares its profile with both brands, so that a follow list the target shares
	// may show it (a member who has not consented is left out of lists brand staff read).
	for _, b := range []string{brandA, brandB} {
		a.ok(fanTok, consentOp, map[string]any{"b": b, "s": []string{"PROFILE"}}, nil)
	}
	for _, b := range []string{brandA, brandB} {
		a.ok(targetTok, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { points } } }`, map[string]any{"b": b}, nil)
	}
	a.ok(staffToken(t, brandA, "BRAND_STAFF"), `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`,
		map[string]any{"in": map[string]any{"memberId": target, "brandId": brandA, "amount": "88", "currency": "CNY", "externalId": "A-1", "at": "2026-03-01T10:00:00Z"}}, nil)

	// hidden is the answer for brand staff without the member's PROFILE consent: the member
	// is null, as an unknown member is, with no error that would tell it exists.
	const hidden community.Code = "hidden"
	type reader struct {
		name  string
		token string
		// kind says which rule applies: "self", "admin", "community", "staffA", "staffB", "anonymous".
		kind string
	}
	readers := []reader{
		{"anonymous", "", "anonymous"},
		{"the member", targetTok, "self"},
		{"another member", fanTok, "community"},
		{"admin", adminToken(t), "admin"},
		{"community manager", mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}}), "community"},
		{"staff of A", staffToken(t, brandA, "BRAND_STAFF"), "staffA"},
		{"admin of A", staffToken(t, brandA, "BRAND_ADMIN"), "staffA"},
		{"staff of partner B", staffToken(t, brandB, "BRAND_STAFF"), "staffB"},
	}
	consents := []struct {
		name string
		toA  []string
		toB  []string
	}{
		{"none", nil, nil},
		{"PROFILE to A", []string{"PROFILE"}, nil},
		{"CONTACT to A", []string{"CONTACT"}, nil},
		{"ACTIVITY to A", []string{"ACTIVITY"}, nil},
		{"all to A", []string{"PROFILE", "CONTACT", "ACTIVITY"}, nil},
		{"all to B only", nil, []string{"PROFILE", "CONTACT", "ACTIVITY"}},
	}
	fields := []struct {
		name, selection, secret string
		// scope is the consent scope the field needs of brand staff; "" for fields that are
		// the member's alone; "PURCHASES" for purchases of brand A.
		scope string
	}{
		{"handle", "handle", "target_member", "PROFILE"},
		{"displayName", "displayName", "目标会员", "PROFILE"},
		{"joinedAt", "joinedAt", "", "PROFILE"},
		{"identities", "identities { externalId }", "openid-target_member", "CONTACT"},
		{"followerCount", "followerCount", "", "ACTIVITY"},
		{"followers", "followers { edges { node { id } } }", fan, "ACTIVITY"},
		{"brandMemberships", "brandMemberships { points }", "", "MEMBERSHIP"},
		{"consents", "consents { scopes }", "", ""},
		{"purchases of A", fmt.Sprintf("purchases(brandId: %q) { externalId }", brandA), "A-1", "PURCHASES"},
	}
	allowed := func(kind string, toA, toB []string, scope string) community.Code {
		has := func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		}
		switch kind {
		case "anonymous":
			return community.CodeUnauthenticated
		case "self", "admin":
			return ""
		case "community":
			if scope == "PROFILE" || scope == "ACTIVITY" {
				return ""
			}
			return community.CodeForbidden
		case "staffA", "staffB":
			given := toA
			if kind == "staffB" {
				given = toB
			}
			if !has(given, "PROFILE") {
				return hidden
			}
			switch scope {
			case "PURCHASES":
				if kind == "staffA" {
					return ""
				}
				return community.CodeForbidden
			case "MEMBERSHIP":
				scope = "PROFILE"
			case "":
				return community.CodeForbidden
			}
			if has(given, scope) {
				return ""
			}
			return community.CodeForbidden
		}
		t.Fatalf("unknown reader kind %q", kind)
		return ""
	}
	all := []string{"PROFILE", "CONTACT", "ACTIVITY"}
	for _, c := range consents {
		a.ok(targetTok, revokeOp, map[string]any{"b": brandA, "s": all}, nil)
		a.ok(targetTok, revokeOp, map[string]any{"b": brandB, "s": all}, nil)
		if len(c.toA) > 0 {
			a.ok(targetTok, consentOp, map[string]any{"b": brandA, "s": c.toA}, nil)
		}
		if len(c.toB) > 0 {
			a.ok(targetTok, consentOp, map[string]any{"b": brandB, "s": c.toB}, nil)
		}
		for _, r := range readers {
			for _, f := range fields {
				name := fmt.Sprintf("%s/%s/%s", c.name, r.name, f.name)
				want := allowed(r.kind, c.toA, c.toB, f.scope)
				res := a.do(r.token, fmt.Sprintf(`query($id: ID!) { member(id: $id) { id %s } }`, f.selection), map[string]any{"id": target})
				var data struct{ Member map[string]json.RawMessage }
				json.Unmarshal(res.Data, &data)
				field := strings.Fields(strings.Split(f.selection, "(")[0])[0]
				value := string(data.Member[field])
				switch {
				case want == hidden && (len(res.Errors) > 0 || string(res.Data) != `{"member":null}`):
					t.Errorf("%s: got %s with errors %+v, want the member null as for an unknown id", name, res.Data, res.Errors)
				case want == hidden:
				case want == "" && len(res.Errors) > 0:
					t.Errorf("%s: refused with %v, want served", name, res.Errors[0].Extensions["code"])
				case want == "" && (value == "" || value == "null"):
					t.Errorf("%s: served null", name)
				case want == "" && f.secret != "" && !strings.Contains(value, f.secret):
					t.Errorf("%s: served %s, want it to contain %q", name, value, f.secret)
				case want != "" && (len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != string(want)):
					t.Errorf("%s: got errors %+v, want %s", name, res.Errors, want)
				case want != "" && value != "" && value != "null":
					t.Errorf("%s: refused but the field carries %s", name, value)
				case want != "" && f.secret != "" && strings.Contains(string(res.Data), f.secret):
					t.Errorf("%s: refused but the response carries %q: %s", name, f.secret, res.Data)
				}
			}
		}
	}
}

// jwtClaims returns registered claims naming a member.
func jwtClaims(memberID string) jwt.RegisteredClaims { return jwt.RegisteredClaims{Subject: memberID} }
