package community

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFlagReferral is the table of the fraud signals a redemption raises.
func TestFlagReferral(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tight := BurstRule{Limit: 3, Window: 10 * time.Minute}
	for _, tc := range []struct {
		name string
		r    Redemption
		f    RedemptionFacts
		want []ReferralFlag
	}{
		{"nothing known", Redemption{At: now}, RedemptionFacts{}, nil},
		{"the redemption's device is the referrer's", Redemption{At: now, Device: "d1"},
			RedemptionFacts{ReferrerDevices: []string{"d0", "d1"}}, []ReferralFlag{FlagSharedDevice}},
		{"a device the referee was seen with is the referrer's", Redemption{At: now, Device: "d9"},
			RedemptionFacts{MemberDevices: []string{"d8", "d1"}, ReferrerDevices: []string{"d1"}}, []ReferralFlag{FlagSharedDevice}},
		{"a device kept on the referee, none named now", Redemption{At: now},
			RedemptionFacts{MemberDevices: []string{"d1"}, ReferrerDevices: []string{"d1"}}, []ReferralFlag{FlagSharedDevice}},
		{"different devices", Redemption{At: now, Device: "d1"},
			RedemptionFacts{MemberDevices: []string{"d2"}, ReferrerDevices: []string{"d3", "d4"}}, nil},
		{"the referrer seen with none", Redemption{At: now, Device: "d1"}, RedemptionFacts{MemberDevices: []string{"d1"}}, nil},
		{"the referee seen with none", Redemption{At: now}, RedemptionFacts{ReferrerDevices: []string{"d1"}}, nil},
		{"the default limit reached", Redemption{At: now}, RedemptionFacts{RecentReferrals: DefaultBurst.Limit - 1}, nil},
		{"the default limit passed", Redemption{At: now}, RedemptionFacts{RecentReferrals: DefaultBurst.Limit}, []ReferralFlag{FlagBurst}},
		{"a configured limit reached", Redemption{At: now, Burst: tight}, RedemptionFacts{RecentReferrals: 2}, nil},
		{"a configured limit passed", Redemption{At: now, Burst: tight}, RedemptionFacts{RecentReferrals: 3}, []ReferralFlag{FlagBurst}},
		{"both", Redemption{At: now, Device: "d1", Burst: tight},
			RedemptionFacts{ReferrerDevices: []string{"d1"}, RecentReferrals: 5}, []ReferralFlag{FlagSharedDevice, FlagBurst}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, FlagReferral(tc.r, tc.f)); diff != "" {
				t.Errorf("FlagReferral (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBurstSince(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		rule BurstRule
		want time.Time
	}{
		{"the default", BurstRule{}, now.Add(-time.Hour)},
		{"configured", BurstRule{Limit: 5, Window: 10 * time.Minute}, now.Add(-10 * time.Minute)},
		{"half set is the default", BurstRule{Limit: 5}, now.Add(-time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Redemption{At: now, Burst: tc.rule}).BurstSince(); !got.Equal(tc.want) {
				t.Errorf("BurstSince = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeepDevice(t *testing.T) {
	for _, tc := range []struct {
		name string
		kept []string
		hash string
		want []string
	}{
		{"the first", nil, "a", []string{"a"}},
		{"a new one goes first", []string{"a", "b"}, "c", []string{"c", "a", "b"}},
		{"one seen again moves first", []string{"a", "b", "c"}, "c", []string{"c", "a", "b"}},
		{"the oldest is dropped", []string{"a", "b", "c", "d", "e"}, "f", []string{"f", "a", "b", "c", "d"}},
		{"none named keeps them", []string{"a", "b"}, "", []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept := append([]string(nil), tc.kept...)
			if diff := cmp.Diff(tc.want, KeepDevice(kept, tc.hash)); diff != "" {
				t.Errorf("KeepDevice (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.kept, kept); diff != "" {
				t.Errorf("KeepDevice changed what it was given (-before +after):\n%s", diff)
			}
		})
	}
}

func TestValidateDeviceID(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		ok   bool
	}{
		{"a UUID", "6F9619FF-8B86-D011-B42D-00CF4FC964FF", true},
		{"an Android id", "9774d56d682e549c", true},
		{"base64", "q2Fz+dG9/a2VuPQ==", true},
		{"the shortest", "abcdefgh", true},
		{"the longest", strings.Repeat("a", MaxDeviceIDLen), true},
		{"too short", "abcdefg", false},
		{"too long", strings.Repeat("a", MaxDeviceIDLen+1), false},
		{"a space", "device 12345", false},
		{"two values of the header", "abcdefgh12,abcdefgh34", false},
		{"not ASCII", "设备编号一二三四", false},
		{"a control character", "abcdefgh\x00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateDeviceID(tc.id)
			if tc.ok {
				if err != nil {
					t.Errorf("ValidateDeviceID = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != DeviceField {
				t.Errorf("ValidateDeviceID = %v, want BAD_USER_INPUT on %s", err, DeviceField)
			}
		})
	}
}

func TestHashDevice(t *testing.T) {
	id := "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
	a, b := HashDevice([]byte("key one"), id), HashDevice([]byte("key two"), id)
	switch {
	case a != HashDevice([]byte("key one"), id):
		t.Error("the same id and key hash differently")
	case a == b:
		t.Error("two keys hash an id alike")
	case len(a) != 64 || strings.Contains(a, id) || strings.Contains(strings.ToUpper(a), id):
		t.Errorf("hash %q", a)
	}
	s := New(nil, Config{DeviceKey: []byte("key two")})
	got, err := s.Referrals.device(WithDevice(context.Background(), id))
	if err != nil || got != b {
		t.Errorf("the service's hash = %q, %v; want %q", got, err, b)
	}
	if got, err := s.Referrals.device(context.Background()); got != "" || err != nil {
		t.Errorf("no device: %q, %v", got, err)
	}
	if _, err := s.Referrals.device(WithDevice(context.Background(), "short")); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("a bad device: %v", err)
	}
}

// TestCanReadReferralFlags is the table of who reads the flags of a referral through a
// campaign of byd.
func TestCanReadReferralFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"ADMIN", Actor{Roles: []Role{RoleAdmin}}, true},
		{"a community manager", Actor{Roles: []Role{RoleCommunityManager}}, true},
		{"the campaign's brand staff", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "byd"}, true},
		{"the campaign's brand admins", Actor{Roles: []Role{RoleBrandAdmin}, BrandID: "byd"}, true},
		{"another brand's staff", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "nio"}, false},
		{"the member", Actor{MemberID: "wang-fang"}, false},
		{"a newcomer", Actor{Identity: &Identity{Provider: ProviderWeChat, ExternalID: "o-x"}}, false},
		{"nobody", Actor{}, false},
		{"a refused ADMIN token", Actor{Roles: []Role{RoleAdmin}, AuthError: errors.New("expired")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanReadReferralFlags(tc.actor, "byd"); got != tc.want {
				t.Errorf("CanReadReferralFlags = %v, want %v", got, tc.want)
			}
		})
	}
}
