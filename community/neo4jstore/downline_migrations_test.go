package neo4jstore

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The downline migrations: 0041 keys the referrals stored before keys were kept (0040
// indexes them), 0042 computes the figures of members stored before figures were kept.
var downlineMigrations = []string{"0041_referred_by_keys_fill", "0042_downline_figures_fill"}

// cypherUndoDownlines turns the referrals and members of a graph into what they were
// before downlineMigrations: referrals without keys, members without figures.
const cypherUndoDownlines = `
CALL () { MATCH ()-[r:REFERRED_BY]->() REMOVE r.inKey }
CALL () { MATCH (m:Member) REMOVE m.downlineLevels, m.downlineTotal, m.downlineDeepest, m.downlineConverted, m.bought }`

// TestDownlineMigrations writes a forest deeper than the levels counted, with purchases,
// turns it into what a graph held before the downline migrations, migrates, and checks
// that the figures and the level pages read as they did before.
func TestDownlineMigrations(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	b := addBrand(t, s, "downline-migration")
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = addMember(t, s, fmt.Sprintf("dm_%02d", i))
	}
	var refs []community.Referral
	for i := 1; i < len(ids); i++ {
		p := i - 1
		if i%3 == 0 {
			p = i / 3
		}
		refs = append(refs, community.Referral{MemberID: ids[i], ReferrerID: ids[p], Code: "MIGRATED", At: brandBase.Add(time.Duration(i/2) * time.Hour)})
	}
	mustDo(t, s.ImportReferrals(ctx, refs))
	for i := 0; i < len(ids); i += 4 {
		p, err := s.RecordPurchase(ctx, community.Purchase{ID: community.NewID(), MemberID: ids[i], BrandID: b.ID, Amount: 100_00, Currency: "CNY",
			ExternalID: fmt.Sprintf("dm-%d", i), At: brandBase, RecordedAt: brandBase}, nil)
		mustDo(t, err)
		if i%8 == 0 {
			_, err = s.RefundPurchase(ctx, b.ID, p.ID, brandBase.Add(time.Hour))
			mustDo(t, err)
		}
	}
	read := func(t *testing.T) (map[string]community.ReferralStats, [][]community.DownlinePage) {
		t.Helper()
		stats, err := s.ReferralStatsOf(ctx, ids)
		mustDo(t, err)
		reqs := make([]community.ListRequest, len(ids))
		for i, id := range ids {
			reqs[i] = community.ListRequest{MemberID: id}
		}
		var pages [][]community.DownlinePage
		for level := 1; level <= 3; level++ {
			p, err := s.DownlinePages(ctx, level, community.MaxPageSize, reqs)
			mustDo(t, err)
			pages = append(pages, p)
		}
		return stats, pages
	}
	wantStats, wantPages := read(t)
	if wantStats[ids[0]].Total != len(ids)-1 || wantStats[ids[0]].Converted == 0 || len(wantPages[0][1].Edges) == 0 {
		t.Fatalf("the graph lacks figures to compare: %+v", wantStats[ids[0]])
	}
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		if err := exec(ctx, tx, cypherUndoDownlines, nil); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, exec(ctx, tx, cypherForgetMigrations, map[string]any{"ids": downlineMigrations})
	})
	mustDo(t, err)
	if got, _ := read(t); got[ids[0]].Total != 0 {
		t.Fatal("the members were not turned into members without figures")
	}
	smallBatches(t)
	applied, err := s.migrate(ctx, slog.New(slog.DiscardHandler))
	mustDo(t, err)
	if applied != len(downlineMigrations) {
		t.Errorf("applied %d migrations, want %d", applied, len(downlineMigrations))
	}
	gotStats, gotPages := read(t)
	if diff := gocmp.Diff(wantStats, gotStats); diff != "" {
		t.Errorf("figures after the migrations (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(wantPages, gotPages); diff != "" {
		t.Errorf("level pages after the migrations (-want +got):\n%s", diff)
	}
}

// TestDownlinePlans profiles the statement of a page of a member's referees among 2,000:
// one seek of the range of the index of REFERRED_BY.inKey, cut by a Limit, that reads
// about as many keys as the page returns, from the start and after a position.
func TestDownlinePlans(t *testing.T) {
	const n, first = 2000, 5
	s, last := planStore(t)
	ctx := context.Background()
	star := addMember(t, s, "star")
	var refs []community.Referral
	for i, m := range importMembers(t, s, n) {
		refs = append(refs, community.Referral{MemberID: m, ReferrerID: star, Code: "PLAN", At: listSince(i)})
	}
	mustDo(t, s.ImportReferrals(ctx, refs))
	middle, err := s.DownlinePages(ctx, 1, n/2, []community.ListRequest{{MemberID: star}})
	mustDo(t, err)
	end := middle[0].Edges[n/2-1]
	for _, tc := range []struct {
		name  string
		after *community.Position
	}{
		{"the first page", nil},
		{"a page after a position", &community.Position{Since: end.At, ID: end.MemberID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, err := s.DownlinePages(ctx, 1, first, []community.ListRequest{{MemberID: star, After: tc.after}})
			mustDo(t, err)
			if len(pages[0].Edges) != first || !pages[0].HasNextPage || pages[0].TotalCount != n {
				t.Fatalf("page = %d edges, hasNext %v, total %d; want %d, true, %d", len(pages[0].Edges), pages[0].HasNextPage, pages[0].TotalCount, first, n)
			}
			checkSeekPlan(t, s, *last, first+1, 4*(first+1))
		})
	}
}
