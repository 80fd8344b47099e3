package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"quanzi/community"
)

// TestBulkScale times the bulk loaders at the documented scale, in batches of 10,000 as
// the seeder sends them: into a store of 100k members in 200 clubs, 200k posts and then
// 1M reactions, skewed toward a few posts as engagement is. It logs the time of each
// loader, its slowest batch (for that long the store answers no reads) and the size of
// the file. Run with -scale.
func TestBulkScale(t *testing.T) {
	if !*scale {
		t.Skip("run with -scale")
	}
	const (
		nMembers   = 100_000
		nClubs     = 200
		nPosts     = 200_000
		nReactions = 1_000_000
		batchSize  = 10_000
	)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	// Ids are random, as the seeder's are: rows land all over the file's key space.
	randomID := func() string {
		hi, lo := rng.Uint64(), rng.Uint64()
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "graph.db")
	s, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()

	// The rows are made before the clock starts, so that only the store is timed.
	members := make([]community.ImportedMember, nMembers)
	for i := range members {
		id := randomID()
		members[i] = community.ImportedMember{
			Member:     community.Member{ID: id, Handle: fmt.Sprintf("owner_%d", i), DisplayName: "车主", JoinedAt: start},
			Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + id, LinkedAt: start}},
		}
	}
	member := func() string { return members[rng.IntN(nMembers)].Member.ID }
	clubIDs := make([]string, nClubs)
	for i := range clubIDs {
		clubIDs[i] = randomID()
	}
	// Every member joins two clubs (or one, when the draws agree).
	memberships := make([]community.ClubMembership, 0, 2*nMembers)
	for i := range 2 * nMembers {
		memberships = append(memberships, community.ClubMembership{ClubID: clubIDs[rng.IntN(nClubs)], MemberID: members[i/2].Member.ID, Role: community.RoleMember, Since: start})
	}
	posts := make([]community.Post, nPosts)
	for i := range posts {
		posts[i] = community.Post{
			ID: randomID(), ClubID: clubIDs[rng.IntN(nClubs)], AuthorID: member(), Title: fmt.Sprintf("周末莫干山自驾 #%d", i),
			Body: "周末去莫干山自驾，充电桩在山脚，记得提前预约。", Tags: []string{"自驾", "ev"},
			CreatedAt: start.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond), Status: community.PostPublished,
		}
	}
	reactions := make([]community.Reaction, nReactions)
	for i := range reactions {
		p := posts[int(float64(nPosts)*rng.Float64()*rng.Float64())]
		reactions[i] = community.Reaction{MemberID: member(), TargetID: p.ID, Kind: community.ReactionKinds[rng.IntN(len(community.ReactionKinds))], At: start.Add(time.Duration(i) * time.Second)}
	}

	// load stores rows in batches and logs the time they took.
	load := func(what string, n int, store func(lo, hi int) error) {
		t.Helper()
		var slowest time.Duration
		began := time.Now()
		for lo := 0; lo < n; lo += batchSize {
			b := time.Now()
			if err := store(lo, min(lo+batchSize, n)); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			slowest = max(slowest, time.Since(b))
		}
		took := time.Since(began)
		t.Logf("%-32s %8d rows in %3d batches: %7.2fs, %6.0f rows/s, slowest batch %4d ms", what, n, (n+batchSize-1)/batchSize, took.Seconds(), float64(n)/took.Seconds(), slowest.Milliseconds())
	}
	load("ImportMembers", nMembers, func(lo, hi int) error { return s.ImportMembers(ctx, members[lo:hi]) })
	for i, id := range clubIDs {
		c := community.Club{ID: id, Slug: fmt.Sprintf("club-%d", i), Name: "车友会", Kind: community.KindOwnerClub, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: start}
		if err := s.CreateClub(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	load("ImportClubMembers", len(memberships), func(lo, hi int) error { return s.ImportClubMembers(ctx, memberships[lo:hi]) })
	load("ImportPosts", nPosts, func(lo, hi int) error { return s.ImportPosts(ctx, posts[lo:hi]) })
	load("ImportReactions", nReactions, func(lo, hi int) error { return s.ImportReactions(ctx, reactions[lo:hi]) })

	counted := 0
	for _, p := range s.posts {
		for _, n := range p.reactions() {
			counted += int(n)
		}
	}
	stored := 0
	for _, list := range s.reactions {
		stored += len(list)
	}
	if len(s.posts) != nPosts || counted != stored || stored < nReactions*99/100 {
		t.Fatalf("%d posts, %d reactions stored, %d counted; want %d posts and about %d reactions", len(s.posts), stored, counted, nPosts, nReactions)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if s, err = Open(Config{Path: path}); err != nil {
		t.Fatal(err)
	}
	t.Logf("file %d MiB; reopened in %.2fs with %d posts and %d reactions", fi.Size()>>20, time.Since(began).Seconds(), len(s.posts), stored)
}
