package resolvers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
	"quanzi/resolvers"
)

// TestReadinessStates checks that /readyz reports each backend it is given, answers 503 while any
// is unreachable, and reports the store alone when given none.
func TestReadinessStates(t *testing.T) {
	svc := community.New(openEmbedded(t), community.Config{})
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	cases := []struct {
		name   string
		checks []resolvers.ReadyCheck
		status int
		want   map[string]string
	}{
		{"none given", nil, http.StatusOK, map[string]string{"store": "ok"}},
		{"all reachable", []resolvers.ReadyCheck{{Name: "store", Ping: ok}, {Name: "search", Ping: ok}}, http.StatusOK,
			map[string]string{"store": "ok", "search": "ok"}},
		{"one unreachable", []resolvers.ReadyCheck{{Name: "store", Ping: ok}, {Name: "redis", Ping: down}}, http.StatusServiceUnavailable,
			map[string]string{"store": "ok", "redis": "unreachable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := resolvers.NewHandler(resolvers.Deps{Services: svc, Verifier: jwtauth.New([]byte(testSecret), nil), Log: quietLog(), Ready: c.checks}, development())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			var got map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("/readyz answered %q: %v", rec.Body.String(), err)
			}
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("/readyz (-want +got):\n%s", diff)
			}
		})
	}
}
