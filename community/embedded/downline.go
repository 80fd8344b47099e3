package embedded

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Downlines live in memory only: each member's referees, and each member's figures
// (community.ReferralStats), are derived from the referrals and purchases when the file is
// loaded, and kept as they are written, under the store's write lock. The file holds
// nothing more than the referrals and purchases it held before.

// downlineGraph is the in-memory part of the store about downlines. It is guarded by
// Store.mu, like the rest of the graph.
type downlineGraph struct {
	// referees are each member's referrals, oldest first (At ascending, then the referee's
	// id descending): the reverse of list order, so that a new referral is an append.
	referees map[string][]*community.Referral
	// figures are the kept figures of members who have a downline or who bought.
	figures map[string]*community.DownlineRow
}

func newDownlineGraph() downlineGraph {
	return downlineGraph{referees: map[string][]*community.Referral{}, figures: map[string]*community.DownlineRow{}}
}

// compareReferees orders referrals in reverse list order: oldest first, then by referee id
// descending.
func compareReferees(a, b *community.Referral) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return -strings.Compare(a.MemberID, b.MemberID)
}

// figuresOf returns the kept figures of a member, made when it has none.
func (s *Store) figuresOf(id string) *community.DownlineRow {
	f := s.figures[id]
	if f == nil {
		f = &community.DownlineRow{}
		s.figures[id] = f
	}
	return f
}

// countReferral adds a referral written to memory (referredBy) to the referees of its
// referrer and joins the referee's branch to the figures of its whole upline.
func (s *Store) countReferral(r *community.Referral) {
	s.referees[r.ReferrerID] = insertSorted(s.referees[r.ReferrerID], r, compareReferees)
	var branch community.DownlineRow
	if f := s.figures[r.MemberID]; f != nil {
		branch = *f
	}
	d := 1
	for up := r.ReferrerID; ; d++ {
		s.figuresOf(up).Stats.Join(d, branch.Stats, branch.Converted)
		next := s.referredBy[up]
		if next == nil {
			return
		}
		up = next.ReferrerID
	}
}

// countConversion keeps whether a member bought, after its purchases changed, and counts
// a change in the figures of its whole upline.
func (s *Store) countConversion(memberID string) {
	bought := slices.ContainsFunc(s.purchasesOf[memberID], func(p *community.Purchase) bool { return !p.Refunded() })
	f := s.figures[memberID]
	if (f != nil && f.Converted) == bought {
		return
	}
	s.figuresOf(memberID).Converted = bought
	delta := 1
	if !bought {
		delta = -1
	}
	for r := s.referredBy[memberID]; r != nil; r = s.referredBy[r.ReferrerID] {
		s.figuresOf(r.ReferrerID).Stats.Converted += delta
	}
}

// countDownlines derives the referees and figures of every member from the referrals and
// purchases loaded. The figures do not depend on the order the referrals are counted in.
func (s *Store) countDownlines() {
	for id := range s.purchasesOf {
		if slices.ContainsFunc(s.purchasesOf[id], func(p *community.Purchase) bool { return !p.Refunded() }) {
			s.figuresOf(id).Converted = true
		}
	}
	// Each referral counts its referee alone on each member of its upline: the figures of
	// a downline are the sum of its members', whatever the order they are counted in.
	for _, r := range s.referredBy {
		s.referees[r.ReferrerID] = append(s.referees[r.ReferrerID], r)
		f := s.figures[r.MemberID]
		converted := f != nil && f.Converted
		d := 1
		for up := r.ReferrerID; ; d++ {
			s.figuresOf(up).Stats.Join(d, community.ReferralStats{}, converted)
			next := s.referredBy[up]
			if next == nil {
				break
			}
			up = next.ReferrerID
		}
	}
	for _, list := range s.referees {
		slices.SortFunc(list, compareReferees)
	}
}

// ReferralStatsOf implements community.DownlineStore.
func (s *Store) ReferralStatsOf(_ context.Context, memberIDs []string) (map[string]community.ReferralStats, error) {
	defer s.reading()()
	out := make(map[string]community.ReferralStats, len(memberIDs))
	for _, id := range memberIDs {
		if s.members[id] == nil {
			continue
		}
		var st community.ReferralStats
		if f := s.figures[id]; f != nil {
			st = f.Stats
		}
		out[id] = st
	}
	return out, nil
}

// DownlinePages implements community.DownlineStore. Level 1 is a member's referees, kept
// in order: a page costs its length. A deeper level is gathered from the levels above it
// and sorted: a page costs the members of the levels down to it.
func (s *Store) DownlinePages(_ context.Context, level, first int, reqs []community.ListRequest) ([]community.DownlinePage, error) {
	defer s.reading()()
	out := make([]community.DownlinePage, len(reqs))
	for i, r := range reqs {
		if s.members[r.MemberID] == nil || level < 1 || level > community.DownlineLevels {
			continue
		}
		if f := s.figures[r.MemberID]; f != nil {
			out[i].TotalCount = f.Stats.PerLevel[level-1]
		}
		list := s.referees[r.MemberID]
		if level > 1 {
			list = s.downlineLevel(r.MemberID, level)
		}
		end := pageEnd(list, r.After, func(x *community.Referral) (time.Time, string) { return x.At, x.MemberID })
		for j := end - 1; j >= 0; j-- {
			if len(out[i].Edges) >= first {
				out[i].HasNextPage = true
				break
			}
			out[i].Edges = append(out[i].Edges, community.DownlineEdge{MemberID: list[j].MemberID, At: list[j].At})
		}
	}
	return out, nil
}

// downlineLevel returns the referrals of the members level levels below a member, in
// reverse list order.
func (s *Store) downlineLevel(id string, level int) []*community.Referral {
	front := []string{id}
	var refs []*community.Referral
	for l := 1; l <= level && len(front) > 0; l++ {
		refs = refs[:0]
		var next []string
		for _, f := range front {
			for _, r := range s.referees[f] {
				refs = append(refs, r)
				if l < level {
					next = append(next, r.MemberID)
				}
			}
		}
		front = next
	}
	out := slices.Clone(refs)
	slices.SortFunc(out, compareReferees)
	return out
}

// ImportReferrals implements community.BulkStore: the batch is written in one bbolt
// transaction, and then counted referral by referral as RedeemInvite counts one.
func (s *Store) ImportReferrals(_ context.Context, batch []community.Referral) error {
	defer s.writing()()
	// parent is the referrer of each member as the batch has it so far.
	parent := map[string]string{}
	referrerOf := func(id string) (string, bool) {
		if p, ok := parent[id]; ok {
			return p, true
		}
		if r := s.referredBy[id]; r != nil {
			return r.ReferrerID, true
		}
		return "", false
	}
	kept := make([]*community.Referral, 0, len(batch))
	for _, r := range batch {
		if s.members[r.MemberID] == nil || s.members[r.ReferrerID] == nil || r.MemberID == r.ReferrerID {
			continue
		}
		if _, referred := referrerOf(r.MemberID); referred {
			continue
		}
		cycle := false
		for up, ok := r.ReferrerID, true; ok; up, ok = referrerOf(up) {
			if up == r.MemberID {
				cycle = true
				break
			}
		}
		if cycle {
			continue
		}
		parent[r.MemberID] = r.ReferrerID
		ref := r
		ref.At, ref.Flags = ref.At.UTC(), slices.Clone(r.Flags)
		kept = append(kept, &ref)
	}
	if len(kept) == 0 {
		return nil
	}
	sorted := slices.Clone(kept)
	slices.SortFunc(sorted, func(a, b *community.Referral) int { return strings.Compare(a.MemberID, b.MemberID) })
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range sorted {
			if err := putJSON(tx, bucketReferrals, []byte(r.MemberID), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: import referrals: %w", err)
	}
	for _, r := range kept {
		s.referredBy[r.MemberID] = r
		s.arrive(r)
		s.countReferral(r)
	}
	s.indexRankedBatch(kept)
	return nil
}
