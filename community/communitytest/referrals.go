package communitytest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

func testReferralStore(t *testing.T, newStore NewStore) {
	t.Run("Campaigns", func(t *testing.T) { testCampaigns(t, newStore(t)) })
	t.Run("CampaignPages", func(t *testing.T) { testCampaignPages(t, newStore(t)) })
	t.Run("Invites", func(t *testing.T) { testInvites(t, newStore(t)) })
	t.Run("ConcurrentInvites", func(t *testing.T) { testConcurrentInvites(t, newStore(t)) })
}

// newCampaign is a campaign of a brand, created at minute n of the suite's clock.
func newCampaign(brandID, name string, n int) community.ReferralCampaign {
	return community.ReferralCampaign{
		ID: community.NewID(), BrandID: brandID, Name: name, StartsAt: at(n + 60), EndsAt: at(n + 60*24*30),
		RedeemWindowDays: 7, CreatedAt: at(n),
		Rules: []community.ReferralRule{
			{Level: 1, Kind: community.RewardPoints, Value: 500_00, FirstPurchaseOnly: true, MinAmount: 99_00, HoldDays: 14, CapPerReferrer: 20},
			{Level: 2, Kind: community.RewardPercent, Value: 2_50, HoldDays: 14},
			{Level: 1, Kind: community.RewardAmount, Value: 10_00},
		},
	}
}

func checkCampaigns(t *testing.T, s community.Store, ids []string, want map[string]community.ReferralCampaign) {
	t.Helper()
	got, err := s.ReferralCampaignsByID(context.Background(), ids)
	checkRead(t, "ReferralCampaignsByID", want, got, err)
}

func testCampaigns(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio", "li-auto")
	spring := newCampaign(bs[0].ID, "春季老带新", 0)
	summer := newCampaign(bs[0].ID, "夏日裂变", 5)
	summer.Rules = summer.Rules[:1]
	summer.RedeemWindowDays = 30
	must(t, s.CreateReferralCampaign(ctx, spring))
	must(t, s.CreateReferralCampaign(ctx, summer))
	stored := map[string]community.ReferralCampaign{spring.ID: spring, summer.ID: summer}
	checkCampaigns(t, s, []string{spring.ID, community.NewID(), summer.ID}, stored)
	got, err := s.ReferralCampaignsByID(ctx, nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ReferralCampaignsByID of no ids = %v", got)
	}

	t.Run("refused create stores nothing", func(t *testing.T) {
		unknownBrand := newCampaign(community.NewID(), "无主活动", 10)
		idTaken := newCampaign(bs[1].ID, "抢号", 10)
		idTaken.ID = spring.ID
		cases := []struct {
			name     string
			campaign community.ReferralCampaign
			code     community.Code
		}{
			{"unknown brand", unknownBrand, community.CodeNotFound},
			{"id taken", idTaken, community.CodeConflict},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.CreateReferralCampaign(ctx, tc.campaign), tc.code)
				checkCampaigns(t, s, []string{spring.ID, summer.ID, unknownBrand.ID}, stored)
				page, err := s.ReferralCampaigns(ctx, tc.campaign.BrandID, 10, nil)
				must(t, err)
				if len(page.Campaigns) != 0 || page.TotalCount != 0 {
					t.Errorf("a refused campaign is listed: %+v", page)
				}
			})
		}
	})

	t.Run("end", func(t *testing.T) {
		ended, err := s.EndReferralCampaign(ctx, spring.ID, at(100))
		want := spring
		want.EndedAt = at(100)
		checkRead(t, "EndReferralCampaign", want, ended, err)
		again, err := s.EndReferralCampaign(ctx, spring.ID, at(200))
		checkRead(t, "EndReferralCampaign again keeps the first end", want, again, err)
		stored[spring.ID] = want
		checkCampaigns(t, s, []string{spring.ID, summer.ID}, stored)

		_, err = s.EndReferralCampaign(ctx, community.NewID(), at(100))
		wantCode(t, err, community.CodeNotFound)
		checkCampaigns(t, s, []string{spring.ID, summer.ID}, stored)

		// An ended campaign stays listed, with its end time.
		page, err := s.ReferralCampaigns(ctx, bs[0].ID, 10, nil)
		checkRead(t, "ReferralCampaigns after an end",
			community.CampaignPage{Campaigns: []community.ReferralCampaign{summer, want}, TotalCount: 2}, page, err)
	})
}

func testCampaignPages(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "byd-auto", "xpeng", "empty")
	ids := ordered()
	// Seven campaigns of one brand: three created at one time (ordered by id), the rest
	// apart; and two of another brand created in between, which its list must not show.
	var all []community.ReferralCampaign
	for i, minute := range []int{1, 5, 5, 5, 9, 12, 30} {
		c := newCampaign(bs[0].ID, fmt.Sprintf("活动 %d", i), minute)
		c.ID = ids()
		must(t, s.CreateReferralCampaign(ctx, c))
		all = append(all, c)
		if i == 2 || i == 5 {
			other := newCampaign(bs[1].ID, fmt.Sprintf("别家 %d", i), minute)
			must(t, s.CreateReferralCampaign(ctx, other))
		}
	}
	if _, err := s.EndReferralCampaign(ctx, all[3].ID, at(40)); err != nil {
		t.Fatal(err)
	}
	all[3].EndedAt = at(40)
	// List order: newest first, then by id.
	want := []community.ReferralCampaign{all[6], all[5], all[4], all[1], all[2], all[3], all[0]}

	for _, first := range []int{1, 2, 3, 7, 10} {
		t.Run(fmt.Sprintf("pages of %d", first), func(t *testing.T) {
			var got []community.ReferralCampaign
			var after *community.Position
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("more than %d pages", len(want))
				}
				page, err := s.ReferralCampaigns(ctx, bs[0].ID, first, after)
				must(t, err)
				if page.TotalCount != len(want) {
					t.Errorf("TotalCount = %d, want %d", page.TotalCount, len(want))
				}
				if len(page.Campaigns) > first {
					t.Fatalf("a page of %d holds %d campaigns", first, len(page.Campaigns))
				}
				got = append(got, page.Campaigns...)
				if !page.HasNextPage {
					break
				}
				last := page.Campaigns[len(page.Campaigns)-1]
				after = &community.Position{Since: last.CreatedAt, ID: last.ID}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("campaigns page by page (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("after a position", func(t *testing.T) {
		cases := []struct {
			name  string
			after community.Position
			want  []community.ReferralCampaign
		}{
			{"between two at one time", community.Position{Since: all[1].CreatedAt, ID: all[1].ID}, want[4:]},
			{"a time no campaign has", community.Position{Since: at(10), ID: ""}, want[2:]},
			{"after the last", community.Position{Since: all[0].CreatedAt, ID: all[0].ID}, nil},
			{"before the first", community.Position{Since: at(60), ID: ""}, want},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				after := tc.after
				page, err := s.ReferralCampaigns(ctx, bs[0].ID, 10, &after)
				must(t, err)
				if diff := cmp.Diff(tc.want, page.Campaigns, equateEmpty); diff != "" {
					t.Errorf("campaigns (-want +got):\n%s", diff)
				}
				if page.HasNextPage {
					t.Error("HasNextPage on the last page")
				}
			})
		}
	})

	t.Run("other brands", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			brandID string
			count   int
		}{
			{"another brand", bs[1].ID, 2},
			{"a brand without campaigns", bs[2].ID, 0},
			{"an unknown brand", community.NewID(), 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.ReferralCampaigns(ctx, tc.brandID, 10, nil)
				must(t, err)
				if len(page.Campaigns) != tc.count || page.TotalCount != tc.count || page.HasNextPage {
					t.Errorf("page = %d campaigns, total %d, next %v; want %d", len(page.Campaigns), page.TotalCount, page.HasNextPage, tc.count)
				}
				for _, c := range page.Campaigns {
					if c.BrandID != tc.brandID {
						t.Errorf("campaign %q of brand %q listed for %q", c.Name, c.BrandID, tc.brandID)
					}
				}
			})
		}
	})

	t.Run("first 0", func(t *testing.T) {
		page, err := s.ReferralCampaigns(ctx, bs[0].ID, 0, nil)
		must(t, err)
		if len(page.Campaigns) != 0 || !page.HasNextPage || page.TotalCount != len(want) {
			t.Errorf("first 0 = %+v", page)
		}
	})
}

// newInvite is an invite of a member for a campaign, made at minute n, with a code that
// no other test uses.
func newInvite(memberID string, c community.ReferralCampaign, n int) community.Invite {
	return community.Invite{
		Code: strings.ToUpper(strings.ReplaceAll(community.NewID(), "-", "")[20:30]), CampaignID: c.ID, MemberID: memberID,
		Channel: community.ShareWeChat, MaxUses: 10, ExpiresAt: c.EndsAt, CreatedAt: at(n),
	}
}

func testInvites(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "nio")
	ms := create(t, s, "li_hua", "wang_fang")
	spring := newCampaign(bs[0].ID, "春季老带新", 0)
	summer := newCampaign(bs[0].ID, "夏日裂变", 1)
	must(t, s.CreateReferralCampaign(ctx, spring))
	must(t, s.CreateReferralCampaign(ctx, summer))

	first := newInvite(ms[0].ID, spring, 2)
	got, created, err := s.CreateInvite(ctx, first, at(2))
	checkRead(t, "CreateInvite", first, got, err)
	if !created {
		t.Error("a member's first invite was not created")
	}
	byCode, err := s.InviteByCode(ctx, first.Code)
	checkRead(t, "InviteByCode", first, byCode, err)

	// Asked again, for any channel or limit, the live invite is the answer.
	again := newInvite(ms[0].ID, spring, 3)
	again.Channel, again.MaxUses = community.ShareMoments, 0
	got, created, err = s.CreateInvite(ctx, again, at(3))
	checkRead(t, "CreateInvite again", first, got, err)
	if created {
		t.Error("a second live invite was created")
	}
	_, err = s.InviteByCode(ctx, again.Code)
	wantCode(t, err, community.CodeNotFound)

	// Another campaign, another member: invites of their own.
	for _, inv := range []community.Invite{newInvite(ms[0].ID, summer, 4), newInvite(ms[1].ID, spring, 4)} {
		got, created, err := s.CreateInvite(ctx, inv, at(4))
		checkRead(t, "CreateInvite of another campaign or member", inv, got, err)
		if !created {
			t.Errorf("invite %+v was not created", inv)
		}
	}

	t.Run("refused", func(t *testing.T) {
		taken := newInvite(ms[1].ID, summer, 5)
		taken.Code = first.Code
		unknownMember := newInvite(community.NewID(), summer, 5)
		unknownCampaign := newInvite(ms[1].ID, newCampaign(bs[0].ID, "无", 5), 5)
		for _, tc := range []struct {
			name string
			inv  community.Invite
			code community.Code
		}{
			{"code taken", taken, community.CodeConflict},
			{"unknown member", unknownMember, community.CodeNotFound},
			{"unknown campaign", unknownCampaign, community.CodeNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.CreateInvite(ctx, tc.inv, at(5))
				wantCode(t, err, tc.code)
				byCode, err := s.InviteByCode(ctx, first.Code)
				checkRead(t, "the code's invite after a refused create", first, byCode, err)
			})
		}
		// The member whose create was refused for a taken code has no invite yet.
		fresh := newInvite(ms[1].ID, summer, 6)
		got, created, err := s.CreateInvite(ctx, fresh, at(6))
		checkRead(t, "CreateInvite after a refused one", fresh, got, err)
		if !created {
			t.Error("the invite was not created")
		}
	})

	t.Run("after expiry a new one", func(t *testing.T) {
		later := newInvite(ms[0].ID, spring, 2)
		later.ExpiresAt = spring.EndsAt.Add(24 * time.Hour)
		got, created, err := s.CreateInvite(ctx, later, spring.EndsAt)
		checkRead(t, "CreateInvite once the first expired", later, got, err)
		if !created {
			t.Error("no new invite once the first expired")
		}
		old, err := s.InviteByCode(ctx, first.Code)
		checkRead(t, "the expired invite", first, old, err)
	})
}

// testConcurrentInvites asks for one member's invite of one campaign many times at once:
// one invite is made, and every call returns it.
func testConcurrentInvites(t *testing.T, s community.Store) {
	ctx := context.Background()
	bs := createBrands(t, s, "xpeng")
	ms := create(t, s, "zhao_lei")
	c := newCampaign(bs[0].ID, "并发", 0)
	must(t, s.CreateReferralCampaign(ctx, c))
	const n = 8
	codes := make([]string, n)
	made := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inv community.Invite
			inv, made[i], errs[i] = s.CreateInvite(ctx, newInvite(ms[0].ID, c, 1), at(1))
			codes[i] = inv.Code
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		must(t, errs[i])
		if made[i] {
			created++
		}
		if codes[i] != codes[0] {
			t.Errorf("call %d returned code %s, call 0 %s", i, codes[i], codes[0])
		}
	}
	if created != 1 {
		t.Errorf("%d calls created an invite, want 1", created)
	}
}
