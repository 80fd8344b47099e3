package community

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CreateReferralCampaign creates a referral campaign of a brand. The brand's admins and
// ADMIN only; BAD_USER_INPUT, on the field at fault, for a name outside the rules of
// names, dates out of order or in the past, a redeem window, hold or cap out of range, no
// rules or more than MaxReferralRules, a rule's level other than 1 or 2, an unknown kind,
// a value that is not positive (or not whole points, or a percentage above 100);
// NOT_FOUND for an unknown brand. key is the client's idempotency key, or nil (see
// IdempotencyStore): a retry under it returns the campaign the first attempt made.
func (s *ReferralService) CreateReferralCampaign(ctx context.Context, in CreateCampaignInput, key *string) (ReferralCampaign, error) {
	a, err := s.gate(ctx, "createReferralCampaign", NeedSignedIn)
	if err != nil {
		return ReferralCampaign{}, err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: in.BrandID}); err != nil {
		return ReferralCampaign{}, err
	}
	now := s.now().UTC()
	c, err := in.campaign(now)
	if err != nil {
		return ReferralCampaign{}, err
	}
	if !validID(c.BrandID) {
		return ReferralCampaign{}, Errorf(CodeNotFound, "no brand %q", c.BrandID)
	}
	cl, err := s.claim(ctx, "createReferralCampaign", callerKey(a), key, campaignFingerprint(c)...)
	if err != nil {
		return ReferralCampaign{}, err
	}
	c.ID, c.CreatedAt = cl.id, now
	err = s.store.CreateReferralCampaign(ctx, c)
	return createdOnce(ctx, cl, c, err, s.store.ReferralCampaignsByID)
}

// callerKey names the caller of a write whose idempotency keys are the caller's: the
// token's member and brand, so that staff tokens without a member keep their brand's keys
// apart from other brands'.
func callerKey(a Actor) string { return a.MemberID + "@" + a.BrandID }

// campaignFingerprint is the parts of a validated campaign that an idempotency key is
// bound to.
func campaignFingerprint(c ReferralCampaign) []string {
	parts := []string{c.BrandID, c.Name, c.StartsAt.Format(time.RFC3339Nano), c.EndsAt.Format(time.RFC3339Nano),
		strconv.Itoa(c.RedeemWindowDays)}
	for _, r := range c.Rules {
		parts = append(parts, strings.Join([]string{strconv.Itoa(r.Level), string(r.Kind), strconv.FormatInt(r.Value, 10),
			strconv.FormatBool(r.FirstPurchaseOnly), strconv.FormatInt(r.MinAmount, 10), strconv.Itoa(r.HoldDays),
			strconv.Itoa(r.CapPerReferrer)}, ","))
	}
	return parts
}

// EndReferralCampaign ends a campaign now, before its end time; ending it again changes
// nothing. The admins of the campaign's brand and ADMIN only; NOT_FOUND for an unknown
// campaign.
func (s *ReferralService) EndReferralCampaign(ctx context.Context, campaignID string) (ReferralCampaign, error) {
	a, err := s.gate(ctx, "endReferralCampaign", NeedSignedIn)
	if err != nil {
		return ReferralCampaign{}, err
	}
	// Only admins of some brand, and ADMIN, go on to read the campaign; the rule is checked
	// again against the campaign's own brand.
	if err := Decide(a, ActRunBrand, Target{BrandID: a.BrandID}); err != nil {
		return ReferralCampaign{}, err
	}
	if !validID(campaignID) {
		return ReferralCampaign{}, Errorf(CodeNotFound, "no campaign %q", campaignID)
	}
	c, err := oneByID(ctx, campaignID, "campaign", s.store.ReferralCampaignsByID)
	if err != nil {
		return ReferralCampaign{}, err
	}
	if err := Decide(a, ActRunBrand, Target{BrandID: c.BrandID}); err != nil {
		return ReferralCampaign{}, err
	}
	return s.store.EndReferralCampaign(ctx, campaignID, s.now().UTC())
}

// CampaignStatus returns where a campaign stands now.
func (s *ReferralService) CampaignStatus(c ReferralCampaign) CampaignStatus {
	return c.StatusAt(s.now())
}

// CampaignList is a page of a brand's referral campaigns.
type CampaignList struct {
	HasNextPage bool
	TotalCount  int
	edges       []ListedCampaign
}

// ListedEdges returns the page's campaigns with their cursors.
func (l CampaignList) ListedEdges() []ListedCampaign { return l.edges }

// ListedCampaign is a campaign in a page, with its cursor.
type ListedCampaign struct {
	ReferralCampaign
	cursor lazyCursor[timeKey]
}

// Cursor returns the campaign's cursor.
func (c ListedCampaign) Cursor() string { return c.cursor.String() }

// listReferralCampaigns is the kind of list that campaign cursors are tied to.
const listReferralCampaigns cursorList[timeKey] = "referral-campaigns"

// ReferralCampaigns pages through a brand's referral campaigns, ended ones included,
// newest first. The brand's staff, ADMIN and COMMUNITY_MANAGER only; BAD_USER_INPUT for bad
// paging arguments.
func (s *ReferralService) ReferralCampaigns(ctx context.Context, brandID string, first int, after string) (CampaignList, error) {
	if err := Decide(ActorFrom(ctx), ActSeeCampaigns, Target{BrandID: brandID}); err != nil {
		return CampaignList{}, err
	}
	pos, err := pageArgs(s.core, listReferralCampaigns, brandID, first, after)
	if err != nil {
		return CampaignList{}, err
	}
	page, err := s.store.ReferralCampaigns(ctx, brandID, first, pos)
	if err != nil {
		return CampaignList{}, err
	}
	l := CampaignList{HasNextPage: page.HasNextPage, TotalCount: page.TotalCount, edges: make([]ListedCampaign, len(page.Campaigns))}
	for i, c := range page.Campaigns {
		l.edges[i] = ListedCampaign{ReferralCampaign: c, cursor: newCursor(s.core, listReferralCampaigns, brandID, timeKey{c.CreatedAt, c.ID})}
	}
	return l, nil
}

// CreateInviteInput is what a member gives to get an invitation code.
type CreateInviteInput struct {
	CampaignID string
	Channel    ShareChannel
	// MaxUses limits the code's redemptions; nil for no limit.
	MaxUses *int
}

// inviteAttempts is how many codes CreateInvite draws before it gives up on finding a free
// one: with codes as sparse as InviteCodeLength makes them, a second draw is already rare.
const inviteAttempts = 3

// CreateInvite returns the calling member's invitation code for a campaign: the live one
// it has (asked again, whatever the channel or limit, it returns that one), or a new one
// that expires with the campaign. A member only; BAD_USER_INPUT for an unknown channel, a
// limit outside 1 to MaxInviteUses, or a campaign that has ended; NOT_FOUND for an unknown
// campaign.
func (s *ReferralService) CreateInvite(ctx context.Context, in CreateInviteInput) (Invite, error) {
	a, err := s.gate(ctx, "createInvite", NeedMember)
	if err != nil {
		return Invite{}, err
	}
	if !slices.Contains(ShareChannels, in.Channel) {
		return Invite{}, fieldError("channel", "unknown channel %q", in.Channel)
	}
	maxUses := 0
	if in.MaxUses != nil {
		if maxUses = *in.MaxUses; maxUses < 1 || maxUses > MaxInviteUses {
			return Invite{}, fieldError("maxUses", "a code is redeemed 1 to %d times; leave maxUses out for no limit", MaxInviteUses)
		}
	}
	if !validID(in.CampaignID) {
		return Invite{}, Errorf(CodeNotFound, "no campaign %q", in.CampaignID)
	}
	c, err := oneByID(ctx, in.CampaignID, "campaign", s.store.ReferralCampaignsByID)
	if err != nil {
		return Invite{}, err
	}
	now := s.now().UTC()
	if c.StatusAt(now) == CampaignEnded {
		return Invite{}, fieldError("campaignId", "the campaign has ended")
	}
	for range inviteAttempts {
		inv := Invite{Code: newInviteCode(), CampaignID: c.ID, MemberID: a.MemberID, Channel: in.Channel, MaxUses: maxUses,
			ExpiresAt: c.EndsAt, CreatedAt: now}
		got, _, err := s.store.CreateInvite(ctx, inv, now)
		if ErrorCode(err) == CodeConflict {
			continue // the code is taken: draw another
		}
		return got, err
	}
	return Invite{}, Errorf(CodeInternal, "no free invitation code after %d draws", inviteAttempts)
}

// InviteURL returns the link of a code.
func (s *ReferralService) InviteURL(code string) string { return s.inviteBaseURL + code }

// InvitePreview returns the public preview of a code, or nil when there is no such code.
// Anyone may read it, signed in or not: it names the campaign, its brand and the
// referrer's display name, and says whether the code can be redeemed now; nothing else
// about the referrer.
func (s *ReferralService) InvitePreview(ctx context.Context, code string) (*InvitePreview, error) {
	key := InviteCodeKey(code)
	if key == "" {
		return nil, nil
	}
	inv, err := s.store.InviteByCode(ctx, key)
	if ErrorCode(err) == CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := oneByID(ctx, inv.CampaignID, "campaign", s.store.ReferralCampaignsByID)
	if err != nil {
		return nil, err
	}
	m, err := oneByID(ctx, inv.MemberID, "member", s.store.MembersByID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &InvitePreview{
		Code: inv.Code, CampaignName: c.Name, BrandID: c.BrandID, ReferrerName: m.DisplayName,
		Redeemable: inv.LiveAt(now) && c.StatusAt(now) == CampaignActive,
	}, nil
}

// InvitePoster returns what a share poster of the calling member's invite shows. The
// invite's member only: FORBIDDEN for anyone else.
func (s *ReferralService) InvitePoster(ctx context.Context, inv Invite) (InvitePoster, error) {
	a := ActorFrom(ctx)
	if a.MemberID != inv.MemberID || a.AuthError != nil {
		return InvitePoster{}, Errorf(CodeForbidden, "only the member who shares the code sees its poster")
	}
	c, err := oneByID(ctx, inv.CampaignID, "campaign", s.store.ReferralCampaignsByID)
	if err != nil {
		return InvitePoster{}, err
	}
	m, err := oneByID(ctx, inv.MemberID, "member", s.store.MembersByID)
	if err != nil {
		return InvitePoster{}, err
	}
	return InvitePoster{URL: s.InviteURL(inv.Code), DisplayName: m.DisplayName, AvatarURL: m.AvatarURL, CampaignName: c.Name}, nil
}
