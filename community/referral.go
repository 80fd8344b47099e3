package community

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Referral fission (裂变): a brand runs referral campaigns, members share invitation codes,
// newcomers who redeem them are referred, and the campaign's rules say what the referrers
// earn. This file holds campaigns: what a campaign is, the rules of its rewards, and the
// port that stores them.

// ReferralCampaign is a brand's referral campaign: from StartsAt to EndsAt (or until it is
// ended early), its rules reward the referrers of the newcomers it brings in.
type ReferralCampaign struct {
	ID      string
	BrandID string
	Name    string
	// StartsAt and EndsAt bound the campaign: StartsAt is before EndsAt.
	StartsAt time.Time
	EndsAt   time.Time
	// RedeemWindowDays is how many days after joining a newcomer may still redeem a code
	// of the campaign.
	RedeemWindowDays int
	// Rules are the campaign's rewards, in the order they were given.
	Rules     []ReferralRule
	CreatedAt time.Time
	// EndedAt is when the brand's admins ended the campaign early; zero unless they did.
	EndedAt time.Time
}

// CampaignStatus is where a campaign stands at a time.
type CampaignStatus string

// The states of a campaign.
const (
	// CampaignScheduled: StartsAt has not come.
	CampaignScheduled CampaignStatus = "SCHEDULED"
	// CampaignActive: between StartsAt and EndsAt, and not ended early.
	CampaignActive CampaignStatus = "ACTIVE"
	// CampaignEnded: EndsAt has passed, or the campaign was ended early.
	CampaignEnded CampaignStatus = "ENDED"
)

// StatusAt returns where the campaign stands at now.
func (c ReferralCampaign) StatusAt(now time.Time) CampaignStatus {
	switch {
	case !c.EndedAt.IsZero() || !now.Before(c.EndsAt):
		return CampaignEnded
	case now.Before(c.StartsAt):
		return CampaignScheduled
	}
	return CampaignActive
}

// RewardKind is what a referral rule grants.
type RewardKind string

// The kinds of reward.
const (
	// RewardPoints credits points to the beneficiary's membership of the brand.
	RewardPoints RewardKind = "POINTS"
	// RewardAmount is a fixed amount of money, which the brand pays through its own systems.
	RewardAmount RewardKind = "AMOUNT"
	// RewardPercent is a percentage of the referee's purchase, paid as money like
	// RewardAmount.
	RewardPercent RewardKind = "PERCENT"
)

// RewardKinds lists every kind, in schema order.
var RewardKinds = []RewardKind{RewardPoints, RewardAmount, RewardPercent}

// Valid reports whether k is one of RewardKinds.
func (k RewardKind) Valid() bool { return slices.Contains(RewardKinds, k) }

// ReferralRule is one reward of a campaign: what the referrer at Level above a referee
// earns when the referee buys from the brand.
type ReferralRule struct {
	// Level is 1 for the referrer, 2 for the referrer's referrer; never deeper (see
	// MaxRewardLevel).
	Level int
	Kind  RewardKind
	// Value is in hundredths: of a point for POINTS (always whole points, so a multiple of
	// 100), of the currency's unit (minor units, fen for CNY) for AMOUNT, of a per cent for
	// PERCENT (10000 is 100%).
	Value int64
	// FirstPurchaseOnly rewards only the referee's first purchase from the brand.
	FirstPurchaseOnly bool
	// MinAmount is the least purchase, in minor units, that earns the reward; 0 for any.
	MinAmount int64
	// HoldDays is how long a reward stays pending before it is granted, so that a refund in
	// that time reverses it.
	HoldDays int
	// CapPerReferrer is the most rewards of this rule one beneficiary earns in the
	// campaign; 0 for no cap.
	CapPerReferrer int
}

// Limits of campaigns.
const (
	// MaxRewardLevel is the deepest level a rule rewards. Level 1 rewards the referrer and
	// level 2 the referrer's referrer; rewards three or more levels deep break WeChat's
	// platform rules and read as pyramid selling (传销) under Chinese law. Chains are still
	// kept to any depth, for analytics.
	MaxRewardLevel = 2
	// MaxReferralRules is the most rules a campaign has.
	MaxReferralRules = 10
	// DefaultRedeemWindowDays is a campaign's redeem window when none is given.
	DefaultRedeemWindowDays = 7
	// MaxRedeemWindowDays is the longest redeem window.
	MaxRedeemWindowDays = 365
	// MaxHoldDays is the longest hold of a reward.
	MaxHoldDays = 365
	// MaxCapPerReferrer is the highest cap of a rule.
	MaxCapPerReferrer = 1_000_000
	// MaxCampaignDays is the longest a campaign runs.
	MaxCampaignDays = 3660
)

// CreateCampaignInput is what a brand's admins give to create a referral campaign.
type CreateCampaignInput struct {
	BrandID  string
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
	// RedeemWindowDays is nil for DefaultRedeemWindowDays.
	RedeemWindowDays *int
	Rules            []ReferralRuleInput
}

// ReferralRuleInput is a rule as a client gives it: value and minAmount as decimals.
type ReferralRuleInput struct {
	Level int
	Kind  RewardKind
	// Value is a decimal: whole points for POINTS, an amount of money with at most two
	// decimals for AMOUNT, a percentage with at most two decimals for PERCENT.
	Value string
	// FirstPurchaseOnly, MinAmount, HoldDays and CapPerReferrer are optional: nil for
	// false, 0.00, 0 and no cap.
	FirstPurchaseOnly *bool
	MinAmount         *string
	HoldDays          *int
	CapPerReferrer    *int
}

// campaign validates the input and returns the campaign it describes, but for its id and
// creation time. BAD_USER_INPUT, with the field at fault, for anything outside the rules.
func (in CreateCampaignInput) campaign(now time.Time) (ReferralCampaign, error) {
	c := ReferralCampaign{
		BrandID: in.BrandID, Name: nameText.normalize(in.Name), StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		RedeemWindowDays: DefaultRedeemWindowDays,
	}
	if err := nameText.check(c.Name); err != nil {
		return c, err
	}
	switch {
	case c.StartsAt.IsZero():
		return c, fieldError("startsAt", "the campaign's start must be given")
	case c.EndsAt.IsZero():
		return c, fieldError("endsAt", "the campaign's end must be given")
	case !c.EndsAt.After(c.StartsAt):
		return c, fieldError("endsAt", "the campaign must end after it starts")
	case !c.EndsAt.After(now):
		return c, fieldError("endsAt", "the campaign's end must be in the future")
	case c.EndsAt.Sub(c.StartsAt) > MaxCampaignDays*24*time.Hour:
		return c, fieldError("endsAt", "a campaign runs at most %d days", MaxCampaignDays)
	}
	if in.RedeemWindowDays != nil {
		c.RedeemWindowDays = *in.RedeemWindowDays
		if c.RedeemWindowDays < 1 || c.RedeemWindowDays > MaxRedeemWindowDays {
			return c, fieldError("redeemWindowDays", "the redeem window is 1 to %d days", MaxRedeemWindowDays)
		}
	}
	switch {
	case len(in.Rules) == 0:
		return c, fieldError("rules", "a campaign has at least one rule")
	case len(in.Rules) > MaxReferralRules:
		return c, fieldError("rules", "a campaign has at most %d rules", MaxReferralRules)
	}
	c.Rules = make([]ReferralRule, len(in.Rules))
	for i, r := range in.Rules {
		rule, err := r.rule(fmt.Sprintf("rules[%d].", i))
		if err != nil {
			return c, err
		}
		c.Rules[i] = rule
	}
	return c, nil
}

// rule validates one rule; prefix names it in the fields of errors ("rules[0].").
func (in ReferralRuleInput) rule(prefix string) (ReferralRule, error) {
	r := ReferralRule{Level: in.Level, Kind: in.Kind}
	if in.Level < 1 || in.Level > MaxRewardLevel {
		return r, fieldError(prefix+"level", "rewards stop at level %d: level 1 rewards the referrer and level 2 the "+
			"referrer's referrer; rewards three or more levels deep break WeChat's platform rules and read as "+
			"pyramid selling (传销)", MaxRewardLevel)
	}
	if !in.Kind.Valid() {
		return r, fieldError(prefix+"kind", "unknown reward kind %q", in.Kind)
	}
	value, err := parseHundredths(prefix+"value", in.Value)
	if err != nil {
		return r, err
	}
	r.Value = value
	switch {
	case value == 0:
		return r, fieldError(prefix+"value", "a reward must be more than 0")
	case in.Kind == RewardPoints && value%100 != 0:
		return r, fieldError(prefix+"value", "points are whole numbers")
	case in.Kind == RewardPoints && value > MaxPoints*100:
		return r, fieldError(prefix+"value", "a reward is at most %d points", MaxPoints)
	case in.Kind == RewardAmount && value > MaxPurchaseAmount:
		return r, fieldError(prefix+"value", "a reward is at most %s", FormatAmount(MaxPurchaseAmount))
	case in.Kind == RewardPercent && value > 100_00:
		return r, fieldError(prefix+"value", "a percentage is at most 100")
	}
	if in.FirstPurchaseOnly != nil {
		r.FirstPurchaseOnly = *in.FirstPurchaseOnly
	}
	if in.MinAmount != nil {
		if r.MinAmount, err = parseHundredths(prefix+"minAmount", *in.MinAmount); err != nil {
			return r, err
		}
		if r.MinAmount > MaxPurchaseAmount {
			return r, fieldError(prefix+"minAmount", "the least purchase is at most %s", FormatAmount(MaxPurchaseAmount))
		}
	}
	if in.HoldDays != nil {
		r.HoldDays = *in.HoldDays
		if r.HoldDays < 0 || r.HoldDays > MaxHoldDays {
			return r, fieldError(prefix+"holdDays", "the hold is 0 to %d days", MaxHoldDays)
		}
	}
	if in.CapPerReferrer != nil {
		r.CapPerReferrer = *in.CapPerReferrer
		if r.CapPerReferrer < 1 || r.CapPerReferrer > MaxCapPerReferrer {
			return r, fieldError(prefix+"capPerReferrer", "the cap is 1 to %d rewards; leave it out for no cap", MaxCapPerReferrer)
		}
	}
	return r, nil
}

// parseHundredths reads a decimal that is not negative, with at most two decimals, into
// hundredths. BAD_USER_INPUT on field for anything else.
func parseHundredths(field, s string) (int64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fieldError(field, "%s must not be negative", field[strings.LastIndex(field, ".")+1:])
	}
	n, err := ParseAmount(s)
	if err != nil {
		return 0, fieldError(field, "%s must be a decimal number with at most two decimals, such as 10 or 5.50", field[strings.LastIndex(field, ".")+1:])
	}
	return n, nil
}

// FormatHundredths writes hundredths as a decimal: with two decimals, or none when they
// are zero ("10", "5.50").
func FormatHundredths(n int64) string {
	s := FormatAmount(n)
	return strings.TrimSuffix(s, ".00")
}

// ReferralStore is the part of the Store about referral campaigns. Like the rest of
// Store, every method is one round trip.
type ReferralStore interface {
	// CreateReferralCampaign stores a new campaign of c.BrandID. NOT_FOUND for an unknown
	// brand; CONFLICT when the id is taken. Either way nothing is stored.
	CreateReferralCampaign(ctx context.Context, c ReferralCampaign) error
	// EndReferralCampaign ends a campaign at at and returns it; a campaign ended already
	// keeps its first end time. NOT_FOUND for an unknown campaign.
	EndReferralCampaign(ctx context.Context, campaignID string, at time.Time) (ReferralCampaign, error)
	// ReferralCampaignsByID returns the campaigns with the given ids; unknown ids are
	// absent.
	ReferralCampaignsByID(ctx context.Context, ids []string) (map[string]ReferralCampaign, error)
	// ReferralCampaigns pages through a brand's campaigns, ended ones included: newest
	// created first, then by id ascending, up to first after the position (nil for the
	// first page). An unknown brand has none.
	ReferralCampaigns(ctx context.Context, brandID string, first int, after *Position) (CampaignPage, error)

	// CreateInvite returns the member's live invite of the campaign at now (LiveAt), if it
	// has one, and false; else it stores inv and returns it, and true. One transaction:
	// of calls for one member and campaign at the same time, at most one stores. NOT_FOUND
	// for an unknown member or campaign; CONFLICT when the code is taken (then nothing is
	// stored).
	CreateInvite(ctx context.Context, inv Invite, now time.Time) (Invite, bool, error)
	// InviteByCode returns the invite with the code (an InviteCodeKey). NOT_FOUND when none.
	InviteByCode(ctx context.Context, code string) (Invite, error)
}

// CampaignPage is a page of a brand's campaigns.
type CampaignPage struct {
	Campaigns   []ReferralCampaign
	HasNextPage bool
	// TotalCount is how many campaigns the brand has, ended ones included.
	TotalCount int
}
