package neo4jstore

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// The post migrations, and what a graph written before them held instead.
var postMigrations = []string{"0025_post_listed", "0026_share_after_post", "0027_reaction_counters"}

const (
	// cypherUnmigratePosts turns the posts and comments of a graph into what they were
	// before postMigrations: no listed flag, reaction counters under their old names.
	cypherUnmigratePosts = `
MATCH (x:Post|Comment)
SET x.likes = x.reactionLike, x.insightful = x.reactionInsightful, x.funny = x.reactionFunny, x.support = x.reactionSupport
REMOVE x.listed, x.reactionLike, x.reactionInsightful, x.reactionFunny, x.reactionSupport`

	// cypherBackdateShares moves every share to a minute before its post, as SharePost
	// stored a share given an earlier time before the migrations.
	cypherBackdateShares = `
MATCH ()-[s:SHARED]->(p:Post)
SET s.at = p.createdAt - duration({minutes: 1})`

	cypherForgetMigrations = `
MATCH (m:Migration) WHERE m.id IN $ids
DELETE m`

	// cypherLeftovers counts what the migrations leave behind of the old graph.
	cypherLeftovers = `
RETURN COUNT { MATCH (x:Post|Comment) WHERE x.likes IS NOT NULL OR x.insightful IS NOT NULL OR x.funny IS NOT NULL OR x.support IS NOT NULL } +
  COUNT { MATCH (p:Post) WHERE p.listed IS NULL } +
  COUNT { MATCH ()-[s:SHARED]->(p:Post) WHERE s.at < p.createdAt } AS n`
)

// TestPostMigrations writes posts, comments, reactions and shares, turns them into what a
// graph held before postMigrations, migrates, and checks that the store reads them as it
// did before, with nothing of the old form left.
func TestPostMigrations(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	author, fan, reader := addMember(t, s, "author"), addMember(t, s, "fan"), addMember(t, s, "reader")
	mustDo(t, s.Follow(ctx, reader, fan, brandBase))
	club := addClub(t, s, "ev-talk", "", author)
	shown := addPost(t, s, club.ID, author, brandAt(10))
	gone := addPost(t, s, club.ID, author, brandAt(11))
	c := addComment(t, s, shown.ID, "", fan, brandAt(12))
	for _, k := range community.ReactionKinds {
		mustDo(t, s.React(ctx, fan, shown.ID, k, brandAt(13)))
		mustDo(t, s.React(ctx, fan, c.ID, k, brandAt(13)))
	}
	mustDo(t, s.SharePost(ctx, community.Share{ID: community.NewID(), PostID: shown.ID, MemberID: fan, Channel: community.ShareInApp, At: brandAt(14)}))
	_, err := s.DeletePost(ctx, gone.ID, brandAt(15))
	mustDo(t, err)

	type state struct {
		Posts    map[string]community.Post
		Comments map[string]community.Comment
		Listed   []string
		Feed     []community.FeedItem
	}
	snapshot := func(t *testing.T) state {
		t.Helper()
		var st state
		var err error
		st.Posts, err = s.PostsByID(ctx, []string{shown.ID, gone.ID})
		mustDo(t, err)
		st.Comments, err = s.CommentsByID(ctx, []string{c.ID})
		mustDo(t, err)
		page, _, err := community.ClubPostsOf(ctx, s, club.ID, community.PostQuery{Sort: community.SortNew, First: 10}, nil)
		mustDo(t, err)
		for _, p := range page {
			st.Listed = append(st.Listed, p.ID)
		}
		st.Feed, _, err = s.Feed(ctx, reader, 10, nil, brandAt(100))
		mustDo(t, err)
		return st
	}
	want := snapshot(t)
	if len(want.Posts[shown.ID].Reactions) != len(community.ReactionKinds) || len(want.Listed) != 1 || len(want.Feed) != 1 {
		t.Fatalf("the graph lacks something to compare: %+v", want)
	}
	// The share stood at minute 14; backdated before its post, it stands at its post's
	// creation after the migrations.
	want.Feed[0].At = shown.CreatedAt

	unmigrate := func(t *testing.T) {
		t.Helper()
		for _, cypher := range []string{cypherUnmigratePosts, cypherBackdateShares} {
			_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
				return struct{}{}, exec(ctx, tx, cypher, nil)
			})
			mustDo(t, err)
		}
	}
	leftovers := func(t *testing.T) int {
		t.Helper()
		n, err := read(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
			return count(ctx, tx, cypherLeftovers, nil, "n")
		})
		mustDo(t, err)
		return n
	}
	unmigrate(t)
	if n := leftovers(t); n == 0 {
		t.Fatal("the graph was not turned into its old form")
	}
	_, err = write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypherForgetMigrations, map[string]any{"ids": postMigrations})
	})
	mustDo(t, err)
	applied, err := s.migrate(ctx, slog.New(slog.DiscardHandler))
	mustDo(t, err)
	if applied != len(postMigrations) {
		t.Errorf("applied %d migrations, want %d", applied, len(postMigrations))
	}
	if n := leftovers(t); n != 0 {
		t.Errorf("%d nodes or shares keep their old form", n)
	}
	if diff := gocmp.Diff(want, snapshot(t)); diff != "" {
		t.Errorf("read after the migrations (-want +got):\n%s", diff)
	}
}

// The follow migrations: 0031 keys the follows stored before keys were kept (0029 and 0030
// index them).
var followMigrations = []string{"0031_follows_keys_fill"}

const (
	// cypherUnkeyFollows turns the follows of a graph into what they were before
	// followMigrations: a time and no keys.
	cypherUnkeyFollows = `
MATCH ()-[r:FOLLOWS]->()
REMOVE r.inKey, r.outKey`

	// cypherZoneSince moves the time of a follow to another zone, at the same instant, as a
	// follow written by other means than the store might be.
	cypherZoneSince = `
MATCH (:Member {id: $followerId})-[r:FOLLOWS]->(:Member {id: $followeeId})
SET r.since = datetime({datetime: r.since, timezone: '+08:00'})`

	cypherFollowKeys = `
MATCH (a:Member)-[r:FOLLOWS]->(b:Member)
RETURN a.id AS follower, b.id AS followee, r.since AS since, r.inKey AS inKey, r.outKey AS outKey`
)

// TestFollowKeysMigration writes follows at times from one end of what Neo4j stores to the
// other, turns them into follows without keys, migrates, and checks that each follow has
// the keys the store writes, and that the lists read as they did before.
func TestFollowKeysMigration(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	star, fan := addMember(t, s, "star"), addMember(t, s, "fan")
	var follows []community.Follow
	for i, at := range keyTimes {
		m := addMember(t, s, fmt.Sprintf("member_%02d", i))
		if i%2 == 0 {
			mustDo(t, s.Follow(ctx, m, star, at))
			mustDo(t, s.Follow(ctx, fan, m, at))
			continue
		}
		follows = append(follows, community.Follow{FollowerID: m, FolloweeID: star, Since: at}, community.Follow{FollowerID: fan, FolloweeID: m, Since: at})
	}
	mustDo(t, s.ImportFollows(ctx, follows))
	mustDo(t, s.Follow(ctx, star, fan, keyTimes[3]))

	lists := func(t *testing.T) []community.FollowPage {
		t.Helper()
		var pages []community.FollowPage
		for _, kind := range []community.ListKind{community.ListFollowers, community.ListFollowing} {
			p, err := s.FollowLists(ctx, kind, community.MaxPageSize, []community.ListRequest{{MemberID: star}, {MemberID: fan}})
			mustDo(t, err)
			pages = append(pages, p...)
		}
		return pages
	}
	want := lists(t)
	if len(want[0].Edges) != len(keyTimes) || len(want[3].Edges) != len(keyTimes) {
		t.Fatalf("the graph lacks follows to compare: %+v", want)
	}

	run := func(t *testing.T, cypher string, params map[string]any) {
		t.Helper()
		_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
			return struct{}{}, exec(ctx, tx, cypher, params)
		})
		mustDo(t, err)
	}
	run(t, cypherUnkeyFollows, nil)
	run(t, cypherZoneSince, map[string]any{"followerId": star, "followeeId": fan})
	if got := lists(t); len(got[0].Edges)+len(got[3].Edges) != 0 {
		t.Fatal("the follows were not turned into follows without keys")
	}
	run(t, cypherForgetMigrations, map[string]any{"ids": followMigrations})
	smallBatches(t)
	applied, err := s.migrate(ctx, slog.New(slog.DiscardHandler))
	mustDo(t, err)
	if applied != len(followMigrations) {
		t.Errorf("applied %d migrations, want %d", applied, len(followMigrations))
	}

	recs, err := query(ctx, s, cypherFollowKeys, nil)
	mustDo(t, err)
	if len(recs) != 2*len(keyTimes)+1 {
		t.Errorf("%d follows, want %d", len(recs), 2*len(keyTimes)+1)
	}
	for _, r := range recs {
		follower, followee, since := str(get(r, "follower")), str(get(r, "followee")), utc(get(r, "since"))
		if got, want := str(get(r, "inKey")), listKey(followee, since, follower); got != want {
			t.Errorf("inKey of a follow at %v = %q, want %q", since, got, want)
		}
		if got, want := str(get(r, "outKey")), listKey(follower, since, followee); got != want {
			t.Errorf("outKey of a follow at %v = %q, want %q", since, got, want)
		}
	}
	if diff := gocmp.Diff(want, lists(t)); diff != "" {
		t.Errorf("lists after the migration (-want +got):\n%s", diff)
	}
}

// smallBatches makes the migrations that commit as they go commit every few rows for the
// rest of the test, so that a test's small graph takes several of their transactions.
func smallBatches(t *testing.T) {
	was := migrationBatch
	migrationBatch = 3
	t.Cleanup(func() { migrationBatch = was })
}

// The migration that keys club memberships, requests to join and brand memberships stored
// before keys were kept (0032 to 0035 index them).
var memberListMigrations = []string{"0036_member_list_keys_fill"}

const (
	// cypherUnkeyMemberLists turns the memberships and requests of a graph into what they
	// were before memberListMigrations, with their times in another zone, at the same
	// instants, as those written by other means than the store might be (but for the
	// latest times, which no later zone can hold).
	cypherUnkeyMemberLists = `
MATCH ()-[r:JOINED|REQUESTED_TO_JOIN|MEMBER_OF]->()
REMOVE r.inKey, r.roleKey
SET r.since = CASE WHEN r.since.year < 999999999 THEN datetime({datetime: r.since, timezone: '+08:00'}) ELSE r.since END,
  r.at = CASE WHEN r.at.year < 999999999 THEN datetime({datetime: r.at, timezone: '+08:00'}) ELSE r.at END`

	cypherMemberListKeys = `
MATCH (m:Member)-[r:JOINED|REQUESTED_TO_JOIN|MEMBER_OF]->(o)
RETURN type(r) AS type, m.id AS member, o.id AS owner, coalesce(r.since, r.at) AS at, r.role AS role,
  r.inKey AS inKey, r.roleKey AS roleKey`
)

// TestMemberKeysMigration stores club memberships by every path that stores them, requests
// to join and brand memberships, at times from one end of what Neo4j stores to the other,
// turns them into relationships without keys, migrates, and checks that each has the keys
// the store writes, and that the lists read as they did before.
func TestMemberKeysMigration(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	brand := addBrand(t, s, "nio")
	founder := addMember(t, s, "founder")
	club := addClub(t, s, "nio-owners", brand.ID, founder)
	asked := addClub(t, s, "nio-forum", brand.ID, "")
	roles := []community.ClubRole{community.RoleMember, community.RoleModerator, community.RoleManager}
	var imported []community.ClubMembership
	var moderators []string
	for i, at := range keyTimes {
		m := addMember(t, s, fmt.Sprintf("member_%02d", i))
		switch i % 3 {
		case 0:
			mustDo(t, s.JoinClub(ctx, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: roles[i%len(roles)], Since: at}))
		case 1:
			imported = append(imported, community.ClubMembership{ClubID: club.ID, MemberID: m, Role: roles[i%len(roles)], Since: at})
		case 2:
			mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: m, At: at}))
			mustDo(t, s.DecideJoinRequest(ctx, club.ID, m, true, at))
		}
		if i%4 == 1 {
			moderators = append(moderators, m)
		}
		mustDo(t, s.RequestJoin(ctx, community.JoinRequest{ClubID: asked.ID, MemberID: m, Message: "想加入", At: at}))
		mustDo(t, s.JoinBrand(ctx, m, brand.ID, at))
		_, err := s.ChangeConsent(ctx, m, brand.ID, []community.ConsentScope{community.ScopeProfile}, true, brandBase, []string{community.NewID()})
		mustDo(t, err)
	}
	mustDo(t, s.ImportClubMembers(ctx, imported))
	for _, m := range moderators {
		mustDo(t, s.SetClubRole(ctx, club.ID, m, community.RoleModerator))
	}

	type lists struct {
		Members  [][]community.ClubMemberPage
		Requests []community.JoinRequest
		Brand    community.MembershipPage
	}
	read := func(t *testing.T) lists {
		t.Helper()
		var l lists
		for _, role := range append([]community.ClubRole{""}, roles...) {
			p, err := s.ClubMembers(ctx, role, community.MaxPageSize, []community.ClubListRequest{{ClubID: club.ID}})
			mustDo(t, err)
			l.Members = append(l.Members, p)
		}
		var err error
		l.Requests, _, err = s.JoinRequests(ctx, asked.ID, community.MaxPageSize, nil)
		mustDo(t, err)
		l.Brand, err = s.BrandMembers(ctx, brand.ID, community.MembersQuery{First: community.MaxPageSize, MaxPoints: -1})
		mustDo(t, err)
		return l
	}
	run := func(t *testing.T, cypher string, params map[string]any) {
		t.Helper()
		_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
			return struct{}{}, exec(ctx, tx, cypher, params)
		})
		mustDo(t, err)
	}

	want := read(t)
	if len(want.Members[0][0].Memberships) != len(keyTimes)+1 || len(want.Requests) != len(keyTimes) || len(want.Brand.Memberships) != len(keyTimes) {
		t.Fatalf("the graph lacks memberships to compare: %+v", want)
	}

	run(t, cypherUnkeyMemberLists, nil)
	if got := read(t); len(got.Members[0][0].Memberships)+len(got.Requests)+len(got.Brand.Memberships) != 0 {
		t.Fatal("the memberships were not turned into memberships without keys")
	}
	run(t, cypherForgetMigrations, map[string]any{"ids": memberListMigrations})
	smallBatches(t)
	applied, err := s.migrate(ctx, slog.New(slog.DiscardHandler))
	mustDo(t, err)
	if applied != len(memberListMigrations) {
		t.Errorf("applied %d migrations, want %d", applied, len(memberListMigrations))
	}

	recs, err := query(ctx, s, cypherMemberListKeys, nil)
	mustDo(t, err)
	if want := 3*len(keyTimes) + 1; len(recs) != want {
		t.Errorf("%d memberships and requests, want %d", len(recs), want)
	}
	for _, r := range recs {
		typ, member, owner, at := str(get(r, "type")), str(get(r, "member")), str(get(r, "owner")), utc(get(r, "at"))
		if got, want := str(get(r, "inKey")), listKey(owner, at, member); got != want {
			t.Errorf("inKey of %s at %v = %q, want %q", typ, at, got, want)
		}
		wantRole := ""
		if typ == "JOINED" {
			wantRole = listKey(clubListOwner(owner, community.ClubRole(str(get(r, "role")))), at, member)
		}
		if got := str(get(r, "roleKey")); got != wantRole {
			t.Errorf("roleKey of %s at %v = %q, want %q", typ, at, got, wantRole)
		}
	}
	if diff := gocmp.Diff(want, read(t)); diff != "" {
		t.Errorf("lists after the migration (-want +got):\n%s", diff)
	}
}
