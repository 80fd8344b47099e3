package embedded_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/communitytest"
	"quanzi/community/embedded"
)

func open(t *testing.T, path string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	communitytest.Run(t, func(t *testing.T) community.Store {
		s := open(t, filepath.Join(t.TempDir(), "graph.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
	communitytest.RunRewards(t, func(t *testing.T) community.Store {
		s := open(t, filepath.Join(t.TempDir(), "graph.db"))
		t.Cleanup(func() { s.Close() })
		return s
	}, communitytest.RewardHooks{
		FlagReferral: func(t *testing.T, s community.Store, memberID string, flags []community.ReferralFlag) {
			embedded.SetReferralFlags(s.(*embedded.Store), memberID, flags)
		},
		SpendPoints: func(t *testing.T, s community.Store, memberID, brandID string, points int) {
			embedded.SetPoints(s.(*embedded.Store), memberID, brandID, points)
		},
	})
	communitytest.RunConsumers(t, func(t *testing.T, subs community.Subscriptions) community.Store {
		s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Subscriptions: subs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestReopen checks that everything stored is there, the same, after the file is reopened.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	ids := communitytest.Populate(t, s)
	before := communitytest.Snapshot(t, s, ids)
	if len(before.Followers[ids[2]]) == 0 {
		t.Fatal("the populated graph has no follows to compare")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	if diff := cmp.Diff(before, communitytest.Snapshot(t, s, ids)); diff != "" {
		t.Errorf("graph after reopening (-before +after):\n%s", diff)
	}
}
