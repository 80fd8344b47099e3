package community

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestDecide is the policy's table: every actor, every act, on a public and a private club
// of the brand byd (and on byd for brand acts), with the code each must get. An actor not
// listed as allowed gets UNAUTHENTICATED when it is nobody or its token was refused, and
// FORBIDDEN otherwise.
func TestDecide(t *testing.T) {
	actors := map[string]Actor{
		"nobody":            {},
		"refused token":     {AuthError: errors.New("expired")},
		"newcomer":          {Identity: &Identity{Provider: ProviderWeChat, ExternalID: "openid-li-na"}},
		"member":            {MemberID: "wang-fang"},
		"club member":       {MemberID: "zhao-lei"},
		"club moderator":    {MemberID: "chen-jing"},
		"club manager":      {MemberID: "liu-yang"},
		"host brand admin":  {Roles: []Role{RoleBrandAdmin}, BrandID: "byd"},
		"host brand staff":  {Roles: []Role{RoleBrandStaff}, BrandID: "byd"},
		"partner admin":     {Roles: []Role{RoleBrandAdmin}, BrandID: "nio"},
		"community manager": {Roles: []Role{RoleCommunityManager}},
		"admin":             {Roles: []Role{RoleAdmin}},
	}
	roles := map[string]ClubRole{"club member": RoleMember, "club moderator": RoleModerator, "club manager": RoleManager}
	everyMember := []string{"member", "club member", "club moderator", "club manager"}
	platform := []string{"community manager", "admin"}
	with := func(groups ...[]string) []string { return slices.Concat(groups...) }

	public := Club{ID: "ev-talk", BrandID: "byd", Visibility: VisibilityPublic}
	private := Club{ID: "owners", BrandID: "byd", Visibility: VisibilityPrivate}
	for _, tc := range []struct {
		act     Act
		club    *Club // nil: a brand act on byd
		allowed []string
	}{
		{ActCreateBrand, nil, []string{"admin"}},
		{ActRebuildSearch, nil, []string{"admin"}},
		{ActRunBrand, nil, []string{"admin", "host brand admin"}},
		{ActServeBrand, nil, []string{"admin", "host brand admin", "host brand staff"}},
		{ActSeeCampaigns, nil, with(platform, []string{"host brand admin", "host brand staff"})},
		{ActRankReferrers, nil, with(platform, []string{"host brand admin", "host brand staff"})},
		{ActCreateClub, &public, with(platform, []string{"host brand admin"})},
		{ActSeeInside, &public, with(platform, everyMember, []string{"newcomer", "host brand admin", "host brand staff"})},
		{ActSeeInside, &private, with(platform, []string{"club member", "club moderator", "club manager", "host brand admin", "host brand staff"})},
		{ActPost, &public, []string{"club member", "club moderator", "club manager"}},
		{ActPost, &private, []string{"club member", "club moderator", "club manager"}},
		{ActRunClub, &public, with(platform, []string{"club manager", "host brand admin"})},
		{ActAppointManagers, &public, with(platform, []string{"host brand admin"})},
		{ActDecideJoins, &private, with(platform, []string{"club manager", "host brand admin", "host brand staff"})},
		{ActModerate, &public, with(platform, []string{"club moderator", "club manager", "host brand admin", "host brand staff"})},
	} {
		for name, a := range actors {
			where := "byd"
			target := Target{BrandID: "byd"}
			if tc.club != nil {
				where = string(tc.club.Visibility) + " club"
				target = Target{Club: *tc.club, Role: roles[name]}
			}
			t.Run(fmt.Sprintf("act %d on %s by %s", tc.act, where, name), func(t *testing.T) {
				var want Code
				switch {
				case slices.Contains(tc.allowed, name):
				case name == "nobody" || name == "refused token":
					want = CodeUnauthenticated
				default:
					want = CodeForbidden
				}
				if got := ErrorCode(Decide(a, tc.act, target)); got != want {
					t.Errorf("Decide = %q, want %q", got, want)
				}
			})
		}
	}
}

// TestDecideOnlyTheHostBrand checks that brand staff act for their own brand only, and a
// club without a host brand gives brand staff nothing.
func TestDecideOnlyTheHostBrand(t *testing.T) {
	staff := Actor{Roles: []Role{RoleBrandAdmin, RoleBrandStaff}, BrandID: "byd"}
	for _, tc := range []struct {
		name   string
		act    Act
		target Target
		want   Code
	}{
		{"runs its own brand", ActRunBrand, Target{BrandID: "byd"}, ""},
		{"not another brand", ActRunBrand, Target{BrandID: "nio"}, CodeForbidden},
		{"serves its own brand", ActServeBrand, Target{BrandID: "byd"}, ""},
		{"does not serve another", ActServeBrand, Target{BrandID: "nio"}, CodeForbidden},
		{"creates its brand's clubs", ActCreateClub, Target{Club: Club{BrandID: "byd"}}, ""},
		{"not clubs without a brand", ActCreateClub, Target{Club: Club{}}, CodeForbidden},
		{"not another brand's clubs", ActCreateClub, Target{Club: Club{BrandID: "nio"}}, CodeForbidden},
		{"moderates its brand's clubs", ActModerate, Target{Club: Club{BrandID: "byd"}}, ""},
		{"not another brand's clubs", ActModerate, Target{Club: Club{BrandID: "nio", Visibility: VisibilityPublic}}, CodeForbidden},
		{"not a private club of another brand", ActSeeInside, Target{Club: Club{BrandID: "nio", Visibility: VisibilityPrivate}}, CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(Decide(staff, tc.act, tc.target)); got != tc.want {
				t.Errorf("Decide = %q, want %q", got, tc.want)
			}
		})
	}
	refused := staff
	refused.AuthError = errors.New("expired")
	if got := ErrorCode(Decide(refused, ActRunBrand, Target{BrandID: "byd"})); got != CodeUnauthenticated {
		t.Errorf("a refused token of the brand's admin: Decide = %q, want UNAUTHENTICATED", got)
	}
}
