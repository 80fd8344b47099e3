package resolvers_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/resolvers"
)

// gateWrites holds one call of every mutation, with input the gate never reads: the gate
// refuses before anything is validated or looked up.
var gateWrites = map[string]string{
	"createBrand":            `createBrand(input: {slug: "byd", name: "比亚迪"}) { __typename }`,
	"setBrandTiers":          `setBrandTiers(input: {brandId: "b", tiers: [{name: "金卡", threshold: 1}]}) { __typename }`,
	"invitePartner":          `invitePartner(input: {brandId: "b", partnerBrandId: "c"}) { __typename }`,
	"acceptPartnership":      `acceptPartnership(input: {brandId: "b", partnerBrandId: "c"}) { __typename }`,
	"endPartnership":         `endPartnership(input: {brandId: "b", partnerBrandId: "c"}) { __typename }`,
	"joinBrand":              `joinBrand(input: {brandId: "b"}) { __typename }`,
	"grantConsent":           `grantConsent(input: {brandId: "b", scopes: [PROFILE]}) { __typename }`,
	"revokeConsent":          `revokeConsent(input: {brandId: "b", scopes: [PROFILE]}) { __typename }`,
	"recordPurchase":         `recordPurchase(input: {memberId: "m", brandId: "b", amount: "1.00", currency: "CNY", externalId: "o-1", at: "2026-01-01T00:00:00Z"}) { __typename }`,
	"refundPurchase":         `refundPurchase(input: {brandId: "b", purchaseId: "p"}) { __typename }`,
	"createClub":             `createClub(input: {slug: "s", name: "n", kind: INTEREST, visibility: PUBLIC, joinPolicy: OPEN}) { __typename }`,
	"updateClub":             `updateClub(input: {clubId: "c"}) { __typename }`,
	"joinClub":               `joinClub(input: {clubId: "c"}) { __typename }`,
	"leaveClub":              `leaveClub(input: {clubId: "c"}) { __typename }`,
	"approveJoinRequest":     `approveJoinRequest(input: {clubId: "c", memberId: "m"}) { __typename }`,
	"rejectJoinRequest":      `rejectJoinRequest(input: {clubId: "c", memberId: "m"}) { __typename }`,
	"setClubRole":            `setClubRole(input: {clubId: "c", memberId: "m", role: MODERATOR}) { __typename }`,
	"follow":                 `follow(input: {memberId: "m"}) { __typename }`,
	"unfollow":               `unfollow(input: {memberId: "m"}) { __typename }`,
	"registerMember":         `registerMember(input: {handle: "li_na", displayName: "李娜"}) { __typename }`,
	"updateProfile":          `updateProfile(input: {bio: "车友"}) { __typename }`,
	"linkIdentity":           `linkIdentity(input: {provider: WEIBO, externalId: "w-1"}) { __typename }`,
	"unlinkIdentity":         `unlinkIdentity(input: {provider: WEIBO}) { __typename }`,
	"createPost":             `createPost(input: {clubId: "c", title: "t", body: "b"}) { __typename }`,
	"editPost":               `editPost(input: {postId: "p", title: "t", body: "b"}) { __typename }`,
	"deletePost":             `deletePost(input: {postId: "p"}) { __typename }`,
	"addComment":             `addComment(input: {postId: "p", body: "b"}) { __typename }`,
	"editComment":            `editComment(input: {commentId: "c", body: "b"}) { __typename }`,
	"deleteComment":          `deleteComment(input: {commentId: "c"}) { __typename }`,
	"react":                  `react(input: {targetId: "p", kind: LIKE}) { __typename }`,
	"unreact":                `unreact(input: {targetId: "p", kind: LIKE}) { __typename }`,
	"sharePost":              `sharePost(input: {postId: "p", channel: WECHAT}) { __typename }`,
	"createReferralCampaign": `createReferralCampaign(input: {brandId: "b", name: "n", startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-02-01T00:00:00Z", rules: [{level: 3, kind: POINTS, value: "-1"}]}) { __typename }`,
	"endReferralCampaign":    `endReferralCampaign(input: {campaignId: "c"}) { __typename }`,
	"createInvite":           `createInvite(input: {campaignId: "c", channel: WECHAT, maxUses: -1}) { __typename }`,
	"redeemInvite":           `redeemInvite(input: {code: "x"}) { __typename }`,
	"reviewReward":           `reviewReward(input: {rewardId: "r", decision: APPROVE, note: "n"}) { __typename }`,
}

// notGraphWrites are the mutations that write nothing of the community graph, and why.
var notGraphWrites = map[string]string{
	"rebuildSearchIndex": "an ADMIN's operation on the search index, rebuilt from the store; it writes nothing of the graph",
}

// TestEveryWriteGoesThroughTheGate configures a check that refuses every write, and calls
// every mutation of the schema: each is refused RATE_LIMITED with its retryAfter, the check
// saw it under the mutation's name, and the store was not called at all. A mutation added
// to the schema without a row here fails the test.
func TestEveryWriteGoesThroughTheGate(t *testing.T) {
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var mu sync.Mutex
	var seen []community.Write
	refuse := community.WriteCheckFunc(func(_ context.Context, a community.Actor, w community.Write) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, w)
		return community.RateLimited("slow down", 1500*time.Millisecond)
	})
	svc := community.New(s, community.Config{Checks: []community.WriteCheck{refuse}})
	srv := httptest.NewServer(resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog()}, development()))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL, trips: s.RoundTrips().ByMethod()}

	var schema struct {
		Schema struct {
			MutationType struct{ Fields []struct{ Name string } } `json:"mutationType"`
		} `json:"__schema"`
	}
	a.ok("", `{ __schema { mutationType { fields { name } } } }`, nil, &schema)
	if len(schema.Schema.MutationType.Fields) == 0 {
		t.Fatal("the schema has no mutations")
	}

	staff := jwtauth.Claims{Roles: []string{"ADMIN"}}
	staff.Subject = "m-1"
	member := mint(t, staff)
	newcomer := identityToken(t, "WECHAT", "openid-li-na")
	for _, f := range schema.Schema.MutationType.Fields {
		t.Run(f.Name, func(t *testing.T) {
			if why, ok := notGraphWrites[f.Name]; ok {
				t.Skipf("not a graph write: %s", why)
			}
			call, ok := gateWrites[f.Name]
			if !ok {
				t.Fatalf("mutation %s has no row in gateWrites: every write must be shown to pass the gate", f.Name)
			}
			token := member
			if f.Name == "registerMember" {
				token = newcomer
			}
			mu.Lock()
			seen = nil
			mu.Unlock()
			before := a.trips.Total()
			res := (&api{t: t, url: srv.URL}).fails(community.CodeRateLimited, token, "mutation { "+call+" }", nil)
			if got := res.Errors[0].Extensions["retryAfter"]; got != float64(2) {
				t.Errorf("extensions.retryAfter = %v, want 2 (1.5 s rounded up)", got)
			}
			if n := a.trips.Total() - before; n != 0 {
				t.Errorf("a refused write made %d store round trips, want 0", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0].Action != f.Name {
				t.Errorf("the check saw %+v, want one write named %q", seen, f.Name)
			}
		})
	}
}

// TestGateEstablishesTheActor checks the gate's first step, before any check runs: who a
// write needs.
func TestGateEstablishesTheActor(t *testing.T) {
	a := newAPI(t)
	_, member := a.register("wang_fang", "王芳")
	newcomer := identityToken(t, "WECHAT", "openid-zhao-lei")
	role := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	for _, tc := range []struct {
		name, token, call string
		want              community.Code
	}{
		{"a member's write without a token", "", gateWrites["updateProfile"], community.CodeUnauthenticated},
		{"a member's write by a newcomer", newcomer, gateWrites["updateProfile"], community.CodeForbidden},
		{"a member's write by a role alone", role, gateWrites["follow"], community.CodeForbidden},
		{"registering without a token", "", gateWrites["registerMember"], community.CodeUnauthenticated},
		{"registering as a member", member, gateWrites["registerMember"], community.CodeConflict},
		{"registering with a role alone", role, gateWrites["registerMember"], community.CodeForbidden},
		{"a staff write without a token", "", gateWrites["createBrand"], community.CodeUnauthenticated},
		{"a staff write with a bad token", "not-a-token", gateWrites["createBrand"], community.CodeUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			(&api{t: t, url: a.url}).fails(tc.want, tc.token, "mutation { "+tc.call+" }", nil)
		})
	}
}
