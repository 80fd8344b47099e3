package community

import (
	"context"
	"time"
)

// Store is the graph store: the system of record, as the union of the ports of each area.
// Adapters implement it whole (their compile-time checks name it) and the contract suite
// runs over it; consumers take the area ports they use. Every method is one round trip to
// the store and, when it writes, one transaction. Methods are called by the services only,
// after they have validated input and checked who may act; errors carry the codes named on
// each method, and any other failure is INTERNAL.
type Store interface {
	MemberStore
	BrandStore
	ClubStore
	PostStore
	ReferralStore
	AttributionStore
	RankingStore
	RewardStore
	DownlineStore
	BulkStore
	Outbox
	IdempotencyStore

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// SharedReads is a store that can serve the reads of one request from one read
// transaction, so that a request of many statements pays for one transaction instead of
// one each. Stores that cannot (the embedded store needs no transactions to read) do not
// implement it; Services.ShareReads then changes nothing.
type SharedReads interface {
	// ShareReads returns a context in which the store's reads share one read transaction,
	// begun at the first read, and a function that ends it. Reads in that context run one
	// at a time. A read that fails there is run again in a transaction of its own, so
	// sharing never turns a read that would succeed into an error. Called by the API for
	// each query operation (never a mutation, whose reads must follow its writes); end is
	// called once, when the operation's reads are over.
	ShareReads(ctx context.Context) (shared context.Context, end func())
}

// MemberStore is the part of the Store about members, their identities and follows.
type MemberStore interface {
	// CreateMember stores a new member bound to its first identity, and the hashes of the
	// devices it was first seen with (most recent first; at most MaxDevicesKept are kept),
	// in one transaction. CONFLICT when the handle (case-insensitively) or the identity is
	// taken.
	CreateMember(ctx context.Context, m Member, first Identity, devices ...string) error
	// UpdateMember applies a validated update to a member's profile in one transaction and
	// returns the result. NOT_FOUND for an unknown member; CONFLICT when the new handle is taken.
	UpdateMember(ctx context.Context, memberID string, in UpdateProfileInput) (Member, error)
	// MembersByID returns the members with the given ids; unknown ids are absent from the map.
	MembersByID(ctx context.Context, ids []string) (map[string]Member, error)
	// SearchMembers returns up to limit members whose handle or display name starts with
	// prefix, compared case-insensitively: handle matches first (by handle), then display
	// name matches (by display name folded to lower case, then id). prefix is not empty.
	SearchMembers(ctx context.Context, prefix string, limit int) ([]Member, error)
	// MemberByHandle returns the member with the handle, compared case-insensitively.
	// NOT_FOUND when there is none. A store may read ahead what ReadAheadOf(ctx) names
	// about the member (Members aside: it is the member).
	MemberByHandle(ctx context.Context, handle string) (Member, error)
	// IdentitiesOf returns the identities of each given member, ordered by LinkedAt, then
	// by provider.
	IdentitiesOf(ctx context.Context, memberIDs []string) (map[string][]Identity, error)
	// LinkIdentity binds an identity to a member; linking the same identity again is a no-op.
	// NOT_FOUND for an unknown member; CONFLICT when the identity belongs to another member
	// or the member already has another identity of that provider.
	LinkIdentity(ctx context.Context, memberID string, id Identity) error
	// UnlinkIdentity removes the member's identity of a provider.
	// NOT_FOUND when the member has none; BAD_USER_INPUT when it is the member's last one.
	UnlinkIdentity(ctx context.Context, memberID string, provider IdentityProvider) error

	// Follow records that follower follows followee since at; following again is a no-op
	// that keeps the first time. NOT_FOUND when either member is unknown.
	Follow(ctx context.Context, followerID, followeeID string, at time.Time) error
	// Unfollow removes the follow if there is one. NOT_FOUND when either member is unknown.
	Unfollow(ctx context.Context, followerID, followeeID string) error
	// FollowLists returns, for each request, a page of up to first edges of the member's
	// list of that kind (after the request's position), in the order of the requests; an
	// unknown member has an empty list. One round trip whatever the number of requests. A
	// store may read ahead what ReadAheadOf(ctx) names about the listed members.
	FollowLists(ctx context.Context, kind ListKind, first int, reqs []ListRequest) ([]FollowPage, error)
	// FollowCounts returns follower and following counts for each given member; unknown
	// members may be absent from the map.
	FollowCounts(ctx context.Context, memberIDs []string) (map[string]FollowCounts, error)
	// FollowStates returns, for each other member, whether viewerID follows it and whether it
	// follows viewerID.
	FollowStates(ctx context.Context, viewerID string, otherIDs []string) (map[string]FollowState, error)
	// SuggestedFollows ranks, for each given member, members followed by the members it
	// follows, excluding itself and those it already follows: by how many of its followings
	// follow them (Via), then by follower count, then by id; at most limit for each member.
	SuggestedFollows(ctx context.Context, memberIDs []string, limit int) (map[string][]Suggestion, error)
}

// ImportedMember is a member with its identities, for Store.ImportMembers.
type ImportedMember struct {
	Member     Member
	Identities []Identity
	// Devices are the hashes of the devices the member was seen with, most recent first;
	// at most MaxDevicesKept are kept.
	Devices []string
}

// Follow is one follow relationship.
type Follow struct {
	FollowerID string
	FolloweeID string
	Since      time.Time
}

// ListKind names one of a member's follow lists.
type ListKind string

// The follow lists of a member. Each is ordered by the time of the follow, newest first,
// then by member id; the mutual list by the time of the member's own follow.
const (
	// ListFollowers are the members who follow the member.
	ListFollowers ListKind = "followers"
	// ListFollowing are the members the member follows.
	ListFollowing ListKind = "following"
	// ListMutual are the members the member follows who follow it back.
	ListMutual ListKind = "mutual"
)

// Valid reports whether k is one of the list kinds.
func (k ListKind) Valid() bool {
	return k == ListFollowers || k == ListFollowing || k == ListMutual
}

// ListRequest asks for a page of one member's list, starting after a position (nil for
// the first page).
type ListRequest struct {
	MemberID string
	After    *Position
}

// Position is where an item of a list ordered by time and id stands: follow lists and a
// club's members by Since descending, then ID (a member's id) ascending; comments, consent
// changes and join requests by their times and ids, as each list says.
type Position struct {
	Since time.Time
	ID    string
}

// Precedes reports whether p comes before an item at (since, id) in list order, so that
// the item belongs on a page that starts after p: an older follow, or an equal time with a
// greater id.
func (p Position) Precedes(since time.Time, id string) bool {
	if !since.Equal(p.Since) {
		return since.Before(p.Since)
	}
	return id > p.ID
}

// FollowEdge is one member in a follow list, with the time of the follow.
type FollowEdge struct {
	MemberID string
	Since    time.Time
}

// FollowPage is one page of a follow list.
type FollowPage struct {
	Edges       []FollowEdge
	HasNextPage bool
	// TotalCount is the length of the whole list.
	TotalCount int
}

// FollowCounts is how many members follow a member and how many it follows.
type FollowCounts struct {
	Followers int
	Following int
}

// FollowState is the follow relationship between a viewer and another member.
type FollowState struct {
	// ViewerFollows is true when the viewer follows the other member.
	ViewerFollows bool
	// FollowsViewer is true when the other member follows the viewer.
	FollowsViewer bool
}

// Suggestion is a member suggested to follow.
type Suggestion struct {
	MemberID string
	// Via is how many of the member's followings follow the suggested member.
	Via           int
	FollowerCount int
}

// CompareSuggestions orders suggestions as SuggestedFollows ranks them.
func CompareSuggestions(a, b Suggestion) int {
	switch {
	case a.Via != b.Via:
		return b.Via - a.Via
	case a.FollowerCount != b.FollowerCount:
		return b.FollowerCount - a.FollowerCount
	case a.MemberID < b.MemberID:
		return -1
	case a.MemberID > b.MemberID:
		return 1
	}
	return 0
}

// CheckImport returns CONFLICT when a batch for Store.ImportMembers contradicts itself: the
// same id, handle (case-insensitively) or identity twice, or a member with two identities
// of one provider. Stores call it before they write; conflicts with stored members are
// theirs to find.
func CheckImport(batch []ImportedMember) error {
	ids := map[string]bool{}
	handles := map[string]bool{}
	idents := map[Identity]bool{}
	for _, im := range batch {
		h := HandleKey(im.Member.Handle)
		switch {
		case ids[im.Member.ID]:
			return Errorf(CodeConflict, "member %q is in the batch twice", im.Member.ID)
		case handles[h]:
			return Errorf(CodeConflict, "handle %q is in the batch twice", im.Member.Handle)
		}
		ids[im.Member.ID], handles[h] = true, true
		providers := map[IdentityProvider]bool{}
		for _, id := range im.Identities {
			k := Identity{Provider: id.Provider, ExternalID: id.ExternalID}
			if idents[k] || providers[id.Provider] {
				return Errorf(CodeConflict, "the batch has a %s identity twice", id.Provider)
			}
			idents[k], providers[id.Provider] = true, true
		}
	}
	return nil
}
