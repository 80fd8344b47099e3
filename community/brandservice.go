package community

import (
	"context"
	"slices"
	"strings"
	"time"
)

// CreateBrand creates a brand with DefaultTiers. ADMIN only; BAD_USER_INPUT for invalid
// fields; CONFLICT for a taken slug.
func (s *BrandService) CreateBrand(ctx context.Context, in CreateBrandInput) (Brand, error) {
	a, err := s.gate(ctx, "createBrand", NeedSignedIn)
	if err != nil {
		return Brand{}, err
	}
	if err := Decide(a, ActCreateBrand, Target{}); err != nil {
		return Brand{}, err
	}
	b := Brand{
		ID: s.newID(), Slug: SlugKey(in.Slug), Name: nameText.normalize(in.Name),
		Description: descriptionText.normalize(in.Description), Tiers: slices.Clone(DefaultTiers), CreatedAt: s.now().UTC(),
	}
	if err := validateSlug(b.Slug); err != nil {
		return Brand{}, err
	}
	if err := nameText.check(b.Name); err != nil {
		return Brand{}, err
	}
	if err := descriptionText.check(b.Description); err != nil {
		return Brand{}, err
	}
	if err := s.store.CreateBrand(ctx, b); err != nil {
		return Brand{}, err
	}
	return b, nil
}

// SetBrandTiers replaces a brand's tiers. The brand's admins and ADMIN only.
func (s *BrandService) SetBrandTiers(ctx context.Context, brandID string, tiers []Tier) (Brand, error) {
	a, err := s.gate(ctx, "setBrandTiers", NeedSignedIn)
	if err != nil {
		return Brand{}, err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: brandID}); err != nil {
		return Brand{}, err
	}
	for i := range tiers {
		tiers[i].Name = tierNameText.normalize(tiers[i].Name)
	}
	if err := validateTiers(tiers); err != nil {
		return Brand{}, err
	}
	if err := s.store.SetBrandTiers(ctx, brandID, tiers); err != nil {
		return Brand{}, err
	}
	return s.brand(ctx, brandID)
}

func (s *core) brand(ctx context.Context, id string) (Brand, error) {
	return oneByID(ctx, id, "brand", s.store.BrandsByID)
}

// BrandsByID returns the brands with the given ids, nil where there is none; brands are
// public. A dataloader batch function.
func (s *BrandService) BrandsByID(ctx context.Context, ids []string) ([]*Brand, []error) {
	return byID(ctx, ids, s.store.BrandsByID)
}

// BrandBySlug returns the brand with the slug, or nil.
func (s *BrandService) BrandBySlug(ctx context.Context, slug string) (*Brand, error) {
	if validateSlug(SlugKey(slug)) != nil {
		return nil, nil
	}
	return orNone(s.store.BrandBySlug(ctx, SlugKey(slug)))
}

// InvitePartner invites another brand to share the community. The inviting brand's admins
// (or ADMIN) only; BAD_USER_INPUT for the brand itself; CONFLICT when the two are partners
// or an invitation is pending; NOT_FOUND for an unknown brand.
func (s *BrandService) InvitePartner(ctx context.Context, brandID, partnerID string) (Partnership, error) {
	a, err := s.gate(ctx, "invitePartner", NeedSignedIn)
	if err != nil {
		return Partnership{}, err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: brandID}); err != nil {
		return Partnership{}, err
	}
	if brandID == partnerID {
		return Partnership{}, fieldError("partnerBrandId", "a brand cannot partner with itself")
	}
	if !validID(partnerID) || !validID(brandID) {
		return Partnership{}, Errorf(CodeNotFound, "no brand %q", partnerID)
	}
	p := Partnership{InviterID: brandID, InviteeID: partnerID, Status: PartnershipPending, InvitedAt: s.now().UTC()}
	if err := s.store.InvitePartner(ctx, p); err != nil {
		return Partnership{}, err
	}
	return p, nil
}

// AcceptPartnership accepts the pending invitation of inviterID to brandID. The invited
// brand's admins (or ADMIN) only; NOT_FOUND when there is no such invitation.
func (s *BrandService) AcceptPartnership(ctx context.Context, brandID, inviterID string) error {
	a, err := s.gate(ctx, "acceptPartnership", NeedSignedIn)
	if err != nil {
		return err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: brandID}); err != nil {
		return err
	}
	return s.store.AcceptPartnership(ctx, inviterID, brandID, s.now().UTC())
}

// EndPartnership ends the partnership, or withdraws or declines the invitation, between
// brandID and otherID. Either brand's admins (or ADMIN); NOT_FOUND when there is none.
func (s *BrandService) EndPartnership(ctx context.Context, brandID, otherID string) error {
	a, err := s.gate(ctx, "endPartnership", NeedSignedIn)
	if err != nil {
		return err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: brandID}); err != nil {
		return err
	}
	return s.store.EndPartnership(ctx, brandID, otherID, s.now().UTC())
}

// Partnerships returns each brand's partnerships that are not ended: active ones are
// public; pending invitations are shown only to the staff of either brand and ADMIN. A
// dataloader batch function.
func (s *BrandService) Partnerships(ctx context.Context, brandIDs []string) ([][]Partnership, []error) {
	a := ActorFrom(ctx)
	out := make([][]Partnership, len(brandIDs))
	found, err := s.store.PartnershipsOf(ctx, brandIDs)
	if err != nil {
		return out, repeatError(err, len(brandIDs))
	}
	for i, id := range brandIDs {
		for _, p := range found[id] {
			if p.Status == PartnershipActive || a.IsStaffOf(p.InviterID) || a.IsStaffOf(p.InviteeID) || a.HasRole(RoleAdmin) {
				out[i] = append(out[i], p)
			}
		}
	}
	return out, nil
}

// JoinBrand puts the calling member in a brand's membership programme; joining again
// changes nothing. NOT_FOUND for an unknown brand.
func (s *BrandService) JoinBrand(ctx context.Context, brandID string) (BrandMembership, error) {
	a, err := s.gate(ctx, "joinBrand", NeedMember)
	if err != nil {
		return BrandMembership{}, err
	}
	if !validID(brandID) {
		return BrandMembership{}, Errorf(CodeNotFound, "no brand %q", brandID)
	}
	if err := s.store.JoinBrand(ctx, a.MemberID, brandID, s.now().UTC()); err != nil {
		return BrandMembership{}, err
	}
	found, err := s.store.MembershipsOf(ctx, []string{a.MemberID})
	if err != nil {
		return BrandMembership{}, err
	}
	for _, m := range found[a.MemberID] {
		if m.BrandID == brandID {
			return m, nil
		}
	}
	return BrandMembership{}, Errorf(CodeInternal, "the membership was not stored")
}

// Memberships returns each member's programme memberships: all of them to the member and
// ADMIN; to brand staff, the membership of their own brand only, if the member consents to
// share its profile with it; FORBIDDEN to anyone else. A dataloader batch function.
func (s *BrandService) Memberships(ctx context.Context, memberIDs []string) ([][]BrandMembership, []error) {
	a := ActorFrom(ctx)
	out := make([][]BrandMembership, len(memberIDs))
	errs := make([]error, len(memberIDs))
	staff, err := s.access(ctx, memberIDs, ScopeProfile)
	if err != nil {
		return out, repeatError(err, len(memberIDs))
	}
	for i, id := range memberIDs {
		switch {
		case canReadPrivate(a, id) == nil:
		case NeedsConsent(a, id) && staff[i] == nil:
		case NeedsConsent(a, id):
			errs[i] = staff[i]
		default:
			errs[i] = canReadPrivate(a, id)
		}
	}
	// Brand staff see a consenting member's membership of their own brand alone.
	readIDs(memberIDs, out, errs, func(ids []string) (map[string][]BrandMembership, error) {
		found, err := s.store.MembershipsOf(ctx, ids)
		for id, ms := range found {
			if NeedsConsent(a, id) {
				var own []BrandMembership
				for _, m := range ms {
					if m.BrandID == a.BrandID {
						own = append(own, m)
					}
				}
				found[id] = own
			}
		}
		return found, err
	})
	return out, errs
}

// MembershipList is a page of a brand's programme members.
type MembershipList struct {
	MembershipPage
	edges []ListedMembership
}

// ListedEdges returns the page's memberships with their cursors.
func (l MembershipList) ListedEdges() []ListedMembership { return l.edges }

// ListedMembership is a membership in a page, with its cursor.
type ListedMembership struct {
	BrandMembership
	cursor lazyCursor[timeKey]
}

// Cursor returns the membership's cursor.
func (m ListedMembership) Cursor() string { return m.cursor.String() }

// listBrandMembers is the kind of list that brand member cursors are tied to.
const listBrandMembers cursorList[timeKey] = "brand-members"

// BrandMembers pages through a brand's programme members who consent to share their profile
// with it, optionally of one tier. The brand's staff and ADMIN only; BAD_USER_INPUT for
// bad paging arguments or a tier the brand does not have.
func (s *BrandService) BrandMembers(ctx context.Context, brandID string, first int, after string, tier *string) (MembershipList, error) {
	if err := Decide(ActorFrom(ctx), ActServeBrand, Target{BrandID: brandID}); err != nil {
		return MembershipList{}, err
	}
	if first < 0 || first > MaxPageSize {
		return MembershipList{}, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	q := MembersQuery{First: first, MaxPoints: -1}
	if after != "" {
		k, err := decodeCursor(s.core, listBrandMembers, brandID, after)
		if err != nil {
			return MembershipList{}, err
		}
		q.After = k.position()
	}
	if tier != nil {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return MembershipList{}, err
		}
		if q.MinPoints, q.MaxPoints, err = b.pointsRange(*tier); err != nil {
			return MembershipList{}, err
		}
	}
	page, err := s.store.BrandMembers(ctx, brandID, q)
	if err != nil {
		return MembershipList{}, err
	}
	l := MembershipList{MembershipPage: page, edges: make([]ListedMembership, len(page.Memberships))}
	for i, m := range page.Memberships {
		l.edges[i] = ListedMembership{BrandMembership: m, cursor: newCursor(s.core, listBrandMembers, brandID, timeKey{m.Since, m.MemberID})}
	}
	return l, nil
}

// BrandMemberCounts returns how many members each brand's programme has; public. A
// dataloader batch function.
func (s *BrandService) BrandMemberCounts(ctx context.Context, brandIDs []string) ([]int, []error) {
	return valuesInOrder(ctx, brandIDs, s.store.BrandMemberCounts)
}

// ChangeConsent grants (granted) or revokes the scopes of the calling member's consent to
// a brand, and returns the consent as it now is. BAD_USER_INPUT for no or unknown scopes;
// NOT_FOUND for an unknown brand.
func (s *BrandService) ChangeConsent(ctx context.Context, brandID string, scopes []ConsentScope, granted bool) (Consent, error) {
	a, err := s.gate(ctx, consentAction(granted), NeedMember)
	if err != nil {
		return Consent{}, err
	}
	if len(scopes) == 0 {
		return Consent{}, fieldError("scopes", "name at least one scope")
	}
	var uniq []ConsentScope
	for _, sc := range scopes {
		if !sc.Valid() {
			return Consent{}, fieldError("scopes", "unknown scope %q", sc)
		}
		if !slices.Contains(uniq, sc) {
			uniq = append(uniq, sc)
		}
	}
	if !validID(brandID) {
		return Consent{}, Errorf(CodeNotFound, "no brand %q", brandID)
	}
	ids := make([]string, len(uniq))
	for i := range ids {
		ids[i] = s.newID()
	}
	if _, err := s.store.ChangeConsent(ctx, a.MemberID, brandID, uniq, granted, s.now().UTC(), ids); err != nil {
		return Consent{}, err
	}
	found, err := s.store.ConsentsOf(ctx, []string{a.MemberID})
	if err != nil {
		return Consent{}, err
	}
	for _, c := range found[a.MemberID] {
		if c.BrandID == brandID {
			return c, nil
		}
	}
	return Consent{BrandID: brandID}, nil
}

// Consents returns each member's current consents: the member's and ADMIN's to read. A
// dataloader batch function.
func (s *BrandService) Consents(ctx context.Context, memberIDs []string) ([][]Consent, []error) {
	a := ActorFrom(ctx)
	out := make([][]Consent, len(memberIDs))
	errs := make([]error, len(memberIDs))
	var fetch []string
	for i, id := range memberIDs {
		if errs[i] = canReadPrivate(a, id); errs[i] == nil {
			fetch = append(fetch, id)
		}
	}
	if len(fetch) == 0 {
		return out, errs
	}
	found, err := s.store.ConsentsOf(ctx, fetch)
	if err != nil {
		return out, repeatError(err, len(memberIDs))
	}
	for i, id := range memberIDs {
		if errs[i] == nil {
			out[i] = found[id]
		}
	}
	return out, errs
}

// ListedChange is a consent ledger entry in a page, with its cursor.
type ListedChange struct {
	ConsentChange
	cursor lazyCursor[timeKey]
}

// Cursor returns the entry's cursor.
func (c ListedChange) Cursor() string { return c.cursor.String() }

// listConsentHistory is the kind of list that ledger cursors are tied to.
const listConsentHistory cursorList[timeKey] = "consent-history"

// ConsentHistory pages through a member's consent ledger, newest first: the member's and
// ADMIN's to read. BAD_USER_INPUT for bad paging arguments.
func (s *BrandService) ConsentHistory(ctx context.Context, memberID string, first int, after string) ([]ListedChange, bool, error) {
	if err := canReadPrivate(ActorFrom(ctx), memberID); err != nil {
		return nil, false, err
	}
	if first < 0 || first > MaxPageSize {
		return nil, false, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	before := ""
	if after != "" {
		k, err := decodeCursor(s.core, listConsentHistory, memberID, after)
		if err != nil {
			return nil, false, err
		}
		before = k.ID
	}
	changes, more, err := s.store.ConsentHistory(ctx, memberID, first, before)
	if err != nil {
		return nil, false, err
	}
	out := make([]ListedChange, len(changes))
	for i, c := range changes {
		out[i] = ListedChange{ConsentChange: c, cursor: newCursor(s.core, listConsentHistory, memberID, timeKey{c.At, c.ID})}
	}
	return out, more, nil
}

// RecordPurchase records a member's purchase from a brand and credits its points; when the
// member was referred through a campaign of the brand, the rewards the campaign's rules
// give (RewardsFor) are written with it. The brand's staff and ADMIN only; idempotent on
// (brand, external id): recording the same purchase again returns it, and writes no reward
// again; a different one with the same external id is CONFLICT.
func (s *BrandService) RecordPurchase(ctx context.Context, in RecordPurchaseInput) (Purchase, error) {
	a, err := s.gate(ctx, "recordPurchase", NeedSignedIn)
	if err != nil {
		return Purchase{}, err
	}
	if err := Decide(a, ActServeBrand, Target{BrandID: in.BrandID}); err != nil {
		return Purchase{}, err
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	in.ExternalID = purchaseIDText.normalize(in.ExternalID)
	now := s.now().UTC()
	badID := purchaseIDText.check(in.ExternalID)
	switch {
	case in.Amount <= 0 || in.Amount > MaxPurchaseAmount:
		return Purchase{}, fieldError("amount", "amount must be positive and at most %s", FormatAmount(MaxPurchaseAmount))
	case !currencyPattern.MatchString(in.Currency):
		return Purchase{}, fieldError("currency", "currency must be an ISO 4217 code such as CNY")
	case badID != nil:
		return Purchase{}, badID
	case in.At.IsZero() || in.At.After(now.Add(5*time.Minute)):
		return Purchase{}, fieldError("at", "the purchase time must be given and not in the future")
	case !validID(in.MemberID):
		return Purchase{}, Errorf(CodeNotFound, "no member %q", in.MemberID)
	}
	p := Purchase{ID: s.newID(), MemberID: in.MemberID, BrandID: in.BrandID, Amount: in.Amount, Currency: in.Currency,
		ExternalID: in.ExternalID, At: in.At.UTC(), RecordedAt: now}
	return s.store.RecordPurchase(ctx, p, RewardsFor)
}

// RefundPurchase marks a purchase refunded and takes its points back. The brand's staff and
// ADMIN only; NOT_FOUND for no such purchase of the brand.
func (s *BrandService) RefundPurchase(ctx context.Context, brandID, purchaseID string) (Purchase, error) {
	a, err := s.gate(ctx, "refundPurchase", NeedSignedIn)
	if err != nil {
		return Purchase{}, err
	}
	if err := Decide(a, ActServeBrand, Target{BrandID: brandID}); err != nil {
		return Purchase{}, err
	}
	if !validID(purchaseID) {
		return Purchase{}, Errorf(CodeNotFound, "no purchase %q", purchaseID)
	}
	return s.store.RefundPurchase(ctx, brandID, purchaseID, s.now().UTC())
}

// PurchaseKey names the purchases asked of one member: of one brand, or of all (BrandID "").
type PurchaseKey struct {
	MemberID string
	BrandID  string
}

// Purchases returns the purchases each key asks for: the member and ADMIN read them all;
// a brand's staff read those of their brand; anyone else gets FORBIDDEN. A dataloader
// batch function.
func (s *BrandService) Purchases(ctx context.Context, keys []PurchaseKey) ([][]Purchase, []error) {
	a := ActorFrom(ctx)
	out := make([][]Purchase, len(keys))
	errs := make([]error, len(keys))
	for i, k := range keys {
		switch {
		case canReadPrivate(a, k.MemberID) == nil:
		case k.BrandID != "" && a.IsStaffOf(k.BrandID):
		default:
			errs[i] = Decide(a, ActServeBrand, Target{BrandID: k.BrandID})
			if errs[i] == nil || k.BrandID == "" {
				errs[i] = Errorf(CodeForbidden, "only the member and the brand's staff may read these purchases")
			}
		}
	}
	readByMember(keys, out, errs, func(k PurchaseKey) string { return k.BrandID },
		func(k PurchaseKey) string { return k.MemberID },
		func(brand string, ids []string) (map[string][]Purchase, error) {
			return s.store.PurchasesOf(ctx, brand, ids)
		})
	return out, errs
}

// ConsentsForRule returns, for each member, its current consent to the caller's brand, for
// checking CanRead; nothing when the caller's reads do not depend on consent (then it
// costs no round trip). Resolvers use it to check fields; it shows no other brand's
// consent. A dataloader batch function.
func (s *BrandService) ConsentsForRule(ctx context.Context, memberIDs []string) ([][]Consent, []error) {
	a := ActorFrom(ctx)
	out := make([][]Consent, len(memberIDs))
	var need []string
	for _, id := range memberIDs {
		if NeedsConsent(a, id) {
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return out, nil
	}
	found, err := s.ruleConsents(ctx, need)
	if err != nil {
		return out, repeatError(err, len(memberIDs))
	}
	for i, id := range memberIDs {
		for _, c := range found[id] {
			if c.BrandID == a.BrandID {
				out[i] = []Consent{c}
			}
		}
	}
	return out, nil
}
