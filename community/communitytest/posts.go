package communitytest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"quanzi/community"
)

// testPostStore runs the contract of community.PostStore, each part on a fresh store.
func testPostStore(t *testing.T, newStore NewStore) {
	t.Run("Posts", func(t *testing.T) { testPosts(t, newStore(t)) })
	t.Run("CreateReturnsStored", func(t *testing.T) { testCreateReturnsStored(t, newStore(t)) })
	t.Run("ClubPosts", func(t *testing.T) { testClubPosts(t, newStore(t)) })
	t.Run("Comments", func(t *testing.T) { testComments(t, newStore(t)) })
	t.Run("Reactions", func(t *testing.T) { testReactions(t, newStore(t)) })
	t.Run("Shares", func(t *testing.T) { testShares(t, newStore(t)) })
	t.Run("Engagement", func(t *testing.T) { testEngagement(t, newStore(t)) })
	t.Run("Feed", func(t *testing.T) { testFeed(t, newStore(t)) })
	t.Run("Listed", func(t *testing.T) { testListed(t, newStore(t)) })
	t.Run("ShareTime", func(t *testing.T) { testShareTime(t, newStore(t)) })
	t.Run("KindsAndChannels", func(t *testing.T) { testKindsAndChannels(t, newStore(t)) })
	t.Run("ConcurrentPostWrites", func(t *testing.T) { testConcurrentPostWrites(t, newStore(t)) })
}

// lastID sorts after every id NewID makes: a position with it comes after every item of
// its time.
const lastID = "ffffffff-ffff-ffff-ffff-ffffffffffff"

// newPost is a published post of a member in a club, created at minute n, with no
// reactions, comments or shares yet.
func newPost(clubID, authorID string, n int) community.Post {
	return community.Post{
		ID: community.NewID(), ClubID: clubID, AuthorID: authorID,
		Title: fmt.Sprintf("第 %d 分钟：周末莫干山自驾", n), Body: "有人一起吗？充电桩在山脚。",
		Tags: []string{"自驾", "ev"}, CreatedAt: at(n), Status: community.PostPublished,
	}
}

// newComment is a member's comment on a post at minute n: top-level when parentID is "",
// else a reply to that comment.
func newComment(postID, parentID, authorID string, n int) community.Comment {
	return community.Comment{
		ID: community.NewID(), PostID: postID, ParentID: parentID, AuthorID: authorID,
		Body: fmt.Sprintf("第 %d 分钟的评论：算我一个", n), CreatedAt: at(n),
	}
}

// counts drops the zero counts of a counter map, and answers nil when none is left: the
// docs say that a kind or channel absent from a post's or comment's counters has none, so a
// store may keep a zero or leave the key out, and answer no counts as a nil or an empty map.
func counts[K comparable](m map[K]int) map[K]int {
	var out map[K]int
	for k, n := range m {
		if n != 0 {
			if out == nil {
				out = map[K]int{}
			}
			out[k] = n
		}
	}
	return out
}

// storedCmp compares posts, comments and lists of them as the docs define them:
//   - counter maps through counts (a zero count is no count; nil and empty maps alike);
//   - a deleted post without its title, body and tags: the docs make it a tombstone that
//     reads with none of them, and the service clears them whatever the store keeps, so
//     the store may keep or drop them;
//   - versions are left out: the outbox part of the suite checks them;
//   - an empty list (of tags, posts, comments, feed items) is nil or empty alike.
var storedCmp = cmp.Options{
	cmp.Transformer("post", func(p community.Post) community.Post {
		if p.Status == community.PostDeleted {
			p.Title, p.Body, p.Tags = "", "", nil
		}
		p.Reactions, p.SharesByChannel = counts(p.Reactions), counts(p.SharesByChannel)
		p.Version = 0 // the outbox part of the suite checks versions
		return p
	}),
	cmp.Transformer("comment", func(c community.Comment) community.Comment {
		c.Reactions = counts(c.Reactions)
		return c
	}),
	equateEmpty,
}

// reaction is one member's reaction of one kind to one post or comment.
type reaction struct {
	memberID, targetID string
	kind               community.ReactionKind
}

// board is what the suite expects a store to hold about posts and comments. The suite
// writes through it, and it keeps every post's and comment's counters as the PostStore
// docs define them, so that each check compares whole stored values.
type board struct {
	s         community.Store
	posts     map[string]community.Post
	comments  map[string]community.Comment
	reactions map[reaction]bool
}

func newBoard(s community.Store) *board {
	return &board{s: s, posts: map[string]community.Post{}, comments: map[string]community.Comment{}, reactions: map[reaction]bool{}}
}

// bump returns a copy of a counter map with k changed by d (the copy keeps values the
// suite saw earlier unchanged).
func bump[K comparable](m map[K]int, k K, d int) map[K]int {
	out := maps.Clone(m)
	if out == nil {
		out = map[K]int{}
	}
	out[k] += d
	if out[k] == 0 {
		delete(out, k)
	}
	return out
}

func (b *board) addPost(t *testing.T, p community.Post) community.Post {
	t.Helper()
	must(t, errOf(b.s.CreatePost(context.Background(), p)))
	b.posts[p.ID] = p
	return p
}

// addPosts stores posts of a club, one created at each of the minutes given.
func (b *board) addPosts(t *testing.T, clubID, authorID string, minutes ...int) []community.Post {
	t.Helper()
	out := make([]community.Post, len(minutes))
	for i, n := range minutes {
		out[i] = b.addPost(t, newPost(clubID, authorID, n))
	}
	return out
}

func (b *board) editPost(t *testing.T, postID string, in community.PostInput, n int) {
	t.Helper()
	got, err := b.s.EditPost(context.Background(), postID, in, at(n))
	must(t, err)
	p := b.posts[postID]
	p.Title, p.Body, p.Tags, p.EditedAt = in.Title, in.Body, in.Tags, at(n)
	b.posts[postID] = p
	if diff := cmp.Diff(p, got, storedCmp); diff != "" {
		t.Errorf("EditPost returned (-want +got):\n%s", diff)
	}
}

// deletePost deletes a post at minute n; deleting again keeps the first time.
func (b *board) deletePost(t *testing.T, postID string, n int) {
	t.Helper()
	got, err := b.s.DeletePost(context.Background(), postID, at(n))
	must(t, err)
	p := b.posts[postID]
	if p.Status != community.PostDeleted {
		p.Status, p.DeletedAt = community.PostDeleted, at(n)
		b.posts[postID] = p
	}
	if diff := cmp.Diff(p, got, storedCmp); diff != "" {
		t.Errorf("DeletePost returned (-want +got):\n%s", diff)
	}
}

// count changes the counters a comment is on: its post's CommentCount and its parent's
// ReplyCount.
func (b *board) count(c community.Comment, d int) {
	p := b.posts[c.PostID]
	p.CommentCount += d
	b.posts[p.ID] = p
	if c.ParentID != "" {
		parent := b.comments[c.ParentID]
		parent.ReplyCount += d
		b.comments[parent.ID] = parent
	}
}

func (b *board) addComment(t *testing.T, c community.Comment) community.Comment {
	t.Helper()
	must(t, b.s.AddComment(context.Background(), c))
	b.comments[c.ID] = c
	b.count(c, 1)
	return c
}

func (b *board) editComment(t *testing.T, commentID, body string, n int) {
	t.Helper()
	got, err := b.s.EditComment(context.Background(), commentID, body, at(n))
	must(t, err)
	c := b.comments[commentID]
	c.Body, c.EditedAt = body, at(n)
	b.comments[commentID] = c
	if diff := cmp.Diff(c, got, storedCmp); diff != "" {
		t.Errorf("EditComment returned (-want +got):\n%s", diff)
	}
}

// deleteComment deletes a comment at minute n; deleting again keeps the first time and
// counts nothing. The store keeps the body: the docs leave hiding it to the service.
func (b *board) deleteComment(t *testing.T, commentID string, n int) {
	t.Helper()
	got, err := b.s.DeleteComment(context.Background(), commentID, at(n))
	must(t, err)
	c := b.comments[commentID]
	if c.DeletedAt.IsZero() {
		c.DeletedAt = at(n)
		b.comments[commentID] = c
		b.count(c, -1)
	}
	if diff := cmp.Diff(b.comments[commentID], got, storedCmp); diff != "" {
		t.Errorf("DeleteComment returned (-want +got):\n%s", diff)
	}
}

// countReaction changes a post's or a comment's count of a kind.
func (b *board) countReaction(targetID string, kind community.ReactionKind, d int) {
	if p, ok := b.posts[targetID]; ok {
		p.Reactions = bump(p.Reactions, kind, d)
		b.posts[targetID] = p
		return
	}
	c := b.comments[targetID]
	c.Reactions = bump(c.Reactions, kind, d)
	b.comments[targetID] = c
}

func (b *board) react(t *testing.T, memberID, targetID string, kind community.ReactionKind, n int) {
	t.Helper()
	must(t, b.s.React(context.Background(), memberID, targetID, kind, at(n)))
	if r := (reaction{memberID, targetID, kind}); !b.reactions[r] {
		b.reactions[r] = true
		b.countReaction(targetID, kind, 1)
	}
}

func (b *board) unreact(t *testing.T, memberID, targetID string, kind community.ReactionKind) {
	t.Helper()
	must(t, b.s.Unreact(context.Background(), memberID, targetID, kind))
	if r := (reaction{memberID, targetID, kind}); b.reactions[r] {
		delete(b.reactions, r)
		b.countReaction(targetID, kind, -1)
	}
}

func (b *board) share(t *testing.T, memberID, postID string, channel community.ShareChannel, n int) {
	t.Helper()
	must(t, b.s.SharePost(context.Background(), community.Share{ID: community.NewID(), PostID: postID, MemberID: memberID, Channel: channel, At: at(n)}))
	p := b.posts[postID]
	p.SharesByChannel = bump(p.SharesByChannel, channel, 1)
	b.posts[postID] = p
}

// viewerReactions is what ViewerReactions should answer: the kinds in ReactionKinds order,
// no key for a target without any.
func (b *board) viewerReactions(memberID string, targetIDs []string) map[string][]community.ReactionKind {
	out := map[string][]community.ReactionKind{}
	for _, id := range targetIDs {
		for _, k := range community.ReactionKinds {
			if b.reactions[reaction{memberID, id, k}] {
				out[id] = append(out[id], k)
			}
		}
	}
	return out
}

// check compares every post and comment the board knows, and the ids of others that must
// be absent (refused writes), with what the store holds.
func (b *board) check(t *testing.T, absent ...string) {
	t.Helper()
	ids := append(slices.Collect(maps.Keys(b.posts)), community.NewID())
	checkPosts(t, b.s, append(ids, absent...), b.posts)
	ids = append(slices.Collect(maps.Keys(b.comments)), community.NewID())
	checkComments(t, b.s, append(ids, absent...), b.comments)
}

func checkPosts(t *testing.T, s community.Store, ids []string, want map[string]community.Post) {
	t.Helper()
	got, err := s.PostsByID(context.Background(), ids)
	checkRead(t, "PostsByID", want, got, err, storedCmp)
}

func checkComments(t *testing.T, s community.Store, ids []string, want map[string]community.Comment) {
	t.Helper()
	got, err := s.CommentsByID(context.Background(), ids)
	checkRead(t, "CommentsByID", want, got, err, storedCmp)
}

func checkViewerReactions(t *testing.T, b *board, memberID string, targetIDs []string) {
	t.Helper()
	got, err := b.s.ViewerReactions(context.Background(), memberID, targetIDs)
	must(t, err)
	if diff := cmp.Diff(b.viewerReactions(memberID, targetIDs), nonEmpty(got)); diff != "" {
		t.Errorf("ViewerReactions (-want +got):\n%s", diff)
	}
}

// listPage reads one page of a list: up to first items after a position (nil for the
// start), and whether more follow.
type listPage[T, P any] func(first int, after *P) ([]T, bool, error)

// named is a position to page after, named for a subtest.
type named[P any] struct {
	name string
	pos  P
}

// checkList checks a list whose whole content, in list order, is want: walked with pages of
// every size from 1 to one more than its length, each page and its more flag compared with
// the part of want it should hold; the page of first=0; and the rest of the list after each
// of the positions given, which need not be the position of an item of the list. order
// compares two positions in list order.
func checkList[T, P any](t *testing.T, want []T, pos func(T) P, order func(a, b P) int, afters []named[P], page listPage[T, P]) {
	t.Helper()
	for i := 1; i < len(want); i++ {
		if order(pos(want[i-1]), pos(want[i])) >= 0 {
			t.Fatalf("the suite's expected list is out of order at item %d", i)
		}
	}
	walkPages(t, want, pos, storedCmp, page)
	before := func(a, b P) bool { return order(a, b) < 0 }
	checkRest(t, want, pos, before, afters, storedCmp, page)
}

// walkPages walks a list whose whole content, in list order, is want, with pages of every
// size from 1 to one more than its length, and compares each page, and whether more follow
// it, with the part of want it should hold (under opt); then checks the page of first=0.
func walkPages[T, P any](t *testing.T, want []T, pos func(T) P, opt cmp.Option, page listPage[T, P]) {
	t.Helper()
	for size := 1; size <= len(want)+1; size++ {
		t.Run(fmt.Sprintf("first=%d", size), func(t *testing.T) {
			var after *P
			for start := 0; ; start += size {
				end := min(start+size, len(want))
				got, more, err := page(size, after)
				must(t, err)
				if diff := cmp.Diff(want[start:end], got, opt); diff != "" {
					t.Fatalf("page from item %d (-want +got):\n%s", start, diff)
				}
				if more != (end < len(want)) {
					t.Fatalf("page from item %d: more = %v, want %v", start, more, end < len(want))
				}
				if end == len(want) {
					return
				}
				p := pos(want[end-1])
				after = &p
			}
		})
	}
	t.Run("first=0", func(t *testing.T) {
		got, more, err := page(0, nil)
		must(t, err)
		if len(got) != 0 || more != (len(want) > 0) {
			t.Errorf("%d items, more = %v; want none, more = %v", len(got), more, len(want) > 0)
		}
	})
}

// checkRest reads the page after each named position, large enough for the rest of the
// list, and compares it (under opt) with the items of want that come strictly after the
// position; before tells whether a position comes before another in list order.
func checkRest[T, P any](t *testing.T, want []T, pos func(T) P, before func(a, b P) bool, afters []named[P], opt cmp.Option, page listPage[T, P]) {
	t.Helper()
	for _, np := range afters {
		t.Run("after "+np.name, func(t *testing.T) {
			var rest []T
			for _, x := range want {
				if before(np.pos, pos(x)) {
					rest = append(rest, x)
				}
			}
			after := np.pos
			got, more, err := page(community.MaxPageSize, &after)
			must(t, err)
			if diff := cmp.Diff(rest, got, opt); diff != "" || more {
				t.Errorf("more = %v (-want +got):\n%s", more, diff)
			}
		})
	}
}

// postPosition returns the position of a post in a club's list of the sort: its
// Engagement for TOP, 0 for NEW.
func postPosition(sort community.PostSort) func(community.Post) community.PostPosition {
	return func(p community.Post) community.PostPosition {
		pos := community.PostPosition{CreatedAt: p.CreatedAt, ID: p.ID}
		if sort == community.SortTop {
			pos.Score = float64(p.Engagement())
		}
		return pos
	}
}

// postOrder compares post positions in list order: Score descending, then CreatedAt
// descending, then ID ascending.
func postOrder(a, b community.PostPosition) int {
	switch {
	case a.Score > b.Score:
		return -1
	case a.Score < b.Score:
		return 1
	case !a.CreatedAt.Equal(b.CreatedAt):
		return b.CreatedAt.Compare(a.CreatedAt)
	}
	return strings.Compare(a.ID, b.ID)
}

// clubList is the whole of a club's list of the sort, as ClubPosts should page through
// it: the club's listed posts (for TOP, those created at or after since).
func (b *board) clubList(clubID string, sort community.PostSort, since int) []community.Post {
	var out []community.Post
	for _, p := range b.posts {
		if p.ClubID != clubID || !p.Listed() || sort == community.SortTop && p.CreatedAt.Before(at(since)) {
			continue
		}
		out = append(out, p)
	}
	pos := postPosition(sort)
	slices.SortFunc(out, func(x, y community.Post) int { return postOrder(pos(x), pos(y)) })
	return out
}

// checkClubPosts checks the first page of a club's list of the sort, as large as a page may
// be, against the board: all of the list, with no more to follow.
func (b *board) checkClubPosts(t *testing.T, clubID string, sort community.PostSort) {
	t.Helper()
	got, more, err := community.ClubPostsOf(context.Background(), b.s, clubID, community.PostQuery{Sort: sort, First: community.MaxPageSize}, nil)
	must(t, err)
	if diff := cmp.Diff(b.clubList(clubID, sort, 0), got, storedCmp); diff != "" || more {
		t.Errorf("ClubPosts %s: more = %v (-want +got):\n%s", sort, more, diff)
	}
}

// checkRecentCounts checks the RecentPostCounts of a club since the suite's first minute
// against the board: the counts of the club's listed posts, in NEW order.
func (b *board) checkRecentCounts(t *testing.T, clubID string) {
	t.Helper()
	var want []community.PostCounts
	for _, p := range b.clubList(clubID, community.SortNew, 0) {
		want = append(want, p.Counts())
	}
	got, err := recentCounts(context.Background(), b.s, clubID, at(0), community.HotCandidates)
	checkRead(t, "RecentPostCounts", want, got, err, equateEmpty)
}

// recentCounts is RecentPostCounts of one club.
func recentCounts(ctx context.Context, s community.PostStore, clubID string, since time.Time, limit int) ([]community.PostCounts, error) {
	counts, err := s.RecentPostCounts(ctx, []string{clubID}, since, limit)
	return counts[clubID], err
}

func clubPager(s community.Store, clubID string, q community.PostQuery) listPage[community.Post, community.PostPosition] {
	return func(first int, after *community.PostPosition) ([]community.Post, bool, error) {
		q.First = first
		return community.ClubPostsOf(context.Background(), s, clubID, q, after)
	}
}

// commentPosition is the position Comments pages after: Since is the comment's CreatedAt,
// MemberID its id.
func commentPosition(c community.Comment) community.Position {
	return community.Position{Since: c.CreatedAt, ID: c.ID}
}

// commentOrder compares comment positions in list order: oldest first, then id ascending.
func commentOrder(a, b community.Position) int {
	if c := a.Since.Compare(b.Since); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// commentList is the whole list of a parent's comments: a post's top-level comments, or
// a comment's replies, deleted ones included, oldest first.
func (b *board) commentList(parent string) []community.Comment {
	var out []community.Comment
	for _, c := range b.comments {
		if c.ParentID == parent || c.ParentID == "" && c.PostID == parent {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y community.Comment) int { return commentOrder(commentPosition(x), commentPosition(y)) })
	return out
}

func commentPager(s community.Store, parent string) listPage[community.Comment, community.Position] {
	return func(first int, after *community.Position) ([]community.Comment, bool, error) {
		got, more, err := s.Comments(context.Background(), []string{parent}, first, after)
		return got[parent], more[parent], err
	}
}

// testCreateReturnsStored checks that CreatePost returns the post as the store keeps it,
// its version included, as PostsByID reads it back.
func testCreateReturnsStored(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "li_hua")
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	p := newPost(club.ID, ms[0].ID, 1)
	made, err := s.CreatePost(ctx, p)
	must(t, err)
	found, err := s.PostsByID(ctx, []string{p.ID})
	must(t, err)
	if diff := cmp.Diff(found[p.ID], made, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("CreatePost returned what PostsByID does not read back (-read +returned):\n%s", diff)
	}
	if made.Version < 1 || made.ID != p.ID || made.Title != p.Title {
		t.Errorf("CreatePost returned %+v", made)
	}
}

func testPosts(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "li_hua", "wang_fang")
	lihua, wang := ms[0].ID, ms[1].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)

	first := newPost(club.ID, lihua, 1)
	untagged := newPost(club.ID, wang, 2)
	untagged.Tags = nil
	b.addPost(t, first)
	b.addPost(t, untagged)
	b.check(t)
	checkPosts(t, s, nil, map[string]community.Post{})

	t.Run("refused create stores nothing", func(t *testing.T) {
		cases := []struct {
			name string
			post community.Post
		}{
			{"unknown club", newPost(community.NewID(), lihua, 3)},
			{"unknown author", newPost(club.ID, community.NewID(), 3)},
			{"unknown club and author", newPost(community.NewID(), community.NewID(), 3)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, errOf(s.CreatePost(ctx, tc.post)), community.CodeNotFound)
				b.check(t, tc.post.ID)
				b.checkClubPosts(t, club.ID, community.SortNew)
			})
		}
	})

	// Counters are not the content: editing and deleting keep them.
	b.react(t, wang, first.ID, community.ReactionLike, 4)
	b.addComment(t, newComment(first.ID, "", wang, 4))
	b.share(t, wang, first.ID, community.ShareWeChat, 4)
	b.check(t)

	t.Run("EditPost", func(t *testing.T) {
		steps := []struct {
			name string
			in   community.PostInput
			n    int
		}{
			{"title and body", community.PostInput{Title: "莫干山自驾（已满）", Body: "人满了，下次再约。", Tags: first.Tags}, 10},
			{"tags replaced", community.PostInput{Title: "莫干山自驾（已满）", Body: "人满了，下次再约。", Tags: []string{"换电"}}, 11},
			{"tags cleared, edited again", community.PostInput{Title: "莫干山自驾", Body: "改期到下周六。"}, 12},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				b.editPost(t, first.ID, st.in, st.n)
				b.check(t)
			})
		}
		t.Run("unknown post", func(t *testing.T) {
			unknown := community.NewID()
			_, err := s.EditPost(ctx, unknown, community.PostInput{Title: "无", Body: "无"}, at(13))
			wantCode(t, err, community.CodeNotFound)
			b.check(t, unknown)
		})
	})

	t.Run("DeletePost", func(t *testing.T) {
		b.deletePost(t, first.ID, 20)
		b.check(t)
		t.Run("again", func(t *testing.T) {
			b.deletePost(t, first.ID, 21)
			b.check(t)
		})
		t.Run("edit a deleted post", func(t *testing.T) {
			_, err := s.EditPost(ctx, first.ID, community.PostInput{Title: "复活", Body: "复活"}, at(22))
			wantCode(t, err, community.CodeNotFound)
			b.check(t)
		})
		t.Run("unknown post", func(t *testing.T) {
			unknown := community.NewID()
			_, err := s.DeletePost(ctx, unknown, at(23))
			wantCode(t, err, community.CodeNotFound)
			b.check(t, unknown)
		})
		// The other post is untouched, and is the club's only published one.
		got, more, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: community.MaxPageSize}, nil)
		must(t, err)
		if diff := cmp.Diff([]community.Post{b.posts[untagged.ID]}, got, storedCmp); diff != "" || more {
			t.Errorf("ClubPosts after delete: more = %v (-want +got):\n%s", more, diff)
		}
	})
}

// engage gives a post, at minute n, reactions by the first few members (member i reacts
// with ReactionKinds[i]), comments (the first top-level, the rest replies to it: both count)
// and shares (member i on ShareChannels[i]).
func (b *board) engage(t *testing.T, p community.Post, members []string, reactions, comments, shares, n int) {
	t.Helper()
	for i := range reactions {
		b.react(t, members[i], p.ID, community.ReactionKinds[i], n)
	}
	var top string
	for i := range comments {
		c := b.addComment(t, newComment(p.ID, top, members[i%len(members)], n))
		if i == 0 {
			top = c.ID
		}
	}
	for i := range shares {
		b.share(t, members[i], p.ID, community.ShareChannels[i], n)
	}
}

func testClubPosts(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "author", "fan_0", "fan_1", "fan_2", "fan_3")
	author := ms[0].ID
	var fans []string
	for _, m := range ms[1:] {
		fans = append(fans, m.ID)
	}
	club := newClub("nio-owners", "", 0)
	other := newClub("li-owners", "", 0)
	createClubs(t, s, club, other)
	b := newBoard(s)

	// Posts at the same minute, some with the same engagement, so that every rule of the
	// order decides somewhere.
	specs := []struct {
		n                           int
		reactions, comments, shares int // engagement: reactions + 2 comments + 3 shares
		deleted                     bool
	}{
		{n: 1},                            // 0
		{n: 2, reactions: 3},              // 3
		{n: 2, reactions: 1, comments: 1}, // 3, same time
		{n: 3, shares: 1},                 // 3, newer
		{n: 5, reactions: 2},              // 2
		{n: 5, comments: 1},               // 2, same time
		{n: 5},                            // 0
		{n: 8, reactions: 4, comments: 1, shares: 1}, // 9
		{n: 9},               // 0
		{n: 9, reactions: 1}, // 1
		{n: 12, comments: 2}, // 4: a comment and a reply
		{n: 13},              // 0
		{n: 5, reactions: 4, deleted: true},
		{n: 14, deleted: true}, // the newest, deleted
	}
	var posts []community.Post
	for _, sp := range specs {
		p := b.addPost(t, newPost(club.ID, author, sp.n))
		b.engage(t, p, fans, sp.reactions, sp.comments, sp.shares, sp.n+1)
		if sp.deleted {
			b.deletePost(t, p.ID, 30)
		}
		posts = append(posts, p)
	}
	gone := b.posts[posts[12].ID]
	// A deleted comment counts for nothing: the post at minute 12 keeps engagement 4.
	c := b.addComment(t, newComment(posts[10].ID, "", fans[3], 20))
	b.deleteComment(t, c.ID, 21)
	// Another club's posts, newer and with more engagement, are never listed.
	for _, n := range []int{4, 10} {
		b.engage(t, b.addPost(t, newPost(other.ID, author, n)), fans, 1, 1, 2, n+1)
	}
	b.check(t)

	t.Run("NEW", func(t *testing.T) {
		want := b.clubList(club.ID, community.SortNew, 0)
		if len(want) != 12 {
			t.Fatalf("the suite expects 12 published posts, has %d", len(want))
		}
		afters := []named[community.PostPosition]{
			{"a deleted post", postPosition(community.SortNew)(gone)},
			{"a time with no post", community.PostPosition{CreatedAt: at(7)}},
			{"a time, before its posts", community.PostPosition{CreatedAt: at(9)}},
			{"a time, after its posts", community.PostPosition{CreatedAt: at(9), ID: lastID}},
			{"the end", community.PostPosition{CreatedAt: at(0)}},
		}
		checkList(t, want, postPosition(community.SortNew), postOrder, afters, clubPager(s, club.ID, community.PostQuery{Sort: community.SortNew}))
	})

	t.Run("NEW ignores Since", func(t *testing.T) {
		// PostQuery.Since limits SortTop only.
		got, more, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: community.MaxPageSize, Since: at(9)}, nil)
		must(t, err)
		if diff := cmp.Diff(b.clubList(club.ID, community.SortNew, 0), got, storedCmp); diff != "" || more {
			t.Errorf("more = %v (-want +got):\n%s", more, diff)
		}
	})

	for _, since := range []int{0, 5, 9, 13, 14} {
		t.Run(fmt.Sprintf("TOP since minute %d", since), func(t *testing.T) {
			q := community.PostQuery{Sort: community.SortTop}
			if since > 0 {
				q.Since = at(since)
			}
			want := b.clubList(club.ID, community.SortTop, since)
			afters := []named[community.PostPosition]{
				{"a deleted post", postPosition(community.SortTop)(gone)},
				{"a score between scores", community.PostPosition{Score: 2.5, CreatedAt: at(100)}},
				{"a score and time, before its posts", community.PostPosition{Score: 3, CreatedAt: at(2)}},
				{"a score and time, after its posts", community.PostPosition{Score: 3, CreatedAt: at(2), ID: lastID}},
				{"the end", community.PostPosition{Score: 0, CreatedAt: at(0)}},
			}
			checkList(t, want, postPosition(community.SortTop), postOrder, afters, clubPager(s, club.ID, q))
		})
	}

	t.Run("another club", func(t *testing.T) {
		for _, sort := range []community.PostSort{community.SortNew, community.SortTop} {
			b.checkClubPosts(t, other.ID, sort)
		}
	})

	t.Run("several clubs in one read", func(t *testing.T) {
		// Each page is the one its request reads alone, in the requests' order: a club asked
		// for twice gets both pages, and an unknown club an empty one.
		unknown := community.NewID()
		for _, sort := range []community.PostSort{community.SortNew, community.SortTop} {
			q := community.PostQuery{Sort: sort, First: 3}
			start, _, err := community.ClubPostsOf(ctx, s, club.ID, q, nil)
			must(t, err)
			after := postPosition(sort)(start[len(start)-1])
			reqs := []community.ClubPostsRequest{{ClubID: other.ID}, {ClubID: club.ID, After: &after}, {ClubID: unknown}, {ClubID: club.ID}}
			got, err := s.ClubPosts(ctx, q, reqs)
			must(t, err)
			var want []community.PostPage
			for _, r := range reqs {
				posts, more, err := community.ClubPostsOf(ctx, s, r.ClubID, q, r.After)
				must(t, err)
				want = append(want, community.PostPage{Posts: posts, More: more})
			}
			if diff := cmp.Diff(want, got, storedCmp); diff != "" {
				t.Errorf("%s pages of several clubs (-want +got):\n%s", sort, diff)
			}
			if len(got) != 4 || len(got[0].Posts) == 0 || len(got[1].Posts) == 0 || len(got[2].Posts) != 0 || got[1].Posts[0].ID == got[3].Posts[0].ID {
				t.Errorf("%s pages of several clubs do not tell the requests apart: %+v", sort, got)
			}
		}
		ids := []string{other.ID, unknown, club.ID}
		counts, err := s.RecentPostCounts(ctx, ids, at(0), 3)
		must(t, err)
		for _, id := range ids {
			one, err := recentCounts(ctx, s, id, at(0), 3)
			must(t, err)
			checkRead(t, "RecentPostCounts of several clubs", one, counts[id], nil, equateEmpty)
		}
		if _, ok := counts[unknown]; ok || len(counts[club.ID]) != 3 || len(counts[other.ID]) == 0 {
			t.Errorf("RecentPostCounts of several clubs: %v", counts)
		}
	})

	t.Run("RecentPostCounts", func(t *testing.T) {
		// The counts of published posts, newest first, then by id: NEW order.
		countsOf := func(posts []community.Post) []community.PostCounts {
			var out []community.PostCounts
			for _, p := range posts {
				out = append(out, community.PostCounts{ID: p.ID, CreatedAt: p.CreatedAt, Reactions: p.ReactionTotal(), Comments: p.CommentCount, Shares: p.ShareCount()})
			}
			return out
		}
		newest := countsOf(b.clubList(club.ID, community.SortNew, 0))
		since := func(n int) []community.PostCounts {
			var out []community.PostCounts
			for _, c := range newest {
				if !c.CreatedAt.Before(at(n)) {
					out = append(out, c)
				}
			}
			return out
		}
		if len(since(5)) != 8 || !newest[5].CreatedAt.Equal(at(5)) || !newest[7].CreatedAt.Equal(at(5)) {
			t.Fatalf("the suite expects 8 published posts from minute 5 on, three of them at minute 5: %v", since(5))
		}
		cases := []struct {
			name   string
			clubID string
			since  int
			limit  int
			want   []community.PostCounts
		}{
			{"every post", club.ID, 0, community.HotCandidates, newest},
			{"at or after a time", club.ID, 5, community.HotCandidates, since(5)},
			{"at or after the newest", club.ID, 13, community.HotCandidates, since(13)},
			{"after the newest published", club.ID, 14, community.HotCandidates, nil},
			{"limited", club.ID, 0, 2, newest[:2]},
			{"limited within a minute, by id", club.ID, 0, 7, newest[:7]},
			{"limited to a whole minute", club.ID, 5, 8, newest[:8]},
			{"limited beyond the window", club.ID, 9, 10, since(9)},
			{"limit 0", club.ID, 0, 0, nil},
			{"another club", other.ID, 0, community.HotCandidates, countsOf(b.clubList(other.ID, community.SortNew, 0))},
			{"an unknown club", community.NewID(), 0, community.HotCandidates, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := recentCounts(ctx, s, tc.clubID, at(tc.since), tc.limit)
				checkRead(t, "RecentPostCounts", tc.want, got, err, equateEmpty)
			})
		}
	})
}

func testComments(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "post_author", "zhang_wei", "zhao_lei")
	author, zhang, zhao := ms[0].ID, ms[1].ID, ms[2].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)
	post := b.addPost(t, newPost(club.ID, author, 0))
	other := b.addPost(t, newPost(club.ID, zhang, 0))
	gone := b.addPost(t, newPost(club.ID, zhang, 0))
	goneComment := b.addComment(t, newComment(gone.ID, "", zhao, 1))
	b.deletePost(t, gone.ID, 2)

	// The post's top-level comments, some at the same minute so the id decides their order.
	var top []community.Comment
	for i, n := range []int{1, 2, 2, 5, 5, 5, 7} {
		top = append(top, b.addComment(t, newComment(post.ID, "", ms[i%len(ms)].ID, n)))
	}
	first := top[0]
	r1 := b.addComment(t, newComment(post.ID, first.ID, author, 3))
	r2 := b.addComment(t, newComment(post.ID, first.ID, zhao, 3))
	r3 := b.addComment(t, newComment(post.ID, r1.ID, zhang, 4)) // a reply to a reply
	onOther := b.addComment(t, newComment(other.ID, "", author, 1))
	b.check(t)
	// The board's own arithmetic, spelled out once: a post counts its comments and all
	// replies; a comment counts its direct replies.
	if got := []int{b.posts[post.ID].CommentCount, b.comments[first.ID].ReplyCount, b.comments[r1.ID].ReplyCount, b.comments[r3.ID].ReplyCount}; !slices.Equal(got, []int{10, 2, 1, 0}) {
		t.Fatalf("the suite counts %v, want [10 2 1 0]", got)
	}

	t.Run("one space of ids", func(t *testing.T) {
		// A comment cannot take a post's id, nor a post a comment's: a target of reactions
		// is named by its id alone. Nothing is written.
		c := newComment(post.ID, "", zhao, 9)
		c.ID = other.ID
		wantCode(t, s.AddComment(ctx, c), community.CodeConflict)
		p := newPost(club.ID, zhang, 9)
		p.ID = first.ID
		_, err := s.CreatePost(ctx, p)
		wantCode(t, err, community.CodeConflict)
		b.check(t)
	})

	t.Run("targets", func(t *testing.T) {
		got, err := s.Targets(ctx, []string{post.ID, r3.ID, onOther.ID, goneComment.ID, gone.ID, community.NewID()})
		must(t, err)
		want := map[string]community.TargetRef{
			post.ID:        {PostID: post.ID, ClubID: club.ID, AuthorID: author},
			r3.ID:          {Comment: true, PostID: post.ID, ClubID: club.ID, AuthorID: zhang},
			onOther.ID:     {Comment: true, PostID: other.ID, ClubID: club.ID, AuthorID: author},
			goneComment.ID: {Comment: true, PostID: gone.ID, ClubID: club.ID, AuthorID: zhao},
			gone.ID:        {PostID: gone.ID, ClubID: club.ID, AuthorID: zhang},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Targets (-want +got):\n%s", diff)
		}
	})

	t.Run("refused comment stores nothing", func(t *testing.T) {
		cases := []struct {
			name    string
			comment community.Comment
		}{
			{"unknown post", newComment(community.NewID(), "", zhang, 6)},
			{"deleted post", newComment(gone.ID, "", zhang, 6)},
			{"reply on a deleted post", newComment(gone.ID, goneComment.ID, zhang, 6)},
			{"unknown author", newComment(post.ID, "", community.NewID(), 6)},
			{"unknown author of a reply", newComment(post.ID, first.ID, community.NewID(), 6)},
			{"parent of another post", newComment(post.ID, onOther.ID, zhang, 6)},
			{"unknown parent", newComment(post.ID, community.NewID(), zhang, 6)},
			{"parent is the post", newComment(post.ID, post.ID, zhang, 6)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.AddComment(ctx, tc.comment), community.CodeNotFound)
				b.check(t, tc.comment.ID)
			})
		}
	})

	t.Run("EditComment", func(t *testing.T) {
		b.editComment(t, top[1].ID, "改一下：我带两个人", 10)
		b.check(t)
		b.editComment(t, top[1].ID, "再改：我带三个人", 11)
		b.check(t)
		b.editComment(t, r1.ID, "回复也能改", 12)
		b.check(t)
		unknown := community.NewID()
		_, err := s.EditComment(ctx, unknown, "无", at(13))
		wantCode(t, err, community.CodeNotFound)
		b.check(t, unknown)
	})

	t.Run("DeleteComment", func(t *testing.T) {
		steps := []struct {
			name      string
			commentID string
			n         int
		}{
			{"a comment with replies", first.ID, 20},
			{"again", first.ID, 21},
			{"a reply to a reply", r3.ID, 22},
			{"a reply whose parent is deleted", r1.ID, 23},
			{"a comment without replies", top[4].ID, 24},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				b.deleteComment(t, st.commentID, st.n)
				b.check(t)
			})
		}
		if got := []int{b.posts[post.ID].CommentCount, b.comments[first.ID].ReplyCount, b.comments[r1.ID].ReplyCount}; !slices.Equal(got, []int{6, 1, 0}) {
			t.Fatalf("the suite counts %v, want [6 1 0]", got)
		}
		t.Run("edit a deleted comment", func(t *testing.T) {
			_, err := s.EditComment(ctx, first.ID, "复活", at(25))
			wantCode(t, err, community.CodeNotFound)
			b.check(t)
		})
		t.Run("unknown comment", func(t *testing.T) {
			unknown := community.NewID()
			_, err := s.DeleteComment(ctx, unknown, at(26))
			wantCode(t, err, community.CodeNotFound)
			b.check(t, unknown)
		})
	})

	// Deleted comments stay in the lists, with DeletedAt set.
	t.Run("Comments", func(t *testing.T) {
		parents := []string{post.ID, first.ID, r1.ID, r2.ID, other.ID, gone.ID, community.NewID()}
		want := map[string][]community.Comment{}
		for _, p := range parents {
			if list := b.commentList(p); len(list) > 0 {
				want[p] = list
			}
		}
		if len(want) != 5 || len(want[post.ID]) != 7 || len(want[first.ID]) != 2 {
			t.Fatalf("the suite expects lists for 5 parents, 7 top-level comments and 2 replies: %v", want)
		}
		cases := []struct {
			name     string
			first    int
			after    *community.Position
			want     map[string][]community.Comment
			wantMore map[string]bool
		}{
			{"whole lists", community.MaxPageSize, nil, want, nil},
			{"first pages", 2, nil,
				map[string][]community.Comment{post.ID: want[post.ID][:2], first.ID: want[first.ID], r1.ID: want[r1.ID], other.ID: want[other.ID], gone.ID: want[gone.ID]},
				map[string]bool{post.ID: true}},
			{"first items", 1, nil,
				map[string][]community.Comment{post.ID: want[post.ID][:1], first.ID: want[first.ID][:1], r1.ID: want[r1.ID], other.ID: want[other.ID], gone.ID: want[gone.ID]},
				map[string]bool{post.ID: true, first.ID: true}},
			{"after one position", 3, &community.Position{Since: at(2), ID: lastID},
				map[string][]community.Comment{post.ID: want[post.ID][3:6], first.ID: want[first.ID], r1.ID: want[r1.ID]},
				map[string]bool{post.ID: true}},
			{"first=0", 0, nil, nil, map[string]bool{post.ID: true, first.ID: true, r1.ID: true, other.ID: true, gone.ID: true}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, more, err := s.Comments(ctx, parents, tc.first, tc.after)
				must(t, err)
				if diff := cmp.Diff(nonEmpty(tc.want), nonEmpty(got), storedCmp); diff != "" {
					t.Errorf("Comments (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(nonZero(tc.wantMore), nonZero(more)); diff != "" {
					t.Errorf("Comments more (-want +got):\n%s", diff)
				}
			})
		}
		got, more, err := s.Comments(ctx, nil, community.MaxPageSize, nil)
		must(t, err)
		if len(nonEmpty(got)) != 0 || len(nonZero(more)) != 0 {
			t.Errorf("Comments of no parents = %v, %v", got, more)
		}
	})

	t.Run("top-level comments in pages", func(t *testing.T) {
		afters := []named[community.Position]{
			{"a time with no comment", community.Position{Since: at(4)}},
			{"a time, before its comments", community.Position{Since: at(5)}},
			{"a time, after its comments", community.Position{Since: at(5), ID: lastID}},
			{"a reply", commentPosition(r3)},
			{"the end", community.Position{Since: at(100)}},
		}
		checkList(t, b.commentList(post.ID), commentPosition, commentOrder, afters, commentPager(s, post.ID))
	})
	t.Run("replies in pages", func(t *testing.T) {
		checkList(t, b.commentList(first.ID), commentPosition, commentOrder, nil, commentPager(s, first.ID))
	})
}

func testReactions(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "post_author", "zhang_wei", "zhao_lei", "quiet_one")
	author, zhang, zhao, quiet := ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)
	post := b.addPost(t, newPost(club.ID, author, 0))
	comment := b.addComment(t, newComment(post.ID, "", zhang, 1))
	reply := b.addComment(t, newComment(post.ID, comment.ID, author, 2))
	gone := b.addPost(t, newPost(club.ID, zhang, 0))
	goneComment := b.addComment(t, newComment(gone.ID, "", author, 1))
	b.react(t, zhao, gone.ID, community.ReactionLike, 1)
	b.react(t, zhao, goneComment.ID, community.ReactionLike, 1)
	b.deletePost(t, gone.ID, 3)
	targets := []string{post.ID, comment.ID, reply.ID, gone.ID, goneComment.ID, community.NewID()}
	check := func(t *testing.T) {
		t.Helper()
		b.check(t)
		for _, m := range []string{author, zhang, zhao, quiet, community.NewID()} {
			checkViewerReactions(t, b, m, targets)
		}
	}
	check(t)

	steps := []struct {
		name     string
		memberID string
		targetID string
		kind     community.ReactionKind
		react    bool // false: Unreact
	}{
		{"like a post", zhang, post.ID, community.ReactionLike, true},
		{"like it again", zhang, post.ID, community.ReactionLike, true},
		{"another member likes it", zhao, post.ID, community.ReactionLike, true},
		{"another kind", zhang, post.ID, community.ReactionSupport, true},
		{"a kind listed earlier, given later", zhang, post.ID, community.ReactionInsightful, true},
		{"on a comment", zhao, comment.ID, community.ReactionFunny, true},
		{"on a reply", zhang, reply.ID, community.ReactionLike, true},
		{"the same kind on the comment", zhang, comment.ID, community.ReactionLike, true},
		{"unreact", zhang, post.ID, community.ReactionLike, false},
		{"unreact again", zhang, post.ID, community.ReactionLike, false},
		{"unreact a kind never given", zhao, comment.ID, community.ReactionSupport, false},
		{"unreact on a comment", zhao, comment.ID, community.ReactionFunny, false},
		{"react after unreacting", zhang, post.ID, community.ReactionLike, true},
		{"unreact on a deleted post", zhao, gone.ID, community.ReactionLike, false},
		// Unreact names no error: there is no reaction to remove.
		{"unreact on an unknown target", zhang, community.NewID(), community.ReactionLike, false},
		{"unreact by an unknown member", community.NewID(), post.ID, community.ReactionLike, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.react {
				b.react(t, st.memberID, st.targetID, st.kind, 5)
			} else {
				b.unreact(t, st.memberID, st.targetID, st.kind)
			}
			check(t)
		})
	}
	// The board's own arithmetic, spelled out once.
	if diff := cmp.Diff(map[community.ReactionKind]int{community.ReactionLike: 2, community.ReactionInsightful: 1, community.ReactionSupport: 1}, b.posts[post.ID].Reactions); diff != "" {
		t.Fatalf("the suite counts (-want +got):\n%s", diff)
	}

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name               string
			memberID, targetID string
		}{
			{"unknown target", zhang, community.NewID()},
			{"unknown member on a post", community.NewID(), post.ID},
			{"unknown member on a comment", community.NewID(), comment.ID},
			{"a deleted post", zhang, gone.ID},
			{"a comment of a deleted post", zhang, goneComment.ID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.React(ctx, tc.memberID, tc.targetID, community.ReactionFunny, at(6)), community.CodeNotFound)
				check(t)
			})
		}
	})

	got, err := s.ViewerReactions(ctx, zhang, nil)
	checkNone(t, "ViewerReactions of no targets", got, err)
}

func testShares(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "post_author", "zhang_wei", "zhao_lei")
	author, zhang, zhao := ms[0].ID, ms[1].ID, ms[2].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)
	post := b.addPost(t, newPost(club.ID, author, 0))
	other := b.addPost(t, newPost(club.ID, author, 1))
	gone := b.addPost(t, newPost(club.ID, author, 2))
	b.deletePost(t, gone.ID, 3)

	steps := []struct {
		name     string
		memberID string
		postID   string
		channel  community.ShareChannel
	}{
		{"on WeChat", zhang, post.ID, community.ShareWeChat},
		{"on WeChat again, by the same member", zhang, post.ID, community.ShareWeChat},
		{"to Moments", zhao, post.ID, community.ShareMoments},
		{"in the app", zhao, post.ID, community.ShareInApp},
		{"by its author", author, post.ID, community.ShareWeibo},
		{"another post", zhang, other.ID, community.ShareLink},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			b.share(t, st.memberID, st.postID, st.channel, 10+i)
			b.check(t)
		})
	}
	want := map[community.ShareChannel]int{community.ShareWeChat: 2, community.ShareMoments: 1, community.ShareInApp: 1, community.ShareWeibo: 1}
	if diff := cmp.Diff(want, b.posts[post.ID].SharesByChannel); diff != "" {
		t.Fatalf("the suite counts (-want +got):\n%s", diff)
	}

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name             string
			memberID, postID string
		}{
			{"unknown post", zhang, community.NewID()},
			{"deleted post", zhang, gone.ID},
			{"unknown member", community.NewID(), post.ID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: tc.postID, MemberID: tc.memberID, Channel: community.ShareInApp, At: at(20)})
				wantCode(t, err, community.CodeNotFound)
				b.check(t)
			})
		}
	})
}

// testEngagement checks Post.Engagement over stored counters, with the numbers written
// out: a reaction counts 1, a comment or reply 2, a share 3; and that TOP orders by it.
func testEngagement(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "post_author", "fan_0", "fan_1", "fan_2")
	author, f0, f1, f2 := ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)
	ps := b.addPosts(t, club.ID, author, 1, 2, 3, 4, 5)
	quiet, liked, discussed, shared, mixed := ps[0], ps[1], ps[2], ps[3], ps[4]

	b.react(t, f0, liked.ID, community.ReactionLike, 10)
	b.react(t, f1, liked.ID, community.ReactionLike, 10)
	b.react(t, f0, liked.ID, community.ReactionFunny, 10)
	b.react(t, f1, liked.ID, community.ReactionFunny, 10)
	b.unreact(t, f1, liked.ID, community.ReactionFunny) // 3

	c := b.addComment(t, newComment(discussed.ID, "", f0, 10))
	b.addComment(t, newComment(discussed.ID, c.ID, f1, 11))
	dropped := b.addComment(t, newComment(discussed.ID, "", f2, 12))
	b.deleteComment(t, dropped.ID, 13)
	b.react(t, f2, c.ID, community.ReactionLike, 13) // on the comment, not the post: 4

	b.share(t, f0, shared.ID, community.ShareWeChat, 10)
	b.share(t, f0, shared.ID, community.ShareWeChat, 11) // 6

	b.react(t, f0, mixed.ID, community.ReactionSupport, 10)
	b.addComment(t, newComment(mixed.ID, "", f1, 10))
	b.share(t, f2, mixed.ID, community.ShareInApp, 10) // 6, newer than shared
	b.check(t)

	stored, err := s.PostsByID(ctx, []string{quiet.ID, liked.ID, discussed.ID, shared.ID, mixed.ID})
	must(t, err)
	cases := []struct {
		name string
		post community.Post
		want int
	}{
		{"nothing", quiet, 0},
		{"reactions", liked, 3},
		{"a comment and a reply, a deleted comment", discussed, 4},
		{"shares", shared, 6},
		{"one of each", mixed, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := stored[tc.post.ID].Engagement(); got != tc.want {
				t.Errorf("Engagement() = %d, want %d", got, tc.want)
			}
		})
	}

	tops := []struct {
		name  string
		since int
		want  []community.Post
	}{
		{"TOP", 0, []community.Post{mixed, shared, discussed, liked, quiet}},
		{"TOP since minute 3", 3, []community.Post{mixed, shared, discussed}},
	}
	for _, tc := range tops {
		t.Run(tc.name, func(t *testing.T) {
			q := community.PostQuery{Sort: community.SortTop, First: community.MaxPageSize}
			if tc.since > 0 {
				q.Since = at(tc.since)
			}
			got, more, err := community.ClubPostsOf(ctx, s, club.ID, q, nil)
			must(t, err)
			var wantIDs, gotIDs []string
			for _, p := range tc.want {
				wantIDs = append(wantIDs, p.ID)
			}
			for _, p := range got {
				gotIDs = append(gotIDs, p.ID)
			}
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" || more {
				t.Errorf("ClubPosts: more = %v, ids (-want +got):\n%s", more, diff)
			}
		})
	}
}

// feedPosition is where a feed item stands.
func feedPosition(it community.FeedItem) community.FeedPosition {
	return community.FeedPosition{At: it.At, PostID: it.PostID}
}

// feedOrder compares feed positions in feed order: newest first, then post id ascending.
func feedOrder(a, b community.FeedPosition) int {
	if c := b.At.Compare(a.At); c != 0 {
		return c
	}
	return strings.Compare(a.PostID, b.PostID)
}

// feedItems returns items in feed order.
func feedItems(items ...community.FeedItem) []community.FeedItem {
	slices.SortFunc(items, func(a, b community.FeedItem) int { return feedOrder(feedPosition(a), feedPosition(b)) })
	return items
}

func feedPager(s community.Store, memberID string, asOf int) listPage[community.FeedItem, community.FeedPosition] {
	return func(first int, after *community.FeedPosition) ([]community.FeedItem, bool, error) {
		return s.Feed(context.Background(), memberID, first, after, at(asOf))
	}
}

func testFeed(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "viewer", "followed_a", "followed_b", "stranger_c", "stranger_d", "loner")
	viewer, fa, fb, sc, sd, loner := ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID, ms[4].ID, ms[5].ID
	// The viewer is in x (public) and p (private); not in y (public) nor z (private).
	x, pv, y, z := newClub("x-public", "", 0), newClub("p-private", "", 0), newClub("y-public", "", 0), newClub("z-private", "", 0)
	pv.Visibility, z.Visibility = community.VisibilityPrivate, community.VisibilityPrivate
	createClubs(t, s, x, pv, y, z)
	for _, m := range []community.ClubMembership{
		clubMember(x.ID, viewer, 0), clubMember(pv.ID, viewer, 0),
		clubMember(y.ID, fa, 0), clubMember(z.ID, fa, 0), clubMember(pv.ID, fa, 0), clubMember(x.ID, fa, 0),
		clubMember(x.ID, fb, 0), clubMember(y.ID, fb, 0),
		clubMember(x.ID, sc, 0), clubMember(y.ID, sc, 0),
		clubMember(x.ID, sd, 0),
	} {
		must(t, s.JoinClub(ctx, m))
	}
	must(t, s.Follow(ctx, viewer, fa, at(0)))
	must(t, s.Follow(ctx, viewer, fb, at(0)))
	// Being followed brings the viewer nothing; the follower gets the viewer's posts and
	// IN_APP shares.
	must(t, s.Follow(ctx, sc, viewer, at(0)))
	b := newBoard(s)
	post := func(clubID, authorID string, n int) community.Post { return b.addPost(t, newPost(clubID, authorID, n)) }

	a1 := post(y.ID, fa, 10)     // followed, public club
	d1 := post(x.ID, sd, 10)     // the viewer's club; the same time as a1
	a2 := post(z.ID, fa, 11)     // followed, but a private club the viewer is not in: never
	a3 := post(pv.ID, fa, 12)    // followed, the viewer's private club
	c1 := post(x.ID, sc, 13)     // the viewer's club; later shared by b
	c2 := post(y.ID, sc, 14)     // nobody followed, not the viewer's club: only b's share brings it
	c3 := post(y.ID, sc, 15)     // shared on WeChat, by the viewer, by the unfollowed: not the viewer's
	v1 := post(x.ID, viewer, 16) // the viewer's own post in its club
	a4 := post(y.ID, fa, 17)     // deleted later
	c4 := post(x.ID, sc, 18)     // shared by b, deleted later
	b.share(t, fb, c4.ID, community.ShareInApp, 19)
	a5 := post(y.ID, fa, 20)
	b.share(t, fb, c1.ID, community.ShareInApp, 21)
	b.share(t, fb, a5.ID, community.ShareInApp, 22)
	b.share(t, fa, a5.ID, community.ShareInApp, 24) // its followed author shares it again, later
	b.share(t, fb, c2.ID, community.ShareInApp, 25)
	b.share(t, fb, c3.ID, community.ShareWeChat, 26)
	b.share(t, viewer, c3.ID, community.ShareInApp, 27)
	b.share(t, fb, a2.ID, community.ShareInApp, 28)
	b1 := post(y.ID, fb, 29)
	e1 := post(x.ID, sc, 30)
	b.share(t, fb, c1.ID, community.ShareInApp, 30) // the same time as e1
	a6 := post(x.ID, fa, 31)                        // both followed and in the viewer's club: once
	b.share(t, sd, c3.ID, community.ShareInApp, 32)
	b.share(t, sd, d1.ID, community.ShareInApp, 33)
	b.deletePost(t, a4.ID, 40)
	b.deletePost(t, c4.ID, 41)
	b.check(t)

	item := func(it community.Post, n int, sharedBy string) community.FeedItem {
		return community.FeedItem{PostID: it.ID, At: at(n), SharedBy: sharedBy}
	}
	everything := feedItems(
		item(a6, 31, ""), item(c1, 30, fb), item(e1, 30, ""), item(b1, 29, ""), item(c2, 25, fb),
		item(a5, 24, fa), item(v1, 16, ""), item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""),
	)
	before23 := feedItems(item(c1, 21, fb), item(a5, 22, fb), item(v1, 16, ""), item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""))
	cases := []struct {
		name     string
		memberID string
		asOf     int
		want     []community.FeedItem
	}{
		{"after everything", viewer, 100, everything},
		{"at the time of a post and a share", viewer, 30, everything[1:]},
		{"before the newest share of a post", viewer, 29, feedItems(
			item(c1, 21, fb), item(b1, 29, ""), item(c2, 25, fb), item(a5, 24, fa), item(v1, 16, ""), item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""))},
		{"at the time of a share by the author", viewer, 24, feedItems(
			item(c1, 21, fb), item(a5, 24, fa), item(v1, 16, ""), item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""))},
		{"before the only share of a post", viewer, 23, before23},
		{"before any share", viewer, 20, feedItems(
			item(c1, 13, ""), item(a5, 20, ""), item(v1, 16, ""), item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""))},
		{"at the time of a post", viewer, 12, feedItems(item(a3, 12, ""), item(a1, 10, ""), item(d1, 10, ""))},
		{"before any post", viewer, 9, nil},
		// A member of x and y who follows only the viewer: the clubs' published posts,
		// whoever wrote them, and the viewer's IN_APP share; no one else's shares.
		{"clubs and a follow of the viewer", sc, 100, feedItems(
			item(a1, 10, ""), item(d1, 10, ""), item(c1, 13, ""), item(c2, 14, ""), item(c3, 27, viewer),
			item(v1, 16, ""), item(a5, 20, ""), item(b1, 29, ""), item(e1, 30, ""), item(a6, 31, ""))},
		{"no clubs, no follows", loner, 100, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, more, err := s.Feed(ctx, tc.memberID, community.MaxPageSize, nil, at(tc.asOf))
			must(t, err)
			if diff := cmp.Diff(tc.want, got, storedCmp); diff != "" || more {
				t.Errorf("Feed: more = %v (-want +got):\n%s", more, diff)
			}
		})
	}

	afters := []named[community.FeedPosition]{
		{"a deleted post", community.FeedPosition{At: a4.CreatedAt, PostID: a4.ID}},
		{"a time, before its items", community.FeedPosition{At: at(30)}},
		{"a time, after its items", community.FeedPosition{At: at(10), PostID: lastID}},
		{"a time with no item", community.FeedPosition{At: at(23)}},
	}
	t.Run("pages", func(t *testing.T) {
		checkList(t, everything, feedPosition, feedOrder, afters, feedPager(s, viewer, 100))
	})
	t.Run("pages as of an earlier time", func(t *testing.T) {
		checkList(t, before23, feedPosition, feedOrder, afters, feedPager(s, viewer, 23))
	})

	// Posts and shares arrive while the viewer pages through the feed as of minute 50: new
	// posts in its club, and shares by followed members of posts further down the feed,
	// which would move them up past the page boundary.
	t.Run("pages while posts and shares arrive", func(t *testing.T) {
		arrived := 50
		arrive := func() {
			arrived++
			b.addPost(t, newPost(x.ID, sc, arrived))
			tail := everything[len(everything)-1-(arrived-51)%len(everything)]
			b.share(t, fb, tail.PostID, community.ShareInApp, arrived)
			b.share(t, fa, c3.ID, community.ShareInApp, arrived) // a post that was not in the feed
		}
		for _, size := range []int{1, 3, 4} {
			var got []community.FeedItem
			var after *community.FeedPosition
			for range len(everything) + 1 {
				page, more, err := s.Feed(ctx, viewer, size, after, at(50))
				must(t, err)
				got = append(got, page...)
				if !more || len(page) == 0 {
					break
				}
				last := feedPosition(page[len(page)-1])
				after = &last
				arrive()
			}
			if diff := cmp.Diff(everything, got, storedCmp); diff != "" {
				t.Errorf("first=%d: feed walked while posts arrive (-want +got):\n%s", size, diff)
			}
		}
		// The arrivals were there all along, for a later walk.
		got, _, err := s.Feed(ctx, viewer, 3, nil, at(arrived))
		must(t, err)
		for _, it := range got {
			if !it.At.Equal(at(arrived)) {
				t.Errorf("feed as of minute %d starts with %+v, want the arrivals of that minute", arrived, got)
				break
			}
		}
	})
}

// testConcurrentPostWrites checks that writes about one post or comment that read before
// they write see each other's effects when they run at the same time.
func testConcurrentPostWrites(t *testing.T, s community.Store) {
	ctx := context.Background()
	const n = 8
	noErrors := func(t *testing.T, errs []error) {
		t.Helper()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d of %d: %v", i, len(errs), err)
			}
		}
	}
	ms := createWithFans(t, s, "post_author", n)
	author := ms[0].ID
	var fans []string
	for _, m := range ms[1:] {
		fans = append(fans, m.ID)
	}
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)

	t.Run("react once", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		noErrors(t, concurrently(n, func(i int) error { return s.React(ctx, fans[0], post.ID, community.ReactionLike, at(i)) }))
		b.reactions[reaction{fans[0], post.ID, community.ReactionLike}] = true
		b.countReaction(post.ID, community.ReactionLike, 1)
		b.check(t)
		checkViewerReactions(t, b, fans[0], []string{post.ID})
	})

	t.Run("react, many members", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		noErrors(t, concurrently(n, func(i int) error { return s.React(ctx, fans[i], post.ID, community.ReactionLike, at(i)) }))
		for _, f := range fans {
			b.reactions[reaction{f, post.ID, community.ReactionLike}] = true
			b.countReaction(post.ID, community.ReactionLike, 1)
		}
		b.check(t)
	})

	t.Run("comment", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		comments := make([]community.Comment, n)
		for i := range comments {
			comments[i] = newComment(post.ID, "", fans[i], i)
		}
		noErrors(t, concurrently(n, func(i int) error { return s.AddComment(ctx, comments[i]) }))
		for _, c := range comments {
			b.comments[c.ID] = c
			b.count(c, 1)
		}
		b.check(t)
		if got := b.posts[post.ID].CommentCount; got != n {
			t.Fatalf("the suite counts %d comments, want %d", got, n)
		}
	})

	t.Run("reply", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		parent := b.addComment(t, newComment(post.ID, "", author, 0))
		replies := make([]community.Comment, n)
		for i := range replies {
			replies[i] = newComment(post.ID, parent.ID, fans[i], i+1)
		}
		noErrors(t, concurrently(n, func(i int) error { return s.AddComment(ctx, replies[i]) }))
		for _, c := range replies {
			b.comments[c.ID] = c
			b.count(c, 1)
		}
		b.check(t)
	})

	t.Run("delete a comment once", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		parent := b.addComment(t, newComment(post.ID, "", author, 0))
		reply := b.addComment(t, newComment(post.ID, parent.ID, fans[0], 1))
		b.addComment(t, newComment(post.ID, parent.ID, fans[1], 2))
		got := make([]community.Comment, n)
		noErrors(t, concurrently(n, func(i int) error {
			var err error
			got[i], err = s.DeleteComment(ctx, reply.ID, at(10+i))
			return err
		}))
		// One of the deletes came first; the others changed nothing and answered it.
		deletedAt := got[0].DeletedAt
		if deletedAt.Before(at(10)) || deletedAt.After(at(10+n-1)) {
			t.Fatalf("DeletedAt %v, want one of the times given", deletedAt)
		}
		c := b.comments[reply.ID]
		c.DeletedAt = deletedAt
		b.comments[reply.ID] = c
		b.count(c, -1)
		for i := range got {
			if diff := cmp.Diff(c, got[i], storedCmp); diff != "" {
				t.Errorf("delete %d returned (-want +got):\n%s", i, diff)
			}
		}
		b.check(t)
	})

	t.Run("share", func(t *testing.T) {
		post := b.addPost(t, newPost(club.ID, author, 0))
		noErrors(t, concurrently(n, func(i int) error {
			return s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: post.ID, MemberID: fans[i%2], Channel: community.ShareWeChat, At: at(i)})
		}))
		p := b.posts[post.ID]
		p.SharesByChannel = map[community.ShareChannel]int{community.ShareWeChat: n}
		b.posts[post.ID] = p
		b.check(t)
	})
}
