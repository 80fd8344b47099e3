package resolvers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
)

const rewardsOp = `query($id: ID!, $status: RewardStatus, $brand: ID, $first: Int, $after: String) {
	member(id: $id) { rewards(status: $status, brandId: $brand, first: $first, after: $after) {
		edges { cursor node { id status level kind points amount currency flags purchaseId
			campaign { id } brand { id } beneficiary { id } referee { id }
			reviews { decision note reviewer { id } } clawedBack shortfall grantedAt endedAt } }
		pageInfo { hasNextPage endCursor } } } }`

const historyOp = `query($id: ID!, $brand: ID!, $first: Int, $after: String) {
	member(id: $id) { pointsHistory(brandId: $brand, first: $first, after: $after) {
		edges { node { reason delta balance shortfall purchaseId rewardId brand { id } } }
		pageInfo { hasNextPage endCursor } } } }`

const queueOp = `query($brand: ID!, $first: Int, $after: String) {
	referralReviewQueue(brandId: $brand, first: $first, after: $after) {
		edges { node { id status flags beneficiary { id } referee { id } } } pageInfo { hasNextPage } } }`

const reviewOp = `mutation($in: ReviewRewardInput!) { reviewReward(input: $in) {
	reward { id status endedAt reviews { decision note reviewer { id } } } } }`

type rewardJSON struct {
	ID          string
	Status      string
	Level       int
	Kind        string
	Points      int
	Amount      *string
	Currency    *string
	Flags       []string
	PurchaseID  string
	Campaign    struct{ ID string }
	Brand       struct{ ID string }
	Beneficiary *struct{ ID string }
	Referee     *struct{ ID string }
	Reviews     []struct {
		Decision string
		Note     string
		Reviewer *struct{ ID string }
	}
	ClawedBack, Shortfall int
	GrantedAt, EndedAt    *time.Time
}

type rewardsJSON struct {
	Member struct {
		Rewards struct {
			Edges []struct {
				Cursor string
				Node   rewardJSON
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
}

type historyJSON struct {
	Member struct {
		PointsHistory struct {
			Edges []struct {
				Node struct {
					Reason               string
					Delta, Balance       int
					Shortfall            int
					PurchaseID, RewardID *string
					Brand                struct{ ID string }
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
}

// rewardsAPI is an API over a store, with the store's reward job.
type rewardsAPI struct {
	*api
	store  community.Store
	grants *community.RewardGrants
}

func newRewardsAPI(a *api, s community.Store) rewardsAPI {
	grants := community.NewRewardGrants(s, &community.LocalLeases{}, community.RewardGrantsConfig{Logger: quietLog()})
	return rewardsAPI{api: a, store: s, grants: grants}
}

// grant runs the reward job once and returns how many rewards it granted.
func (a rewardsAPI) grant() int {
	a.t.Helper()
	n, err := a.grants.RunOnce(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a rewardsAPI) rewards(token, memberID string, vars map[string]any) []rewardJSON {
	a.t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["id"] = memberID
	var out rewardsJSON
	a.ok(token, rewardsOp, vars, &out)
	nodes := make([]rewardJSON, len(out.Member.Rewards.Edges))
	for i, e := range out.Member.Rewards.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// history returns a member's points history in a brand as "REASON delta balance".
func (a rewardsAPI) history(token, memberID, brandID string) []string {
	a.t.Helper()
	var out historyJSON
	a.ok(token, historyOp, map[string]any{"id": memberID, "brand": brandID}, &out)
	var got []string
	for _, e := range out.Member.PointsHistory.Edges {
		n := e.Node
		got = append(got, fmt.Sprintf("%s %d %d", n.Reason, n.Delta, n.Balance))
	}
	return got
}

// rewardsCampaignInput is a campaign of brandID whose rewards are granted at once: 500
// points to the referrer and 10.00 to the referrer's referrer; newcomers redeem codes up
// to sixty days after joining.
func rewardsCampaignInput(brandID string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"brandId": brandID, "name": "老带新", "redeemWindowDays": 60,
		"startsAt": now.Add(-time.Hour).Format(time.RFC3339), "endsAt": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"rules": []any{
			map[string]any{"level": 1, "kind": "POINTS", "value": "500"},
			map[string]any{"level": 2, "kind": "AMOUNT", "value": "10"},
		},
	}
}

func TestRewards(t *testing.T) {
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testRewards(t, newRewardsAPI(newAPIOver(t, s), s), "")
}

func TestRewardsOnNeo4j(t *testing.T) {
	a, s := newNeo4jAPI(t)
	testRewards(t, newRewardsAPI(a, s), fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testRewards runs the API's reward cases; run makes slugs, handles and identities unique
// in a store that other tests share.
func testRewards(t *testing.T, a rewardsAPI, run string) {
	ctx := context.Background()
	slug := strings.ReplaceAll(run, "_", "-")
	nio := a.createBrand("nio"+slug, "蔚来")
	byd := a.createBrand("byd"+slug, "比亚迪")
	admin, manager := adminToken(t), mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	nioStaff, bydStaff := staffToken(t, nio, "BRAND_STAFF"), staffToken(t, byd, "BRAND_STAFF")
	var created struct {
		CreateReferralCampaign struct{ Campaign campaignOut } `json:"createReferralCampaign"`
	}
	a.ok(staffToken(t, nio, "BRAND_ADMIN"), createCampaignOp, map[string]any{"in": rewardsCampaignInput(nio)}, &created)
	campaign := created.CreateReferralCampaign.Campaign

	rootID, root := a.register("root_li"+run, "李根")
	midID, mid := a.register("mid_wang"+run, "王中")
	buyerID, buyer := a.register("buyer_zhao"+run, "赵买")
	_, stranger := a.register("stranger_sun"+run, "孙路")
	// A member who joined a month ago and has done nothing since.
	old := community.Member{ID: community.NewID(), Handle: "old_chen" + run, DisplayName: "陈旧", JoinedAt: time.Now().UTC().Add(-30 * 24 * time.Hour)}
	must(t, a.store.CreateMember(ctx, old, community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-old" + run, LinkedAt: old.JoinedAt}))
	oldTok := memberToken(t, old.ID)
	a.ok(mid, redeemOp, map[string]any{"code": a.createInvite(root, campaign.ID, "WECHAT", nil).Code}, nil)
	midCode := a.createInvite(mid, campaign.ID, "WECHAT", nil).Code
	a.ok(buyer, redeemOp, map[string]any{"code": midCode}, nil)
	a.ok(oldTok, redeemOp, map[string]any{"code": midCode}, nil)
	for _, tok := range []string{mid, buyer} {
		a.ok(tok, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { points } } }`, map[string]any{"b": nio}, nil)
		a.ok(tok, consentOp, map[string]any{"b": nio, "s": []string{"PROFILE"}}, nil)
	}

	times := map[string]string{}
	record := func(memberID, ext string) string {
		t.Helper()
		if times[ext] == "" {
			times[ext] = time.Now().UTC().Format(time.RFC3339Nano)
		}
		var out struct {
			RecordPurchase struct{ Purchase struct{ ID string } } `json:"recordPurchase"`
		}
		in := map[string]any{"memberId": memberID, "brandId": nio, "amount": "399.00", "currency": "CNY", "externalId": ext,
			"at": times[ext]}
		a.ok(nioStaff, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`, map[string]any{"in": in}, &out)
		return out.RecordPurchase.Purchase.ID
	}
	purchase := record(buyerID, "order-1")
	record(buyerID, "order-1") // recorded again: nothing new

	t.Run("the ledger", func(t *testing.T) {
		got := a.rewards(mid, midID, nil)
		if len(got) != 1 {
			t.Fatalf("the referrer's rewards: %+v", got)
		}
		r := got[0]
		if r.Status != "PENDING" || r.Level != 1 || r.Kind != "POINTS" || r.Points != 500 || r.Amount != nil || r.PurchaseID != purchase ||
			r.Campaign.ID != campaign.ID || r.Brand.ID != nio || r.Beneficiary == nil || r.Beneficiary.ID != midID ||
			r.Referee == nil || r.Referee.ID != buyerID || len(r.Flags) != 0 {
			t.Errorf("the referrer's reward: %+v", r)
		}
		got = a.rewards(root, rootID, nil)
		if len(got) != 1 || got[0].Level != 2 || got[0].Kind != "AMOUNT" || got[0].Amount == nil || *got[0].Amount != "10.00" ||
			got[0].Currency == nil || *got[0].Currency != "CNY" || got[0].Points != 0 {
			t.Errorf("the referrer's referrer's rewards: %+v", got)
		}
	})

	t.Run("who reads rewards", func(t *testing.T) {
		if got := a.rewards(admin, midID, nil); len(got) != 1 {
			t.Errorf("ADMIN reads %d rewards", len(got))
		}
		// Rewards and points changes are referral data and activity: the brand's staff read
		// them only with the member's ACTIVITY consent, as they read its referral.
		a.fails(community.CodeForbidden, nioStaff, rewardsOp, map[string]any{"id": midID})
		a.fails(community.CodeForbidden, nioStaff, rewardsOp, map[string]any{"id": midID, "brand": nio})
		a.fails(community.CodeForbidden, nioStaff, historyOp, map[string]any{"id": buyerID, "brand": nio})
		for _, tok := range []string{mid, buyer} {
			a.ok(tok, consentOp, map[string]any{"b": nio, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		}
		if got := a.rewards(nioStaff, midID, nil); len(got) != 1 {
			t.Errorf("the brand's staff read %d rewards", len(got))
		}
		if got := a.rewards(nioStaff, midID, map[string]any{"brand": nio}); len(got) != 1 {
			t.Errorf("the brand's staff read %d rewards of their brand", len(got))
		}
		vars := map[string]any{"id": midID}
		a.fails(community.CodeForbidden, stranger, rewardsOp, vars)
		a.fails(community.CodeForbidden, manager, rewardsOp, vars)
		a.fails(community.CodeForbidden, nioStaff, rewardsOp, map[string]any{"id": midID, "brand": byd})
		a.fails(community.CodeUnauthenticated, "", rewardsOp, vars)
		a.fails(community.CodeForbidden, buyer, historyOp, map[string]any{"id": midID, "brand": nio})
		a.fails(community.CodeForbidden, nioStaff, historyOp, map[string]any{"id": buyerID, "brand": byd})
	})

	t.Run("bad paging", func(t *testing.T) {
		for _, tc := range []struct {
			op, field string
			vars      map[string]any
		}{
			{rewardsOp, "first", map[string]any{"id": midID, "first": -1}},
			{rewardsOp, "first", map[string]any{"id": midID, "first": 101}},
			{rewardsOp, "after", map[string]any{"id": midID, "after": "bm90LWEtY3Vyc29y"}},
			{historyOp, "first", map[string]any{"id": midID, "brand": nio, "first": 101}},
			{historyOp, "after", map[string]any{"id": midID, "brand": nio, "after": "x"}},
			{queueOp, "first", map[string]any{"brand": nio, "first": -5}},
		} {
			res := a.fails(community.CodeBadUserInput, admin, tc.op, tc.vars)
			if f := res.Errors[0].Extensions["field"]; f != tc.field {
				t.Errorf("%v: field %v, want %s", tc.vars, f, tc.field)
			}
		}
		// A cursor of one filter's list does not page another's.
		var out rewardsJSON
		a.ok(mid, rewardsOp, map[string]any{"id": midID, "first": 1}, &out)
		cursor := out.Member.Rewards.Edges[0].Cursor
		res := a.fails(community.CodeBadUserInput, mid, rewardsOp, map[string]any{"id": midID, "status": "GRANTED", "after": cursor})
		if f := res.Errors[0].Extensions["field"]; f != "after" {
			t.Errorf("field %v, want after", f)
		}
	})

	t.Run("grant, history, refund and clawback", func(t *testing.T) {
		if n := a.grant(); n != 2 {
			t.Errorf("the job granted %d rewards, want 2", n)
		}
		if n := a.grant(); n != 0 {
			t.Errorf("the job run again granted %d rewards", n)
		}
		if got := a.rewards(mid, midID, map[string]any{"status": "GRANTED"}); len(got) != 1 || got[0].GrantedAt == nil {
			t.Errorf("granted rewards: %+v", got)
		}
		if got := a.rewards(mid, midID, map[string]any{"status": "PENDING"}); len(got) != 0 {
			t.Errorf("pending rewards after the grant: %+v", got)
		}
		checkLines(t, "the referrer's history", []string{"REWARD 500 500"}, a.history(mid, midID, nio))
		checkLines(t, "the buyer's history", []string{"PURCHASE 399 399"}, a.history(nioStaff, buyerID, nio))
		a.ok(nioStaff, `mutation($b: ID!, $p: ID!) { refundPurchase(input: {brandId: $b, purchaseId: $p}) { purchase { id } } }`,
			map[string]any{"b": nio, "p": purchase}, nil)
		checkLines(t, "the buyer's history after the refund", []string{"REFUND -399 0", "PURCHASE 399 399"}, a.history(buyer, buyerID, nio))
		checkLines(t, "the referrer's history after the refund", []string{"CLAWBACK -500 0", "REWARD 500 500"}, a.history(admin, midID, nio))
		got := a.rewards(mid, midID, nil)
		if len(got) != 1 || got[0].Status != "CLAWED_BACK" || got[0].ClawedBack != 500 || got[0].Shortfall != 0 || got[0].EndedAt == nil {
			t.Errorf("the reward after the refund: %+v", got)
		}
	})

	t.Run("review", func(t *testing.T) {
		record(old.ID, "order-2")
		var queue struct {
			ReferralReviewQueue struct {
				Edges []struct {
					Node struct {
						ID, Status  string
						Flags       []string
						Beneficiary *struct{ ID string }
					}
				}
			}
		}
		a.ok(nioStaff, queueOp, map[string]any{"brand": nio}, &queue)
		edges := queue.ReferralReviewQueue.Edges
		if len(edges) != 2 {
			t.Fatalf("the review queue: %+v", edges)
		}
		for _, e := range edges {
			if !cmp.Equal(e.Node.Flags, []string{"INACTIVE"}) || e.Node.Status != "PENDING" {
				t.Errorf("a queued reward: %+v", e.Node)
			}
		}
		// The referrer is not told the signals that hold its reward, as it is not told its
		// referees'; the brand's staff and ADMIN, who review it, are.
		for _, tc := range []struct {
			who, token string
			want       []string
		}{{"the referrer", mid, []string{}}, {"the brand's staff", nioStaff, []string{"INACTIVE"}}, {"ADMIN", admin, []string{"INACTIVE"}}} {
			var flags []string
			for _, r := range a.rewards(tc.token, midID, map[string]any{"status": "PENDING"}) {
				for _, e := range edges {
					if r.ID == e.Node.ID {
						flags = r.Flags
					}
				}
			}
			if !cmp.Equal(flags, tc.want) {
				t.Errorf("%s reads the flags of a held reward as %v, want %v", tc.who, flags, tc.want)
			}
		}
		a.ok(manager, queueOp, map[string]any{"brand": nio}, nil)
		a.fails(community.CodeForbidden, bydStaff, queueOp, map[string]any{"brand": nio})
		a.fails(community.CodeForbidden, stranger, queueOp, map[string]any{"brand": nio})
		a.fails(community.CodeUnauthenticated, "", queueOp, map[string]any{"brand": nio})
		if n := a.grant(); n != 0 {
			t.Errorf("the job granted %d flagged rewards", n)
		}

		first, second := edges[0].Node.ID, edges[1].Node.ID
		in := func(id, decision, note string) map[string]any {
			return map[string]any{"in": map[string]any{"rewardId": id, "decision": decision, "note": note}}
		}
		for _, tc := range []struct {
			name, note string
		}{
			{"a note that hides its order", "ok \u202egnp.exe"},
			{"a note too long", strings.Repeat("长", community.MaxReviewNote+1)},
		} {
			res := a.fails(community.CodeBadUserInput, nioStaff, reviewOp, in(first, "APPROVE", tc.note))
			if f := res.Errors[0].Extensions["field"]; f != "note" {
				t.Errorf("%s: field %v, want note", tc.name, f)
			}
		}
		a.fails(community.CodeNotFound, bydStaff, reviewOp, in(first, "APPROVE", ""))
		a.fails(community.CodeNotFound, admin, reviewOp, in(community.NewID(), "APPROVE", ""))
		a.fails(community.CodeNotFound, admin, reviewOp, in("not-an-id", "APPROVE", ""))
		a.fails(community.CodeForbidden, stranger, reviewOp, in(first, "APPROVE", ""))
		a.fails(community.CodeUnauthenticated, "", reviewOp, in(first, "APPROVE", ""))

		var approved struct {
			ReviewReward struct{ Reward rewardJSON } `json:"reviewReward"`
		}
		a.ok(nioStaff, reviewOp, in(first, "APPROVE", "核实过，是真实用户"), &approved)
		if r := approved.ReviewReward.Reward; r.Status != "PENDING" || len(r.Reviews) != 1 || r.Reviews[0].Decision != "APPROVE" ||
			r.Reviews[0].Note != "核实过，是真实用户" {
			t.Errorf("the approved reward: %+v", r)
		}
		managerID, _ := a.register("manager_he"+run, "何管")
		mc := jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}}
		mc.Subject = managerID
		managerTok := mint(t, mc)
		var rejected struct {
			ReviewReward struct{ Reward rewardJSON } `json:"reviewReward"`
		}
		a.ok(managerTok, reviewOp, in(second, "REJECT", "刷单"), &rejected)
		if r := rejected.ReviewReward.Reward; r.Status != "REJECTED" || r.EndedAt == nil || len(r.Reviews) != 1 ||
			r.Reviews[0].Reviewer == nil || r.Reviews[0].Reviewer.ID != managerID {
			t.Errorf("the rejected reward: %+v", r)
		}
		a.fails(community.CodeConflict, admin, reviewOp, in(second, "APPROVE", ""))
		a.ok(nioStaff, queueOp, map[string]any{"brand": nio}, &queue)
		if n := len(queue.ReferralReviewQueue.Edges); n != 0 {
			t.Errorf("%d rewards still queued", n)
		}
		if n := a.grant(); n != 1 {
			t.Errorf("the job granted %d rewards after the review, want the approved one", n)
		}
	})

	t.Run("round trips do not grow with the members asked", func(t *testing.T) {
		if a.trips == nil {
			t.Fatal("the store keeps no count of round trips")
		}
		fields := `rewards(first: 10) { edges { node { id status campaign { id } brand { id } beneficiary { id } } } }
			pointsHistory(brandId: $b, first: 10) { edges { node { reason delta brand { id } } } }`
		one := `query($a: ID!, $b: ID!) { a: member(id: $a) { ` + fields + ` } }`
		three := `query($a: ID!, $c: ID!, $d: ID!, $b: ID!) { a: member(id: $a) { ` + fields + ` } c: member(id: $c) { ` + fields +
			` } d: member(id: $d) { ` + fields + ` } }`
		trips := func(q string, vars map[string]any) int64 { return a.fewestTrips(admin, q, vars) }
		single := trips(one, map[string]any{"a": midID, "b": nio})
		many := trips(three, map[string]any{"a": midID, "c": rootID, "d": buyerID, "b": nio})
		if many != single {
			t.Errorf("three members' rewards and history cost %d round trips, one member's %d", many, single)
		}
	})
}

func checkLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// must stops a test or benchmark on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
