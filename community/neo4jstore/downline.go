package neo4jstore

import (
	"context"
	"fmt"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// figuresFrom reads the figures projected by figuresFields.
func figuresFrom(r *neo4j.Record) community.DownlineRow {
	var row community.DownlineRow
	levels, _ := get(r, "levels").([]any)
	for i := 0; i < len(levels) && i < community.DownlineLevels; i++ {
		row.Stats.PerLevel[i] = integer(levels[i])
	}
	row.Stats.Total, row.Stats.Deepest = integer(get(r, "total")), integer(get(r, "deepest"))
	row.Stats.Converted, row.Converted = integer(get(r, "converted")), boolean(get(r, "bought"))
	return row
}

// figuresRow is the parameter row of cypherSetFigures for a member's figures.
func figuresRow(id string, s community.ReferralStats) map[string]any {
	levels := make([]int64, community.DownlineLevels)
	for i, n := range s.PerLevel {
		levels[i] = int64(n)
	}
	return map[string]any{"id": id, "levels": levels, "total": int64(s.Total), "deepest": int64(s.Deepest), "converted": int64(s.Converted)}
}

// countReferral joins, in a redemption's transaction and after its referral is written,
// the redeemer's branch to the figures of its new upline (community.ReferralStats.Join).
// The figures are read and written whole, so the redeemer and its whole new upline are
// locked first: cypherLockRedemption locked the upline the code's member had when it
// began, and one that joined that chain to another while it waited for its locks has
// added members above it since, whose figures another redemption may be writing.
func countReferral(ctx context.Context, tx neo4j.ManagedTransaction, memberID string) error {
	if err := exec(ctx, tx, cypherLockUpline, map[string]any{"memberId": memberID}); err != nil {
		return err
	}
	recs, err := collect(ctx, tx, cypherUplineFigures, map[string]any{"memberId": memberID})
	if err != nil {
		return err
	}
	var branch community.DownlineRow
	for _, r := range recs {
		if integer(get(r, "distance")) == 0 {
			branch = figuresFrom(r)
		}
	}
	rows := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		d := integer(get(r, "distance"))
		if d == 0 {
			continue
		}
		f := figuresFrom(r)
		f.Stats.Join(d, branch.Stats, branch.Converted)
		rows = append(rows, figuresRow(str(get(r, "id")), f.Stats))
	}
	return exec(ctx, tx, cypherSetFigures, map[string]any{"rows": rows})
}

// countConversion keeps, in the transaction that recorded or refunded a purchase of the
// member, whether the member bought, and the converted figure of its upline. It locks the
// member's upline first, so that a redemption joining the chain to another upline is
// either over (and this reads the upline it made) or waits.
func countConversion(ctx context.Context, tx neo4j.ManagedTransaction, memberID string) error {
	params := map[string]any{"memberId": memberID}
	if err := exec(ctx, tx, cypherLockUpline, params); err != nil {
		return err
	}
	return exec(ctx, tx, cypherCountConversion, params)
}

// ReferralStatsOf implements community.DownlineStore.
func (s *Store) ReferralStatsOf(ctx context.Context, memberIDs []string) (map[string]community.ReferralStats, error) {
	return batch(ctx, s, cypherReferralStats, memberIDs, nil, "referral stats", func(r *neo4j.Record) (string, community.ReferralStats) {
		return str(get(r, "id")), figuresFrom(r).Stats
	})
}

// DownlinePages implements community.DownlineStore. Level 1 is a seek of the index of
// REFERRED_BY.inKey that reads about as many referrals as the page returns, however many
// the member has; a deeper level reads the levels above it (see downlineDeeperHead).
func (s *Store) DownlinePages(ctx context.Context, level, first int, reqs []community.ListRequest) ([]community.DownlinePage, error) {
	out := make([]community.DownlinePage, len(reqs))
	if level < 1 || level > community.DownlineLevels || len(reqs) == 0 {
		return out, nil
	}
	first = max(first, 0)
	rows := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		row := map[string]any{"i": i, "memberId": r.MemberID}
		switch {
		case level == 1:
			row["from"], row["to"] = listKeyStart(r.MemberID, r.After), listKeyEnd(r.MemberID)
		case r.After != nil:
			row["afterAt"], row["afterId"] = r.After.Since.UTC(), r.After.ID
		default:
			row["afterAt"], row["afterId"] = nil, nil
		}
		rows[i] = row
	}
	cypher := cypherDownlineLevel1
	if level > 1 {
		cypher = cypherDownlineDeeper[level]
	}
	recs, err := query(ctx, s, cypher, map[string]any{"reqs": rows, "limit": int64(first + 1), "level": int64(level)})
	if err != nil {
		return nil, fail(err, "read level %d of %d downlines", level, len(reqs))
	}
	for _, rec := range recs {
		i := integer(get(rec, "i"))
		var edges []community.DownlineEdge
		if level == 1 {
			keys, _ := get(rec, "keys").([]any)
			for _, k := range keys {
				id, at, ok := parseListKey(reqs[i].MemberID, str(k))
				if !ok {
					return nil, fmt.Errorf("neo4jstore: referees of %q: malformed key", reqs[i].MemberID)
				}
				edges = append(edges, community.DownlineEdge{MemberID: id, At: at})
			}
		} else {
			list, _ := get(rec, "edges").([]any)
			for _, v := range list {
				e, _ := v.(map[string]any)
				edges = append(edges, community.DownlineEdge{MemberID: str(e["id"]), At: utc(e["at"])})
			}
		}
		out[i].TotalCount = integer(get(rec, "total"))
		out[i].Edges, out[i].HasNextPage = pageOf(edges, first, func(e community.DownlineEdge) community.DownlineEdge { return e })
	}
	return out, nil
}

// ImportReferrals implements community.BulkStore: one transaction of two statements and a
// read. It reads each member of the batch with its whole upline and their figures, counts
// the batch in Go referral by referral as RedeemInvite counts one, and writes the
// referrals kept and the figures that changed. It takes no locks: it is for seeding and
// migrations, not to run beside redemptions.
func (s *Store) ImportReferrals(ctx context.Context, referrals []community.Referral) error {
	if len(referrals) == 0 {
		return nil
	}
	ids := make([]string, 0, 2*len(referrals))
	for _, r := range referrals {
		ids = append(ids, r.MemberID, r.ReferrerID)
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		recs, err := collect(ctx, tx, cypherImportUplines, map[string]any{"ids": ids})
		if err != nil {
			return struct{}{}, err
		}
		f := community.NewForestCount(len(recs))
		for _, r := range recs {
			f.Known(str(get(r, "id")), str(get(r, "referrerId")), figuresFrom(r))
		}
		var rows []map[string]any
		for _, r := range referrals {
			if !f.Join(r.MemberID, r.ReferrerID) {
				continue
			}
			rows = append(rows, map[string]any{
				"memberId": r.MemberID, "referrerId": r.ReferrerID, "at": r.At.UTC(), "code": r.Code,
				"campaign": r.CampaignID, "channel": string(r.Channel), "inKey": listKey(r.ReferrerID, r.At, r.MemberID),
				"flags": flagStrings(r.Flags),
			})
		}
		if len(rows) == 0 {
			return struct{}{}, nil
		}
		if err := exec(ctx, tx, cypherImportReferrals, map[string]any{"rows": rows}); err != nil {
			return struct{}{}, err
		}
		changed := f.Changed()
		set := make([]map[string]any, 0, len(changed))
		for _, id := range changed {
			set = append(set, figuresRow(id, f.Row(id).Stats))
		}
		return struct{}{}, exec(ctx, tx, cypherSetFigures, map[string]any{"rows": set})
	})
	if err != nil {
		return fail(err, "import %d referrals", len(referrals))
	}
	return nil
}
