package neo4jstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"quanzi/community"
)

// benchMembers is the size of the benchmarks' graph and of one import batch, the largest
// a caller sends in one call.
const benchMembers = 10_000

var benchBase = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// benchGraph imports benchMembers members in one batch, then one follow from each towards
// the first (a star) and one towards the next member (a ring), and returns the ids.
func benchGraph(b *testing.B, s *Store) []string {
	b.Helper()
	ctx := context.Background()
	batch := make([]community.ImportedMember, benchMembers)
	ids := make([]string, benchMembers)
	for i := range batch {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("bench_%05d", i), DisplayName: "会员", JoinedAt: benchBase}
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: benchBase}}}
		ids[i] = m.ID
	}
	start := time.Now()
	if err := s.ImportMembers(ctx, batch); err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d members in %v", benchMembers, time.Since(start))
	follows := make([]community.Follow, 0, 2*benchMembers)
	for i := 1; i < benchMembers; i++ {
		follows = append(follows, community.Follow{FollowerID: ids[i], FolloweeID: ids[0], Since: benchBase.Add(time.Duration(i/3) * time.Second)})
	}
	for i := range ids {
		follows = append(follows, community.Follow{FollowerID: ids[i], FolloweeID: ids[(i+1)%benchMembers], Since: benchBase})
	}
	start = time.Now()
	for lo := 0; lo < len(follows); lo += benchMembers {
		if err := s.ImportFollows(ctx, follows[lo:min(lo+benchMembers, len(follows))]); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("imported %d follows in %v", len(follows), time.Since(start))
	return ids
}

// BenchmarkStore measures the store's calls on a graph of benchMembers members; the graph
// is built once, so run it with -benchtime to set the iterations rather than -count.
func BenchmarkStore(b *testing.B) {
	s := openEmpty(b, testConfig(b))
	ids := benchGraph(b, s)
	ctx := context.Background()
	star := ids[0]

	b.Run("MembersByID/100", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.MembersByID(ctx, ids[:100]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MemberByHandle", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.MemberByHandle(ctx, "BENCH_04242"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Followers/first-page", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FollowLists(ctx, community.ListFollowers, community.DefaultPageSize, []community.ListRequest{{MemberID: star}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Followers/middle-page", func(b *testing.B) {
		after := &community.Position{Since: benchBase.Add(benchMembers / 6 * time.Second), MemberID: ids[benchMembers/2]}
		for b.Loop() {
			if _, err := s.FollowLists(ctx, community.ListFollowers, community.DefaultPageSize, []community.ListRequest{{MemberID: star, After: after}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FollowCounts/100", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FollowCounts(ctx, ids[:100]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SuggestedFollows", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SuggestedFollows(ctx, ids[42:43], 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FollowUnfollow", func(b *testing.B) {
		a, c := ids[10], ids[20]
		for b.Loop() {
			if err := s.Follow(ctx, a, c, benchBase); err != nil {
				b.Fatal(err)
			}
			if err := s.Unfollow(ctx, a, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LinkUnlinkIdentity", func(b *testing.B) {
		id := community.Identity{Provider: community.ProviderPhone, ExternalID: "+8613800000000", LinkedAt: benchBase}
		for b.Loop() {
			if err := s.LinkIdentity(ctx, ids[7], id); err != nil {
				b.Fatal(err)
			}
			if err := s.UnlinkIdentity(ctx, ids[7], id.Provider); err != nil {
				b.Fatal(err)
			}
		}
	})
}
