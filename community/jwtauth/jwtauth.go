// Package jwtauth verifies the bearer tokens of the platform's identity provider (HS256 with
// a shared secret) and mints development tokens of the same form.
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"quanzi/community"
)

var _ community.TokenVerifier = (*Verifier)(nil)

// DevelopmentSecret is the secret used when none is configured; refused in production.
const DevelopmentSecret = "quanzi-development-secret-do-not-use-in-production"

// Leeway is the clock skew tolerated on exp and nbf.
const Leeway = 30 * time.Second

// Claims are the claims of a Quanzi token (DESIGN §3).
type Claims struct {
	jwt.RegisteredClaims
	Roles    []string       `json:"roles,omitempty"`
	Brand    string         `json:"brand,omitempty"`
	Identity *IdentityClaim `json:"identity,omitempty"`
}

// IdentityClaim is a verified external identity with no member yet.
type IdentityClaim struct {
	Provider   string `json:"provider"`
	ExternalID string `json:"externalId"`
}

// Verifier checks HS256 tokens signed with one secret.
type Verifier struct {
	secret   []byte
	now      func() time.Time
	issuer   string
	audience string
}

// Option is a check that a Verifier makes of every token besides its signature and expiry.
type Option func(*Verifier)

// Issuer makes a Verifier refuse tokens whose iss is not issuer: a secret shared with more
// than one issuer then still admits only the identity provider's tokens. "" checks nothing.
func Issuer(issuer string) Option { return func(v *Verifier) { v.issuer = issuer } }

// Audience makes a Verifier refuse tokens whose aud does not name audience, so that a
// token issued for another service is not accepted here. "" checks nothing.
func Audience(audience string) Option { return func(v *Verifier) { v.audience = audience } }

// New returns a Verifier for secret; now is the clock (time.Now when nil).
func New(secret []byte, now func() time.Time, opts ...Option) *Verifier {
	if now == nil {
		now = time.Now
	}
	v := &Verifier{secret: secret, now: now}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Verify implements community.TokenVerifier. UNAUTHENTICATED for a token that is
// malformed, not HS256, wrongly signed, expired or without exp, from another issuer or for
// another audience than the Verifier expects, or that names an unknown role or identity
// provider.
func (v *Verifier) Verify(_ context.Context, token string) (community.Actor, error) {
	var c Claims
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(v.now),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil }, opts...)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token is not from the expected issuer")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token is not meant for this service")
	case errors.Is(err, jwt.ErrTokenExpired):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && c.ExpiresAt == nil:
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token has no expiry")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && v.issuer != "" && c.Issuer == "":
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token names no issuer")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token names no audience")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token's signature is not valid")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token is not valid yet")
	default:
		return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token is malformed")
	}
	return c.actor()
}

func (c Claims) actor() (community.Actor, error) {
	a := community.Actor{MemberID: c.Subject, BrandID: c.Brand}
	for _, r := range c.Roles {
		role := community.Role(r)
		switch role {
		case community.RoleAdmin, community.RoleCommunityManager, community.RoleBrandAdmin, community.RoleBrandStaff:
			a.Roles = append(a.Roles, role)
		default:
			return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token names an unknown role %q", r)
		}
	}
	if c.Identity != nil {
		id := community.Identity{Provider: community.IdentityProvider(c.Identity.Provider), ExternalID: c.Identity.ExternalID}
		if err := id.Validate(); err != nil {
			return community.Actor{}, community.Errorf(community.CodeUnauthenticated, "the token's identity claim is not valid")
		}
		a.Identity = &id
	}
	return a, nil
}

// Mint signs a token with the claims for ttl from now, with their iss ("quanzi-dev" when
// empty) and aud as given. It is for development and tests: in production the identity
// provider issues tokens.
func Mint(secret []byte, c Claims, ttl time.Duration) (string, error) {
	now := time.Now()
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	if c.Issuer == "" {
		c.Issuer = "quanzi-dev"
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("jwtauth: sign: %w", err)
	}
	return s, nil
}
