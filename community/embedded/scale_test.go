package embedded

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

var scale = flag.Bool("scale", false, "build a community of the documented scale (100k members, 1M follows, 200k posts, 1M reactions) and log load times, memory and read times")

// TestScale writes a large community straight into a file, a part at a time, and after
// each part opens the store and logs how long loading took and how much heap the part
// holds; then times the reads that serve pages. Run with -scale; it takes a few minutes.
func TestScale(t *testing.T) {
	if !*scale {
		t.Skip("run with -scale")
	}
	const (
		nMembers   = 100_000
		nFollows   = 1_000_000
		nClubs     = 200
		nPosts     = 200_000
		nReactions = 1_000_000
		nComments  = 500_000
		nShares    = 100_000
	)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "graph.db")
	s, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// write stores n items, 50,000 a transaction.
	write := func(n int, put func(tx *bolt.Tx, i int) error) {
		t.Helper()
		for lo := 0; lo < n; lo += 50_000 {
			err := db.Update(func(tx *bolt.Tx) error {
				for i := lo; i < min(lo+50_000, n); i++ {
					if err := put(tx, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	body := strings.Repeat("周末去莫干山自驾，充电桩在山脚，", 30)

	memberIDs := make([]string, nMembers)
	write(nMembers, func(tx *bolt.Tx, i int) error {
		id := community.NewID()
		memberIDs[i] = id
		m := community.Member{ID: id, Handle: fmt.Sprintf("owner_%d", i), DisplayName: "车主", JoinedAt: start}
		return putJSON(tx, bucketMembers, []byte(id), memberDoc{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + id, LinkedAt: start}}})
	})
	member := func() string { return memberIDs[rng.IntN(nMembers)] }
	// Follows are skewed: a few members are followed by many.
	write(nFollows, func(tx *bolt.Tx, i int) error {
		from, to := member(), memberIDs[int(float64(nMembers)*rng.Float64()*rng.Float64())]
		if from == to {
			return nil
		}
		return tx.Bucket(bucketFollows).Put(followBoltKey(from, to), binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano())))
	})
	clubIDs := make([]string, nClubs)
	write(nClubs, func(tx *bolt.Tx, i int) error {
		c := community.Club{ID: community.NewID(), Slug: fmt.Sprintf("club-%d", i), Name: "车友会", Kind: community.KindOwnerClub, Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: start}
		if i%4 == 0 {
			c.Visibility = community.VisibilityPrivate
		}
		clubIDs[i] = c.ID
		return putJSON(tx, bucketClubs, []byte(c.ID), c)
	})
	// Every member is in two clubs (or one, when the draws agree).
	write(2*nMembers, func(tx *bolt.Tx, i int) error {
		m := community.ClubMembership{ClubID: clubIDs[rng.IntN(nClubs)], MemberID: memberIDs[i/2], Role: community.RoleMember, Since: start}
		return putJSON(tx, bucketClubMembers, clubMemberKey(m.ClubID, m.MemberID), m)
	})

	// The test's own ids are made before the first measure, so that the heap it logs is the store's.
	postIDs, commentIDs := make([]string, nPosts), make([]string, nComments)
	for i := range postIDs {
		postIDs[i] = community.NewID()
	}
	for i := range commentIDs {
		commentIDs[i] = community.NewID()
	}
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	heapBefore := base.HeapAlloc
	// measure opens the store, logs the load time and the heap it holds beyond the last
	// measure, per item of the part just written, and returns the open store.
	measure := func(part string, items int) *Store {
		t.Helper()
		db.Close()
		began := time.Now()
		s, err := Open(Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		load := time.Since(began)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		t.Logf("%-40s load %6.2fs  heap %5d MiB  %+4d MiB  %.0f B/item", part, load.Seconds(), ms.HeapAlloc>>20, (int64(ms.HeapAlloc)-int64(heapBefore))>>20, float64(int64(ms.HeapAlloc)-int64(heapBefore))/float64(items))
		heapBefore = ms.HeapAlloc
		return s
	}
	reopen := func(s *Store) {
		s.Close()
		if db, err = bolt.Open(path, 0o600, &bolt.Options{NoSync: true, Timeout: 5 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	reopen(measure("members, follows, clubs (per member)", nMembers))

	write(nPosts, func(tx *bolt.Tx, i int) error {
		id := postIDs[i]
		d := postDoc{
			ID: id, ClubID: clubIDs[rng.IntN(nClubs)], AuthorID: member(), Title: "周末莫干山自驾", Body: body[:rng.IntN(len(body)/3)*3],
			Tags: []string{"自驾", "ev"}, CreatedAt: start.Add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour)))), Status: community.PostPublished,
		}
		return putJSON(tx, bucketPosts, []byte(id), d)
	})
	reopen(measure("posts", nPosts))

	// Reactions are skewed toward a few posts, as engagement is.
	post := func() int { return int(float64(nPosts) * rng.Float64() * rng.Float64()) }
	write(nReactions, func(tx *bolt.Tx, i int) error {
		return tx.Bucket(bucketReactions).Put(reactionKey(postIDs[post()], member(), community.ReactionKinds[rng.IntN(kindCount)]), binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano())))
	})
	reopen(measure("reactions", nReactions))

	// A third of the comments reply to an earlier comment of their post.
	lastComment := make([]int32, nPosts)
	for i := range lastComment {
		lastComment[i] = -1
	}
	write(nComments, func(tx *bolt.Tx, i int) error {
		p := post()
		d := commentDoc{ID: commentIDs[i], PostID: postIDs[p], AuthorID: member(), Body: "算我一个，带两个人。", CreatedAt: start.Add(time.Duration(i) * time.Second)}
		if last := lastComment[p]; last >= 0 && rng.IntN(3) == 0 {
			d.ParentID = commentIDs[last]
		}
		lastComment[p] = int32(i)
		return putJSON(tx, bucketComments, []byte(d.ID), d)
	})
	reopen(measure("comments", nComments))

	write(nShares, func(tx *bolt.Tx, i int) error {
		sh := community.Share{ID: community.NewID(), PostID: postIDs[post()], MemberID: member(), Channel: community.ShareChannels[rng.IntN(channelCount)], At: start.Add(time.Duration(i) * time.Minute)}
		return putJSON(tx, bucketShares, []byte(sh.ID), sh)
	})
	s = measure("shares", nShares)
	defer s.Close()

	ctx := context.Background()
	timeIt := func(what string, n int, f func(i int)) {
		t.Helper()
		began := time.Now()
		for i := range n {
			f(i)
		}
		t.Logf("%-40s %8.3f ms", what, float64(time.Since(began).Microseconds())/1000/float64(n))
	}
	// The members who follow the most.
	var readers []string
	for _, id := range memberIDs[:2000] {
		if len(s.members[id].following) >= 15 {
			readers = append(readers, id)
		}
	}
	asOf := start.Add(100 * 24 * time.Hour)
	var feedLen int
	timeIt(fmt.Sprintf("Feed, first page of 20 (%d readers)", len(readers)), len(readers), func(i int) {
		items, _, err := s.Feed(ctx, readers[i], 20, nil, asOf)
		if err != nil {
			t.Fatal(err)
		}
		feedLen += len(items)
	})
	if feedLen == 0 {
		t.Fatal("the feeds are empty")
	}
	timeIt("Feed, page 20 of 20", min(len(readers), 50), func(i int) {
		var after *community.FeedPosition
		for range 20 {
			items, more, err := s.Feed(ctx, readers[i], 20, after, asOf)
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				return
			}
			last := items[len(items)-1]
			after = &community.FeedPosition{At: last.At, PostID: last.PostID}
		}
	})
	timeIt("ClubPosts NEW, 20", 100, func(i int) {
		if _, _, err := community.ClubPostsOf(ctx, s, clubIDs[i%nClubs], community.PostQuery{Sort: community.SortNew, First: 20}, nil); err != nil {
			t.Fatal(err)
		}
	})
	timeIt("ClubPosts TOP, all time, 20", 100, func(i int) {
		if _, _, err := community.ClubPostsOf(ctx, s, clubIDs[i%nClubs], community.PostQuery{Sort: community.SortTop, First: 20}, nil); err != nil {
			t.Fatal(err)
		}
	})
	timeIt("RecentPostCounts, a week, 1000", 20, func(i int) {
		if _, err := s.RecentPostCounts(ctx, clubIDs[i%nClubs:i%nClubs+1], asOf.Add(-17*24*time.Hour), 1000); err != nil {
			t.Fatal(err)
		}
	})
	timeIt("PostsByID, 100", 100, func(i int) {
		ids := make([]string, 100)
		for j := range ids {
			ids[j] = postIDs[(i*100+j)%nPosts]
		}
		if _, err := s.PostsByID(ctx, ids); err != nil {
			t.Fatal(err)
		}
	})
	timeIt("ViewerReactions, 100 targets", 100, func(i int) {
		ids := make([]string, 100)
		for j := range ids {
			ids[j] = postIDs[j]
		}
		if _, err := s.ViewerReactions(ctx, memberIDs[i], ids); err != nil {
			t.Fatal(err)
		}
	})
}
