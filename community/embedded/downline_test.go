package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"quanzi/community"
)

// TestReopenDownlines checks that the downline figures and level lists, which the store
// keeps in memory only, are derived again from the file as they were kept: after
// redemptions written out of time order, a member referred when it had a downline of its
// own, a chain deeper than the levels counted, and purchases bought and refunded.
func TestReopenDownlines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	b := brands(t, s, "byd")[0]
	c := community.ReferralCampaign{
		ID: community.NewID(), BrandID: b.ID, Name: "老带新", StartsAt: at(0), EndsAt: at(100_000), RedeemWindowDays: 30,
		CreatedAt: at(0), Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}},
	}
	must(t, s.CreateReferralCampaign(ctx, c))
	ids := members(t, s, 16)
	codes := map[string]string{}
	referAt := func(referee, referrer string, minute int) {
		t.Helper()
		if codes[referrer] == "" {
			inv, _, err := s.CreateInvite(ctx, community.Invite{Code: community.NewID()[24:], CampaignID: c.ID, MemberID: referrer,
				Channel: community.ShareWeChat, ExpiresAt: c.EndsAt, CreatedAt: at(1)}, at(1))
			must(t, err)
			codes[referrer] = inv.Code
		}
		_, err := s.RedeemInvite(ctx, community.Redemption{MemberID: referee, Code: codes[referrer], At: at(minute)}, community.CheckRedemption)
		must(t, err)
	}
	// ids[3] brings in ids[4] and ids[5] before ids[0] ← ids[1] ← ids[3]; ids[0] ← ids[2];
	// then a chain ids[5] ← ids[6] ← … ← ids[15], down to thirteen levels below ids[0].
	referAt(ids[4], ids[3], 50)
	referAt(ids[5], ids[3], 40)
	referAt(ids[1], ids[0], 30)
	referAt(ids[3], ids[1], 60)
	referAt(ids[2], ids[0], 30)
	for i := 6; i < len(ids); i++ {
		referAt(ids[i], ids[i-1], 100+i)
	}
	buy := func(member string, n int) community.Purchase {
		t.Helper()
		p, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: member, BrandID: b.ID, Amount: 10_00,
			Currency: "CNY", ExternalID: fmt.Sprintf("reopen-%d", n), At: at(200 + n), RecordedAt: at(200 + n)}, nil)
		must(t, err)
		return p
	}
	buy(ids[4], 1)
	buy(ids[15], 2)
	refunded := buy(ids[2], 3)
	_, err := s.RefundPurchase(ctx, b.ID, refunded.ID, at(300))
	must(t, err)
	snapshot := func() (map[string]community.ReferralStats, [][]community.DownlinePage) {
		t.Helper()
		stats, err := s.ReferralStatsOf(ctx, ids)
		must(t, err)
		reqs := make([]community.ListRequest, len(ids))
		for i, id := range ids {
			reqs[i] = community.ListRequest{MemberID: id}
		}
		var pages [][]community.DownlinePage
		for level := 1; level <= community.DownlineLevels; level++ {
			p, err := s.DownlinePages(ctx, level, community.MaxPageSize, reqs)
			must(t, err)
			pages = append(pages, p)
		}
		return stats, pages
	}
	beforeStats, beforePages := snapshot()
	if st := beforeStats[ids[0]]; st.Total != len(ids)-1 || st.Deepest != 13 || st.Converted != 2 || len(beforePages[0][0].Edges) != 2 {
		t.Fatalf("the downlines lack something to compare: %+v", st)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	afterStats, afterPages := snapshot()
	diff(t, "figures after reopening", beforeStats, afterStats)
	diff(t, "levels after reopening", beforePages, afterPages)
}
