package communitytest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// notListed is a state the domain does not list: a store takes whether a post is listed
// from community.Post.Listed, whatever the state, so such a post behaves as a deleted one.
const notListed community.PostStatus = "HELD"

// importReactions imports reactions and counts those a store keeps: of a known member, on
// a listed post or a comment of one, not given already.
func (b *board) importReactions(t *testing.T, rs []community.Reaction) {
	t.Helper()
	must(t, b.s.ImportReactions(context.Background(), rs))
	for _, r := range rs {
		p, onPost := b.posts[r.TargetID]
		if c, onComment := b.comments[r.TargetID]; onComment {
			p, onPost = b.posts[c.PostID], true
		}
		key := reaction{r.MemberID, r.TargetID, r.Kind}
		if !onPost || !p.Listed() || b.reactions[key] {
			continue
		}
		b.reactions[key] = true
		b.countReaction(r.TargetID, r.Kind, 1)
	}
}

// testListed checks that every list, and every write that a post takes only while it is
// listed, go by community.Post.Listed: a post that is not listed, however it came to be
// so (deleted, or created or imported deleted or in a state the domain does not list), is
// in no list and takes no edit, comment, reaction or share; every listed one is in each
// list, a post stored with no status among them (it is PUBLISHED).
func testListed(t *testing.T, s community.Store) {
	ctx := context.Background()
	if notListed.Listed() {
		t.Fatalf("the suite expects %s not to be listed", notListed)
	}
	ms := create(t, s, "author", "reader", "fan")
	author, reader, fan := ms[0].ID, ms[1].ID, ms[2].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	must(t, s.JoinClub(ctx, clubMember(club.ID, reader, 0)))
	must(t, s.Follow(ctx, reader, author, at(0)))
	must(t, s.Follow(ctx, reader, fan, at(0)))
	b := newBoard(s)

	published := b.addPost(t, newPost(club.ID, author, 1))
	noStatus := newPost(club.ID, author, 2)
	noStatus.Status = ""
	must(t, errOf(s.CreatePost(ctx, noStatus)))
	noStatus.Status = community.PostPublished
	b.posts[noStatus.ID] = noStatus
	b.engage(t, noStatus, []string{fan}, 1, 1, 1, 3)

	deleted := b.addPost(t, newPost(club.ID, author, 4))
	comment := b.addComment(t, newComment(deleted.ID, "", fan, 5))
	b.react(t, fan, deleted.ID, community.ReactionLike, 5)
	b.share(t, fan, deleted.ID, community.ShareInApp, 5)
	b.deletePost(t, deleted.ID, 6)

	stored := func(n int, status community.PostStatus) community.Post {
		p := newPost(club.ID, author, n)
		p.Status = status
		if status == community.PostDeleted {
			p.DeletedAt = at(n)
		}
		return p
	}
	createdDeleted := b.addPost(t, stored(7, community.PostDeleted))
	createdHeld := b.addPost(t, stored(8, notListed))
	imported := []community.Post{stored(9, community.PostPublished), stored(10, community.PostDeleted), stored(11, notListed)}
	must(t, s.ImportPosts(ctx, imported))
	for _, p := range imported {
		b.posts[p.ID] = p
	}
	b.check(t)

	unlisted := []struct {
		name string
		post community.Post
	}{
		{"deleted", deleted},
		{"created deleted", createdDeleted},
		{"created in a state not listed", createdHeld},
		{"imported deleted", imported[1]},
		{"imported in a state not listed", imported[2]},
	}
	listed := []community.Post{published, noStatus, imported[0]}

	checkLists := func(t *testing.T) {
		t.Helper()
		for _, sort := range []community.PostSort{community.SortNew, community.SortTop} {
			b.checkClubPosts(t, club.ID, sort)
		}
		b.checkRecentCounts(t, club.ID)
		var want []community.FeedItem
		for _, p := range b.clubList(club.ID, community.SortNew, 0) {
			want = append(want, community.FeedItem{PostID: p.ID, At: p.CreatedAt})
		}
		feed, more, err := s.Feed(ctx, reader, community.MaxPageSize, nil, at(100))
		must(t, err)
		if diff := cmp.Diff(feedItems(want...), feed, equateEmpty); diff != "" || more {
			t.Errorf("Feed: more = %v (-want +got):\n%s", more, diff)
		}
	}
	t.Run("lists", func(t *testing.T) {
		if got := b.clubList(club.ID, community.SortNew, 0); len(got) != len(listed) {
			t.Fatalf("the suite lists %d posts, want %d", len(got), len(listed))
		}
		checkLists(t)
	})

	for _, tc := range unlisted {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.post
			steps := []struct {
				name  string
				write func() error
			}{
				{"EditPost", func() error {
					_, err := s.EditPost(ctx, p.ID, community.PostInput{Title: "改", Body: "改"}, at(20))
					return err
				}},
				{"AddComment", func() error { return s.AddComment(ctx, newComment(p.ID, "", fan, 20)) }},
				{"React", func() error { return s.React(ctx, fan, p.ID, community.ReactionFunny, at(20)) }},
				{"SharePost", func() error {
					return s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: p.ID, MemberID: fan, Channel: community.ShareInApp, At: at(20)})
				}},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					wantCode(t, st.write(), community.CodeNotFound)
					b.check(t)
				})
			}
			t.Run("ImportReactions", func(t *testing.T) {
				b.importReactions(t, []community.Reaction{{MemberID: reader, TargetID: p.ID, Kind: community.ReactionSupport, At: at(20)}})
				b.check(t)
			})
		})
	}
	t.Run("comment of an unlisted post", func(t *testing.T) {
		wantCode(t, s.React(ctx, reader, comment.ID, community.ReactionLike, at(20)), community.CodeNotFound)
		wantCode(t, s.AddComment(ctx, newComment(deleted.ID, comment.ID, reader, 20)), community.CodeNotFound)
		b.importReactions(t, []community.Reaction{{MemberID: reader, TargetID: comment.ID, Kind: community.ReactionSupport, At: at(20)}})
		b.check(t)
	})
	t.Run("lists after refused writes", checkLists)

	// Deleting a post that is not listed makes it DELETED; deleting again changes nothing.
	t.Run("delete a post in a state not listed", func(t *testing.T) {
		b.deletePost(t, createdHeld.ID, 30)
		b.deletePost(t, createdHeld.ID, 31)
		b.check(t)
		checkLists(t)
	})
}

// testShareTime checks that a share is never older than its post: SharePost stores a
// share given an earlier time at the post's creation, where the feed shows it, and keeps
// the time of a later one.
func testShareTime(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "viewer", "author", "sharer", "stranger")
	viewer, author, sharer, stranger := ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID
	club := newClub("y-public", "", 0)
	createClubs(t, s, club)
	must(t, s.Follow(ctx, viewer, sharer, at(0)))
	b := newBoard(s)

	early := b.addPost(t, newPost(club.ID, stranger, 10)) // reaches the viewer by the share only
	b.share(t, sharer, early.ID, community.ShareInApp, 5)
	must(t, s.Follow(ctx, viewer, author, at(0)))
	tie := b.addPost(t, newPost(club.ID, author, 20)) // by a followed member
	b.share(t, sharer, tie.ID, community.ShareInApp, 15)
	late := b.addPost(t, newPost(club.ID, stranger, 30))
	b.share(t, sharer, late.ID, community.ShareInApp, 35)
	b.check(t)

	cases := []struct {
		name string
		asOf int
		want []community.FeedItem
	}{
		{"after every share", 100, feedItems(
			community.FeedItem{PostID: early.ID, At: at(10), SharedBy: sharer},
			community.FeedItem{PostID: tie.ID, At: at(20), SharedBy: sharer},
			community.FeedItem{PostID: late.ID, At: at(35), SharedBy: sharer},
		)},
		// The share given minute 15 stands at minute 20 with the creation, and wins the tie.
		{"at a post's creation", 20, feedItems(
			community.FeedItem{PostID: early.ID, At: at(10), SharedBy: sharer},
			community.FeedItem{PostID: tie.ID, At: at(20), SharedBy: sharer},
		)},
		{"between a share's given time and its post", 12, feedItems(
			community.FeedItem{PostID: early.ID, At: at(10), SharedBy: sharer},
		)},
		{"before a post that was shared earlier", 9, nil},
		{"before the time given to a share", 4, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, more, err := s.Feed(ctx, viewer, community.MaxPageSize, nil, at(tc.asOf))
			must(t, err)
			if diff := cmp.Diff(tc.want, got, equateEmpty); diff != "" || more {
				t.Errorf("Feed: more = %v (-want +got):\n%s", more, diff)
			}
		})
	}
}

// testKindsAndChannels checks every row of community.ReactionKinds and
// community.ShareChannels through the store: each kind, given to a post and a comment by
// React or ImportReactions, is counted, listed by ViewerReactions in table order and taken
// back by Unreact; each channel counts its shares; and the orders by engagement (TOP) and
// the counts HOT ranks weigh them as community.EngagementWeights does.
func testKindsAndChannels(t *testing.T, s community.Store) {
	ctx := context.Background()
	ms := create(t, s, "author", "fan", "importer")
	author, fan, importer := ms[0].ID, ms[1].ID, ms[2].ID
	club := newClub("nio-owners", "", 0)
	createClubs(t, s, club)
	b := newBoard(s)
	reacted := b.addPost(t, newPost(club.ID, author, 1))
	comment := b.addComment(t, newComment(reacted.ID, "", fan, 2))
	imported := b.addPost(t, newPost(club.ID, author, 3))
	shared := b.addPost(t, newPost(club.ID, author, 4))
	quiet := b.addPost(t, newPost(club.ID, author, 5))
	targets := []string{reacted.ID, comment.ID, imported.ID}

	for _, k := range community.ReactionKinds {
		t.Run("react "+string(k), func(t *testing.T) {
			b.react(t, fan, reacted.ID, k, 10)
			b.react(t, fan, comment.ID, k, 10)
			b.check(t)
		})
	}
	var rs []community.Reaction
	for _, k := range community.ReactionKinds {
		rs = append(rs, community.Reaction{MemberID: importer, TargetID: imported.ID, Kind: k, At: at(11)})
	}
	t.Run("import every kind", func(t *testing.T) {
		b.importReactions(t, rs)
		b.check(t)
	})
	for _, c := range community.ShareChannels {
		t.Run("share on "+string(c), func(t *testing.T) {
			b.share(t, fan, shared.ID, c, 12)
			b.check(t)
		})
	}
	every := func(n int) map[community.ReactionKind]int {
		out := map[community.ReactionKind]int{}
		for _, k := range community.ReactionKinds {
			out[k] = n
		}
		return out
	}
	everyChannel := map[community.ShareChannel]int{}
	for _, c := range community.ShareChannels {
		everyChannel[c] = 1
	}
	// The board's own arithmetic, spelled out once.
	got := []any{b.posts[reacted.ID].Reactions, b.comments[comment.ID].Reactions, b.posts[imported.ID].Reactions, b.posts[shared.ID].SharesByChannel}
	if diff := cmp.Diff([]any{every(1), every(1), every(1), everyChannel}, got); diff != "" {
		t.Fatalf("the suite counts (-want +got):\n%s", diff)
	}
	checkViewerReactions(t, b, fan, targets)
	checkViewerReactions(t, b, importer, targets)

	t.Run("engagement", func(t *testing.T) {
		w := community.EngagementWeights
		kinds, channels := len(community.ReactionKinds), len(community.ShareChannels)
		want := map[string]int{
			reacted.ID: kinds*w.Reaction + w.Comment, imported.ID: kinds * w.Reaction,
			shared.ID: channels * w.Share, quiet.ID: 0,
		}
		found, err := s.PostsByID(ctx, []string{reacted.ID, imported.ID, shared.ID, quiet.ID})
		must(t, err)
		got := map[string]int{}
		for id, p := range found {
			got[id] = p.Engagement()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Engagement (-want +got):\n%s", diff)
		}
		b.checkClubPosts(t, club.ID, community.SortTop)
		b.checkRecentCounts(t, club.ID)
	})

	for _, k := range community.ReactionKinds {
		t.Run("unreact "+string(k), func(t *testing.T) {
			b.unreact(t, fan, reacted.ID, k)
			b.unreact(t, importer, imported.ID, k)
			b.check(t)
			checkViewerReactions(t, b, fan, targets)
			checkViewerReactions(t, b, importer, targets)
		})
	}
}
