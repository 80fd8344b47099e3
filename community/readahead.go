package community

import "context"

// A request that reads a page of members usually reads next the members themselves and
// some of their counts: three dependent round trips where one would do. A read-ahead
// tells the store, on the read of a page or of a member, what the request will read next
// about the members it returns; a store that serves reads in a request's shared
// transaction (SharedReads) may read those in the same statement and answer the later
// reads of that transaction without a round trip. It is a hint: a store may ignore it,
// and the later reads still go through the services and their rules as before.

// ReadAhead is what a request will read next about the members a read returns.
type ReadAhead struct {
	// Members: the members themselves (MembersByID).
	Members bool
	// FollowCounts: their follower and following counts (FollowCounts).
	FollowCounts bool
	// Followers and Following: the first page of each of their lists of that kind
	// (FollowLists with no position), where First is above zero.
	Followers, Following PageAhead
}

// PageAhead is the first page of a list that a request will read next, and what it will
// read about the members the page lists.
type PageAhead struct {
	First        int
	Members      bool
	FollowCounts bool
}

type readAheadKey struct{}

// WithReadAhead returns a context whose reads carry ra. The hint belongs to one read: pass
// the returned context to that read only, not to the reads below it.
func WithReadAhead(ctx context.Context, ra ReadAhead) context.Context {
	if ra == (ReadAhead{}) {
		return ctx
	}
	return context.WithValue(ctx, readAheadKey{}, ra)
}

// ReadAheadOf returns the read-ahead ctx carries, if any: for store adapters.
func ReadAheadOf(ctx context.Context) ReadAhead {
	ra, _ := ctx.Value(readAheadKey{}).(ReadAhead)
	return ra
}
