package communitytest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

func testAttributionStore(t *testing.T, newStore NewStore) {
	t.Run("Redeem", func(t *testing.T) { testRedeem(t, newStore(t)) })
	t.Run("RefusedRedemptions", func(t *testing.T) { testRefusedRedemptions(t, newStore(t)) })
	t.Run("ConcurrentRedemptions", func(t *testing.T) { testConcurrentRedemptions(t, newStore(t)) })
	t.Run("Uplines", func(t *testing.T) { testUplines(t, newStore(t)) })
}

// testUplines builds a chain longer than community.MaxChainDepth, and a member of another
// chain, and reads uplines of several depths.
func testUplines(t *testing.T, s community.Store) {
	c := liveCampaign(t, s, "链")
	const n = community.MaxChainDepth + 2
	handles := make([]string, n)
	for i := range handles {
		handles[i] = fmt.Sprintf("chain_%02d", i)
	}
	ms := create(t, s, handles...)
	// chain_01 is referred by chain_00, chain_02 by chain_01, and so on.
	for i := 1; i < n; i++ {
		_, err := redeemAt(s, ms[i].ID, storedInvite(t, s, ms[i-1].ID, c, 0).Code, 100)
		must(t, err)
	}
	others := create(t, s, "lone_root", "lone_leaf")
	_, err := redeemAt(s, others[1].ID, storedInvite(t, s, others[0].ID, c, 0).Code, 100)
	must(t, err)
	// upline is the upline of ms[i], nearest first, up to depth.
	upline := func(i, depth int) []string {
		var out []string
		for j := i - 1; j >= 0 && len(out) < depth; j-- {
			out = append(out, ms[j].ID)
		}
		return out
	}
	ids := []string{ms[n-1].ID, ms[5].ID, ms[0].ID, others[1].ID, community.NewID()}
	for _, depth := range []int{1, 3, community.DefaultChainDepth, community.MaxChainDepth} {
		got, err := s.UplinesOf(context.Background(), ids, depth)
		want := map[string][]string{ms[n-1].ID: upline(n-1, depth), ms[5].ID: upline(5, depth), others[1].ID: {others[0].ID}}
		checkRead(t, fmt.Sprintf("UplinesOf to depth %d", depth), want, got, err)
	}
}

// redeemAt redeems code for a member at minute n, under community.CheckRedemption.
func redeemAt(s community.Store, memberID, code string, n int) (community.Referral, error) {
	r := community.Redemption{MemberID: memberID, Code: code, At: at(n)}
	return s.RedeemInvite(context.Background(), r, community.CheckRedemption)
}

// liveCampaign is a campaign of a brand that is active from minute 60 for 30 days.
func liveCampaign(t *testing.T, s community.Store, name string) community.ReferralCampaign {
	t.Helper()
	id := community.NewID()
	b := createBrands(t, s, "brand-"+strings.ToLower(id[len(id)-8:]))
	c := newCampaign(b[0].ID, name, 0)
	must(t, s.CreateReferralCampaign(context.Background(), c))
	return c
}

// storedInvite stores an invite of a member for a campaign, with maxUses (0 for none).
func storedInvite(t *testing.T, s community.Store, memberID string, c community.ReferralCampaign, maxUses int) community.Invite {
	t.Helper()
	inv := newInvite(memberID, c, 1)
	inv.MaxUses = maxUses
	got, _, err := s.CreateInvite(context.Background(), inv, at(1))
	must(t, err)
	return got
}

func checkReferrals(t *testing.T, s community.Store, ids []string, want map[string]community.Referral) {
	t.Helper()
	got, err := s.ReferralsOf(context.Background(), ids)
	checkRead(t, "ReferralsOf", want, got, err)
}

func checkUses(t *testing.T, s community.Store, code string, want int) {
	t.Helper()
	inv, err := s.InviteByCode(context.Background(), code)
	must(t, err)
	if inv.Uses != want {
		t.Errorf("invite %s has %d uses, want %d", code, inv.Uses, want)
	}
}

func testRedeem(t *testing.T, s community.Store) {
	ms := create(t, s, "li_hua", "wang_fang", "zhang_wei")
	c := liveCampaign(t, s, "春季老带新")
	inv := storedInvite(t, s, ms[0].ID, c, 0)
	got, err := redeemAt(s, ms[1].ID, inv.Code, 100)
	want := community.Referral{
		MemberID: ms[1].ID, ReferrerID: ms[0].ID, Code: inv.Code, CampaignID: c.ID, Channel: inv.Channel, At: at(100),
	}
	checkRead(t, "RedeemInvite", want, got, err)
	checkUses(t, s, inv.Code, 1)
	checkReferrals(t, s, []string{ms[0].ID, ms[1].ID, ms[2].ID, community.NewID()}, map[string]community.Referral{ms[1].ID: want})

	// A chain: the referee's own code brings in a third member.
	next := storedInvite(t, s, ms[1].ID, c, 0)
	second, err := redeemAt(s, ms[2].ID, next.Code, 101)
	must(t, err)
	checkReferrals(t, s, []string{ms[1].ID, ms[2].ID}, map[string]community.Referral{ms[1].ID: want, ms[2].ID: second})

	_, err = redeemAt(s, community.NewID(), inv.Code, 102)
	wantCode(t, err, community.CodeNotFound)
	checkUses(t, s, inv.Code, 1)
}

// testRefusedRedemptions checks every refusal of CheckRedemption through the store: the
// code it answers, and that nothing changed.
func testRefusedRedemptions(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "root_1", "mid_2", "leaf_3", "new_4", "late_5")
	c := liveCampaign(t, s, "拒绝")
	// mid_2 is referred by root_1, leaf_3 by mid_2.
	rootCode := storedInvite(t, s, ms[0].ID, c, 0)
	midCode := storedInvite(t, s, ms[1].ID, c, 0)
	leafCode := storedInvite(t, s, ms[2].ID, c, 0)
	r1, err := redeemAt(s, ms[1].ID, rootCode.Code, 100)
	must(t, err)
	r2, err := redeemAt(s, ms[2].ID, midCode.Code, 100)
	must(t, err)
	referrals := map[string]community.Referral{ms[1].ID: r1, ms[2].ID: r2}
	ids := []string{ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID, ms[4].ID}

	usedUp := storedInvite(t, s, ms[4].ID, c, 1)
	// A member who is not one of these redeems usedUp's one use.
	other := create(t, s, "other_6")
	_, err = redeemAt(s, other[0].ID, usedUp.Code, 100)
	must(t, err)
	referrals[other[0].ID] = community.Referral{MemberID: other[0].ID, ReferrerID: ms[4].ID, Code: usedUp.Code,
		CampaignID: c.ID, Channel: usedUp.Channel, At: at(100)}
	ids = append(ids, other[0].ID)

	ended := liveCampaign(t, s, "提前结束")
	endedCode := storedInvite(t, s, ms[0].ID, ended, 0)
	_, err = s.EndReferralCampaign(ctx, ended.ID, at(90))
	must(t, err)

	uses := map[string]int{rootCode.Code: 1, midCode.Code: 1, leafCode.Code: 0, usedUp.Code: 1, endedCode.Code: 0}
	window := time.Duration(c.RedeemWindowDays) * 24 * time.Hour
	for _, tc := range []struct {
		name     string
		memberID string
		code     string
		minute   int
		identity *community.Identity
		want     community.Code
	}{
		{"unknown code", ms[3].ID, "ABCDEFGHJK", 100, nil, community.CodeBadUserInput},
		{"before the campaign starts", ms[3].ID, rootCode.Code, 30, nil, community.CodeBadUserInput},
		{"expired", ms[3].ID, rootCode.Code, int(c.EndsAt.Sub(base) / time.Minute), nil, community.CodeBadUserInput},
		{"used up", ms[3].ID, usedUp.Code, 100, nil, community.CodeBadUserInput},
		{"ended campaign", ms[3].ID, endedCode.Code, 100, nil, community.CodeBadUserInput},
		{"outside the window", ms[3].ID, rootCode.Code, int(window/time.Minute) + 1, nil, community.CodeBadUserInput},
		{"own code", ms[0].ID, rootCode.Code, 100, nil, community.CodeForbidden},
		{"shared identity", ms[3].ID, rootCode.Code, 100, &community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-root_1"}, community.CodeForbidden},
		{"already referred", ms[2].ID, rootCode.Code, 100, nil, community.CodeConflict},
		{"a cycle of two", ms[1].ID, leafCode.Code, 100, nil, community.CodeConflict},
		{"a cycle of three", ms[0].ID, leafCode.Code, 100, nil, community.CodeConflict},
		{"a cycle through the referrer's upline", ms[0].ID, midCode.Code, 100, nil, community.CodeConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := community.Redemption{MemberID: tc.memberID, Code: tc.code, At: at(tc.minute), TokenIdentity: tc.identity}
			_, err := s.RedeemInvite(ctx, r, community.CheckRedemption)
			wantCode(t, err, tc.want)
			checkReferrals(t, s, ids, referrals)
			for code, n := range uses {
				checkUses(t, s, code, n)
			}
		})
	}

	t.Run("unknown and expired codes answer alike", func(t *testing.T) {
		_, unknown := redeemAt(s, ms[3].ID, "ABCDEFGHJK", 100)
		_, expired := redeemAt(s, ms[3].ID, rootCode.Code, int(c.EndsAt.Sub(base)/time.Minute))
		if diff := cmp.Diff(unknown.Error(), expired.Error()); diff != "" {
			t.Errorf("the answers differ (-unknown +expired):\n%s", diff)
		}
	})

	// The refused member may still redeem a valid code.
	r, err := redeemAt(s, ms[3].ID, leafCode.Code, 100)
	must(t, err)
	referrals[ms[3].ID] = r
	checkReferrals(t, s, ids, referrals)
}

// testConcurrentRedemptions races redemptions that only one order of decisions allows.
func testConcurrentRedemptions(t *testing.T, s community.Store) {
	c := liveCampaign(t, s, "并发兑换")

	t.Run("50 newcomers for 10 uses", func(t *testing.T) {
		handles := make([]string, 51)
		for i := range handles {
			handles[i] = fmt.Sprintf("racer_%02d", i)
		}
		ms := create(t, s, handles...)
		inv := storedInvite(t, s, ms[50].ID, c, 10)
		_, errs := atOnce(50, func(i int) (community.Referral, error) { return redeemAt(s, ms[i].ID, inv.Code, 100) })
		if diff := cmp.Diff(map[community.Code]int{"": 10, community.CodeBadUserInput: 40}, errorCodes(errs)); diff != "" {
			t.Errorf("outcomes by code (-want +got):\n%s", diff)
		}
		checkUses(t, s, inv.Code, 10)
		ids := make([]string, 50)
		for i := range ids {
			ids[i] = ms[i].ID
		}
		got, err := s.ReferralsOf(context.Background(), ids)
		must(t, err)
		if len(got) != 10 {
			t.Errorf("%d members were referred, want 10", len(got))
		}
	})

	t.Run("each other's codes", func(t *testing.T) {
		for round := range 10 {
			ms := create(t, s, fmt.Sprintf("pair_a_%d", round), fmt.Sprintf("pair_b_%d", round))
			codes := []string{storedInvite(t, s, ms[1].ID, c, 0).Code, storedInvite(t, s, ms[0].ID, c, 0).Code}
			_, errs := atOnce(2, func(i int) (community.Referral, error) { return redeemAt(s, ms[i].ID, codes[i], 100) })
			if got := errorCodes(errs); got[""] != 1 || got[community.CodeConflict] != 1 {
				t.Fatalf("round %d: outcomes by code %v, want one success and one CONFLICT", round, got)
			}
		}
	})

	t.Run("a cycle of four closed by two at once", func(t *testing.T) {
		// c is referred by b and d by a; a redeeming c's code and b redeeming d's would
		// make a → c → b → d → a.
		for round := range 5 {
			ms := create(t, s, fmt.Sprintf("ring_a_%d", round), fmt.Sprintf("ring_b_%d", round),
				fmt.Sprintf("ring_c_%d", round), fmt.Sprintf("ring_d_%d", round))
			a, b, cc, d := ms[0], ms[1], ms[2], ms[3]
			_, err := redeemAt(s, cc.ID, storedInvite(t, s, b.ID, c, 0).Code, 100)
			must(t, err)
			_, err = redeemAt(s, d.ID, storedInvite(t, s, a.ID, c, 0).Code, 100)
			must(t, err)
			redeemers := []string{a.ID, b.ID}
			codes := []string{storedInvite(t, s, cc.ID, c, 0).Code, storedInvite(t, s, d.ID, c, 0).Code}
			_, errs := atOnce(2, func(i int) (community.Referral, error) { return redeemAt(s, redeemers[i], codes[i], 100) })
			if got := errorCodes(errs); got[""] != 1 || got[community.CodeConflict] != 1 {
				t.Fatalf("round %d: outcomes by code %v, want one success and one CONFLICT", round, got)
			}
		}
	})
}
