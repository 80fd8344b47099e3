package community

import (
	"context"
	"time"
)

// Downlines: the members a member brought in, their referees, and so on, by level, and the
// figures kept of them as referrals are written, so that reading them does not grow with
// the downline.

// DownlineLevels is how many levels of a downline are listed and counted level by level:
// level 1 is a member's referees, level 2 their referees, and so on.
const DownlineLevels = 10

// DefaultDownlineLevel is the level referrals lists when not asked.
const DefaultDownlineLevel = 1

// ReferralStats are the figures of a member's downline, kept on the member as referrals
// are written (see Join), never counted at read.
type ReferralStats struct {
	// PerLevel are the members at each level, 1 to DownlineLevels: PerLevel[0] are the
	// member's referees (its direct referrals).
	PerLevel [DownlineLevels]int
	// Total is the whole downline, at any depth.
	Total int
	// Deepest is the depth of the deepest branch: 0 for no referee, 1 for referees who
	// brought nobody in, and so on.
	Deepest int
	// Converted are the members of the whole downline who bought: each has at least one
	// purchase, from any brand, that is not refunded.
	Converted int
}

// Direct returns the member's referees.
func (s ReferralStats) Direct() int { return s.PerLevel[0] }

// Join counts in s, the figures of a member, a branch that joins its downline distance
// levels below it: the branch's top member (who bought when converted), and that member's
// own downline, branch. A referral of a member with a downline of its own is joined so on
// each member of the new upline: its level k becomes level k+distance of the upline
// member at that distance. Levels past DownlineLevels are counted in Total, Deepest and
// Converted only.
func (s *ReferralStats) Join(distance int, branch ReferralStats, converted bool) {
	if distance < 1 {
		return
	}
	if distance <= DownlineLevels {
		s.PerLevel[distance-1]++
		for k := 0; distance+k < DownlineLevels; k++ {
			s.PerLevel[distance+k] += branch.PerLevel[k]
		}
	}
	s.Total += 1 + branch.Total
	s.Deepest = max(s.Deepest, distance+branch.Deepest)
	s.Converted += branch.Converted
	if converted {
		s.Converted++
	}
}

// DownlineRow is a member's kept figures as a store holds them: its downline's and
// whether the member itself bought (Converted), which its upline counts.
type DownlineRow struct {
	Stats     ReferralStats
	Converted bool
}

// DownlineEdge is a member of a downline level: the member and when its referral was
// written.
type DownlineEdge struct {
	MemberID string
	At       time.Time
}

// DownlinePage is a page of the members at one level of a member's downline.
type DownlinePage struct {
	Edges       []DownlineEdge
	HasNextPage bool
	// TotalCount is how many members the level has, as kept in the member's figures.
	TotalCount int
}

// DownlineStore is the part of the Store about downlines. RedeemInvite and ImportReferrals
// (of BulkStore)
// keep the figures; RecordPurchase and RefundPurchase keep Converted when a member's first
// purchase that is not refunded is recorded or its last one refunded.
type DownlineStore interface {
	// ReferralStatsOf returns the kept figures of each given member; unknown members are
	// absent, and a member without a downline has zero figures.
	ReferralStatsOf(ctx context.Context, memberIDs []string) (map[string]ReferralStats, error)
	// DownlinePages returns, for each request, a page of up to first members at exactly
	// level (1 to DownlineLevels) below the request's member, newest referral first, then
	// by member id, after the request's position; an unknown member has an empty page. One
	// round trip whatever the number of requests.
	DownlinePages(ctx context.Context, level, first int, reqs []ListRequest) ([]DownlinePage, error)
}

// DownlineKey names one page of one level of a member's downline, as a client asked for
// it: the key of a dataloader.
type DownlineKey struct {
	MemberID string
	Level    int
	First    int
	// After is the cursor asked after, or "".
	After string
}

// DownlineList is a page of one level of a member's downline.
type DownlineList struct {
	HasNextPage bool
	TotalCount  int
	edges       []ListedReferee
}

// ListedEdges returns the page's members with their cursors.
func (l DownlineList) ListedEdges() []ListedReferee { return l.edges }

// ListedReferee is a member of a downline level in a page, with its cursor.
type ListedReferee struct {
	DownlineEdge
	cursor lazyCursor[timeKey]
}

// Cursor returns the edge's cursor.
func (e ListedReferee) Cursor() string { return e.cursor.String() }

// downlineCursors is the list of a level's cursors: a cursor of one level does not page
// another.
func downlineCursors(level int) cursorList[timeKey] {
	return cursorList[timeKey]("downline-" + string(rune('0'+level/10)) + string(rune('0'+level%10)))
}

// CanReadDownline is the rule for reading a member's downline and its figures: the member,
// ADMIN and COMMUNITY_MANAGER. Not brand staff, whatever the member's consents: a downline
// and its figures are kept for the whole platform, not by brand, so they hold referrals
// through other brands' campaigns, and purchases from other brands, of referees who shared
// nothing with the staff's brand. Brand staff read the referrals of their own brand's
// campaigns through referredVia, referralChain, referralPath and topReferrers. Each member
// of the downline is then seen through the rules of members. UNAUTHENTICATED for nobody;
// FORBIDDEN for anyone else.
func CanReadDownline(a Actor, memberID string) error {
	switch {
	case a.AuthError != nil || a.nobody():
		return unauthenticated(a)
	case a.MemberID == memberID && a.MemberID != "", a.isPlatformStaff():
		return nil
	case a.ActsForBrand():
		return Errorf(CodeForbidden, "a member's downline is kept for the whole platform, not by brand: brand staff read their brand's referrals through topReferrers, referralChain and referralPath")
	}
	return Errorf(CodeForbidden, "a member's downline is theirs, community managers' and administrators' to see")
}

// downlineAccess answers CanReadDownline for each member.
func downlineAccess(ctx context.Context, ids []string) []error {
	a := ActorFrom(ctx)
	errs := make([]error, len(ids))
	for i, id := range ids {
		errs[i] = CanReadDownline(a, id)
	}
	return errs
}

// ReferralStats returns the figures of each member's downline, in the order asked, or why
// the caller may not read them (CanReadDownline). One store round trip, whatever the
// downlines' size. A dataloader batch function.
func (s *ReferralService) ReferralStats(ctx context.Context, ids []string) ([]ReferralStats, []error) {
	out := make([]ReferralStats, len(ids))
	errs := downlineAccess(ctx, ids)
	readIDs(ids, out, errs, func(ids []string) (map[string]ReferralStats, error) { return s.store.ReferralStatsOf(ctx, ids) })
	return out, errs
}

// Downlines returns the pages the keys ask for, in order, or why the caller may not read
// them (CanReadDownline). BAD_USER_INPUT on level for a level outside 1 to DownlineLevels,
// on first outside 0 to MaxPageSize, and on after for a cursor this server did not issue
// for that level of that member. One store round trip for each distinct (level, page size)
// among the keys. A dataloader batch function.
func (s *ReferralService) Downlines(ctx context.Context, keys []DownlineKey) ([]DownlineList, []error) {
	out := make([]DownlineList, len(keys))
	owners := make([]string, len(keys))
	for i, k := range keys {
		owners[i] = k.MemberID
	}
	errs := downlineAccess(ctx, owners)
	reqs := make([]ListRequest, len(keys))
	for i, k := range keys {
		switch {
		case errs[i] != nil:
			continue
		case k.Level < 1 || k.Level > DownlineLevels:
			errs[i] = fieldError("level", "level must be between 1 and %d", DownlineLevels)
			continue
		}
		after, err := pageArgs(s.core, downlineCursors(k.Level), k.MemberID, k.First, k.After)
		if err != nil {
			errs[i] = err
			continue
		}
		reqs[i] = ListRequest{MemberID: k.MemberID, After: after}
	}
	type group struct{ level, first int }
	eachGroup(len(keys), func(i int) (group, bool) { return group{keys[i].Level, keys[i].First}, errs[i] == nil }, func(g group, idx []int) {
		batch := make([]ListRequest, len(idx))
		for j, i := range idx {
			batch[j] = reqs[i]
		}
		pages, err := s.store.DownlinePages(ctx, g.level, g.first, batch)
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			p, list := pages[j], downlineCursors(g.level)
			l := DownlineList{HasNextPage: p.HasNextPage, TotalCount: p.TotalCount, edges: make([]ListedReferee, len(p.Edges))}
			for n, e := range p.Edges {
				l.edges[n] = ListedReferee{DownlineEdge: e, cursor: newCursor(s.core, list, keys[i].MemberID, timeKey{e.At, e.MemberID})}
			}
			out[i] = l
		}
	})
	return out, errs
}

// ForestCount counts a batch of referrals, in order, into the part of a referral forest
// that a store read for it: each member the batch names, with its whole upline, each with
// its referrer and kept figures. Stores import referrals in bulk with it, so that their
// figures are those that redeeming the referrals one by one would keep.
type ForestCount struct {
	referrer map[string]string
	rows     map[string]*DownlineRow
	changed  []string
	touched  map[string]bool
}

// NewForestCount returns an empty count, for about n known members.
func NewForestCount(n int) *ForestCount {
	return &ForestCount{referrer: make(map[string]string, n), rows: make(map[string]*DownlineRow, n), touched: map[string]bool{}}
}

// Known adds a member as the store holds it: its referrer ("" for none) and its figures.
func (f *ForestCount) Known(id, referrerID string, row DownlineRow) {
	if referrerID != "" {
		f.referrer[id] = referrerID
	}
	r := row
	f.rows[id] = &r
}

// Join counts the referral of memberID by referrerID and reports true; or reports false,
// counting nothing, when either member is not known, the member is referred already, or
// the referral would close a cycle.
func (f *ForestCount) Join(memberID, referrerID string) bool {
	branch, ok := f.rows[memberID]
	if !ok || f.rows[referrerID] == nil || f.referrer[memberID] != "" {
		return false
	}
	for up := referrerID; up != ""; up = f.referrer[up] {
		if up == memberID {
			return false
		}
	}
	f.referrer[memberID] = referrerID
	d := 1
	for up := referrerID; up != ""; up, d = f.referrer[up], d+1 {
		f.rows[up].Stats.Join(d, branch.Stats, branch.Converted)
		if !f.touched[up] {
			f.touched[up] = true
			f.changed = append(f.changed, up)
		}
	}
	return true
}

// Changed returns the members whose figures Join changed, in the order first changed.
func (f *ForestCount) Changed() []string { return f.changed }

// Row returns a known member's figures as counted so far.
func (f *ForestCount) Row(id string) DownlineRow {
	if r := f.rows[id]; r != nil {
		return *r
	}
	return DownlineRow{}
}
