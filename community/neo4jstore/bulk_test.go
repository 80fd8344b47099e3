package neo4jstore

import (
	"context"
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The tests of this file check what the contract suite cannot see from outside: that the
// bulk loaders write, property for property, the graph the single-row writes write; that
// refused batches write nothing; and that imports racing each other and single-row writes
// count every reaction once.

// graphDump lists every node but the migration records, and every relationship, as
// strings in one order: two graphs are the same when their dumps are.
func graphDump(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := context.Background()
	recs, err := read(ctx, s, func(tx neo4j.ManagedTransaction) ([]*neo4j.Record, error) {
		nodes, err := collect(ctx, tx, cypherDumpNodes, nil)
		if err != nil {
			return nil, err
		}
		rels, err := collect(ctx, tx, cypherDumpRelationships, nil)
		return append(nodes, rels...), err
	})
	mustDo(t, err)
	out := make([]string, len(recs))
	for i, r := range recs {
		// fmt prints maps with their keys sorted.
		out[i] = fmt.Sprint(r.Values)
	}
	slices.Sort(out)
	return out
}

const (
	// cypherDumpNodes leaves out the token and time of outbox events, which no two writings
	// share.
	cypherDumpNodes = `
MATCH (n) WHERE NOT n:Migration
RETURN labels(n) AS labels,
  CASE WHEN n:OutboxEvent THEN n {.key, .kind, .entityId} ELSE properties(n) END AS properties`

	cypherDumpRelationships = `
MATCH (a)-[r]->(b)
RETURN coalesce(a.id, a.provider + ':' + a.externalId) AS from, type(r) AS type,
  coalesce(b.id, b.provider + ':' + b.externalId) AS to, properties(r) AS properties`
)

// bulkScenario is one community written twice: once row by row, once in bulk.
type bulkScenario struct {
	members     []community.Member
	clubs       []community.Club
	memberships []community.ClubMembership
	posts       []community.Post
	comment     community.Comment
	reactions   []community.Reaction
}

func newBulkScenario() bulkScenario {
	var sc bulkScenario
	for i, h := range []string{"li_hua", "wang_fang", "zhang_wei", "chen_jing"} {
		sc.members = append(sc.members, community.Member{ID: community.NewID(), Handle: h, DisplayName: h, JoinedAt: brandAt(i)})
	}
	a, b, c, d := sc.members[0].ID, sc.members[1].ID, sc.members[2].ID, sc.members[3].ID
	ghost := community.NewID()
	for _, slug := range []string{"es8-owners", "et5-owners"} {
		sc.clubs = append(sc.clubs, community.Club{
			ID: community.NewID(), Slug: slug, Name: slug, Kind: community.KindOwnerClub,
			Visibility: community.VisibilityPublic, JoinPolicy: community.JoinApproval, CreatedAt: brandBase,
		})
	}
	x, y := sc.clubs[0].ID, sc.clubs[1].ID
	sc.memberships = []community.ClubMembership{
		{ClubID: x, MemberID: b, Role: community.RoleMember, Since: brandAt(10)}, // with a pending request
		{ClubID: x, MemberID: c, Role: community.RoleModerator, Since: brandAt(11), Verified: true},
		{ClubID: y, MemberID: d, Role: community.RoleMember, Since: brandAt(12)},
		{ClubID: x, MemberID: a, Role: community.RoleMember, Since: brandAt(13)},  // the manager already
		{ClubID: x, MemberID: b, Role: community.RoleManager, Since: brandAt(14)}, // again
		{ClubID: x, MemberID: ghost, Role: community.RoleMember, Since: brandAt(15)},
		{ClubID: community.NewID(), MemberID: d, Role: community.RoleMember, Since: brandAt(15)},
	}
	carried := map[community.ReactionKind]int{community.ReactionLike: 5}
	shares := map[community.ShareChannel]int{community.ShareWeibo: 2}
	sc.posts = []community.Post{
		{ID: community.NewID(), ClubID: x, AuthorID: b, Title: "续航", Body: "冬天", Tags: []string{"ev", "续航"}, CreatedAt: brandAt(20),
			Status: community.PostPublished, Reactions: carried, CommentCount: 3, SharesByChannel: shares},
		{ID: community.NewID(), ClubID: x, AuthorID: c, Title: "Road trip", Body: "coast", CreatedAt: brandAt(21), EditedAt: brandAt(22)},
		{ID: community.NewID(), ClubID: x, AuthorID: c, Title: "删了", Body: "x", CreatedAt: brandAt(23),
			Status: community.PostDeleted, DeletedAt: brandAt(24), Reactions: carried},
		{ID: community.NewID(), ClubID: y, AuthorID: d, Title: "ET5", Body: "y", CreatedAt: brandAt(25)},
		{ID: community.NewID(), ClubID: y, AuthorID: ghost, Title: "skipped", Body: "z", CreatedAt: brandAt(26)},
		{ID: community.NewID(), ClubID: community.NewID(), AuthorID: d, Title: "skipped", Body: "z", CreatedAt: brandAt(26)},
	}
	p1, p2, deleted, p4 := sc.posts[0].ID, sc.posts[1].ID, sc.posts[2].ID, sc.posts[3].ID
	sc.comment = community.Comment{ID: community.NewID(), PostID: p1, AuthorID: a, Body: "赞", CreatedAt: brandAt(30)}
	like, funny, support := community.ReactionLike, community.ReactionFunny, community.ReactionSupport
	sc.reactions = []community.Reaction{
		{MemberID: a, TargetID: p1, Kind: like, At: brandAt(40)}, // stored before the rest
		{MemberID: b, TargetID: p1, Kind: like, At: brandAt(41)},
		{MemberID: c, TargetID: p1, Kind: like, At: brandAt(42)},
		{MemberID: c, TargetID: p1, Kind: funny, At: brandAt(43)},
		{MemberID: c, TargetID: p1, Kind: like, At: brandAt(44)}, // again
		{MemberID: a, TargetID: p1, Kind: like, At: brandAt(45)}, // stored already
		{MemberID: d, TargetID: p2, Kind: support, At: brandAt(46)},
		{MemberID: b, TargetID: sc.comment.ID, Kind: like, At: brandAt(47)},
		{MemberID: c, TargetID: sc.comment.ID, Kind: funny, At: brandAt(48)},
		{MemberID: b, TargetID: sc.comment.ID, Kind: like, At: brandAt(49)}, // again
		{MemberID: a, TargetID: deleted, Kind: like, At: brandAt(50)},
		{MemberID: ghost, TargetID: p4, Kind: like, At: brandAt(51)},
		{MemberID: a, TargetID: community.NewID(), Kind: like, At: brandAt(52)},
		{MemberID: a, TargetID: p4, Kind: like, At: brandAt(53)},
	}
	return sc
}

// writeBase writes what both ways share: the members, the clubs (the first managed by the
// first member), a pending request that a membership settles, and the first reaction.
func (sc bulkScenario) writeBase(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	var batch []community.ImportedMember
	for _, m := range sc.members {
		batch = append(batch, community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: m.JoinedAt}}})
	}
	mustDo(t, s.ImportMembers(ctx, batch))
	manager := &community.ClubMembership{MemberID: sc.members[0].ID, Role: community.RoleManager, Since: brandBase}
	mustDo(t, s.CreateClub(ctx, sc.clubs[0], manager))
	mustDo(t, s.CreateClub(ctx, sc.clubs[1], nil))
	mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: sc.clubs[0].ID, MemberID: sc.members[1].ID, Message: "请批准", At: brandAt(5)}))
}

// TestBulkWritesTheSameGraph writes one community row by row and then, on an empty graph,
// in bulk, and compares every node and relationship with its properties.
func TestBulkWritesTheSameGraph(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	sc := newBulkScenario()
	first := sc.reactions[0]

	sc.writeBase(t, s)
	for _, m := range sc.memberships {
		if err := s.JoinClub(ctx, m); community.ErrorCode(err) != community.CodeNotFound {
			mustDo(t, err)
		}
	}
	for _, p := range sc.posts {
		p.Reactions, p.CommentCount, p.SharesByChannel = nil, 0, nil
		if _, err := s.CreatePost(ctx, p); community.ErrorCode(err) != community.CodeNotFound {
			mustDo(t, err)
		}
	}
	mustDo(t, s.AddComment(ctx, sc.comment))
	for _, r := range sc.reactions {
		if err := s.React(ctx, r.MemberID, r.TargetID, r.Kind, r.At); community.ErrorCode(err) != community.CodeNotFound {
			mustDo(t, err)
		}
	}
	rowByRow := graphDump(t, s)

	emptyGraph(t, s)
	sc.writeBase(t, s)
	mustDo(t, s.ImportClubMembers(ctx, sc.memberships))
	mustDo(t, s.ImportPosts(ctx, sc.posts))
	mustDo(t, s.AddComment(ctx, sc.comment))
	mustDo(t, s.React(ctx, first.MemberID, first.TargetID, first.Kind, first.At))
	mustDo(t, s.ImportReactions(ctx, sc.reactions[1:]))
	bulk := graphDump(t, s)

	if diff := gocmp.Diff(rowByRow, bulk); diff != "" {
		t.Errorf("graph written in bulk (-row by row +bulk):\n%s", diff)
	}
	if p := onePost(t, s, sc.posts[0].ID); p.Reactions[community.ReactionLike] != 3 || p.Reactions[community.ReactionFunny] != 1 || p.CommentCount != 1 || p.SharesByChannel != nil {
		t.Errorf("counters of a post imported with counters, then reacted to: %+v", p)
	}
	if c := oneComment(t, s, sc.comment.ID); c.Reactions[community.ReactionLike] != 1 || c.Reactions[community.ReactionFunny] != 1 {
		t.Errorf("reactions counted on a comment: %v", c.Reactions)
	}
	noMarkersLeft(t, s)
}

// TestBulkRefusals checks that a refused batch writes nothing of itself.
func TestBulkRefusals(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, p := addAuthoredPost(t, s)
	club := p.ClubID
	c := addComment(t, s, p.ID, "", author, brandAt(2))
	post := func(id string) community.Post {
		return community.Post{ID: id, ClubID: club, AuthorID: author, Title: "t", Body: "b", CreatedAt: brandAt(3)}
	}
	fresh := community.NewID()
	skipped := post(p.ID)
	skipped.AuthorID = community.NewID()
	cases := []struct {
		name  string
		posts []community.Post
		msg   string
	}{
		{"id of a post", []community.Post{post(fresh), post(p.ID)}, "the post exists already"},
		{"id of a post, unknown author", []community.Post{post(fresh), skipped}, "the post exists already"},
		{"id repeated", []community.Post{post(fresh), post(community.NewID()), post(fresh)}, "the batch has a post twice"},
		{"id of a comment", []community.Post{post(fresh), post(c.ID)}, "the id of a post is taken by a comment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ImportPosts(ctx, tc.posts)
			wantErrCode(t, err, community.CodeConflict)
			if got := community.ErrorMessage(err); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
			found, err := s.PostsByID(ctx, []string{fresh})
			mustDo(t, err)
			if len(found) != 0 {
				t.Errorf("a refused batch stored a post: %+v", found)
			}
		})
	}
	t.Run("unknown kind", func(t *testing.T) {
		err := s.ImportReactions(ctx, []community.Reaction{
			{MemberID: author, TargetID: p.ID, Kind: community.ReactionLike, At: brandAt(4)},
			{MemberID: author, TargetID: p.ID, Kind: "ANGRY", At: brandAt(4)},
		})
		wantErrCode(t, err, community.CodeBadUserInput)
		if n := onePost(t, s, p.ID).ReactionTotal(); n != 0 {
			t.Errorf("a refused batch counted %d reactions", n)
		}
	})
	t.Run("empty batches", func(t *testing.T) {
		mustDo(t, s.ImportClubMembers(ctx, nil))
		mustDo(t, s.ImportPosts(ctx, nil))
		mustDo(t, s.ImportReactions(ctx, nil))
	})
}

// TestConcurrentImports runs overlapping imports at once with single-row writes of the
// same rows: every membership is stored once, and every target counts each of its
// reactions once.
func TestConcurrentImports(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	const members, posts = 40, 8
	manager := addMember(t, s, "manager")
	club := addClub(t, s, "es8-owners", "", manager).ID
	ids := make([]string, members)
	for i := range ids {
		ids[i] = addMember(t, s, fmt.Sprintf("m_%02d", i))
	}
	postIDs := make([]string, posts)
	for i := range postIDs {
		postIDs[i] = addPost(t, s, club, manager, brandAt(i)).ID
	}
	var memberships []community.ClubMembership
	var reactions []community.Reaction
	for i, m := range ids {
		memberships = append(memberships, community.ClubMembership{ClubID: club, MemberID: m, Role: community.RoleMember, Since: brandAt(i)})
		for j, p := range postIDs {
			kind := community.ReactionKinds[(i+j)%len(community.ReactionKinds)]
			reactions = append(reactions, community.Reaction{MemberID: m, TargetID: p, Kind: kind, At: brandAt(i)})
		}
	}
	const importers = 4
	concurrently(t, 2*importers, func(i int) error {
		// Each importer sends the rows in another order; the others write them one by one.
		if i < importers {
			ms, rs := slices.Clone(memberships), slices.Clone(reactions)
			if i%2 == 1 {
				slices.Reverse(ms)
				slices.Reverse(rs)
			}
			if err := s.ImportClubMembers(ctx, ms); err != nil {
				return err
			}
			return s.ImportReactions(ctx, rs)
		}
		for k := i - importers; k < len(reactions); k += importers {
			r := reactions[k]
			if err := s.React(ctx, r.MemberID, r.TargetID, r.Kind, r.At); err != nil {
				return err
			}
		}
		for k := i - importers; k < len(memberships); k += importers {
			if err := s.JoinClub(ctx, memberships[k]); err != nil {
				return err
			}
		}
		return nil
	})
	counts, err := s.ClubMemberCounts(ctx, []string{club})
	mustDo(t, err)
	if counts[club] != members+1 {
		t.Errorf("club has %d memberships, want %d", counts[club], members+1)
	}
	stored, err := s.PostsByID(ctx, postIDs)
	mustDo(t, err)
	for _, id := range postIDs {
		if n := stored[id].ReactionTotal(); n != members {
			t.Errorf("post counts %d reactions, want %d", n, members)
		}
		for _, kind := range community.ReactionKinds {
			if n := stored[id].Reactions[kind]; n != members/len(community.ReactionKinds) {
				t.Errorf("post counts %d %s reactions, want %d", n, kind, members/len(community.ReactionKinds))
			}
		}
	}
	n, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
		return count(ctx, tx, cypherCountReactions, nil, "n")
	})
	mustDo(t, err)
	if n != members*posts {
		t.Errorf("%d reactions stored, want %d", n, members*posts)
	}
	noMarkersLeft(t, s)
}

const cypherCountReactions = `MATCH ()-[r:REACTED]->() RETURN count(r) AS n`

// TestConcurrentPostImports imports one batch several times at once: one import stores it,
// and the others, which may all have found its ids free, are refused.
func TestConcurrentPostImports(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author := addMember(t, s, "li_hua")
	club := addClub(t, s, "es8-owners", "", author).ID
	batch := make([]community.Post, 200)
	for i := range batch {
		batch[i] = community.Post{ID: community.NewID(), ClubID: club, AuthorID: author, Title: "t", Body: "b", CreatedAt: brandAt(i)}
	}
	if ok := concurrently(t, 4, func(int) error { return s.ImportPosts(ctx, batch) }, community.CodeConflict); ok != 1 {
		t.Errorf("%d imports of one batch succeeded, want 1", ok)
	}
	page, _, err := community.ClubPostsOf(ctx, s, club, community.PostQuery{Sort: community.SortNew, First: 500}, nil)
	mustDo(t, err)
	if len(page) != len(batch) {
		t.Errorf("club lists %d posts, want %d", len(page), len(batch))
	}
}
