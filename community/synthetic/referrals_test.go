package synthetic_test

import (
	"context"
	"path/filepath"
	"testing"

	"quanzi/community"
	"quanzi/community/communitytest"
	"quanzi/community/embedded"
	"quanzi/community/synthetic"
)

// TestGenerateReferrals generates a forest and checks its shape and the figures the store
// kept as it imported it against the forest's parents.
func TestGenerateReferrals(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := synthetic.Generate(ctx, s, synthetic.Spec{Members: 25_000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	f, err := synthetic.GenerateReferrals(ctx, s, g, synthetic.ReferralSpec{Trees: []int{5_000, 100}, MaxDepth: 12, MaxSmallTree: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	referrer := map[string]string{}
	for i, p := range f.Parent {
		if p >= 0 {
			referrer[g.IDs[i]] = g.IDs[p]
		}
	}
	if f.Referred != len(referrer) || len(f.Roots) != 2 || f.Roots[0] != g.IDs[0] || f.Roots[1] != g.IDs[5_000] {
		t.Fatalf("forest: %d referred of %d, roots %v", f.Referred, len(referrer), f.Roots)
	}
	ups, err := s.UplinesOf(ctx, []string{f.Deepest}, community.MaxChainDepth)
	if err != nil || len(ups[f.Deepest]) != 12 || ups[f.Deepest][11] != f.Roots[0] {
		t.Fatalf("the deepest member's upline: %v, %v", ups[f.Deepest], err)
	}
	ids := append([]string{}, f.Roots...)
	ids = append(ids, g.IDs[7], g.IDs[5_050], g.IDs[20_000])
	got, err := s.ReferralStatsOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if want := communitytest.ExpectedStats(referrer, nil, id); got[id] != want {
			t.Errorf("figures of %s = %+v, want %+v", id, got[id], want)
		}
	}
	if st := got[f.Roots[0]]; st.Total != 4_999 || st.Deepest != 12 || got[f.Roots[1]].Total != 99 {
		t.Errorf("figures of the roots: %+v, %+v", st, got[f.Roots[1]])
	}
}
