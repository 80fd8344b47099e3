package community

import (
	"errors"
	"testing"
	"time"
)

// TestCanReadReferral is the table of who reads the referral of member wang-fang, made
// through a campaign of byd.
func TestCanReadReferral(t *testing.T) {
	activity := []Consent{{BrandID: "byd", Scopes: []ConsentScope{ScopeProfile, ScopeActivity}}}
	profileOnly := []Consent{{BrandID: "byd", Scopes: []ConsentScope{ScopeProfile}}}
	staff := Actor{Roles: []Role{RoleBrandStaff}, BrandID: "byd"}
	for _, tc := range []struct {
		name     string
		actor    Actor
		consents []Consent
		want     Code
	}{
		{"the member", Actor{MemberID: "wang-fang"}, nil, ""},
		{"ADMIN", Actor{Roles: []Role{RoleAdmin}}, nil, ""},
		{"a community manager", Actor{Roles: []Role{RoleCommunityManager}}, nil, ""},
		{"the campaign's brand with ACTIVITY consent", staff, activity, ""},
		{"the campaign's admins with ACTIVITY consent", Actor{Roles: []Role{RoleBrandAdmin}, BrandID: "byd"}, activity, ""},
		{"the campaign's brand with PROFILE consent only", staff, profileOnly, CodeForbidden},
		{"the campaign's brand without consent", staff, nil, CodeForbidden},
		{"another brand with ACTIVITY consent to it", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "nio"},
			[]Consent{{BrandID: "nio", Scopes: []ConsentScope{ScopeActivity}}}, CodeForbidden},
		{"another member", Actor{MemberID: "li-hua"}, nil, CodeForbidden},
		{"a newcomer", Actor{Identity: &Identity{Provider: ProviderWeChat, ExternalID: "o-x"}}, nil, CodeForbidden},
		{"nobody", Actor{}, nil, CodeUnauthenticated},
		{"a refused token", Actor{MemberID: "wang-fang", AuthError: errors.New("expired")}, nil, CodeUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(CanReadReferral(tc.actor, "wang-fang", "byd", tc.consents)); got != tc.want {
				t.Errorf("CanReadReferral = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckRedemptionCodeFirst checks that a code that cannot be redeemed answers alike
// whatever else is true of the redemption, so that nothing tells unknown codes from
// expired ones.
func TestCheckRedemptionCodeFirst(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c := ReferralCampaign{StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), RedeemWindowDays: 7}
	expired := Invite{MemberID: "li-hua", ExpiresAt: now.Add(-time.Minute)}
	r := Redemption{MemberID: "wang-fang", At: now}
	unknown := CheckRedemption(r, RedemptionFacts{Referred: true, InUpline: true})
	for name, f := range map[string]RedemptionFacts{
		"expired, already referred":   {Invite: &expired, Campaign: &c, Referred: true},
		"expired, a cycle":            {Invite: &expired, Campaign: &c, InUpline: true},
		"expired, outside the window": {Invite: &expired, Campaign: &c, JoinedAt: now.Add(-30 * 24 * time.Hour)},
	} {
		got := CheckRedemption(r, f)
		if ErrorCode(got) != CodeBadUserInput || got.Error() != unknown.Error() {
			t.Errorf("%s: %v, want %v", name, got, unknown)
		}
	}
}
