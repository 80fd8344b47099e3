package neo4jstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// benchMembers is the size of the benchmarks' graph and of one import batch, the largest
// a caller sends in one call.
const benchMembers = 10_000

var benchBase = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// benchFanFollows is how many members the last member of the benchmarks' graph follows.
const benchFanFollows = 5_000

// benchGraph imports benchMembers members in one batch, then one follow from each towards
// the first (a star), one towards the next member (a ring), and benchFanFollows from the
// last member (a fan) towards the second and those after it, and returns the ids.
func benchGraph(b *testing.B, s *Store) []string {
	b.Helper()
	ctx := context.Background()
	batch := make([]community.ImportedMember, benchMembers)
	ids := make([]string, benchMembers)
	for i := range batch {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("bench_%05d", i), DisplayName: "会员", JoinedAt: benchBase}
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: benchBase}}}
		ids[i] = m.ID
	}
	start := time.Now()
	if err := s.ImportMembers(ctx, batch); err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d members in %v", benchMembers, time.Since(start))
	follows := make([]community.Follow, 0, 2*benchMembers)
	for i := 1; i < benchMembers; i++ {
		follows = append(follows, community.Follow{FollowerID: ids[i], FolloweeID: ids[0], Since: benchBase.Add(time.Duration(i/3) * time.Second)})
	}
	for i := range ids {
		follows = append(follows, community.Follow{FollowerID: ids[i], FolloweeID: ids[(i+1)%benchMembers], Since: benchBase})
	}
	for i := 1; i <= benchFanFollows; i++ {
		follows = append(follows, community.Follow{FollowerID: ids[benchMembers-1], FolloweeID: ids[i], Since: benchBase.Add(time.Duration(i/3) * time.Second)})
	}
	start = time.Now()
	for lo := 0; lo < len(follows); lo += benchMembers {
		if err := s.ImportFollows(ctx, follows[lo:min(lo+benchMembers, len(follows))]); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("imported %d follows in %v", len(follows), time.Since(start))
	return ids
}

// The sizes of the benchmarks' club and brand: the club's members (a tenth of them
// moderators, a hundredth managers), the members who ask to join it, and the members of
// the brand's programme (every other one consenting to share the profile).
const (
	benchClubMembers  = 5_000
	benchJoinRequests = 2_000
	benchBrandMembers = 5_000
)

// benchClubAndBrand stores a brand and a club it hosts: the first benchClubMembers of ids
// join the club, three a second, the next benchJoinRequests ask to join it, three a
// second, and the first benchBrandMembers join the brand's programme, three a second, every
// other one of them consenting to share the profile. It returns the club and the brand.
func benchClubAndBrand(b *testing.B, s *Store, ids []string) (clubID, brandID string) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	brand := community.Brand{ID: community.NewID(), Slug: "bench-brand", Name: "品牌", CreatedAt: benchBase}
	if err := s.CreateBrand(ctx, brand); err != nil {
		b.Fatal(err)
	}
	club := community.Club{ID: community.NewID(), Slug: "bench-owners", Name: "车主俱乐部", Kind: community.KindOwnerClub,
		Visibility: community.VisibilityPublic, JoinPolicy: community.JoinApproval, BrandID: brand.ID, CreatedAt: benchBase}
	if err := s.CreateClub(ctx, club, nil); err != nil {
		b.Fatal(err)
	}
	memberships := make([]community.ClubMembership, benchClubMembers)
	for i := range memberships {
		role := community.RoleMember
		switch {
		case i%100 == 0:
			role = community.RoleManager
		case i%10 == 0:
			role = community.RoleModerator
		}
		memberships[i] = community.ClubMembership{ClubID: club.ID, MemberID: ids[i], Role: role, Since: benchAt(i)}
	}
	if err := s.ImportClubMembers(ctx, memberships); err != nil {
		b.Fatal(err)
	}
	eachOf(b, benchJoinRequests, func(i int) error {
		return s.RequestJoin(ctx, community.JoinRequest{ClubID: club.ID, MemberID: ids[benchClubMembers+i], Message: "想加入", At: benchAt(i)})
	})
	eachOf(b, benchBrandMembers, func(i int) error {
		if err := s.JoinBrand(ctx, ids[i], brand.ID, benchAt(i)); err != nil || i%2 == 1 {
			return err
		}
		_, err := s.ChangeConsent(ctx, ids[i], brand.ID, []community.ConsentScope{community.ScopeProfile}, true, benchAt(i), []string{community.NewID()})
		return err
	})
	b.Logf("stored a club of %d members and %d requests, and a brand of %d members, in %v",
		benchClubMembers, benchJoinRequests, benchBrandMembers, time.Since(start))
	return club.ID, brand.ID
}

// benchAt is the time of the i-th of a list's entries: three a second.
func benchAt(i int) time.Time { return benchBase.Add(time.Duration(i/3) * time.Second) }

// eachOf calls f for 0 to n-1 from a few goroutines, and fails at the first error.
func eachOf(tb testing.TB, n int, f func(i int) error) {
	tb.Helper()
	const workers = 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				errs[w] = f(i)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkStore measures the store's calls on a graph of benchMembers members; the graph
// is built once, so run it with -benchtime to set the iterations rather than -count. The
// lists also report dbhits/op: the database hits of their statement, profiled once.
func BenchmarkStore(b *testing.B) {
	cfg := testConfig(b)
	last := observeLast(&cfg)
	s := openEmpty(b, cfg)
	ids := benchGraph(b, s)
	club, brand := benchClubAndBrand(b, s, ids)
	ctx := context.Background()
	star, fan := ids[0], ids[benchMembers-1]
	// listed measures one call that reads a list, and reports the db hits of the statement
	// it sends.
	listed := func(name string, call func() error) {
		b.Run(name, func(b *testing.B) {
			if err := call(); err != nil {
				b.Fatal(err)
			}
			hits := dbHits(b, s, last.cypher, last.params)
			for b.Loop() {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(hits), "dbhits/op")
		})
	}
	lists := func(name string, kind community.ListKind, first int, reqs ...community.ListRequest) {
		listed(name, func() error {
			_, err := s.FollowLists(ctx, kind, first, reqs)
			return err
		})
	}
	clubMembers := func(name string, role community.ClubRole, first int, reqs ...community.ClubListRequest) {
		listed(name, func() error {
			_, err := s.ClubMembers(ctx, role, first, reqs)
			return err
		})
	}
	// middle is the position halfway down a list of n entries stored as benchClubAndBrand
	// stores them, the i-th by the i-th member.
	middle := func(n int) *community.Position { return &community.Position{Since: benchAt(n / 2), ID: ids[n/2]} }

	b.Run("MembersByID/100", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.MembersByID(ctx, ids[:100]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MemberByHandle", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.MemberByHandle(ctx, "BENCH_04242"); err != nil {
				b.Fatal(err)
			}
		}
	})
	lists("Followers/first-page", community.ListFollowers, community.DefaultPageSize, community.ListRequest{MemberID: star})
	lists("Followers/middle-page", community.ListFollowers, community.DefaultPageSize, community.ListRequest{
		MemberID: star, After: &community.Position{Since: benchBase.Add(benchMembers / 6 * time.Second), ID: ids[benchMembers/2]}})
	lists("Followers/page-of-5", community.ListFollowers, 5, community.ListRequest{MemberID: star})
	// Ten pages in one statement, as a page of members each with its own followers asks.
	ten := make([]community.ListRequest, 10)
	for i := range ten {
		ten[i] = community.ListRequest{MemberID: ids[i]}
	}
	lists("Followers/10-pages-of-5", community.ListFollowers, 5, ten...)
	lists("Following/first-page", community.ListFollowing, community.DefaultPageSize, community.ListRequest{MemberID: fan})
	clubMembers("ClubMembers/first-page", "", community.DefaultPageSize, community.ClubListRequest{ClubID: club})
	clubMembers("ClubMembers/middle-page", "", community.DefaultPageSize, community.ClubListRequest{ClubID: club, After: middle(benchClubMembers)})
	clubMembers("ClubMembers/moderators-page", community.RoleModerator, community.DefaultPageSize, community.ClubListRequest{ClubID: club})
	tenClubs := make([]community.ClubListRequest, 10)
	for i := range tenClubs {
		tenClubs[i] = community.ClubListRequest{ClubID: club, After: &community.Position{Since: benchAt(i * benchClubMembers / 10), ID: ids[i*benchClubMembers/10]}}
	}
	clubMembers("ClubMembers/10-pages-of-5", "", 5, tenClubs...)
	listed("JoinRequests/first-page", func() error {
		_, _, err := s.JoinRequests(ctx, club, community.DefaultPageSize, nil)
		return err
	})
	listed("JoinRequests/middle-page", func() error {
		_, _, err := s.JoinRequests(ctx, club, community.DefaultPageSize, &community.Position{Since: benchAt(benchJoinRequests / 2), ID: ids[benchClubMembers+benchJoinRequests/2]})
		return err
	})
	// Half the brand's members consent to share the profile: a page reads about twice
	// its length.
	listed("BrandMembers/first-page", func() error {
		_, err := s.BrandMembers(ctx, brand, community.MembersQuery{First: community.DefaultPageSize, MaxPoints: -1})
		return err
	})
	listed("BrandMembers/middle-page", func() error {
		_, err := s.BrandMembers(ctx, brand, community.MembersQuery{First: community.DefaultPageSize, MaxPoints: -1, After: middle(benchBrandMembers)})
		return err
	})
	b.Run("FollowCounts/100", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FollowCounts(ctx, ids[:100]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SuggestedFollows", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SuggestedFollows(ctx, ids[42:43], 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FollowUnfollow", func(b *testing.B) {
		a, c := ids[10], ids[20]
		for b.Loop() {
			if err := s.Follow(ctx, a, c, benchBase); err != nil {
				b.Fatal(err)
			}
			if err := s.Unfollow(ctx, a, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LinkUnlinkIdentity", func(b *testing.B) {
		id := community.Identity{Provider: community.ProviderPhone, ExternalID: "+8613800000000", LinkedAt: benchBase}
		for b.Loop() {
			if err := s.LinkIdentity(ctx, ids[7], id); err != nil {
				b.Fatal(err)
			}
			if err := s.UnlinkIdentity(ctx, ids[7], id.Provider); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// statement is a statement the store sent, with its parameters.
type statement struct {
	cypher string
	params map[string]any
}

// observeLast makes the store of cfg keep the last statement it sends in the statement
// returned, for the tests that profile it; the store may send statements from several
// goroutines at once.
func observeLast(cfg *Config) *statement {
	var mu sync.Mutex
	last := new(statement)
	cfg.Observe = func(cypher string, params map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		*last = statement{cypher, params}
	}
	return last
}

// dbHits profiles a read statement and returns its database hits.
func dbHits(tb testing.TB, s *Store, cypher string, params map[string]any) int64 {
	tb.Helper()
	hits := int64(0)
	for _, op := range profile(tb, s, cypher, params) {
		hits += op.dbHits
	}
	return hits
}

// The sizes of BenchmarkImport: what a caller loads into a store of benchMembers members
// and one club, in batches of benchMembers rows.
const (
	benchPosts     = 20 * benchMembers
	benchReactions = 100 * benchMembers
)

// BenchmarkImport measures the bulk loaders: benchMembers members join a club, post
// benchPosts posts in it, and react benchReactions times to posts drawn with a Zipf-like
// law, as synthetic content does, all in batches of benchMembers rows. Each iteration
// loads an empty graph; a load takes minutes, so the default -benchtime runs it once. It
// logs the time of each phase and the most heap that one import transaction was seen to
// use, and reports posts/s and reactions/s.
func BenchmarkImport(b *testing.B) {
	s := openEmpty(b, testConfig(b))
	// One transaction cannot delete what a load stores within the server's memory for
	// transactions, which the next test's emptyGraph would try.
	b.Cleanup(func() { emptyGraphInChunks(b, s) })
	ctx := context.Background()
	var postsTook, reactionsTook time.Duration
	for b.Loop() {
		b.StopTimer()
		emptyGraphInChunks(b, s)
		rng := rand.New(rand.NewPCG(1, 2))
		ids := benchMembersOnly(b, s)
		club := community.Club{ID: community.NewID(), Slug: "bench-club", Name: "俱乐部", Kind: community.KindForum,
			Visibility: community.VisibilityPublic, JoinPolicy: community.JoinOpen, CreatedAt: benchBase}
		if err := s.CreateClub(ctx, club, nil); err != nil {
			b.Fatal(err)
		}
		memberships := make([]community.ClubMembership, len(ids))
		for i, id := range ids {
			memberships[i] = community.ClubMembership{ClubID: club.ID, MemberID: id, Role: community.RoleMember, Since: benchBase}
		}
		postIDs := make([]string, benchPosts)
		posts := make([]community.Post, benchPosts)
		for i := range posts {
			postIDs[i] = community.NewID()
			posts[i] = community.Post{ID: postIDs[i], ClubID: club.ID, AuthorID: ids[rng.IntN(len(ids))],
				Title: fmt.Sprintf("周末自驾游路线推荐 #%d", i), Body: "Leave early to avoid traffic; the coast road is beautiful in spring.",
				Tags: []string{"自驾"}, CreatedAt: benchBase.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond),
				Status: community.PostPublished}
		}
		pick := benchZipf(rng, benchPosts, 0.9)
		kinds := []community.ReactionKind{community.ReactionLike, community.ReactionLike, community.ReactionLike, community.ReactionInsightful, community.ReactionFunny, community.ReactionSupport}
		reactions := make([]community.Reaction, benchReactions)
		for i := range reactions {
			reactions[i] = community.Reaction{MemberID: ids[rng.IntN(len(ids))], TargetID: postIDs[pick()],
				Kind: kinds[rng.IntN(len(kinds))], At: benchBase.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour))))}
		}
		sampler := sampleImportHeap(b, s)
		b.StartTimer()

		start := time.Now()
		if err := s.ImportClubMembers(ctx, memberships); err != nil {
			b.Fatal(err)
		}
		b.Logf("imported %d club members in %v", len(memberships), time.Since(start))
		start = time.Now()
		var slowest time.Duration
		for lo := 0; lo < len(posts); lo += benchMembers {
			batch := time.Now()
			if err := s.ImportPosts(ctx, posts[lo:lo+benchMembers]); err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(batch))
		}
		took := time.Since(start)
		postsTook += took
		b.Logf("imported %d posts in %v (slowest batch %v)", len(posts), took, slowest)
		start, slowest = time.Now(), 0
		for lo := 0; lo < len(reactions); lo += benchMembers {
			batch := time.Now()
			if err := s.ImportReactions(ctx, reactions[lo:lo+benchMembers]); err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(batch))
		}
		took = time.Since(start)
		reactionsTook += took
		b.Logf("imported %d reactions in %v (slowest batch %v)", len(reactions), took, slowest)

		b.StopTimer()
		for statement, heap := range sampler() {
			b.Logf("most heap seen in one %s transaction: %.1f MiB", statement, float64(heap)/(1<<20))
		}
		stored, err := s.PostsByID(ctx, postIDs[:1])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("the most popular post counts %d reactions", stored[postIDs[0]].ReactionTotal())
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchPosts)/postsTook.Seconds(), "posts/s")
	b.ReportMetric(float64(b.N*benchReactions)/reactionsTook.Seconds(), "reactions/s")
}

// emptyGraphInChunks empties the graph as emptyGraph does, in transactions of a bounded
// size.
func emptyGraphInChunks(b *testing.B, s *Store) {
	b.Helper()
	ctx := context.Background()
	for _, cypher := range []string{cypherDeleteSomeRelationships, cypherDeleteSomeNodes} {
		for {
			n, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
				return count(ctx, tx, cypher, nil, "n")
			})
			if err != nil {
				b.Fatalf("empty the graph: %v", err)
			}
			if n == 0 {
				break
			}
		}
	}
}

const (
	cypherDeleteSomeRelationships = `
MATCH ()-[r]->() WITH r LIMIT 50000
DELETE r
RETURN count(*) AS n`

	cypherDeleteSomeNodes = `
MATCH (n) WHERE NOT n:Migration WITH n LIMIT 50000
DETACH DELETE n
RETURN count(*) AS n`
)

// benchMembersOnly imports benchMembers members in one batch and returns their ids.
func benchMembersOnly(b *testing.B, s *Store) []string {
	b.Helper()
	batch := make([]community.ImportedMember, benchMembers)
	ids := make([]string, benchMembers)
	for i := range batch {
		m := community.Member{ID: community.NewID(), Handle: fmt.Sprintf("bench_%05d", i), DisplayName: "会员", JoinedAt: benchBase}
		batch[i] = community.ImportedMember{Member: m, Identities: []community.Identity{{Provider: community.ProviderWeChat, ExternalID: "o-" + m.Handle, LinkedAt: benchBase}}}
		ids[i] = m.ID
	}
	if err := s.ImportMembers(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	return ids
}

// benchZipf returns a function drawing indices in [0, n) with weight 1/(i+1)^s.
func benchZipf(rng *rand.Rand, n int, s float64) func() int {
	cdf := make([]float64, n)
	total := 0.0
	for i := range cdf {
		total += 1 / math.Pow(float64(i+1), s)
		cdf[i] = total
	}
	return func() int {
		i, _ := slices.BinarySearch(cdf, rng.Float64()*total)
		return min(i, n-1)
	}
}

// importStatements names the bulk statements, to tell their transactions apart.
var importStatements = map[string]string{
	cypherImportClubMembers: "ImportClubMembers",
	cypherImportPosts:       "ImportPosts",
	cypherImportReactions:   "ImportReactions",
}

// sampleImportHeap polls the server's list of transactions until the function it returns
// is called, which returns, for each bulk statement, the most heap that one transaction
// running it was estimated to use.
func sampleImportHeap(b *testing.B, s *Store) func() map[string]int {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	most := map[string]int{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			recs, err := query(ctx, s, cypherTransactionHeap, nil)
			if err != nil {
				continue
			}
			for _, r := range recs {
				if name, ok := importStatements[str(get(r, "query"))]; ok {
					most[name] = max(most[name], integer(get(r, "heap")))
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() map[string]int {
		cancel()
		<-done
		return most
	}
}

const cypherTransactionHeap = `
SHOW TRANSACTIONS YIELD currentQuery, estimatedUsedHeapMemory
RETURN currentQuery AS query, estimatedUsedHeapMemory AS heap`
