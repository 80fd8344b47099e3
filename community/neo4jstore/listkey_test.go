package neo4jstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// keyTimes are times a list can hold, in list order (newest first): the ends of what
// Neo4j stores, both sides of 1970 with fractions of a second, a leap day, and times a
// nanosecond apart.
var keyTimes = []time.Time{
	time.Date(999_999_999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	time.Date(2026, 3, 1, 8, 0, 0, 123_456_790, time.UTC),
	time.Date(2026, 3, 1, 8, 0, 0, 123_456_789, time.UTC),
	time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
	time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
	time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC),
	time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
	time.Date(0, 2, 29, 0, 0, 0, 0, time.UTC),
	time.Date(-5000, 6, 15, 1, 2, 3, 4, time.UTC),
	time.Date(-999_999_999, 1, 1, 0, 0, 0, 0, time.UTC),
}

// TestSinceOrder checks that the keys' times sort newest first, to the nanosecond, have one
// width, and read back as the times they encode, in any zone.
func TestSinceOrder(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	var encoded []string
	for _, at := range keyTimes {
		enc := sinceOrder(at)
		if len(enc) != sinceDigits {
			t.Errorf("sinceOrder(%v) = %q: %d digits, want %d", at, enc, len(enc), sinceDigits)
		}
		if other := sinceOrder(at.In(shanghai)); other != enc {
			t.Errorf("sinceOrder(%v) = %q in UTC but %q at +08:00", at, enc, other)
		}
		if back, ok := parseSinceOrder(enc); !ok || !back.Equal(at) {
			t.Errorf("parseSinceOrder(sinceOrder(%v)) = %v, %v", at, back, ok)
		}
		encoded = append(encoded, enc)
	}
	if !slices.IsSorted(encoded) {
		t.Errorf("keys of times newest first are not in ascending order: %q", encoded)
	}
	// Times that no follow can have are taken as the nearest Neo4j stores.
	if got, want := sinceOrder(time.Date(1_000_000_000, 1, 1, 0, 0, 0, 0, time.UTC)), sinceOrder(keyTimes[0]); got != want {
		t.Errorf("a time after the latest = %q, want %q", got, want)
	}
	if got, want := sinceOrder(time.Date(-1_000_000_000, 1, 1, 0, 0, 0, 0, time.UTC)), sinceOrder(keyTimes[len(keyTimes)-1]); got != want {
		t.Errorf("a time before the earliest = %q, want %q", got, want)
	}
	for _, bad := range []string{"", "12", strings.Repeat("x", sinceDigits), "-" + strings.Repeat("1", sinceDigits-1)} {
		if _, ok := parseSinceOrder(bad); ok {
			t.Errorf("parseSinceOrder(%q) succeeded", bad)
		}
	}
}

// TestListKey checks that a key reads back as its member and time, that an owner's keys
// fall strictly between listKeyStart and the owner's end, and that a key of another
// owner does not, even one whose id begins with this owner's.
func TestListKey(t *testing.T) {
	owner, other := community.NewID(), community.NewID()
	for _, at := range keyTimes {
		key := listKey(owner, at, other)
		if got, since, ok := parseListKey(owner, key); !ok || got != other || !since.Equal(at) {
			t.Errorf("parseListKey(%q) = %q, %v, %v", key, got, since, ok)
		}
		if !(listKeyStart(owner, nil) < key && key < listKeyEnd(owner)) {
			t.Errorf("key %q is outside its owner's range", key)
		}
	}
	if _, _, ok := parseListKey(other, listKey(owner, keyTimes[0], other)); ok {
		t.Error("a key parsed as another owner's")
	}
	// The bounds are for any ids, not only those of one length.
	for _, longer := range []string{owner + "-0", owner + "0", owner + "~"} {
		key := listKey(longer, keyTimes[0], other)
		if listKeyStart(owner, nil) < key && key < listKeyEnd(owner) {
			t.Errorf("key %q of %q is in the range of %q", key, longer, owner)
		}
	}
}

// TestFollowListPlans profiles the statements of follower and following pages of a member
// with 2,000 followers and of one following 2,000: each page is a seek of its range of the
// index of keys, in the index's order, cut by a Limit, so that a page of 5 costs a few db
// hits, where reading every follow of the member to sort them costs more than 2,000.
func TestFollowListPlans(t *testing.T) {
	const n, first = 2000, 5
	s, last := planStore(t)
	ctx := context.Background()

	star, fan := addMember(t, s, "star"), addMember(t, s, "fan")
	var follows []community.Follow
	for i, m := range importMembers(t, s, n) {
		follows = append(follows, community.Follow{FollowerID: m, FolloweeID: star, Since: listSince(i)}, community.Follow{FollowerID: fan, FolloweeID: m, Since: listSince(i)})
	}
	mustDo(t, s.ImportFollows(ctx, follows))

	// A page from the middle of the list, among follows of one time.
	middle, err := s.FollowLists(ctx, community.ListFollowers, n/2, []community.ListRequest{{MemberID: star}})
	mustDo(t, err)
	end := middle[0].Edges[n/2-1]
	after := &community.Position{Since: end.Since, ID: end.MemberID}
	ten := make([]community.ListRequest, 10)
	for i := range ten {
		ten[i] = community.ListRequest{MemberID: star}
	}
	counted := community.ReadAhead{Members: true, FollowCounts: true}
	for _, tc := range []struct {
		name  string
		kind  community.ListKind
		reqs  []community.ListRequest
		ahead community.ReadAhead
	}{
		{"followers", community.ListFollowers, []community.ListRequest{{MemberID: star}}, community.ReadAhead{}},
		{"followers after a position", community.ListFollowers, []community.ListRequest{{MemberID: star, After: after}}, community.ReadAhead{}},
		{"following", community.ListFollowing, []community.ListRequest{{MemberID: fan}}, community.ReadAhead{}},
		{"ten followers pages", community.ListFollowers, ten, community.ReadAhead{}},
		{"followers, members and counts ahead", community.ListFollowers, []community.ListRequest{{MemberID: star, After: after}}, counted},
		{"following, members ahead", community.ListFollowing, []community.ListRequest{{MemberID: fan}}, community.ReadAhead{Members: true}},
		{"ten followers pages, members and counts ahead", community.ListFollowers, ten, counted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, end := s.ShareReads(community.WithReadAhead(ctx, tc.ahead))
			defer end()
			pages, err := s.FollowLists(ctx, tc.kind, first, tc.reqs)
			mustDo(t, err)
			if len(pages[0].Edges) != first || !pages[0].HasNextPage || pages[0].TotalCount != n {
				t.Fatalf("page = %d edges, hasNext %v, total %d; want %d, true, %d", len(pages[0].Edges), pages[0].HasNextPage, pages[0].TotalCount, first, n)
			}
			// A seek reads a key for a db hit, and each request looks its member up and
			// reads its degree in a few; reading ahead adds each listed member's
			// properties and degrees.
			perEdge := 4
			if tc.ahead != (community.ReadAhead{}) {
				perEdge += 12
			}
			edges := int64(len(tc.reqs) * (first + 1))
			checkSeekPlan(t, s, *last, edges, int64(perEdge)*edges)
		})
	}
}

// TestMemberListPlans profiles the statements of pages of a club of 2,000 members (a
// quarter of them moderators), of its 600 requests to join, and of a brand of 2,000
// members, every other one consenting to share the profile: each page is a seek of its
// range of the index of keys, in the index's order, cut by a Limit, so that a page of 5
// costs a few db hits, where reading every membership to sort them costs thousands. A page
// of the brand's members reads about twice as many keys as it holds, as half the members
// pass its filter.
func TestMemberListPlans(t *testing.T) {
	const n, requests, first = 2000, 600, 5
	s, last := planStore(t)
	ctx := context.Background()

	brand := addBrand(t, s, "nio")
	club := addClub(t, s, "nio-owners", brand.ID, "")
	batch := make([]community.ImportedMember, n)
	memberships := make([]community.ClubMembership, n)
	for i := range batch {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("member_%04d", i), DisplayName: "会员", JoinedAt: brandBase}
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: brandBase}}}
		role := community.RoleMember
		if i%4 == 0 {
			role = community.RoleModerator
		}
		memberships[i] = community.ClubMembership{ClubID: club.ID, MemberID: m.ID, Role: role, Since: benchAt(i)}
	}
	mustDo(t, s.ImportMembers(ctx, batch))
	mustDo(t, s.ImportClubMembers(ctx, memberships))
	others := make([]string, requests)
	for i := range others {
		others[i] = addMember(t, s, fmt.Sprintf("applicant_%04d", i))
	}
	eachOf(t, requests, func(i int) error {
		return s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: others[i], Message: "想加入", At: benchAt(i)})
	})
	eachOf(t, n, func(i int) error {
		id := batch[i].Member.ID
		if err := s.JoinBrand(ctx, id, brand.ID, benchAt(i)); err != nil || i%2 == 1 {
			return err
		}
		_, err := s.ChangeConsent(ctx, id, brand.ID, []community.ConsentScope{community.ScopeProfile}, true, benchAt(i), []string{community.NewID()})
		return err
	})

	// Positions in the middle of each list, among entries of one time.
	at := func(i int, id string) *community.Position { return &community.Position{Since: benchAt(i), ID: id} }
	ten := make([]community.ClubListRequest, 10)
	for i := range ten {
		ten[i] = community.ClubListRequest{ClubID: club.ID, After: at(n-1-i*n/10, batch[n-1-i*n/10].Member.ID)}
	}
	// ahead is a shared read that reads ahead the listed members and their counts.
	ahead, end := s.ShareReads(community.WithReadAhead(ctx, community.ReadAhead{Members: true, FollowCounts: true}))
	t.Cleanup(end)
	clubMembersIn := func(ctx context.Context, role community.ClubRole, reqs ...community.ClubListRequest) func(t *testing.T) int {
		return func(t *testing.T) int {
			pages, err := s.ClubMembers(ctx, role, first, reqs)
			mustDo(t, err)
			for i, p := range pages {
				if len(p.Memberships) != first || !p.HasNextPage {
					t.Errorf("page %d = %d members, hasNext %v; want %d, true", i, len(p.Memberships), p.HasNextPage, first)
				}
			}
			return len(reqs)
		}
	}
	clubMembers := func(role community.ClubRole, reqs ...community.ClubListRequest) func(t *testing.T) int {
		return clubMembersIn(ctx, role, reqs...)
	}
	joinRequests := func(after *community.Position) func(t *testing.T) int {
		return func(t *testing.T) int {
			page, more, err := s.JoinRequests(ctx, club.ID, first, after)
			mustDo(t, err)
			if len(page) != first || !more {
				t.Errorf("page = %d requests, hasNext %v; want %d, true", len(page), more, first)
			}
			return 1
		}
	}
	brandMembersIn := func(ctx context.Context, after *community.Position) func(t *testing.T) int {
		return func(t *testing.T) int {
			page, err := s.BrandMembers(ctx, brand.ID, community.MembersQuery{First: first, After: after, MaxPoints: -1})
			mustDo(t, err)
			if len(page.Memberships) != first || !page.HasNextPage {
				t.Errorf("page = %d members, hasNext %v; want %d, true", len(page.Memberships), page.HasNextPage, first)
			}
			return 1
		}
	}
	brandMembers := func(after *community.Position) func(t *testing.T) int { return brandMembersIn(ctx, after) }
	for _, tc := range []struct {
		name string
		read func(t *testing.T) int // reads, and returns how many pages it read
		// keysPerEntry is how many keys the seek reads for each entry of a page, and
		// hitsPerKey how many db hits each key costs: a key, and the role and verified
		// flag of a membership, or the message of a request, or the points of a brand's
		// member and its consent, found among the member's relationships; read ahead, the
		// member's properties and its two degrees besides.
		keysPerEntry, hitsPerKey int
	}{
		{"club members", clubMembers("", community.ClubListRequest{ClubID: club.ID}), 1, 4},
		{"club members after a position", clubMembers("", community.ClubListRequest{ClubID: club.ID, After: at(n/2, batch[n/2].Member.ID)}), 1, 4},
		{"club moderators after a position", clubMembers(community.RoleModerator, community.ClubListRequest{ClubID: club.ID, After: at(n/2, batch[n/2].Member.ID)}), 1, 4},
		{"ten pages of club members", clubMembers("", ten...), 1, 4},
		{"requests to join", joinRequests(nil), 1, 4},
		{"requests to join after a position", joinRequests(at(requests/2, others[requests/2])), 1, 4},
		{"brand members", brandMembers(nil), 2, 12},
		{"brand members after a position", brandMembers(at(n/2, batch[n/2].Member.ID)), 2, 12},
		{"club members read ahead", clubMembersIn(ahead, "", community.ClubListRequest{ClubID: club.ID, After: at(n/2, batch[n/2].Member.ID)}), 1, 4 + readAheadHits},
		{"club moderators read ahead", clubMembersIn(ahead, community.RoleModerator, community.ClubListRequest{ClubID: club.ID}), 1, 4 + readAheadHits},
		{"brand members read ahead", brandMembersIn(ahead, at(n/2, batch[n/2].Member.ID)), 2, 12 + readAheadHits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages := tc.read(t)
			keys := int64(pages * (first + 1) * tc.keysPerEntry)
			checkSeekPlan(t, s, *last, keys+int64(tc.keysPerEntry), int64(tc.hitsPerKey)*keys+8)
		})
	}
}

// readAheadHits bounds the db hits of what a page reads ahead about each member it lists
// (memberAhead): its properties and its two degrees, two hits a member on Neo4j 5.26.
const readAheadHits = 4

// checkSeekPlan profiles a statement that reads pages of lists by their keys, and checks
// that it is one seek of a range index by range, in the index's order, that reads at most
// keys keys, with no sort, no expansion of all of a node's relationships and no scan, and
// at most hits db hits.
func checkSeekPlan(t *testing.T, s *Store, st statement, keys, hits int64) {
	t.Helper()
	total, seeks := int64(0), 0
	for _, op := range profile(t, s, st.cypher, st.params) {
		t.Logf("%s rows=%d hits=%d %s", op.name, op.rows, op.dbHits, op.details)
		total += op.dbHits
		switch {
		case op.name == "DirectedRelationshipIndexSeekByRange":
			seeks++
			if op.rows > keys {
				t.Errorf("the seek read %d keys, want at most %d", op.rows, keys)
			}
		case strings.Contains(op.name, "Sort") || strings.HasSuffix(op.name, "Top") ||
			strings.Contains(op.name, "Expand(All)") || strings.Contains(op.name, "Scan"):
			t.Errorf("the statement reads or sorts the whole list: %s", op.name)
		}
	}
	if seeks != 1 {
		t.Errorf("%d index seeks by range, want 1", seeks)
	}
	if total > hits {
		t.Errorf("%d db hits, want at most %d", total, hits)
	}
}

// cypherAwaitIndexes waits until the indexes are online, so that the planner can use them.
const cypherAwaitIndexes = `CALL db.awaitIndexes(300)`

// planStore opens an empty store whose indexes are online, for the tests that profile
// plans, and the last statement it sent.
func planStore(t *testing.T) (*Store, *statement) {
	t.Helper()
	cfg := testConfig(t)
	last := observeLast(&cfg)
	s := openEmpty(t, cfg)
	_, err := query(context.Background(), s, cypherAwaitIndexes, nil)
	mustDo(t, err)
	return s, last
}

// importMembers imports n members and returns their ids.
func importMembers(t *testing.T, s *Store, n int) []string {
	t.Helper()
	batch := make([]community.ImportedMember, n)
	ids := make([]string, n)
	for i := range batch {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("member_%04d", i), DisplayName: "会员", JoinedAt: brandBase}
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: brandBase}}}
		ids[i] = m.ID
	}
	mustDo(t, s.ImportMembers(context.Background(), batch))
	return ids
}

// listSince is the time of the i-th entry of a test's lists: three entries a second, so
// that ties on time are ordered by id.
func listSince(i int) time.Time { return brandBase.Add(time.Duration(i/3) * time.Second) }

// TestMemberByHandleAheadPlan checks that a member read by handle with the first pages of
// both its lists read ahead seeks each page in its index, as the lists alone do, and
// that the pages and members it read ahead answer the reads after it as those reads
// answer alone.
func TestMemberByHandleAheadPlan(t *testing.T) {
	const n, first = 300, 5
	s, last := planStore(t)
	ctx := context.Background()
	star := addMember(t, s, "star")
	members := importMembers(t, s, n)
	var follows []community.Follow
	for i, m := range members {
		follows = append(follows, community.Follow{FollowerID: m, FolloweeID: star, Since: listSince(i)})
		if i%2 == 0 {
			follows = append(follows, community.Follow{FollowerID: star, FolloweeID: m, Since: listSince(i)})
		}
		if i > 0 {
			follows = append(follows, community.Follow{FollowerID: m, FolloweeID: members[i-1], Since: listSince(i)})
		}
	}
	mustDo(t, s.ImportFollows(ctx, follows))

	type answer struct {
		Lists   [][]community.FollowPage
		Members map[string]community.Member
		Counts  map[string]community.FollowCounts
	}
	read := func(ctx context.Context) answer {
		t.Helper()
		if _, err := s.MemberByHandle(ctx, "star"); err != nil {
			t.Fatal(err)
		}
		var a answer
		var ids []string
		var err error
		for _, kind := range []community.ListKind{community.ListFollowers, community.ListFollowing} {
			pages, err := s.FollowLists(ctx, kind, first, []community.ListRequest{{MemberID: star}})
			mustDo(t, err)
			a.Lists = append(a.Lists, pages)
			for _, e := range pages[0].Edges {
				ids = append(ids, e.MemberID)
			}
		}
		a.Members, err = s.MembersByID(ctx, ids)
		mustDo(t, err)
		a.Counts, err = s.FollowCounts(ctx, append(ids, star))
		mustDo(t, err)
		return a
	}
	want := read(context.Background())
	page := community.PageAhead{First: first, Members: true, FollowCounts: true}
	shared, end := s.ShareReads(context.Background())
	defer end()
	trips := s.trips.Total()
	got := read(community.WithReadAhead(shared, community.ReadAhead{FollowCounts: true, Followers: page, Following: page}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reads after reading ahead (-apart +ahead):\n%s", diff)
	}
	if n := s.trips.Total() - trips; n != 1 {
		t.Errorf("a member by handle, its lists, their members and counts: %d round trips after reading ahead, want 1", n)
	}

	_, err := s.MemberByHandle(community.WithReadAhead(shared, community.ReadAhead{FollowCounts: true, Followers: page, Following: page}), "star")
	mustDo(t, err)
	hits, seeks := int64(0), 0
	for _, op := range profile(t, s, last.cypher, last.params) {
		t.Logf("%s rows=%d hits=%d %s", op.name, op.rows, op.dbHits, op.details)
		hits += op.dbHits
		switch {
		case op.name == "DirectedRelationshipIndexSeekByRange":
			seeks++
		case strings.Contains(op.name, "Sort") || strings.HasSuffix(op.name, "Top") ||
			strings.Contains(op.name, "Expand") || strings.Contains(op.name, "Scan"):
			t.Errorf("the statement reads or sorts a whole list: %s", op.name)
		}
	}
	if seeks != 2 {
		t.Errorf("%d index seeks by range, want 2", seeks)
	}
	if limit := int64(2 * 16 * (first + 1)); hits > limit {
		t.Errorf("%d db hits for a member and two pages of %d, want at most %d", hits, first, limit)
	}
}
