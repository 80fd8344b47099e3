package neo4jstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"quanzi/community"
)

// The size of BenchmarkFeed's graph: benchMembers members post benchFeedPosts posts over
// 30 days in benchFeedClubs public clubs; the reader follows benchFeedFollows members, who
// share benchFeedShares posts IN_APP, and is in 3 of the clubs.
const (
	benchFeedPosts   = 50_000
	benchFeedClubs   = 20
	benchFeedFollows = 100
	benchFeedShares  = 500
)

// BenchmarkFeed measures pages of 20 items of one member's feed, at the start and deep in
// it, on a graph built once; run it with -benchtime to set the iterations:
//
//	NEO4J_URI=… go test -run '^$' -bench Feed -benchtime 200x ./community/neo4jstore
func BenchmarkFeed(b *testing.B) {
	s := openEmpty(b, testConfig(b))
	b.Cleanup(func() { emptyGraphInChunks(b, s) })
	ctx := context.Background()
	start := time.Now()
	reader, asOf := feedBenchGraph(b, s)
	b.Logf("built the graph in %v", time.Since(start))
	// The positions of the pages measured: the start, and after 1,000 and 5,000 items.
	positions := map[int]*community.FeedPosition{0: nil}
	var after *community.FeedPosition
	for read := 0; read < 5000; {
		page, more, err := s.Feed(ctx, reader, community.MaxPageSize, after, asOf)
		if err != nil {
			b.Fatal(err)
		}
		if !more {
			b.Fatalf("the feed ends after %d items", read+len(page))
		}
		read += len(page)
		last := page[len(page)-1]
		after = &community.FeedPosition{At: last.At, PostID: last.PostID}
		if read == 1000 || read == 5000 {
			positions[read] = after
		}
	}
	for _, deep := range []int{0, 1000, 5000} {
		b.Run(fmt.Sprintf("after-%d", deep), func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.Feed(ctx, reader, 20, positions[deep], asOf)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) != 20 {
					b.Fatalf("a page of %d items", len(page))
				}
			}
		})
	}
}

// feedBenchGraph builds BenchmarkFeed's graph in an empty store, and returns the reader
// and the time its feed is read as of.
func feedBenchGraph(b *testing.B, s *Store) (string, time.Time) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	ids := benchMembersOnly(b, s)
	reader := ids[0]
	var clubs []string
	for i := range benchFeedClubs {
		c := community.Club{ID: community.NewID(), Slug: fmt.Sprintf("feed-club-%02d", i), Name: "俱乐部", Kind: community.KindForum,
			Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: benchBase}
		if err := s.CreateClub(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
		clubs = append(clubs, c.ID)
	}
	var memberships []community.ClubMembership
	for _, c := range clubs[:3] {
		memberships = append(memberships, community.ClubMembership{ClubID: c, MemberID: reader, Role: community.RoleMember, Since: benchBase})
	}
	if err := s.ImportClubMembers(ctx, memberships); err != nil {
		b.Fatal(err)
	}
	follows := make([]community.Follow, benchFeedFollows)
	for i := range follows {
		follows[i] = community.Follow{FollowerID: reader, FolloweeID: ids[1+i], Since: benchBase}
	}
	if err := s.ImportFollows(ctx, follows); err != nil {
		b.Fatal(err)
	}
	posts := make([]community.Post, benchFeedPosts)
	for i := range posts {
		posts[i] = community.Post{ID: community.NewID(), ClubID: clubs[rng.IntN(len(clubs))], AuthorID: ids[1+rng.IntN(len(ids)-1)],
			Title: fmt.Sprintf("周末自驾游路线推荐 #%d", i), Body: "Leave early to avoid traffic.", Tags: []string{"自驾"},
			CreatedAt: benchBase.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond),
			Status:    community.PostPublished}
	}
	for lo := 0; lo < len(posts); lo += benchMembers {
		if err := s.ImportPosts(ctx, posts[lo:min(lo+benchMembers, len(posts))]); err != nil {
			b.Fatal(err)
		}
	}
	for range benchFeedShares {
		p := posts[rng.IntN(len(posts))]
		at := p.CreatedAt.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
		sh := community.Share{ID: community.NewID(), PostID: p.ID, MemberID: ids[1+rng.IntN(benchFeedFollows)], Channel: community.ShareInApp, At: at}
		if err := s.SharePost(ctx, sh); err != nil {
			b.Fatal(err)
		}
	}
	return reader, benchBase.Add(24 * time.Hour)
}
