package neo4jstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

func noBrand(id string) error {
	return community.Errorf(community.CodeNotFound, "no brand %q", id)
}

// tierParams splits tiers into the two lists a brand node keeps; no tiers is no lists.
func tierParams(tiers []community.Tier) (names, thresholds []any) {
	if len(tiers) == 0 {
		return nil, nil
	}
	names = make([]any, len(tiers))
	thresholds = make([]any, len(tiers))
	for i, t := range tiers {
		names[i], thresholds[i] = t.Name, int64(t.Threshold)
	}
	return names, thresholds
}

// brandFrom reads a brand projected with brandFields. Tiers are nil when there are none.
func brandFrom(v any) community.Brand {
	p, _ := v.(map[string]any)
	names, _ := p["tierNames"].([]any)
	thresholds, _ := p["tierThresholds"].([]any)
	var tiers []community.Tier
	for i := range min(len(names), len(thresholds)) {
		tiers = append(tiers, community.Tier{Name: str(names[i]), Threshold: integer(thresholds[i])})
	}
	return community.Brand{
		ID:          str(p["id"]),
		Slug:        str(p["slug"]),
		Name:        str(p["name"]),
		Description: str(p["description"]),
		Tiers:       tiers,
		CreatedAt:   utc(p["createdAt"]),
	}
}

// CreateBrand implements community.Store.
func (s *Store) CreateBrand(ctx context.Context, b community.Brand) error {
	names, thresholds := tierParams(b.Tiers)
	params := map[string]any{
		"id": b.ID, "slug": b.Slug, "slugKey": community.SlugKey(b.Slug), "name": b.Name, "description": b.Description,
		"tierNames": names, "tierThresholds": thresholds, "createdAt": b.CreatedAt.UTC(),
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherCreateBrand, params)
	})
	if err != nil {
		return fail(err, "create brand %q", b.Slug)
	}
	return nil
}

// SetBrandTiers implements community.Store.
func (s *Store) SetBrandTiers(ctx context.Context, brandID string, tiers []community.Tier) error {
	names, thresholds := tierParams(tiers)
	params := map[string]any{"id": brandID, "tierNames": names, "tierThresholds": thresholds}
	found, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherSetBrandTiers, params, "found")
	})
	if err != nil {
		return fail(err, "set tiers of brand %q", brandID)
	}
	if found == 0 {
		return noBrand(brandID)
	}
	return nil
}

// BrandsByID implements community.Store.
func (s *Store) BrandsByID(ctx context.Context, ids []string) (map[string]community.Brand, error) {
	return batch(ctx, s, cypherBrandsByID, ids, nil, "brands", func(r *neo4j.Record) (string, community.Brand) {
		b := brandFrom(get(r, "brand"))
		return b.ID, b
	})
}

// BrandBySlug implements community.Store.
func (s *Store) BrandBySlug(ctx context.Context, slug string) (community.Brand, error) {
	recs, err := query(ctx, s, cypherBrandBySlug, map[string]any{"slugKey": community.SlugKey(slug)})
	if err != nil {
		return community.Brand{}, fail(err, "find brand %q", slug)
	}
	if len(recs) == 0 {
		return community.Brand{}, community.Errorf(community.CodeNotFound, "no brand with slug %q", slug)
	}
	return brandFrom(get(recs[0], "brand")), nil
}

// count runs a statement that returns one row with a count in column, and returns it.
func count(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any, column string) (int, error) {
	recs, err := collect(ctx, tx, cypher, params)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	return integer(get(recs[0], column)), nil
}

// partnershipParams are the parameters every partnership statement takes: the states, and
// the pair of brands to lock.
func partnershipParams(a, b string) map[string]any {
	return map[string]any{
		"pair":    []string{a, b},
		"pending": string(community.PartnershipPending),
		"active":  string(community.PartnershipActive),
		"ended":   string(community.PartnershipEnded),
	}
}

// InvitePartner implements community.Store: both brands are locked before the check for a
// partnership that is not ended, so that two invitations of one pair, either way round,
// store one. The partnership is stored pending, whatever its status. BAD_USER_INPUT for a
// brand inviting itself.
func (s *Store) InvitePartner(ctx context.Context, p community.Partnership) error {
	params := partnershipParams(p.InviterID, p.InviteeID)
	params["inviterId"], params["inviteeId"], params["invitedAt"] = p.InviterID, p.InviteeID, p.InvitedAt.UTC()
	result, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (string, error) {
		return outcome(ctx, tx, cypherInvitePartner, params)
	})
	if err != nil {
		return fail(err, "invite brand %q to partner with %q", p.InviteeID, p.InviterID)
	}
	switch result {
	case "noInviter":
		return noBrand(p.InviterID)
	case "noInvitee":
		return noBrand(p.InviteeID)
	case "self":
		return community.Errorf(community.CodeBadUserInput, "a brand cannot partner with itself")
	case "taken":
		return community.Errorf(community.CodeConflict, "the brands are partners already or an invitation is pending")
	case "invited":
		return nil
	}
	return fmt.Errorf("neo4jstore: invite brand %q to partner with %q: outcome %q", p.InviteeID, p.InviterID, result)
}

// AcceptPartnership implements community.Store.
func (s *Store) AcceptPartnership(ctx context.Context, inviterID, inviteeID string, at time.Time) error {
	params := partnershipParams(inviterID, inviteeID)
	params["inviterId"], params["inviteeId"], params["at"] = inviterID, inviteeID, at.UTC()
	changed, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherAcceptPartnership, params, "changed")
	})
	if err != nil {
		return fail(err, "accept partnership %q -> %q", inviterID, inviteeID)
	}
	if changed == 0 {
		return community.Errorf(community.CodeNotFound, "no pending invitation from brand %q to brand %q", inviterID, inviteeID)
	}
	return nil
}

// EndPartnership implements community.Store.
func (s *Store) EndPartnership(ctx context.Context, brandID, otherID string, at time.Time) error {
	params := partnershipParams(brandID, otherID)
	params["brandId"], params["otherId"], params["at"] = brandID, otherID, at.UTC()
	changed, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherEndPartnership, params, "changed")
	})
	if err != nil {
		return fail(err, "end partnership of %q and %q", brandID, otherID)
	}
	if changed == 0 {
		return community.Errorf(community.CodeNotFound, "brands %q and %q have no partnership to end", brandID, otherID)
	}
	return nil
}

// PartnershipsOf implements community.Store: partnerships invited at the same time are in
// the order they were made. Brands without such partnerships are absent from the map.
func (s *Store) PartnershipsOf(ctx context.Context, brandIDs []string) (map[string][]community.Partnership, error) {
	params := map[string]any{"ended": string(community.PartnershipEnded)}
	return batch(ctx, s, cypherPartnershipsOf, brandIDs, params, "partnerships", func(r *neo4j.Record) (string, []community.Partnership) {
		return listed(r, "partnerships", func(v any) community.Partnership {
			p, _ := v.(map[string]any)
			return community.Partnership{
				InviterID:  str(p["inviterId"]),
				InviteeID:  str(p["inviteeId"]),
				Status:     community.PartnershipStatus(str(p["status"])),
				InvitedAt:  utc(p["invitedAt"]),
				AcceptedAt: utc(p["acceptedAt"]),
				EndedAt:    utc(p["endedAt"]),
			}
		})
	})
}

// JoinBrand implements community.Store.
func (s *Store) JoinBrand(ctx context.Context, memberID, brandID string, at time.Time) error {
	params := map[string]any{"memberId": memberID, "brandId": brandID, "since": at.UTC(), "inKey": listKey(brandID, at, memberID)}
	known, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([2]bool, error) {
		return knownPair(ctx, tx, cypherJoinBrand, params)
	})
	if err != nil {
		return fail(err, "put member %q in brand %q", memberID, brandID)
	}
	return unknownOf(known, memberID, brandID)
}

// knownPair runs a statement that reports, in one row, whether it knew the member and the
// brand it was given.
func knownPair(ctx context.Context, tx neo4j.ManagedTransaction, cypher string, params map[string]any) ([2]bool, error) {
	recs, err := collect(ctx, tx, cypher, params)
	if err != nil || len(recs) == 0 {
		return [2]bool{}, err
	}
	return [2]bool{boolean(get(recs[0], "memberKnown")), boolean(get(recs[0], "brandKnown"))}, nil
}

// unknownOf returns NOT_FOUND for the first of a member and a brand that was not known.
func unknownOf(known [2]bool, memberID, brandID string) error {
	switch {
	case !known[0]:
		return notFound(memberID)
	case !known[1]:
		return noBrand(brandID)
	}
	return nil
}

// MembershipsOf implements community.Store: memberships that started at the same time are
// ordered by brand id. Members without memberships are absent from the map.
func (s *Store) MembershipsOf(ctx context.Context, memberIDs []string) (map[string][]community.BrandMembership, error) {
	return batch(ctx, s, cypherMembershipsOf, memberIDs, nil, "memberships", func(r *neo4j.Record) (string, []community.BrandMembership) {
		id, ms := listed(r, "memberships", func(v any) community.BrandMembership {
			m, _ := v.(map[string]any)
			return community.BrandMembership{BrandID: str(m["brandId"]), Points: integer(m["points"]), Since: utc(m["since"])}
		})
		for i := range ms {
			ms[i].MemberID = id
		}
		return id, ms
	})
}

// BrandMembers implements community.Store: the page is read by its keys, filtered by
// points and consent (see cypherBrandMembers). It reads ahead, when asked, the listed
// members and their follow counts.
func (s *Store) BrandMembers(ctx context.Context, brandID string, q community.MembersQuery) (community.MembershipPage, error) {
	first := max(q.First, 0)
	params := map[string]any{
		"brandId": brandID, "minPoints": int64(q.MinPoints), "maxPoints": int64(q.MaxPoints),
		"scope": string(community.ScopeProfile), "limit": int64(first + 1),
		"from": listKeyStart(brandID, q.After), "to": listKeyEnd(brandID),
	}
	a := aheadParams(ctx, s, params)
	recs, err := query(ctx, s, cypherBrandMembers, params)
	if err != nil {
		return community.MembershipPage{}, fail(err, "read members of brand %q", brandID)
	}
	var page community.MembershipPage
	var got aheadRead
	page.Memberships = make([]community.BrandMembership, 0, len(recs))
	for _, r := range recs {
		row, _ := get(r, "row").(map[string]any)
		memberID, since, ok := parseListKey(brandID, str(row["key"]))
		if !ok {
			return community.MembershipPage{}, fmt.Errorf("neo4jstore: members of brand %q: malformed key %q", brandID, str(row["key"]))
		}
		page.Memberships = append(page.Memberships, community.BrandMembership{
			MemberID: memberID, BrandID: brandID, Points: integer(row["points"]), Since: since,
		})
		got.take(memberID, row)
	}
	if len(page.Memberships) > first {
		page.Memberships, page.HasNextPage = page.Memberships[:first], true
	}
	if a != nil {
		a.keep(got.members, got.counts)
	}
	return page, nil
}

// BrandMemberCounts implements community.Store: unknown brands are absent.
func (s *Store) BrandMemberCounts(ctx context.Context, brandIDs []string) (map[string]int, error) {
	return batch(ctx, s, cypherBrandMemberCounts, brandIDs, nil, "member counts of brands", func(r *neo4j.Record) (string, int) {
		return str(get(r, "id")), integer(get(r, "members"))
	})
}

// scopeOrder is community.ConsentScopes as statements take it.
func scopeOrder() []any {
	out := make([]any, len(community.ConsentScopes))
	for i, sc := range community.ConsentScopes {
		out[i] = string(sc)
	}
	return out
}

// ChangeConsent implements community.Store: the member is locked, so that changes of one
// member's consent run one after the other. A scope named twice counts once, with the id
// of its first place. BAD_USER_INPUT for an unknown scope; CONFLICT when a change id is in
// the ledger already.
func (s *Store) ChangeConsent(ctx context.Context, memberID, brandID string, scopes []community.ConsentScope, granted bool, at time.Time, ids []string) ([]community.ConsentChange, error) {
	if len(ids) < len(scopes) {
		return nil, fmt.Errorf("neo4jstore: change consent of %q to %q: %d ids for %d scopes", memberID, brandID, len(ids), len(scopes))
	}
	at = at.UTC()
	var rows []any
	for i, sc := range scopes {
		if !sc.Valid() {
			return nil, community.Errorf(community.CodeBadUserInput, "unknown consent scope %q", sc)
		}
		if slices.Index(scopes, sc) == i {
			rows = append(rows, map[string]any{"i": int64(i), "scope": string(sc), "id": ids[i]})
		}
	}
	params := map[string]any{
		"memberId": memberID, "brandId": brandID, "rows": rows, "granted": granted, "at": at,
		"scopeOrder": scopeOrder(),
	}
	type result struct {
		known   [2]bool
		changed []int
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (result, error) {
		recs, err := collect(ctx, tx, cypherChangeConsent, params)
		if err != nil || len(recs) == 0 {
			return result{}, err
		}
		res := result{known: [2]bool{boolean(get(recs[0], "memberKnown")), boolean(get(recs[0], "brandKnown"))}}
		list, _ := get(recs[0], "changed").([]any)
		for _, v := range list {
			res.changed = append(res.changed, integer(v))
		}
		return res, nil
	})
	if err != nil {
		return nil, fail(err, "change consent of %q to %q", memberID, brandID)
	}
	if err := unknownOf(res.known, memberID, brandID); err != nil {
		return nil, err
	}
	var changes []community.ConsentChange
	for _, i := range res.changed {
		changes = append(changes, community.ConsentChange{ID: ids[i], MemberID: memberID, BrandID: brandID, Scope: scopes[i], Granted: granted, At: at})
	}
	return changes, nil
}

// inScopeOrder returns the stored scopes in community.ConsentScopes order.
func inScopeOrder(stored []any) []community.ConsentScope {
	var out []community.ConsentScope
	for _, sc := range community.ConsentScopes {
		if slices.Contains(stored, any(string(sc))) {
			out = append(out, sc)
		}
	}
	return out
}

// ConsentsOf implements community.Store: members without consents are absent from the map.
func (s *Store) ConsentsOf(ctx context.Context, memberIDs []string) (map[string][]community.Consent, error) {
	return batch(ctx, s, cypherConsentsOf, memberIDs, nil, "consents", func(r *neo4j.Record) (string, []community.Consent) {
		return listed(r, "consents", func(v any) community.Consent {
			c, _ := v.(map[string]any)
			stored, _ := c["scopes"].([]any)
			return community.Consent{BrandID: str(c["brandId"]), Scopes: inScopeOrder(stored), UpdatedAt: utc(c["updatedAt"])}
		})
	})
}

// ConsentHistory implements community.Store: an unknown member has an empty ledger.
func (s *Store) ConsentHistory(ctx context.Context, memberID string, first int, before string) ([]community.ConsentChange, bool, error) {
	first = max(first, 0)
	params := map[string]any{"memberId": memberID, "before": before, "limit": int64(first + 1)}
	recs, err := query(ctx, s, cypherConsentHistory, params)
	if err != nil {
		return nil, false, fail(err, "read consent history of %q", memberID)
	}
	changes, more := pageOf(recs, first, func(r *neo4j.Record) community.ConsentChange {
		c, _ := get(r, "change").(map[string]any)
		return community.ConsentChange{
			ID:       str(c["id"]),
			MemberID: str(c["memberId"]),
			BrandID:  str(c["brandId"]),
			Scope:    community.ConsentScope(str(c["scope"])),
			Granted:  boolean(c["granted"]),
			At:       utc(c["at"]),
		}
	})
	return changes, more, nil
}

// purchaseFrom reads a purchase projected with purchaseFields.
func purchaseFrom(v any) community.Purchase {
	p, _ := v.(map[string]any)
	amount, _ := p["amount"].(int64)
	return community.Purchase{
		ID:         str(p["id"]),
		MemberID:   str(p["memberId"]),
		BrandID:    str(p["brandId"]),
		Amount:     amount,
		Currency:   str(p["currency"]),
		ExternalID: str(p["externalId"]),
		At:         utc(p["at"]),
		RecordedAt: utc(p["recordedAt"]),
		RefundedAt: utc(p["refundedAt"]),
	}
}

// RecordPurchase implements community.Store: the purchase is MERGEd on (brand, external
// id) under a unique constraint, so that of two concurrent records of one purchase, one
// creates it and credits its points, and the other finds it. The points credited (none
// when the member is not in the brand's programme, or the purchase comes refunded) are
// kept with the purchase, so that a refund takes back what was given and no more. A credit
// that takes the member's points above community.MaxPoints rolls the whole transaction
// back, the purchase with it.
//
// When the purchase is created and rule is given, the same transaction writes its points
// entry and the rewards rule gives (writeRewards).
func (s *Store) RecordPurchase(ctx context.Context, p community.Purchase, rule community.RewardRule) (community.Purchase, error) {
	p.At, p.RecordedAt = p.At.UTC(), p.RecordedAt.UTC()
	params := map[string]any{
		"id": p.ID, "memberId": p.MemberID, "brandId": p.BrandID, "externalId": p.ExternalID,
		"amount": p.Amount, "currency": p.Currency, "points": int64(p.Points()),
		"at": p.At, "recordedAt": p.RecordedAt, "refundedAt": nil, "maxPoints": int64(community.MaxPoints),
	}
	if p.Refunded() {
		params["refundedAt"] = p.RefundedAt.UTC()
	}
	type result struct {
		known  [2]bool
		stored community.Purchase
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (result, error) {
		recs, err := collect(ctx, tx, cypherRecordPurchase, params)
		if err != nil || len(recs) == 0 {
			return result{}, err
		}
		if boolean(get(recs[0], "overLimit")) {
			return result{}, community.PointsLimitError()
		}
		res := result{known: [2]bool{boolean(get(recs[0], "memberKnown")), boolean(get(recs[0], "brandKnown"))}}
		res.stored = purchaseFrom(get(recs[0], "stored"))
		if !boolean(get(recs[0], "created")) {
			return res, nil
		}
		// The buyer's upline is locked first, in id order, before the rewards lock the
		// referrer and the referrer's referrer, so that both take their locks in one order.
		if err := countConversion(ctx, tx, p.MemberID); err != nil {
			return result{}, err
		}
		if credited := integer(get(recs[0], "credited")); credited > 0 {
			e := community.PointsEntry{
				ID: community.PointsEntryID(community.PointsPurchase, p.ID), MemberID: p.MemberID, BrandID: p.BrandID,
				Reason: community.PointsPurchase, Delta: credited, Balance: integer(get(recs[0], "balance")), PurchaseID: p.ID, At: p.RecordedAt,
			}
			if err := exec(ctx, tx, cypherPointsEntry, map[string]any{"memberId": p.MemberID, "entry": entryProps(e)}); err != nil {
				return result{}, err
			}
		}
		if rule != nil {
			if err := s.writeRewards(ctx, tx, res.stored, rule); err != nil {
				return result{}, err
			}
		}
		return res, nil
	})
	if err != nil {
		return community.Purchase{}, fail(err, "record purchase %q of brand %q", p.ExternalID, p.BrandID)
	}
	if err := unknownOf(res.known, p.MemberID, p.BrandID); err != nil {
		return community.Purchase{}, err
	}
	got := res.stored
	if got.ID == "" {
		return community.Purchase{}, fmt.Errorf("neo4jstore: record purchase %q of brand %q: nothing stored", p.ExternalID, p.BrandID)
	}
	if got.MemberID != p.MemberID || got.Amount != p.Amount || got.Currency != p.Currency || !got.At.Equal(p.At) {
		return community.Purchase{}, community.Errorf(community.CodeConflict, "the brand recorded another purchase as %q", p.ExternalID)
	}
	return got, nil
}

// RefundPurchase implements community.Store: it takes back the points the purchase kept
// when it was recorded, and reverses or claws back its rewards, in one transaction.
func (s *Store) RefundPurchase(ctx context.Context, brandID, purchaseID string, at time.Time) (community.Purchase, error) {
	params := map[string]any{"brandId": brandID, "purchaseId": purchaseID, "at": at.UTC()}
	recs, err := write(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		recs, err := collect(ctx, tx, cypherRefundPurchase, params)
		if err != nil || len(recs) == 0 || !boolean(get(recs[0], "refunding")) {
			return recs, err
		}
		p := purchaseFrom(get(recs[0], "purchase"))
		if err := countConversion(ctx, tx, p.MemberID); err != nil {
			return nil, err
		}
		if credited := integer(get(recs[0], "credited")); credited > 0 {
			_, err := changePoints(ctx, tx, p.MemberID, brandID, -credited, community.PointsEntry{
				ID: community.PointsEntryID(community.PointsRefund, p.ID), Reason: community.PointsRefund, PurchaseID: p.ID, At: at.UTC(),
			})
			if err != nil {
				return nil, err
			}
		}
		return recs, s.unwindRewards(ctx, tx, p.ID, at.UTC())
	})
	if err != nil {
		return community.Purchase{}, fail(err, "refund purchase %q of brand %q", purchaseID, brandID)
	}
	if len(recs) == 0 {
		return community.Purchase{}, community.Errorf(community.CodeNotFound, "brand %q has no purchase %q", brandID, purchaseID)
	}
	return purchaseFrom(get(recs[0], "purchase")), nil
}

// PurchasesOf implements community.Store: members without such purchases are absent from
// the map.
func (s *Store) PurchasesOf(ctx context.Context, brandID string, memberIDs []string) (map[string][]community.Purchase, error) {
	return batch(ctx, s, cypherPurchasesOf, memberIDs, map[string]any{"brandId": brandID}, "purchases", func(r *neo4j.Record) (string, []community.Purchase) {
		return listed(r, "purchases", purchaseFrom)
	})
}
