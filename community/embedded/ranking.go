package embedded

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"quanzi/community"
)

// rankingIndex is the in-memory index that referral paths and rankings read, beside
// referralGraph.referredBy: each campaign's referrals in time order, so that a ranking's
// window is a binary search, and every referral as seqs, so that walking an upline reads
// a slice instead of a map of strings. Guarded by Store.mu, like the rest of the graph.
type rankingIndex struct {
	// ofCampaign are each campaign's referrals, oldest first (at, then the referee's
	// seq): the order they are written in, so that a new one is an append.
	ofCampaign map[string][]rankedReferral
	// referrerOf maps a member's seq to its referrer's seq plus one; 0 (or no entry) for
	// a member nobody referred.
	referrerOf []uint32
}

// rankedReferral is a referral as the ranking index keeps it.
type rankedReferral struct {
	at                int64 // Unix nanoseconds
	referee, referrer uint32
}

func compareReferralTimes(a, b rankedReferral) int {
	return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.referee, b.referee))
}

func newRankingIndex() rankingIndex {
	return rankingIndex{ofCampaign: map[string][]rankedReferral{}}
}

// indexRanked adds a referral to the ranking index; sorted says to keep the campaign's
// list in order as it goes (loading sorts once at the end instead).
func (s *Store) indexRanked(r *community.Referral, sorted bool) {
	referee, referrer := s.members[r.MemberID], s.members[r.ReferrerID]
	if referee == nil || referrer == nil {
		return
	}
	if n := int(referee.seq) + 1; n > len(s.referrerOf) {
		s.referrerOf = slices.Grow(s.referrerOf, n-len(s.referrerOf))[:n]
	}
	s.referrerOf[referee.seq] = referrer.seq + 1
	v := rankedReferral{at: r.At.UnixNano(), referee: referee.seq, referrer: referrer.seq}
	if sorted {
		s.ofCampaign[r.CampaignID] = insertSorted(s.ofCampaign[r.CampaignID], v, compareReferralTimes)
	} else {
		s.ofCampaign[r.CampaignID] = append(s.ofCampaign[r.CampaignID], v)
	}
}

// indexRankedBatch adds a batch of referrals to the ranking index, sorting each
// campaign's list once for the batch.
func (s *Store) indexRankedBatch(refs []*community.Referral) {
	touched := map[string]bool{}
	for _, r := range refs {
		s.indexRanked(r, false)
		touched[r.CampaignID] = true
	}
	for id := range touched {
		slices.SortFunc(s.ofCampaign[id], compareReferralTimes)
	}
}

// indexAllRanked builds the ranking index from the referrals loaded.
func (s *Store) indexAllRanked() {
	for _, r := range s.referredBy {
		s.indexRanked(r, false)
	}
	for _, list := range s.ofCampaign {
		slices.SortFunc(list, compareReferralTimes)
	}
}

// referrerSeq returns the seq of the referrer of the member with seq, and whether it has
// one.
func (s *Store) referrerSeq(seq uint32) (uint32, bool) {
	if int(seq) >= len(s.referrerOf) || s.referrerOf[seq] == 0 {
		return 0, false
	}
	return s.referrerOf[seq] - 1, true
}

// ReferralPath implements community.RankingStore: a walk up from each end in turn, as deep
// as the chain goes.
func (s *Store) ReferralPath(_ context.Context, fromID, toID string) ([]string, error) {
	defer s.reading()()
	from, to := s.members[fromID], s.members[toID]
	if from == nil || to == nil || from == to {
		return nil, nil
	}
	if path := s.upTo(from.seq, to.seq); path != nil {
		return path, nil
	}
	return s.upTo(to.seq, from.seq), nil
}

// upTo returns the ids of the chain from the member with seq lower up to the one with seq
// upper, both included, or nil when upper is not in lower's upline.
func (s *Store) upTo(lower, upper uint32) []string {
	n := 1
	for at := lower; ; n++ {
		next, ok := s.referrerSeq(at)
		if !ok {
			return nil
		}
		if at = next; at == upper {
			break
		}
	}
	path := make([]string, 0, n+1)
	for at := lower; ; {
		path = append(path, s.bySeq[at].ID)
		if at == upper {
			return path
		}
		at, _ = s.referrerSeq(at)
	}
}

// counters are the per-member counts of one ranking, by seq, with the seqs counted: pooled,
// so that a ranking allocates little beyond its result. Only the counted entries are
// non-zero, and they are zeroed again before the counters go back to the pool.
type counters struct {
	n       []int32
	counted []uint32
}

var counterPool = sync.Pool{New: func() any { return &counters{} }}

func (c *counters) add(seq uint32, k int32) {
	if c.n[seq] == 0 {
		c.counted = append(c.counted, seq)
	}
	c.n[seq] += k
}

func (c *counters) release() {
	for _, seq := range c.counted {
		c.n[seq] = 0
	}
	c.counted = c.counted[:0]
	counterPool.Put(c)
}

// TopReferrers implements community.RankingStore. It reads each campaign's referrals in
// the window by a binary search of its time-ordered list: DIRECT counts each referral
// once, CONVERTED once when the referee bought from the brand; TOTAL counts as DIRECT,
// then adds each referrer's count to every member of its upline (so its work is the
// referrers in the window times their depth). The top First are kept as the counts are
// read, so the members are never sorted.
func (s *Store) TopReferrers(_ context.Context, q community.ReferrerQuery) ([]community.ReferrerCount, error) {
	defer s.reading()()
	if s.brands[q.BrandID] == nil {
		return nil, brandNotFound(q.BrandID)
	}
	campaigns := s.campaignsOf[q.BrandID]
	if q.CampaignID != "" {
		c := s.campaigns[q.CampaignID]
		if c == nil || c.BrandID != q.BrandID {
			return nil, community.Errorf(community.CodeNotFound, "no campaign %q of brand %q", q.CampaignID, q.BrandID)
		}
		campaigns = []*community.ReferralCampaign{c}
	}
	c := counterPool.Get().(*counters)
	defer c.release()
	if len(c.n) < len(s.bySeq) {
		c.n = make([]int32, len(s.bySeq))
	}
	for _, camp := range campaigns {
		list := s.ofCampaign[camp.ID]
		lo, hi := 0, len(list)
		if !q.From.IsZero() {
			lo = atOrAfter(list, q.From)
		}
		if !q.To.IsZero() {
			hi = atOrAfter(list, q.To)
		}
		for _, r := range list[lo:max(lo, hi)] {
			if q.By != community.RankConverted || s.converted(s.bySeq[r.referee].ID, q.BrandID) {
				c.add(r.referrer, 1)
			}
		}
	}
	if q.By == community.RankTotal {
		// Each referrer's own count, counted so far, goes to every member of its upline:
		// one walk for each referrer, not for each referral.
		direct := make([]int32, len(c.counted))
		for i, seq := range c.counted {
			direct[i] = c.n[seq]
		}
		for i, seq := range c.counted[:len(direct)] {
			for up, ok := s.referrerSeq(seq); ok; up, ok = s.referrerSeq(up) {
				c.add(up, direct[i])
			}
		}
	}
	top := make([]community.ReferrerCount, 0, min(q.First, len(c.counted)))
	for _, seq := range c.counted {
		m := s.bySeq[seq]
		row := community.ReferrerCount{MemberID: m.ID, Count: int(c.n[seq])}
		if len(top) == q.First && compareCounts(row, top[len(top)-1]) >= 0 {
			continue
		}
		if q.ConsentingOnly && !s.consents[m.ID][q.BrandID].Allows(community.ScopeActivity) {
			continue
		}
		if len(top) == q.First {
			top = top[:len(top)-1]
		}
		top = insertSorted(top, row, compareCounts)
	}
	return top, nil
}

// compareCounts orders a ranking: the highest count first, then by member id.
func compareCounts(a, b community.ReferrerCount) int {
	return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.MemberID, b.MemberID))
}

// atOrAfter returns the index of the first referral of list at t or later.
func atOrAfter(list []rankedReferral, t time.Time) int {
	switch {
	case t.Before(minNano):
		return 0
	case t.After(maxNano):
		return len(list)
	}
	at := t.UnixNano()
	i, _ := slices.BinarySearchFunc(list, at, func(r rankedReferral, at int64) int { return cmp.Compare(r.at, at) })
	return i
}

// minNano and maxNano are the times that Unix nanoseconds hold: a window's end outside
// them is before or after every referral.
var minNano, maxNano = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

// converted reports whether the member has a purchase from the brand that is not
// refunded.
func (s *Store) converted(memberID, brandID string) bool {
	for _, p := range s.purchasesOf[memberID] {
		if p.BrandID == brandID && !p.Refunded() {
			return true
		}
	}
	return false
}
