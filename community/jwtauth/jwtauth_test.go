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
