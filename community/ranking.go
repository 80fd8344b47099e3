package community

import (
	"context"
	"slices"
	"time"
)

// Paths and rankings over the referral forest: the chain between two members when one is
// in the other's upline, and the members of a brand's campaigns ranked by the referrals
// they brought in.

// RankingStore is the part of the Store that walks and ranks the referral forest. Like the
// rest of Store, every method is one round trip, however deep the forest.
type RankingStore interface {
	// ReferralPath returns the chain between two members when one is in the other's
	// upline: the lower member first, then its referrer, and so on up to the upper member,
	// both included. Empty when neither is in the other's upline, when they are the same
	// member, and when either is unknown. The walk is not bounded in depth.
	ReferralPath(ctx context.Context, fromID, toID string) ([]string, error)
	// TopReferrers ranks the members by q.By over the referrals that came through
	// q.BrandID's campaigns (q.CampaignID's alone when it is set) with a time in the
	// window: the q.First members with the highest counts, highest first, then by member
	// id ascending; members whose count is 0 are not ranked. With q.ConsentingOnly, only
	// members who consent to share ACTIVITY with q.BrandID are ranked (the counts are the
	// same). NOT_FOUND for an unknown brand, and for a campaign that is not the brand's.
	TopReferrers(ctx context.Context, q ReferrerQuery) ([]ReferrerCount, error)
}

// PathDirection says which way a ReferralPath goes from its first member.
type PathDirection string

// The directions of a path.
const (
	// PathUp: the path goes up the upline of its first member; each member was referred
	// by the next.
	PathUp PathDirection = "UP"
	// PathDown: the path goes down from its first member into its downline; each member
	// referred the next.
	PathDown PathDirection = "DOWN"
)

// ReferralPath is the chain between two members, one in the other's upline.
type ReferralPath struct {
	// Links are the members from the first asked for to the second, both included; each
	// link's Depth is its distance from the first (0 for the first itself).
	Links     []ChainLink
	Direction PathDirection
}

// Length returns how many referrals the path spans: one less than its members.
func (p ReferralPath) Length() int { return len(p.Links) - 1 }

// CanReadReferralPath is the rule for reading the path between upper and lower, where
// lower is in upper's downline. A member reads the paths it is an end of: its upline is
// its own, and so is its downline. Anyone else reads a path as it reads lower's referral
// (CanReadReferral: platform staff; the staff of brandID, the brand of the campaign that
// lower's referral came through, with lower's consent to share ACTIVITY with that brand).
// UNAUTHENTICATED for nobody; FORBIDDEN for anyone else.
func CanReadReferralPath(a Actor, upper, lower, brandID string, consents []Consent) error {
	switch {
	case a.AuthError != nil || a.nobody():
		return unauthenticated(a)
	case a.IsMember() && (a.MemberID == upper || a.MemberID == lower):
		return nil
	}
	return CanReadReferral(a, lower, brandID, consents)
}

// mayReadSomePath reports whether a could read a path between from and to, one way or
// the other, without knowing the path: an end of it, platform staff, or brand staff, whom
// the path's own facts decide. For anyone else the answer depends on nothing stored.
func mayReadSomePath(a Actor, from, to string) bool {
	return (a.IsMember() && (a.MemberID == from || a.MemberID == to)) || a.isPlatformStaff() || a.ActsForBrand()
}

// ReferralPath returns the chain between two members when one is in the other's upline,
// from fromID to toID, or nil when neither is: unknown and malformed ids included, as the
// other lookups by id answer. The walk is one store round trip whatever its depth. Who
// reads it is CanReadReferralPath's: UNAUTHENTICATED for nobody; FORBIDDEN, before
// anything is read, for a caller who could read no path between the two (a member who is
// neither end). To brand staff a path they may not read is nil, as when there is none,
// so that they cannot probe who is in whose upline. BAD_USER_INPUT on toId when the two
// are the same member: a member is not in its own upline, and a path of one member would
// have no direction.
func (s *ReferralService) ReferralPath(ctx context.Context, fromID, toID string) (*ReferralPath, error) {
	a := ActorFrom(ctx)
	if a.anonymous() {
		return nil, unauthenticated(a)
	}
	if fromID == toID {
		return nil, fieldError("toId", "fromId and toId are the same member: a path joins two members")
	}
	if !mayReadSomePath(a, fromID, toID) {
		return nil, CanReadReferralPath(a, fromID, toID, "", nil)
	}
	if !validID(fromID) || !validID(toID) {
		return nil, nil
	}
	up, err := s.store.ReferralPath(ctx, fromID, toID)
	if err != nil || len(up) < 2 {
		return nil, err
	}
	lower, upper := up[0], up[len(up)-1]
	if err := s.pathRule(ctx, a, upper, lower); err != nil {
		if ErrorCode(err) == CodeForbidden {
			return nil, nil
		}
		return nil, err
	}
	p := &ReferralPath{Direction: PathUp, Links: make([]ChainLink, len(up))}
	if lower != fromID {
		p.Direction = PathDown
		slices.Reverse(up)
	}
	for i, id := range up {
		p.Links[i] = ChainLink{MemberID: id, Depth: i}
	}
	return p, nil
}

// pathRule decides CanReadReferralPath for a path that exists, reading the facts of
// lower's referral only when the rule needs them (brand staff who are not an end).
func (s *ReferralService) pathRule(ctx context.Context, a Actor, upper, lower string) error {
	if err := CanReadReferralPath(a, upper, lower, "", nil); err == nil || !NeedsConsent(a, lower) {
		return err
	}
	refs, err := s.store.ReferralsOf(ctx, []string{lower})
	if err != nil {
		return err
	}
	brand := ""
	if r, ok := refs[lower]; ok {
		cs, err := s.store.ReferralCampaignsByID(ctx, []string{r.CampaignID})
		if err != nil {
			return err
		}
		brand = cs[r.CampaignID].BrandID
	}
	consents, err := s.ruleConsents(ctx, []string{lower})
	if err != nil {
		return err
	}
	return CanReadReferralPath(a, upper, lower, brand, consents[lower])
}

// ReferrerRanking is what topReferrers ranks members by.
type ReferrerRanking string

// The rankings of referrers. Each counts referrals that came through the ranking's
// campaigns in its window.
const (
	// RankDirect counts the member's own referees.
	RankDirect ReferrerRanking = "DIRECT"
	// RankTotal counts the referees in the member's whole downline, at any level.
	RankTotal ReferrerRanking = "TOTAL"
	// RankConverted counts the member's own referees who have a purchase from the brand
	// that is not refunded.
	RankConverted ReferrerRanking = "CONVERTED"
)

// ReferrerRankings lists every ranking, in schema order.
var ReferrerRankings = []ReferrerRanking{RankDirect, RankTotal, RankConverted}

// Valid reports whether r is one of ReferrerRankings.
func (r ReferrerRanking) Valid() bool { return slices.Contains(ReferrerRankings, r) }

// Limits of rankings.
const (
	// DefaultTopReferrers is how many members topReferrers ranks when not asked.
	DefaultTopReferrers = 20
	// MaxTopReferrers is the most members one ranking returns.
	MaxTopReferrers = 100
)

// TopReferrersInput asks for a ranking of a brand's referrers.
type TopReferrersInput struct {
	BrandID string
	// CampaignID narrows the ranking to one of the brand's campaigns; "" for all of them.
	CampaignID string
	// From and To bound the referrals' times to [From, To); a zero time leaves its end
	// open.
	From, To time.Time
	By       ReferrerRanking
	First    int
}

// ReferrerQuery is a validated TopReferrersInput, as the service hands it to the store.
type ReferrerQuery struct {
	BrandID    string
	CampaignID string
	// From and To bound the referrals' times to [From, To); zero for an open end.
	From, To time.Time
	By       ReferrerRanking
	First    int
	// ConsentingOnly ranks only members who consent to share ACTIVITY with the brand.
	ConsentingOnly bool
}

// ReferrerCount is a member and its count in a ranking, as a store returns it.
type ReferrerCount struct {
	MemberID string
	Count    int
}

// ReferrerRank is a row of a ranking.
type ReferrerRank struct {
	MemberID string
	Count    int
	// Rank is 1 plus the number of ranked members with a higher count: members with equal
	// counts share a rank, and are ordered by member id.
	Rank int
}

// query validates the input: BAD_USER_INPUT on first outside 1 to MaxTopReferrers, on to
// when From is after To, and on by for an unknown ranking.
func (in TopReferrersInput) query() (ReferrerQuery, error) {
	q := ReferrerQuery{BrandID: in.BrandID, CampaignID: in.CampaignID, From: in.From.UTC(), To: in.To.UTC(), By: in.By, First: in.First}
	switch {
	case in.First < 1 || in.First > MaxTopReferrers:
		return q, fieldError("first", "first must be between 1 and %d", MaxTopReferrers)
	case !in.From.IsZero() && !in.To.IsZero() && in.From.After(in.To):
		return q, fieldError("to", "the window must not end before it starts")
	case !in.By.Valid():
		return q, fieldError("by", "unknown ranking %q", in.By)
	}
	return q, nil
}

// RanksConsentingOnly reports whether the rankings a sees leave out the members who have
// not consented to share ACTIVITY with the ranking's brand: brand staff's do (such a member
// is not in their ranking at all, not even as a row without its member), platform staff's
// do not.
func RanksConsentingOnly(a Actor) bool { return a.ActsForBrand() && !a.isPlatformStaff() }

// TopReferrers ranks the members who brought newcomers in through a brand's referral
// campaigns (or one of them) in a window, by in.By, highest count first, then by member
// id: at most in.First of them, each with its rank; members whose count is 0 are left out.
// The brand's staff, COMMUNITY_MANAGER and ADMIN only (Decide, ActRankReferrers); brand
// staff see only the members who consent to share ACTIVITY with the brand
// (RanksConsentingOnly). BAD_USER_INPUT as TopReferrersInput says; NOT_FOUND for an
// unknown brand, and for a campaign that is not the brand's.
func (s *ReferralService) TopReferrers(ctx context.Context, in TopReferrersInput) ([]ReferrerRank, error) {
	a := ActorFrom(ctx)
	if err := Decide(a, ActRankReferrers, Target{BrandID: in.BrandID}); err != nil {
		return nil, err
	}
	q, err := in.query()
	if err != nil {
		return nil, err
	}
	switch {
	case !validID(q.BrandID):
		return nil, Errorf(CodeNotFound, "no brand %q", q.BrandID)
	case q.CampaignID != "" && !validID(q.CampaignID):
		return nil, Errorf(CodeNotFound, "no campaign %q", q.CampaignID)
	}
	q.ConsentingOnly = RanksConsentingOnly(a)
	counts, err := s.store.TopReferrers(ctx, q)
	if err != nil {
		return nil, err
	}
	return Ranked(counts), nil
}

// Ranked gives counts, ordered highest first, their ranks: 1 plus the number of counts
// above each.
func Ranked(counts []ReferrerCount) []ReferrerRank {
	out := make([]ReferrerRank, len(counts))
	for i, c := range counts {
		out[i] = ReferrerRank{MemberID: c.MemberID, Count: c.Count, Rank: i + 1}
		if i > 0 && c.Count == counts[i-1].Count {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out
}
