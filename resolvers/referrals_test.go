package resolvers_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const createCampaignOp = `mutation($in: CreateReferralCampaignInput!) { createReferralCampaign(input: $in) { campaign {
	id name startsAt endsAt redeemWindowDays status endedAt brand { slug }
	rules { level kind value firstPurchaseOnly minAmount holdDays capPerReferrer } } } }`

const endCampaignOp = `mutation($id: ID!) { endReferralCampaign(input: {campaignId: $id}) { campaign { id status endedAt } } }`

const campaignsOp = `query($s: String!, $first: Int, $after: String) { brand(slug: $s) { referralCampaigns(first: $first, after: $after) {
	totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name status endedAt brand { slug } } } } } }`

type ruleOut struct {
	Level             int
	Kind              string
	Value             string
	FirstPurchaseOnly bool
	MinAmount         string
	HoldDays          int
	CapPerReferrer    *int
}

type campaignOut struct {
	ID               string
	Name             string
	StartsAt         time.Time
	EndsAt           time.Time
	RedeemWindowDays int
	Status           string
	EndedAt          *time.Time
	Brand            struct{ Slug string }
	Rules            []ruleOut
}

type campaignsOut struct {
	Brand struct {
		ReferralCampaigns *struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct {
				Cursor string
				Node   campaignOut
			}
		}
	}
}

// createCampaign creates a campaign with campaignInput, as token, and returns it.
func (a *api) createCampaign(token, brandID, name string) campaignOut {
	a.t.Helper()
	var out struct {
		CreateReferralCampaign struct{ Campaign campaignOut } `json:"createReferralCampaign"`
	}
	a.ok(token, createCampaignOp, map[string]any{"in": campaignInput(brandID, name)}, &out)
	return out.CreateReferralCampaign.Campaign
}

// createInvite asks, as token, for an invitation code of a campaign; in holds the
// optional fields of the input (maxUses), or is nil.
func (a *api) createInvite(token, campaignID, channel string, in map[string]any) inviteOut {
	a.t.Helper()
	var out struct {
		CreateInvite struct{ Invite inviteOut } `json:"createInvite"`
	}
	fields := map[string]any{"campaignId": campaignID, "channel": channel}
	maps.Copy(fields, in)
	a.ok(token, createInviteOp, map[string]any{"in": fields}, &out)
	return out.CreateInvite.Invite
}

// campaignInput is a valid campaign of brandID that started an hour ago and runs for
// thirty days, with a rule of each level.
func campaignInput(brandID, name string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"brandId": brandID, "name": name,
		"startsAt": now.Add(-time.Hour).Format(time.RFC3339), "endsAt": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"rules": []any{
			map[string]any{"level": 1, "kind": "POINTS", "value": "500", "firstPurchaseOnly": true, "minAmount": "99", "holdDays": 14, "capPerReferrer": 20},
			map[string]any{"level": 2, "kind": "PERCENT", "value": "2.5"},
		},
	}
}

func TestReferralCampaigns(t *testing.T) {
	testReferralCampaigns(t, newAPI(t), "")
}

func TestReferralCampaignsOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testReferralCampaigns(t, a, fmt.Sprintf("-%06d", rand.IntN(1000000)))
}

// testReferralCampaigns runs the API's campaign cases; run makes the brands' slugs unique
// in a store that other tests share.
func testReferralCampaigns(t *testing.T, a *api, run string) {
	byd := a.createBrand("byd"+run, "比亚迪")
	nio := a.createBrand("nio"+run, "蔚来")
	bydAdmin, bydStaff := staffToken(t, byd, "BRAND_ADMIN"), staffToken(t, byd, "BRAND_STAFF")
	nioAdmin := staffToken(t, nio, "BRAND_ADMIN")
	manager := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	_, memberTok := a.register("li_hua"+strings.ReplaceAll(run, "-", "_"), "李华")

	list := func(token string) campaignsOut {
		t.Helper()
		var out campaignsOut
		a.ok(token, campaignsOp, map[string]any{"s": "byd" + run, "first": 50}, &out)
		return out
	}
	count := func() int {
		t.Helper()
		return list(adminToken(t)).Brand.ReferralCampaigns.TotalCount
	}

	var created struct {
		CreateReferralCampaign struct{ Campaign campaignOut } `json:"createReferralCampaign"`
	}
	a.ok(bydAdmin, createCampaignOp, map[string]any{"in": campaignInput(byd, "  春季老带新  ")}, &created)
	spring := created.CreateReferralCampaign.Campaign
	cap20 := 20
	want := campaignOut{
		ID: spring.ID, Name: "春季老带新", StartsAt: spring.StartsAt, EndsAt: spring.EndsAt, RedeemWindowDays: 7, Status: "ACTIVE",
		Brand: struct{ Slug string }{"byd" + run},
		Rules: []ruleOut{
			{Level: 1, Kind: "POINTS", Value: "500", FirstPurchaseOnly: true, MinAmount: "99.00", HoldDays: 14, CapPerReferrer: &cap20},
			{Level: 2, Kind: "PERCENT", Value: "2.50", MinAmount: "0.00"},
		},
	}
	if diff := cmp.Diff(want, spring); diff != "" {
		t.Errorf("created campaign (-want +got):\n%s", diff)
	}

	t.Run("who may create", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token string
			code  community.Code
		}{
			{"ADMIN", adminToken(t), ""},
			{"the brand's admin", bydAdmin, ""},
			{"the brand's staff", bydStaff, community.CodeForbidden},
			{"another brand's admin", nioAdmin, community.CodeForbidden},
			{"a community manager", manager, community.CodeForbidden},
			{"a member", memberTok, community.CodeForbidden},
			{"nobody", "", community.CodeUnauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := count()
				in := map[string]any{"in": campaignInput(byd, "活动 "+tc.name)}
				if tc.code == "" {
					a.ok(tc.token, createCampaignOp, in, nil)
					if n := count(); n != before+1 {
						t.Errorf("%d campaigns after a create, want %d", n, before+1)
					}
					return
				}
				a.fails(tc.code, tc.token, createCampaignOp, in)
				if n := count(); n != before {
					t.Errorf("a refused create changed the campaigns from %d to %d", before, n)
				}
			})
		}
	})

	t.Run("who may list", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token string
			code  community.Code
		}{
			{"ADMIN", adminToken(t), ""},
			{"a community manager", manager, ""},
			{"the brand's admin", bydAdmin, ""},
			{"the brand's staff", bydStaff, ""},
			{"another brand's admin", nioAdmin, community.CodeForbidden},
			{"a member", memberTok, community.CodeForbidden},
			{"nobody", "", community.CodeUnauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.code == "" {
					if got := list(tc.token).Brand.ReferralCampaigns; got == nil || len(got.Edges) == 0 {
						t.Errorf("campaigns = %+v", got)
					}
					return
				}
				res := a.fails(tc.code, tc.token, campaignsOp, map[string]any{"s": "byd" + run, "first": 50})
				if strings.Contains(string(res.Data), "春季") {
					t.Errorf("a refused reader saw a campaign: %s", res.Data)
				}
			})
		}
	})

	t.Run("bad input changes nothing", func(t *testing.T) {
		now := time.Now().UTC()
		rule := func(level int, kind, value string) map[string]any {
			return map[string]any{"level": level, "kind": kind, "value": value}
		}
		tooMany := make([]any, community.MaxReferralRules+1)
		for i := range tooMany {
			tooMany[i] = rule(1, "POINTS", "10")
		}
		cases := []struct {
			name  string
			edit  func(in map[string]any)
			field string
		}{
			{"a level-3 rule", func(in map[string]any) { in["rules"] = []any{rule(1, "POINTS", "10"), rule(3, "POINTS", "5")} }, "rules[1].level"},
			{"a level-0 rule", func(in map[string]any) { in["rules"] = []any{rule(0, "POINTS", "10")} }, "rules[0].level"},
			{"ends before it starts", func(in map[string]any) {
				in["startsAt"], in["endsAt"] = now.Add(48*time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)
			}, "endsAt"},
			{"ends as it starts", func(in map[string]any) { in["endsAt"] = in["startsAt"] }, "endsAt"},
			{"ended already", func(in map[string]any) {
				in["startsAt"], in["endsAt"] = now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-24*time.Hour).Format(time.RFC3339)
			}, "endsAt"},
			{"a negative value", func(in map[string]any) { in["rules"] = []any{rule(1, "AMOUNT", "-5.00")} }, "rules[0].value"},
			{"a zero value", func(in map[string]any) { in["rules"] = []any{rule(1, "POINTS", "0")} }, "rules[0].value"},
			{"fractional points", func(in map[string]any) { in["rules"] = []any{rule(1, "POINTS", "10.5")} }, "rules[0].value"},
			{"a percentage above 100", func(in map[string]any) { in["rules"] = []any{rule(1, "PERCENT", "100.01")} }, "rules[0].value"},
			{"a negative least amount", func(in map[string]any) {
				in["rules"] = []any{map[string]any{"level": 1, "kind": "POINTS", "value": "10", "minAmount": "-1"}}
			}, "rules[0].minAmount"},
			{"a negative hold", func(in map[string]any) {
				in["rules"] = []any{map[string]any{"level": 1, "kind": "POINTS", "value": "10", "holdDays": -1}}
			}, "rules[0].holdDays"},
			{"a negative cap", func(in map[string]any) {
				in["rules"] = []any{map[string]any{"level": 2, "kind": "POINTS", "value": "10", "capPerReferrer": -3}}
			}, "rules[0].capPerReferrer"},
			{"a negative redeem window", func(in map[string]any) { in["redeemWindowDays"] = -1 }, "redeemWindowDays"},
			{"a zero redeem window", func(in map[string]any) { in["redeemWindowDays"] = 0 }, "redeemWindowDays"},
			{"no rules", func(in map[string]any) { in["rules"] = []any{} }, "rules"},
			{"too many rules", func(in map[string]any) { in["rules"] = tooMany }, "rules"},
			{"an empty name", func(in map[string]any) { in["name"] = "   " }, "name"},
			{"an over-long name", func(in map[string]any) { in["name"] = strings.Repeat("裂", community.MaxName+1) }, "name"},
			{"a name of two lines", func(in map[string]any) { in["name"] = "春季\n老带新" }, "name"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := list(adminToken(t))
				in := campaignInput(byd, "坏活动")
				tc.edit(in)
				res := a.fails(community.CodeBadUserInput, bydAdmin, createCampaignOp, map[string]any{"in": in})
				if got := res.Errors[0].Extensions["field"]; got != tc.field {
					t.Errorf("field = %v, want %s (%s)", got, tc.field, res.Errors[0].Message)
				}
				if diff := cmp.Diff(before, list(adminToken(t))); diff != "" {
					t.Errorf("a refused create changed the campaigns (-before +after):\n%s", diff)
				}
			})
		}
		t.Run("the level limit says why", func(t *testing.T) {
			in := campaignInput(byd, "三级分销")
			in["rules"] = []any{rule(3, "PERCENT", "1")}
			msg := a.fails(community.CodeBadUserInput, bydAdmin, createCampaignOp, map[string]any{"in": in}).Errors[0].Message
			for _, part := range []string{"level 2", "WeChat", "pyramid"} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q does not say %q", msg, part)
				}
			}
		})
		t.Run("unknown brand", func(t *testing.T) {
			a.fails(community.CodeNotFound, adminToken(t), createCampaignOp, map[string]any{"in": campaignInput(community.NewID(), "无主")})
		})
	})

	t.Run("idempotency key", func(t *testing.T) {
		before := count()
		in := campaignInput(byd, "重试活动")
		in["idempotencyKey"] = "campaign:retry" + run
		var first, again struct {
			CreateReferralCampaign struct{ Campaign campaignOut } `json:"createReferralCampaign"`
		}
		a.ok(bydAdmin, createCampaignOp, map[string]any{"in": in}, &first)
		a.ok(bydAdmin, createCampaignOp, map[string]any{"in": in}, &again)
		if first.CreateReferralCampaign.Campaign.ID != again.CreateReferralCampaign.Campaign.ID {
			t.Errorf("a retry made campaign %s after %s", again.CreateReferralCampaign.Campaign.ID, first.CreateReferralCampaign.Campaign.ID)
		}
		if n := count(); n != before+1 {
			t.Errorf("%d campaigns after a create and its retry, want %d", n, before+1)
		}
		in["name"] = "另一个活动"
		res := a.fails(community.CodeConflict, bydAdmin, createCampaignOp, map[string]any{"in": in})
		if got := res.Errors[0].Extensions["field"]; got != "idempotencyKey" {
			t.Errorf("field = %v, want idempotencyKey", got)
		}
	})

	t.Run("end", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token string
			code  community.Code
		}{
			{"the brand's staff", bydStaff, community.CodeForbidden},
			{"another brand's admin", nioAdmin, community.CodeForbidden},
			{"a community manager", manager, community.CodeForbidden},
			{"a member", memberTok, community.CodeForbidden},
			{"nobody", "", community.CodeUnauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a.fails(tc.code, tc.token, endCampaignOp, map[string]any{"id": spring.ID})
			})
		}
		a.fails(community.CodeNotFound, adminToken(t), endCampaignOp, map[string]any{"id": community.NewID()})
		if l := list(adminToken(t)); l.Brand.ReferralCampaigns.Edges[len(l.Brand.ReferralCampaigns.Edges)-1].Node.EndedAt != nil {
			t.Fatal("a refused end ended the campaign")
		}

		var ended struct {
			EndReferralCampaign struct{ Campaign campaignOut } `json:"endReferralCampaign"`
		}
		a.ok(bydAdmin, endCampaignOp, map[string]any{"id": spring.ID}, &ended)
		got := ended.EndReferralCampaign.Campaign
		if got.Status != "ENDED" || got.EndedAt == nil {
			t.Fatalf("ended campaign = %+v", got)
		}
		a.ok(adminToken(t), endCampaignOp, map[string]any{"id": spring.ID}, &ended)
		if again := ended.EndReferralCampaign.Campaign.EndedAt; again == nil || !again.Equal(*got.EndedAt) {
			t.Errorf("ending again moved the end from %v to %v", got.EndedAt, again)
		}
		// The ended campaign stays listed, last (it is the oldest), with its end.
		edges := list(bydStaff).Brand.ReferralCampaigns.Edges
		last := edges[len(edges)-1].Node
		if last.ID != spring.ID || last.Status != "ENDED" || last.EndedAt == nil || !last.EndedAt.Equal(*got.EndedAt) {
			t.Errorf("the ended campaign is listed as %+v", last)
		}
	})

	t.Run("pages", func(t *testing.T) {
		all := list(bydStaff).Brand.ReferralCampaigns
		var ids []string
		var after any
		for range all.TotalCount + 1 {
			var out campaignsOut
			a.ok(bydStaff, campaignsOp, map[string]any{"s": "byd" + run, "first": 2, "after": after}, &out)
			page := out.Brand.ReferralCampaigns
			for _, e := range page.Edges {
				ids = append(ids, e.Node.ID)
			}
			if !page.PageInfo.HasNextPage {
				break
			}
			after = *page.PageInfo.EndCursor
		}
		var want []string
		for _, e := range all.Edges {
			want = append(want, e.Node.ID)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("campaigns page by page (-all at once +by pages):\n%s", diff)
		}
		// A cursor of one brand's list is refused on another's.
		var nioList campaignsOut
		a.fails(community.CodeBadUserInput, nioAdmin, campaignsOp, map[string]any{"s": "nio" + run, "first": 2, "after": all.Edges[0].Cursor})
		a.ok(nioAdmin, campaignsOp, map[string]any{"s": "nio" + run, "first": 2}, &nioList)
		if got := nioList.Brand.ReferralCampaigns; got.TotalCount != 0 || len(got.Edges) != 0 {
			t.Errorf("another brand lists %+v", got)
		}
	})

	t.Run("round trips do not grow with the page", func(t *testing.T) {
		if a.trips == nil {
			t.Fatal("the store does not count its round trips")
		}
		trips := func(first int) int64 {
			before := a.trips.Total()
			var out campaignsOut
			a.ok(bydStaff, campaignsOp, map[string]any{"s": "byd" + run, "first": first}, &out)
			if len(out.Brand.ReferralCampaigns.Edges) != min(first, out.Brand.ReferralCampaigns.TotalCount) {
				t.Fatalf("asked for %d campaigns, got %d", first, len(out.Brand.ReferralCampaigns.Edges))
			}
			return a.trips.Total() - before
		}
		one, all := trips(1), trips(community.MaxPageSize)
		t.Logf("a page of 1 campaign: %d round trips; a page of up to %d: %d", one, community.MaxPageSize, all)
		if one != all || one > 3 {
			t.Errorf("a page of 1 campaign costs %d round trips and a page of all %d; want the same, at most 3", one, all)
		}
	})
}

const createInviteOp = `mutation($in: CreateInviteInput!) { createInvite(input: $in) { invite {
	code url campaignId channel uses maxUses expiresAt posterPayload { url displayName avatarUrl campaignName } } } }`

const previewOp = `query($code: String!) { invite(code: $code) { code campaignName brand { slug } referrerName redeemable } }`

type inviteOut struct {
	Code          string
	URL           string
	CampaignID    string
	Channel       string
	Uses          int
	MaxUses       *int
	ExpiresAt     time.Time
	PosterPayload struct {
		URL          string
		DisplayName  string
		AvatarURL    *string
		CampaignName string
	}
}

type previewOut struct {
	Invite *struct {
		Code         string
		CampaignName string
		Brand        struct{ Slug string }
		ReferrerName string
		Redeemable   bool
	}
}

func TestInvites(t *testing.T) {
	testInvites(t, newAPI(t), "")
}

func TestInvitesOnNeo4j(t *testing.T) {
	a, _ := newNeo4jAPI(t)
	testInvites(t, a, fmt.Sprintf("-%06d", rand.IntN(1000000)))
}

func testInvites(t *testing.T, a *api, run string) {
	byd := a.createBrand("byd-invites"+run, "比亚迪")
	bydAdmin := staffToken(t, byd, "BRAND_ADMIN")
	suffix := strings.ReplaceAll(run, "-", "_")
	_, lihua := a.register("li_hua"+suffix, "李华")
	_, wang := a.register("wang_fang"+suffix, "王芳")
	campaign := a.createCampaign(bydAdmin, byd, "春季老带新")

	createInvite := func(token, channel string, out *inviteOut) {
		t.Helper()
		*out = a.createInvite(token, campaign.ID, channel, nil)
	}
	var mine inviteOut
	createInvite(lihua, "WECHAT", &mine)
	if len(mine.Code) != community.InviteCodeLength || strings.Trim(mine.Code, community.InviteAlphabet) != "" {
		t.Errorf("code %q is not %d characters of %s", mine.Code, community.InviteCodeLength, community.InviteAlphabet)
	}
	want := mine
	want.URL, want.CampaignID, want.Channel, want.Uses, want.MaxUses, want.ExpiresAt = "/invite/"+mine.Code, campaign.ID, "WECHAT", 0, nil, campaign.EndsAt
	want.PosterPayload.URL, want.PosterPayload.DisplayName, want.PosterPayload.AvatarURL, want.PosterPayload.CampaignName = "/invite/"+mine.Code, "李华", nil, "春季老带新"
	if diff := cmp.Diff(want, mine); diff != "" {
		t.Errorf("invite (-want +got):\n%s", diff)
	}

	t.Run("one live code per member and campaign", func(t *testing.T) {
		var again, other inviteOut
		createInvite(lihua, "MOMENTS", &again)
		if again.Code != mine.Code || again.Channel != "WECHAT" {
			t.Errorf("asked again: %+v, want the first code %s", again, mine.Code)
		}
		createInvite(wang, "WECHAT", &other)
		if other.Code == mine.Code || other.PosterPayload.DisplayName != "王芳" {
			t.Errorf("another member's invite = %+v", other)
		}
	})

	t.Run("refused", func(t *testing.T) {
		in := func(campaignID string, maxUses any) map[string]any {
			return map[string]any{"in": map[string]any{"campaignId": campaignID, "channel": "WECHAT", "maxUses": maxUses}}
		}
		a.fails(community.CodeUnauthenticated, "", createInviteOp, in(campaign.ID, nil))
		a.fails(community.CodeForbidden, bydAdmin, createInviteOp, in(campaign.ID, nil)) // a role alone is no member
		a.fails(community.CodeNotFound, lihua, createInviteOp, in(community.NewID(), nil))
		for _, n := range []int{0, -1, community.MaxInviteUses + 1} {
			res := a.fails(community.CodeBadUserInput, wang, createInviteOp, in(campaign.ID, n))
			if got := res.Errors[0].Extensions["field"]; got != "maxUses" {
				t.Errorf("maxUses %d: field = %v", n, got)
			}
		}
		a.fails(community.CodeBadUserInput, wang, createInviteOp, map[string]any{"in": map[string]any{"campaignId": campaign.ID, "channel": "TELEGRAM"}})
	})

	t.Run("preview", func(t *testing.T) {
		for _, token := range []string{"", wang, bydAdmin} {
			var p previewOut
			a.ok(token, previewOp, map[string]any{"code": " " + strings.ToLower(mine.Code) + " "}, &p)
			if p.Invite == nil || p.Invite.Code != mine.Code || p.Invite.CampaignName != "春季老带新" || p.Invite.Brand.Slug != "byd-invites"+run ||
				p.Invite.ReferrerName != "李华" || !p.Invite.Redeemable {
				t.Errorf("preview = %+v", p.Invite)
			}
		}
		for _, code := range []string{"", "AAAAAAAAAA", "0O1IL0O1IL", strings.Repeat("A", 200)} {
			var p previewOut
			a.ok("", previewOp, map[string]any{"code": code}, &p)
			if p.Invite != nil {
				t.Errorf("preview of %q = %+v, want null", code, p.Invite)
			}
		}
		// The preview tells nothing else of the referrer: its type has no other fields.
		res := a.do("", `query($code: String!) { invite(code: $code) { referrer { handle } } }`, map[string]any{"code": mine.Code})
		if len(res.Errors) == 0 {
			t.Errorf("the preview has a referrer field: %s", res.Data)
		}
	})

	t.Run("after the campaign ends", func(t *testing.T) {
		a.ok(bydAdmin, endCampaignOp, map[string]any{"id": campaign.ID}, nil)
		var p previewOut
		a.ok("", previewOp, map[string]any{"code": mine.Code}, &p)
		if p.Invite == nil || p.Invite.Redeemable {
			t.Errorf("preview of a code of an ended campaign = %+v", p.Invite)
		}
		res := a.fails(community.CodeBadUserInput, lihua, createInviteOp, map[string]any{"in": map[string]any{"campaignId": campaign.ID, "channel": "WECHAT"}})
		if got := res.Errors[0].Extensions["field"]; got != "campaignId" {
			t.Errorf("field = %v, want campaignId", got)
		}
	})
}
