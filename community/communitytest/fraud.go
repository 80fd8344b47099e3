package communitytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

func testFraudSignals(t *testing.T, newStore NewStore) {
	t.Run("Devices", func(t *testing.T) { testDevices(t, newStore(t)) })
	t.Run("SharedDevice", func(t *testing.T) { testSharedDevice(t, newStore(t)) })
	t.Run("Burst", func(t *testing.T) { testBurst(t, newStore(t)) })
	t.Run("DefaultBurst", func(t *testing.T) { testDefaultBurst(t, newStore(t)) })
	t.Run("DevicesThroughTheService", func(t *testing.T) { testServiceDevices(t, newStore(t)) })
}

// deviceHash is a stand-in for a keyed hash, for the store-level cases.
func deviceHash(name string) string { return community.HashDevice([]byte("contract suite"), name) }

func checkDevices(t *testing.T, s community.Store, ids []string, want map[string][]string) {
	t.Helper()
	got, err := s.DevicesOf(context.Background(), ids)
	checkRead(t, "DevicesOf", want, got, err)
}

// testDevices keeps device hashes on members: most recent first, a few at most.
func testDevices(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "li_hua", "wang_fang")
	checkDevices(t, s, []string{ms[0].ID, ms[1].ID}, map[string][]string{})
	var want []string
	for i := range community.MaxDevicesKept + 2 {
		h := deviceHash(fmt.Sprintf("phone-%d", i))
		must(t, s.SeenOnDevice(ctx, ms[0].ID, h))
		want = append([]string{h}, want...)
	}
	want = want[:community.MaxDevicesKept]
	checkDevices(t, s, []string{ms[0].ID, ms[1].ID, community.NewID()}, map[string][]string{ms[0].ID: want})

	// One seen again moves first, and nothing is dropped.
	again := want[3]
	must(t, s.SeenOnDevice(ctx, ms[0].ID, again))
	want = append([]string{again}, slices.Delete(slices.Clone(want), 3, 4)...)
	checkDevices(t, s, []string{ms[0].ID}, map[string][]string{ms[0].ID: want})

	wantCode(t, s.SeenOnDevice(ctx, community.NewID(), deviceHash("x")), community.CodeNotFound)
	checkDevices(t, s, []string{ms[0].ID, ms[1].ID}, map[string][]string{ms[0].ID: want})

	// A member is stored with the devices it registered on, in the same transaction:
	// distinct, most recent first.
	phone, tablet := deviceHash("zhang-phone"), deviceHash("zhang-tablet")
	zhang := newMember("zhang_wei")
	must(t, s.CreateMember(ctx, zhang, wechat("openid-zhang_wei"), phone, tablet, phone))
	checkDevices(t, s, []string{zhang.ID}, map[string][]string{zhang.ID: {phone, tablet}})
	// A member that could not be stored keeps nothing.
	taken := newMember("zhang_wei")
	wantCode(t, s.CreateMember(ctx, taken, wechat("openid-other"), phone), community.CodeConflict)
	checkDevices(t, s, []string{taken.ID}, map[string][]string{})
}

// redeemOn redeems code for a member at minute n on a device hash ("" for none).
func redeemOn(s community.Store, memberID, code string, n int, device string) (community.Referral, error) {
	r := community.Redemption{MemberID: memberID, Code: code, At: at(n), Device: device}
	return s.RedeemInvite(context.Background(), r, community.CheckRedemption)
}

// testSharedDevice flags a referral whose referee was seen on a device of the referrer's,
// and keeps the redemption's device on the referee.
func testSharedDevice(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "li_hua", "wang_fang", "zhang_wei", "chen_jing", "liu_yang")
	lihua, wang, zhang, chen, liu := ms[0], ms[1], ms[2], ms[3], ms[4]
	c := liveCampaign(t, s, "同设备")
	phone, tablet, other := deviceHash("li-hua-phone"), deviceHash("li-hua-tablet"), deviceHash("someone-else")
	must(t, s.SeenOnDevice(ctx, lihua.ID, phone))
	must(t, s.SeenOnDevice(ctx, lihua.ID, tablet))
	inv := storedInvite(t, s, lihua.ID, c, 0)
	code := inv.Code

	// wang_fang redeems on li_hua's phone: flagged, and redeemed all the same.
	got, err := redeemOn(s, wang.ID, code, 100, phone)
	want := community.Referral{MemberID: wang.ID, ReferrerID: lihua.ID, Code: code, CampaignID: c.ID, Channel: inv.Channel,
		At: at(100), Flags: []community.ReferralFlag{community.FlagSharedDevice}}
	checkRead(t, "RedeemInvite on the referrer's device", want, got, err)
	referrals := map[string]community.Referral{wang.ID: want}

	// zhang_wei redeems on a device of his own: not flagged.
	got, err = redeemOn(s, zhang.ID, code, 101, other)
	must(t, err)
	if got.Flags != nil {
		t.Errorf("a redemption on another device is flagged %v", got.Flags)
	}
	referrals[zhang.ID] = got

	// chen_jing was seen on li_hua's tablet when she registered, and names no device now.
	must(t, s.SeenOnDevice(ctx, chen.ID, tablet))
	got, err = redeemOn(s, chen.ID, code, 102, "")
	must(t, err)
	if diff := cmp.Diff([]community.ReferralFlag{community.FlagSharedDevice}, got.Flags); diff != "" {
		t.Errorf("a referee seen on the referrer's device before (-want +got):\n%s", diff)
	}
	referrals[chen.ID] = got

	// liu_yang names no device, and was seen with none.
	got, err = redeemOn(s, liu.ID, code, 103, "")
	must(t, err)
	if got.Flags != nil {
		t.Errorf("a redemption without devices is flagged %v", got.Flags)
	}
	referrals[liu.ID] = got

	checkReferrals(t, s, []string{lihua.ID, wang.ID, zhang.ID, chen.ID, liu.ID}, referrals)
	checkUses(t, s, code, 4)
	checkDevices(t, s, []string{lihua.ID, wang.ID, zhang.ID, chen.ID, liu.ID}, map[string][]string{
		lihua.ID: {tablet, phone}, wang.ID: {phone}, zhang.ID: {other}, chen.ID: {tablet},
	})

	t.Run("a refused redemption keeps no device", func(t *testing.T) {
		_, err := redeemOn(s, wang.ID, code, 104, other)
		wantCode(t, err, community.CodeConflict)
		checkDevices(t, s, []string{wang.ID}, map[string][]string{wang.ID: {phone}})
	})
}

// inviteOf is the code of a member's invite for a campaign, made through the service.
func inviteOf(t *testing.T, svc *community.ReferralService, memberID, campaignID string) string {
	t.Helper()
	inv, err := svc.CreateInvite(community.WithActor(context.Background(), community.Actor{MemberID: memberID}),
		community.CreateInviteInput{CampaignID: campaignID, Channel: community.ShareWeChat})
	must(t, err)
	return inv.Code
}

// testBurst flags, through the service and its clock, the referrals of one referrer in
// one campaign that come faster than its burst rule allows, and no others.
func testBurst(t *testing.T, s community.Store) {
	now := at(100)
	rule := community.BurstRule{Limit: 3, Window: 10 * time.Minute}
	svc := community.New(s, community.Config{Now: func() time.Time { return now }, Burst: rule}).Referrals
	handles := []string{"kol_li", "kol_wang"}
	for i := range 8 {
		handles = append(handles, fmt.Sprintf("fan_%d", i))
	}
	ms := create(t, s, handles...)
	kol, otherKOL, fans := ms[0], ms[1], ms[2:]
	c, other := liveCampaign(t, s, "爆发"), liveCampaign(t, s, "另一活动")
	code, otherCode := inviteOf(t, svc, kol.ID, c.ID), inviteOf(t, svc, kol.ID, other.ID)
	otherKOLCode := inviteOf(t, svc, otherKOL.ID, c.ID)
	redeem := func(member community.Member, code string, minute int) community.Referral {
		t.Helper()
		now = at(minute)
		ref, err := svc.RedeemInvite(community.WithActor(context.Background(), community.Actor{MemberID: member.ID}), code)
		must(t, err)
		return ref
	}
	// Referrals of another campaign and of another referrer do not count.
	redeem(fans[0], otherCode, 100)
	redeem(fans[1], otherKOLCode, 100)
	redeem(fans[2], otherKOLCode, 101)
	for i, tc := range []struct {
		minute int
		want   []community.ReferralFlag
	}{
		{101, nil}, {102, nil},
		{110, nil}, // three within ten minutes: the limit, not past it
		{111, []community.ReferralFlag{community.FlagBurst}}, // 101 to 111: four
		// Minutes 102, 110 and 111 are within ten minutes of 112, with it four.
		{112, []community.ReferralFlag{community.FlagBurst}},
	} {
		fan := fans[3+i]
		if ref := redeem(fan, code, tc.minute); ref.Flags != nil {
			t.Errorf("the redeemer is told of flags %v", ref.Flags)
		}
		if diff := cmp.Diff(tc.want, storedFlags(t, s, fan.ID)); diff != "" {
			t.Errorf("referral at minute %d: flags (-want +got):\n%s", tc.minute, diff)
		}
	}
	// After waiting past the window (minutes 111 and 112 remain within it), the next is
	// not flagged.
	more := create(t, s, "fan_late")
	redeem(more[0], code, 121)
	if flags := storedFlags(t, s, more[0].ID); flags != nil {
		t.Errorf("a referral after the burst's window is flagged %v", flags)
	}
	checkUses(t, s, code, 6)
}

// storedFlags are the flags of a member's referral, as the store has them.
func storedFlags(t *testing.T, s community.Store, memberID string) []community.ReferralFlag {
	t.Helper()
	got, err := s.ReferralsOf(context.Background(), []string{memberID})
	must(t, err)
	r, ok := got[memberID]
	if !ok {
		t.Fatalf("member %s has no referral", memberID)
	}
	return r.Flags
}

// testDefaultBurst checks DefaultBurst through a service configured with none: the 11th
// referee within an hour is flagged, not the 10th.
func testDefaultBurst(t *testing.T, s community.Store) {
	now := at(100)
	svc := community.New(s, community.Config{Now: func() time.Time { return now }}).Referrals
	handles := []string{"kol"}
	for i := range community.DefaultBurst.Limit + 1 {
		handles = append(handles, fmt.Sprintf("fan_%02d", i))
	}
	ms := create(t, s, handles...)
	code := inviteOf(t, svc, ms[0].ID, liveCampaign(t, s, "默认").ID)
	for i, fan := range ms[1:] {
		// Five minutes apart: the 11th comes 50 minutes after the first.
		now = at(100 + 5*i)
		_, err := svc.RedeemInvite(community.WithActor(context.Background(), community.Actor{MemberID: fan.ID}), code)
		must(t, err)
		if flags := storedFlags(t, s, fan.ID); slices.Contains(flags, community.FlagBurst) != (i == community.DefaultBurst.Limit) {
			t.Errorf("referee %d: flags %v", i+1, flags)
		}
	}
}

// testServiceDevices registers and redeems through the service with device ids: only
// their keyed hashes are kept, a bad id is refused with nothing changed, and the flags of
// a referral are shown only to those who review them.
func testServiceDevices(t *testing.T, s community.Store) {
	key := []byte("a device key of the contract suite")
	svc := community.New(s, community.Config{DeviceKey: key})
	ctx := context.Background()
	// A campaign that runs now, by the service's own clock.
	c := newCampaign(liveCampaign(t, s, "设备").BrandID, "设备", 0)
	now := time.Now().UTC().Truncate(time.Microsecond)
	c.StartsAt, c.EndsAt = now.Add(-time.Hour), now.Add(24*time.Hour)
	must(t, s.CreateReferralCampaign(ctx, c))
	const phone = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
	register := func(handle, device string) (community.Member, error) {
		newcomer := community.WithActor(ctx, community.Actor{Identity: &community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-" + handle}})
		if device != "" {
			newcomer = community.WithDevice(newcomer, device)
		}
		return svc.Members.RegisterMember(newcomer, community.RegisterMemberInput{Handle: handle, DisplayName: handle}, nil)
	}
	lihua, err := register("li_hua", phone)
	must(t, err)
	checkDevices(t, s, []string{lihua.ID}, map[string][]string{lihua.ID: {community.HashDevice(key, phone)}})

	t.Run("a bad device id registers nobody", func(t *testing.T) {
		_, err := register("wang_fang", "not a device")
		wantCode(t, err, community.CodeBadUserInput)
		if _, err := s.MemberByHandle(ctx, "wang_fang"); community.ErrorCode(err) != community.CodeNotFound {
			t.Errorf("a refused registration made a member: %v", err)
		}
	})

	code := inviteOf(t, svc.Referrals, lihua.ID, c.ID)
	wang, err := register("wang_fang", "")
	must(t, err)
	asWang := community.WithActor(ctx, community.Actor{MemberID: wang.ID})

	t.Run("a bad device id redeems nothing", func(t *testing.T) {
		_, err := svc.Referrals.RedeemInvite(community.WithDevice(asWang, "short"), code)
		wantCode(t, err, community.CodeBadUserInput)
		checkReferrals(t, s, []string{wang.ID}, map[string]community.Referral{})
		checkUses(t, s, code, 0)
	})

	ref, err := svc.Referrals.RedeemInvite(community.WithDevice(asWang, phone), code)
	must(t, err)
	if ref.ReferrerID != lihua.ID || ref.Flags != nil {
		t.Errorf("the redeemer's answer: %+v; want li_hua's referral, its flags not shown to the redeemer", ref)
	}
	checkDevices(t, s, []string{wang.ID}, map[string][]string{wang.ID: {community.HashDevice(key, phone)}})
	devices, err := s.DevicesOf(ctx, []string{lihua.ID, wang.ID})
	must(t, err)
	for id, hs := range devices {
		for _, h := range hs {
			if strings.Contains(strings.ToUpper(h), phone) {
				t.Errorf("member %s keeps the device id itself: %q", id, h)
			}
		}
	}

	shared := []community.ReferralFlag{community.FlagSharedDevice}
	for _, tc := range []struct {
		name  string
		actor community.Actor
		want  []community.ReferralFlag
	}{
		{"ADMIN", community.Actor{Roles: []community.Role{community.RoleAdmin}}, shared},
		{"a community manager", community.Actor{Roles: []community.Role{community.RoleCommunityManager}}, shared},
		{"the member", community.Actor{MemberID: wang.ID}, nil},
	} {
		t.Run("flags to "+tc.name, func(t *testing.T) {
			refs, errs := svc.Referrals.ReferralsOf(community.WithActor(ctx, tc.actor), []string{wang.ID})
			if errs[0] != nil || refs[0] == nil {
				t.Fatalf("ReferralsOf = %v, %v", refs[0], errs[0])
			}
			if diff := cmp.Diff(tc.want, refs[0].Flags); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
		})
	}
}
