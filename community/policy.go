package community

// Who may read what of a member. A member's community profile and activity are for the
// community: signed-in members (and verified newcomers), community managers and admins.
// Brand staff, acting for their brand, read only what the member consented to share with
// that very brand; being a partner of a brand the member consented to gives nothing. A
// member's identities are the member's and admins' only, or brand staff's with CONTACT
// consent. Nobody anonymous reads members.

// ActsForBrand reports whether the actor acts as staff of a brand.
func (a Actor) ActsForBrand() bool {
	return a.BrandID != "" && (a.HasRole(RoleBrandAdmin) || a.HasRole(RoleBrandStaff))
}

// IsStaffOf reports whether the actor acts as staff (admin or not) of brandID.
func (a Actor) IsStaffOf(brandID string) bool {
	return a.ActsForBrand() && a.BrandID == brandID && a.AuthError == nil
}

// IsBrandAdminOf reports whether the actor is an admin of brandID.
func (a Actor) IsBrandAdminOf(brandID string) bool {
	return a.IsStaffOf(brandID) && a.HasRole(RoleBrandAdmin)
}

// isPlatformStaff reports whether the actor runs the platform: ADMIN or COMMUNITY_MANAGER.
func (a Actor) isPlatformStaff() bool {
	return a.AuthError == nil && (a.HasRole(RoleAdmin) || a.HasRole(RoleCommunityManager))
}

// NeedsConsent reports whether what a reads of member memberID depends on the member's
// consent to a's brand: a acts for a brand, and is neither that member nor platform staff.
func NeedsConsent(a Actor, memberID string) bool {
	return a.ActsForBrand() && a.MemberID != memberID && !a.isPlatformStaff()
}

// CanRead is the rule for reading a member's fields of a scope; consents are the member's
// current consents, needed only when NeedsConsent. UNAUTHENTICATED for nobody; FORBIDDEN
// for brand staff without the consent, and for anyone else where the scope is not theirs.
func CanRead(a Actor, memberID string, scope ConsentScope, consents []Consent) error {
	switch {
	case a.AuthError != nil:
		return unauthenticated(a)
	case a.MemberID == memberID && a.MemberID != "":
		return nil
	case a.HasRole(RoleAdmin):
		return nil
	case NeedsConsent(a, memberID):
		for _, c := range consents {
			if c.BrandID == a.BrandID && c.Allows(scope) {
				return nil
			}
		}
		return Errorf(CodeForbidden, "the member has not consented to share %s with your brand", scopeNoun(scope))
	case scope == ScopeContact:
		if a.nobody() {
			return unauthenticated(a)
		}
		return Errorf(CodeForbidden, "only the member and administrators may read identities")
	case a.IsMember() || a.Identity != nil || a.isPlatformStaff():
		return nil
	case len(a.Roles) == 0:
		return Errorf(CodeUnauthenticated, "sign in to see members")
	}
	return Errorf(CodeForbidden, "members are visible to the community only")
}

func scopeNoun(s ConsentScope) string {
	switch s {
	case ScopeProfile:
		return "their profile"
	case ScopeContact:
		return "their contact details"
	}
	return "their activity"
}

// canReadPrivate is the rule for what is the member's alone (consents, the consent
// ledger): the member and ADMIN.
func canReadPrivate(a Actor, memberID string) error {
	switch {
	case a.AuthError != nil:
		return unauthenticated(a)
	case a.MemberID == memberID && a.MemberID != "", a.HasRole(RoleAdmin):
		return nil
	case a.nobody():
		return unauthenticated(a)
	}
	return Errorf(CodeForbidden, "only the member may read this")
}

// Who may know that a member exists. A member is shown — looked up by id or handle,
// resolved through federation, listed among a club's members, its join requests or a
// follow list — to whoever may read its profile (CanRead with ScopeProfile). To brand
// staff, a member who has not consented to share its profile with their brand is as absent
// as an unknown one: looking it up answers null, lists leave it out, and a record that names
// it (a post's author) answers NOT_FOUND for that member. So handles and ids cannot be
// probed, and no member id reaches a brand — to record or read purchases with — without the
// member's consent.

// CanSeeMember is the rule for knowing of member memberID at all; consents are the
// member's current consents, needed only when NeedsConsent. UNAUTHENTICATED for nobody;
// NOT_FOUND, worded as for an unknown member, for anyone who may not read its profile.
func CanSeeMember(a Actor, memberID string, consents []Consent) error {
	return seeMember(CanRead(a, memberID, ScopeProfile, consents))
}

// seeMember turns the profile rule's answer into CanSeeMember's.
func seeMember(profile error) error {
	switch ErrorCode(profile) {
	case "", CodeUnauthenticated:
		return profile
	}
	return Errorf(CodeNotFound, "no such member")
}

// What may be done to brands and clubs. Platform staff (ADMIN, COMMUNITY_MANAGER) may do
// everything to clubs, and see every brand's referral campaigns and their rankings; ADMIN creates brands and
// does what a brand's admins do. A brand's admins run their brand (its referral campaigns
// included) and create and run its clubs; its staff serve it (purchases, the programme's
// members) and see its referral campaigns and the rankings of their referrers, decide its clubs' join requests, moderate its clubs and see inside
// them. A club's managers run the club: they update it, decide join requests, and appoint
// and remove moderators; appointing managers is for platform staff and the host brand's
// admins. A club's moderators and managers moderate it. Its members post in it and see
// inside it; a public club is seen inside by every member and verified newcomer. Partner
// brands' staff are nothing to another brand's clubs.

// Act is something done to a brand or a club that the policy decides.
type Act int

// The acts of Decide.
const (
	// ActCreateBrand creates a brand.
	ActCreateBrand Act = iota + 1
	// ActRunBrand changes a brand's tiers and partnerships.
	ActRunBrand
	// ActServeBrand records and refunds a brand's purchases and lists its programme.
	ActServeBrand
	// ActRebuildSearch rebuilds the search index.
	ActRebuildSearch
	// ActCreateClub creates a club hosted by Target.BrandID ("" for none).
	ActCreateClub
	// ActSeeInside reads a club's posts, comments and members.
	ActSeeInside
	// ActPost writes posts in a club.
	ActPost
	// ActRunClub updates a club and appoints and removes its moderators.
	ActRunClub
	// ActAppointManagers appoints and removes a club's managers.
	ActAppointManagers
	// ActDecideJoins lists and decides a club's join requests.
	ActDecideJoins
	// ActModerate deletes other members' posts and comments in a club.
	ActModerate
	// ActSeeCampaigns lists a brand's referral campaigns.
	ActSeeCampaigns
	// ActRankReferrers ranks the referrers of a brand's referral campaigns.
	ActRankReferrers
)

// Target is what an act is done to, as the policy needs to know it.
type Target struct {
	// BrandID is the brand of a brand act.
	BrandID string
	// Club is the club of a club act (for ActCreateClub, the club to be created).
	Club Club
	// Role is the actor's role in Club; "" when the actor is not in it.
	Role ClubRole
}

// Decide is the one rule of who may do what to brands and clubs: nil when a may do act to
// t; UNAUTHENTICATED for nobody or a refused token; FORBIDDEN for anyone else.
func Decide(a Actor, act Act, t Target) error {
	if a.anonymous() {
		if act == ActSeeInside {
			return &Error{Code: CodeUnauthenticated, Message: unauthenticatedMessage(a, "sign in to see inside clubs")}
		}
		return unauthenticated(a)
	}
	host := t.Club.BrandID
	hostAdmin := host != "" && a.IsBrandAdminOf(host)
	hostStaff := host != "" && a.IsStaffOf(host)
	platform := a.isPlatformStaff()
	var ok bool
	var who string
	switch act {
	case ActCreateBrand, ActRebuildSearch:
		ok, who = a.HasRole(RoleAdmin), "administrators"
	case ActRunBrand:
		ok, who = a.HasRole(RoleAdmin) || a.IsBrandAdminOf(t.BrandID), "the brand's admins"
	case ActServeBrand:
		ok, who = a.HasRole(RoleAdmin) || a.IsStaffOf(t.BrandID), "the brand's staff"
	case ActSeeCampaigns:
		ok, who = platform || a.IsStaffOf(t.BrandID), "the brand's staff and community managers"
	case ActRankReferrers:
		ok, who = platform || a.IsStaffOf(t.BrandID), "the brand's staff and community managers"
	case ActCreateClub:
		ok, who = platform || hostAdmin, "community managers and the host brand's admins"
	case ActSeeInside:
		ok = platform || hostStaff || t.Role != "" ||
			(t.Club.Visibility == VisibilityPublic && (a.IsMember() || a.Identity != nil))
		if !ok {
			return Errorf(CodeForbidden, "only its members see inside this club")
		}
	case ActPost:
		ok, who = a.IsMember() && t.Role != "", "the club's members"
		if !ok {
			return Errorf(CodeForbidden, "only the club's members post in it")
		}
	case ActRunClub:
		ok, who = platform || hostAdmin || t.Role == RoleManager, "the club's managers"
	case ActAppointManagers:
		ok, who = platform || hostAdmin, "community managers and the host brand's admins"
	case ActDecideJoins:
		ok, who = platform || hostAdmin || hostStaff || t.Role == RoleManager, "the club's managers and its brand's staff"
	case ActModerate:
		ok, who = platform || hostStaff || t.Role == RoleModerator || t.Role == RoleManager, "its author and the club's moderators"
	default:
		return Errorf(CodeInternal, "no rule for act %d", act)
	}
	if ok {
		return nil
	}
	return Errorf(CodeForbidden, "only %s may do this", who)
}

// unauthenticatedMessage is the message of UNAUTHENTICATED for a: why its token was
// refused, or what to do without one.
func unauthenticatedMessage(a Actor, without string) string {
	if a.AuthError != nil {
		return ErrorMessage(a.AuthError)
	}
	return without
}
