package neo4jstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
	"quanzi/community/communitytest"
	"quanzi/community/neo4jstore/neo4jtest"
)

// cypherDeleteGraph empties the database for a test, keeping the migration records (and
// the schema, which no data statement touches), a batch at a time, so that a large graph
// (a benchmark's) does not outgrow one transaction's memory.
const cypherDeleteGraph = `MATCH (n) WHERE NOT n:Migration
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(n) AS deleted`

// testConfig reads the server to test against from the environment. Without NEO4J_URI the
// tests skip, except in CI, where the Neo4j adapter must not go untested.
func testConfig(t testing.TB) Config {
	t.Helper()
	return Config{
		URI:      neo4jtest.URI(t),
		Username: os.Getenv("NEO4J_USER"),
		Password: os.Getenv("NEO4J_PASSWORD"),
		Database: os.Getenv("NEO4J_DATABASE"),
		Logger:   slog.New(slog.DiscardHandler),
	}
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openEmpty opens the store on an empty graph; it closes itself when the test ends.
func openEmpty(t testing.TB, cfg Config) *Store {
	t.Helper()
	s := open(t, cfg)
	t.Cleanup(func() { s.Close(context.Background()) })
	emptyGraph(t, s)
	return s
}

func emptyGraph(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	for {
		deleted, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (int, error) {
			recs, err := collect(ctx, tx, cypherDeleteGraph, nil)
			if err != nil {
				return 0, err
			}
			return integer(get(recs[0], "deleted")), nil
		})
		if err != nil {
			t.Fatalf("empty the graph: %v", err)
		}
		if deleted == 0 {
			return
		}
	}
}

// TestContract runs the store contract, with the domain's outbox consumers and with
// several; each subtest starts from an empty graph.
func TestContract(t *testing.T) {
	cfg := testConfig(t)
	communitytest.Run(t, func(t *testing.T) community.Store { return openEmpty(t, cfg) })
	communitytest.RunRewards(t, func(t *testing.T) community.Store { return openEmpty(t, cfg) }, communitytest.RewardHooks{
		FlagReferral: func(t *testing.T, s community.Store, memberID string, flags []community.ReferralFlag) {
			names := make([]string, len(flags))
			for i, f := range flags {
				names[i] = string(f)
			}
			testWrite(t, s.(*Store), `MATCH (:Member {id: $id})-[r:REFERRED_BY]->() SET r.flags = $flags`, map[string]any{"id": memberID, "flags": names})
		},
		SpendPoints: func(t *testing.T, s community.Store, memberID, brandID string, points int) {
			testWrite(t, s.(*Store), `MATCH (:Member {id: $id})-[r:MEMBER_OF]->(:Brand {id: $brandId}) SET r.points = $points`,
				map[string]any{"id": memberID, "brandId": brandID, "points": int64(points)})
		},
	})
	communitytest.RunConsumers(t, func(t *testing.T, subs community.Subscriptions) community.Store {
		cfg := cfg
		cfg.Subscriptions = subs
		return openEmpty(t, cfg)
	})
}

// testWrite runs a statement of a test's own in a write transaction.
func testWrite(t *testing.T, s *Store, cypher string, params map[string]any) {
	t.Helper()
	ctx := context.Background()
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		return struct{}{}, exec(ctx, tx, cypher, params)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReopen checks that everything stored is there, the same, after the driver is closed
// and the store opened again.
func TestReopen(t *testing.T) {
	cfg := testConfig(t)
	s := openEmpty(t, cfg)
	ids := communitytest.Populate(t, s)
	before := communitytest.Snapshot(t, s, ids)
	if len(before.Followers[ids[2]]) == 0 {
		t.Fatal("the populated graph has no follows to compare")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = open(t, cfg)
	defer s.Close(context.Background())
	if diff := cmp.Diff(before, communitytest.Snapshot(t, s, ids)); diff != "" {
		t.Errorf("graph after reopening (-before +after):\n%s", diff)
	}
}

// TestMigrationsOnce checks that a store opened on a migrated database applies nothing.
func TestMigrationsOnce(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	n, err := s.migrate(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("migrating again applied %d migrations, want 0", n)
	}
}

// TestConflictMessages checks that a constraint violation reaches the caller as CONFLICT
// with a message of the store's own, never the driver's.
func TestConflictMessages(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	m := community.Member{ID: community.NewID(), Handle: "li_hua", DisplayName: "李华"}
	id := community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-1"}
	if err := s.CreateMember(ctx, m, id); err != nil {
		t.Fatal(err)
	}
	other := community.Member{ID: community.NewID(), Handle: "LI_HUA", DisplayName: "李华"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"handle", s.CreateMember(ctx, other, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-2"}), "the handle is taken"},
		{"identity", s.CreateMember(ctx, community.Member{ID: community.NewID(), Handle: "wang_fang"}, id), "the identity belongs to a member already"},
		{"id", s.CreateMember(ctx, community.Member{ID: m.ID, Handle: "zhang_wei"}, community.Identity{Provider: community.ProviderWeChat, ExternalID: "o-3"}), "the member exists already"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := community.ErrorCode(c.err); code != community.CodeConflict {
				t.Fatalf("error code = %q (%v), want CONFLICT", code, c.err)
			}
			if got := community.ErrorMessage(c.err); got != c.want {
				t.Errorf("message = %q, want %q", got, c.want)
			}
		})
	}
}

// TestNoLockLeftovers checks that the member locks of concurrent writes leave no property
// behind.
func TestNoLockLeftovers(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ctx := context.Background()
	communitytest.ConcurrentWrites(t, s)
	// The locks leave nothing behind.
	recs, err := query(ctx, s, cypherLockLeftovers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := integer(get(recs[0], "n")); n != 0 {
		t.Errorf("%d members keep a _lock property", n)
	}
}

const cypherLockLeftovers = `MATCH (m:Member) WHERE m._lock IS NOT NULL RETURN count(m) AS n`

// TestObserve checks that the observer sees each statement the store sends, with its
// parameters.
func TestObserve(t *testing.T) {
	cfg := testConfig(t)
	type statement struct {
		Cypher string
		IDs    any
	}
	var seen []statement
	cfg.Observe = func(cypher string, params map[string]any) {
		seen = append(seen, statement{cypher, params["ids"]})
	}
	s := openEmpty(t, cfg)
	seen = nil
	ctx := context.Background()
	if _, err := s.MembersByID(ctx, []string{"m1", "m2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FollowCounts(ctx, []string{"m3"}); err != nil {
		t.Fatal(err)
	}
	want := []statement{{cypherMembersByID, []string{"m1", "m2"}}, {cypherFollowCounts, []string{"m3"}}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("observed statements (-want +got):\n%s", diff)
	}
}

// TestMain holds the test Neo4j for the package's tests, which empty its graph, so that
// other packages testing on it wait (see neo4jtest.Exclusive).
func TestMain(m *testing.M) {
	if uri := os.Getenv("NEO4J_URI"); uri != "" {
		release, err := neo4jtest.Exclusive(uri)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		code := m.Run()
		release()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
