package neo4jstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// campaignFrom reads a campaign projected with campaignFields.
func campaignFrom(v any) (community.ReferralCampaign, error) {
	p, _ := v.(map[string]any)
	c := community.ReferralCampaign{
		ID: str(p["id"]), BrandID: str(p["brandId"]), Name: str(p["name"]),
		StartsAt: utc(p["startsAt"]), EndsAt: utc(p["endsAt"]), RedeemWindowDays: integer(p["redeemWindowDays"]),
		CreatedAt: utc(p["createdAt"]), EndedAt: utc(p["endedAt"]),
	}
	if err := json.Unmarshal([]byte(str(p["rules"])), &c.Rules); err != nil {
		return c, fmt.Errorf("neo4jstore: rules of campaign %q: %w", c.ID, err)
	}
	return c, nil
}

// CreateReferralCampaign implements community.ReferralStore.
func (s *Store) CreateReferralCampaign(ctx context.Context, c community.ReferralCampaign) error {
	rules, err := json.Marshal(c.Rules)
	if err != nil {
		return fmt.Errorf("neo4jstore: encode rules of campaign %q: %w", c.ID, err)
	}
	params := map[string]any{
		"id": c.ID, "brandId": c.BrandID, "name": c.Name, "startsAt": c.StartsAt.UTC(), "endsAt": c.EndsAt.UTC(),
		"redeemWindowDays": int64(c.RedeemWindowDays), "rules": string(rules), "createdAt": c.CreatedAt.UTC(),
		"listKey": listKey(c.BrandID, c.CreatedAt, c.ID),
	}
	found, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (bool, error) {
		recs, err := collect(ctx, tx, cypherCreateCampaign, params)
		if err != nil || len(recs) == 0 {
			return false, err
		}
		return boolean(get(recs[0], "found")), nil
	})
	if err != nil {
		return fail(err, "create campaign %q", c.ID)
	}
	if !found {
		return noBrand(c.BrandID)
	}
	return nil
}

// EndReferralCampaign implements community.ReferralStore.
func (s *Store) EndReferralCampaign(ctx context.Context, campaignID string, at time.Time) (community.ReferralCampaign, error) {
	params := map[string]any{"id": campaignID, "at": at.UTC()}
	recs, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		return collect(ctx, tx, cypherEndCampaign, params)
	})
	if err != nil {
		return community.ReferralCampaign{}, fail(err, "end campaign %q", campaignID)
	}
	if len(recs) == 0 {
		return community.ReferralCampaign{}, community.Errorf(community.CodeNotFound, "no campaign %q", campaignID)
	}
	return campaignFrom(get(recs[0], "campaign"))
}

// ReferralCampaignsByID implements community.ReferralStore.
func (s *Store) ReferralCampaignsByID(ctx context.Context, ids []string) (map[string]community.ReferralCampaign, error) {
	var bad error
	out, err := batch(ctx, s, cypherCampaignsByID, ids, nil, "campaigns", func(r *neo4j.Record) (string, community.ReferralCampaign) {
		c, err := campaignFrom(get(r, "campaign"))
		if err != nil {
			bad = err
		}
		return c.ID, c
	})
	if err == nil {
		err = bad
	}
	return out, err
}

// ReferralCampaigns implements community.ReferralStore.
func (s *Store) ReferralCampaigns(ctx context.Context, brandID string, first int, after *community.Position) (community.CampaignPage, error) {
	first = max(first, 0)
	params := map[string]any{
		"brandId": brandID, "limit": int64(first + 1),
		"from": listKeyStart(brandID, after), "to": listKeyEnd(brandID),
	}
	recs, err := query(ctx, s, cypherCampaigns, params)
	if err != nil {
		return community.CampaignPage{}, fail(err, "read campaigns of brand %q", brandID)
	}
	var page community.CampaignPage
	if len(recs) == 0 {
		return page, nil
	}
	rows, _ := get(recs[0], "page").([]any)
	page.TotalCount = integer(get(recs[0], "total"))
	for _, row := range rows {
		c, err := campaignFrom(row)
		if err != nil {
			return community.CampaignPage{}, err
		}
		page.Campaigns = append(page.Campaigns, c)
	}
	if len(page.Campaigns) > first {
		page.Campaigns, page.HasNextPage = page.Campaigns[:first], true
	}
	return page, nil
}

// inviteFrom reads an invite projected with inviteFields.
func inviteFrom(v any) community.Invite {
	p, _ := v.(map[string]any)
	return community.Invite{
		Code: str(p["code"]), CampaignID: str(p["campaignId"]), MemberID: str(p["memberId"]),
		Channel: community.ShareChannel(str(p["channel"])), Uses: integer(p["uses"]), MaxUses: integer(p["maxUses"]),
		ExpiresAt: utc(p["expiresAt"]), CreatedAt: utc(p["createdAt"]),
	}
}

// CreateInvite implements community.ReferralStore.
func (s *Store) CreateInvite(ctx context.Context, inv community.Invite, now time.Time) (community.Invite, bool, error) {
	params := map[string]any{
		"code": inv.Code, "campaignId": inv.CampaignID, "memberId": inv.MemberID, "channel": string(inv.Channel),
		"maxUses": int64(inv.MaxUses), "expiresAt": inv.ExpiresAt.UTC(), "createdAt": inv.CreatedAt.UTC(), "now": now.UTC(),
	}
	rec, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (*neo4j.Record, error) {
		recs, err := collect(ctx, tx, cypherCreateInvite, params)
		if err != nil || len(recs) == 0 {
			return nil, err
		}
		return recs[0], nil
	})
	if err != nil {
		return community.Invite{}, false, fail(err, "create invite of member %q for campaign %q", inv.MemberID, inv.CampaignID)
	}
	switch outcome := str(get(rec, "outcome")); outcome {
	case "noMember":
		return community.Invite{}, false, notFound(inv.MemberID)
	case "noCampaign":
		return community.Invite{}, false, community.Errorf(community.CodeNotFound, "no campaign %q", inv.CampaignID)
	case "live":
		return inviteFrom(get(rec, "invite")), false, nil
	case "created":
		inv.Uses = 0
		inv.ExpiresAt, inv.CreatedAt = inv.ExpiresAt.UTC(), inv.CreatedAt.UTC()
		return inv, true, nil
	default:
		return community.Invite{}, false, fmt.Errorf("neo4jstore: create invite: outcome %q", outcome)
	}
}

// InviteByCode implements community.ReferralStore.
func (s *Store) InviteByCode(ctx context.Context, code string) (community.Invite, error) {
	recs, err := query(ctx, s, cypherInviteByCode, map[string]any{"code": code})
	if err != nil {
		return community.Invite{}, fail(err, "find invite %q", code)
	}
	if len(recs) == 0 {
		return community.Invite{}, community.Errorf(community.CodeNotFound, "no invite %q", code)
	}
	return inviteFrom(get(recs[0], "invite")), nil
}
