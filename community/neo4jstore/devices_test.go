package neo4jstore

import (
	"context"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// cypherHolding counts the properties of every node and relationship that hold a string.
const cypherHolding = `
CALL () {
  MATCH (n) UNWIND keys(n) AS k WITH n[k] AS v
  RETURN v
  UNION ALL
  MATCH ()-[r]->() UNWIND keys(r) AS k WITH r[k] AS v
  RETURN v
}
WITH CASE WHEN valueType(v) STARTS WITH 'LIST' THEN v ELSE [v] END AS vs
UNWIND vs AS x
WITH x WHERE valueType(x) STARTS WITH 'STRING' AND x CONTAINS $s
RETURN count(*) AS n`

// TestDeviceIDsAreNotKept registers and redeems through the service with a device id, and
// looks for it in every property of the graph: only its keyed hash is there.
func TestDeviceIDsAreNotKept(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	key := []byte("a device key of the neo4j store's tests")
	svc := community.New(s, community.Config{DeviceKey: key})
	admin := community.WithActor(ctx, community.Actor{Roles: []community.Role{community.RoleAdmin}})
	b, err := svc.Brands.CreateBrand(admin, community.CreateBrandInput{Slug: "byd", Name: "比亚迪"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := svc.Referrals.CreateReferralCampaign(admin, community.CreateCampaignInput{BrandID: b.ID, Name: "设备", StartsAt: now.Add(-time.Hour),
		EndsAt: now.Add(24 * time.Hour), Rules: []community.ReferralRuleInput{{Level: 1, Kind: community.RewardPoints, Value: "100"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const device = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
	register := func(handle string) community.Member {
		newcomer := community.WithActor(ctx, community.Actor{Identity: &community.Identity{Provider: community.ProviderWeChat, ExternalID: "openid-" + handle}})
		m, err := svc.Members.RegisterMember(community.WithDevice(newcomer, device), community.RegisterMemberInput{Handle: handle, DisplayName: handle}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	lihua, wang := register("li_hua"), register("wang_fang")
	inv, err := svc.Referrals.CreateInvite(community.WithActor(ctx, community.Actor{MemberID: lihua.ID}), community.CreateInviteInput{CampaignID: c.ID, Channel: community.ShareWeChat})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Referrals.RedeemInvite(community.WithDevice(community.WithActor(ctx, community.Actor{MemberID: wang.ID}), device), inv.Code); err != nil {
		t.Fatal(err)
	}
	count := func(s2 string) int {
		t.Helper()
		n, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
			recs, err := collect(ctx, tx, cypherHolding, map[string]any{"s": s2})
			if err != nil {
				return 0, err
			}
			return integer(get(recs[0], "n")), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(device); n != 0 {
		t.Errorf("%d properties hold the device id", n)
	}
	// The hash is kept on both members; the referral is flagged.
	if n := count(community.HashDevice(key, device)); n != 2 {
		t.Errorf("%d properties hold the device's hash, want 2", n)
	}
	refs, err := s.ReferralsOf(ctx, []string{wang.ID})
	if err != nil || len(refs[wang.ID].Flags) != 1 || refs[wang.ID].Flags[0] != community.FlagSharedDevice {
		t.Errorf("the referral: %+v, %v", refs[wang.ID], err)
	}
}
