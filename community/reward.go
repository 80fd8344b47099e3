package community

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// Rewards: when a referee buys from the brand of the campaign their referral came
// through, the campaign's rules give the referrer (level 1) and the referrer's referrer
// (level 2) rewards. A reward waits out its rule's hold as PENDING, so that a refund in
// that time reverses it; then the grant job grants it: POINTS are credited to the
// beneficiary's membership of the brand, money (AMOUNT, PERCENT) is announced through the
// outbox for the brand to pay through its own systems. A refund after the grant claws the
// points back, never below zero. A reward whose referral carries fraud signals waits for
// a person to review it.

// RewardStatus is where a reward stands.
type RewardStatus string

// The states of a reward.
const (
	// RewardPending: the reward waits out its hold (and its review, when flagged).
	RewardPending RewardStatus = "PENDING"
	// RewardGranted: the grant job credited its points, or announced its money.
	RewardGranted RewardStatus = "GRANTED"
	// RewardReversed: the purchase was refunded while the reward was pending.
	RewardReversed RewardStatus = "REVERSED"
	// RewardClawedBack: the purchase was refunded after the grant; the points were taken
	// back as far as the beneficiary still had them.
	RewardClawedBack RewardStatus = "CLAWED_BACK"
	// RewardRejected: a reviewer rejected the reward.
	RewardRejected RewardStatus = "REJECTED"
)

// RewardStatuses lists every status, in schema order.
var RewardStatuses = []RewardStatus{RewardPending, RewardGranted, RewardReversed, RewardClawedBack, RewardRejected}

// Valid reports whether s is one of RewardStatuses.
func (s RewardStatus) Valid() bool { return slices.Contains(RewardStatuses, s) }

// Counts reports whether a reward of the status counts toward its rule's cap: pending and
// granted ones do; reversed, clawed back and rejected ones were never earned.
func (s RewardStatus) Counts() bool { return s == RewardPending || s == RewardGranted }

// ReviewDecision is what a reviewer decides about a flagged reward.
type ReviewDecision string

// The decisions of a review.
const (
	// ReviewApprove lets the grant job grant the reward once its hold ends.
	ReviewApprove ReviewDecision = "APPROVE"
	// ReviewReject ends the reward: it is never granted.
	ReviewReject ReviewDecision = "REJECT"
)

// Valid reports whether d is a decision.
func (d ReviewDecision) Valid() bool { return d == ReviewApprove || d == ReviewReject }

// RewardReview is one decision about a reward: who, when, what and why. Every decision is
// kept, in the order made.
type RewardReview struct {
	// ReviewerID is the reviewer's member id: "" for a token that names no member.
	ReviewerID string
	Decision   ReviewDecision
	Note       string
	At         time.Time
}

// Reward is one entry of the reward ledger: what one purchase of a referee earned one
// beneficiary under one rule of a campaign.
type Reward struct {
	ID         string
	CampaignID string
	BrandID    string
	// BeneficiaryID is who earns the reward: the referee's referrer (Level 1) or the
	// referrer's referrer (Level 2).
	BeneficiaryID string
	RefereeID     string
	PurchaseID    string
	// Rule is the index of the campaign's rule that gave the reward.
	Rule  int
	Level int
	Kind  RewardKind
	// Points are the points a POINTS reward credits; 0 for money.
	Points int
	// Amount is the money an AMOUNT or PERCENT reward is worth, in minor units of Currency
	// (the purchase's); 0 for points.
	Amount   int64
	Currency string
	Status   RewardStatus
	// Flags are the fraud signals that hold the reward for review: the referral's, and
	// FlagInactive when the referee had not acted within InactiveDays of joining.
	Flags   []ReferralFlag
	Reviews []RewardReview
	// CreatedAt is when the purchase was recorded; GrantsAt when the hold ends.
	CreatedAt time.Time
	GrantsAt  time.Time
	// GrantedAt is when the reward was granted; EndedAt when it was reversed, clawed back
	// or rejected. Zero until then.
	GrantedAt time.Time
	EndedAt   time.Time
	// ClawedBack is how many points a clawback took back; Shortfall how many it could not,
	// because the beneficiary had spent or lost them.
	ClawedBack int
	Shortfall  int
}

// Approved reports whether the latest review decision approves the reward.
func (r Reward) Approved() bool {
	return len(r.Reviews) > 0 && r.Reviews[len(r.Reviews)-1].Decision == ReviewApprove
}

// AwaitsReview reports whether the reward is held for a person to review: it is pending,
// flagged, and not approved.
func (r Reward) AwaitsReview() bool {
	return r.Status == RewardPending && len(r.Flags) > 0 && !r.Approved()
}

// GrantableAt reports whether the grant job may grant the reward at now: it is pending,
// its hold has ended, and it is not held for review. Stores check it inside the grant's
// transaction, so that a reward is granted once.
func (r Reward) GrantableAt(now time.Time) bool {
	return r.Status == RewardPending && !now.Before(r.GrantsAt) && !r.AwaitsReview()
}

// RewardSlot is what a rule's cap counts: one beneficiary's rewards under one rule of a
// campaign.
type RewardSlot struct {
	BeneficiaryID string
	Rule          int
}

// RewardFacts are what a store reads, inside the transaction that records a new purchase,
// for RewardsFor to decide on.
type RewardFacts struct {
	// Purchase is the purchase just recorded.
	Purchase Purchase
	// Referral is the buyer's referral and Campaign its campaign; nil when the buyer was
	// not referred.
	Referral *Referral
	Campaign *ReferralCampaign
	// Upline is the buyer's referrer and the referrer's referrer, in that order, as far as
	// they exist (at most MaxRewardLevel).
	Upline []string
	// JoinedAt is when the buyer joined.
	JoinedAt time.Time
	// FirstActAt is the time of the buyer's earliest post, comment, reaction or purchase
	// (this one aside); zero for none.
	FirstActAt time.Time
	// EarlierPurchases counts the buyer's purchases from the brand that came before this
	// one (by time, then id) and are not refunded.
	EarlierPurchases int
	// Earned counts the campaign's rewards of the upline's members that count toward caps
	// (RewardStatus.Counts), by beneficiary and rule.
	Earned map[RewardSlot]int
}

// RewardRule turns the facts of a new purchase into the rewards it earns: RewardsFor, which
// the service hands to the store.
type RewardRule func(RewardFacts) []Reward

// RewardsFor is the rule of rewards: the rewards a newly recorded purchase earns, in the
// order of the campaign's rules. None unless the buyer was referred through a campaign of
// the purchase's brand that was active when the purchase was made, after the referral, and
// the purchase is not refunded. For each rule: the beneficiary at its level must exist;
// FirstPurchaseOnly wants no earlier purchase from the brand; MinAmount a purchase at least
// that large; CapPerReferrer fewer rewards of the rule for the beneficiary so far. POINTS
// give Value/100 points; AMOUNT Value in the purchase's currency; PERCENT that share of the
// purchase, rounded down (a reward worth nothing is left out). Each reward is pending until
// the rule's hold ends, carries the referral's flags and FlagInactive when the buyer did
// not act (post, comment, react or buy, this purchase included) within InactiveDays of
// joining, and has an id derived from the purchase and the rule, so that the same purchase
// always gives the same rewards.
func RewardsFor(f RewardFacts) []Reward {
	p, ref, c := f.Purchase, f.Referral, f.Campaign
	switch {
	case ref == nil || c == nil || c.ID != ref.CampaignID || c.BrandID != p.BrandID:
		return nil
	case p.Refunded() || p.At.Before(ref.At) || c.StatusAt(p.At) != CampaignActive:
		return nil
	}
	flags := slices.Clone(ref.Flags)
	if inactive(f) && !slices.Contains(flags, FlagInactive) {
		flags = append(flags, FlagInactive)
	}
	var out []Reward
	for i, rule := range c.Rules {
		if rule.Level < 1 || rule.Level > min(len(f.Upline), MaxRewardLevel) {
			continue
		}
		beneficiary := f.Upline[rule.Level-1]
		switch {
		case rule.FirstPurchaseOnly && f.EarlierPurchases > 0:
			continue
		case p.Amount < rule.MinAmount:
			continue
		case rule.CapPerReferrer > 0 && f.Earned[RewardSlot{beneficiary, i}] >= rule.CapPerReferrer:
			continue
		}
		r := Reward{
			ID: DerivedID(p.ID, "reward", strconv.Itoa(i)), CampaignID: c.ID, BrandID: p.BrandID, BeneficiaryID: beneficiary,
			RefereeID: p.MemberID, PurchaseID: p.ID, Rule: i, Level: rule.Level, Kind: rule.Kind, Status: RewardPending,
			Flags: slices.Clone(flags), CreatedAt: p.RecordedAt, GrantsAt: p.RecordedAt.Add(time.Duration(rule.HoldDays) * 24 * time.Hour),
		}
		switch rule.Kind {
		case RewardPoints:
			r.Points = int(rule.Value / 100)
		case RewardAmount:
			r.Amount, r.Currency = rule.Value, p.Currency
		case RewardPercent:
			r.Amount, r.Currency = p.Amount*rule.Value/100_00, p.Currency
		}
		if r.Points == 0 && r.Amount == 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// inactive reports whether the buyer did not act within InactiveDays of joining: neither
// this purchase nor any earlier act falls in that window.
func inactive(f RewardFacts) bool {
	end := f.JoinedAt.Add(InactiveDays * 24 * time.Hour)
	if !f.Purchase.At.After(end) {
		return false
	}
	return f.FirstActAt.IsZero() || f.FirstActAt.After(end)
}

// DerivedID returns an id in the shape of a member id (a lower-case UUID), derived from
// parts: the same parts always give the same id. Ledger entries that follow from another
// entity (a purchase's rewards, the points entries of a purchase or a reward) take such
// ids, so that writing them twice finds them written.
func DerivedID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)[:16]
	sum[6] = sum[6]&0x0f | 0x80 // version 8: custom
	sum[8] = sum[8]&0x3f | 0x80 // the RFC 9562 variant
	x := hex.EncodeToString(sum)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// PointsReason is why a membership's points changed.
type PointsReason string

// The reasons of points changes.
const (
	// PointsPurchase: a purchase credited its points.
	PointsPurchase PointsReason = "PURCHASE"
	// PointsRefund: a refund took a purchase's points back.
	PointsRefund PointsReason = "REFUND"
	// PointsReward: a referral reward was granted.
	PointsReward PointsReason = "REWARD"
	// PointsClawback: a refund after a reward's grant took the reward's points back.
	PointsClawback PointsReason = "CLAWBACK"
)

// PointsEntry is one change of a member's points in a brand's programme. Stores write one
// in the transaction of every change: purchases, refunds, reward grants and clawbacks.
// Changes made before the history was kept have no entry.
type PointsEntry struct {
	// ID is derived from the purchase or reward and the reason (DerivedID).
	ID       string
	MemberID string
	BrandID  string
	Reason   PointsReason
	// Delta is the change (negative for refunds and clawbacks); Balance the points after it.
	Delta   int
	Balance int
	// Shortfall is, for a refund or a clawback, the points that could not be taken back.
	Shortfall  int
	PurchaseID string
	// RewardID is the reward of a REWARD or CLAWBACK entry; "" otherwise.
	RewardID string
	At       time.Time
}

// PointsEntryID returns the id of the points entry of a purchase (PointsPurchase,
// PointsRefund) or a reward (PointsReward, PointsClawback).
func PointsEntryID(reason PointsReason, entityID string) string {
	return DerivedID(entityID, "points", string(reason))
}

// RewardQuery selects a page of one member's rewards, newest first (CreatedAt descending,
// then id ascending).
type RewardQuery struct {
	MemberID string
	// BrandID and Status filter: "" for all.
	BrandID string
	Status  RewardStatus
	First   int
	After   *Position
}

// RewardPage is a page of rewards.
type RewardPage struct {
	Rewards     []Reward
	HasNextPage bool
}

// PointsQuery selects a page of one membership's points history, newest first (At
// descending, then id ascending).
type PointsQuery struct {
	MemberID string
	BrandID  string
	First    int
	After    *Position
}

// PointsPage is a page of points history.
type PointsPage struct {
	Entries     []PointsEntry
	HasNextPage bool
}

// RewardStore is the part of the Store about the reward ledger and points history. Like
// the rest of Store, every method is one round trip; the rewards themselves are written by
// RecordPurchase (with a RewardRule) and changed by RefundPurchase.
type RewardStore interface {
	// RewardsByID returns the rewards with the given ids; unknown ids are absent.
	RewardsByID(ctx context.Context, ids []string) (map[string]Reward, error)
	// RewardPages returns the page each query asks for, in order; an unknown member has
	// none. One round trip whatever the number of queries.
	RewardPages(ctx context.Context, qs []RewardQuery) ([]RewardPage, error)
	// PointsPages returns the page of points history each query asks for, in order.
	PointsPages(ctx context.Context, qs []PointsQuery) ([]PointsPage, error)
	// ReviewQueue pages through a brand's rewards that await review (Reward.AwaitsReview),
	// newest first (CreatedAt descending, then id ascending).
	ReviewQueue(ctx context.Context, brandID string, first int, after *Position) (RewardPage, error)
	// ReviewReward appends a review to a pending reward in one transaction, and rejects the
	// reward when the decision is ReviewReject; it returns the reward as it now is.
	// NOT_FOUND for an unknown reward; CONFLICT when it is not pending (then nothing
	// changes).
	ReviewReward(ctx context.Context, rewardID string, rv RewardReview) (Reward, error)
	// DueRewards returns the ids of up to limit rewards the grant job may grant at now
	// (Reward.GrantableAt), earliest GrantsAt first.
	DueRewards(ctx context.Context, now time.Time, limit int) ([]string, error)
	// GrantReward grants a reward in one transaction when, read inside it under a lock, it
	// is GrantableAt now: POINTS are credited to the beneficiary's membership of the brand
	// (joining the programme when the beneficiary has not; never above MaxPoints) with a
	// points entry; the reward becomes GRANTED, with an outbox event. It returns the reward
	// as it now is and whether this call granted it. NOT_FOUND for an unknown reward.
	GrantReward(ctx context.Context, rewardID string, now time.Time) (Reward, bool, error)
}
