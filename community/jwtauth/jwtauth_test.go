package jwtauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

var secret = []byte("a secret of at least thirty-two bytes!")

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwtauth.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	v := jwtauth.New(secret, func() time.Time { return now })
	valid := func(c jwtauth.Claims) jwtauth.Claims {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour))
		return c
	}
	member := valid(jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "0193a0c4-6b9e-7cc0-8d7c-7a4b4e1f2a3b"}})
	cases := []struct {
		name  string
		token string
		want  community.Actor
		code  community.Code
	}{
		{"member", sign(t, jwt.SigningMethodHS256, secret, member), community.Actor{MemberID: member.Subject}, ""},
		{"brand staff", sign(t, jwt.SigningMethodHS256, secret, valid(jwtauth.Claims{Roles: []string{"BRAND_STAFF"}, Brand: "b1"})),
			community.Actor{Roles: []community.Role{community.RoleBrandStaff}, BrandID: "b1"}, ""},
		{"newcomer", sign(t, jwt.SigningMethodHS256, secret, valid(jwtauth.Claims{Identity: &jwtauth.IdentityClaim{Provider: "WEIBO", ExternalID: "wb-1"}})),
			community.Actor{Identity: &community.Identity{Provider: community.ProviderWeibo, ExternalID: "wb-1"}}, ""},
		{"expired within leeway", sign(t, jwt.SigningMethodHS256, secret, jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m", ExpiresAt: jwt.NewNumericDate(now.Add(-10 * time.Second))}}),
			community.Actor{MemberID: "m"}, ""},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m", ExpiresAt: jwt.NewNumericDate(now.Add(-time.Minute))}}), community.Actor{}, community.CodeUnauthenticated},
		{"no expiry", sign(t, jwt.SigningMethodHS256, secret, jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m"}}), community.Actor{}, community.CodeUnauthenticated},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, secret, valid(jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{NotBefore: jwt.NewNumericDate(now.Add(time.Hour))}})), community.Actor{}, community.CodeUnauthenticated},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!!"), member), community.Actor{}, community.CodeUnauthenticated},
		{"HS512", sign(t, jwt.SigningMethodHS512, secret, member), community.Actor{}, community.CodeUnauthenticated},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, member), community.Actor{}, community.CodeUnauthenticated},
		{"unknown role", sign(t, jwt.SigningMethodHS256, secret, valid(jwtauth.Claims{Roles: []string{"SUPERUSER"}})), community.Actor{}, community.CodeUnauthenticated},
		{"unknown provider", sign(t, jwt.SigningMethodHS256, secret, valid(jwtauth.Claims{Identity: &jwtauth.IdentityClaim{Provider: "QQ", ExternalID: "1"}})), community.Actor{}, community.CodeUnauthenticated},
		{"garbage", "not-a-token", community.Actor{}, community.CodeUnauthenticated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), c.token)
			if code := community.ErrorCode(err); code != c.code {
				t.Fatalf("code = %q (%v), want %q", code, err, c.code)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("actor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMintVerifies(t *testing.T) {
	tok, err := jwtauth.Mint(secret, jwtauth.Claims{Roles: []string{"ADMIN"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a, err := jwtauth.New(secret, nil).Verify(context.Background(), tok)
	if err != nil || !a.HasRole(community.RoleAdmin) {
		t.Errorf("a minted token verifies as %+v, %v", a, err)
	}
}

func TestVerifyIssuerAndAudience(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	token := func(iss string, aud ...string) string {
		c := jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m", Issuer: iss, Audience: aud, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
		return sign(t, jwt.SigningMethodHS256, secret, c)
	}
	const idp, api = "https://id.quanzi.example", "quanzi-api"
	verifiers := map[string]*jwtauth.Verifier{
		"none":     jwtauth.New(secret, func() time.Time { return now }),
		"issuer":   jwtauth.New(secret, func() time.Time { return now }, jwtauth.Issuer(idp)),
		"audience": jwtauth.New(secret, func() time.Time { return now }, jwtauth.Audience(api)),
		"both":     jwtauth.New(secret, func() time.Time { return now }, jwtauth.Issuer(idp), jwtauth.Audience(api)),
		"empty":    jwtauth.New(secret, func() time.Time { return now }, jwtauth.Issuer(""), jwtauth.Audience("")),
	}
	cases := []struct {
		name     string
		verifier string
		token    string
		code     community.Code
	}{
		{"unchecked: no iss or aud", "none", token(""), ""},
		{"unchecked: any iss and aud", "none", token("elsewhere", "other-api"), ""},
		{"empty checks nothing", "empty", token("elsewhere", "other-api"), ""},
		{"issuer: right", "issuer", token(idp), ""},
		{"issuer: wrong", "issuer", token("https://evil.example"), community.CodeUnauthenticated},
		{"issuer: missing", "issuer", token(""), community.CodeUnauthenticated},
		{"issuer: case differs", "issuer", token("https://ID.quanzi.example"), community.CodeUnauthenticated},
		{"audience: right", "audience", token("", api), ""},
		{"audience: among others", "audience", token("", "other-api", api), ""},
		{"audience: wrong", "audience", token("", "other-api"), community.CodeUnauthenticated},
		{"audience: missing", "audience", token(""), community.CodeUnauthenticated},
		{"both: right", "both", token(idp, api), ""},
		{"both: wrong audience", "both", token(idp, "other-api"), community.CodeUnauthenticated},
		{"both: wrong issuer", "both", token("https://evil.example", api), community.CodeUnauthenticated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := verifiers[c.verifier].Verify(context.Background(), c.token)
			if code := community.ErrorCode(err); code != c.code {
				t.Fatalf("code = %q (%v), want %q", code, err, c.code)
			}
			want := community.Actor{}
			if c.code == "" {
				want.MemberID = "m"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("actor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMintWithIssuerAndAudience(t *testing.T) {
	c := jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m", Issuer: "idp", Audience: jwt.ClaimStrings{"quanzi-api"}}}
	tok, err := jwtauth.Mint(secret, c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwtauth.New(secret, nil, jwtauth.Issuer("idp"), jwtauth.Audience("quanzi-api")).Verify(context.Background(), tok); err != nil {
		t.Errorf("a token minted with the expected issuer and audience is refused: %v", err)
	}
	plain, err := jwtauth.Mint(secret, jwtauth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "m"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwtauth.New(secret, nil, jwtauth.Issuer("idp")).Verify(context.Background(), plain); community.ErrorCode(err) != community.CodeUnauthenticated {
		t.Errorf("a development token is accepted by a verifier that expects issuer idp: %v", err)
	}
}
