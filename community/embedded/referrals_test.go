package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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

// TestReopenFraudSignals checks that referrals' flags and members' device hashes are the
// same after the file is reopened, through a profile update in between, and that a burst
// is counted over the referrals read from the file.
func TestReopenFraudSignals(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	ms := members(t, s, 4)
	b := brands(t, s, "byd")
	c := community.ReferralCampaign{ID: community.NewID(), BrandID: b[0].ID, Name: "裂变", StartsAt: at(10), EndsAt: at(10000), RedeemWindowDays: 7,
		CreatedAt: at(1), Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}}}
	must(t, s.CreateReferralCampaign(ctx, c))
	inv := community.Invite{Code: "ABCDEFGHJK", CampaignID: c.ID, MemberID: ms[0], Channel: community.ShareWeChat, ExpiresAt: c.EndsAt, CreatedAt: at(2)}
	_, _, err := s.CreateInvite(ctx, inv, at(2))
	must(t, err)
	phone := community.HashDevice([]byte("key"), "li-hua-phone")
	must(t, s.SeenOnDevice(ctx, ms[0], phone))
	rule := community.BurstRule{Limit: 2, Window: 10 * time.Minute}
	redeem := func(memberID string, minute int, device string) community.Referral {
		t.Helper()
		r := community.Redemption{MemberID: memberID, Code: inv.Code, At: at(minute), Device: device, Burst: rule}
		ref, err := s.RedeemInvite(ctx, r, community.CheckRedemption)
		must(t, err)
		return ref
	}
	redeem(ms[1], 20, phone)
	redeem(ms[2], 21, "")
	// A member's record rewritten for another reason keeps its devices.
	bio := "刚提车"
	_, err = s.UpdateMember(ctx, ms[1], community.UpdateProfileInput{Bio: &bio})
	must(t, err)
	snapshot := func() (map[string]community.Referral, map[string][]string) {
		t.Helper()
		refs, err := s.ReferralsOf(ctx, ms)
		must(t, err)
		devices, err := s.DevicesOf(ctx, ms)
		must(t, err)
		return refs, devices
	}
	beforeRefs, beforeDevices := snapshot()
	if len(beforeRefs[ms[1]].Flags) != 1 || len(beforeDevices[ms[1]]) != 1 {
		t.Fatalf("the referrals lack something to compare: %+v, %+v", beforeRefs, beforeDevices)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	afterRefs, afterDevices := snapshot()
	diff(t, "referrals after reopening", beforeRefs, afterRefs)
	diff(t, "devices after reopening", beforeDevices, afterDevices)
	// Two referrals within ten minutes before it: the third is a burst.
	diff(t, "the third referral's flags", []community.ReferralFlag{community.FlagBurst}, redeem(ms[3], 22, "").Flags)
}
