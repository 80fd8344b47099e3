package neo4jstore

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The tests of this file check, for the post part of the store, what the contract suite
// leaves to each store or cannot see from outside: conflict messages, counters under writes
// that race, the markers and locks leaving nothing behind, and the orders of pages and
// feeds against a model computed in Go over a random graph.

func addPost(t *testing.T, s *Store, clubID, authorID string, at time.Time) community.Post {
	t.Helper()
	p := community.Post{
		ID: community.NewID(), ClubID: clubID, AuthorID: authorID, Title: "标题", Body: "正文",
		Tags: []string{"ev", "保养"}, CreatedAt: at, Status: community.PostPublished, Version: 1,
	}
	mustDo(t, errOf(s.CreatePost(context.Background(), p)))
	return p
}

// addAuthoredPost adds li_hua, the club es8-owners she manages, and her post in it at
// brandAt(1); it returns her id and the post.
func addAuthoredPost(t *testing.T, s *Store) (string, community.Post) {
	t.Helper()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author)
	return author, addPost(t, s, club.ID, author, brandAt(1))
}

func addComment(t *testing.T, s *Store, postID, parentID, authorID string, at time.Time) community.Comment {
	t.Helper()
	c := community.Comment{ID: community.NewID(), PostID: postID, AuthorID: authorID, ParentID: parentID, Body: "评论", CreatedAt: at}
	mustDo(t, s.AddComment(context.Background(), c))
	return c
}

func onePost(t *testing.T, s *Store, id string) community.Post {
	t.Helper()
	found, err := s.PostsByID(context.Background(), []string{id})
	mustDo(t, err)
	p, ok := found[id]
	if !ok {
		t.Fatalf("post %q not found", id)
	}
	return p
}

func oneComment(t *testing.T, s *Store, id string) community.Comment {
	t.Helper()
	found, err := s.CommentsByID(context.Background(), []string{id})
	mustDo(t, err)
	c, ok := found[id]
	if !ok {
		t.Fatalf("comment %q not found", id)
	}
	return c
}

// noMarkersLeft checks that neither locks nor the _new marks of reactions stay behind.
func noMarkersLeft(t *testing.T, s *Store) {
	t.Helper()
	noLocksLeft(t, s)
	ctx := context.Background()
	n, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherNewMarkLeftovers, nil, "n")
	})
	mustDo(t, err)
	if n != 0 {
		t.Errorf("%d relationships keep a _new property", n)
	}
}

const cypherNewMarkLeftovers = `MATCH ()-[r]->() WHERE r._new IS NOT NULL RETURN count(r) AS n`

// TestPostWrites checks the errors and results of post writes, and that a post reads back
// as it was stored.
func TestPostWrites(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	_, p := addAuthoredPost(t, s)
	club := p.ClubID
	if diff := gocmp.Diff(p, onePost(t, s, p.ID)); diff != "" {
		t.Errorf("stored post (-want +got):\n%s", diff)
	}

	t.Run("create", func(t *testing.T) {
		taken := p
		taken.ClubID = club
		_, err := s.CreatePost(ctx, taken)
		wantErrCode(t, err, community.CodeConflict)
		if got := community.ErrorMessage(err); got != "the post exists already" {
			t.Errorf("message = %q", got)
		}
		fresh := p
		fresh.ID, fresh.ClubID = community.NewID(), community.NewID()
		wantErrCode(t, errOf(s.CreatePost(ctx, fresh)), community.CodeNotFound)
		fresh.ClubID, fresh.AuthorID = club, community.NewID()
		wantErrCode(t, errOf(s.CreatePost(ctx, fresh)), community.CodeNotFound)
		found, err := s.PostsByID(ctx, []string{fresh.ID})
		mustDo(t, err)
		if len(found) != 0 {
			t.Errorf("a refused post was stored: %+v", found)
		}
	})

	t.Run("edit and delete", func(t *testing.T) {
		edited, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "新标题", Body: "新正文"}, brandAt(2))
		mustDo(t, err)
		want := p
		want.Title, want.Body, want.Tags, want.EditedAt, want.Version = "新标题", "新正文", nil, brandAt(2), 2
		if diff := gocmp.Diff(want, edited); diff != "" {
			t.Errorf("edited post (-want +got):\n%s", diff)
		}
		deleted, err := s.DeletePost(ctx, p.ID, brandAt(3))
		mustDo(t, err)
		want.Status, want.DeletedAt, want.Version = community.PostDeleted, brandAt(3), 3
		if diff := gocmp.Diff(want, deleted); diff != "" {
			t.Errorf("deleted post (-want +got):\n%s", diff)
		}
		again, err := s.DeletePost(ctx, p.ID, brandAt(4))
		mustDo(t, err)
		if diff := gocmp.Diff(want, again); diff != "" {
			t.Errorf("post deleted again (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(want, onePost(t, s, p.ID)); diff != "" {
			t.Errorf("PostsByID of a deleted post (-want +got):\n%s", diff)
		}
		_, err = s.EditPost(ctx, p.ID, community.PostInput{Title: "x", Body: "y"}, brandAt(5))
		wantErrCode(t, err, community.CodeNotFound)
		_, err = s.EditPost(ctx, community.NewID(), community.PostInput{Title: "x", Body: "y"}, brandAt(5))
		wantErrCode(t, err, community.CodeNotFound)
		_, err = s.DeletePost(ctx, community.NewID(), brandAt(5))
		wantErrCode(t, err, community.CodeNotFound)
	})
	noMarkersLeft(t, s)
}

// TestReactionsAndShares checks reactions and shares on posts and comments: errors,
// idempotency, counters, the viewer's kinds in schema order.
func TestReactionsAndShares(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, p := addAuthoredPost(t, s)
	fan := addMember(t, s, "wang_fang")
	c := addComment(t, s, p.ID, "", fan, brandAt(2))

	for _, kind := range []community.ReactionKind{community.ReactionSupport, community.ReactionLike, community.ReactionLike} {
		mustDo(t, s.React(ctx, fan, p.ID, kind, brandAt(3)))
	}
	mustDo(t, s.React(ctx, author, p.ID, community.ReactionLike, brandAt(3)))
	mustDo(t, s.React(ctx, author, c.ID, community.ReactionFunny, brandAt(3)))
	mustDo(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fan, Channel: community.ShareInApp, At: brandAt(4)}))
	mustDo(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fan, Channel: community.ShareInApp, At: brandAt(5)}))
	mustDo(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: author, Channel: community.ShareWeibo, At: brandAt(5)}))

	got := onePost(t, s, p.ID)
	if diff := gocmp.Diff(map[community.ReactionKind]int{community.ReactionLike: 2, community.ReactionSupport: 1}, got.Reactions); diff != "" {
		t.Errorf("post reactions (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(map[community.ShareChannel]int{community.ShareInApp: 2, community.ShareWeibo: 1}, got.SharesByChannel); diff != "" {
		t.Errorf("post shares (-want +got):\n%s", diff)
	}
	if got.CommentCount != 1 || got.Engagement() != 3+2+9 {
		t.Errorf("comment count %d, engagement %d", got.CommentCount, got.Engagement())
	}
	if diff := gocmp.Diff(map[community.ReactionKind]int{community.ReactionFunny: 1}, oneComment(t, s, c.ID).Reactions); diff != "" {
		t.Errorf("comment reactions (-want +got):\n%s", diff)
	}
	viewer, err := s.ViewerReactions(ctx, fan, []string{c.ID, p.ID, p.ID, community.NewID()})
	mustDo(t, err)
	if diff := gocmp.Diff(map[string][]community.ReactionKind{p.ID: {community.ReactionLike, community.ReactionSupport}}, viewer); diff != "" {
		t.Errorf("viewer reactions (-want +got):\n%s", diff)
	}

	mustDo(t, s.Unreact(ctx, fan, p.ID, community.ReactionLike))
	mustDo(t, s.Unreact(ctx, fan, p.ID, community.ReactionLike))
	mustDo(t, s.Unreact(ctx, fan, p.ID, community.ReactionFunny))
	mustDo(t, s.Unreact(ctx, fan, community.NewID(), community.ReactionFunny))
	mustDo(t, s.Unreact(ctx, author, c.ID, community.ReactionFunny))
	if got := onePost(t, s, p.ID).Reactions; !gocmp.Equal(got, map[community.ReactionKind]int{community.ReactionLike: 1, community.ReactionSupport: 1}) {
		t.Errorf("post reactions after unreacting: %v", got)
	}
	if got := oneComment(t, s, c.ID).Reactions; got != nil {
		t.Errorf("comment reactions after unreacting: %v, want nil", got)
	}

	t.Run("errors", func(t *testing.T) {
		wantErrCode(t, s.React(ctx, fan, community.NewID(), community.ReactionLike, brandAt(6)), community.CodeNotFound)
		wantErrCode(t, s.React(ctx, community.NewID(), p.ID, community.ReactionLike, brandAt(6)), community.CodeNotFound)
		wantErrCode(t, s.React(ctx, community.NewID(), c.ID, community.ReactionLike, brandAt(6)), community.CodeNotFound)
		wantErrCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: community.NewID(), MemberID: fan, Channel: community.ShareLink, At: brandAt(6)}), community.CodeNotFound)
		wantErrCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: community.NewID(), Channel: community.ShareLink, At: brandAt(6)}), community.CodeNotFound)
		taken := community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fan, Channel: community.ShareLink, At: brandAt(6)}
		mustDo(t, s.SharePost(ctx, taken))
		err := s.SharePost(ctx, taken)
		wantErrCode(t, err, community.CodeConflict)
		if got := community.ErrorMessage(err); got != "the share is recorded already" {
			t.Errorf("message = %q", got)
		}
		_, err = s.DeletePost(ctx, p.ID, brandAt(7))
		mustDo(t, err)
		wantErrCode(t, s.React(ctx, fan, p.ID, community.ReactionFunny, brandAt(8)), community.CodeNotFound)
		wantErrCode(t, s.React(ctx, fan, c.ID, community.ReactionFunny, brandAt(8)), community.CodeNotFound)
		wantErrCode(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fan, Channel: community.ShareLink, At: brandAt(8)}), community.CodeNotFound)
		wantErrCode(t, s.AddComment(ctx, community.Comment{ID: community.NewID(), PostID: p.ID, AuthorID: fan, Body: "x", CreatedAt: brandAt(8)}), community.CodeNotFound)
		// Unreacting from a deleted post still takes the reaction off.
		mustDo(t, s.Unreact(ctx, fan, p.ID, community.ReactionSupport))
		if got := onePost(t, s, p.ID).Reactions; !gocmp.Equal(got, map[community.ReactionKind]int{community.ReactionLike: 1}) {
			t.Errorf("reactions of the deleted post: %v", got)
		}
	})
	noMarkersLeft(t, s)
}

// TestConcurrentReactions checks that reactions that race count once each: many members
// at once, and one member many times at once, then all of them taken back at once.
func TestConcurrentReactions(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, p := addAuthoredPost(t, s)
	c := addComment(t, s, p.ID, "", author, brandAt(2))
	const n = 12
	members := make([]string, n)
	for i := range members {
		members[i] = addMember(t, s, fmt.Sprintf("fan_%02d", i))
	}
	targets := []string{p.ID, c.ID}
	counts := func(id string) map[community.ReactionKind]int {
		if id == p.ID {
			return onePost(t, s, id).Reactions
		}
		return oneComment(t, s, id).Reactions
	}
	// Every member reacts with LIKE twice and with FUNNY once, to both targets, at once.
	concurrently(t, 6*n, func(i int) error {
		kind := community.ReactionLike
		if i%3 == 2 {
			kind = community.ReactionFunny
		}
		return s.React(ctx, members[i/6], targets[(i/3)%2], kind, brandAt(3))
	})
	for _, id := range targets {
		if diff := gocmp.Diff(map[community.ReactionKind]int{community.ReactionLike: n, community.ReactionFunny: n}, counts(id)); diff != "" {
			t.Errorf("reactions of %s after concurrent reactions (-want +got):\n%s", id, diff)
		}
	}
	// One member's LIKE, three times at once, while others take theirs back twice at once.
	concurrently(t, 3*n, func(i int) error {
		if i < 3 {
			return s.React(ctx, members[0], p.ID, community.ReactionLike, brandAt(4))
		}
		return s.Unreact(ctx, members[1+(i-3)%(n-1)], p.ID, community.ReactionLike)
	})
	if diff := gocmp.Diff(map[community.ReactionKind]int{community.ReactionLike: 1, community.ReactionFunny: n}, counts(p.ID)); diff != "" {
		t.Errorf("reactions after concurrent unreactions (-want +got):\n%s", diff)
	}
	viewer, err := s.ViewerReactions(ctx, members[0], targets)
	mustDo(t, err)
	want := map[string][]community.ReactionKind{
		p.ID: {community.ReactionLike, community.ReactionFunny},
		c.ID: {community.ReactionLike, community.ReactionFunny},
	}
	if diff := gocmp.Diff(want, viewer); diff != "" {
		t.Errorf("viewer reactions (-want +got):\n%s", diff)
	}
	noMarkersLeft(t, s)
}

// TestConcurrentComments checks that comment counts stay the number of comments not
// deleted while comments, replies and deletions race.
func TestConcurrentComments(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, p := addAuthoredPost(t, s)
	top := addComment(t, s, p.ID, "", author, brandAt(2))
	const n = 16
	// n comments and n replies to top, at once.
	concurrently(t, 2*n, func(i int) error {
		parent := ""
		if i%2 == 1 {
			parent = top.ID
		}
		return s.AddComment(ctx, community.Comment{ID: community.NewID(), PostID: p.ID, AuthorID: author, ParentID: parent, Body: "并发", CreatedAt: brandAt(3)})
	})
	if got := onePost(t, s, p.ID).CommentCount; got != 2*n+1 {
		t.Errorf("comment count = %d, want %d", got, 2*n+1)
	}
	if got := oneComment(t, s, top.ID).ReplyCount; got != n {
		t.Errorf("reply count = %d, want %d", got, n)
	}
	pages, more, err := s.Comments(ctx, []string{top.ID}, 2*n, nil)
	mustDo(t, err)
	replies := pages[top.ID]
	if len(replies) != n || more[top.ID] {
		t.Fatalf("%d replies (more %v), want %d", len(replies), more[top.ID], n)
	}
	// Each reply deleted three times at once, and replies to replies added at the same time.
	concurrently(t, 4*n, func(i int) error {
		r := replies[i/4]
		if i%4 == 3 {
			return s.AddComment(ctx, community.Comment{ID: community.NewID(), PostID: p.ID, AuthorID: author, ParentID: r.ID, Body: "回复", CreatedAt: brandAt(4)})
		}
		_, err := s.DeleteComment(ctx, r.ID, brandAt(4))
		return err
	})
	if got := onePost(t, s, p.ID).CommentCount; got != 2*n+1 {
		t.Errorf("comment count after deletions = %d, want %d", got, 2*n+1)
	}
	if got := oneComment(t, s, top.ID).ReplyCount; got != 0 {
		t.Errorf("reply count after deletions = %d, want 0", got)
	}
	for _, r := range replies {
		c := oneComment(t, s, r.ID)
		if c.ReplyCount != 1 || !c.DeletedAt.Equal(brandAt(4)) || c.Body != "并发" {
			t.Errorf("deleted reply %+v", c)
		}
	}
	// Deleting a comment again, and editing a deleted one, change nothing.
	again, err := s.DeleteComment(ctx, replies[0].ID, brandAt(9))
	mustDo(t, err)
	if !again.DeletedAt.Equal(brandAt(4)) {
		t.Errorf("deleted again at %v", again.DeletedAt)
	}
	_, err = s.EditComment(ctx, replies[0].ID, "改", brandAt(9))
	wantErrCode(t, err, community.CodeNotFound)
	_, err = s.DeleteComment(ctx, community.NewID(), brandAt(9))
	wantErrCode(t, err, community.CodeNotFound)
	if got := onePost(t, s, p.ID).CommentCount; got != 2*n+1 {
		t.Errorf("comment count after deleting again = %d, want %d", got, 2*n+1)
	}
	noMarkersLeft(t, s)
}

// TestCommentErrors checks AddComment's NOT_FOUND cases and that a refused comment is not
// counted.
func TestCommentErrors(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, p := addAuthoredPost(t, s)
	club := p.ClubID
	other := addPost(t, s, club, author, brandAt(1))
	c := addComment(t, s, other.ID, "", author, brandAt(2))
	fresh := func(postID, parentID, authorID string) community.Comment {
		return community.Comment{ID: community.NewID(), PostID: postID, ParentID: parentID, AuthorID: authorID, Body: "x", CreatedAt: brandAt(3)}
	}
	wantErrCode(t, s.AddComment(ctx, fresh(community.NewID(), "", author)), community.CodeNotFound)
	wantErrCode(t, s.AddComment(ctx, fresh(p.ID, "", community.NewID())), community.CodeNotFound)
	wantErrCode(t, s.AddComment(ctx, fresh(p.ID, c.ID, author)), community.CodeNotFound)
	wantErrCode(t, s.AddComment(ctx, fresh(p.ID, community.NewID(), author)), community.CodeNotFound)
	wantErrCode(t, s.AddComment(ctx, fresh(p.ID, p.ID, author)), community.CodeNotFound)
	taken := fresh(p.ID, "", author)
	taken.ID = c.ID
	err := s.AddComment(ctx, taken)
	wantErrCode(t, err, community.CodeConflict)
	if got := community.ErrorMessage(err); got != "the comment exists already" {
		t.Errorf("message = %q", got)
	}
	if got := onePost(t, s, p.ID).CommentCount; got != 0 {
		t.Errorf("comment count = %d after refused comments", got)
	}
	edited, err := s.EditComment(ctx, c.ID, "改过", brandAt(4))
	mustDo(t, err)
	want := c
	want.Body, want.EditedAt = "改过", brandAt(4)
	if diff := gocmp.Diff(want, edited); diff != "" {
		t.Errorf("edited comment (-want +got):\n%s", diff)
	}
}

// TestCommentPages walks the comments of several parents at once, with equal times,
// against the order computed here.
func TestCommentPages(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author).ID
	posts := []community.Post{addPost(t, s, club, author, brandAt(1)), addPost(t, s, club, author, brandAt(1))}
	rng := rand.New(rand.NewPCG(1, 2))
	children := map[string][]community.Comment{}
	var all []community.Comment
	for i := range 40 {
		post := posts[i%2]
		parent := ""
		if len(all) > 0 && rng.IntN(2) == 0 {
			if c := all[rng.IntN(len(all))]; c.PostID == post.ID {
				parent = c.ID
			}
		}
		c := addComment(t, s, post.ID, parent, author, brandAt(10+rng.IntN(5)))
		if i%7 == 0 {
			_, err := s.DeleteComment(ctx, c.ID, brandAt(20))
			mustDo(t, err)
			c.DeletedAt = brandAt(20)
		}
		all = append(all, c)
		key := cmp.Or(parent, post.ID)
		children[key] = append(children[key], c)
	}
	// The reply counts are read back, and the lists sorted, as the store keeps them.
	stored, err := s.CommentsByID(ctx, commentIDs(all))
	mustDo(t, err)
	var parents []string
	for key, list := range children {
		parents = append(parents, key)
		for i, c := range list {
			list[i] = stored[c.ID]
		}
		slices.SortFunc(list, func(a, b community.Comment) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
	}
	parents = append(parents, community.NewID())
	for _, first := range []int{0, 1, 3, 50} {
		t.Run(fmt.Sprint(first), func(t *testing.T) {
			// Every parent is walked at once while it is behind the same cursor: the
			// cursor of the first parent's page.
			got := map[string][]community.Comment{}
			var after *community.Position
			for range 100 {
				page, more, err := s.Comments(ctx, parents, first, after)
				mustDo(t, err)
				lead := page[parents[0]]
				for _, key := range parents {
					want := behind(children[key], after)
					if len(want) > first {
						want = want[:first]
					}
					if len(want) == 0 {
						want = nil
					}
					if diff := gocmp.Diff(want, page[key]); diff != "" {
						t.Fatalf("page of %s after %v (-want +got):\n%s", key, after, diff)
					}
					if wantMore := len(behind(children[key], after)) > first; more[key] != wantMore {
						t.Fatalf("more of %s = %v, want %v", key, more[key], wantMore)
					}
				}
				got[parents[0]] = append(got[parents[0]], lead...)
				if !more[parents[0]] || first == 0 {
					break
				}
				last := lead[len(lead)-1]
				after = &community.Position{Since: last.CreatedAt, ID: last.ID}
			}
			if first > 0 {
				if diff := gocmp.Diff(children[parents[0]], got[parents[0]]); diff != "" {
					t.Errorf("walk (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func commentIDs(list []community.Comment) []string {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// behind returns the comments of a sorted list strictly after a position, or nil.
func behind(list []community.Comment, after *community.Position) []community.Comment {
	var out []community.Comment
	for _, c := range list {
		if after == nil || c.CreatedAt.After(after.Since) || (c.CreatedAt.Equal(after.Since) && c.ID > after.ID) {
			out = append(out, c)
		}
	}
	return out
}

// TestClubPostOrders walks a club's posts NEW and TOP, with equal times and scores,
// against the orders computed here.
func TestClubPostOrders(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	fans := []string{addMember(t, s, "fan_a"), addMember(t, s, "fan_b")}
	club := addClub(t, s, "es8-owners", "", author).ID
	otherClub := addClub(t, s, "et7-owners", "", author).ID
	addPost(t, s, otherClub, author, brandAt(5))
	rng := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for range 30 {
		p := addPost(t, s, club, author, brandAt(rng.IntN(10)))
		ids = append(ids, p.ID)
		switch rng.IntN(4) {
		case 0:
			mustDo(t, s.React(ctx, fans[0], p.ID, community.ReactionLike, brandAt(20)))
		case 1:
			addComment(t, s, p.ID, "", fans[1], brandAt(20))
		case 2:
			mustDo(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fans[0], Channel: community.ShareWeChat, At: brandAt(20)}))
		}
		if rng.IntN(8) == 0 {
			_, err := s.DeletePost(ctx, p.ID, brandAt(21))
			mustDo(t, err)
		}
	}
	found, err := s.PostsByID(ctx, ids)
	mustDo(t, err)
	var published []community.Post
	for _, p := range found {
		if p.Status == community.PostPublished {
			published = append(published, p)
		}
	}
	cases := []struct {
		name  string
		sort  community.PostSort
		since time.Time
	}{
		{"new", community.SortNew, time.Time{}},
		{"top", community.SortTop, time.Time{}},
		{"top since", community.SortTop, brandAt(4)},
	}
	for _, c := range cases {
		score := func(p community.Post) float64 {
			if c.sort == community.SortTop {
				return float64(p.Engagement())
			}
			return 0
		}
		var want []community.Post
		for _, p := range published {
			if !p.CreatedAt.Before(c.since) {
				want = append(want, p)
			}
		}
		slices.SortFunc(want, func(a, b community.Post) int {
			return cmp.Or(cmp.Compare(score(b), score(a)), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		for _, first := range []int{1, 4, 100} {
			t.Run(fmt.Sprintf("%s/%d", c.name, first), func(t *testing.T) {
				var got []community.Post
				q := community.PostQuery{Sort: c.sort, First: first, Since: c.since}
				var after *community.PostPosition
				for range 100 {
					page, more, err := community.ClubPostsOf(ctx, s, club, q, after)
					mustDo(t, err)
					got = append(got, page...)
					if !more {
						break
					}
					last := page[len(page)-1]
					after = &community.PostPosition{Score: score(last), CreatedAt: last.CreatedAt, ID: last.ID}
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("walk (-want +got):\n%s", diff)
				}
			})
		}
		if c.sort == community.SortNew {
			counts, err := s.RecentPostCounts(ctx, []string{club}, brandAt(3), 5)
			mustDo(t, err)
			recent := counts[club]
			var wantRecent []community.PostCounts
			for _, p := range want {
				if !p.CreatedAt.Before(brandAt(3)) && len(wantRecent) < 5 {
					wantRecent = append(wantRecent, community.PostCounts{ID: p.ID, CreatedAt: p.CreatedAt, Reactions: p.ReactionTotal(), Comments: p.CommentCount, Shares: p.ShareCount()})
				}
			}
			if diff := gocmp.Diff(wantRecent, recent); diff != "" {
				t.Errorf("recent posts (-want +got):\n%s", diff)
			}
		}
	}
	page, more, err := community.ClubPostsOf(ctx, s, club, community.PostQuery{Sort: community.SortNew, First: 0}, nil)
	mustDo(t, err)
	if len(page) != 0 || !more {
		t.Errorf("a page of 0: %d posts, more %v", len(page), more)
	}
}

// feedModel is what the feed's store must agree with: the graph of one member, kept in Go.
type feedModel struct {
	me      string
	follows map[string]bool
	joined  map[string]bool
	public  map[string]bool
	posts   []community.Post
	shares  []community.Share
}

// feed is the member's whole feed at asOf, computed from the definition of PostStore.Feed.
func (m *feedModel) feed(asOf time.Time) []community.FeedItem {
	newest := map[string]community.FeedItem{}
	offer := func(it community.FeedItem) {
		if it.At.After(asOf) {
			return
		}
		cur, ok := newest[it.PostID]
		switch {
		case !ok, it.At.After(cur.At):
		case it.At.Equal(cur.At) && it.SharedBy != "" && (cur.SharedBy == "" || it.SharedBy < cur.SharedBy):
		default:
			return
		}
		newest[it.PostID] = it
	}
	visible := map[string]community.Post{}
	for _, p := range m.posts {
		if !p.Listed() || !(m.public[p.ClubID] || m.joined[p.ClubID]) {
			continue
		}
		visible[p.ID] = p
		if m.follows[p.AuthorID] || m.joined[p.ClubID] {
			offer(community.FeedItem{PostID: p.ID, At: p.CreatedAt})
		}
	}
	for _, sh := range m.shares {
		if _, ok := visible[sh.PostID]; ok && sh.Channel == community.ShareInApp && m.follows[sh.MemberID] {
			offer(community.FeedItem{PostID: sh.PostID, At: sh.At, SharedBy: sh.MemberID})
		}
	}
	var out []community.FeedItem
	for _, it := range newest {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b community.FeedItem) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.PostID, b.PostID))
	})
	return out
}

// TestFeed walks members' feeds of a random graph, with many equal times, while posts and
// shares arrive, against the feeds computed here.
func TestFeed(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	members := make([]string, 8)
	for i := range members {
		members[i] = addMember(t, s, fmt.Sprintf("member_%d", i))
	}
	public := map[string]bool{}
	var clubs []string
	for i := range 4 {
		c := addClub(t, s, fmt.Sprintf("club-%d", i), "", members[i])
		if i == 3 {
			_, err := s.UpdateClub(ctx, c.ID, community.UpdateClubInput{Visibility: new(community.VisibilityPrivate)})
			mustDo(t, err)
		} else {
			public[c.ID] = true
		}
		clubs = append(clubs, c.ID)
	}
	follows := map[string]map[string]bool{}
	joined := map[string]map[string]bool{}
	for i, m := range members {
		follows[m], joined[m] = map[string]bool{}, map[string]bool{}
		if i < 4 {
			joined[m][clubs[i]] = true
		}
		for _, o := range members {
			if o != m && rng.IntN(3) == 0 {
				mustDo(t, s.Follow(ctx, m, o, brandBase))
				follows[m][o] = true
			}
		}
		for _, c := range clubs {
			if !joined[m][c] && rng.IntN(3) == 0 {
				mustDo(t, s.JoinClub(ctx, community.ClubMembership{ClubID: c, MemberID: m, Role: community.RoleMember, Since: brandBase}))
				joined[m][c] = true
			}
		}
	}
	var posts []community.Post
	var shares []community.Share
	post := func(at time.Time) {
		p := addPost(t, s, clubs[rng.IntN(len(clubs))], members[rng.IntN(len(members))], at)
		if rng.IntN(10) == 0 {
			deleted, err := s.DeletePost(ctx, p.ID, at)
			mustDo(t, err)
			p = deleted
		}
		posts = append(posts, p)
	}
	share := func(at time.Time) {
		p := posts[rng.IntN(len(posts))]
		channel := community.ShareInApp
		if rng.IntN(4) == 0 {
			channel = community.ShareWeibo
		}
		sh := community.Share{ID: community.NewID(), PostID: p.ID, MemberID: members[rng.IntN(len(members))], Channel: channel, At: at}
		if err := s.SharePost(ctx, sh); community.ErrorCode(err) == community.CodeNotFound && p.Status == community.PostDeleted {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if sh.At.Before(p.CreatedAt) {
			sh.At = p.CreatedAt // a share is never older than its post
		}
		shares = append(shares, sh)
	}
	for range 80 {
		post(brandAt(rng.IntN(30)))
	}
	for range 60 {
		share(brandAt(rng.IntN(40)))
	}
	asOf := brandAt(35)
	clock := 36
	// The graph must give feeds with items of every kind to compare.
	items, shared := 0, 0
	for _, me := range members {
		model := &feedModel{me: me, follows: follows[me], joined: joined[me], public: public, posts: posts, shares: shares}
		for _, it := range model.feed(asOf) {
			items++
			if it.SharedBy != "" {
				shared++
			}
		}
	}
	if shared == 0 || items < 100 {
		t.Fatalf("the random graph gives %d feed items, %d of them shares", items, shared)
	}
	t.Logf("%d feed items, %d of them shares", items, shared)
	for _, me := range members {
		for _, first := range []int{1, 3, 7, 200} {
			t.Run(fmt.Sprintf("%s/%d", me, first), func(t *testing.T) {
				model := &feedModel{me: me, follows: follows[me], joined: joined[me], public: public}
				model.posts, model.shares = posts, shares
				want := model.feed(asOf)
				var got []community.FeedItem
				var after *community.FeedPosition
				for range 300 {
					page, more, err := s.Feed(ctx, me, first, after, asOf)
					mustDo(t, err)
					got = append(got, page...)
					if !more {
						break
					}
					last := page[len(page)-1]
					after = &community.FeedPosition{At: last.At, PostID: last.PostID}
					// Activity after asOf arrives between pages.
					post(brandAt(clock))
					share(brandAt(clock))
					clock++
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("walk (-want +got):\n%s", diff)
				}
			})
		}
	}
	unknown, more, err := s.Feed(ctx, community.NewID(), 10, nil, asOf)
	mustDo(t, err)
	if len(unknown) != 0 || more {
		t.Errorf("feed of an unknown member: %v, more %v", unknown, more)
	}
}

// errOf is the error of a call that also returns a value the caller does not need.
func errOf[T any](_ T, err error) error { return err }
