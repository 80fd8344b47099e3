package community

import (
	"context"
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
	if first < 0 || first > MaxPageSize {
		return CampaignList{}, fieldError("first", "first must be between 0 and %d", MaxPageSize)
	}
	var pos *Position
	if after != "" {
		k, err := decodeCursor(s.core, listReferralCampaigns, brandID, after)
		if err != nil {
			return CampaignList{}, err
		}
		pos = k.position()
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
