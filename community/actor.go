package community

import (
	"context"
	"slices"
)

// Role is a platform role carried in a token's roles claim.
type Role string

// The platform roles.
const (
	RoleAdmin            Role = "ADMIN"
	RoleCommunityManager Role = "COMMUNITY_MANAGER"
	RoleBrandAdmin       Role = "BRAND_ADMIN"
	RoleBrandStaff       Role = "BRAND_STAFF"
)

// Actor is who is calling: the verified claims of a bearer token, or nobody.
type Actor struct {
	// MemberID is the token's sub: the member acting, or "" for a person with no member yet.
	MemberID string
	Roles    []Role
	// BrandID is the brand that brand staff act for.
	BrandID string
	// Identity is a verified external identity with no member yet (used to register), or nil.
	Identity *Identity
	// AuthError is why a presented token was refused; the caller is then anonymous, and any
	// operation that needs a token fails UNAUTHENTICATED with this reason.
	AuthError error
}

// HasRole reports whether the actor holds role.
func (a Actor) HasRole(role Role) bool { return slices.Contains(a.Roles, role) }

// IsMember reports whether the actor is a signed-in member.
func (a Actor) IsMember() bool { return a.MemberID != "" }

// nobody reports whether the actor presented no token: no member, identity or role.
func (a Actor) nobody() bool { return !a.IsMember() && a.Identity == nil && len(a.Roles) == 0 }

// anonymous reports whether the actor is nobody, or presented a token that was refused.
func (a Actor) anonymous() bool { return a.AuthError != nil || a.nobody() }

// claimant reports whether the actor's accepted token carries a verified identity and no
// member: a person who may just have registered, and who sees the member that identity
// belongs to as that member would.
func (a Actor) claimant() bool { return a.Identity != nil && !a.IsMember() && a.AuthError == nil }

// TokenVerifier checks a bearer token and returns the actor it names. It returns
// UNAUTHENTICATED for a token that is malformed, wrongly signed or expired.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (Actor, error)
}

type actorKey struct{}

// WithActor returns a context that carries the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or the anonymous actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// unauthenticated is the error for an operation that needs a token it was not given.
func unauthenticated(a Actor) error {
	if a.AuthError != nil {
		return &Error{Code: CodeUnauthenticated, Message: ErrorMessage(a.AuthError)}
	}
	return Errorf(CodeUnauthenticated, "sign in to do this")
}

// requireMember returns the actor if it is a member: UNAUTHENTICATED without a valid token,
// FORBIDDEN for a valid token that names no member (a newcomer, or a role alone).
func requireMember(ctx context.Context) (Actor, error) {
	a := ActorFrom(ctx)
	switch {
	case a.AuthError != nil:
		return a, unauthenticated(a)
	case a.IsMember():
		return a, nil
	case a.Identity != nil:
		return a, Errorf(CodeForbidden, "register as a member first")
	case len(a.Roles) > 0:
		return a, Errorf(CodeForbidden, "this needs a member's token")
	}
	return a, unauthenticated(a)
}
