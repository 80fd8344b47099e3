package neo4jstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// countingStatuses are the statuses of rewards that count toward caps.
var countingStatuses = func() []string {
	var out []string
	for _, s := range community.RewardStatuses {
		if s.Counts() {
			out = append(out, string(s))
		}
	}
	return out
}()

// rewardProps returns the properties of a reward's node.
func rewardProps(r community.Reward) (map[string]any, error) {
	reviews, err := json.Marshal(r.Reviews)
	if err != nil {
		return nil, fmt.Errorf("neo4jstore: encode reviews of reward %q: %w", r.ID, err)
	}
	return map[string]any{
		"id": r.ID, "campaignId": r.CampaignID, "brandId": r.BrandID, "beneficiaryId": r.BeneficiaryID,
		"refereeId": r.RefereeID, "purchaseId": r.PurchaseID, "rule": int64(r.Rule), "level": int64(r.Level),
		"kind": string(r.Kind), "points": int64(r.Points), "amount": r.Amount, "currency": r.Currency,
		"status": string(r.Status), "flags": flagStrings(r.Flags), "reviews": string(reviews), "awaitsReview": r.AwaitsReview(),
		"createdAt": r.CreatedAt.UTC(), "grantsAt": r.GrantsAt.UTC(), "grantedAt": orZero(r.GrantedAt),
		"endedAt": orZero(r.EndedAt), "clawedBack": int64(r.ClawedBack), "shortfall": int64(r.Shortfall),
	}, nil
}

// rewardFrom reads a reward projected with rewardFields.
func rewardFrom(v any) (community.Reward, error) {
	p, _ := v.(map[string]any)
	amount, _ := p["amount"].(int64)
	r := community.Reward{
		ID: str(p["id"]), CampaignID: str(p["campaignId"]), BrandID: str(p["brandId"]), BeneficiaryID: str(p["beneficiaryId"]),
		RefereeID: str(p["refereeId"]), PurchaseID: str(p["purchaseId"]), Rule: integer(p["rule"]), Level: integer(p["level"]),
		Kind: community.RewardKind(str(p["kind"])), Points: integer(p["points"]), Amount: amount, Currency: str(p["currency"]),
		Status: community.RewardStatus(str(p["status"])), CreatedAt: utc(p["createdAt"]), GrantsAt: utc(p["grantsAt"]),
		GrantedAt: utc(p["grantedAt"]), EndedAt: utc(p["endedAt"]), ClawedBack: integer(p["clawedBack"]), Shortfall: integer(p["shortfall"]),
	}
	r.Flags = flagsIn(p["flags"])
	if raw := str(p["reviews"]); raw != "" {
		if err := json.Unmarshal([]byte(raw), &r.Reviews); err != nil {
			return r, fmt.Errorf("neo4jstore: reviews of reward %q: %w", r.ID, err)
		}
	}
	if len(r.Reviews) == 0 {
		r.Reviews = nil
	}
	for i := range r.Reviews {
		r.Reviews[i].At = r.Reviews[i].At.UTC()
	}
	return r, nil
}

// entryProps returns the properties of a points entry that cypherChangePoints does not
// compute.
func entryProps(e community.PointsEntry) map[string]any {
	return map[string]any{
		"id": e.ID, "memberId": e.MemberID, "brandId": e.BrandID, "reason": string(e.Reason),
		"delta": int64(e.Delta), "balance": int64(e.Balance), "shortfall": int64(e.Shortfall),
		"purchaseId": e.PurchaseID, "rewardId": e.RewardID, "at": e.At.UTC(),
	}
}

// entryFrom reads a points entry projected as e {.*}.
func entryFrom(v any) community.PointsEntry {
	p, _ := v.(map[string]any)
	return community.PointsEntry{
		ID: str(p["id"]), MemberID: str(p["memberId"]), BrandID: str(p["brandId"]), Reason: community.PointsReason(str(p["reason"])),
		Delta: integer(p["delta"]), Balance: integer(p["balance"]), Shortfall: integer(p["shortfall"]),
		PurchaseID: str(p["purchaseId"]), RewardID: str(p["rewardId"]), At: utc(p["at"]),
	}
}

// changePoints adds delta to a membership's points in tx, with a points entry, and returns
// the change made: 0, and nothing written, when the member is not in the programme.
func changePoints(ctx context.Context, tx neo4j.ManagedTransaction, memberID, brandID string, delta int, e community.PointsEntry) (int, error) {
	e.MemberID, e.BrandID = memberID, brandID
	params := map[string]any{
		"memberId": memberID, "brandId": brandID, "delta": int64(delta), "maxPoints": int64(community.MaxPoints), "entry": entryProps(e),
	}
	recs, err := collect(ctx, tx, cypherChangePoints, params)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	return integer(get(recs[0], "changed")), nil
}

// setReward writes a reward's new state in tx and renews its events.
func (s *Store) setReward(ctx context.Context, tx neo4j.ManagedTransaction, r community.Reward) error {
	props, err := rewardProps(r)
	if err != nil {
		return err
	}
	return exec(ctx, tx, cypherSetReward, s.eventParams(map[string]any{"id": r.ID, "props": props}, community.EventReward))
}

// lockedReward locks and reads a reward in tx. NOT_FOUND for an unknown one.
func lockedReward(ctx context.Context, tx neo4j.ManagedTransaction, id string) (community.Reward, error) {
	recs, err := collect(ctx, tx, cypherLockReward, map[string]any{"id": id})
	if err != nil {
		return community.Reward{}, err
	}
	if len(recs) == 0 {
		return community.Reward{}, community.Errorf(community.CodeNotFound, "no reward %q", id)
	}
	return rewardFrom(get(recs[0], "reward"))
}

// writeRewards reads the reward facts of a purchase just created, under the locks of its
// buyer's upline, asks rule, and writes the rewards it returns.
func (s *Store) writeRewards(ctx context.Context, tx neo4j.ManagedTransaction, p community.Purchase, rule community.RewardRule) error {
	params := map[string]any{
		"memberId": p.MemberID, "brandId": p.BrandID, "purchaseId": p.ID, "at": p.At.UTC(), "counting": countingStatuses,
	}
	locked, err := collect(ctx, tx, cypherLockRewardUpline, params)
	if err != nil {
		return err
	}
	if len(locked) == 0 || integer(get(locked[0], "locked")) == 0 {
		return nil // a buyer nobody referred earns nobody a reward
	}
	recs, err := collect(ctx, tx, cypherRewardFacts, params)
	if err != nil || len(recs) == 0 {
		return err
	}
	rec := recs[0]
	f := community.RewardFacts{Purchase: p, JoinedAt: utc(get(rec, "joinedAt")), EarlierPurchases: integer(get(rec, "earlier"))}
	for _, t := range anyList(get(rec, "acts")) {
		if at := utc(t); f.FirstActAt.IsZero() || at.Before(f.FirstActAt) {
			f.FirstActAt = at
		}
	}
	if v, ok := get(rec, "referral").(map[string]any); ok {
		ref := community.Referral{
			MemberID: p.MemberID, ReferrerID: str(v["referrerId"]), Code: str(v["code"]), CampaignID: str(v["campaignId"]),
			Channel: community.ShareChannel(str(v["channel"])), At: utc(v["at"]), Flags: flagsIn(v["flags"]),
		}
		f.Referral = &ref
	}
	if v := get(rec, "campaign"); v != nil {
		c, err := campaignFrom(v)
		if err != nil {
			return err
		}
		f.Campaign = &c
	}
	for _, id := range anyList(get(rec, "upline")) {
		f.Upline = append(f.Upline, str(id))
	}
	f.Earned = map[community.RewardSlot]int{}
	for _, e := range anyList(get(rec, "earned")) {
		m, _ := e.(map[string]any)
		f.Earned[community.RewardSlot{BeneficiaryID: str(m["beneficiaryId"]), Rule: integer(m["rule"])}] += integer(m["n"])
	}
	rewards := rule(f)
	if len(rewards) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(rewards))
	for i, r := range rewards {
		if rows[i], err = rewardProps(r); err != nil {
			return err
		}
	}
	return exec(ctx, tx, cypherCreateRewards, s.eventParams(map[string]any{"rewards": rows}, community.EventReward))
}

// unwindRewards reverses the pending rewards of a purchase being refunded and claws back
// its granted ones, in tx.
func (s *Store) unwindRewards(ctx context.Context, tx neo4j.ManagedTransaction, purchaseID string, at time.Time) error {
	recs, err := collect(ctx, tx, cypherLockPurchaseRewards, map[string]any{"purchaseId": purchaseID})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		r, err := rewardFrom(get(rec, "reward"))
		if err != nil {
			return err
		}
		switch r.Status {
		case community.RewardPending:
			r.Status, r.EndedAt = community.RewardReversed, at
		case community.RewardGranted:
			r.Status, r.EndedAt = community.RewardClawedBack, at
			if r.Points > 0 {
				changed, err := changePoints(ctx, tx, r.BeneficiaryID, r.BrandID, -r.Points, community.PointsEntry{
					ID: community.PointsEntryID(community.PointsClawback, r.ID), Reason: community.PointsClawback,
					PurchaseID: purchaseID, RewardID: r.ID, At: at,
				})
				if err != nil {
					return err
				}
				r.ClawedBack, r.Shortfall = -changed, r.Points+changed
			}
		default:
			continue
		}
		if err := s.setReward(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// anyList reads a list value; anything else is empty.
func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// RewardsByID implements community.RewardStore.
func (s *Store) RewardsByID(ctx context.Context, ids []string) (map[string]community.Reward, error) {
	var bad error
	out, err := batch(ctx, s, cypherRewardsByID, ids, nil, "rewards", func(r *neo4j.Record) (string, community.Reward) {
		rw, err := rewardFrom(get(r, "reward"))
		if err != nil {
			bad = err
		}
		return str(get(r, "id")), rw
	})
	if err == nil {
		err = bad
	}
	return out, err
}

// positionParams sets the position of a page in params: afterAt null for the first.
func positionParams(params map[string]any, after *community.Position) map[string]any {
	params["afterAt"], params["afterId"] = nil, ""
	if after != nil {
		params["afterAt"], params["afterId"] = after.Since.UTC(), after.ID
	}
	return params
}

// RewardPages implements community.RewardStore: one statement for all the queries.
func (s *Store) RewardPages(ctx context.Context, qs []community.RewardQuery) ([]community.RewardPage, error) {
	rows := make([]map[string]any, len(qs))
	limit := 0
	for i, q := range qs {
		rows[i] = positionParams(map[string]any{
			"memberId": q.MemberID, "brandId": q.BrandID, "status": string(q.Status), "limit": int64(q.First + 1),
		}, q.After)
		limit = max(limit, q.First+1)
	}
	recs, err := query(ctx, s, cypherRewardPages, map[string]any{"queries": rows, "limit": int64(limit)})
	if err != nil {
		return nil, fail(err, "read %d reward pages", len(qs))
	}
	if len(recs) != len(qs) {
		return nil, fmt.Errorf("neo4jstore: read %d reward pages: %d came back", len(qs), len(recs))
	}
	out := make([]community.RewardPage, len(qs))
	for i, rec := range recs {
		var bad error
		out[i].Rewards, out[i].HasNextPage = pageOf(anyList(get(rec, "rewards")), qs[i].First, func(v any) community.Reward {
			r, err := rewardFrom(v)
			if err != nil {
				bad = err
			}
			return r
		})
		if bad != nil {
			return nil, bad
		}
	}
	return out, nil
}

// PointsPages implements community.RewardStore: one statement for all the queries.
func (s *Store) PointsPages(ctx context.Context, qs []community.PointsQuery) ([]community.PointsPage, error) {
	rows := make([]map[string]any, len(qs))
	limit := 0
	for i, q := range qs {
		rows[i] = positionParams(map[string]any{"memberId": q.MemberID, "brandId": q.BrandID, "limit": int64(q.First + 1)}, q.After)
		limit = max(limit, q.First+1)
	}
	recs, err := query(ctx, s, cypherPointsPages, map[string]any{"queries": rows, "limit": int64(limit)})
	if err != nil {
		return nil, fail(err, "read %d points pages", len(qs))
	}
	if len(recs) != len(qs) {
		return nil, fmt.Errorf("neo4jstore: read %d points pages: %d came back", len(qs), len(recs))
	}
	out := make([]community.PointsPage, len(qs))
	for i, rec := range recs {
		out[i].Entries, out[i].HasNextPage = pageOf(anyList(get(rec, "entries")), qs[i].First, entryFrom)
	}
	return out, nil
}

// ReviewQueue implements community.RewardStore.
func (s *Store) ReviewQueue(ctx context.Context, brandID string, first int, after *community.Position) (community.RewardPage, error) {
	params := positionParams(map[string]any{"brandId": brandID, "limit": int64(first + 1)}, after)
	recs, err := query(ctx, s, cypherReviewQueue, params)
	if err != nil {
		return community.RewardPage{}, fail(err, "read the review queue of brand %q", brandID)
	}
	var page community.RewardPage
	var bad error
	page.Rewards, page.HasNextPage = pageOf(recs, first, func(r *neo4j.Record) community.Reward {
		rw, err := rewardFrom(get(r, "reward"))
		if err != nil {
			bad = err
		}
		return rw
	})
	return page, bad
}

// ReviewReward implements community.RewardStore: one transaction that locks the reward,
// checks that it is pending, and writes the decision.
func (s *Store) ReviewReward(ctx context.Context, rewardID string, rv community.RewardReview) (community.Reward, error) {
	rv.At = rv.At.UTC()
	r, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (community.Reward, error) {
		r, err := lockedReward(ctx, tx, rewardID)
		if err != nil {
			return r, err
		}
		if r.Status != community.RewardPending {
			return r, community.Errorf(community.CodeConflict, "the reward is %s: only a pending reward is reviewed", r.Status)
		}
		r.Reviews = append(r.Reviews, rv)
		if rv.Decision == community.ReviewReject {
			r.Status, r.EndedAt = community.RewardRejected, rv.At
		}
		return r, s.setReward(ctx, tx, r)
	})
	if err != nil {
		return community.Reward{}, fail(err, "review reward %q", rewardID)
	}
	return r, nil
}

// DueRewards implements community.RewardStore.
func (s *Store) DueRewards(ctx context.Context, now time.Time, limit int) ([]string, error) {
	params := map[string]any{"pending": string(community.RewardPending), "now": now.UTC(), "limit": int64(max(limit, 0))}
	recs, err := query(ctx, s, cypherDueRewards, params)
	if err != nil {
		return nil, fail(err, "read due rewards")
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = str(get(r, "id"))
	}
	return out, nil
}

// GrantReward implements community.RewardStore: one transaction that locks the reward,
// checks it is grantable, credits its points (joining the beneficiary to the programme
// when needed) and marks it granted.
func (s *Store) GrantReward(ctx context.Context, rewardID string, now time.Time) (community.Reward, bool, error) {
	now = now.UTC()
	type result struct {
		r       community.Reward
		granted bool
	}
	res, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (result, error) {
		r, err := lockedReward(ctx, tx, rewardID)
		if err != nil || !r.GrantableAt(now) {
			return result{r: r}, err
		}
		if r.Points > 0 {
			join := map[string]any{"memberId": r.BeneficiaryID, "brandId": r.BrandID, "since": now, "inKey": listKey(r.BrandID, now, r.BeneficiaryID)}
			if err := exec(ctx, tx, cypherJoinBrand, join); err != nil {
				return result{}, err
			}
			_, err := changePoints(ctx, tx, r.BeneficiaryID, r.BrandID, r.Points, community.PointsEntry{
				ID: community.PointsEntryID(community.PointsReward, r.ID), Reason: community.PointsReward,
				PurchaseID: r.PurchaseID, RewardID: r.ID, At: now,
			})
			if err != nil {
				return result{}, err
			}
		}
		r.Status, r.GrantedAt = community.RewardGranted, now
		return result{r: r, granted: true}, s.setReward(ctx, tx, r)
	})
	if err != nil {
		return community.Reward{}, false, fail(err, "grant reward %q", rewardID)
	}
	return res.r, res.granted, nil
}
