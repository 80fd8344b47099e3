package community

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRewardsFor(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	campaign := ReferralCampaign{
		ID: "c1", BrandID: "b1", StartsAt: t0.Add(-30 * day), EndsAt: t0.Add(30 * day),
		Rules: []ReferralRule{
			{Level: 1, Kind: RewardPoints, Value: 500_00, HoldDays: 7},
			{Level: 2, Kind: RewardPercent, Value: 2_50, MinAmount: 100_00},
		},
	}
	referral := Referral{MemberID: "buyer", ReferrerID: "ref1", CampaignID: "c1", At: t0.Add(-2 * day)}
	purchase := Purchase{ID: "p1", MemberID: "buyer", BrandID: "b1", Amount: 399_00, Currency: "CNY", At: t0, RecordedAt: t0.Add(time.Hour)}
	facts := func(change func(*RewardFacts)) RewardFacts {
		c, r := campaign, referral
		c.Rules = append([]ReferralRule(nil), campaign.Rules...)
		f := RewardFacts{Purchase: purchase, Referral: &r, Campaign: &c, Upline: []string{"ref1", "ref2"}, JoinedAt: t0.Add(-3 * day)}
		if change != nil {
			change(&f)
		}
		return f
	}
	level1 := Reward{
		ID: DerivedID("p1", "reward", "0"), CampaignID: "c1", BrandID: "b1", BeneficiaryID: "ref1", RefereeID: "buyer", PurchaseID: "p1",
		Rule: 0, Level: 1, Kind: RewardPoints, Points: 500, Status: RewardPending, CreatedAt: purchase.RecordedAt,
		GrantsAt: purchase.RecordedAt.Add(7 * day),
	}
	level2 := Reward{
		ID: DerivedID("p1", "reward", "1"), CampaignID: "c1", BrandID: "b1", BeneficiaryID: "ref2", RefereeID: "buyer", PurchaseID: "p1",
		Rule: 1, Level: 2, Kind: RewardPercent, Amount: 9_97, Currency: "CNY", Status: RewardPending, CreatedAt: purchase.RecordedAt,
		GrantsAt: purchase.RecordedAt,
	}
	with := func(r Reward, change func(*Reward)) Reward { change(&r); return r }
	tests := []struct {
		name string
		f    RewardFacts
		want []Reward
	}{
		{"both levels", facts(nil), []Reward{level1, level2}},
		{"not referred", facts(func(f *RewardFacts) { f.Referral, f.Campaign = nil, nil }), nil},
		{"another brand's campaign", facts(func(f *RewardFacts) { f.Campaign.BrandID = "b2" }), nil},
		{"campaign over when bought", facts(func(f *RewardFacts) { f.Campaign.EndsAt = t0.Add(-time.Minute) }), nil},
		{"campaign ended early", facts(func(f *RewardFacts) { f.Campaign.EndedAt = t0.Add(-time.Minute) }), nil},
		{"bought before the referral", facts(func(f *RewardFacts) { f.Referral.At = t0.Add(time.Minute) }), nil},
		{"refunded purchase", facts(func(f *RewardFacts) { f.Purchase.RefundedAt = t0 }), nil},
		{"no level 2 in the chain", facts(func(f *RewardFacts) { f.Upline = f.Upline[:1] }), []Reward{level1}},
		{"under the least amount", facts(func(f *RewardFacts) { f.Purchase.Amount = 99_99 }), []Reward{
			with(level1, func(r *Reward) {}),
		}},
		{"first purchase only, and not the first", facts(func(f *RewardFacts) {
			f.Campaign.Rules[0].FirstPurchaseOnly = true
			f.EarlierPurchases = 1
		}), []Reward{level2}},
		{"first purchase only, and the first", facts(func(f *RewardFacts) { f.Campaign.Rules[0].FirstPurchaseOnly = true }), []Reward{level1, level2}},
		{"cap reached", facts(func(f *RewardFacts) {
			f.Campaign.Rules[0].CapPerReferrer = 2
			f.Earned = map[RewardSlot]int{{"ref1", 0}: 2, {"ref2", 1}: 5}
		}), []Reward{level2}},
		{"cap not reached", facts(func(f *RewardFacts) {
			f.Campaign.Rules[0].CapPerReferrer = 3
			f.Earned = map[RewardSlot]int{{"ref1", 0}: 2}
		}), []Reward{level1, level2}},
		{"cap counts per rule", facts(func(f *RewardFacts) {
			f.Campaign.Rules[1].CapPerReferrer = 1
			f.Earned = map[RewardSlot]int{{"ref2", 0}: 4}
		}), []Reward{level1, level2}},
		{"amount in the purchase's currency", facts(func(f *RewardFacts) {
			f.Campaign.Rules[1] = ReferralRule{Level: 2, Kind: RewardAmount, Value: 20_00}
			f.Purchase.Currency = "HKD"
		}), []Reward{level1, with(level2, func(r *Reward) { r.Kind, r.Amount, r.Currency = RewardAmount, 20_00, "HKD" })}},
		{"a percentage worth nothing", facts(func(f *RewardFacts) {
			f.Campaign.Rules[1] = ReferralRule{Level: 2, Kind: RewardPercent, Value: 1}
			f.Purchase.Amount = 99
		}), []Reward{level1}},
		{"flags of the referral", facts(func(f *RewardFacts) { f.Referral.Flags = []ReferralFlag{FlagSharedDevice} }), []Reward{
			with(level1, func(r *Reward) { r.Flags = []ReferralFlag{FlagSharedDevice} }),
			with(level2, func(r *Reward) { r.Flags = []ReferralFlag{FlagSharedDevice} }),
		}},
		{"inactive: bought late, never acted", facts(func(f *RewardFacts) { f.JoinedAt = t0.Add(-20 * day) }), []Reward{
			with(level1, func(r *Reward) { r.Flags = []ReferralFlag{FlagInactive} }),
			with(level2, func(r *Reward) { r.Flags = []ReferralFlag{FlagInactive} }),
		}},
		{"inactive: acted after the window", facts(func(f *RewardFacts) {
			f.JoinedAt, f.FirstActAt = t0.Add(-20*day), t0.Add(-5*day)
			f.Referral.Flags = []ReferralFlag{FlagBurst}
		}), []Reward{
			with(level1, func(r *Reward) { r.Flags = []ReferralFlag{FlagBurst, FlagInactive} }),
			with(level2, func(r *Reward) { r.Flags = []ReferralFlag{FlagBurst, FlagInactive} }),
		}},
		{"active: acted inside the window", facts(func(f *RewardFacts) {
			f.JoinedAt, f.FirstActAt = t0.Add(-20*day), t0.Add(-19*day)
		}), []Reward{level1, level2}},
		{"active: the purchase is the act, on the window's last instant", facts(func(f *RewardFacts) {
			f.JoinedAt = t0.Add(-InactiveDays * day)
		}), []Reward{level1, level2}},
		{"no rule deeper than level 2", facts(func(f *RewardFacts) {
			f.Campaign.Rules = append(f.Campaign.Rules, ReferralRule{Level: 3, Kind: RewardPoints, Value: 100_00})
			f.Upline = []string{"ref1", "ref2", "ref3"}
		}), []Reward{level1, level2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RewardsFor(tc.f)); diff != "" {
				t.Errorf("rewards (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRewardGrantable(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	base := Reward{Status: RewardPending, GrantsAt: t0}
	approve := RewardReview{Decision: ReviewApprove}
	reject := RewardReview{Decision: ReviewReject}
	tests := []struct {
		name string
		r    Reward
		now  time.Time
		want bool
	}{
		{"due", base, t0, true},
		{"on hold", base, t0.Add(-time.Second), false},
		{"granted", Reward{Status: RewardGranted, GrantsAt: t0}, t0, false},
		{"reversed", Reward{Status: RewardReversed, GrantsAt: t0}, t0, false},
		{"flagged", Reward{Status: RewardPending, GrantsAt: t0, Flags: []ReferralFlag{FlagBurst}}, t0, false},
		{"flagged and approved", Reward{Status: RewardPending, GrantsAt: t0, Flags: []ReferralFlag{FlagBurst}, Reviews: []RewardReview{approve}}, t0, true},
		{"approved, then rejected", Reward{Status: RewardPending, GrantsAt: t0, Flags: []ReferralFlag{FlagBurst}, Reviews: []RewardReview{approve, reject}}, t0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.GrantableAt(tc.now); got != tc.want {
				t.Errorf("GrantableAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDerivedID(t *testing.T) {
	a, b := DerivedID("p1", "reward", "0"), DerivedID("p1", "reward", "1")
	if a == b || a != DerivedID("p1", "reward", "0") {
		t.Errorf("derived ids %q and %q: want stable and distinct", a, b)
	}
	if !validID(a) {
		t.Errorf("derived id %q is not in the shape of an id", a)
	}
	if DerivedID("p1r", "eward") == DerivedID("p1", "reward") {
		t.Error("parts run together")
	}
}
