// Package apitest is a client of the GraphQL API for tests: it posts operations as a front
// end does and checks the answer's data or its error code. The API's tests and the tests
// of the whole program use it.
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"quanzi/community"
)

// Error is one GraphQL error of a response.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Client posts operations to the API at URL (its /query endpoint); failures end T.
type Client struct {
	T   testing.TB
	URL string
	// Header holds headers sent with every operation besides the token's, such as
	// X-Device-Id.
	Header http.Header
}

// Do posts an operation with a bearer token ("" for none) and returns the response.
func (c Client) Do(token, query string, vars map[string]any) Response {
	c.T.Helper()
	res, err := c.Try(token, query, vars)
	if err != nil {
		c.T.Fatal(err)
	}
	return res
}

// Try is Do that returns a failure of the transport or of the response's decoding instead
// of ending T, so that goroutines other than the test's may call it.
func (c Client) Try(token, query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", c.URL+"/query", bytes.NewReader(body))
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return Response{}, fmt.Errorf("decode response (status %d): %w", res.StatusCode, err)
	}
	return out, nil
}

// OK runs an operation that must succeed and decodes its data into out (unless nil).
func (c Client) OK(token, query string, vars map[string]any, out any) {
	c.T.Helper()
	res := c.Do(token, query, vars)
	if len(res.Errors) > 0 {
		c.T.Fatalf("unexpected errors: %+v", res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			c.T.Fatal(err)
		}
	}
}

// Fails runs an operation that must fail with code as its first error's extensions.code,
// and returns the response.
func (c Client) Fails(code community.Code, token, query string, vars map[string]any) Response {
	c.T.Helper()
	res := c.Do(token, query, vars)
	if len(res.Errors) == 0 {
		c.T.Fatalf("want error %s, got data %s", code, res.Data)
	}
	if got := res.Errors[0].Extensions["code"]; got != string(code) {
		c.T.Fatalf("error code = %v (%q), want %s", got, res.Errors[0].Message, code)
	}
	return res
}
