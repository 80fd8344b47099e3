package community

import (
	"context"
	"time"
)

// Reaction is one member's reaction of a kind to a post or a comment.
type Reaction struct {
	MemberID string
	TargetID string
	Kind     ReactionKind
	At       time.Time
}

// BulkStore is the part of the Store that loads a community in bulk, for seeding and
// migrations: each call stores a whole batch (callers send up to about 10,000 rows) in
// one transaction and one round trip, skipping rows that refer to what is not there.
type BulkStore interface {
	// ImportMembers stores many members at once, each with its identities; for seeding and
	// migration. CONFLICT as for CreateMember.
	ImportMembers(ctx context.Context, members []ImportedMember) error
	// ImportFollows stores many follows at once; follows between unknown members are skipped.
	ImportFollows(ctx context.Context, follows []Follow) error
	// ImportClubMembers stores many club memberships; memberships of unknown clubs or
	// members, and of members already in the club, are skipped.
	ImportClubMembers(ctx context.Context, memberships []ClubMembership) error
	// ImportPosts stores many posts as CreatePost does, ignoring the counters they carry (a
	// new post has none); posts of unknown clubs or authors are skipped. CONFLICT when an id is taken
	// (by a post or a comment), and then nothing of the batch is stored.
	ImportPosts(ctx context.Context, posts []Post) error
	// ImportReactions stores many reactions and counts them on their targets; reactions
	// of unknown members or targets, and repeated ones, are skipped.
	ImportReactions(ctx context.Context, reactions []Reaction) error
	// ImportReferrals stores many referrals at once, as if each were redeemed in turn
	// without the rules of redemption, and keeps the downline figures (DownlineStore) as
	// RedeemInvite does. A referral of an unknown member, of a member referred already
	// (before or earlier in the batch), or that would close a cycle is skipped; Code,
	// CampaignID and Channel are kept as given.
	ImportReferrals(ctx context.Context, referrals []Referral) error
}
