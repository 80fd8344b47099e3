package main

import (
	"bytes"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/community/jwtauth"
	"quanzi/resolvers"
)

// TestTokenIssuerAndAudience runs a server configured with an issuer and an audience, as
// serve configures it, and checks that only tokens carrying both are served, and that the
// token subcommand mints such tokens.
func TestTokenIssuerAndAudience(t *testing.T) {
	const issuer, audience = "https://id.quanzi.example", "quanzi-api"
	env := map[string]string{"QUANZI_JWT_SECRET": testSecret, "QUANZI_JWT_ISSUER": issuer, "QUANZI_JWT_AUDIENCE": audience}
	getenv := func(name string) string { return env[name] }
	cfg, err := parseConfig("serve", nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.JWTIssuer != issuer || cfg.JWTAudience != audience {
		t.Fatalf("configured issuer %q and audience %q", cfg.JWTIssuer, cfg.JWTAudience)
	}
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(resolvers.NewHandler(resolvers.Deps{Services: community.New(s, community.Config{}), Verifier: newVerifier(cfg), Log: quietLog()}, handlerOptions(cfg)))
	t.Cleanup(srv.Close)
	a := newClient(t, srv.URL)

	withClaims := func(iss string, aud ...string) string {
		c := jwtauth.Claims{Roles: []string{"ADMIN"}}
		c.Issuer, c.Audience = iss, aud
		return mint(t, c)
	}
	var minted bytes.Buffer
	if err := mintToken([]string{"-role", "ADMIN"}, getenv, &minted, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The tokens that seed prints carry the issuer and audience too.
	var seeded bytes.Buffer
	seedEnv := func(name string) string {
		if name == "QUANZI_DATA_DIR" {
			return t.TempDir()
		}
		return env[name]
	}
	if err := run(t.Context(), []string{"seed"}, seedEnv, &seeded, io.Discard); err != nil {
		t.Fatal(err)
	}
	var printed int
	for line := range strings.Lines(seeded.String()) {
		if f := strings.Fields(line); len(f) > 1 && strings.Count(f[len(f)-1], ".") == 2 {
			printed++
			if _, err := newVerifier(cfg).Verify(t.Context(), f[len(f)-1]); err != nil {
				t.Errorf("seed printed a token the server refuses: %s: %v", strings.TrimSpace(line), err)
			}
		}
	}
	if printed == 0 {
		t.Errorf("seed printed no tokens: %s", seeded.String())
	}
	const query = `{ searchMembers(query: "li", first: 5) { id } }`
	for _, c := range []struct {
		name, token string
		code        community.Code
	}{
		{"minted by the token command", strings.TrimSpace(minted.String()), ""},
		{"issuer and audience", withClaims(issuer, audience), ""},
		{"audience among others", withClaims(issuer, "orders-api", audience), ""},
		{"a development token", withClaims(""), community.CodeUnauthenticated},
		{"another issuer", withClaims("https://other.example", audience), community.CodeUnauthenticated},
		{"no audience", withClaims(issuer), community.CodeUnauthenticated},
		{"another audience", withClaims(issuer, "orders-api"), community.CodeUnauthenticated},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.code == "" {
				a.OK(c.token, query, nil, nil)
				return
			}
			a.Fails(c.code, c.token, query, nil)
		})
	}
}

// TestTokenCommandWithoutIssuer checks that, with no issuer or audience configured, the
// token command mints as before and the verifier checks neither.
func TestTokenCommandWithoutIssuer(t *testing.T) {
	getenv := func(name string) string { return map[string]string{"QUANZI_JWT_SECRET": testSecret}[name] }
	var minted bytes.Buffer
	if err := mintToken([]string{"-role", "ADMIN"}, getenv, &minted, io.Discard); err != nil {
		t.Fatal(err)
	}
	var c jwtauth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(minted.String()), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Audience) != 0 || c.ExpiresAt == nil || c.ExpiresAt.Before(time.Now()) {
		t.Errorf("minted claims %+v", c.RegisteredClaims)
	}
	cfg, err := parseConfig("serve", nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newVerifier(cfg).Verify(t.Context(), withIssuer(t, "anyone")); err != nil {
		t.Errorf("a verifier configured with no issuer refuses a token: %v", err)
	}
}

func withIssuer(t *testing.T, iss string) string {
	c := jwtauth.Claims{Roles: []string{"ADMIN"}}
	c.Issuer = iss
	return mint(t, c)
}
