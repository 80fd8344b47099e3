package community

import (
	"context"
	"slices"
	"time"
)

// Attribution: a newcomer redeems a member's invitation code and is referred by that
// member. A member has at most one referrer on the whole platform; the first valid
// redemption wins and is never changed, and referrals never form a cycle.

// Referral is a member's referral: who brought the member in, through which code of which
// campaign, and when.
type Referral struct {
	// MemberID is the referee: the member who redeemed the code.
	MemberID string
	// ReferrerID is the member whose code it was.
	ReferrerID string
	Code       string
	CampaignID string
	Channel    ShareChannel
	At         time.Time
	// Flags are the fraud signals raised on the referral when it was written: reasons for a
	// person to review its rewards before they are granted, never a block by themselves.
	Flags []ReferralFlag
}

// ReferralFlag is a fraud signal on a referral or on a reward it earned.
type ReferralFlag string

// The fraud signals.
const (
	// FlagSharedDevice: the referrer and the referee used the same device.
	FlagSharedDevice ReferralFlag = "SHARED_DEVICE"
	// FlagBurst: the referrer's referees of the campaign arrived in a burst.
	FlagBurst ReferralFlag = "BURST"
	// FlagInactive: the referee did not post, comment, react or buy within InactiveDays of
	// joining.
	FlagInactive ReferralFlag = "INACTIVE"
)

// InactiveDays is how long after joining a referee has to act before the referral is
// flagged FlagInactive.
const InactiveDays = 14

// Redemption is a member's attempt to redeem a code, as the service hands it to the store.
type Redemption struct {
	MemberID string
	// Code is an InviteCodeKey.
	Code string
	At   time.Time
	// TokenIdentity is the identity claim of the redeemer's token, or nil: a code of the
	// member it names is refused like one of the redeemer's own identities.
	TokenIdentity *Identity
	// Device is the keyed hash of the device the redeemer redeems on (HashDevice), or ""
	// when the request named none. A redemption that succeeds keeps it on the redeemer
	// (KeepDevice).
	Device string
	// Burst is the burst rule FlagReferral applies; DefaultBurst when not set.
	Burst BurstRule
}

// RedemptionFacts are what a store reads, inside the transaction of a redemption and
// under its locks, for CheckRedemption to decide on.
type RedemptionFacts struct {
	// Invite and Campaign are the code's invite and its campaign; nil when there is no such
	// code.
	Invite   *Invite
	Campaign *ReferralCampaign
	// JoinedAt is when the redeemer joined.
	JoinedAt time.Time
	// MemberIdentities and ReferrerIdentities are the redeemer's and the referrer's
	// identities.
	MemberIdentities   []Identity
	ReferrerIdentities []Identity
	// Referred says the redeemer has a referrer already.
	Referred bool
	// InUpline says the redeemer is the referrer or in the referrer's upline: the referral
	// would close a cycle.
	InUpline bool
	// MemberDevices and ReferrerDevices are the device hashes the redeemer and the
	// referrer were seen with, most recent first.
	MemberDevices   []string
	ReferrerDevices []string
	// RecentReferrals is how many referrals of the code's campaign the referrer has at or
	// after the redemption's BurstSince, this one not included.
	RecentReferrals int
}

// msgNoCode is the answer for every code that cannot be redeemed as a code: unknown,
// expired, used up, or of a campaign that has not started or has ended. One message for
// all, so that codes cannot be probed.
const msgNoCode = "this invitation code is unknown or can no longer be redeemed"

// CheckRedemption is the rule of redemptions, decided on the facts a store read under its
// locks: nil when the redemption may be written. BAD_USER_INPUT on field code for a code
// that is unknown, expired, used up or of a campaign that is not active (all with the same
// message), and for a redeemer who joined more than the campaign's redeem window ago;
// FORBIDDEN for one's own code and the code of a member who shares an identity with the
// redeemer; CONFLICT for a redeemer who is referred already, or who is in the referrer's
// upline. The code is checked first, so that nothing else tells an unknown code from an
// expired one.
func CheckRedemption(r Redemption, f RedemptionFacts) error {
	if f.Invite == nil || f.Campaign == nil || !f.Invite.LiveAt(r.At) || f.Campaign.StatusAt(r.At) != CampaignActive {
		return fieldError("code", msgNoCode)
	}
	if f.Invite.MemberID == r.MemberID {
		return Errorf(CodeForbidden, "you cannot redeem your own invitation code")
	}
	mine := map[identityKey]bool{}
	for _, id := range f.MemberIdentities {
		mine[identityKey{id.Provider, id.ExternalID}] = true
	}
	if t := r.TokenIdentity; t != nil {
		mine[identityKey{t.Provider, t.ExternalID}] = true
	}
	for _, id := range f.ReferrerIdentities {
		if mine[identityKey{id.Provider, id.ExternalID}] {
			return Errorf(CodeForbidden, "you cannot redeem the invitation code of a member who shares an identity with you")
		}
	}
	switch {
	case f.Referred:
		return Errorf(CodeConflict, "you have a referrer already: a referral is never changed")
	case f.InUpline:
		return Errorf(CodeConflict, "you are in the upline of the code's member: referrals never form a cycle")
	case r.At.Sub(f.JoinedAt) > time.Duration(f.Campaign.RedeemWindowDays)*24*time.Hour:
		return fieldError("code", "a code of this campaign is redeemed within %d days of joining", f.Campaign.RedeemWindowDays)
	}
	return nil
}

// identityKey is an identity as identities are compared: by provider and external id.
type identityKey struct {
	provider   IdentityProvider
	externalID string
}

// AttributionStore is the part of the Store about referrals. Like the rest of Store, every
// method is one round trip.
type AttributionStore interface {
	// RedeemInvite redeems a code in one transaction: it reads the RedemptionFacts of r
	// under locks that keep them true until it commits (the invite, the redeemer and the
	// referrer's upline), asks check about them, and when check says nil writes the
	// referral with the flags FlagReferral gives on the same facts, keeps r.Device on the
	// redeemer (KeepDevice), and counts a use of the code. It returns the referral written,
	// or check's error with nothing changed. Of redemptions at the same time, each decides
	// on the facts the ones before it left. NOT_FOUND for an unknown redeemer.
	RedeemInvite(ctx context.Context, r Redemption, check func(Redemption, RedemptionFacts) error) (Referral, error)
	// ReferralsOf returns the referral of each given member that has one, with its flags.
	ReferralsOf(ctx context.Context, memberIDs []string) (map[string]Referral, error)
	// SeenOnDevice keeps a device hash on a member, in one transaction: the member's
	// hashes become KeepDevice of them. For a member registered without a code (a
	// redemption keeps its own). NOT_FOUND for an unknown member.
	SeenOnDevice(ctx context.Context, memberID, hash string) error
	// DevicesOf returns the device hashes each given member was seen with, most recent
	// first; a member seen with none is absent.
	DevicesOf(ctx context.Context, memberIDs []string) (map[string][]string, error)
	// UplinesOf returns the upline of each given member: its referrer, the referrer's
	// referrer, and so on up to the root, in that order, at most maxDepth of them. A member
	// nobody referred, or an unknown one, has none.
	UplinesOf(ctx context.Context, memberIDs []string, maxDepth int) (map[string][]string, error)
}

// redeem redeems a code for a member on a device (its keyed hash, or ""): the rule is
// CheckRedemption, checked by the store under its locks, and the flags FlagReferral's.
func (s *core) redeem(ctx context.Context, memberID, code string, token *Identity, device string) (Referral, error) {
	key := InviteCodeKey(code)
	if key == "" {
		return Referral{}, fieldError("code", msgNoCode)
	}
	r := Redemption{MemberID: memberID, Code: key, At: s.now().UTC(), TokenIdentity: token, Device: device, Burst: s.burst}
	return s.store.RedeemInvite(ctx, r, CheckRedemption)
}

// checkCode answers, before anything is written, whether a code could be redeemed now by
// a member who has just joined: BAD_USER_INPUT on field code, as CheckRedemption words
// it, when it could not.
func (s *core) checkCode(ctx context.Context, code string) error {
	key := InviteCodeKey(code)
	if key == "" {
		return fieldError("code", msgNoCode)
	}
	inv, err := s.store.InviteByCode(ctx, key)
	if ErrorCode(err) == CodeNotFound {
		return fieldError("code", msgNoCode)
	}
	if err != nil {
		return err
	}
	found, err := s.store.ReferralCampaignsByID(ctx, []string{inv.CampaignID})
	if err != nil {
		return err
	}
	now := s.now()
	if c, ok := found[inv.CampaignID]; !ok || !inv.LiveAt(now) || c.StatusAt(now) != CampaignActive {
		return fieldError("code", msgNoCode)
	}
	return nil
}

// RedeemInvite redeems an invitation code for the calling member, who is then referred by
// the code's member, on the device the request named (WithDevice), if any. A member only;
// the refusals are CheckRedemption's, and BAD_USER_INPUT on DeviceField for a device id
// that ValidateDeviceID refuses; a refused redemption changes nothing. The referral's
// flags are returned to those who may read them (CanReadReferralFlags) only.
func (s *ReferralService) RedeemInvite(ctx context.Context, code string) (Referral, error) {
	a, err := s.gate(ctx, "redeemInvite", NeedMember)
	if err != nil {
		return Referral{}, err
	}
	device, err := s.device(ctx)
	if err != nil {
		return Referral{}, err
	}
	ref, err := s.redeem(ctx, a.MemberID, code, a.Identity, device)
	if err != nil || len(ref.Flags) == 0 || a.isPlatformStaff() {
		return ref, err
	}
	brandOf := map[string]string{}
	if a.ActsForBrand() {
		cs, err := s.store.ReferralCampaignsByID(ctx, []string{ref.CampaignID})
		if err != nil {
			return Referral{}, err
		}
		brandOf[ref.CampaignID] = cs[ref.CampaignID].BrandID
	}
	hideFlags(a, []*Referral{&ref}, brandOf)
	return ref, nil
}

// CanReadReferral is the rule for reading a member's referral (its referrer and the
// campaign it came through): the member, ADMIN and COMMUNITY_MANAGER; and the staff of
// brandID, the brand of the referral's campaign, when the member consents to share its
// activity with that brand (consents are the member's current consents, needed only when
// NeedsConsent). Nobody else: UNAUTHENTICATED for nobody, FORBIDDEN for anyone else.
func CanReadReferral(a Actor, memberID, brandID string, consents []Consent) error {
	switch {
	case a.AuthError != nil || a.nobody():
		return unauthenticated(a)
	case a.MemberID == memberID && a.MemberID != "", a.isPlatformStaff():
		return nil
	case a.IsStaffOf(brandID):
		for _, c := range consents {
			if c.BrandID == brandID && c.Allows(ScopeActivity) {
				return nil
			}
		}
		return Errorf(CodeForbidden, "the member has not consented to share their activity with your brand")
	}
	return Errorf(CodeForbidden, "a member's referral is theirs, community managers' and administrators' to see")
}

// ReferralsOf returns each given member's referral, in the order asked: nil where the
// member has none, or where the caller is staff of a brand other than the referral
// campaign's (to them it is as if there were none); the rule's error (CanReadReferral)
// where the caller may not read it. A referral's flags are cleared for a caller who may
// not read them (CanReadReferralFlags). A dataloader batch function.
func (s *ReferralService) ReferralsOf(ctx context.Context, ids []string) ([]*Referral, []error) {
	a := ActorFrom(ctx)
	out, errs := make([]*Referral, len(ids)), make([]error, len(ids))
	found, err := s.store.ReferralsOf(ctx, ids)
	if err != nil {
		return out, repeatError(err, len(ids))
	}
	var need, campaigns []string
	for _, id := range ids {
		if NeedsConsent(a, id) {
			need = append(need, id)
		}
		if r, ok := found[id]; ok {
			campaigns = append(campaigns, r.CampaignID)
		}
	}
	var consents map[string][]Consent
	if len(need) > 0 {
		if consents, err = s.ruleConsents(ctx, need); err != nil {
			return out, repeatError(err, len(ids))
		}
	}
	brandOf := map[string]string{}
	if a.ActsForBrand() && len(campaigns) > 0 {
		cs, err := s.store.ReferralCampaignsByID(ctx, campaigns)
		if err != nil {
			return out, repeatError(err, len(ids))
		}
		for id, c := range cs {
			brandOf[id] = c.BrandID
		}
	}
	// A caller whose token carries a verified identity and no member sees the referral of
	// the member that identity belongs to, as just registered (see Identities).
	var claimed map[string][]Identity
	if a.claimant() {
		if claimed, err = s.store.IdentitiesOf(ctx, ids); err != nil {
			return out, repeatError(err, len(ids))
		}
	}
	for i, id := range ids {
		r, ok := found[id]
		if claimed != nil && slices.ContainsFunc(claimed[id], a.Identity.Same) {
			if ok {
				out[i] = &r
			}
			continue
		}
		brand := a.BrandID
		if ok && a.ActsForBrand() {
			brand = brandOf[r.CampaignID]
		}
		if err := CanReadReferral(a, id, brand, consents[id]); err != nil {
			// Staff of another brand than the campaign's, with the member's consent, are
			// told nothing of it: as for a member without a referral.
			if ok && a.ActsForBrand() && brand != a.BrandID && CanReadReferral(a, id, a.BrandID, consents[id]) == nil {
				continue
			}
			errs[i] = err
			continue
		}
		if ok {
			out[i] = &r
		}
	}
	hideFlags(a, out, brandOf)
	return out, errs
}

// CampaignsByID returns the campaigns with the given ids, in the order asked: nil where
// there is none. For the campaigns of what the caller has been allowed to read already
// (a referral, through ReferralsOf). A dataloader batch function.
func (s *ReferralService) CampaignsByID(ctx context.Context, ids []string) ([]*ReferralCampaign, []error) {
	return byID(ctx, ids, s.store.ReferralCampaignsByID)
}

// Referral chains.
const (
	// DefaultChainDepth is how much of an upline referralChain returns when not asked.
	DefaultChainDepth = 10
	// MaxChainDepth is the most of an upline one referralChain returns.
	MaxChainDepth = 50
)

// ChainKey asks for a member's referral chain, up to MaxDepth: the key of a dataloader.
type ChainKey struct {
	MemberID string
	MaxDepth int
}

// ChainLink is one member of an upline: Depth 1 is the referrer, 2 the referrer's
// referrer, and so on.
type ChainLink struct {
	MemberID string
	Depth    int
}

// ReferralChains returns each asked member's upline, from the referrer to the root, up to
// its MaxDepth: empty for a member nobody referred, and for a referral that ReferralsOf
// shows as none. The rule is ReferralsOf's: the same error where the caller may not read
// the member's referral; BAD_USER_INPUT on maxDepth for a depth outside 1 to
// MaxChainDepth. A dataloader batch function.
func (s *ReferralService) ReferralChains(ctx context.Context, keys []ChainKey) ([][]ChainLink, []error) {
	out, errs := make([][]ChainLink, len(keys)), make([]error, len(keys))
	var ids []string
	for i, k := range keys {
		if k.MaxDepth < 1 || k.MaxDepth > MaxChainDepth {
			errs[i] = fieldError("maxDepth", "maxDepth must be between 1 and %d", MaxChainDepth)
			continue
		}
		ids = append(ids, k.MemberID)
	}
	if len(ids) == 0 {
		return out, errs
	}
	refs, refErrs := s.ReferralsOf(ctx, ids)
	// The members whose chain is read, and the deepest chain asked of any.
	var referred []string
	deepest := 0
	j := 0
	shown := map[string]bool{}
	for i, k := range keys {
		if errs[i] != nil {
			continue
		}
		if refErrs != nil && refErrs[j] != nil {
			errs[i] = refErrs[j]
		} else if refs[j] != nil {
			if !shown[k.MemberID] {
				referred = append(referred, k.MemberID)
			}
			shown[k.MemberID] = true
			deepest = max(deepest, k.MaxDepth)
		}
		j++
	}
	if len(referred) == 0 {
		return out, errs
	}
	uplines, err := s.store.UplinesOf(ctx, referred, deepest)
	if err != nil {
		return out, repeatError(err, len(keys))
	}
	for i, k := range keys {
		if errs[i] != nil || !shown[k.MemberID] {
			continue
		}
		up := uplines[k.MemberID]
		out[i] = make([]ChainLink, 0, min(len(up), k.MaxDepth))
		for d, id := range up[:min(len(up), k.MaxDepth)] {
			out[i] = append(out[i], ChainLink{MemberID: id, Depth: d + 1})
		}
	}
	return out, errs
}
