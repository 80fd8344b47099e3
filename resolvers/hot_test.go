package resolvers_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/embedded"
)

// deletingStore deletes a post between the two reads of a HOT page, as a member deleting it
// at that moment would: after the candidates' counts are read, before the page's posts are.
type deletingStore struct {
	community.Store
	// doomed is deleted after the next read of counts; "" for none.
	doomed string
}

func (s *deletingStore) RecentPostCounts(ctx context.Context, clubIDs []string, since time.Time, limit int) (map[string][]community.PostCounts, error) {
	counts, err := s.Store.RecentPostCounts(ctx, clubIDs, since, limit)
	if id := s.doomed; id != "" && err == nil {
		s.doomed = ""
		if _, err := s.Store.DeletePost(ctx, id, time.Now()); err != nil {
			return nil, err
		}
	}
	return counts, err
}

// TestHotOrder walks a club's HOT pages against Post.Hot computed here over whole posts:
// the order (score, then newest first, then id), the week's horizon, deleted posts, and a
// post deleted between the two reads of a page.
func TestHotOrder(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	var members []string
	for i, name := range []string{"李华", "王芳", "张伟", "刘洋", "陈静"} {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("member_%d", i), DisplayName: name, JoinedAt: now.Add(-60 * 24 * time.Hour)}
		if err := s.CreateMember(ctx, m, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-" + m.ID, LinkedAt: m.JoinedAt}); err != nil {
			t.Fatal(err)
		}
		members = append(members, m.ID)
	}
	author := members[0]
	club := community.Club{
		ID: community.NewID(), Slug: "ev-talk", Name: "电车夜话", Kind: community.KindForum,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: now.Add(-60 * 24 * time.Hour),
	}
	if err := s.CreateClub(ctx, club, &community.ClubMembership{ClubID: club.ID, MemberID: author, Role: community.RoleManager, Since: club.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	// Ages in hours and engagement: some posts tie on time, two on time and engagement (so
	// that their ids decide), one is older than the week and one is deleted.
	specs := []struct {
		hours                       float64
		reactions, comments, shares int
		deleted                     bool
	}{
		{hours: 1},
		{hours: 1, reactions: 2},
		{hours: 3, reactions: 1, comments: 1},
		{hours: 3, reactions: 1, comments: 1},
		{hours: 10, shares: 2},
		{hours: 30, reactions: 4, comments: 2, shares: 1},
		{hours: 30},
		{hours: 100, reactions: 3},
		{hours: 160, comments: 3, shares: 3},
		{hours: 200, reactions: 4, comments: 4},
		{hours: 2, reactions: 4, deleted: true},
		{hours: 0.5},
	}
	var ids []string
	for i, sp := range specs {
		p := community.Post{
			ID: community.NewID(), ClubID: club.ID, AuthorID: author, Title: fmt.Sprint("帖子 ", i), Body: "周末一起去充电站。",
			CreatedAt: now.Add(-time.Duration(sp.hours * float64(time.Hour))), Status: community.PostPublished,
		}
		if _, err := s.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
		for j := range sp.reactions {
			if err := s.React(ctx, members[1+j%4], p.ID, community.ReactionKinds[j/4], now); err != nil {
				t.Fatal(err)
			}
		}
		for j := range sp.comments {
			c := community.Comment{ID: community.NewID(), PostID: p.ID, AuthorID: members[1+j%4], Body: "同去", CreatedAt: now}
			if err := s.AddComment(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for j := range sp.shares {
			if err := s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: members[1+j%4], Channel: community.ShareWeChat, At: now}); err != nil {
				t.Fatal(err)
			}
		}
		if sp.deleted {
			if _, err := s.DeletePost(ctx, p.ID, now); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, p.ID)
	}
	all, err := s.PostsByID(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	// want is HOT as Post.Hot defines it, over the published posts of the last week.
	var ranked []community.Post
	for _, p := range all {
		if p.Status == community.PostPublished && !p.CreatedAt.Before(now.Add(-7*24*time.Hour)) {
			ranked = append(ranked, p)
		}
	}
	slices.SortFunc(ranked, func(a, b community.Post) int {
		return cmp.Or(cmp.Compare(b.Hot(now), a.Hot(now)), b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	var want []string
	for _, p := range ranked {
		want = append(want, p.ID)
	}
	if len(want) != 10 {
		t.Fatalf("the test expects 10 posts to rank, has %d", len(want))
	}

	store := &deletingStore{Store: s}
	svc := community.New(store, community.Config{Now: func() time.Time { return now }})
	asMember := community.WithActor(ctx, community.Actor{MemberID: author})
	// walk reads the HOT pages of size, calling before before each page; it returns the ids
	// in order and the size of each page.
	walk := func(t *testing.T, size int, before func(page int)) ([]string, []int) {
		t.Helper()
		var got []string
		var sizes []int
		after := ""
		for page := range 50 {
			before(page)
			l, err := svc.Posts.ClubPosts(asMember, club.ID, community.SortHot, community.WindowWeek, size, after)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range l.Posts {
				got = append(got, p.ID)
			}
			sizes = append(sizes, len(l.Posts))
			if !l.More {
				return got, sizes
			}
			after = l.Posts[len(l.Posts)-1].Cursor()
		}
		t.Fatal("the pages never end")
		return nil, nil
	}
	for _, size := range []int{1, 2, 4, 100} {
		t.Run(fmt.Sprint("pages of ", size), func(t *testing.T) {
			got, _ := walk(t, size, func(int) {})
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("HOT (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a post deleted between the reads of a page", func(t *testing.T) {
		// The third post is deleted while the second page is read: that page is filled
		// from the posts after it, and the walk neither skips nor repeats any other post.
		got, sizes := walk(t, 2, func(page int) {
			if page == 1 {
				store.doomed = want[2]
			}
		})
		rest := slices.Delete(slices.Clone(want), 2, 3)
		if diff := gocmp.Diff(rest, got); diff != "" {
			t.Errorf("HOT (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]int{2, 2, 2, 2, 1}, sizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
	})
}

// postID finds the ids in a response's data.
var postID = regexp.MustCompile(`"id":"([^"]+)"`)

// TestHotPageRoundTrips checks that a request asking for the same HOT page many times, under
// aliases or through two paths to the club, ranks and reads it once: one read of the
// candidates' counts and one read of the page's posts. And that a HOT page is costed by
// its ranking, not by its size alone.
func TestHotPageRoundTrips(t *testing.T) {
	a := newAPI(t)
	forum, _ := a.evTalk()
	_, author := a.register("li_hua", "李华")
	a.join(author, forum)
	for i := range 30 {
		a.createPost(author, forum, fmt.Sprintf("续航实测 %d", i))
	}
	_, viewer := a.register("wang_fang", "王芳")
	a.join(viewer, forum)

	aliases := func(n int) string {
		var q strings.Builder
		q.WriteString("{")
		for i := range n {
			fmt.Fprintf(&q, ` a%d: club(slug: "ev-talk") { posts(first: 1, sort: HOT) { edges { node { id title } } } }`, i)
		}
		q.WriteString(" }")
		return q.String()
	}
	cases := []struct {
		name  string
		query string
		pages int // the pages in the answer, all the same
	}{
		{"40 aliases", aliases(40), 40},
		{"two paths to the club", `query($id: ID!) {
			club(slug: "ev-talk") { posts(first: 1, sort: HOT) { edges { node { id title } } } }
			_entities(representations: [{__typename: "Club", id: $id}]) { ... on Club { posts(first: 1, sort: HOT) { edges { node { id title } } } } }
		}`, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			counts, posts := a.trips.Of("RecentPostCounts"), a.trips.Of("PostsByID")
			res := a.do(viewer, tc.query, map[string]any{"id": forum})
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Errors)
			}
			counts, posts = a.trips.Of("RecentPostCounts")-counts, a.trips.Of("PostsByID")-posts
			// Every page holds the same one post.
			var ids []string
			for _, m := range postID.FindAllStringSubmatch(string(res.Data), -1) {
				ids = append(ids, m[1])
			}
			if len(ids) != tc.pages || len(slices.Compact(slices.Clone(ids))) != 1 {
				t.Errorf("want %d pages of the same one post, got %v", tc.pages, ids)
			}
			if counts != 1 || posts != 1 {
				t.Errorf("the same HOT page %d times cost %d reads of counts and %d reads of posts; want 1 and 1", tc.pages, counts, posts)
			}
		})
	}
	t.Run("ranking is costed", func(t *testing.T) {
		// 60 pages of one post would cost 60 × 6 by their size alone, far below the limit;
		// their ranking makes them too costly.
		res := a.do(viewer, aliases(60), nil)
		if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("60 HOT pages were not refused for complexity: %+v", res.Errors)
		}
	})
}
