package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

// The tests of the program speak to it as a client does. The API's own tests, with many
// more helpers, are in package resolvers.

const testSecret = "test-secret-of-at-least-thirty-two-bytes"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// api is a client of a running API.
type api struct {
	t   *testing.T
	url string
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// do posts an operation with a bearer token ("" for none) and returns the response.
func (a *api) do(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", a.url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		a.t.Fatalf("decode response (status %d): %v", res.StatusCode, err)
	}
	return out
}

// ok runs an operation that must succeed and decodes its data into out.
func (a *api) ok(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	res := a.do(token, query, vars)
	if len(res.Errors) > 0 {
		a.t.Fatalf("unexpected errors: %+v", res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			a.t.Fatal(err)
		}
	}
}

// fails runs an operation that must fail with code, and returns the response.
func (a *api) fails(code community.Code, token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	res := a.do(token, query, vars)
	if len(res.Errors) == 0 {
		a.t.Fatalf("want error %s, got data %s", code, res.Data)
	}
	if got := res.Errors[0].Extensions["code"]; got != string(code) {
		a.t.Fatalf("error code = %v (%q), want %s", got, res.Errors[0].Message, code)
	}
	return res
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
	a.ok(identity, `mutation($in: RegisterMemberInput!) { registerMember(input: $in) { member { id } } }`,
		map[string]any{"in": map[string]any{"handle": handle, "displayName": name}}, &out)
	var member jwtauth.Claims
	member.Subject = out.RegisterMember.Member.ID
	return member.Subject, mint(a.t, member)
}
