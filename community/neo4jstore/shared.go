package neo4jstore

import (
	"context"
	"sync"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

var _ community.SharedReads = (*Store)(nil)

// A request that reads a page of members, their counts and the pages below them sends a
// handful of statements; each in a transaction of its own costs Neo4j a transaction's
// set-up and tear-down (as much CPU as a small statement) and the driver a session, a
// BEGIN and a COMMIT. A shared read runs them all in one explicit read transaction.

type sharedKey struct{}

// sharedRead is the read transaction that the reads of one context share. Its statements
// run one at a time: one transaction is one connection.
type sharedRead struct {
	s *Store

	mu      sync.Mutex
	session neo4j.SessionWithContext
	tx      neo4j.ExplicitTransaction
	// broken is set when a statement failed in the transaction or the transaction could not
	// begin: Neo4j ends a transaction whose statement fails, so the reads after it run in
	// transactions of their own.
	broken bool
	ended  bool

	ahead aheadRead
}

// ShareReads implements community.SharedReads.
func (s *Store) ShareReads(ctx context.Context) (context.Context, func()) {
	sr := &sharedRead{s: s}
	return context.WithValue(ctx, sharedKey{}, sr), sr.end
}

// shared returns the context's shared read of s, or nil.
func shared(ctx context.Context, s *Store) *sharedRead {
	sr, _ := ctx.Value(sharedKey{}).(*sharedRead)
	if sr == nil || sr.s != s {
		return nil
	}
	return sr
}

// readShared runs work in the shared transaction; ok is false when it could not (the
// transaction is broken or over, or work failed in it), and then the read is the caller's
// to run alone.
func readShared[T any](ctx context.Context, sr *sharedRead, work neo4j.ManagedTransactionWorkT[T]) (v T, ok bool) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.broken || sr.ended {
		return v, false
	}
	sr.s.trips.CountShared(sr.tx == nil)
	if sr.tx == nil {
		sr.session = sr.s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: sr.s.database, BookmarkManager: sr.s.bookmarks, AccessMode: neo4j.AccessModeRead})
		tx, err := sr.session.BeginTransaction(ctx)
		if err != nil {
			sr.broken = true
			sr.release()
			return v, false
		}
		sr.tx = tx
	}
	// An explicit transaction runs statements as a managed one does; the driver's own
	// type is both.
	mtx, isManaged := sr.tx.(neo4j.ManagedTransaction)
	if !isManaged {
		sr.broken = true
		sr.release()
		return v, false
	}
	v, err := observed(sr.s, work)(mtx)
	if err != nil {
		sr.broken = true
		sr.release()
		return v, false
	}
	return v, true
}

// end ends the shared transaction, if one began. It reads only, so it is rolled back.
func (sr *sharedRead) end() {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	sr.ended = true
	sr.release()
}

// release closes the transaction and its session; the caller holds mu.
func (sr *sharedRead) release() {
	// The request's context may be over by now; closing must still reach the server, so
	// that the connection goes back to the pool clean.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sr.tx != nil {
		sr.tx.Close(ctx)
		sr.tx = nil
	}
	if sr.session != nil {
		sr.session.Close(ctx)
		sr.session = nil
	}
}

// aheadRead is what the reads of a shared transaction read ahead (community.ReadAhead)
// about members, by member id, for the reads after them in that transaction.
type aheadRead struct {
	mu      sync.Mutex
	members map[string]community.Member
	counts  map[string]community.FollowCounts
	lists   map[listAhead]community.FollowPage
}

// listAhead names a first page read ahead.
type listAhead struct {
	kind   community.ListKind
	member string
	first  int
}

// pages returns the first pages of reqs from what was read ahead, or nil unless every one
// of them was.
func (a *aheadRead) pages(kind community.ListKind, first int, reqs []community.ListRequest) []community.FollowPage {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]community.FollowPage, len(reqs))
	for i, r := range reqs {
		p, ok := a.lists[listAhead{kind, r.MemberID, first}]
		if !ok || r.After != nil {
			return nil
		}
		out[i] = p
	}
	return out
}

// ahead returns the read-ahead of ctx's shared read of s, and what the read in ctx is
// asked to read ahead; nil when ctx has no shared read, where reading ahead would serve
// nothing.
func ahead(ctx context.Context, s *Store) (*aheadRead, community.ReadAhead) {
	sr := shared(ctx, s)
	if sr == nil {
		return nil, community.ReadAhead{}
	}
	return &sr.ahead, community.ReadAheadOf(ctx)
}

// aheadParams sets $members and $counts, the parameters of memberAhead, to what the read
// in ctx is asked to read ahead about the members it lists, and returns where to keep
// them: nil, and nothing read ahead, when ctx has no shared read of s.
func aheadParams(ctx context.Context, s *Store, params map[string]any) *aheadRead {
	a, want := ahead(ctx, s)
	params["members"], params["counts"] = a != nil && want.Members, a != nil && want.FollowCounts
	return a
}

// take files the member id and its follow counts from a row of a page that read them
// ahead (see memberAhead); a row that did not read them leaves a as it is. It is for a
// page's own aheadRead, before keep files that in the shared one.
func (a *aheadRead) take(id string, row map[string]any) {
	if m := row["member"]; m != nil {
		if a.members == nil {
			a.members = map[string]community.Member{}
		}
		a.members[id] = memberFrom(m)
	}
	if c := row["followers"]; c != nil {
		if a.counts == nil {
			a.counts = map[string]community.FollowCounts{}
		}
		a.counts[id] = community.FollowCounts{Followers: integer(c), Following: integer(row["following"])}
	}
}

// keepPage files a first page read ahead.
func (a *aheadRead) keepPage(kind community.ListKind, member string, first int, p community.FollowPage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lists == nil {
		a.lists = map[listAhead]community.FollowPage{}
	}
	a.lists[listAhead{kind, member, first}] = p
}

// keep files what a read read ahead.
func (a *aheadRead) keep(members map[string]community.Member, counts map[string]community.FollowCounts) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(members) > 0 && a.members == nil {
		a.members = map[string]community.Member{}
	}
	for id, m := range members {
		a.members[id] = m
	}
	if len(counts) > 0 && a.counts == nil {
		a.counts = map[string]community.FollowCounts{}
	}
	for id, c := range counts {
		a.counts[id] = c
	}
}

// readKept returns the values of ids from what the shared read of ctx read ahead (kept
// picks which), reading the others with read: in no round trip when every id was read
// ahead.
func readKept[V any](ctx context.Context, s *Store, ids []string, kept func(*aheadRead) map[string]V, read func([]string) (map[string]V, error)) (map[string]V, error) {
	a, _ := ahead(ctx, s)
	if a == nil {
		return read(ids)
	}
	out := make(map[string]V, len(ids))
	var rest []string
	a.mu.Lock()
	have := kept(a)
	for _, id := range ids {
		if v, ok := have[id]; ok {
			out[id] = v
		} else {
			rest = append(rest, id)
		}
	}
	a.mu.Unlock()
	if len(rest) == 0 {
		return out, nil
	}
	more, err := read(rest)
	if err != nil {
		return nil, err
	}
	for id, v := range more {
		out[id] = v
	}
	return out, nil
}
