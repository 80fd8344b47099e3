// Package meilitest says which Meilisearch server the tests that need one run against.
package meilitest

import (
	"os"
	"testing"
)

// Server returns the URL and the key of the Meilisearch to test against, from MEILI_URL
// and MEILI_KEY (empty for a server without a master key). Without MEILI_URL the test
// skips, except in CI, where nothing that needs Meilisearch may go untested.
func Server(t testing.TB) (url, key string) {
	t.Helper()
	url = os.Getenv("MEILI_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MEILI_URL not set: CI must test against a real Meilisearch")
		}
		t.Skip("MEILI_URL not set: start one with scripts/meili.sh start (see the README)")
	}
	return url, os.Getenv("MEILI_KEY")
}
