package community

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCanReadReferralPath is the table of who reads the path from li-hua down to
// wang-fang, whose referral came through a campaign of byd.
func TestCanReadReferralPath(t *testing.T) {
	activity := []Consent{{BrandID: "byd", Scopes: []ConsentScope{ScopeProfile, ScopeActivity}}}
	profileOnly := []Consent{{BrandID: "byd", Scopes: []ConsentScope{ScopeProfile}}}
	staff := Actor{Roles: []Role{RoleBrandStaff}, BrandID: "byd"}
	for _, tc := range []struct {
		name     string
		actor    Actor
		brandID  string // of the campaign of wang-fang's referral
		consents []Consent
		want     Code
	}{
		{"the lower member: its upline", Actor{MemberID: "wang-fang"}, "byd", nil, ""},
		{"the upper member: its downline", Actor{MemberID: "li-hua"}, "byd", nil, ""},
		{"a member who is neither", Actor{MemberID: "zhao-lei"}, "byd", nil, CodeForbidden},
		{"ADMIN", Actor{Roles: []Role{RoleAdmin}}, "byd", nil, ""},
		{"a community manager", Actor{Roles: []Role{RoleCommunityManager}}, "byd", nil, ""},
		{"the campaign's brand with the lower member's ACTIVITY consent", staff, "byd", activity, ""},
		{"the campaign's admins with ACTIVITY consent", Actor{Roles: []Role{RoleBrandAdmin}, BrandID: "byd"}, "byd", activity, ""},
		{"the campaign's brand with PROFILE consent only", staff, "byd", profileOnly, CodeForbidden},
		{"the campaign's brand without consent", staff, "byd", nil, CodeForbidden},
		{"a brand with consent, through another brand's campaign", staff, "nio", activity, CodeForbidden},
		{"another brand with ACTIVITY consent to it", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "nio"}, "byd",
			[]Consent{{BrandID: "nio", Scopes: []ConsentScope{ScopeActivity}}}, CodeForbidden},
		{"brand staff who are the upper member", Actor{MemberID: "li-hua", Roles: []Role{RoleBrandStaff}, BrandID: "nio"}, "byd", nil, ""},
		{"a newcomer", Actor{Identity: &Identity{Provider: ProviderWeChat, ExternalID: "openid-zhou"}}, "byd", nil, CodeForbidden},
		{"nobody", Actor{}, "byd", nil, CodeUnauthenticated},
		{"a refused token of the lower member", Actor{MemberID: "wang-fang", AuthError: errors.New("expired")}, "byd", nil, CodeUnauthenticated},
		{"a refused token of platform staff", Actor{Roles: []Role{RoleAdmin}, AuthError: errors.New("expired")}, "byd", nil, CodeUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(CanReadReferralPath(tc.actor, "li-hua", "wang-fang", tc.brandID, tc.consents)); got != tc.want {
				t.Errorf("CanReadReferralPath = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMayReadSomePath checks who is refused a path before anything is read: exactly
// those whom CanReadReferralPath refuses whatever the path's facts.
func TestMayReadSomePath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"the first member", Actor{MemberID: "li-hua"}, true},
		{"the second member", Actor{MemberID: "wang-fang"}, true},
		{"another member", Actor{MemberID: "zhao-lei"}, false},
		{"a newcomer", Actor{Identity: &Identity{Provider: ProviderWeChat, ExternalID: "openid-zhou"}}, false},
		{"ADMIN", Actor{Roles: []Role{RoleAdmin}}, true},
		{"a community manager", Actor{Roles: []Role{RoleCommunityManager}}, true},
		{"brand staff", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "byd"}, true},
		{"a brand role without a brand", Actor{Roles: []Role{RoleBrandStaff}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayReadSomePath(tc.actor, "li-hua", "wang-fang"); got != tc.want {
				t.Errorf("mayReadSomePath = %v, want %v", got, tc.want)
			}
			if tc.want {
				return
			}
			for _, brand := range []string{"byd", ""} {
				for _, lower := range []string{"li-hua", "wang-fang"} {
					upper := map[string]string{"li-hua": "wang-fang", "wang-fang": "li-hua"}[lower]
					if CanReadReferralPath(tc.actor, upper, lower, brand, []Consent{{BrandID: "byd", Scopes: ConsentScopes}}) == nil {
						t.Errorf("refused before reading, but the rule allows the path down to %s through %q", lower, brand)
					}
				}
			}
		})
	}
}

// TestRanksConsentingOnly is the table of whose rankings leave out the members who have
// not consented to share ACTIVITY with the brand.
func TestRanksConsentingOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"brand staff", Actor{Roles: []Role{RoleBrandStaff}, BrandID: "byd"}, true},
		{"brand admins", Actor{Roles: []Role{RoleBrandAdmin}, BrandID: "byd"}, true},
		{"brand staff who are members", Actor{MemberID: "li-hua", Roles: []Role{RoleBrandStaff}, BrandID: "byd"}, true},
		{"a community manager", Actor{Roles: []Role{RoleCommunityManager}}, false},
		{"ADMIN", Actor{Roles: []Role{RoleAdmin}}, false},
		{"ADMIN who is brand staff too", Actor{Roles: []Role{RoleAdmin, RoleBrandStaff}, BrandID: "byd"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RanksConsentingOnly(tc.actor); got != tc.want {
				t.Errorf("RanksConsentingOnly = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTopReferrersInput(t *testing.T) {
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	valid := TopReferrersInput{BrandID: "byd", By: RankDirect, First: DefaultTopReferrers}
	for _, tc := range []struct {
		name  string
		in    func(in TopReferrersInput) TopReferrersInput
		field string // "" when valid
	}{
		{"the defaults", nil, ""},
		{"first 1", func(in TopReferrersInput) TopReferrersInput { in.First = 1; return in }, ""},
		{"first 100", func(in TopReferrersInput) TopReferrersInput { in.First = MaxTopReferrers; return in }, ""},
		{"first 0", func(in TopReferrersInput) TopReferrersInput { in.First = 0; return in }, "first"},
		{"first -1", func(in TopReferrersInput) TopReferrersInput { in.First = -1; return in }, "first"},
		{"first 101", func(in TopReferrersInput) TopReferrersInput { in.First = MaxTopReferrers + 1; return in }, "first"},
		{"a window", func(in TopReferrersInput) TopReferrersInput {
			in.From, in.To = march, march.AddDate(0, 1, 0)
			return in
		}, ""},
		{"an empty window", func(in TopReferrersInput) TopReferrersInput { in.From, in.To = march, march; return in }, ""},
		{"a window open at its start", func(in TopReferrersInput) TopReferrersInput { in.To = march; return in }, ""},
		{"a window open at its end", func(in TopReferrersInput) TopReferrersInput { in.From = march; return in }, ""},
		{"a window that ends before it starts", func(in TopReferrersInput) TopReferrersInput {
			in.From, in.To = march, march.Add(-time.Nanosecond)
			return in
		}, "to"},
		{"an unknown ranking", func(in TopReferrersInput) TopReferrersInput { in.By = "SHARES"; return in }, "by"},
		{"every ranking", func(in TopReferrersInput) TopReferrersInput { in.By = RankConverted; return in }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := valid
			if tc.in != nil {
				in = tc.in(in)
			}
			q, err := in.query()
			if tc.field != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeBadUserInput || e.Field != tc.field {
					t.Fatalf("query() = %v, want BAD_USER_INPUT on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ReferrerQuery{BrandID: in.BrandID, By: in.By, First: in.First, From: in.From.UTC(), To: in.To.UTC()}
			if diff := cmp.Diff(want, q); diff != "" {
				t.Errorf("query() (-want +got):\n%s", diff)
			}
			if !q.From.IsZero() && q.From.Location() != time.UTC {
				t.Errorf("the window is not in UTC: %v", q.From)
			}
		})
	}
}

func TestRanked(t *testing.T) {
	counts := []ReferrerCount{{"a", 9}, {"b", 5}, {"c", 5}, {"d", 5}, {"e", 2}, {"f", 1}, {"g", 1}}
	want := []ReferrerRank{{"a", 9, 1}, {"b", 5, 2}, {"c", 5, 2}, {"d", 5, 2}, {"e", 2, 5}, {"f", 1, 6}, {"g", 1, 6}}
	if diff := cmp.Diff(want, Ranked(counts)); diff != "" {
		t.Errorf("Ranked (-want +got):\n%s", diff)
	}
	if got := Ranked(nil); len(got) != 0 {
		t.Errorf("Ranked(nil) = %v", got)
	}
}
