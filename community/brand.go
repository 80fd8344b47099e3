package community

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Brand is a company whose customers form part of the community; several partner brands
// can share one community.
type Brand struct {
	ID          string
	Slug        string
	Name        string
	Description string
	// Tiers of the brand's membership programme, by ascending threshold; the first is 0.
	Tiers     []Tier
	CreatedAt time.Time
}

// Tier is a level of a brand's membership programme (普通, 银卡, 金卡, …): a member is at
// the highest tier whose threshold its points reach.
type Tier struct {
	Name      string
	Threshold int
}

// TierFor returns the name of the tier that points reach, or "" when the brand has none.
func (b Brand) TierFor(points int) string {
	name := ""
	for _, t := range b.Tiers {
		if points >= t.Threshold {
			name = t.Name
		}
	}
	return name
}

// pointsRange returns the points of a tier: [min, max), max -1 for no bound. NOT_FOUND for
// a tier the brand does not have.
func (b Brand) pointsRange(tier string) (int, int, error) {
	for i, t := range b.Tiers {
		if t.Name == tier {
			if i+1 < len(b.Tiers) {
				return t.Threshold, b.Tiers[i+1].Threshold, nil
			}
			return t.Threshold, -1, nil
		}
	}
	return 0, 0, fieldError("tier", "the brand has no tier %q", tier)
}

// DefaultTiers are the tiers of a new brand until its admins set their own.
var DefaultTiers = []Tier{{Name: "普通", Threshold: 0}, {Name: "银卡", Threshold: 1000}, {Name: "金卡", Threshold: 5000}}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// SlugKey is the form of a slug that uniqueness is checked on.
func SlugKey(slug string) string { return strings.ToLower(strings.TrimSpace(slug)) }

func validateSlug(slug string) error {
	if len(slug) < 2 || !slugPattern.MatchString(slug) {
		return fieldError("slug", "slug must be 2 to 40 characters of a-z, 0-9 and inner hyphens")
	}
	return nil
}

// Limits of brands and clubs.
const (
	// MaxName is the longest name of a brand or a club.
	MaxName = 80
	// MaxDescription is the longest description of a brand or a club.
	MaxDescription = 2000
	// MaxTierName is the longest name of a tier.
	MaxTierName = 20
	// MaxTiers is the most tiers a brand has.
	MaxTiers = 10
	// MaxPoints is the most points a member holds in a brand's programme, and the highest
	// threshold of a tier: it keeps points well inside GraphQL's 32-bit Int.
	MaxPoints = 1_000_000_000
)

// CreateBrandInput is what an administrator gives to create a brand.
type CreateBrandInput struct {
	Slug        string
	Name        string
	Description string
}

// validateTiers checks a tier list: 1 to MaxTiers tiers, names of 1 to MaxTierName
// characters (lines of text) and unique, thresholds starting at 0, strictly increasing and
// at most MaxPoints.
func validateTiers(tiers []Tier) error {
	if len(tiers) < 1 || len(tiers) > MaxTiers {
		return fieldError("tiers", "a brand has 1 to %d tiers", MaxTiers)
	}
	seen := map[string]bool{}
	for i, t := range tiers {
		if err := tierNameText.check(t.Name); err != nil {
			return err
		}
		if seen[t.Name] {
			return fieldError("tiers", "tier %q is named twice", t.Name)
		}
		seen[t.Name] = true
		switch {
		case i == 0 && t.Threshold != 0:
			return fieldError("tiers", "the first tier starts at 0 points")
		case i > 0 && t.Threshold <= tiers[i-1].Threshold:
			return fieldError("tiers", "tier thresholds must increase")
		case t.Threshold > MaxPoints:
			return fieldError("tiers", "tier thresholds are at most %d points", MaxPoints)
		}
	}
	return nil
}

// PartnershipStatus is where a partnership between two brands stands.
type PartnershipStatus string

// The states of a partnership.
const (
	PartnershipPending PartnershipStatus = "PENDING"
	PartnershipActive  PartnershipStatus = "ACTIVE"
	PartnershipEnded   PartnershipStatus = "ENDED"
)

// Partnership is one brand's invitation to another to share the community, and what came
// of it. Between two brands there is at most one partnership that is not ended.
type Partnership struct {
	InviterID  string
	InviteeID  string
	Status     PartnershipStatus
	InvitedAt  time.Time
	AcceptedAt time.Time // zero until accepted
	EndedAt    time.Time // zero until ended
}

// BrandMembership is a member's place in a brand's membership programme.
type BrandMembership struct {
	MemberID string
	BrandID  string
	Points   int
	Since    time.Time
}

// ConsentScope is what a member lets a brand read about them.
type ConsentScope string

// The consent scopes.
const (
	// ScopeProfile lets brand staff read the member's profile.
	ScopeProfile ConsentScope = "PROFILE"
	// ScopeContact lets brand staff read the member's identities (how to reach them).
	ScopeContact ConsentScope = "CONTACT"
	// ScopeActivity lets brand staff read the member's activity: follows, memberships, …
	ScopeActivity ConsentScope = "ACTIVITY"
)

// ConsentScopes lists every scope, in schema order.
var ConsentScopes = []ConsentScope{ScopeProfile, ScopeContact, ScopeActivity}

// Valid reports whether s is one of ConsentScopes.
func (s ConsentScope) Valid() bool { return slices.Contains(ConsentScopes, s) }

// ConsentChange is one entry of the consent ledger: a member granted or revoked one scope
// to one brand. The ledger is never rewritten.
type ConsentChange struct {
	// ID is unique and increases with time: the ledger's order.
	ID       string
	MemberID string
	BrandID  string
	Scope    ConsentScope
	Granted  bool
	At       time.Time
}

// Consent is what a member currently lets one brand read.
type Consent struct {
	BrandID string
	// Scopes are in ConsentScopes order.
	Scopes    []ConsentScope
	UpdatedAt time.Time
}

// Allows reports whether the consent grants scope.
func (c Consent) Allows(scope ConsentScope) bool { return slices.Contains(c.Scopes, scope) }

// Purchase is a member's purchase from a brand, recorded by the brand's staff.
type Purchase struct {
	ID       string
	MemberID string
	BrandID  string
	// Amount is in minor units (fen for CNY).
	Amount     int64
	Currency   string
	ExternalID string
	At         time.Time
	RecordedAt time.Time
	RefundedAt time.Time // zero unless refunded
}

// Refunded reports whether the purchase was refunded.
func (p Purchase) Refunded() bool { return !p.RefundedAt.IsZero() }

// PointsPerUnit is how many programme points a purchase earns per whole currency unit.
const PointsPerUnit = 1

// Points returns the programme points a purchase earns when recorded (and loses when
// refunded).
func (p Purchase) Points() int { return int(p.Amount/100) * PointsPerUnit }

// Earned returns the points the purchase counts for now: none once refunded.
func (p Purchase) Earned() int {
	if p.Refunded() {
		return 0
	}
	return p.Points()
}

// Purchase limits.
const (
	// MaxPurchaseAmount is the largest amount of one purchase, in minor units: ten million
	// units of its currency, which earn 10,000,000 points.
	MaxPurchaseAmount = 10_000_000_00
	// MaxExternalID is the longest external id of a purchase, in characters.
	MaxExternalID = 100
)

// PointsLimitError is the CONFLICT of a purchase whose points would take the member's
// points in the brand's programme above MaxPoints; the stores refuse such a purchase with
// it and store nothing.
func PointsLimitError() *Error {
	return &Error{Code: CodeConflict, Field: "amount",
		Message: fmt.Sprintf("the purchase would take the member's points in the brand above %d", MaxPoints)}
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// RecordPurchaseInput is what brand staff give to record a purchase.
type RecordPurchaseInput struct {
	MemberID   string
	BrandID    string
	Amount     int64
	Currency   string
	ExternalID string
	At         time.Time
}

// BrandStore is the part of the Store about brands, partnerships, membership programmes,
// consent and purchases. Like the rest of Store, every method is one round trip.
type BrandStore interface {
	// CreateBrand stores a new brand. CONFLICT when its id or slug is taken.
	CreateBrand(ctx context.Context, b Brand) error
	// SetBrandTiers replaces a brand's tiers. NOT_FOUND for an unknown brand.
	SetBrandTiers(ctx context.Context, brandID string, tiers []Tier) error
	// BrandsByID returns the brands with the given ids; unknown ids are absent.
	BrandsByID(ctx context.Context, ids []string) (map[string]Brand, error)
	// BrandBySlug returns the brand with the slug (a SlugKey). NOT_FOUND when none.
	BrandBySlug(ctx context.Context, slug string) (Brand, error)

	// InvitePartner records a pending partnership. NOT_FOUND when either brand is unknown;
	// CONFLICT when the two brands have a partnership that is not ended (either way round).
	InvitePartner(ctx context.Context, p Partnership) error
	// AcceptPartnership makes the pending invitation from inviterID to inviteeID active.
	// NOT_FOUND when there is no such pending invitation.
	AcceptPartnership(ctx context.Context, inviterID, inviteeID string, at time.Time) error
	// EndPartnership ends the partnership of two brands that is not ended, either way
	// round, pending or active. NOT_FOUND when there is none.
	EndPartnership(ctx context.Context, brandID, otherID string, at time.Time) error
	// PartnershipsOf returns, for each brand, its partnerships that are not ended, oldest
	// invitation first.
	PartnershipsOf(ctx context.Context, brandIDs []string) (map[string][]Partnership, error)

	// JoinBrand puts a member in a brand's programme with 0 points; joining again changes
	// nothing. NOT_FOUND when the member or brand is unknown.
	JoinBrand(ctx context.Context, memberID, brandID string, at time.Time) error
	// MembershipsOf returns each member's programme memberships, oldest first.
	MembershipsOf(ctx context.Context, memberIDs []string) (map[string][]BrandMembership, error)
	// BrandMembers pages through a brand's programme members who currently consent to the
	// brand with ScopeProfile and whose points are in [q.MinPoints, q.MaxPoints) (MaxPoints
	// -1: no bound): newest membership first, then by member id.
	BrandMembers(ctx context.Context, brandID string, q MembersQuery) (MembershipPage, error)
	// BrandMemberCounts returns the number of programme members of each brand, consenting
	// or not; unknown brands may be absent.
	BrandMemberCounts(ctx context.Context, brandIDs []string) (map[string]int, error)

	// ChangeConsent grants (or revokes) scopes of a member's consent to a brand, in one
	// transaction: for each scope whose state changes it appends a ledger entry, with the
	// id of the same index in ids, and updates the current consent. It returns the entries
	// appended (none when nothing changed). NOT_FOUND when the member or brand is unknown.
	ChangeConsent(ctx context.Context, memberID, brandID string, scopes []ConsentScope, granted bool, at time.Time, ids []string) ([]ConsentChange, error)
	// ConsentsOf returns each member's current consents, one per brand with at least one
	// scope, by brand id.
	ConsentsOf(ctx context.Context, memberIDs []string) (map[string][]Consent, error)
	// ConsentHistory pages through a member's ledger, newest first: up to first changes
	// with an ID below before ("" for the newest).
	ConsentHistory(ctx context.Context, memberID string, first int, before string) ([]ConsentChange, bool, error)

	// RecordPurchase stores a purchase and adds its points to the member's membership of
	// the brand, if any, in one transaction. A purchase whose (BrandID, ExternalID) is
	// stored already is not stored again: the stored one is returned, or CONFLICT when it
	// differs in member, amount, currency or time. NOT_FOUND for an unknown member or brand;
	// PointsLimitError (CONFLICT) when the points it would credit take the member's points
	// in the brand above MaxPoints, and then nothing is stored. A credit writes a
	// PointsPurchase entry. When it stores the purchase and rule is not nil, it reads the
	// RewardFacts of the purchase in the same transaction, under locks that keep them true
	// until it commits (the buyer's upline), and writes the rewards rule returns, each with
	// an outbox event (EventReward); a purchase found stored already gets none.
	RecordPurchase(ctx context.Context, p Purchase, rule RewardRule) (Purchase, error)
	// RefundPurchase marks a brand's purchase refunded and takes back the points that
	// recording it credited (none when the member had not joined the programme then; never
	// below 0), with a PointsRefund entry; in the same transaction it reverses the
	// purchase's pending rewards and claws back its granted ones: their points are taken
	// from the beneficiary's membership as far as it has them, with a PointsClawback entry
	// and the rest recorded as the reward's Shortfall; each changed reward gets an outbox
	// event. Refunding again changes nothing. NOT_FOUND for no such purchase of the brand.
	RefundPurchase(ctx context.Context, brandID, purchaseID string, at time.Time) (Purchase, error)
	// PurchasesOf returns each member's purchases from the brand (from every brand when
	// brandID is ""), newest first.
	PurchasesOf(ctx context.Context, brandID string, memberIDs []string) (map[string][]Purchase, error)
}

// MembersQuery selects a page of a brand's programme members.
type MembersQuery struct {
	First     int
	After     *Position
	MinPoints int
	MaxPoints int
}

// MembershipPage is a page of a brand's programme members.
type MembershipPage struct {
	Memberships []BrandMembership
	HasNextPage bool
}

// ParseAmount reads a decimal amount of money ("199", "199.5", "199.50") into minor units.
// BAD_USER_INPUT for anything else, negative amounts, or more than two decimals.
func ParseAmount(s string) (int64, error) {
	bad := fieldError("amount", "amount must be a decimal number with at most two decimals, such as 199.00")
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, bad
	}
	var n int64
	for _, r := range whole + frac + strings.Repeat("0", 2-len(frac)) {
		if r < '0' || r > '9' {
			return 0, bad
		}
		n = n*10 + int64(r-'0')
	}
	return n, nil
}

// FormatAmount writes minor units as a decimal amount with two decimals.
func FormatAmount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return sign + strconv.FormatInt(minor/100, 10) + "." + fmt.Sprintf("%02d", minor%100)
}

// IsEntity marks Brand as an entity of the federated graph (see Member.IsEntity).
func (Brand) IsEntity() {}
