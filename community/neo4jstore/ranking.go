package neo4jstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// ReferralPath implements community.RankingStore: one statement, cypherReferralPath.
func (s *Store) ReferralPath(ctx context.Context, fromID, toID string) ([]string, error) {
	if fromID == toID {
		return nil, nil
	}
	recs, err := query(ctx, s, cypherReferralPath, map[string]any{"fromId": fromID, "toId": toID})
	if err != nil {
		return nil, fail(err, "read the referral path from %q to %q", fromID, toID)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	ids, _ := get(recs[0], "path").([]any)
	if len(ids) < 2 {
		return nil, nil
	}
	out := make([]string, len(ids))
	for i, v := range ids {
		out[i] = str(v)
	}
	return out, nil
}

// Open ends of a ranking's window, as the statements compare referral times with them:
// before and after every time the store holds.
var (
	windowStart = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// rankingStatements are the statements of the rankings.
var rankingStatements = map[community.ReferrerRanking]string{
	community.RankDirect:    cypherTopDirect,
	community.RankTotal:     cypherTopTotal,
	community.RankConverted: cypherTopConverted,
}

// TopReferrers implements community.RankingStore: one statement, which finds the brand and
// its campaigns and ranks over their referrals (cypherTopDirect, cypherTopTotal,
// cypherTopConverted).
func (s *Store) TopReferrers(ctx context.Context, q community.ReferrerQuery) ([]community.ReferrerCount, error) {
	cypher, ok := rankingStatements[q.By]
	if !ok {
		return nil, community.Errorf(community.CodeBadUserInput, "unknown ranking %q", q.By)
	}
	from, to := q.From, q.To
	if from.IsZero() {
		from = windowStart
	}
	if to.IsZero() {
		to = windowEnd
	}
	params := map[string]any{
		"brandId": q.BrandID, "campaignId": orNull(q.CampaignID), "from": from.UTC(), "to": to.UTC(),
		"first": int64(q.First), "consentingOnly": q.ConsentingOnly,
	}
	recs, err := query(ctx, s, cypher, params)
	if err != nil {
		return nil, fail(err, "rank the referrers of brand %q", q.BrandID)
	}
	if len(recs) == 0 || !boolean(get(recs[0], "brandFound")) {
		return nil, noBrand(q.BrandID)
	}
	if !boolean(get(recs[0], "campaignFound")) {
		return nil, community.Errorf(community.CodeNotFound, "no campaign %q of brand %q", q.CampaignID, q.BrandID)
	}
	return referrerCountsFrom(recs[0]), nil
}

// referrerCountsFrom reads a ranking's rows, projected as {id, n}, in ranking order:
// collect keeps the order of the rows it is given, but nothing in Cypher promises it.
func referrerCountsFrom(r *neo4j.Record) []community.ReferrerCount {
	rows, _ := get(r, "top").([]any)
	out := make([]community.ReferrerCount, len(rows))
	for i, v := range rows {
		row, _ := v.(map[string]any)
		out[i] = community.ReferrerCount{MemberID: str(row["id"]), Count: integer(row["n"])}
	}
	slices.SortFunc(out, func(a, b community.ReferrerCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.MemberID, b.MemberID))
	})
	return out
}
