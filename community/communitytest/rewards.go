package communitytest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
)

// RewardHooks are what the reward cases need of a store's harness beyond the Store: the
// state other work or other systems leave behind, written as that work would write it.
type RewardHooks struct {
	// FlagReferral sets the fraud flags of a member's referral, as the detection at
	// redemption does.
	FlagReferral func(t *testing.T, s community.Store, memberID string, flags []community.ReferralFlag)
	// SpendPoints sets a member's points in a brand's programme, as spending them in the
	// brand's shop would.
	SpendPoints func(t *testing.T, s community.Store, memberID, brandID string, points int)
}

// RunRewards runs the suite's part about the reward ledger, the grant job and points
// history.
func RunRewards(t *testing.T, newStore NewStore, hooks RewardHooks) {
	t.Run("Ledger", func(t *testing.T) { testRewardLedger(t, newStore(t)) })
	t.Run("RecordAgain", func(t *testing.T) { testRewardRecordAgain(t, newStore(t)) })
	t.Run("RefundWhilePending", func(t *testing.T) { testRewardRefundPending(t, newStore(t)) })
	t.Run("Clawback", func(t *testing.T) { testRewardClawback(t, newStore(t), hooks) })
	t.Run("GrantOnce", func(t *testing.T) { testRewardGrantOnce(t, newStore(t)) })
	t.Run("GrantAfterCrash", func(t *testing.T) { testRewardGrantAfterCrash(t, newStore(t)) })
	t.Run("Caps", func(t *testing.T) { testRewardCaps(t, newStore(t)) })
	t.Run("PointsHistory", func(t *testing.T) { testPointsHistory(t, newStore(t)) })
	t.Run("Review", func(t *testing.T) { testRewardReview(t, newStore(t), hooks) })
	t.Run("Inactive", func(t *testing.T) { testRewardInactive(t, newStore(t)) })
}

const day = 24 * 60 // minutes

// rewardWorld is a brand with a campaign, and a chain: root referred mid, mid referred
// buyer and other. mid and buyer are in the brand's programme.
type rewardWorld struct {
	brand                   community.Brand
	campaign                community.ReferralCampaign
	root, mid, buyer, other community.Member
}

// rewardRules are the campaign's rules unless a case gives its own: 500 points to the
// referrer and 100 to the referrer's referrer after a day's hold, and 10.00 of money to
// the referrer at once.
var rewardRules = []community.ReferralRule{
	{Level: 1, Kind: community.RewardPoints, Value: 500_00, HoldDays: 1},
	{Level: 2, Kind: community.RewardPoints, Value: 100_00, HoldDays: 1},
	{Level: 1, Kind: community.RewardAmount, Value: 10_00},
}

func newRewardWorld(t *testing.T, s community.Store, rules []community.ReferralRule) rewardWorld {
	t.Helper()
	ctx := context.Background()
	w := rewardWorld{brand: createBrands(t, s, "nio")[0]}
	ms := create(t, s, "root_li", "mid_wang", "buyer_zhao", "other_chen")
	w.root, w.mid, w.buyer, w.other = ms[0], ms[1], ms[2], ms[3]
	w.campaign = newCampaign(w.brand.ID, "老带新", 0)
	w.campaign.Rules = rules
	must(t, s.CreateReferralCampaign(ctx, w.campaign))
	// root has not joined the brand's programme: a grant of points joins it.
	for _, m := range ms[1:3] {
		must(t, s.JoinBrand(ctx, m.ID, w.brand.ID, at(2)))
	}
	_, err := redeemAt(s, w.mid.ID, storedInvite(t, s, w.root.ID, w.campaign, 0).Code, 100)
	must(t, err)
	code := storedInvite(t, s, w.mid.ID, w.campaign, 0).Code
	_, err = redeemAt(s, w.buyer.ID, code, 101)
	must(t, err)
	_, err = redeemAt(s, w.other.ID, code, 102)
	must(t, err)
	return w
}

// buy records a purchase of a member under community.RewardsFor, made at minute n and
// recorded a minute later.
func (w rewardWorld) buy(t *testing.T, s community.Store, memberID, externalID string, amount int64, n int) community.Purchase {
	t.Helper()
	p, err := s.RecordPurchase(context.Background(), cny(community.NewID(), memberID, w.brand.ID, externalID, amount, n), community.RewardsFor)
	must(t, err)
	return p
}

// rewardsOf reads all of a member's rewards, newest first.
func rewardsOf(t *testing.T, s community.Store, memberID string) []community.Reward {
	t.Helper()
	pages, err := s.RewardPages(context.Background(), []community.RewardQuery{{MemberID: memberID, First: 100}})
	must(t, err)
	return pages[0].Rewards
}

// historyOf reads a member's whole points history in a brand, newest first.
func historyOf(t *testing.T, s community.Store, memberID, brandID string) []community.PointsEntry {
	t.Helper()
	pages, err := s.PointsPages(context.Background(), []community.PointsQuery{{MemberID: memberID, BrandID: brandID, First: 100}})
	must(t, err)
	return pages[0].Entries
}

// wantReward is the reward rule gives for purchase p to beneficiary.
func wantReward(w rewardWorld, p community.Purchase, rule int, beneficiary string) community.Reward {
	r := w.campaign.Rules[rule]
	out := community.Reward{
		ID: community.DerivedID(p.ID, "reward", string(rune('0'+rule))), CampaignID: w.campaign.ID, BrandID: w.brand.ID,
		BeneficiaryID: beneficiary, RefereeID: p.MemberID, PurchaseID: p.ID, Rule: rule, Level: r.Level, Kind: r.Kind,
		Status: community.RewardPending, CreatedAt: p.RecordedAt, GrantsAt: p.RecordedAt.Add(time.Duration(r.HoldDays) * 24 * time.Hour),
	}
	if r.Kind == community.RewardPoints {
		out.Points = int(r.Value / 100)
	} else {
		out.Amount, out.Currency = r.Value, p.Currency
	}
	return out
}

func rewardEvents(t *testing.T, s community.Store) map[string]bool {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), community.ConsumerRewards, 1000)
	must(t, err)
	out := map[string]bool{}
	for _, e := range evs {
		if e.Kind != community.EventReward {
			t.Errorf("the rewards consumer got a %s event", e.Kind)
		}
		out[e.EntityID] = true
	}
	return out
}

// testRewardLedger checks the rewards a referee's purchase writes, their events, and the
// grant of what is due.
func testRewardLedger(t *testing.T, s community.Store) {
	ctx := context.Background()
	w := newRewardWorld(t, s, rewardRules)
	p := w.buy(t, s, w.buyer.ID, "order-1", 399_00, 200)
	mid0, mid2, root1 := wantReward(w, p, 0, w.mid.ID), wantReward(w, p, 2, w.mid.ID), wantReward(w, p, 1, w.root.ID)
	midWant := []community.Reward{mid0, mid2}
	if mid2.ID < mid0.ID {
		midWant = []community.Reward{mid2, mid0}
	}
	checkRead(t, "rewards of the referrer", midWant, rewardsOf(t, s, w.mid.ID), nil)
	checkRead(t, "rewards of the referrer's referrer", []community.Reward{root1}, rewardsOf(t, s, w.root.ID), nil)
	checkRead(t, "rewards of the buyer", []community.Reward(nil), rewardsOf(t, s, w.buyer.ID), nil, cmpopts.EquateEmpty())
	checkRead(t, "reward events", map[string]bool{mid0.ID: true, mid2.ID: true, root1.ID: true}, rewardEvents(t, s), nil)
	got, err := s.RewardsByID(ctx, []string{mid0.ID, community.NewID()})
	checkRead(t, "RewardsByID", map[string]community.Reward{mid0.ID: mid0}, got, err)

	// Only the money reward is due before the hold ends.
	ids, err := s.DueRewards(ctx, p.RecordedAt, 10)
	checkRead(t, "due at once", []string{mid2.ID}, ids, err)
	later := p.RecordedAt.Add(24 * time.Hour)
	ids, err = s.DueRewards(ctx, later, 10)
	must(t, err)
	if len(ids) != 3 {
		t.Fatalf("due after the hold: %d rewards, want 3", len(ids))
	}
	for _, id := range ids {
		r, ok, err := s.GrantReward(ctx, id, later)
		must(t, err)
		if !ok || r.Status != community.RewardGranted || !r.GrantedAt.Equal(later) {
			t.Errorf("grant of %s: granted %v, reward %+v", id, ok, r)
		}
	}
	wantPoints(t, s, w.mid.ID, w.brand.ID, 500)
	wantPoints(t, s, w.root.ID, w.brand.ID, 100)
	wantPoints(t, s, w.buyer.ID, w.brand.ID, 399)
	ms, err := s.MembershipsOf(ctx, []string{w.root.ID})
	want := map[string][]community.BrandMembership{w.root.ID: {{MemberID: w.root.ID, BrandID: w.brand.ID, Points: 100, Since: later}}}
	checkRead(t, "the membership the grant made", want, ms, err)
	ids, err = s.DueRewards(ctx, later.Add(time.Hour), 10)
	checkRead(t, "due after the grants", []string{}, ids, err, cmpopts.EquateEmpty())
	_, _, err = s.GrantReward(ctx, community.NewID(), later)
	wantCode(t, err, community.CodeNotFound)
}

// testRewardRecordAgain checks that recording a purchase again writes no reward, event or
// points entry.
func testRewardRecordAgain(t *testing.T, s community.Store) {
	ctx := context.Background()
	w := newRewardWorld(t, s, rewardRules)
	p := w.buy(t, s, w.buyer.ID, "order-1", 399_00, 200)
	before := rewardsOf(t, s, w.mid.ID)
	events, err := s.OutboxBacklog(ctx, community.ConsumerRewards)
	must(t, err)
	history := historyOf(t, s, w.buyer.ID, w.brand.ID)
	again := cny(community.NewID(), w.buyer.ID, w.brand.ID, "order-1", 399_00, 200)
	got, err := s.RecordPurchase(ctx, again, community.RewardsFor)
	checkRead(t, "the purchase recorded again", p, got, err)
	checkRead(t, "rewards after recording again", before, rewardsOf(t, s, w.mid.ID), nil)
	after, err := s.OutboxBacklog(ctx, community.ConsumerRewards)
	checkRead(t, "reward events after recording again", events, after, err)
	checkRead(t, "points history after recording again", history, historyOf(t, s, w.buyer.ID, w.brand.ID), nil)
	wantPoints(t, s, w.buyer.ID, w.brand.ID, 399)
}

// testRewardRefundPending checks that a refund during the hold reverses the rewards.
func testRewardRefundPending(t *testing.T, s community.Store) {
	ctx := context.Background()
	w := newRewardWorld(t, s, rewardRules)
	p := w.buy(t, s, w.buyer.ID, "order-1", 399_00, 200)
	evs, err := s.PendingEvents(ctx, community.ConsumerRewards, 100)
	must(t, err)
	must(t, s.AckEvents(ctx, community.ConsumerRewards, evs))
	refundAt := at(300)
	_, err = s.RefundPurchase(ctx, w.brand.ID, p.ID, refundAt)
	must(t, err)
	for _, r := range append(rewardsOf(t, s, w.mid.ID), rewardsOf(t, s, w.root.ID)...) {
		if r.Status != community.RewardReversed || !r.EndedAt.Equal(refundAt) {
			t.Errorf("reward %d after the refund: %s ended %v, want REVERSED at %v", r.Rule, r.Status, r.EndedAt, refundAt)
		}
	}
	if got := len(rewardEvents(t, s)); got != 3 {
		t.Errorf("events after the refund: %d, want one for each reward", got)
	}
	ids, err := s.DueRewards(ctx, at(10*day), 10)
	checkRead(t, "due after the refund", []string{}, ids, err, cmpopts.EquateEmpty())
	wantPoints(t, s, w.mid.ID, w.brand.ID, 0)
	wantPoints(t, s, w.buyer.ID, w.brand.ID, 0)
}

// testRewardClawback checks that a refund after the grant takes the points back, never
// below zero, and records what it could not take.
func testRewardClawback(t *testing.T, s community.Store, hooks RewardHooks) {
	ctx := context.Background()
	w := newRewardWorld(t, s, rewardRules)
	p := w.buy(t, s, w.buyer.ID, "order-1", 399_00, 200)
	grantAt := at(200 + day + 1)
	ids, err := s.DueRewards(ctx, grantAt, 10)
	must(t, err)
	for _, id := range ids {
		_, _, err := s.GrantReward(ctx, id, grantAt)
		must(t, err)
	}
	wantPoints(t, s, w.mid.ID, w.brand.ID, 500)
	// The referrer spends 380 of the 500 points; the referrer's referrer keeps its 100.
	hooks.SpendPoints(t, s, w.mid.ID, w.brand.ID, 120)
	refundAt := at(300 + day)
	_, err = s.RefundPurchase(ctx, w.brand.ID, p.ID, refundAt)
	must(t, err)
	wantPoints(t, s, w.mid.ID, w.brand.ID, 0)
	wantPoints(t, s, w.root.ID, w.brand.ID, 0)
	byRule := map[int]community.Reward{}
	for _, r := range append(rewardsOf(t, s, w.mid.ID), rewardsOf(t, s, w.root.ID)...) {
		byRule[r.Rule] = r
	}
	type outcome struct {
		Status                community.RewardStatus
		ClawedBack, Shortfall int
		EndedAt               time.Time
	}
	got := map[int]outcome{}
	for rule, r := range byRule {
		got[rule] = outcome{r.Status, r.ClawedBack, r.Shortfall, r.EndedAt}
	}
	want := map[int]outcome{
		0: {community.RewardClawedBack, 120, 380, refundAt},
		1: {community.RewardClawedBack, 100, 0, refundAt},
		2: {community.RewardClawedBack, 0, 0, refundAt},
	}
	checkRead(t, "rewards after the refund", want, got, nil)
	history := historyOf(t, s, w.mid.ID, w.brand.ID)
	if len(history) != 2 {
		t.Fatalf("referrer's history: %d entries, want the grant and the clawback: %+v", len(history), history)
	}
	claw := history[0]
	wantClaw := community.PointsEntry{
		ID: community.PointsEntryID(community.PointsClawback, byRule[0].ID), MemberID: w.mid.ID, BrandID: w.brand.ID,
		Reason: community.PointsClawback, Delta: -120, Balance: 0, Shortfall: 380, PurchaseID: p.ID, RewardID: byRule[0].ID, At: refundAt,
	}
	checkRead(t, "the clawback's entry", wantClaw, claw, nil)
	// Refunding again changes nothing.
	_, err = s.RefundPurchase(ctx, w.brand.ID, p.ID, at(400+day))
	must(t, err)
	checkRead(t, "history after refunding again", history, historyOf(t, s, w.mid.ID, w.brand.ID), nil)
}

// grantWorld records n purchases of the buyer, each giving the referrer one reward of 10
// points due at minute 1000, and returns the rewards' ids.
func grantWorld(t *testing.T, s community.Store, n int) (rewardWorld, []string) {
	t.Helper()
	w := newRewardWorld(t, s, []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 10_00}})
	ids := make([]string, n)
	for i := range ids {
		p := w.buy(t, s, w.buyer.ID, "order-"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1_00, 200+i)
		ids[i] = community.DerivedID(p.ID, "reward", "0")
	}
	return w, ids
}

// checkGrantedOnce checks that every reward is granted, and each credited once.
func checkGrantedOnce(t *testing.T, s community.Store, w rewardWorld, ids []string) {
	t.Helper()
	got, err := s.RewardsByID(context.Background(), ids)
	must(t, err)
	for _, id := range ids {
		if got[id].Status != community.RewardGranted {
			t.Errorf("reward %s is %s, want GRANTED", id, got[id].Status)
		}
	}
	wantPoints(t, s, w.mid.ID, w.brand.ID, 10*len(ids))
	grants := 0
	for _, e := range historyOf(t, s, w.mid.ID, w.brand.ID) {
		if e.Reason == community.PointsReward {
			grants++
		}
	}
	if grants != len(ids) {
		t.Errorf("%d grant entries for %d rewards", grants, len(ids))
	}
}

// testRewardGrantOnce runs the grant job twice at once, as two instances would if their
// lease failed them, and twice under one lease: every reward is granted once.
func testRewardGrantOnce(t *testing.T, s community.Store) {
	ctx := context.Background()
	w, ids := grantWorld(t, s, 24)
	now := func() time.Time { return at(2000) }
	var wg sync.WaitGroup
	granted := make([]int, 4)
	for i := range granted {
		wg.Go(func() {
			g := community.NewRewardGrants(s, &community.LocalLeases{}, community.RewardGrantsConfig{Now: now, Batch: 5, Logger: quiet})
			n, err := g.RunOnce(ctx)
			if err != nil {
				t.Error(err)
			}
			granted[i] = n
		})
	}
	wg.Wait()
	if total := granted[0] + granted[1] + granted[2] + granted[3]; total != len(ids) {
		t.Errorf("the runs granted %v: %d in all, want %d", granted, total, len(ids))
	}
	checkGrantedOnce(t, s, w, ids)
	backlog, err := s.OutboxBacklog(ctx, community.ConsumerRewards)
	must(t, err)
	if backlog.Pending != 0 {
		t.Errorf("%d reward events left after the job announced them", backlog.Pending)
	}
}

// testRewardGrantAfterCrash stops a run between reading the due rewards and granting
// them, and another half-way through: the next run grants the rest, and the crashed runs'
// grants, resumed late, grant nothing again.
func testRewardGrantAfterCrash(t *testing.T, s community.Store) {
	ctx := context.Background()
	w, ids := grantWorld(t, s, 10)
	now := at(2000)
	// The first run read the due rewards, then died.
	read, err := s.DueRewards(ctx, now, 100)
	must(t, err)
	if len(read) != len(ids) {
		t.Fatalf("due: %d rewards, want %d", len(read), len(ids))
	}
	// The second granted three, then died.
	for _, id := range read[:3] {
		_, ok, err := s.GrantReward(ctx, id, now)
		must(t, err)
		if !ok {
			t.Errorf("reward %s was not granted", id)
		}
	}
	g := community.NewRewardGrants(s, &community.LocalLeases{}, community.RewardGrantsConfig{Now: func() time.Time { return now }, Logger: quiet})
	n, err := g.RunOnce(ctx)
	must(t, err)
	if n != len(ids)-3 {
		t.Errorf("the run after the crashes granted %d, want %d", n, len(ids)-3)
	}
	// The first run comes back to life with what it read.
	for _, id := range read {
		r, ok, err := s.GrantReward(ctx, id, now.Add(time.Minute))
		must(t, err)
		if ok || r.Status != community.RewardGranted || !r.GrantedAt.Equal(now) {
			t.Errorf("a stale grant of %s: granted %v, reward %s at %v", id, ok, r.Status, r.GrantedAt)
		}
	}
	checkGrantedOnce(t, s, w, ids)
}

// testRewardCaps checks firstPurchaseOnly, minAmount and capPerReferrer over several
// purchases.
func testRewardCaps(t *testing.T, s community.Store) {
	w := newRewardWorld(t, s, []community.ReferralRule{
		{Level: 1, Kind: community.RewardPoints, Value: 100_00, CapPerReferrer: 2},
		{Level: 1, Kind: community.RewardAmount, Value: 5_00, FirstPurchaseOnly: true},
		{Level: 2, Kind: community.RewardPercent, Value: 10_00, MinAmount: 200_00},
	})
	w.buy(t, s, w.buyer.ID, "a", 100_00, 200)
	w.buy(t, s, w.buyer.ID, "b", 300_00, 201)
	w.buy(t, s, w.other.ID, "c", 250_00, 202)
	w.buy(t, s, w.other.ID, "d", 50_00, 203)
	count := map[int]int{}
	for _, r := range append(rewardsOf(t, s, w.mid.ID), rewardsOf(t, s, w.root.ID)...) {
		count[r.Rule]++
	}
	// Rule 0: capped at two for the referrer; rule 1: the first purchase of each referee;
	// rule 2: the purchases of at least 200.00.
	checkRead(t, "rewards by rule", map[int]int{0: 2, 1: 2, 2: 2}, count, nil)
	// A reversed reward does not count toward the cap.
	first := rewardsOf(t, s, w.mid.ID)
	var capped community.Reward
	for _, r := range first {
		if r.Rule == 0 {
			capped = r
		}
	}
	_, err := s.RefundPurchase(context.Background(), w.brand.ID, capped.PurchaseID, at(300))
	must(t, err)
	w.buy(t, s, w.other.ID, "e", 10_00, 301)
	count = map[int]int{}
	for _, r := range rewardsOf(t, s, w.mid.ID) {
		if r.Rule == 0 && r.Status == community.RewardPending {
			count[r.Rule]++
		}
	}
	checkRead(t, "pending rewards of the capped rule after a refund", map[int]int{0: 2}, count, nil)
}

// testPointsHistory checks that purchases, refunds, grants and clawbacks each leave an
// entry, newest first, paged.
func testPointsHistory(t *testing.T, s community.Store) {
	ctx := context.Background()
	w := newRewardWorld(t, s, rewardRules)
	p1 := w.buy(t, s, w.mid.ID, "mid-1", 120_00, 150)
	p2 := w.buy(t, s, w.buyer.ID, "buyer-1", 399_00, 200)
	grantAt := at(200 + day + 1)
	r := community.DerivedID(p2.ID, "reward", "0")
	_, ok, err := s.GrantReward(ctx, r, grantAt)
	must(t, err)
	if !ok {
		t.Fatal("the reward was not granted")
	}
	_, err = s.RefundPurchase(ctx, w.brand.ID, p1.ID, at(300+day))
	must(t, err)
	_, err = s.RefundPurchase(ctx, w.brand.ID, p2.ID, at(400+day))
	must(t, err)
	entry := func(reason community.PointsReason, of string, delta, balance int, purchase, reward string, when time.Time) community.PointsEntry {
		return community.PointsEntry{
			ID: community.PointsEntryID(reason, of), MemberID: w.mid.ID, BrandID: w.brand.ID, Reason: reason,
			Delta: delta, Balance: balance, PurchaseID: purchase, RewardID: reward, At: when,
		}
	}
	want := []community.PointsEntry{
		entry(community.PointsClawback, r, -500, 0, p2.ID, r, at(400+day)),
		entry(community.PointsRefund, p1.ID, -120, 500, p1.ID, "", at(300+day)),
		entry(community.PointsReward, r, 500, 620, p2.ID, r, grantAt),
		entry(community.PointsPurchase, p1.ID, 120, 120, p1.ID, "", p1.RecordedAt),
	}
	checkRead(t, "the referrer's points history", want, historyOf(t, s, w.mid.ID, w.brand.ID), nil)
	// Pages of two.
	var got []community.PointsEntry
	var after *community.Position
	for pages := 0; ; pages++ {
		ps, err := s.PointsPages(ctx, []community.PointsQuery{{MemberID: w.mid.ID, BrandID: w.brand.ID, First: 2, After: after}, {MemberID: w.root.ID, BrandID: w.brand.ID, First: 2}})
		must(t, err)
		if len(ps) != 2 || len(ps[1].Entries) != 0 {
			t.Fatalf("pages of two queries: %+v", ps)
		}
		got = append(got, ps[0].Entries...)
		if !ps[0].HasNextPage || pages > 3 {
			break
		}
		last := ps[0].Entries[len(ps[0].Entries)-1]
		after = &community.Position{Since: last.At, ID: last.ID}
	}
	checkRead(t, "the history page by page", want, got, nil)
	// Another brand's history of the same member is empty.
	other := createBrands(t, s, "li-auto")[0]
	checkRead(t, "history in another brand", []community.PointsEntry(nil), historyOf(t, s, w.mid.ID, other.ID), nil, cmpopts.EquateEmpty())
}

// testRewardReview checks that flagged rewards wait for review, and what decisions do.
func testRewardReview(t *testing.T, s community.Store, hooks RewardHooks) {
	ctx := context.Background()
	w := newRewardWorld(t, s, []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 50_00}})
	hooks.FlagReferral(t, s, w.buyer.ID, []community.ReferralFlag{community.FlagSharedDevice})
	hooks.FlagReferral(t, s, w.other.ID, []community.ReferralFlag{community.FlagBurst})
	a := w.buy(t, s, w.buyer.ID, "a", 100_00, 200)
	b := w.buy(t, s, w.other.ID, "b", 100_00, 201)
	ra, rb := community.DerivedID(a.ID, "reward", "0"), community.DerivedID(b.ID, "reward", "0")
	ids, err := s.DueRewards(ctx, at(2000), 10)
	checkRead(t, "due while flagged", []string{}, ids, err, cmpopts.EquateEmpty())
	queue, err := s.ReviewQueue(ctx, w.brand.ID, 10, nil)
	must(t, err)
	var queued []string
	for _, r := range queue.Rewards {
		queued = append(queued, r.ID)
	}
	checkRead(t, "the review queue, newest first", []string{rb, ra}, queued, nil)
	if got := queue.Rewards[1].Flags; !cmp.Equal(got, []community.ReferralFlag{community.FlagSharedDevice}) {
		t.Errorf("flags in the queue: %v", got)
	}
	page, err := s.ReviewQueue(ctx, w.brand.ID, 1, nil)
	must(t, err)
	if len(page.Rewards) != 1 || !page.HasNextPage {
		t.Errorf("a page of one: %d rewards, more %v", len(page.Rewards), page.HasNextPage)
	}

	approve := community.RewardReview{ReviewerID: w.root.ID, Decision: community.ReviewApprove, Note: "同一家庭，核实无误", At: at(300)}
	got, err := s.ReviewReward(ctx, ra, approve)
	must(t, err)
	if got.Status != community.RewardPending || !cmp.Equal(got.Reviews, []community.RewardReview{approve}) {
		t.Errorf("approved reward: %s, reviews %+v", got.Status, got.Reviews)
	}
	reject := community.RewardReview{ReviewerID: w.root.ID, Decision: community.ReviewReject, Note: "刷单", At: at(301)}
	got, err = s.ReviewReward(ctx, rb, reject)
	must(t, err)
	if got.Status != community.RewardRejected || !got.EndedAt.Equal(at(301)) {
		t.Errorf("rejected reward: %s ended %v", got.Status, got.EndedAt)
	}
	_, err = s.ReviewReward(ctx, rb, approve)
	wantCode(t, err, community.CodeConflict)
	_, err = s.ReviewReward(ctx, community.NewID(), approve)
	wantCode(t, err, community.CodeNotFound)
	queue, err = s.ReviewQueue(ctx, w.brand.ID, 10, nil)
	must(t, err)
	if len(queue.Rewards) != 0 {
		t.Errorf("queue after the decisions: %d rewards", len(queue.Rewards))
	}
	ids, err = s.DueRewards(ctx, at(2000), 10)
	checkRead(t, "due after the decisions", []string{ra}, ids, err)
	stored, err := s.RewardsByID(ctx, []string{ra, rb})
	must(t, err)
	if r := stored[ra]; !cmp.Equal(r.Reviews, []community.RewardReview{approve}) || !cmp.Equal(r.Flags, []community.ReferralFlag{community.FlagSharedDevice}) {
		t.Errorf("the approved reward keeps its flags and decision: %+v", r)
	}
	if r := stored[rb]; !cmp.Equal(r.Reviews, []community.RewardReview{reject}) {
		t.Errorf("the rejected reward keeps its decision: %+v", r)
	}
}

// testRewardInactive checks the inactivity flag: a referee who buys for the first time
// after InactiveDays, having done nothing else, earns flagged rewards; one whose earlier
// purchase fell inside the window does not.
func testRewardInactive(t *testing.T, s community.Store) {
	w := newRewardWorld(t, s, []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 50_00}})
	late := (community.InactiveDays + 1) * day
	w.buy(t, s, w.other.ID, "early", 10_00, 13*day)
	a := w.buy(t, s, w.buyer.ID, "late", 100_00, late)
	b := w.buy(t, s, w.other.ID, "later", 100_00, late)
	got, err := s.RewardsByID(context.Background(), []string{community.DerivedID(a.ID, "reward", "0"), community.DerivedID(b.ID, "reward", "0")})
	must(t, err)
	flags := map[string][]community.ReferralFlag{}
	for _, r := range got {
		flags[r.RefereeID] = r.Flags
	}
	checkRead(t, "flags", map[string][]community.ReferralFlag{w.buyer.ID: {community.FlagInactive}, w.other.ID: nil}, flags, nil)
}

// RewardJobInstances runs the reward job on two instances at once over one store, each
// with leases of its own making (two clients of one Redis, say), until every due reward is
// granted: each is granted once.
func RewardJobInstances(t *testing.T, s community.Store, leases func(t *testing.T) community.Leases) {
	w, ids := grantWorld(t, s, 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := func() time.Time { return at(2000) }
	var wg sync.WaitGroup
	for _, holder := range []string{"instance-a", "instance-b"} {
		g := community.NewRewardGrants(s, leases(t), community.RewardGrantsConfig{
			Holder: holder, Every: 5 * time.Millisecond, Batch: 4, Now: now, Logger: quiet,
		})
		wg.Go(func() { g.Run(ctx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := s.RewardsByID(ctx, ids)
		must(t, err)
		done := 0
		for _, r := range got {
			if r.Status == community.RewardGranted {
				done++
			}
		}
		if done == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d rewards granted after 20s", done, len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	checkGrantedOnce(t, s, w, ids)
}
