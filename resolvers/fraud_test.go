package resolvers_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/resolvers/apitest"
)

const flagsOp = `query($id: ID!) { member(id: $id) { referredVia { flags } } }`

func TestFraudSignals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.db")
	s, err := embedded.Open(embedded.Config{Path: path, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	devices := testFraudSignals(t, newAPIOver(t, s), s, "")
	// What the store wrote holds the hashes of the device ids, never the ids.
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range devices {
		if bytes.Contains(file, []byte(id)) {
			t.Errorf("the store's file holds the device id %q", id)
		}
		if !bytes.Contains(file, []byte(community.HashDevice([]byte(community.DevelopmentDeviceKey), id))) {
			t.Errorf("the store's file lacks the hash of the device id %q", id)
		}
	}
}

func TestFraudSignalsOnNeo4j(t *testing.T) {
	a, s := newNeo4jAPI(t)
	testFraudSignals(t, a, s, fmt.Sprintf("_%06d", rand.IntN(1000000)))
}

// testFraudSignals registers and redeems with X-Device-Id headers, reads the flags of the
// referrals as each role, and refuses bad headers. It returns the device ids it sent.
func testFraudSignals(t *testing.T, a *api, s community.Store, run string) []string {
	slug := strings.ReplaceAll(run, "_", "-")
	byd := a.createBrand("byd-fraud"+slug, "比亚迪")
	nio := a.createBrand("nio-fraud"+slug, "蔚来")
	campaign := a.createCampaign(staffToken(t, byd, "BRAND_ADMIN"), byd, "同设备检测")
	phone, other := "6F9619FF-8B86-D011-B42D-00CF4FC9"+strings.ToUpper(fmt.Sprintf("%04x", rand.IntN(1<<16))), "android-9774d56d682e549c"+run
	on := func(device string) apitest.Client {
		c := a.client()
		c.Header = http.Header{"X-Device-Id": {device}}
		return c
	}
	register := func(c apitest.Client, handle, name, code string) string {
		t.Helper()
		in := map[string]any{"handle": handle + run, "displayName": name}
		if code != "" {
			in["inviteCode"] = code
		}
		var out struct {
			RegisterMember struct{ Member memberJSON } `json:"registerMember"`
		}
		c.OK(identityToken(t, "WECHAT", "openid-"+handle+run), registerOp, map[string]any{"in": in}, &out)
		return out.RegisterMember.Member.ID
	}

	// li_hua registers on her phone, and shares a code.
	lihuaID := register(on(phone), "li_hua", "李华", "")
	code := a.createInvite(memberToken(t, lihuaID), campaign.ID, "MOMENTS", nil).Code
	// wang_fang registers with the code on li_hua's phone.
	wangID := register(on(phone), "wang_fang", "王芳", code)
	wang := memberToken(t, wangID)
	// zhang_wei registers, then redeems on a phone of his own.
	zhangID := register(a.client(), "zhang_wei", "张伟", "")
	var redeemed struct {
		RedeemInvite struct{ ReferredVia struct{ Flags []string } } `json:"redeemInvite"`
	}
	on(other).OK(memberToken(t, zhangID), `mutation($code: String!) { redeemInvite(input: {code: $code}) { referredVia { flags } } }`,
		map[string]any{"code": code}, &redeemed)
	if got := redeemed.RedeemInvite.ReferredVia.Flags; got == nil || len(got) != 0 {
		t.Errorf("redeemInvite's flags = %#v, want an empty list", got)
	}

	t.Run("only the hashes of device ids are kept", func(t *testing.T) {
		got, err := s.DevicesOf(context.Background(), []string{lihuaID, wangID, zhangID})
		if err != nil {
			t.Fatal(err)
		}
		hash := func(id string) string { return community.HashDevice([]byte(community.DevelopmentDeviceKey), id) }
		want := map[string][]string{lihuaID: {hash(phone)}, wangID: {hash(phone)}, zhangID: {hash(other)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DevicesOf (-want +got):\n%s", diff)
		}
	})

	t.Run("who sees flags", func(t *testing.T) {
		a.ok(wang, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		a.ok(wang, consentOp, map[string]any{"b": nio, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
		shared := []string{"SHARED_DEVICE"}
		for _, tc := range []struct {
			name, token, member string
			want                []string
		}{
			{"ADMIN", adminToken(t), wangID, shared},
			{"a community manager", mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}}), wangID, shared},
			{"the campaign's brand staff", staffToken(t, byd, "BRAND_STAFF"), wangID, shared},
			{"the member", wang, wangID, []string{}},
			{"a referral on another device", adminToken(t), zhangID, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var out struct {
					Member struct{ ReferredVia *struct{ Flags []string } }
				}
				a.ok(tc.token, flagsOp, map[string]any{"id": tc.member}, &out)
				if out.Member.ReferredVia == nil {
					t.Fatal("no referral")
				}
				if diff := cmp.Diff(tc.want, out.Member.ReferredVia.Flags); diff != "" {
					t.Errorf("flags (-want +got):\n%s", diff)
				}
			})
		}
		// To another brand's staff the referral is none, flags and all.
		var out struct {
			Member struct{ ReferredVia *struct{ Flags []string } }
		}
		a.ok(staffToken(t, nio, "BRAND_STAFF"), flagsOp, map[string]any{"id": wangID}, &out)
		if out.Member.ReferredVia != nil {
			t.Errorf("another brand's staff read %+v", out.Member.ReferredVia)
		}
	})

	t.Run("a bad device id", func(t *testing.T) {
		for _, bad := range []string{"short", "a device id with spaces", strings.Repeat("x", 129), "设备编号一二三四五六"} {
			tok := identityToken(t, "WECHAT", "openid-zhao_lei"+run)
			in := map[string]any{"handle": "zhao_lei" + run, "displayName": "赵磊", "inviteCode": code}
			res := on(bad).Fails(community.CodeBadUserInput, tok, registerOp, map[string]any{"in": in})
			if f := res.Errors[0].Extensions["field"]; f != "X-Device-Id" {
				t.Errorf("registerMember with %q: field = %v, want X-Device-Id", bad, f)
			}
		}
		// Nothing was written: the same person registers, and redeems, with no header.
		zhaoID := register(a.client(), "zhao_lei", "赵磊", "")
		zhao := memberToken(t, zhaoID)
		res := on("short").Fails(community.CodeBadUserInput, zhao, redeemOp, map[string]any{"code": code})
		if f := res.Errors[0].Extensions["field"]; f != "X-Device-Id" {
			t.Errorf("redeemInvite: field = %v, want X-Device-Id", f)
		}
		var out referralOut
		a.ok(adminToken(t), referralOp, map[string]any{"id": zhaoID}, &out)
		if out.Member.Referrer != nil {
			t.Errorf("a redemption refused for its device id referred the member: %+v", out.Member.Referrer)
		}
		// Two values of the header are refused too.
		two := a.client()
		two.Header = http.Header{"X-Device-Id": {phone, other}}
		two.Fails(community.CodeBadUserInput, zhao, redeemOp, map[string]any{"code": code})
		// Operations that keep no device ignore the header.
		on("short").OK(zhao, flagsOp, map[string]any{"id": zhaoID}, nil)
		a.ok(zhao, redeemOp, map[string]any{"code": code}, nil)
	})
	return []string{phone, other}
}
