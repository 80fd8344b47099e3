package neo4jstore

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
	"quanzi/community/communitytest"
)

// reads are the reads of a small request: members, their counts, their followers.
type reads struct {
	Members   map[string]community.Member
	Counts    map[string]community.FollowCounts
	Followers []community.FollowPage
}

// readAll reads members, counts and follower pages of ids, as a small request would.
func readAll(ctx context.Context, s *Store, ids []string) (reads, error) {
	var r reads
	var err error
	if r.Members, err = s.MembersByID(ctx, ids); err != nil {
		return r, err
	}
	if r.Counts, err = s.FollowCounts(ctx, ids); err != nil {
		return r, err
	}
	reqs := make([]community.ListRequest, len(ids))
	for i, id := range ids {
		reqs[i] = community.ListRequest{MemberID: id}
	}
	r.Followers, err = s.FollowLists(ctx, community.ListFollowers, 3, reqs)
	return r, err
}

func mustReadAll(t *testing.T, ctx context.Context, s *Store, ids []string) reads {
	t.Helper()
	r, err := readAll(ctx, s, ids)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// populated returns a store on a small populated graph, its members' ids, and what
// readAll answers for them apart from any shared read.
func populated(t *testing.T) (*Store, []string, reads) {
	t.Helper()
	s := openEmpty(t, testConfig(t))
	ids := communitytest.Populate(t, s)
	return s, ids, mustReadAll(t, context.Background(), s, ids)
}

// TestSharedReads checks that the reads of a shared context answer as reads apart do, in
// one transaction for all of them, and that a read after the end runs on its own.
func TestSharedReads(t *testing.T) {
	s, ids, want := populated(t)

	ctx, end := s.ShareReads(context.Background())
	trips, txs := s.trips.Total(), s.trips.Transactions()
	got := mustReadAll(t, ctx, s, ids)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shared reads (-apart +shared):\n%s", diff)
	}
	if n := s.trips.Total() - trips; n != 3 {
		t.Errorf("shared reads made %d round trips, want 3", n)
	}
	if n := s.trips.Transactions() - txs; n != 1 {
		t.Errorf("shared reads made %d transactions, want 1", n)
	}
	end()
	txs = s.trips.Transactions()
	if diff := cmp.Diff(want, mustReadAll(t, ctx, s, ids)); diff != "" {
		t.Errorf("reads after the end (-apart +after):\n%s", diff)
	}
	if n := s.trips.Transactions() - txs; n != 3 {
		t.Errorf("reads after the end made %d transactions, want one each, 3", n)
	}
}

// TestSharedReadsConcurrent checks that reads of one shared context from many goroutines
// at once take turns on the one transaction, each with its own answer.
func TestSharedReadsConcurrent(t *testing.T) {
	s, ids, want := populated(t)
	ctx, end := s.ShareReads(context.Background())
	defer end()
	txs := s.trips.Transactions()
	var wg sync.WaitGroup
	got, errs := make([]reads, 8), make([]error, 8)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = readAll(ctx, s, ids) })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Errorf("reader %d: %v", i, errs[i])
		} else if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("reader %d (-apart +shared):\n%s", i, diff)
		}
	}
	if n := s.trips.Transactions() - txs; n != 1 {
		t.Errorf("concurrent shared reads made %d transactions, want 1", n)
	}
}

// TestSharedReadsOutliveTheirTransaction checks that when the server ends the shared
// transaction (a timeout, an administrator), the reads after it still answer, each in a
// transaction of its own.
func TestSharedReadsOutliveTheirTransaction(t *testing.T) {
	s, ids, want := populated(t)
	ctx, end := s.ShareReads(context.Background())
	defer end()
	if _, err := s.MembersByID(ctx, ids); err != nil {
		t.Fatal(err)
	}
	terminateOthers(t, s)
	txs := s.trips.Transactions()
	if diff := cmp.Diff(want, mustReadAll(t, ctx, s, ids)); diff != "" {
		t.Errorf("reads after the transaction was terminated (-apart +shared):\n%s", diff)
	}
	if n := s.trips.Transactions() - txs; n != 3 {
		t.Errorf("reads after the transaction was terminated made %d transactions, want one each, 3", n)
	}
}

// terminateOthers terminates every open transaction on the server but its own.
func terminateOthers(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	session := s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.database})
	defer session.Close(ctx)
	res, err := session.Run(ctx, "SHOW TRANSACTIONS YIELD transactionId, currentQuery WHERE NOT currentQuery STARTS WITH 'SHOW TRANSACTIONS' RETURN collect(transactionId) AS ids", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := res.Single(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := rec.Get("ids")
	if len(ids.([]any)) == 0 {
		t.Fatal("no open transaction to terminate")
	}
	res, err = session.Run(ctx, "TERMINATE TRANSACTIONS $ids", map[string]any{"ids": ids})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Consume(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReadAhead checks that what a read of a shared context reads ahead answers the reads
// after it without a round trip, as they would have answered, and that without a shared
// read the hint changes nothing.
func TestReadAhead(t *testing.T) {
	s := openEmpty(t, testConfig(t))
	ids := communitytest.Populate(t, s)
	star, err := s.MembersByID(context.Background(), ids[:1])
	if err != nil {
		t.Fatal(err)
	}
	handle := star[ids[0]].Handle
	want, err := s.FollowCounts(context.Background(), ids[:1])
	if err != nil {
		t.Fatal(err)
	}
	counted := community.WithReadAhead(context.Background(), community.ReadAhead{FollowCounts: true})
	for _, share := range []bool{true, false} {
		ctx, end := counted, func() {}
		if share {
			ctx, end = s.ShareReads(counted)
		}
		trips := s.trips.Total()
		if _, err := s.MemberByHandle(ctx, handle); err != nil {
			t.Fatal(err)
		}
		got, err := s.FollowCounts(ctx, ids[:1])
		if err != nil {
			t.Fatal(err)
		}
		end()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("shared %v: counts after reading ahead (-apart +ahead):\n%s", share, diff)
		}
		wantTrips := int64(2)
		if share {
			wantTrips = 1
		}
		if n := s.trips.Total() - trips; n != wantTrips {
			t.Errorf("shared %v: a member by handle and its counts cost %d round trips, want %d", share, n, wantTrips)
		}
	}
}
