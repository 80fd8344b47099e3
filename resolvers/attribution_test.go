package resolvers_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const redeemOp = `mutation($code: String!) { redeemInvite(input: {code: $code}) {
	member { id referrer { id } } referredVia { campaign { id } channel at } } }`

const referralOp = `query($id: ID!) { member(id: $id) { id referrer { id } referredVia { campaign { id } channel at } } }`

type referralOut struct {
	Member *struct {
		ID          string
		Referrer    *struct{ ID string }
		ReferredVia *struct {
			Campaign struct{ ID string }
			Channel  string
			At       time.Time
		}
	}
}

func TestRedemption(t *testing.T) {
	testRedemption(t, newAPI(t), "")
}

func TestRedemptionOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testRedemption(t, a, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testRedemption runs the API's attribution cases; run makes slugs, handles and identities
// unique in a store that other tests share.
func testRedemption(t *testing.T, a *api, run string) {
	slug := strings.ReplaceAll(run, "_", "-")
	byd := a.createBrand("byd"+slug, "比亚迪")
	nio := a.createBrand("nio"+slug, "蔚来")
	bydAdmin, bydStaff, nioStaff := staffToken(t, byd, "BRAND_ADMIN"), staffToken(t, byd, "BRAND_STAFF"), staffToken(t, nio, "BRAND_STAFF")
	manager := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	campaign := a.createCampaign(bydAdmin, byd, "春季老带新")
	invite := func(token string) string {
		t.Helper()
		return a.createInvite(token, campaign.ID, "MOMENTS", nil).Code
	}
	lihuaID, lihua := a.register("li_hua"+run, "李华")
	code := invite(lihua)

	// A newcomer redeems the code on joining.
	var joined struct {
		RegisterMember struct {
			Member struct {
				ID       string
				Referrer *struct{ ID string }
			}
		} `json:"registerMember"`
	}
	newcomer := identityToken(t, "WECHAT", "openid-zhang"+run)
	a.ok(newcomer, `mutation($in: RegisterMemberInput!) { registerMember(input: $in) { member { id referrer { id } } } }`,
		map[string]any{"in": map[string]any{"handle": "zhang_wei" + run, "displayName": "张伟", "inviteCode": strings.ToLower(code)}}, &joined)
	zhangID := joined.RegisterMember.Member.ID
	if r := joined.RegisterMember.Member.Referrer; r == nil || r.ID != lihuaID {
		t.Errorf("the newcomer's referrer = %+v, want %s", r, lihuaID)
	}

	t.Run("a code that cannot be redeemed refuses the registration", func(t *testing.T) {
		tok := identityToken(t, "WECHAT", "openid-chen"+run)
		in := map[string]any{"handle": "chen_jing" + run, "displayName": "陈静", "inviteCode": "ABCDEFGHJK"}
		res := a.fails(community.CodeBadUserInput, tok, registerOp, map[string]any{"in": in})
		if f := res.Errors[0].Extensions["field"]; f != "inviteCode" {
			t.Errorf("field = %v, want inviteCode", f)
		}
		// Nothing was written: the same person registers without the code.
		delete(in, "inviteCode")
		a.ok(tok, registerOp, map[string]any{"in": in}, nil)
	})

	t.Run("a retried registration that used the code's last use", func(t *testing.T) {
		_, sun := a.register("sun_li"+run, "孙丽")
		lastUse := a.createInvite(sun, campaign.ID, "WECHAT", map[string]any{"maxUses": 1})
		tok := identityToken(t, "WECHAT", "openid-zhou"+run)
		in := map[string]any{"handle": "zhou_min" + run, "displayName": "周敏", "inviteCode": lastUse.Code,
			"idempotencyKey": "join-zhou" + run}
		var first, again struct {
			RegisterMember struct{ Member memberJSON } `json:"registerMember"`
		}
		a.ok(tok, registerOp, map[string]any{"in": in}, &first)
		a.ok(tok, registerOp, map[string]any{"in": in}, &again)
		if first.RegisterMember.Member.ID != again.RegisterMember.Member.ID {
			t.Errorf("the retry made member %s, the first %s", again.RegisterMember.Member.ID, first.RegisterMember.Member.ID)
		}
	})

	wangID, wang := a.register("wang_fang"+run, "王芳")
	var redeemed struct {
		RedeemInvite struct {
			Member struct {
				ID       string
				Referrer *struct{ ID string }
			}
			ReferredVia struct {
				Campaign struct{ ID string }
				Channel  string
			}
		} `json:"redeemInvite"`
	}
	a.ok(wang, redeemOp, map[string]any{"code": " " + strings.ToLower(code) + " "}, &redeemed)
	if got := redeemed.RedeemInvite; got.Member.ID != wangID || got.Member.Referrer == nil || got.Member.Referrer.ID != lihuaID ||
		got.ReferredVia.Campaign.ID != campaign.ID || got.ReferredVia.Channel != "MOMENTS" {
		t.Errorf("redeemInvite = %+v", got)
	}

	t.Run("refused", func(t *testing.T) {
		wangCode := invite(wang)
		zhaoID, zhao := a.register("zhao_lei"+run, "赵磊")
		sameIdentity := func() string {
			c := jwtauth.Claims{Identity: &jwtauth.IdentityClaim{Provider: "WECHAT", ExternalID: "openid-li_hua" + run}}
			c.Subject = zhaoID
			return mint(t, c)
		}()
		for _, tc := range []struct {
			name  string
			token string
			code  string
			want  community.Code
		}{
			{"unknown code", zhao, "ABCDEFGHJK", community.CodeBadUserInput},
			{"not a code at all", zhao, "hello", community.CodeBadUserInput},
			{"own code", lihua, code, community.CodeForbidden},
			{"a code of one's own identity", sameIdentity, code, community.CodeForbidden},
			{"already referred", wang, code, community.CodeConflict},
			{"a cycle", lihua, wangCode, community.CodeConflict},
			{"nobody", "", code, community.CodeUnauthenticated},
			{"a role is no member", bydAdmin, code, community.CodeForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := a.fails(tc.want, tc.token, redeemOp, map[string]any{"code": tc.code})
				if tc.want == community.CodeBadUserInput && res.Errors[0].Extensions["field"] != "code" {
					t.Errorf("field = %v, want code", res.Errors[0].Extensions["field"])
				}
				var out referralOut
				a.ok(adminToken(t), referralOp, map[string]any{"id": zhaoID}, &out)
				if out.Member.Referrer != nil {
					t.Errorf("a refused redemption referred the member: %+v", out.Member.Referrer)
				}
				a.ok(adminToken(t), referralOp, map[string]any{"id": lihuaID}, &out)
				if out.Member.Referrer != nil {
					t.Errorf("a refused redemption referred the member: %+v", out.Member.Referrer)
				}
			})
		}

		// An ended campaign's code answers as an unknown code does.
		unknown := a.fails(community.CodeBadUserInput, zhao, redeemOp, map[string]any{"code": "ABCDEFGHJK"})
		a.ok(bydAdmin, endCampaignOp, map[string]any{"id": campaign.ID}, nil)
		ended := a.fails(community.CodeBadUserInput, zhao, redeemOp, map[string]any{"code": code})
		if diff := cmp.Diff(unknown.Errors[0].Message, ended.Errors[0].Message); diff != "" {
			t.Errorf("unknown and ended codes answer differently (-unknown +ended):\n%s", diff)
		}
	})

	t.Run("who sees a referral", func(t *testing.T) {
		_, other := a.register("liu_yang"+run, "刘洋")
		consentTo := func(brand string, scopes ...string) {
			t.Helper()
			a.ok(wang, consentOp, map[string]any{"b": brand, "s": scopes}, nil)
		}
		check := func(name, token string, want community.Code, referred bool) {
			t.Helper()
			res := a.do(token, referralOp, map[string]any{"id": wangID})
			var got community.Code
			if len(res.Errors) > 0 {
				got = community.Code(fmt.Sprint(res.Errors[0].Extensions["code"]))
			}
			if got != want {
				t.Errorf("%s: code %q (%v), want %q", name, got, res.Errors, want)
			}
			if want != "" {
				return
			}
			var out referralOut
			a.ok(token, referralOp, map[string]any{"id": wangID}, &out)
			if shown := out.Member != nil && out.Member.Referrer != nil && out.Member.ReferredVia != nil; shown != referred {
				t.Errorf("%s: referral shown = %v, want %v (%+v)", name, shown, referred, out.Member)
			}
		}
		check("the member", wang, "", true)
		check("ADMIN", adminToken(t), "", true)
		check("a community manager", manager, "", true)
		check("another member", other, community.CodeForbidden, false)
		check("the referrer", lihua, community.CodeForbidden, false)
		consentTo(byd, "PROFILE")
		check("the campaign's brand without ACTIVITY consent", bydStaff, community.CodeForbidden, false)
		consentTo(byd, "PROFILE", "ACTIVITY")
		// The referrer is a member like any other: brand staff see it only with its own
		// PROFILE consent.
		a.ok(lihua, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
		check("the campaign's brand with ACTIVITY consent", bydStaff, "", true)
		consentTo(nio, "PROFILE", "ACTIVITY")
		check("another brand with consent", nioStaff, "", false)
		check("nobody", "", community.CodeUnauthenticated, false)
	})

	t.Run("the newcomer sees its referral", func(t *testing.T) {
		var out referralOut
		a.ok(memberToken(t, zhangID), referralOp, map[string]any{"id": zhangID}, &out)
		if out.Member.Referrer == nil || out.Member.Referrer.ID != lihuaID || out.Member.ReferredVia.Campaign.ID != campaign.ID {
			t.Errorf("the newcomer's referral = %+v", out.Member)
		}
	})
}

const chainOp = `query($id: ID!, $d: Int) { member(id: $id) { referralChain(maxDepth: $d) { depth member { id } } } }`

type chainOut struct {
	Member struct {
		ReferralChain []struct {
			Depth  int
			Member *struct{ ID string }
		}
	}
}

func TestReferralChain(t *testing.T) {
	testReferralChain(t, newAPI(t), "")
}

func TestReferralChainOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testReferralChain(t, a, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testReferralChain builds the chain root ← m1 ← m2 ← m3 through redeemInvite and reads
// uplines of it.
func testReferralChain(t *testing.T, a *api, run string) {
	byd := a.createBrand("byd"+strings.ReplaceAll(run, "_", "-"), "比亚迪")
	campaign := a.createCampaign(staffToken(t, byd, "BRAND_ADMIN"), byd, "链").ID
	ids, tokens := make([]string, 4), make([]string, 4)
	for i := range ids {
		ids[i], tokens[i] = a.register(fmt.Sprintf("chain_%d%s", i, run), fmt.Sprintf("链 %d", i))
		if i == 0 {
			continue
		}
		code := a.createInvite(tokens[i-1], campaign, "WECHAT", nil).Code
		a.ok(tokens[i], redeemOp, map[string]any{"code": code}, nil)
	}
	chain := func(token, id string, depth any) []string {
		t.Helper()
		var out chainOut
		a.ok(token, chainOp, map[string]any{"id": id, "d": depth}, &out)
		var got []string
		for i, l := range out.Member.ReferralChain {
			if l.Depth != i+1 {
				t.Errorf("link %d has depth %d", i, l.Depth)
			}
			got = append(got, l.Member.ID)
		}
		return got
	}
	admin := adminToken(t)
	for _, tc := range []struct {
		name  string
		token string
		id    string
		depth any
		want  []string
	}{
		{"the default depth", admin, ids[3], nil, []string{ids[2], ids[1], ids[0]}},
		{"to depth 2", admin, ids[3], 2, []string{ids[2], ids[1]}},
		{"to depth 1", tokens[3], ids[3], 1, []string{ids[2]}},
		{"the member's own", tokens[2], ids[2], 50, []string{ids[1], ids[0]}},
		{"the root has none", admin, ids[0], nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, chain(tc.token, tc.id, tc.depth)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		for _, depth := range []int{0, -1, 51} {
			res := a.fails(community.CodeBadUserInput, admin, chainOp, map[string]any{"id": ids[3], "d": depth})
			if f := res.Errors[0].Extensions["field"]; f != "maxDepth" {
				t.Errorf("maxDepth %d: field = %v, want maxDepth", depth, f)
			}
		}
		a.fails(community.CodeForbidden, tokens[0], chainOp, map[string]any{"id": ids[3]}) // the root is not the member
		// The campaign's brand sees the member with PROFILE consent, its chain only with
		// ACTIVITY consent.
		a.ok(tokens[3], consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
		a.fails(community.CodeForbidden, staffToken(t, byd, "BRAND_STAFF"), chainOp, map[string]any{"id": ids[3]})
	})

	t.Run("round trips do not grow with the members asked", func(t *testing.T) {
		one := `query($a: ID!) { a: member(id: $a) { referralChain { depth member { id handle } } } }`
		three := `query($a: ID!, $b: ID!, $c: ID!) {
			a: member(id: $a) { referralChain { depth member { id handle } } }
			b: member(id: $b) { referralChain { depth member { id handle } } }
			c: member(id: $c) { referralChain { depth member { id handle } } } }`
		trips := func(q string, vars map[string]any) int64 { return a.fewestTrips(admin, q, vars) }
		single := trips(one, map[string]any{"a": ids[3]})
		many := trips(three, map[string]any{"a": ids[3], "b": ids[2], "c": ids[1]})
		if many != single {
			t.Errorf("three chains cost %d round trips, one %d", many, single)
		}
	})
}
