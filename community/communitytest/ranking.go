package communitytest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"quanzi/community"
)

func testRankingStore(t *testing.T, newStore NewStore) {
	t.Run("ReferralPaths", func(t *testing.T) { testReferralPaths(t, newStore(t)) })
	t.Run("TopReferrers", func(t *testing.T) { testTopReferrers(t, newStore(t)) })
	t.Run("RankingsOfImportedReferrals", func(t *testing.T) { testRankingsOfImported(t, newStore(t)) })
}

// testRankingsOfImported imports a chain and a star out of time order, and reads them as
// redeemed ones are read: in rankings, windows and paths.
func testRankingsOfImported(t *testing.T, s community.Store) {
	ctx := context.Background()
	c := liveCampaign(t, s, "导入")
	ms := create(t, s, "imp_root", "imp_a", "imp_b", "imp_c", "imp_d")
	ref := func(referee, referrer, minute int) community.Referral {
		return community.Referral{MemberID: ms[referee].ID, ReferrerID: ms[referrer].ID, Code: "IMPORTED01", CampaignID: c.ID,
			Channel: community.ShareWeChat, At: at(minute)}
	}
	// root ← a ← b ← c, root ← d.
	must(t, s.ImportReferrals(ctx, []community.Referral{ref(3, 2, 400), ref(1, 0, 100), ref(4, 0, 300), ref(2, 1, 200)}))
	q := community.ReferrerQuery{BrandID: c.BrandID, By: community.RankTotal, First: 10, From: at(150), To: at(400)}
	got, err := s.TopReferrers(ctx, q)
	counts := func(named map[int]int) []community.ReferrerCount {
		var out []community.ReferrerCount
		for i, n := range named {
			out = append(out, community.ReferrerCount{MemberID: ms[i].ID, Count: n})
		}
		slices.SortFunc(out, func(a, b community.ReferrerCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.MemberID, b.MemberID))
		})
		return out
	}
	checkRead(t, "TopReferrers of imported referrals", counts(map[int]int{0: 2, 1: 1}), got, err)
	path, err := s.ReferralPath(ctx, ms[0].ID, ms[3].ID)
	checkRead(t, "ReferralPath of imported referrals", []string{ms[3].ID, ms[2].ID, ms[1].ID, ms[0].ID}, path, err)
}

// rankingForest is a small referral forest over two brands' campaigns, with consents and
// purchases, whose paths and rankings the tests work out by hand:
//
//	r1 ─┬─ m1 (A, 100) ─┬─ m11 (A, 200) ── m111 (B, 300)
//	    │               └─ m12 (N, 150)
//	    └─ m2 (B, 120) ──── m21 (A, 400)
//	r2 ─┬─ m3 (A, 110)
//	    ├─ m4 (A, 130)
//	    └─ m5 (A, 500)
//
// A and B are campaigns of byd, N of nio; the numbers are the minutes of the referrals.
// Purchases: m1 and m21 bought from byd; m3 from byd, refunded; m4 from nio only; m5 from
// byd twice, one of them refunded. Consents: r2 and m2 share ACTIVITY with byd, m1 only
// its PROFILE, r1 ACTIVITY with nio only.
type rankingForest struct {
	byd, nio, quiet community.Brand
	a, b, n         community.ReferralCampaign
	id              map[string]string // by name
}

func newRankingForest(t *testing.T, s community.Store) rankingForest {
	t.Helper()
	ctx := context.Background()
	bs := createBrands(t, s, "byd", "nio", "quiet")
	f := rankingForest{byd: bs[0], nio: bs[1], quiet: bs[2], id: map[string]string{}}
	f.a, f.b, f.n = newCampaign(f.byd.ID, "春季老带新", 0), newCampaign(f.byd.ID, "夏日裂变", 1), newCampaign(f.nio.ID, "蔚来推荐", 2)
	for _, c := range []community.ReferralCampaign{f.a, f.b, f.n} {
		must(t, s.CreateReferralCampaign(ctx, c))
	}
	names := []string{"r1", "r2", "m1", "m2", "m3", "m4", "m5", "m11", "m12", "m21", "m111"}
	for i, m := range create(t, s, names...) {
		f.id[names[i]] = m.ID
	}
	for _, r := range []struct {
		referee, referrer string
		c                 community.ReferralCampaign
		minute            int
	}{
		{"m1", "r1", f.a, 100}, {"m3", "r2", f.a, 110}, {"m2", "r1", f.b, 120}, {"m4", "r2", f.a, 130},
		{"m12", "m1", f.n, 150}, {"m11", "m1", f.a, 200}, {"m111", "m11", f.b, 300}, {"m21", "m2", f.a, 400},
		{"m5", "r2", f.a, 500},
	} {
		_, err := redeemAt(s, f.id[r.referee], storedInvite(t, s, f.id[r.referrer], r.c, 0).Code, r.minute)
		must(t, err)
	}
	buy := func(member string, brand community.Brand, order string, refund bool) {
		t.Helper()
		p, err := s.RecordPurchase(ctx, cny(community.NewID(), f.id[member], brand.ID, order, 199_00, 600), nil)
		must(t, err)
		if refund {
			_, err := s.RefundPurchase(ctx, brand.ID, p.ID, at(700))
			must(t, err)
		}
	}
	buy("m1", f.byd, "byd-1", false)
	buy("m21", f.byd, "byd-2", false)
	buy("m3", f.byd, "byd-3", true)
	buy("m4", f.nio, "nio-1", false)
	buy("m5", f.byd, "byd-4", true)
	buy("m5", f.byd, "byd-5", false)
	consent := func(member string, brand community.Brand, scopes ...community.ConsentScope) {
		t.Helper()
		ids := make([]string, len(scopes))
		for i := range ids {
			ids[i] = community.NewID()
		}
		_, err := s.ChangeConsent(ctx, f.id[member], brand.ID, scopes, true, at(50), ids)
		must(t, err)
	}
	consent("r2", f.byd, community.ScopeActivity)
	consent("m2", f.byd, community.ScopeProfile, community.ScopeActivity)
	consent("m1", f.byd, community.ScopeProfile)
	consent("r1", f.nio, community.ScopeActivity)
	return f
}

// ids returns the ids of the named members.
func (f rankingForest) ids(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = f.id[n]
	}
	return out
}

// counts returns the ranking of named counts: highest first, then by member id.
func (f rankingForest) counts(named map[string]int) []community.ReferrerCount {
	out := make([]community.ReferrerCount, 0, len(named))
	for name, n := range named {
		out = append(out, community.ReferrerCount{MemberID: f.id[name], Count: n})
	}
	slices.SortFunc(out, func(a, b community.ReferrerCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.MemberID, b.MemberID))
	})
	return out
}

func testReferralPaths(t *testing.T, s community.Store) {
	ctx := context.Background()
	f := newRankingForest(t, s)
	for _, tc := range []struct {
		name     string
		from, to string
		want     []string // names, lower member first
	}{
		{"up to the root", f.id["m111"], f.id["r1"], f.ids("m111", "m11", "m1", "r1")},
		{"down from the root", f.id["r1"], f.id["m111"], f.ids("m111", "m11", "m1", "r1")},
		{"up one", f.id["m21"], f.id["m2"], f.ids("m21", "m2")},
		{"part of a chain", f.id["m1"], f.id["m111"], f.ids("m111", "m11", "m1")},
		{"another branch", f.id["m111"], f.id["m2"], nil},
		{"cousins", f.id["m12"], f.id["m11"], nil},
		{"another tree", f.id["m3"], f.id["r1"], nil},
		{"two roots", f.id["r1"], f.id["r2"], nil},
		{"the same member", f.id["m1"], f.id["m1"], nil},
		{"an unknown member", f.id["m1"], community.NewID(), nil},
		{"from an unknown member", community.NewID(), f.id["r1"], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReferralPath(ctx, tc.from, tc.to)
			checkRead(t, "ReferralPath", tc.want, got, err)
		})
	}

	t.Run("deeper than a chain's limit", func(t *testing.T) {
		c := liveCampaign(t, s, "长链")
		n := 2*community.MaxChainDepth + 3
		handles := make([]string, n)
		for i := range handles {
			handles[i] = fmt.Sprintf("deep_%03d", i)
		}
		ms := create(t, s, handles...)
		for i := 1; i < n; i++ {
			_, err := redeemAt(s, ms[i].ID, storedInvite(t, s, ms[i-1].ID, c, 0).Code, 100)
			must(t, err)
		}
		want := make([]string, n)
		for i := range want {
			want[i] = ms[n-1-i].ID
		}
		got, err := s.ReferralPath(ctx, ms[0].ID, ms[n-1].ID)
		checkRead(t, "ReferralPath down a deep chain", want, got, err)
		got, err = s.ReferralPath(ctx, ms[n-1].ID, ms[0].ID)
		checkRead(t, "ReferralPath up a deep chain", want, got, err)
	})
}

func testTopReferrers(t *testing.T, s community.Store) {
	ctx := context.Background()
	f := newRankingForest(t, s)
	query := func(by community.ReferrerRanking) community.ReferrerQuery {
		return community.ReferrerQuery{BrandID: f.byd.ID, By: by, First: community.MaxTopReferrers}
	}
	for _, tc := range []struct {
		name string
		q    func(q community.ReferrerQuery) community.ReferrerQuery
		by   community.ReferrerRanking
		want map[string]int
	}{
		{"direct referees through the brand's campaigns", nil, community.RankDirect,
			map[string]int{"r2": 3, "r1": 2, "m1": 1, "m11": 1, "m2": 1}},
		{"the whole downline through the brand's campaigns", nil, community.RankTotal,
			map[string]int{"r1": 5, "r2": 3, "m1": 2, "m11": 1, "m2": 1}},
		{"referees who bought and kept it", nil, community.RankConverted,
			map[string]int{"r1": 1, "r2": 1, "m2": 1}},
		{"one campaign", func(q community.ReferrerQuery) community.ReferrerQuery { q.CampaignID = f.b.ID; return q },
			community.RankDirect, map[string]int{"r1": 1, "m11": 1}},
		{"one campaign's whole downline", func(q community.ReferrerQuery) community.ReferrerQuery { q.CampaignID = f.b.ID; return q },
			community.RankTotal, map[string]int{"r1": 2, "m1": 1, "m11": 1}},
		{"another brand's campaign", func(q community.ReferrerQuery) community.ReferrerQuery {
			q.BrandID, q.CampaignID = f.nio.ID, f.n.ID
			return q
		}, community.RankTotal, map[string]int{"m1": 1, "r1": 1}},
		{"a window from its start, up to but not at its end",
			func(q community.ReferrerQuery) community.ReferrerQuery { q.From, q.To = at(120), at(400); return q },
			community.RankDirect, map[string]int{"r1": 1, "r2": 1, "m1": 1, "m11": 1}},
		{"a window of the whole downline",
			func(q community.ReferrerQuery) community.ReferrerQuery { q.From, q.To = at(120), at(400); return q },
			community.RankTotal, map[string]int{"r1": 3, "r2": 1, "m1": 2, "m11": 1}},
		{"a window open at its start", func(q community.ReferrerQuery) community.ReferrerQuery { q.To = at(120); return q },
			community.RankDirect, map[string]int{"r1": 1, "r2": 1}},
		{"a window open at its end", func(q community.ReferrerQuery) community.ReferrerQuery { q.From = at(400); return q },
			community.RankConverted, map[string]int{"m2": 1, "r2": 1}},
		{"an empty window", func(q community.ReferrerQuery) community.ReferrerQuery { q.From, q.To = at(200), at(200); return q },
			community.RankDirect, nil},
		{"a window before every referral", func(q community.ReferrerQuery) community.ReferrerQuery {
			q.From, q.To = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), at(0)
			return q
		}, community.RankDirect, nil},
		{"a window after every referral", func(q community.ReferrerQuery) community.ReferrerQuery {
			q.From, q.To = at(501), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
			return q
		}, community.RankTotal, nil},
		{"consenting members only", func(q community.ReferrerQuery) community.ReferrerQuery { q.ConsentingOnly = true; return q },
			community.RankDirect, map[string]int{"r2": 3, "m2": 1}},
		{"consenting members only, the whole downline", func(q community.ReferrerQuery) community.ReferrerQuery { q.ConsentingOnly = true; return q },
			community.RankTotal, map[string]int{"r2": 3, "m2": 1}},
		{"a brand without campaigns", func(q community.ReferrerQuery) community.ReferrerQuery { q.BrandID = f.quiet.ID; return q },
			community.RankTotal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := query(tc.by)
			if tc.q != nil {
				q = tc.q(q)
			}
			got, err := s.TopReferrers(ctx, q)
			checkRead(t, "TopReferrers", f.counts(tc.want), nonNil(got), err)
		})
	}

	t.Run("the first of a ranking", func(t *testing.T) {
		all := f.counts(map[string]int{"r2": 3, "r1": 2, "m1": 1, "m11": 1, "m2": 1})
		for _, first := range []int{1, 2, 3, 4} {
			q := query(community.RankDirect)
			q.First = first
			got, err := s.TopReferrers(ctx, q)
			checkRead(t, fmt.Sprintf("TopReferrers first %d", first), all[:first], got, err)
		}
		q := query(community.RankDirect)
		q.First, q.ConsentingOnly = 1, true
		got, err := s.TopReferrers(ctx, q)
		checkRead(t, "TopReferrers first 1 of consenting members", f.counts(map[string]int{"r2": 3}), got, err)
		// The first of the whole ranking, r1, does not consent: the first consenting one
		// comes after it.
		q = query(community.RankTotal)
		q.First, q.ConsentingOnly = 1, true
		got, err = s.TopReferrers(ctx, q)
		checkRead(t, "TopReferrers first 1 of consenting members, the whole downline", f.counts(map[string]int{"r2": 3}), got, err)
		q.First = 2
		got, err = s.TopReferrers(ctx, q)
		checkRead(t, "TopReferrers first 2 of consenting members, the whole downline", f.counts(map[string]int{"r2": 3, "m2": 1}), got, err)
	})

	t.Run("unknown brands and campaigns", func(t *testing.T) {
		for _, tc := range []struct {
			name              string
			brand, campaignID string
		}{
			{"an unknown brand", community.NewID(), ""},
			{"an unknown campaign", f.byd.ID, community.NewID()},
			{"another brand's campaign", f.byd.ID, f.n.ID},
			{"a campaign of an unknown brand", community.NewID(), f.a.ID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := query(community.RankDirect)
				q.BrandID, q.CampaignID = tc.brand, tc.campaignID
				_, err := s.TopReferrers(ctx, q)
				wantCode(t, err, community.CodeNotFound)
			})
		}
	})

	t.Run("one round trip", func(t *testing.T) {
		counted, ok := s.(interface{ RoundTrips() *community.RoundTrips })
		if !ok {
			t.Fatalf("%T does not count its round trips", s)
		}
		trips := counted.RoundTrips()
		for _, by := range community.ReferrerRankings {
			before := trips.Total()
			_, err := s.TopReferrers(ctx, query(by))
			must(t, err)
			if n := trips.Total() - before; n != 1 {
				t.Errorf("TopReferrers by %s cost %d round trips, want 1", by, n)
			}
		}
		before := trips.Total()
		_, err := s.ReferralPath(ctx, f.id["r1"], f.id["m111"])
		must(t, err)
		if n := trips.Total() - before; n != 1 {
			t.Errorf("ReferralPath cost %d round trips, want 1", n)
		}
	})
}

// nonNil is list, or an empty list for nil: stores may return either for an empty ranking.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
