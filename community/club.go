package community

import (
	"context"
	"time"
)

// ClubKind is what a club is for.
type ClubKind string

// The kinds of club.
const (
	// KindOwnerClub gathers the owners of a brand's product: car owners (车友会), the
	// residents of a development.
	KindOwnerClub ClubKind = "OWNER_CLUB"
	// KindForum is a discussion forum.
	KindForum ClubKind = "FORUM"
	// KindInterest gathers members around an interest.
	KindInterest ClubKind = "INTEREST"
)

// ClubVisibility says who sees a club's posts.
type ClubVisibility string

// The visibilities of a club.
const (
	// VisibilityPublic clubs show their posts and members to the community.
	VisibilityPublic ClubVisibility = "PUBLIC"
	// VisibilityPrivate clubs show them to their members only.
	VisibilityPrivate ClubVisibility = "PRIVATE"
)

// JoinPolicy says how a member joins a club.
type JoinPolicy string

// The join policies of a club.
const (
	// JoinOpen clubs take anyone at once.
	JoinOpen JoinPolicy = "OPEN"
	// JoinApproval clubs take a request that the club's managers or its brand's staff approve.
	JoinApproval JoinPolicy = "APPROVAL"
	// JoinVerifiedOwner clubs take at once, verified, a member with a purchase from the host
	// brand that was not refunded; anyone else makes a request.
	JoinVerifiedOwner JoinPolicy = "VERIFIED_OWNER"
)

// Club is a group of members: an owners' club, a forum, an interest group; hosted by a
// brand or by the platform.
type Club struct {
	ID          string
	Slug        string
	Name        string
	Description string
	Kind        ClubKind
	Visibility  ClubVisibility
	JoinPolicy  JoinPolicy
	// BrandID is the host brand, or "" for a club of the platform.
	BrandID   string
	CreatedAt time.Time
}

// IsEntity marks Club as an entity of the federated graph (see Member.IsEntity).
func (Club) IsEntity() {}

// ClubRole is a member's role in a club.
type ClubRole string

// The roles in a club.
const (
	RoleMember    ClubRole = "MEMBER"
	RoleModerator ClubRole = "MODERATOR"
	RoleManager   ClubRole = "MANAGER"
)

// ClubMembership is a member's place in a club.
type ClubMembership struct {
	ClubID   string
	MemberID string
	Role     ClubRole
	Since    time.Time
	// Verified is true for a member let in as a verified owner.
	Verified bool
}

// MaxJoinMessage is the longest message of a join request, in characters.
const MaxJoinMessage = 500

// JoinRequest is a member's pending request to join a club.
type JoinRequest struct {
	ClubID   string
	MemberID string
	Message  string
	At       time.Time
}

// ClubMemberKey names one member's place in one club.
type ClubMemberKey struct {
	ClubID   string
	MemberID string
}

// ClubListRequest asks for a page of one club's members, starting after a position (nil
// for the first page).
type ClubListRequest struct {
	ClubID string
	After  *Position
}

// ClubMemberPage is one page of a club's members.
type ClubMemberPage struct {
	Memberships []ClubMembership
	HasNextPage bool
}

// CreateClubInput is what staff give to create a club.
type CreateClubInput struct {
	Slug        string
	Name        string
	Description string
	Kind        ClubKind
	Visibility  ClubVisibility
	JoinPolicy  JoinPolicy
	BrandID     string
}

// UpdateClubInput changes the fields that are set.
type UpdateClubInput struct {
	Name        *string
	Description *string
	Visibility  *ClubVisibility
	JoinPolicy  *JoinPolicy
}

// Apply returns c with the set fields of in.
func (in UpdateClubInput) Apply(c Club) Club {
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Visibility != nil {
		c.Visibility = *in.Visibility
	}
	if in.JoinPolicy != nil {
		c.JoinPolicy = *in.JoinPolicy
	}
	return c
}

func (in *UpdateClubInput) normalize() {
	if in.Name != nil {
		*in.Name = nameText.normalize(*in.Name)
	}
	if in.Description != nil {
		*in.Description = descriptionText.normalize(*in.Description)
	}
}

func (in UpdateClubInput) validate() error {
	if in.Name == nil && in.Description == nil && in.Visibility == nil && in.JoinPolicy == nil {
		return fieldError("input", "nothing to update")
	}
	if in.Name != nil {
		if err := nameText.check(*in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := descriptionText.check(*in.Description); err != nil {
			return err
		}
	}
	if in.Visibility != nil && *in.Visibility != VisibilityPublic && *in.Visibility != VisibilityPrivate {
		return fieldError("visibility", "unknown visibility %q", *in.Visibility)
	}
	if in.JoinPolicy != nil && !validJoinPolicy(*in.JoinPolicy) {
		return fieldError("joinPolicy", "unknown join policy %q", *in.JoinPolicy)
	}
	return nil
}

func validJoinPolicy(p JoinPolicy) bool {
	return p == JoinOpen || p == JoinApproval || p == JoinVerifiedOwner
}

// ClubStore is the part of the Store about clubs, their members and join requests. Like
// the rest of Store, every method is one round trip.
type ClubStore interface {
	// CreateClub stores a new club and, when manager is not nil, that first membership, in
	// one transaction. CONFLICT when the id or slug is taken; NOT_FOUND when the host
	// brand or the manager is unknown.
	CreateClub(ctx context.Context, c Club, manager *ClubMembership) error
	// UpdateClub applies a validated update to a club and returns it; a change of
	// visibility also writes an EventClub outbox event in the same transaction. NOT_FOUND
	// for an unknown club.
	UpdateClub(ctx context.Context, clubID string, in UpdateClubInput) (Club, error)
	// ClubsByID returns the clubs with the given ids; unknown ids are absent.
	ClubsByID(ctx context.Context, ids []string) (map[string]Club, error)
	// ClubBySlug returns the club with the slug (a SlugKey). NOT_FOUND when none.
	ClubBySlug(ctx context.Context, slug string) (Club, error)
	// ClubsOfBrands returns the clubs each brand hosts, oldest first.
	ClubsOfBrands(ctx context.Context, brandIDs []string) (map[string][]Club, error)

	// JoinClub makes a member of the club, removing the member's join request if any; a
	// member already keeps its place (role, since). NOT_FOUND for an unknown club or member.
	JoinClub(ctx context.Context, m ClubMembership) error
	// LeaveClub removes the member from the club, if it is one.
	LeaveClub(ctx context.Context, clubID, memberID string) error
	// RequestJoin records a pending join request; asking again keeps the first. CONFLICT
	// when the member is in the club already; NOT_FOUND for an unknown club or member.
	RequestJoin(ctx context.Context, r JoinRequest) error
	// JoinRequests pages through a club's pending requests, newest first (At descending,
	// then member id ascending), after a position (nil for the first page).
	JoinRequests(ctx context.Context, clubID string, first int, after *Position) ([]JoinRequest, bool, error)
	// DecideJoinRequest removes a pending request and, when approve, makes the member a
	// MEMBER of the club since at, in one transaction. NOT_FOUND when there is no such request.
	DecideJoinRequest(ctx context.Context, clubID, memberID string, approve bool, at time.Time) error
	// SetClubRole changes a member's role in a club. NOT_FOUND when it is not a member.
	SetClubRole(ctx context.Context, clubID, memberID string, role ClubRole) error
	// ClubMemberships returns the memberships the keys name; keys that are not members
	// are absent.
	ClubMemberships(ctx context.Context, keys []ClubMemberKey) (map[ClubMemberKey]ClubMembership, error)
	// ClubMembers returns, for each request, a page of up to first of the club's members
	// of a role ("" for all roles), newest first (Since descending, then member id
	// ascending), after the request's position, in the order of the requests; an unknown
	// club has an empty page. One round trip whatever the number of requests.
	ClubMembers(ctx context.Context, role ClubRole, first int, reqs []ClubListRequest) ([]ClubMemberPage, error)
	// ClubMemberCounts returns the number of members of each club.
	ClubMemberCounts(ctx context.Context, clubIDs []string) (map[string]int, error)
	// JoinedClubIDs returns the ids of the clubs the member belongs to (any role), in no
	// particular order; none for an unknown member.
	JoinedClubIDs(ctx context.Context, memberID string) ([]string, error)
}
