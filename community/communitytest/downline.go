package communitytest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
)

func testDownlineStore(t *testing.T, newStore NewStore) {
	t.Run("DownlineFigures", func(t *testing.T) { testDownlineFigures(t, newStore(t)) })
	t.Run("DownlinePages", func(t *testing.T) { testDownlinePages(t, newStore(t)) })
	t.Run("ImportReferrals", func(t *testing.T) { testImportReferrals(t, newStore) })
	t.Run("ConcurrentDownline", func(t *testing.T) { testConcurrentDownline(t, newStore(t)) })
	t.Run("DownlineModel", func(t *testing.T) { testDownlineModel(t, newStore(t)) })
}

// ExpectedStats computes a member's downline figures from scratch: referrer maps each
// referred member to its referrer, and bought says who bought. The model the kept
// figures are checked against.
func ExpectedStats(referrer map[string]string, bought map[string]bool, id string) community.ReferralStats {
	var s community.ReferralStats
	for x := range referrer {
		d := 0
		for up := x; up != ""; up = referrer[up] {
			if up == id && d > 0 {
				if d <= community.DownlineLevels {
					s.PerLevel[d-1]++
				}
				s.Total++
				s.Deepest = max(s.Deepest, d)
				if bought[x] {
					s.Converted++
				}
				break
			}
			d++
		}
	}
	return s
}

// forest is a referral forest as a test builds it: each referral, in order, by index of
// the members.
type forest struct {
	ms    []community.Member
	edges [][2]int // referee, referrer
}

// downlineForest is a forest with a member (7) who brings in two referees before being
// referred, so that its downline shifts onto its new upline, and a chain deeper than
// community.DownlineLevels (12 to 24).
func downlineForest(t *testing.T, s community.Store) forest {
	handles := make([]string, 25)
	for i := range handles {
		handles[i] = fmt.Sprintf("dl_%02d", i)
	}
	f := forest{ms: create(t, s, handles...)}
	f.edges = [][2]int{{1, 0}, {2, 0}, {3, 1}, {4, 3}, {8, 7}, {9, 7}, {10, 9}, {7, 4}, {5, 1}, {6, 2}, {11, 0}}
	for i := 13; i < 25; i++ {
		f.edges = append(f.edges, [2]int{i, i - 1})
	}
	f.edges = append(f.edges, [2]int{12, 6})
	return f
}

// model returns the referrer map and the ids of f's members.
func (f forest) model() (map[string]string, []string) {
	referrer := map[string]string{}
	for _, e := range f.edges {
		referrer[f.ms[e[0]].ID] = f.ms[e[1]].ID
	}
	ids := make([]string, len(f.ms))
	for i, m := range f.ms {
		ids[i] = m.ID
	}
	return referrer, ids
}

// redeemForest redeems f's referrals one by one, at minutes 100, 101, …
func redeemForest(t *testing.T, s community.Store, f forest) {
	t.Helper()
	c := liveCampaign(t, s, "树")
	codes := map[int]string{}
	for n, e := range f.edges {
		code, ok := codes[e[1]]
		if !ok {
			code = storedInvite(t, s, f.ms[e[1]].ID, c, 0).Code
			codes[e[1]] = code
		}
		_, err := redeemAt(s, f.ms[e[0]].ID, code, 100+n)
		must(t, err)
	}
}

// checkFigures compares the kept figures of ids with the model's.
func checkFigures(t *testing.T, s community.Store, what string, ids []string, referrer map[string]string, bought map[string]bool) {
	t.Helper()
	want := map[string]community.ReferralStats{}
	for _, id := range ids {
		want[id] = ExpectedStats(referrer, bought, id)
	}
	got, err := s.ReferralStatsOf(context.Background(), append(slices.Clone(ids), community.NewID()))
	checkRead(t, what, want, got, err)
}

// testDownlineFigures checks the figures kept as referrals are redeemed, including a
// redeemer with a downline of its own, and as purchases are recorded and refunded.
func testDownlineFigures(t *testing.T, s community.Store) {
	ctx := context.Background()
	f := downlineForest(t, s)
	referrer, ids := f.model()
	bought := map[string]bool{}
	// Purchases before and after the referrals: member 8 buys before 7 is referred, so its
	// conversion shifts onto 7's new upline with the rest of 7's downline.
	b := createBrands(t, s, "downline-brand")[0]
	p8, err := s.RecordPurchase(ctx, cny(community.NewID(), f.ms[8].ID, b.ID, "dl-8", 10_00, 2), nil)
	must(t, err)
	bought[f.ms[8].ID] = true
	redeemForest(t, s, f)
	checkFigures(t, s, "figures after the redemptions", ids, referrer, bought)
	// The deepest branch: 0, 2, 6, then 12 to 24.
	if got, _ := s.ReferralStatsOf(ctx, []string{f.ms[0].ID}); got[f.ms[0].ID].Deepest != 15 {
		t.Errorf("deepest of the root = %d, want 15", got[f.ms[0].ID].Deepest)
	}

	// A second purchase changes nothing; refunding one of two changes nothing; refunding
	// the last one uncounts the member; a purchase that comes refunded counts nothing.
	p8b, err := s.RecordPurchase(ctx, cny(community.NewID(), f.ms[8].ID, b.ID, "dl-8b", 20_00, 300), nil)
	must(t, err)
	p24, err := s.RecordPurchase(ctx, cny(community.NewID(), f.ms[24].ID, b.ID, "dl-24", 30_00, 301), nil)
	must(t, err)
	bought[f.ms[24].ID] = true
	// Recording the same purchase again counts nothing.
	_, err = s.RecordPurchase(ctx, cny(p24.ID, f.ms[24].ID, b.ID, "dl-24", 30_00, 301), nil)
	must(t, err)
	refunded := cny(community.NewID(), f.ms[5].ID, b.ID, "dl-5", 10_00, 302)
	refunded.RefundedAt = at(303)
	_, err = s.RecordPurchase(ctx, refunded, nil)
	must(t, err)
	checkFigures(t, s, "figures after purchases", ids, referrer, bought)
	_, err = s.RefundPurchase(ctx, b.ID, p8.ID, at(304))
	must(t, err)
	checkFigures(t, s, "figures after a refund of one of two purchases", ids, referrer, bought)
	_, err = s.RefundPurchase(ctx, b.ID, p8b.ID, at(305))
	must(t, err)
	delete(bought, f.ms[8].ID)
	checkFigures(t, s, "figures after the refund of the last purchase", ids, referrer, bought)
	// Refunding again changes nothing.
	_, err = s.RefundPurchase(ctx, b.ID, p8b.ID, at(306))
	must(t, err)
	checkFigures(t, s, "figures after a refund repeated", ids, referrer, bought)
}

// walkDownline reads a whole level of a member's downline, size at a time.
func walkDownline(t *testing.T, s community.Store, id string, level, size int) []community.DownlineEdge {
	t.Helper()
	var out []community.DownlineEdge
	var after *community.Position
	for range 100 {
		pages, err := s.DownlinePages(context.Background(), level, size, []community.ListRequest{{MemberID: id, After: after}})
		must(t, err)
		p := pages[0]
		out = append(out, p.Edges...)
		if !p.HasNextPage {
			return out
		}
		last := p.Edges[len(p.Edges)-1]
		after = &community.Position{Since: last.At, ID: last.MemberID}
	}
	t.Fatalf("level %d of %s never ended", level, id)
	return nil
}

// testDownlinePages pages through levels of a forest whose referrals share times, so that
// the id breaks ties, and batches requests of several members.
func testDownlinePages(t *testing.T, s community.Store) {
	ctx := context.Background()
	c := liveCampaign(t, s, "层")
	handles := make([]string, 30)
	for i := range handles {
		handles[i] = fmt.Sprintf("lv_%02d", i)
	}
	ms := create(t, s, handles...)
	referrer := map[string]string{}
	when := map[string]int{}
	// 0 refers 1..6; 1 refers 7..16; 2 refers 17..22; 7 refers 23..29. Pairs share a minute.
	parentOf := func(i int) int {
		switch {
		case i <= 6:
			return 0
		case i <= 16:
			return 1
		case i <= 22:
			return 2
		}
		return 7
	}
	codes := map[int]string{}
	for i := 1; i < len(ms); i++ {
		p := parentOf(i)
		if codes[p] == "" {
			codes[p] = storedInvite(t, s, ms[p].ID, c, 0).Code
		}
		_, err := redeemAt(s, ms[i].ID, codes[p], 100+i/2)
		must(t, err)
		referrer[ms[i].ID] = ms[p].ID
		when[ms[i].ID] = 100 + i/2
	}
	// level is the model's level of a member's downline, in list order.
	level := func(id string, k int) []community.DownlineEdge {
		var out []community.DownlineEdge
		for x := range referrer {
			up := x
			for range k {
				up = referrer[up]
			}
			if up == id {
				out = append(out, community.DownlineEdge{MemberID: x, At: at(when[x])})
			}
		}
		slices.SortFunc(out, func(a, b community.DownlineEdge) int {
			if c := b.At.Compare(a.At); c != 0 {
				return c
			}
			return strings.Compare(a.MemberID, b.MemberID)
		})
		return out
	}
	for _, tc := range []struct {
		member, level int
	}{{0, 1}, {0, 2}, {0, 3}, {1, 1}, {1, 2}, {7, 1}, {29, 1}, {0, 4}} {
		id := ms[tc.member].ID
		for _, size := range []int{1, 4, 100} {
			got := walkDownline(t, s, id, tc.level, size)
			if diff := cmp.Diff(level(id, tc.level), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("level %d of lv_%02d by %d (-want +got):\n%s", tc.level, tc.member, size, diff)
			}
		}
	}
	// A batch: totals are the kept counts; an unknown member has an empty page; a page of
	// none tells whether there are more.
	pages, err := s.DownlinePages(ctx, 2, 3, []community.ListRequest{{MemberID: ms[0].ID}, {MemberID: community.NewID()}, {MemberID: ms[1].ID}, {MemberID: ms[5].ID}})
	must(t, err)
	want := []community.DownlinePage{
		{Edges: level(ms[0].ID, 2)[:3], HasNextPage: true, TotalCount: 16},
		{},
		{Edges: level(ms[1].ID, 2)[:3], HasNextPage: true, TotalCount: 7},
		{},
	}
	if diff := cmp.Diff(want, pages, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("a batch of level 2 pages (-want +got):\n%s", diff)
	}
	pages, err = s.DownlinePages(ctx, 1, 0, []community.ListRequest{{MemberID: ms[0].ID}, {MemberID: ms[29].ID}})
	must(t, err)
	if diff := cmp.Diff([]community.DownlinePage{{HasNextPage: true, TotalCount: 6}, {}}, pages, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("pages of none (-want +got):\n%s", diff)
	}
}

// testImportReferrals imports a forest in batches, out of order, and checks that the
// figures and levels are those of the same forest redeemed one by one; referrals that
// cannot be are skipped.
func testImportReferrals(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	// The forest redeemed one by one, as read back; a store of a suite may share its
	// server with the next store made, so it is read before that one is made.
	redeemed := newStore(t)
	f := downlineForest(t, redeemed)
	redeemForest(t, redeemed, f)
	referrer, ids := f.model()
	wantStats, err := redeemed.ReferralStatsOf(ctx, ids)
	must(t, err)
	wantUps, err := redeemed.UplinesOf(ctx, ids, community.MaxChainDepth)
	must(t, err)
	wantLevels := map[string][][]community.DownlineEdge{}
	for _, id := range ids {
		for k := 1; k <= 3; k++ {
			wantLevels[id] = append(wantLevels[id], walkDownline(t, redeemed, id, k, 2))
		}
	}

	imported := newStore(t)
	batch := make([]community.ImportedMember, len(f.ms))
	for i, m := range f.ms {
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{wechat("openid-" + m.Handle)}}
	}
	must(t, imported.ImportMembers(ctx, batch))
	refs := make([]community.Referral, len(f.edges))
	for n, e := range f.edges {
		refs[n] = community.Referral{MemberID: f.ms[e[0]].ID, ReferrerID: f.ms[e[1]].ID, Code: "IMPORTED", CampaignID: "c", Channel: community.ShareChannel("WECHAT"), At: at(100 + n)}
	}
	// Batches that end where a member's downline is imported before the member is
	// referred; the last batch carries what must be skipped: a member referred already,
	// one referred twice in the batch, a cycle, unknown members, a member referring itself.
	unknown := community.NewID()
	must(t, imported.ImportReferrals(ctx, refs[:5]))
	must(t, imported.ImportReferrals(ctx, refs[5:9]))
	last := slices.Clone(refs[9:])
	last = append(last,
		community.Referral{MemberID: f.ms[1].ID, ReferrerID: f.ms[11].ID, At: at(400)},
		community.Referral{MemberID: f.ms[0].ID, ReferrerID: f.ms[24].ID, At: at(401)},
		community.Referral{MemberID: unknown, ReferrerID: f.ms[0].ID, At: at(402)},
		community.Referral{MemberID: f.ms[0].ID, ReferrerID: unknown, At: at(403)},
		community.Referral{MemberID: f.ms[0].ID, ReferrerID: f.ms[0].ID, At: at(404)},
	)
	must(t, imported.ImportReferrals(ctx, last))
	checkFigures(t, imported, "figures after an import", ids, referrer, nil)
	got, err := imported.ReferralStatsOf(ctx, ids)
	checkRead(t, "figures imported and redeemed", wantStats, got, err)
	ups, err := imported.UplinesOf(ctx, ids, community.MaxChainDepth)
	checkRead(t, "uplines imported and redeemed", wantUps, ups, err)
	for _, id := range ids {
		for k := 1; k <= 3; k++ {
			if diff := cmp.Diff(wantLevels[id][k-1], walkDownline(t, imported, id, k, 2), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("level %d of %s imported and redeemed (-redeemed +imported):\n%s", k, id, diff)
			}
		}
	}
	// The times are those given: the level of the root lists them.
	top := walkDownline(t, imported, f.ms[0].ID, 1, 10)
	wantTop := []community.DownlineEdge{{MemberID: f.ms[11].ID, At: at(110)}, {MemberID: f.ms[2].ID, At: at(101)}, {MemberID: f.ms[1].ID, At: at(100)}}
	if diff := cmp.Diff(wantTop, top); diff != "" {
		t.Errorf("imported referees of the root (-want +got):\n%s", diff)
	}
}

// testConcurrentDownline redeems the referrals of a forest all at once, in no order, with
// purchases recorded and refunded meanwhile, and checks the figures: of redemptions that
// join chains to each other at the same time, and purchases that count on an upline that
// is growing, none loses another's update.
func testConcurrentDownline(t *testing.T, s community.Store) {
	ctx := context.Background()
	c := liveCampaign(t, s, "并发")
	b := createBrands(t, s, "concurrent-downline")[0]
	handles := make([]string, 40)
	for i := range handles {
		handles[i] = fmt.Sprintf("cd_%02d", i)
	}
	ms := create(t, s, handles...)
	f := forest{ms: ms}
	// A chain through every fourth member, the others hanging off it and off each other.
	for i := 1; i < len(ms); i++ {
		p := i - 1
		if i%4 != 0 {
			p = (i*7 + 3) % i
		}
		f.edges = append(f.edges, [2]int{i, p})
	}
	codes := make([]string, len(ms))
	for i, m := range ms {
		codes[i] = storedInvite(t, s, m.ID, c, 0).Code
	}
	bought := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(ms))
	for n, e := range f.edges {
		wg.Go(func() {
			_, err := redeemAt(s, ms[e[0]].ID, codes[e[1]], 100+n)
			errs <- err
		})
	}
	for i := 0; i < len(ms); i += 3 {
		bought[ms[i].ID] = i%2 == 0
		wg.Go(func() {
			p, err := s.RecordPurchase(ctx, cny(community.NewID(), ms[i].ID, b.ID, fmt.Sprintf("cd-%d", i), 10_00, 50), community.RewardsFor)
			if err == nil && i%2 != 0 {
				_, err = s.RefundPurchase(ctx, b.ID, p.ID, at(60))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	referrer, ids := f.model()
	checkFigures(t, s, "figures after concurrent redemptions and purchases", ids, referrer, bought)
}
