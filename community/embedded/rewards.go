package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the reward part of the bbolt file.
var (
	// bucketRewards maps a reward id to its community.Reward.
	bucketRewards = []byte("rewards")
	// bucketPoints maps a points entry id to its community.PointsEntry: points history.
	bucketPoints = []byte("points_history")
)

// rewardBuckets are the buckets migrate creates for the reward part.
var rewardBuckets = [][]byte{bucketRewards, bucketPoints}

// rewardGraph is the in-memory part of the store about the reward ledger and points
// history. It is guarded by Store.mu, like the rest of the graph.
type rewardGraph struct {
	rewards map[string]*community.Reward
	// rewardsOf are each beneficiary's rewards, rewardsOfBrand each brand's, oldest first
	// (CreatedAt ascending, then id descending): the reverse of list order.
	rewardsOf      map[string][]*community.Reward
	rewardsOfBrand map[string][]*community.Reward
	// rewardsFor are each purchase's rewards.
	rewardsFor map[string][]*community.Reward
	// pending are the rewards whose status is PENDING.
	pending map[string]*community.Reward
	// points are each membership's points history, oldest first (At ascending, then id
	// descending).
	points map[membershipRef][]*community.PointsEntry
	// firstActs is each member's earliest post, comment or reaction (Unix nanoseconds),
	// for the inactivity flag of rewards.
	firstActs map[string]int64
}

type membershipRef struct{ memberID, brandID string }

func newRewardGraph() rewardGraph {
	return rewardGraph{
		rewards:        map[string]*community.Reward{},
		rewardsOf:      map[string][]*community.Reward{},
		rewardsOfBrand: map[string][]*community.Reward{},
		rewardsFor:     map[string][]*community.Reward{},
		pending:        map[string]*community.Reward{},
		points:         map[membershipRef][]*community.PointsEntry{},
		firstActs:      map[string]int64{},
	}
}

// acted notes an act of a member at (Unix nanoseconds): a post, a comment or a reaction.
func (g *rewardGraph) acted(memberID string, at int64) {
	if first, ok := g.firstActs[memberID]; !ok || at < first {
		g.firstActs[memberID] = at
	}
}

// compareRewards orders rewards oldest first, then by id descending.
func compareRewards(a, b *community.Reward) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return -strings.Compare(a.ID, b.ID)
}

// comparePoints orders points entries oldest first, then by id descending.
func comparePoints(a, b *community.PointsEntry) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return -strings.Compare(a.ID, b.ID)
}

// publicReward returns a copy of a reward that shares no memory with the store.
func publicReward(r *community.Reward) community.Reward {
	out := *r
	out.Flags = slices.Clone(r.Flags)
	out.Reviews = slices.Clone(r.Reviews)
	return out
}

// loadRewards reads the reward part of the file into memory.
func (s *Store) loadRewards(tx *bolt.Tx) error {
	err := tx.Bucket(bucketRewards).ForEach(func(_, v []byte) error {
		r := &community.Reward{}
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("embedded: decode reward: %w", err)
		}
		s.indexReward(r, false)
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketPoints).ForEach(func(_, v []byte) error {
		e := &community.PointsEntry{}
		if err := json.Unmarshal(v, e); err != nil {
			return fmt.Errorf("embedded: decode points entry: %w", err)
		}
		k := membershipRef{e.MemberID, e.BrandID}
		s.points[k] = append(s.points[k], e)
		return nil
	})
	if err != nil {
		return err
	}
	for _, list := range s.rewardsOf {
		slices.SortFunc(list, compareRewards)
	}
	for _, list := range s.rewardsOfBrand {
		slices.SortFunc(list, compareRewards)
	}
	for _, list := range s.points {
		slices.SortFunc(list, comparePoints)
	}
	return nil
}

// indexReward adds a new reward to the in-memory maps, in order when sorted.
func (s *Store) indexReward(r *community.Reward, sorted bool) {
	s.rewards[r.ID] = r
	if sorted {
		s.rewardsOf[r.BeneficiaryID] = insertSorted(s.rewardsOf[r.BeneficiaryID], r, compareRewards)
		s.rewardsOfBrand[r.BrandID] = insertSorted(s.rewardsOfBrand[r.BrandID], r, compareRewards)
	} else {
		s.rewardsOf[r.BeneficiaryID] = append(s.rewardsOf[r.BeneficiaryID], r)
		s.rewardsOfBrand[r.BrandID] = append(s.rewardsOfBrand[r.BrandID], r)
	}
	s.rewardsFor[r.PurchaseID] = append(s.rewardsFor[r.PurchaseID], r)
	if r.Status == community.RewardPending {
		s.pending[r.ID] = r
	}
}

// ledger gathers the writes of one transaction to memberships, rewards and points
// history: put writes them to the file, and apply, once the file has committed, to
// memory. The caller holds the write lock throughout.
type ledger struct {
	s           *Store
	memberships map[*community.BrandMembership]community.BrandMembership
	joined      []*community.BrandMembership
	rewards     map[*community.Reward]community.Reward
	created     []*community.Reward
	entries     []*community.PointsEntry
	adds        outboxAdds
}

func (s *Store) newLedger() *ledger {
	return &ledger{s: s, memberships: map[*community.BrandMembership]community.BrandMembership{},
		rewards: map[*community.Reward]community.Reward{}, adds: outboxAdds{}}
}

// balance returns the points of m as this ledger leaves them.
func (l *ledger) balance(m *community.BrandMembership) int {
	if v, ok := l.memberships[m]; ok {
		return v.Points
	}
	return m.Points
}

// change adds delta to m's points (never below 0 nor above MaxPoints) and writes a points
// entry of the change, whatever it comes to; it returns the change made.
func (l *ledger) change(m *community.BrandMembership, delta int, e community.PointsEntry) int {
	next, ok := l.memberships[m]
	if !ok {
		next = *m
	}
	before := next.Points
	next.Points = min(max(0, before+delta), community.MaxPoints)
	l.memberships[m] = next
	e.MemberID, e.BrandID, e.Delta, e.Balance = m.MemberID, m.BrandID, next.Points-before, next.Points
	if delta < 0 {
		e.Shortfall += e.Delta - delta
	} else {
		e.Shortfall += delta - e.Delta
	}
	l.entries = append(l.entries, &e)
	return e.Delta
}

// join makes a membership of memberID in b at at, to be stored with the ledger.
func (l *ledger) join(b *brand, memberID string, at time.Time) *community.BrandMembership {
	m := &community.BrandMembership{MemberID: memberID, BrandID: b.ID, Since: at.UTC()}
	l.joined = append(l.joined, m)
	l.memberships[m] = *m
	return m
}

// update records a reward's new state.
func (l *ledger) update(r *community.Reward, next community.Reward) { l.rewards[r] = next }

// create records a new reward.
func (l *ledger) create(r community.Reward) { l.created = append(l.created, &r) }

func (l *ledger) put(tx *bolt.Tx, now time.Time) error {
	for m, next := range l.memberships {
		if err := putJSON(tx, bucketMemberships, membershipKey(m), next); err != nil {
			return err
		}
	}
	write := func(r community.Reward) error {
		if err := putJSON(tx, bucketRewards, []byte(r.ID), r); err != nil {
			return err
		}
		return l.s.enqueue(tx, community.EventReward, r.ID, now, l.adds)
	}
	for _, r := range l.created {
		if err := write(*r); err != nil {
			return err
		}
	}
	for _, next := range l.rewards {
		if err := write(next); err != nil {
			return err
		}
	}
	for _, e := range l.entries {
		if err := putJSON(tx, bucketPoints, []byte(e.ID), e); err != nil {
			return err
		}
	}
	return nil
}

func (l *ledger) apply() {
	s := l.s
	for _, m := range l.joined {
		b := s.brands[m.BrandID]
		b.members[m.MemberID] = m
		b.roster = insertSorted(b.roster, m, compareRoster)
		s.memberships[m.MemberID] = insertSorted(s.memberships[m.MemberID], m, compareMemberships)
	}
	for m, next := range l.memberships {
		*m = next
	}
	for _, r := range l.created {
		s.indexReward(r, true)
	}
	for r, next := range l.rewards {
		*r = next
		if r.Status != community.RewardPending {
			delete(s.pending, r.ID)
		}
	}
	for _, e := range l.entries {
		k := membershipRef{e.MemberID, e.BrandID}
		s.points[k] = insertSorted(s.points[k], e, comparePoints)
	}
	s.counted(l.adds)
}

// rewardFacts reads the RewardFacts of a purchase about to be stored; the caller holds the
// write lock.
func (s *Store) rewardFacts(p community.Purchase) community.RewardFacts {
	f := community.RewardFacts{Purchase: p}
	ref := s.referredBy[p.MemberID]
	if ref == nil {
		return f // a buyer nobody referred earns nobody a reward
	}
	if m := s.members[p.MemberID]; m != nil {
		f.JoinedAt = m.JoinedAt
	}
	if at, ok := s.firstActs[p.MemberID]; ok {
		f.FirstActAt = time.Unix(0, at).UTC()
	}
	for _, q := range s.purchasesOf[p.MemberID] {
		if f.FirstActAt.IsZero() || q.At.Before(f.FirstActAt) {
			f.FirstActAt = q.At
		}
		if q.BrandID == p.BrandID && !q.Refunded() && (q.At.Before(p.At) || q.At.Equal(p.At) && q.ID < p.ID) {
			f.EarlierPurchases++
		}
	}
	r := *ref
	r.Flags = slices.Clone(ref.Flags)
	f.Referral = &r
	if c := s.campaigns[ref.CampaignID]; c != nil {
		pc := publicCampaign(c)
		f.Campaign = &pc
	}
	for id := ref.ReferrerID; id != "" && len(f.Upline) < community.MaxRewardLevel; {
		f.Upline = append(f.Upline, id)
		next := s.referredBy[id]
		if next == nil {
			break
		}
		id = next.ReferrerID
	}
	f.Earned = map[community.RewardSlot]int{}
	for _, b := range f.Upline {
		for _, r := range s.rewardsOf[b] {
			if r.CampaignID == ref.CampaignID && r.Status.Counts() {
				f.Earned[community.RewardSlot{BeneficiaryID: b, Rule: r.Rule}]++
			}
		}
	}
	return f
}

// RewardsByID implements community.RewardStore.
func (s *Store) RewardsByID(_ context.Context, ids []string) (map[string]community.Reward, error) {
	defer s.reading()()
	out := make(map[string]community.Reward, len(ids))
	for _, id := range ids {
		if r := s.rewards[id]; r != nil {
			out[id] = publicReward(r)
		}
	}
	return out, nil
}

// rewardPage walks list (oldest first) from its end: up to first rewards after the
// position that keep says to keep.
func rewardPage(list []*community.Reward, first int, after *community.Position, keep func(*community.Reward) bool) community.RewardPage {
	var page community.RewardPage
	for i := len(list) - 1; i >= 0; i-- {
		r := list[i]
		if !keep(r) || after != nil && !after.Precedes(r.CreatedAt, r.ID) {
			continue
		}
		if len(page.Rewards) == first {
			page.HasNextPage = true
			break
		}
		page.Rewards = append(page.Rewards, publicReward(r))
	}
	return page
}

// RewardPages implements community.RewardStore.
func (s *Store) RewardPages(_ context.Context, qs []community.RewardQuery) ([]community.RewardPage, error) {
	defer s.reading()()
	out := make([]community.RewardPage, len(qs))
	for i, q := range qs {
		out[i] = rewardPage(s.rewardsOf[q.MemberID], q.First, q.After, func(r *community.Reward) bool {
			return (q.BrandID == "" || r.BrandID == q.BrandID) && (q.Status == "" || r.Status == q.Status)
		})
	}
	return out, nil
}

// ReviewQueue implements community.RewardStore.
func (s *Store) ReviewQueue(_ context.Context, brandID string, first int, after *community.Position) (community.RewardPage, error) {
	defer s.reading()()
	return rewardPage(s.rewardsOfBrand[brandID], first, after, func(r *community.Reward) bool { return r.AwaitsReview() }), nil
}

// PointsPages implements community.RewardStore.
func (s *Store) PointsPages(_ context.Context, qs []community.PointsQuery) ([]community.PointsPage, error) {
	defer s.reading()()
	out := make([]community.PointsPage, len(qs))
	for i, q := range qs {
		list := s.points[membershipRef{q.MemberID, q.BrandID}]
		for j := len(list) - 1; j >= 0; j-- {
			e := list[j]
			if q.After != nil && !q.After.Precedes(e.At, e.ID) {
				continue
			}
			if len(out[i].Entries) == q.First {
				out[i].HasNextPage = true
				break
			}
			out[i].Entries = append(out[i].Entries, *e)
		}
	}
	return out, nil
}

// ReviewReward implements community.RewardStore.
func (s *Store) ReviewReward(_ context.Context, rewardID string, rv community.RewardReview) (community.Reward, error) {
	defer s.writing()()
	r := s.rewards[rewardID]
	if r == nil {
		return community.Reward{}, community.Errorf(community.CodeNotFound, "no reward %q", rewardID)
	}
	if r.Status != community.RewardPending {
		return community.Reward{}, conflict("the reward is %s: only a pending reward is reviewed", r.Status)
	}
	next := publicReward(r)
	rv.At = rv.At.UTC()
	next.Reviews = append(next.Reviews, rv)
	if rv.Decision == community.ReviewReject {
		next.Status, next.EndedAt = community.RewardRejected, rv.At
	}
	l := s.newLedger()
	l.update(r, next)
	if err := s.db.Update(func(tx *bolt.Tx) error { return l.put(tx, rv.At) }); err != nil {
		return community.Reward{}, fmt.Errorf("embedded: review reward %q: %w", rewardID, err)
	}
	l.apply()
	return publicReward(r), nil
}

// DueRewards implements community.RewardStore.
func (s *Store) DueRewards(_ context.Context, now time.Time, limit int) ([]string, error) {
	defer s.reading()()
	var due []*community.Reward
	for _, r := range s.pending {
		if r.GrantableAt(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *community.Reward) int {
		if c := a.GrantsAt.Compare(b.GrantsAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]string, 0, min(len(due), limit))
	for _, r := range due[:min(len(due), max(limit, 0))] {
		out = append(out, r.ID)
	}
	return out, nil
}

// GrantReward implements community.RewardStore: the store's write lock makes the check of
// the reward's state and the grant one step.
func (s *Store) GrantReward(_ context.Context, rewardID string, now time.Time) (community.Reward, bool, error) {
	defer s.writing()()
	r := s.rewards[rewardID]
	if r == nil {
		return community.Reward{}, false, community.Errorf(community.CodeNotFound, "no reward %q", rewardID)
	}
	if !r.GrantableAt(now) {
		return publicReward(r), false, nil
	}
	now = now.UTC()
	l := s.newLedger()
	next := publicReward(r)
	next.Status, next.GrantedAt = community.RewardGranted, now
	if r.Points > 0 {
		b := s.brands[r.BrandID]
		if b == nil {
			return community.Reward{}, false, brandNotFound(r.BrandID)
		}
		m := b.members[r.BeneficiaryID]
		if m == nil {
			m = l.join(b, r.BeneficiaryID, now)
		}
		l.change(m, r.Points, community.PointsEntry{ID: community.PointsEntryID(community.PointsReward, r.ID),
			Reason: community.PointsReward, PurchaseID: r.PurchaseID, RewardID: r.ID, At: now})
	}
	l.update(r, next)
	if err := s.db.Update(func(tx *bolt.Tx) error { return l.put(tx, now) }); err != nil {
		return community.Reward{}, false, fmt.Errorf("embedded: grant reward %q: %w", rewardID, err)
	}
	l.apply()
	return publicReward(r), true, nil
}

// unwindRewards records in l what refunding purchase p at at does to its rewards: pending
// ones are reversed, granted ones clawed back.
func (s *Store) unwindRewards(l *ledger, p *community.Purchase, at time.Time) {
	for _, r := range s.rewardsFor[p.ID] {
		next := publicReward(r)
		switch r.Status {
		case community.RewardPending:
			next.Status, next.EndedAt = community.RewardReversed, at
		case community.RewardGranted:
			next.Status, next.EndedAt = community.RewardClawedBack, at
			if r.Points > 0 {
				taken := 0
				if m := s.brands[r.BrandID].members[r.BeneficiaryID]; m != nil {
					taken = -l.change(m, -r.Points, community.PointsEntry{ID: community.PointsEntryID(community.PointsClawback, r.ID),
						Reason: community.PointsClawback, PurchaseID: p.ID, RewardID: r.ID, At: at})
				}
				next.ClawedBack, next.Shortfall = taken, r.Points-taken
			}
		default:
			continue
		}
		l.update(r, next)
	}
}
