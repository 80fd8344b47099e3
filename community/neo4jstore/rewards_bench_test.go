package neo4jstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"quanzi/community"
)

// BenchmarkRecordPurchaseRewarded records purchases of a referee two levels down a chain,
// without a reward rule (none) and with the campaign's (rewarded: a reward of each level,
// in the same transaction), and grants rewards one by one (grant).
func BenchmarkRecordPurchaseRewarded(b *testing.B) {
	cfg := testConfig(b)
	s := openEmpty(b, cfg)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour)
	brand := community.Brand{ID: community.NewID(), Slug: "bench", Name: "b", Tiers: community.DefaultTiers, CreatedAt: t0}
	if err := s.CreateBrand(ctx, brand); err != nil {
		b.Fatal(err)
	}
	var ms []community.Member
	for i := range 3 {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("bench_%d", i), DisplayName: "x", JoinedAt: t0}
		if err := s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: m.Handle, LinkedAt: t0}); err != nil {
			b.Fatal(err)
		}
		if err := s.JoinBrand(ctx, m.ID, brand.ID, t0); err != nil {
			b.Fatal(err)
		}
		ms = append(ms, m)
	}
	c := community.ReferralCampaign{ID: community.NewID(), BrandID: brand.ID, Name: "c", StartsAt: t0, EndsAt: t0.Add(48 * time.Hour), RedeemWindowDays: 7, CreatedAt: t0,
		Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 500_00}, {Level: 2, Kind: community.RewardAmount, Value: 10_00}}}
	if err := s.CreateReferralCampaign(ctx, c); err != nil {
		b.Fatal(err)
	}
	for i := 1; i < 3; i++ {
		inv := community.Invite{Code: fmt.Sprintf("BENCHCODE%d", i), CampaignID: c.ID, MemberID: ms[i-1].ID, Channel: community.ShareWeChat, ExpiresAt: c.EndsAt, CreatedAt: t0}
		if _, _, err := s.CreateInvite(ctx, inv, t0); err != nil {
			b.Fatal(err)
		}
		if _, err := s.RedeemInvite(ctx, community.Redemption{MemberID: ms[i].ID, Code: inv.Code, At: t0.Add(time.Minute)}, community.CheckRedemption); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		rule community.RewardRule
	}{{"none", nil}, {"rewarded", community.RewardsFor}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := range b.N {
				p := community.Purchase{ID: community.NewID(), MemberID: ms[2].ID, BrandID: brand.ID, Amount: 100_00, Currency: "CNY",
					ExternalID: fmt.Sprintf("%s-%d-%d", tc.name, b.N, i), At: t0.Add(10 * time.Minute), RecordedAt: t0.Add(10 * time.Minute)}
				if _, err := s.RecordPurchase(ctx, p, tc.rule); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("grant", func(b *testing.B) {
		b.StopTimer()
		for i := range b.N {
			p := community.Purchase{ID: community.NewID(), MemberID: ms[2].ID, BrandID: brand.ID, Amount: 100_00, Currency: "CNY",
				ExternalID: fmt.Sprintf("grant-%d-%d", b.N, i), At: t0.Add(10 * time.Minute), RecordedAt: t0.Add(10 * time.Minute)}
			if _, err := s.RecordPurchase(ctx, p, community.RewardsFor); err != nil {
				b.Fatal(err)
			}
		}
		ids, err := s.DueRewards(ctx, time.Now(), b.N)
		if err != nil || len(ids) < b.N {
			b.Fatalf("%d due rewards for %d grants: %v", len(ids), b.N, err)
		}
		b.StartTimer()
		for _, id := range ids {
			if _, ok, err := s.GrantReward(ctx, id, time.Now()); err != nil || !ok {
				b.Fatalf("grant %s: %v %v", id, ok, err)
			}
		}
	})
}
