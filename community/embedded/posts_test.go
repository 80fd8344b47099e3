package embedded_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
)

// newPost is a published post of the author in the club, created at the minute.
func newPost(clubID, authorID string, minute int) community.Post {
	return community.Post{
		ID: community.NewID(), ClubID: clubID, AuthorID: authorID, Title: fmt.Sprint("提车作业 ", minute),
		Body: "新车到手，分享一下。", Tags: []string{"ev", "提车"}, CreatedAt: at(minute), Status: community.PostPublished,
	}
}

func createPosts(t *testing.T, s community.Store, posts ...community.Post) {
	t.Helper()
	for _, p := range posts {
		must(t, errOf(s.CreatePost(context.Background(), p)))
	}
}

func newComment(p community.Post, authorID, parentID string, minute int) community.Comment {
	return community.Comment{ID: community.NewID(), PostID: p.ID, AuthorID: authorID, ParentID: parentID, Body: fmt.Sprint("评论 ", minute), CreatedAt: at(minute)}
}

// postFixture is a store with members, a public and a private club, and their posts.
type postFixture struct {
	s       community.Store
	ms      []string
	public  community.Club
	private community.Club
}

func newPostFixture(t *testing.T, s community.Store, members_ int) postFixture {
	t.Helper()
	ctx := context.Background()
	f := postFixture{s: s, ms: members(t, s, members_), public: newClub("nio-owners", "", 0), private: newClub("nio-vip", "", 0)}
	f.private.Visibility = community.VisibilityPrivate
	must(t, s.CreateClub(ctx, f.public, nil))
	must(t, s.CreateClub(ctx, f.private, nil))
	return f
}

func postByID(t *testing.T, s community.Store, id string) community.Post {
	t.Helper()
	return oneByID(t, "post", id, s.PostsByID)
}

func commentByID(t *testing.T, s community.Store, id string) community.Comment {
	t.Helper()
	return oneByID(t, "comment", id, s.CommentsByID)
}

// oneByID reads one id with a batched read, and fails the test if it is missing; kind
// names what is read.
func oneByID[V any](t *testing.T, kind, id string, read func(context.Context, []string) (map[string]V, error)) V {
	t.Helper()
	got, err := read(context.Background(), []string{id})
	must(t, err)
	v, ok := got[id]
	if !ok {
		t.Fatalf("%s %s is missing", kind, id)
	}
	return v
}

func TestPosts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 2)
	p := newPost(f.public.ID, f.ms[0], 1)
	createPosts(t, s, p)

	t.Run("create refused", func(t *testing.T) {
		taken := newPost(f.public.ID, f.ms[0], 2)
		taken.ID = p.ID
		cases := []struct {
			name string
			post community.Post
			code community.Code
		}{
			{"unknown club", newPost(community.NewID(), f.ms[0], 2), community.CodeNotFound},
			{"unknown author", newPost(f.public.ID, community.NewID(), 2), community.CodeNotFound},
			{"taken id", taken, community.CodeConflict},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, errOf(s.CreatePost(ctx, tc.post)), tc.code) })
		}
	})

	got, err := s.PostsByID(ctx, []string{p.ID, community.NewID()})
	must(t, err)
	p.Version = 1
	diff(t, "PostsByID", map[string]community.Post{p.ID: p}, got)

	in := community.PostInput{Title: "改过的标题", Body: "改过的正文", Tags: []string{"续航"}}
	edited, err := s.EditPost(ctx, p.ID, in, at(5))
	must(t, err)
	want := p
	want.Title, want.Body, want.Tags, want.EditedAt, want.Version = in.Title, in.Body, in.Tags, at(5), 2
	diff(t, "EditPost", want, edited)
	diff(t, "post after EditPost", want, postByID(t, s, p.ID))
	_, err = s.EditPost(ctx, community.NewID(), in, at(5))
	wantCode(t, err, community.CodeNotFound)

	deleted, err := s.DeletePost(ctx, p.ID, at(6))
	must(t, err)
	want.Status, want.DeletedAt, want.Version = community.PostDeleted, at(6), 3
	diff(t, "DeletePost", want, deleted)
	again, err := s.DeletePost(ctx, p.ID, at(7))
	must(t, err)
	diff(t, "DeletePost again", want, again)
	diff(t, "deleted post by id", want, postByID(t, s, p.ID))
	_, err = s.EditPost(ctx, p.ID, in, at(8))
	wantCode(t, err, community.CodeNotFound)
	_, err = s.DeletePost(ctx, community.NewID(), at(8))
	wantCode(t, err, community.CodeNotFound)
	list, more, err := community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortNew, First: 10}, nil)
	must(t, err)
	if len(list) != 0 || more {
		t.Errorf("ClubPosts lists a deleted post: %v, more %v", list, more)
	}
}

// newOrder orders posts newest first, then by id: NEW.
func newOrder(a, b community.Post) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func topOrder(a, b community.Post) int {
	if c := cmp.Compare(b.Engagement(), a.Engagement()); c != 0 {
		return c
	}
	return newOrder(a, b)
}

// walkPosts reads a club's whole list, size posts a page.
func walkPosts(t *testing.T, s community.Store, clubID string, q community.PostQuery) []community.Post {
	t.Helper()
	var out []community.Post
	var after *community.PostPosition
	for range 1000 {
		got, more, err := community.ClubPostsOf(context.Background(), s, clubID, q, after)
		must(t, err)
		if len(got) > q.First {
			t.Fatalf("page of %d has %d posts", q.First, len(got))
		}
		out = append(out, got...)
		if !more {
			return out
		}
		last := got[len(got)-1]
		after = &community.PostPosition{CreatedAt: last.CreatedAt, ID: last.ID}
		if q.Sort == community.SortTop {
			after.Score = float64(last.Engagement())
		}
	}
	t.Fatal("the pages never end")
	return nil
}

func TestClubPosts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 3)
	var posts []community.Post
	for i := range 23 {
		p := newPost(f.public.ID, f.ms[i%3], i/3) // three posts a minute: ties on time
		posts = append(posts, p)
	}
	createPosts(t, s, posts...)
	createPosts(t, s, newPost(f.private.ID, f.ms[0], 3))
	gone := posts[4]
	_, err := s.DeletePost(ctx, gone.ID, at(30))
	must(t, err)
	posts = slices.DeleteFunc(posts, func(p community.Post) bool { return p.ID == gone.ID })
	// Engagement: reactions, comments and shares on some posts.
	for i, p := range posts {
		for j := range i % 4 {
			must(t, s.React(ctx, f.ms[j], p.ID, community.ReactionLike, at(40)))
		}
		if i%5 == 0 {
			must(t, s.AddComment(ctx, newComment(p, f.ms[1], "", 41)))
		}
		if i%7 == 0 {
			must(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: f.ms[2], Channel: community.ShareWeibo, At: at(42)}))
		}
	}
	fresh, err := s.PostsByID(ctx, ids(posts))
	must(t, err)
	for i, p := range posts {
		posts[i] = fresh[p.ID]
	}

	wantNew := slices.SortedFunc(slices.Values(posts), newOrder)
	wantTop := slices.SortedFunc(slices.Values(posts), topOrder)
	for _, size := range []int{1, 2, 5, 100} {
		t.Run(fmt.Sprint("NEW by ", size), func(t *testing.T) {
			diff(t, "NEW", wantNew, walkPosts(t, s, f.public.ID, community.PostQuery{Sort: community.SortNew, First: size}))
		})
		t.Run(fmt.Sprint("TOP by ", size), func(t *testing.T) {
			diff(t, "TOP", wantTop, walkPosts(t, s, f.public.ID, community.PostQuery{Sort: community.SortTop, First: size}))
		})
	}
	t.Run("TOP since", func(t *testing.T) {
		want := slices.DeleteFunc(slices.Clone(wantTop), func(p community.Post) bool { return p.CreatedAt.Before(at(4)) })
		diff(t, "TOP since minute 4", want, walkPosts(t, s, f.public.ID, community.PostQuery{Sort: community.SortTop, First: 3, Since: at(4)}))
	})
	t.Run("first 0", func(t *testing.T) {
		got, more, err := community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortNew}, nil)
		must(t, err)
		if len(got) != 0 || !more {
			t.Errorf("first 0: %d posts, more %v; want none and true", len(got), more)
		}
	})
	t.Run("unknown club", func(t *testing.T) {
		got, more, err := community.ClubPostsOf(ctx, s, community.NewID(), community.PostQuery{Sort: community.SortNew, First: 5}, nil)
		must(t, err)
		if len(got) != 0 || more {
			t.Errorf("unknown club: %d posts, more %v", len(got), more)
		}
	})
	t.Run("RecentPostCounts", func(t *testing.T) {
		countsOf := func(posts []community.Post) []community.PostCounts {
			out := make([]community.PostCounts, len(posts))
			for i, p := range posts {
				out[i] = community.PostCounts{ID: p.ID, CreatedAt: p.CreatedAt, Reactions: p.ReactionTotal(), Comments: p.CommentCount, Shares: p.ShareCount()}
			}
			return out
		}
		recent := func(since time.Time, limit int) ([]community.PostCounts, error) {
			counts, err := s.RecentPostCounts(ctx, []string{f.public.ID}, since, limit)
			return counts[f.public.ID], err
		}
		got, err := recent(at(3), 4)
		must(t, err)
		diff(t, "4 newest", countsOf(wantNew[:4]), got)
		got, err = recent(at(6), 100)
		must(t, err)
		want := slices.DeleteFunc(slices.Clone(wantNew), func(p community.Post) bool { return p.CreatedAt.Before(at(6)) })
		diff(t, "since minute 6", countsOf(want), got)
		got, err = recent(time.Time{}, 1000)
		must(t, err)
		diff(t, "all", countsOf(wantNew), got)
	})
}

func ids(posts []community.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.ID
	}
	return out
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 3)
	p, other := newPost(f.public.ID, f.ms[0], 1), newPost(f.public.ID, f.ms[0], 1)
	createPosts(t, s, p, other)
	c1, c2 := newComment(p, f.ms[1], "", 2), newComment(p, f.ms[2], "", 2)
	must(t, s.AddComment(ctx, c1))
	must(t, s.AddComment(ctx, c2))
	r1, r2 := newComment(p, f.ms[0], c1.ID, 3), newComment(p, f.ms[2], c1.ID, 4)
	must(t, s.AddComment(ctx, r1))
	must(t, s.AddComment(ctx, r2))
	onOther := newComment(other, f.ms[1], "", 2)
	must(t, s.AddComment(ctx, onOther))

	t.Run("add refused", func(t *testing.T) {
		taken := newComment(p, f.ms[1], "", 5)
		taken.ID = c1.ID
		cases := []struct {
			name    string
			comment community.Comment
			code    community.Code
		}{
			{"unknown post", newComment(newPost(f.public.ID, f.ms[0], 1), f.ms[1], "", 5), community.CodeNotFound},
			{"unknown author", newComment(p, community.NewID(), "", 5), community.CodeNotFound},
			{"unknown parent", newComment(p, f.ms[1], community.NewID(), 5), community.CodeNotFound},
			{"parent of another post", newComment(p, f.ms[1], onOther.ID, 5), community.CodeNotFound},
			{"parent is the post", newComment(p, f.ms[1], p.ID, 5), community.CodeNotFound},
			{"taken id", taken, community.CodeConflict},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, s.AddComment(ctx, tc.comment), tc.code) })
		}
	})

	if got := postByID(t, s, p.ID).CommentCount; got != 4 {
		t.Errorf("CommentCount = %d, want 4", got)
	}
	c1.ReplyCount = 2
	got, err := s.CommentsByID(ctx, []string{c1.ID, r1.ID, community.NewID()})
	must(t, err)
	diff(t, "CommentsByID", map[string]community.Comment{c1.ID: c1, r1.ID: r1}, got)

	edited, err := s.EditComment(ctx, r1.ID, "改过了", at(6))
	must(t, err)
	r1.Body, r1.EditedAt = "改过了", at(6)
	diff(t, "EditComment", r1, edited)

	gone, err := s.DeleteComment(ctx, r1.ID, at(7))
	must(t, err)
	r1.DeletedAt = at(7)
	diff(t, "DeleteComment keeps the body", r1, gone)
	again, err := s.DeleteComment(ctx, r1.ID, at(8))
	must(t, err)
	diff(t, "DeleteComment again", r1, again)
	_, err = s.EditComment(ctx, r1.ID, "再改", at(9))
	wantCode(t, err, community.CodeNotFound)
	_, err = s.DeleteComment(ctx, community.NewID(), at(9))
	wantCode(t, err, community.CodeNotFound)
	if got := postByID(t, s, p.ID).CommentCount; got != 3 {
		t.Errorf("CommentCount after deleting a reply twice = %d, want 3", got)
	}
	c1.ReplyCount = 1
	diff(t, "parent after deleting a reply twice", c1, commentByID(t, s, c1.ID))

	// Deleting a comment keeps its replies counted on the post.
	_, err = s.DeleteComment(ctx, c1.ID, at(10))
	must(t, err)
	c1.DeletedAt = at(10)
	if got := postByID(t, s, p.ID).CommentCount; got != 2 {
		t.Errorf("CommentCount after deleting a comment with a reply = %d, want 2", got)
	}

	t.Run("pages", func(t *testing.T) {
		all, more, err := s.Comments(ctx, []string{p.ID, c1.ID, c2.ID, other.ID, community.NewID()}, 10, nil)
		must(t, err)
		first, second := c1, c2
		if c2.ID < c1.ID {
			first, second = c2, c1
		}
		diff(t, "Comments", map[string][]community.Comment{p.ID: {first, second}, c1.ID: {r1, r2}, other.ID: {onOther}}, all)
		diff(t, "more", map[string]bool{}, more)

		page, more, err := s.Comments(ctx, []string{p.ID, c1.ID}, 1, nil)
		must(t, err)
		diff(t, "first page", map[string][]community.Comment{p.ID: {first}, c1.ID: {r1}}, page)
		diff(t, "first page more", map[string]bool{p.ID: true, c1.ID: true}, more)
		page, more, err = s.Comments(ctx, []string{c1.ID}, 1, &community.Position{Since: r1.CreatedAt, ID: r1.ID})
		must(t, err)
		diff(t, "second page", map[string][]community.Comment{c1.ID: {r2}}, page)
		diff(t, "second page more", map[string]bool{}, more)
		page, _, err = s.Comments(ctx, []string{p.ID}, 5, &community.Position{Since: first.CreatedAt, ID: first.ID})
		must(t, err)
		diff(t, "after a tie on time", map[string][]community.Comment{p.ID: {second}}, page)
	})

	t.Run("on a deleted post", func(t *testing.T) {
		_, err := s.DeletePost(ctx, other.ID, at(11))
		must(t, err)
		wantCode(t, s.AddComment(ctx, newComment(other, f.ms[1], "", 12)), community.CodeNotFound)
		wantCode(t, s.React(ctx, f.ms[1], onOther.ID, community.ReactionLike, at(12)), community.CodeNotFound)
	})
}

func TestReactionsAndShares(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 3)
	p := newPost(f.public.ID, f.ms[0], 1)
	createPosts(t, s, p)
	c := newComment(p, f.ms[1], "", 2)
	must(t, s.AddComment(ctx, c))

	must(t, s.React(ctx, f.ms[1], p.ID, community.ReactionSupport, at(3)))
	must(t, s.React(ctx, f.ms[1], p.ID, community.ReactionLike, at(3)))
	must(t, s.React(ctx, f.ms[1], p.ID, community.ReactionLike, at(4))) // again: no change
	must(t, s.React(ctx, f.ms[2], p.ID, community.ReactionLike, at(4)))
	must(t, s.React(ctx, f.ms[2], c.ID, community.ReactionFunny, at(4)))
	for _, tc := range []struct {
		name, member, target string
	}{
		{"unknown member", community.NewID(), p.ID},
		{"unknown target", f.ms[1], community.NewID()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, s.React(ctx, tc.member, tc.target, community.ReactionLike, at(5)), community.CodeNotFound)
		})
	}

	got := postByID(t, s, p.ID)
	diff(t, "post reactions", map[community.ReactionKind]int{community.ReactionLike: 2, community.ReactionSupport: 1}, got.Reactions)
	diff(t, "comment reactions", map[community.ReactionKind]int{community.ReactionFunny: 1}, commentByID(t, s, c.ID).Reactions)
	viewer, err := s.ViewerReactions(ctx, f.ms[1], []string{p.ID, c.ID, community.NewID()})
	must(t, err)
	diff(t, "ViewerReactions", map[string][]community.ReactionKind{p.ID: {community.ReactionLike, community.ReactionSupport}}, viewer)

	must(t, s.Unreact(ctx, f.ms[1], p.ID, community.ReactionLike))
	must(t, s.Unreact(ctx, f.ms[1], p.ID, community.ReactionLike))
	must(t, s.Unreact(ctx, f.ms[1], community.NewID(), community.ReactionLike))
	must(t, s.Unreact(ctx, f.ms[2], c.ID, community.ReactionFunny))
	diff(t, "post reactions after unreact", map[community.ReactionKind]int{community.ReactionLike: 1, community.ReactionSupport: 1}, postByID(t, s, p.ID).Reactions)
	if r := commentByID(t, s, c.ID).Reactions; r != nil {
		t.Errorf("comment reactions after unreact = %v, want nil", r)
	}

	for i, ch := range []community.ShareChannel{community.ShareWeChat, community.ShareInApp, community.ShareWeChat} {
		must(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: f.ms[2], Channel: ch, At: at(6 + i)}))
	}
	wantCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: community.NewID(), MemberID: f.ms[2], Channel: community.ShareLink, At: at(9)}), community.CodeNotFound)
	wantCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: community.NewID(), Channel: community.ShareLink, At: at(9)}), community.CodeNotFound)
	got = postByID(t, s, p.ID)
	diff(t, "shares", map[community.ShareChannel]int{community.ShareWeChat: 2, community.ShareInApp: 1}, got.SharesByChannel)
	if e := got.Engagement(); e != 2+2*1+3*3 {
		t.Errorf("Engagement = %d, want 13", e)
	}

	_, err = s.DeletePost(ctx, p.ID, at(10))
	must(t, err)
	wantCode(t, s.React(ctx, f.ms[2], p.ID, community.ReactionLike, at(11)), community.CodeNotFound)
	wantCode(t, s.React(ctx, f.ms[2], c.ID, community.ReactionLike, at(11)), community.CodeNotFound)
	wantCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: f.ms[2], Channel: community.ShareLink, At: at(11)}), community.CodeNotFound)
	must(t, s.Unreact(ctx, f.ms[1], p.ID, community.ReactionSupport))
	diff(t, "reactions of a deleted post after unreact", map[community.ReactionKind]int{community.ReactionLike: 1}, postByID(t, s, p.ID).Reactions)
}

// feedWorld is a small community whose feed every test reads: member 0 is the reader.
type feedWorld struct {
	f      postFixture
	posts  map[string]community.Post
	shares []community.Share
}

// referenceFeed computes a member's whole feed at asOf the slow way, from every post and share.
func (w feedWorld) referenceFeed(t *testing.T, s community.Store, memberID string, asOf time.Time) []community.FeedItem {
	t.Helper()
	ctx := context.Background()
	states, err := s.FollowStates(ctx, memberID, w.f.ms)
	must(t, err)
	keys := []community.ClubMemberKey{{ClubID: w.f.public.ID, MemberID: memberID}, {ClubID: w.f.private.ID, MemberID: memberID}}
	in, err := s.ClubMemberships(ctx, keys)
	must(t, err)
	member := func(clubID string) bool {
		_, ok := in[community.ClubMemberKey{ClubID: clubID, MemberID: memberID}]
		return ok
	}
	follows := func(id string) bool { return id != memberID && states[id].ViewerFollows }
	var out []community.FeedItem
	for _, p := range w.posts {
		if p.Status == community.PostDeleted || p.ClubID == w.f.private.ID && !member(p.ClubID) {
			continue
		}
		var best *community.FeedItem
		if !p.CreatedAt.After(asOf) && (member(p.ClubID) || follows(p.AuthorID)) {
			best = &community.FeedItem{PostID: p.ID, At: p.CreatedAt}
		}
		for _, sh := range w.shares {
			if sh.PostID != p.ID || sh.Channel != community.ShareInApp || sh.At.After(asOf) || !follows(sh.MemberID) {
				continue
			}
			if best == nil || sh.At.After(best.At) || sh.At.Equal(best.At) && (best.SharedBy == "" || sh.MemberID < best.SharedBy) {
				best = &community.FeedItem{PostID: p.ID, At: sh.At, SharedBy: sh.MemberID}
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	}
	slices.SortFunc(out, func(a, b community.FeedItem) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(a.PostID, b.PostID)
	})
	return out
}

func walkFeed(t *testing.T, s community.Store, memberID string, size int, asOf time.Time) []community.FeedItem {
	t.Helper()
	var out []community.FeedItem
	var after *community.FeedPosition
	for range 1000 {
		got, more, err := s.Feed(context.Background(), memberID, size, after, asOf)
		must(t, err)
		if len(got) > size {
			t.Fatalf("page of %d has %d items", size, len(got))
		}
		out = append(out, got...)
		if !more {
			return out
		}
		last := got[len(got)-1]
		after = &community.FeedPosition{At: last.At, PostID: last.PostID}
	}
	t.Fatal("the pages never end")
	return nil
}

func TestFeed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 8)
	w := feedWorld{f: f, posts: map[string]community.Post{}}
	reader := f.ms[0]
	// The reader follows members 1 to 4, is in the private club, not in the public one.
	for _, m := range f.ms[1:5] {
		must(t, s.Follow(ctx, reader, m, at(0)))
	}
	must(t, s.Follow(ctx, f.ms[5], reader, at(0)))
	must(t, s.JoinClub(ctx, membership(f.private.ID, reader, community.RoleMember, 0)))
	for i, m := range f.ms {
		if i%2 == 0 {
			must(t, s.JoinClub(ctx, membership(f.private.ID, m, community.RoleMember, 0)))
		}
	}
	post := func(clubID string, author, minute int) community.Post {
		p := newPost(clubID, f.ms[author], minute)
		createPosts(t, s, p)
		w.posts[p.ID] = p
		return p
	}
	share := func(p community.Post, sharer int, ch community.ShareChannel, minute int) {
		sh := community.Share{ID: community.NewID(), PostID: p.ID, MemberID: f.ms[sharer], Channel: ch, At: at(minute)}
		must(t, s.SharePost(ctx, sh))
		w.shares = append(w.shares, sh)
	}
	var all []community.Post
	for i := range 60 {
		club := f.public.ID
		if i%3 == 0 {
			club = f.private.ID
		}
		author := i % len(f.ms)
		if club == f.private.ID && author%2 == 1 {
			author--
		}
		all = append(all, post(club, author, i/2)) // ties on time
	}
	for i, p := range all {
		switch i % 5 {
		case 0:
			share(p, 1+i%6, community.ShareInApp, 40+i/3)
		case 1:
			share(p, 2, community.ShareInApp, 40+i/3)
			share(p, 3, community.ShareInApp, 40+i/3) // two followed sharers at once
		case 2:
			share(p, 1, community.ShareWeChat, 45)
		case 3:
			share(p, 6, community.ShareInApp, 50) // not followed
		}
	}
	// A share at the very time of the post's creation wins the tie.
	tie := post(f.public.ID, 1, 70)
	share(tie, 2, community.ShareInApp, 70)
	// The reader's own post in a club it is in, and in a club it is not in.
	post(f.private.ID, 0, 71)
	post(f.public.ID, 0, 72)
	gone := post(f.public.ID, 2, 73)
	share(gone, 3, community.ShareInApp, 74) // a share keeps no deleted post in the feed
	_, err := s.DeletePost(ctx, gone.ID, at(75))
	must(t, err)
	p := w.posts[gone.ID]
	p.Status = community.PostDeleted
	w.posts[gone.ID] = p

	for _, asOf := range []time.Time{at(100), at(45), at(20), at(-1)} {
		want := w.referenceFeed(t, s, reader, asOf)
		if asOf.After(at(40)) && len(want) < 20 {
			t.Fatalf("the reference feed is too short to test: %d", len(want))
		}
		for _, size := range []int{1, 3, 7, 100} {
			t.Run(fmt.Sprintf("as of %s by %d", asOf.Format("15:04"), size), func(t *testing.T) {
				diff(t, "feed", want, walkFeed(t, s, reader, size, asOf))
			})
		}
	}
	t.Run("share tie", func(t *testing.T) {
		got, _, err := s.Feed(ctx, reader, 1, nil, at(70))
		must(t, err)
		diff(t, "newest item", []community.FeedItem{{PostID: tie.ID, At: at(70), SharedBy: f.ms[2]}}, got)
	})
	t.Run("a later share moves a post up", func(t *testing.T) {
		old := all[2]
		share(old, 4, community.ShareInApp, 90)
		got, _, err := s.Feed(ctx, reader, 1, nil, at(100))
		must(t, err)
		diff(t, "newest item", []community.FeedItem{{PostID: old.ID, At: at(90), SharedBy: f.ms[4]}}, got)
		diff(t, "whole feed", w.referenceFeed(t, s, reader, at(100)), walkFeed(t, s, reader, 4, at(100)))
	})
	t.Run("others", func(t *testing.T) {
		for _, m := range f.ms[1:] {
			diff(t, "feed of "+m, w.referenceFeed(t, s, m, at(100)), walkFeed(t, s, m, 5, at(100)))
		}
		got, more, err := s.Feed(ctx, community.NewID(), 10, nil, at(100))
		must(t, err)
		if len(got) != 0 || more {
			t.Errorf("feed of an unknown member: %v, more %v", got, more)
		}
	})
}

// postState is everything the PostStore answers about a set of posts.
type postState struct {
	Posts    map[string]community.Post
	Comments map[string]community.Comment
	Pages    map[string][]community.Comment
	Viewer   map[string]map[string][]community.ReactionKind
	New      []community.Post
	Top      []community.Post
	Feeds    map[string][]community.FeedItem
}

func snapshotPosts(t *testing.T, s community.Store, f postFixture, postIDs, commentIDs []string) postState {
	t.Helper()
	ctx := context.Background()
	st := postState{Viewer: map[string]map[string][]community.ReactionKind{}, Feeds: map[string][]community.FeedItem{}}
	var err error
	st.Posts, err = s.PostsByID(ctx, postIDs)
	must(t, err)
	st.Comments, err = s.CommentsByID(ctx, commentIDs)
	must(t, err)
	st.Pages, _, err = s.Comments(ctx, slices.Concat(postIDs, commentIDs), 100, nil)
	must(t, err)
	targets := slices.Concat(postIDs, commentIDs)
	for _, m := range f.ms {
		st.Viewer[m], err = s.ViewerReactions(ctx, m, targets)
		must(t, err)
		st.Feeds[m], _, err = s.Feed(ctx, m, 100, nil, at(1000))
		must(t, err)
	}
	st.New, _, err = community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortNew, First: 100}, nil)
	must(t, err)
	st.Top, _, err = community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortTop, First: 100}, nil)
	must(t, err)
	return st
}

// TestReopenPosts checks that posts, comments, reactions and shares are there, the same,
// with the same counters, after the file is reopened.
func TestReopenPosts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "graph.db")
	s := open(t, path)
	f := newPostFixture(t, s, 4)
	must(t, s.Follow(ctx, f.ms[0], f.ms[1], at(0)))
	must(t, s.JoinClub(ctx, membership(f.private.ID, f.ms[0], community.RoleMember, 0)))
	var postIDs, commentIDs []string
	var posts []community.Post
	for i := range 6 {
		club := f.public.ID
		if i == 5 {
			club = f.private.ID
		}
		p := newPost(club, f.ms[1+i%3], i)
		if i == 2 {
			p.Tags = nil
		}
		createPosts(t, s, p)
		posts = append(posts, p)
		postIDs = append(postIDs, p.ID)
	}
	_, err := s.EditPost(ctx, posts[1].ID, community.PostInput{Title: "新标题", Body: "新正文"}, at(10))
	must(t, err)
	_, err = s.DeletePost(ctx, posts[3].ID, at(11))
	must(t, err)
	c := newComment(posts[0], f.ms[2], "", 12)
	must(t, s.AddComment(ctx, c))
	reply := newComment(posts[0], f.ms[3], c.ID, 13)
	must(t, s.AddComment(ctx, reply))
	deleted := newComment(posts[0], f.ms[3], c.ID, 14)
	must(t, s.AddComment(ctx, deleted))
	_, err = s.DeleteComment(ctx, deleted.ID, at(15))
	must(t, err)
	_, err = s.EditComment(ctx, reply.ID, "改", at(16))
	must(t, err)
	commentIDs = []string{c.ID, reply.ID, deleted.ID}
	for i, m := range f.ms {
		must(t, s.React(ctx, m, posts[i%3].ID, community.ReactionKinds[i%4], at(17)))
		must(t, s.React(ctx, m, reply.ID, community.ReactionInsightful, at(17)))
	}
	must(t, s.Unreact(ctx, f.ms[3], reply.ID, community.ReactionInsightful))
	must(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: posts[2].ID, MemberID: f.ms[1], Channel: community.ShareInApp, At: at(18)}))
	must(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: posts[2].ID, MemberID: f.ms[1], Channel: community.ShareMoments, At: at(19)}))

	before := snapshotPosts(t, s, f, postIDs, commentIDs)
	if len(before.Feeds[f.ms[0]]) == 0 || before.Posts[posts[0].ID].CommentCount != 2 || len(before.Pages[c.ID]) != 2 || before.Posts[posts[0].ID].Version < 5 {
		t.Fatalf("the populated posts lack something to compare: %+v", before)
	}
	// The outbox and the versions are kept too: an event acknowledged before closing stays
	// gone, the others stay pending with their tokens.
	events, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	must(t, err)
	if len(events) != len(posts) {
		t.Fatalf("%d pending events for %d written posts", len(events), len(posts))
	}
	must(t, s.AckEvents(ctx, community.ConsumerSearch, events[:1]))
	events = events[1:]
	backlog, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
	must(t, err)
	must(t, s.Close())
	s = open(t, path)
	defer s.Close()
	diff(t, "posts after reopening", before, snapshotPosts(t, s, f, postIDs, commentIDs))
	eventsAfter, err := s.PendingEvents(ctx, community.ConsumerSearch, 100)
	must(t, err)
	diff(t, "pending events after reopening", events, eventsAfter)
	backlogAfter, err := s.OutboxBacklog(ctx, community.ConsumerSearch)
	must(t, err)
	diff(t, "backlog after reopening", backlog, backlogAfter)

	// What is stored still constrains writes.
	wantCode(t, errOf(s.CreatePost(ctx, posts[0])), community.CodeConflict)
	must(t, s.React(ctx, f.ms[0], posts[0].ID, community.ReactionKinds[0], at(20)))
	if got := postByID(t, s, posts[0].ID).Reactions[community.ReactionKinds[0]]; got != 1 {
		t.Errorf("reacting again after reopening counted: %d", got)
	}
	_, err = s.EditComment(ctx, deleted.ID, "x", at(21))
	wantCode(t, err, community.CodeNotFound)
}

// TestConcurrentPostWrites reacts, comments and shares at the same time, and checks that
// every write is counted once.
func TestConcurrentPostWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 30)
	p := newPost(f.public.ID, f.ms[0], 0)
	createPosts(t, s, p)
	errs := make(chan error, 5*len(f.ms))
	var wg sync.WaitGroup
	for i, m := range f.ms {
		wg.Go(func() { errs <- s.React(ctx, m, p.ID, community.ReactionLike, at(i)) })
		wg.Go(func() { errs <- s.React(ctx, m, p.ID, community.ReactionLike, at(i)) })
		wg.Go(func() { errs <- s.AddComment(ctx, newComment(p, m, "", i)) })
		wg.Go(func() {
			errs <- s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: m, Channel: community.ShareInApp, At: at(i)})
		})
		wg.Go(func() { _, _, err := s.Feed(ctx, m, 5, nil, at(100)); errs <- err })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	got := postByID(t, s, p.ID)
	n := len(f.ms)
	if got.ReactionTotal() != n || got.CommentCount != n || got.ShareCount() != n {
		t.Errorf("counters after concurrent writes: %d reactions, %d comments, %d shares; want %d each", got.ReactionTotal(), got.CommentCount, got.ShareCount(), n)
	}
}

// errOf is the error of a call that also returns a value the caller does not need.
func errOf[T any](_ T, err error) error { return err }
