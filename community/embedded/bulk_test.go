package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
)

// bulkContent is a small community to store twice: row by row and in bulk.
type bulkContent struct {
	members     []community.ImportedMember
	clubs       []community.Club
	requests    []community.JoinRequest
	memberships []community.ClubMembership
	posts       []community.Post
	comments    []community.Comment
	reactions   []community.Reaction
}

func newBulkContent() bulkContent {
	rng := rand.New(rand.NewPCG(7, 11))
	var c bulkContent
	for i := range 12 {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("bulk_%d", i), DisplayName: "车主", JoinedAt: clock}
		c.members = append(c.members, community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.ID, LinkedAt: clock}}})
	}
	member := func(i int) string { return c.members[i].Member.ID }
	public, private := newClub("bulk-public", "", 0), newClub("bulk-private", "", 0)
	private.Visibility, private.JoinPolicy = community.VisibilityPrivate, community.JoinApproval
	c.clubs = []community.Club{public, private}
	// Two members ask to join the private club before they are imported into it.
	c.requests = []community.JoinRequest{{ClubID: private.ID, MemberID: member(1), At: at(1)}, {ClubID: private.ID, MemberID: member(2), At: at(1)}}
	for i := range c.members {
		c.memberships = append(c.memberships, membership(public.ID, member(i), community.RoleMember, rng.IntN(5)))
		if i%3 != 0 {
			c.memberships = append(c.memberships, membership(private.ID, member(i), community.RoleMember, rng.IntN(5)))
		}
	}
	for i := range 40 {
		club := public.ID
		if i%4 == 0 {
			club = private.ID
		}
		// Minutes repeat, so that the lists order equal times by id.
		c.posts = append(c.posts, newPost(club, member(rng.IntN(len(c.members))), 10+rng.IntN(20)))
	}
	for i := range 10 {
		p := c.posts[i]
		c.comments = append(c.comments, newComment(p, member(i), "", 40+i))
	}
	targets := []string{}
	for _, p := range c.posts {
		targets = append(targets, p.ID)
	}
	for _, cm := range c.comments {
		targets = append(targets, cm.ID)
	}
	for range 300 {
		c.reactions = append(c.reactions, community.Reaction{
			MemberID: member(rng.IntN(len(c.members))), TargetID: targets[rng.IntN(len(targets))],
			Kind: community.ReactionKinds[rng.IntN(len(community.ReactionKinds))], At: at(60 + rng.IntN(10)),
		})
	}
	return c
}

// storeMembersAndClubs stores the content's members, clubs and join requests, which both
// ways of storing the content write one by one.
func storeMembersAndClubs(t *testing.T, s community.Store, c bulkContent) {
	t.Helper()
	ctx := context.Background()
	must(t, s.ImportMembers(ctx, c.members))
	for _, club := range c.clubs {
		must(t, s.CreateClub(ctx, club, nil))
	}
	for _, r := range c.requests {
		must(t, s.RequestJoin(ctx, r))
	}
}

// storeRowByRow stores the content with the single-row writes; reactions to deleted
// posts are refused, as they are skipped in bulk.
func storeRowByRow(t *testing.T, s community.Store, c bulkContent, deleted string) {
	t.Helper()
	ctx := context.Background()
	storeMembersAndClubs(t, s, c)
	for _, m := range c.memberships {
		must(t, s.JoinClub(ctx, m))
	}
	for _, p := range c.posts {
		must(t, errOf(s.CreatePost(ctx, p)))
	}
	for _, cm := range c.comments {
		must(t, s.AddComment(ctx, cm))
	}
	_, err := s.DeletePost(ctx, deleted, at(50))
	must(t, err)
	for _, r := range c.reactions {
		if err := s.React(ctx, r.MemberID, r.TargetID, r.Kind, r.At); community.ErrorCode(err) != community.CodeNotFound {
			must(t, err)
		}
	}
}

// storeInBulk stores the content with the bulk loaders, in shuffled batches mixed with
// repeated rows and rows that refer to nothing.
func storeInBulk(t *testing.T, s community.Store, c bulkContent, deleted string) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 5))
	ghost := community.NewID()
	storeMembersAndClubs(t, s, c)
	// batches cuts rows into batches of random sizes.
	batches := func(n int, each func(lo, hi int)) {
		for lo := 0; lo < n; {
			hi := min(n, lo+1+rng.IntN(30))
			each(lo, hi)
			lo = hi
		}
	}

	// The first membership of a member counts: a repeat carries another role.
	memberships := slices.Clone(c.memberships)
	for _, m := range c.memberships[:5] {
		m.Role = community.RoleManager
		memberships = append(memberships, m)
	}
	memberships = append(memberships, membership(c.clubs[0].ID, ghost, community.RoleMember, 0), membership(community.NewID(), c.members[0].Member.ID, community.RoleMember, 0))
	batches(len(memberships), func(lo, hi int) { must(t, s.ImportClubMembers(ctx, memberships[lo:hi])) })

	posts := slices.Clone(c.posts)
	posts = append(posts, newPost(c.clubs[0].ID, ghost, 0), newPost(community.NewID(), c.members[0].Member.ID, 0))
	rng.Shuffle(len(posts), func(i, j int) { posts[i], posts[j] = posts[j], posts[i] })
	batches(len(posts), func(lo, hi int) {
		batch := slices.Clone(posts[lo:hi])
		batch[0].Reactions, batch[0].CommentCount = map[community.ReactionKind]int{community.ReactionLike: 5}, 3
		must(t, s.ImportPosts(ctx, batch))
	})
	for _, cm := range c.comments {
		must(t, s.AddComment(ctx, cm))
	}
	_, err := s.DeletePost(ctx, deleted, at(50))
	must(t, err)

	reactions := slices.Clone(c.reactions)
	reactions = append(reactions, c.reactions[:20]...)
	reactions = append(reactions,
		community.Reaction{MemberID: ghost, TargetID: c.posts[0].ID, Kind: community.ReactionLike, At: at(60)},
		community.Reaction{MemberID: c.members[0].Member.ID, TargetID: community.NewID(), Kind: community.ReactionLike, At: at(60)})
	batches(len(reactions), func(lo, hi int) { must(t, s.ImportReactions(ctx, reactions[lo:hi])) })
}

// TestBulkMatchesRowByRow checks that the bulk loaders leave the store as the single-row
// writes leave it, before and after the file is reopened.
func TestBulkMatchesRowByRow(t *testing.T) {
	ctx := context.Background()
	c := newBulkContent()
	// The deleted post has a comment: reactions to either are refused, or skipped.
	deleted := c.posts[3].ID
	var memberIDs []string
	for _, m := range c.members {
		memberIDs = append(memberIDs, m.Member.ID)
	}
	var postIDs, commentIDs []string
	for _, p := range c.posts {
		postIDs = append(postIDs, p.ID)
	}
	for _, cm := range c.comments {
		commentIDs = append(commentIDs, cm.ID)
	}
	snapshot := func(s community.Store) (postState, clubState) {
		t.Helper()
		f := postFixture{s: s, ms: memberIDs, public: c.clubs[0], private: c.clubs[1]}
		return snapshotPosts(t, s, f, postIDs, commentIDs), snapshotClubs(t, s, c.clubs, nil, memberIDs)
	}

	rows := newStore(t)
	storeRowByRow(t, rows, c, deleted)
	wantPosts, wantClubs := snapshot(rows)
	if len(wantPosts.Top) == 0 || wantPosts.Top[0].ReactionTotal() == 0 || len(wantClubs.Members[c.clubs[1].ID]) == 0 {
		t.Fatalf("the content lacks something to compare: %+v", wantPosts.Top)
	}

	path := filepath.Join(t.TempDir(), "graph.db")
	bulk := open(t, path)
	storeInBulk(t, bulk, c, deleted)
	gotPosts, gotClubs := snapshot(bulk)
	diff(t, "posts stored in bulk", wantPosts, gotPosts)
	diff(t, "clubs stored in bulk", wantClubs, gotClubs)

	must(t, bulk.Close())
	bulk = open(t, path)
	defer bulk.Close()
	gotPosts, gotClubs = snapshot(bulk)
	diff(t, "posts stored in bulk, after reopening", wantPosts, gotPosts)
	diff(t, "clubs stored in bulk, after reopening", wantClubs, gotClubs)

	// What was imported constrains writes as what was written row by row does.
	wantCode(t, bulk.RequestJoin(ctx, c.requests[0]), community.CodeConflict)
	wantCode(t, errOf(bulk.CreatePost(ctx, c.posts[0])), community.CodeConflict)
	wantCode(t, bulk.ImportPosts(ctx, []community.Post{newPost(c.clubs[0].ID, memberIDs[0], 0), {ID: c.comments[0].ID, ClubID: c.clubs[0].ID, AuthorID: memberIDs[0]}}), community.CodeConflict)
	again := newPost(c.clubs[0].ID, memberIDs[0], 0)
	wantCode(t, bulk.ImportPosts(ctx, []community.Post{again, again}), community.CodeConflict)
	if got, err := bulk.PostsByID(ctx, []string{again.ID}); err != nil || len(got) != 0 {
		t.Errorf("a refused batch stored %v (%v)", got, err)
	}
}

// TestImportReactionsOfUnknownKind checks that a batch with a reaction of an unknown kind
// is refused whole.
func TestImportReactionsOfUnknownKind(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 2)
	p := newPost(f.public.ID, f.ms[0], 0)
	createPosts(t, s, p)
	wantCode(t, s.ImportReactions(ctx, []community.Reaction{
		{MemberID: f.ms[1], TargetID: p.ID, Kind: community.ReactionLike, At: at(1)},
		{MemberID: f.ms[1], TargetID: p.ID, Kind: "ANGRY", At: at(1)},
	}), community.CodeBadUserInput)
	if got := postByID(t, s, p.ID).ReactionTotal(); got != 0 {
		t.Errorf("a refused batch counted %d reactions", got)
	}
}

// TestConcurrentBulkImports imports overlapping batches of reactions while members react
// one by one and others read, and checks that every reaction is counted once.
func TestConcurrentBulkImports(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 20)
	var posts []community.Post
	var postIDs []string
	for i := range 10 {
		posts = append(posts, newPost(f.public.ID, f.ms[i], i))
		postIDs = append(postIDs, posts[i].ID)
	}
	must(t, s.ImportPosts(ctx, posts))
	// A member of the club, so that its feed has the posts to merge.
	must(t, s.ImportClubMembers(ctx, []community.ClubMembership{membership(f.public.ID, f.ms[0], community.RoleMember, 0)}))
	var all []community.Reaction
	for _, m := range f.ms {
		for _, p := range posts {
			all = append(all, community.Reaction{MemberID: m, TargetID: p.ID, Kind: community.ReactionLike, At: at(20)})
		}
	}
	// Every goroutine sends once, so that none blocks whatever the test does.
	errs := make(chan error, 4*8)
	var wg sync.WaitGroup
	for i := range 8 {
		// Each batch overlaps the next by half.
		lo := i * len(all) / 10
		wg.Go(func() { errs <- s.ImportReactions(ctx, all[lo:min(len(all), lo+len(all)/5)]) })
		wg.Go(func() { errs <- s.React(ctx, f.ms[i], posts[i].ID, community.ReactionLike, at(21)) })
		wg.Go(func() { _, _, err := s.Feed(ctx, f.ms[0], 5, nil, at(100)); errs <- err })
		wg.Go(func() {
			_, _, err := community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortTop, First: 5}, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	// The batches cover the first 9/10 of all, and the single reactions are among them.
	covered := all[:min(len(all), 7*len(all)/10+len(all)/5)]
	want := map[string]int{}
	for _, r := range covered {
		want[r.TargetID]++
	}
	got, err := s.PostsByID(ctx, postIDs)
	must(t, err)
	for i, id := range postIDs {
		if n := got[id].ReactionTotal(); n != want[id] {
			t.Errorf("post %d counts %d reactions, want %d", i, n, want[id])
		}
	}
}

// TestReadsWhileFileGrows reads through bbolt transactions while bulk writes grow the
// file. Growing it makes bbolt remap the file, which waits until no read transaction is
// open: a reader that held one while it waited for the store's lock, held by the writer,
// would hang both. The store takes its lock before any transaction, so none does; the
// test keeps it so, failing with every goroutine's stack instead of running into go
// test's timeout.
func TestReadsWhileFileGrows(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newPostFixture(t, s, 8)
	first := newPost(f.public.ID, f.ms[0], 0)
	must(t, s.ImportPosts(ctx, []community.Post{first}))
	c := newComment(first, f.ms[1], "", 1)
	must(t, s.AddComment(ctx, c))
	must(t, s.ImportClubMembers(ctx, []community.ClubMembership{membership(f.public.ID, f.ms[1], community.RoleMember, 0)}))
	body := strings.Repeat("新车到手，分享一下提车作业。", 100)

	stop := make(chan struct{})
	// Every goroutine sends once, so that none blocks whatever the test does.
	errs := make(chan error, 5)
	var readers sync.WaitGroup
	read := func(f func() error) {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if err := f(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	read(func() error { _, err := s.PostsByID(ctx, []string{first.ID}); return err })
	read(func() error {
		_, _, err := community.ClubPostsOf(ctx, s, f.public.ID, community.PostQuery{Sort: community.SortNew, First: 20}, nil)
		return err
	})
	read(func() error { _, _, err := s.Comments(ctx, []string{first.ID}, 10, nil); return err })
	read(func() error { _, err := s.CommentsByID(ctx, []string{c.ID}); return err })
	read(func() error { return s.Ping(ctx) })

	var werr error
	within(t, time.Minute, func() {
		defer readers.Wait()
		defer close(stop)
		// About 20 MB of posts: the file doubles, and is remapped, about ten times.
		for i := range 20 {
			batch := make([]community.Post, 250)
			for j := range batch {
				batch[j] = newPost(f.public.ID, f.ms[j%len(f.ms)], i)
				batch[j].Body = body
			}
			if werr = s.ImportPosts(ctx, batch); werr != nil {
				return
			}
			r := community.Reaction{MemberID: f.ms[i%len(f.ms)], TargetID: batch[0].ID, Kind: community.ReactionLike, At: at(i)}
			if werr = s.ImportReactions(ctx, []community.Reaction{r}); werr != nil {
				return
			}
		}
	})
	must(t, werr)
	close(errs)
	for err := range errs {
		must(t, err)
	}
}

// within runs f and, when f has not returned after d, ends the test binary with the
// stack of every goroutine, as go test's timeout does but sooner. It panics in a
// goroutine of its own: the test's cleanup (closing the store) would wait for a deadlock
// too.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		panic(fmt.Sprintf("%s still running after %s; the goroutines are above", name, d))
	})
	defer timer.Stop()
	f()
}
