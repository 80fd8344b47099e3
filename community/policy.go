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
