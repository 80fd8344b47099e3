package community

import (
	"fmt"
	"testing"
	"time"
)

func TestCampaignBounds(t *testing.T) {
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	intp := func(n int) *int { return &n }
	strp := func(s string) *string { return &s }
	valid := func() CreateCampaignInput {
		return CreateCampaignInput{
			BrandID: NewID(), Name: "春季老带新", StartsAt: now, EndsAt: now.Add(30 * 24 * time.Hour),
			Rules: []ReferralRuleInput{{Level: 1, Kind: RewardPoints, Value: "500"}, {Level: 2, Kind: RewardPercent, Value: "2.5"}},
		}
	}
	c, err := valid().campaign(now)
	if err != nil {
		t.Fatal(err)
	}
	if c.RedeemWindowDays != DefaultRedeemWindowDays || c.Rules[0].Value != 500_00 || c.Rules[1].Value != 2_50 || c.Rules[0].CapPerReferrer != 0 {
		t.Errorf("campaign = %+v", c)
	}
	rule := func(edit func(r *ReferralRuleInput)) func(in *CreateCampaignInput) {
		return func(in *CreateCampaignInput) { edit(&in.Rules[0]) }
	}
	for _, tc := range []struct {
		name  string
		edit  func(in *CreateCampaignInput)
		field string
	}{
		{"no start", func(in *CreateCampaignInput) { in.StartsAt = time.Time{} }, "startsAt"},
		{"no end", func(in *CreateCampaignInput) { in.EndsAt = time.Time{} }, "endsAt"},
		{"runs too long", func(in *CreateCampaignInput) { in.EndsAt = in.StartsAt.Add((MaxCampaignDays + 1) * 24 * time.Hour) }, "endsAt"},
		{"redeem window too long", func(in *CreateCampaignInput) { in.RedeemWindowDays = intp(MaxRedeemWindowDays + 1) }, "redeemWindowDays"},
		{"unknown kind", rule(func(r *ReferralRuleInput) { r.Kind = "CASHBACK" }), "rules[0].kind"},
		{"points beyond the most a member holds", rule(func(r *ReferralRuleInput) { r.Value = fmt.Sprint(MaxPoints + 1) }), "rules[0].value"},
		{"an amount beyond the largest purchase", rule(func(r *ReferralRuleInput) {
			r.Kind, r.Value = RewardAmount, FormatAmount(MaxPurchaseAmount+1)
		}), "rules[0].value"},
		{"a value of three decimals", rule(func(r *ReferralRuleInput) { r.Kind, r.Value = RewardPercent, "1.005" }), "rules[0].value"},
		{"a value that is no number", rule(func(r *ReferralRuleInput) { r.Value = "五百" }), "rules[0].value"},
		{"a least amount beyond the largest purchase", rule(func(r *ReferralRuleInput) { r.MinAmount = strp(FormatAmount(MaxPurchaseAmount + 1)) }), "rules[0].minAmount"},
		{"a hold too long", rule(func(r *ReferralRuleInput) { r.HoldDays = intp(MaxHoldDays + 1) }), "rules[0].holdDays"},
		{"a cap of 0", rule(func(r *ReferralRuleInput) { r.CapPerReferrer = intp(0) }), "rules[0].capPerReferrer"},
		{"a cap too high", rule(func(r *ReferralRuleInput) { r.CapPerReferrer = intp(MaxCapPerReferrer + 1) }), "rules[0].capPerReferrer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			_, err := in.campaign(now)
			e, ok := err.(*Error)
			if !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Errorf("error = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}

func TestCampaignStatus(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	c := ReferralCampaign{StartsAt: start, EndsAt: start.Add(24 * time.Hour)}
	for _, tc := range []struct {
		name    string
		now     time.Time
		endedAt time.Time
		want    CampaignStatus
	}{
		{"before the start", start.Add(-time.Second), time.Time{}, CampaignScheduled},
		{"at the start", start, time.Time{}, CampaignActive},
		{"at the end", start.Add(24 * time.Hour), time.Time{}, CampaignEnded},
		{"ended early", start.Add(time.Hour), start.Add(time.Minute), CampaignEnded},
		{"ended before it started", start.Add(-time.Hour), start.Add(-2 * time.Hour), CampaignEnded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.EndedAt = tc.endedAt
			if got := c.StatusAt(tc.now); got != tc.want {
				t.Errorf("StatusAt = %s, want %s", got, tc.want)
			}
		})
	}
}
