package embedded_test

import (
	"context"
	"path/filepath"
	"testing"

	"quanzi/community"
)

// TestReopenCampaigns checks that campaigns, ended ones included, are there, the same and
// in the same order, after the file is reopened, and that a taken id stays taken.
func TestReopenCampaigns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	bs := brands(t, s, "nio", "xpeng")
	var ids []string
	for i, minute := range []int{1, 2, 2, 5} {
		c := community.ReferralCampaign{
			ID: community.NewID(), BrandID: bs[i%2].ID, Name: "活动", StartsAt: at(10), EndsAt: at(1000), RedeemWindowDays: 7 + i,
			CreatedAt: at(minute), Rules: []community.ReferralRule{{Level: 1 + i%2, Kind: community.RewardPoints, Value: 100_00, HoldDays: i}},
		}
		must(t, s.CreateReferralCampaign(ctx, c))
		ids = append(ids, c.ID)
	}
	_, err := s.EndReferralCampaign(ctx, ids[2], at(20))
	must(t, err)
	snapshot := func() (map[string]community.ReferralCampaign, []community.CampaignPage) {
		t.Helper()
		byID, err := s.ReferralCampaignsByID(ctx, ids)
		must(t, err)
		var pages []community.CampaignPage
		for _, b := range bs {
			page, err := s.ReferralCampaigns(ctx, b.ID, 10, nil)
			must(t, err)
			pages = append(pages, page)
		}
		return byID, pages
	}
	beforeByID, beforePages := snapshot()
	if len(beforeByID) != 4 || beforeByID[ids[2]].EndedAt.IsZero() || beforePages[0].TotalCount != 2 {
		t.Fatalf("the campaigns lack something to compare: %+v", beforePages)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	afterByID, afterPages := snapshot()
	diff(t, "campaigns after reopening", beforeByID, afterByID)
	diff(t, "campaign lists after reopening", beforePages, afterPages)
	wantCode(t, s.CreateReferralCampaign(ctx, community.ReferralCampaign{ID: ids[0], BrandID: bs[0].ID, CreatedAt: at(30)}), community.CodeConflict)
}
