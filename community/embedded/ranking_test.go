package embedded_test

import (
	"context"
	"path/filepath"
	"testing"

	"quanzi/community"
)

// TestReopenRankings checks that the ranking index is rebuilt from the file: rankings and
// paths read the same after the file is reopened, and a referral written after reopening
// joins them in time order.
func TestReopenRankings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	b := brands(t, s, "byd")[0]
	c := community.ReferralCampaign{
		ID: community.NewID(), BrandID: b.ID, Name: "老带新", StartsAt: at(0), EndsAt: at(100_000), RedeemWindowDays: 30,
		CreatedAt: at(0), Rules: []community.ReferralRule{{Level: 1, Kind: community.RewardPoints, Value: 100_00}},
	}
	must(t, s.CreateReferralCampaign(ctx, c))
	ids := members(t, s, 6)
	referAt := func(referee, referrer string, minute int) {
		t.Helper()
		inv, _, err := s.CreateInvite(ctx, community.Invite{Code: community.NewID()[24:], CampaignID: c.ID, MemberID: referrer,
			Channel: community.ShareWeChat, ExpiresAt: c.EndsAt, CreatedAt: at(1)}, at(1))
		must(t, err)
		_, err = s.RedeemInvite(ctx, community.Redemption{MemberID: referee, Code: inv.Code, At: at(minute)}, community.CheckRedemption)
		must(t, err)
	}
	// ids[0] ← ids[1] ← ids[2] ← ids[3]; ids[0] ← ids[4], written out of time order.
	referAt(ids[1], ids[0], 30)
	referAt(ids[4], ids[0], 10)
	referAt(ids[2], ids[1], 20)
	referAt(ids[3], ids[2], 40)
	snapshot := func() (map[community.ReferrerRanking][]community.ReferrerCount, []string) {
		t.Helper()
		out := map[community.ReferrerRanking][]community.ReferrerCount{}
		for _, by := range community.ReferrerRankings {
			got, err := s.TopReferrers(ctx, community.ReferrerQuery{BrandID: b.ID, By: by, First: 10, From: at(15), To: at(40)})
			must(t, err)
			out[by] = got
		}
		p, err := s.ReferralPath(ctx, ids[0], ids[3])
		must(t, err)
		return out, p
	}
	before, path1 := snapshot()
	if len(before[community.RankTotal]) != 2 || len(path1) != 4 {
		t.Fatalf("the rankings lack something to compare: %+v %v", before, path1)
	}
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	after, path2 := snapshot()
	diff(t, "rankings after reopening", before, after)
	diff(t, "path after reopening", path1, path2)

	referAt(ids[5], ids[3], 25)
	got, err := s.TopReferrers(ctx, community.ReferrerQuery{BrandID: b.ID, By: community.RankTotal, First: 10, From: at(15), To: at(40)})
	must(t, err)
	want := []community.ReferrerCount{{MemberID: ids[0], Count: 3}, {MemberID: ids[1], Count: 2}, {MemberID: ids[2], Count: 1}, {MemberID: ids[3], Count: 1}}
	if ids[3] < ids[2] {
		want[2], want[3] = want[3], want[2]
	}
	diff(t, "the whole downline in the window, after a new referral", want, got)
}
