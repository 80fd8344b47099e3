package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"quanzi/community/jwtauth"
	"quanzi/resolvers/apitest"
)

// The tests of the program speak to it as a client does. The API's own tests, with many
// more helpers, are in package resolvers.

const (
	testSecret    = "test-secret-of-at-least-thirty-two-bytes"
	testDeviceKey = "test-device-key-of-at-least-thirty-two-bytes"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// api is a client of a running API.
type api struct {
	t *testing.T
	apitest.Client
}

// newClient returns a client of the API at url.
func newClient(t *testing.T, url string) *api {
	return &api{t: t, Client: apitest.Client{T: t, URL: url}}
}

func mint(t *testing.T, c jwtauth.Claims) string {
	t.Helper()
	tok, err := jwtauth.Mint([]byte(testSecret), c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func adminToken(t *testing.T) string { return mint(t, jwtauth.Claims{Roles: []string{"ADMIN"}}) }

// register makes a member with a WeChat identity and returns its id and token.
func (a *api) register(handle, name string) (string, string) {
	a.t.Helper()
	var out struct {
		RegisterMember struct{ Member struct{ ID string } } `json:"registerMember"`
	}
	identity := mint(a.t, jwtauth.Claims{Identity: &jwtauth.IdentityClaim{Provider: "WECHAT", ExternalID: "openid-" + handle}})
	a.OK(identity, `mutation($in: RegisterMemberInput!) { registerMember(input: $in) { member { id } } }`,
		map[string]any{"in": map[string]any{"handle": handle, "displayName": name}}, &out)
	var member jwtauth.Claims
	member.Subject = out.RegisterMember.Member.ID
	return member.Subject, mint(a.t, member)
}
