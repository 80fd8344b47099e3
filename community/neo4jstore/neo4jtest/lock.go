// Package neo4jtest holds what the tests of several packages on one Neo4j need: which
// Neo4j, and turns on it.
package neo4jtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// URI returns the Neo4j to test against, from NEO4J_URI. Without it the test skips, except
// in CI, where nothing that needs Neo4j may go untested.
func URI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv("NEO4J_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("NEO4J_URI not set: CI must test against a real Neo4j")
		}
		t.Skip("NEO4J_URI not set: start one with scripts/neo4j.sh start")
	}
	return uri
}

// Exclusive waits until no other test process holds the Neo4j at uri, and holds it until
// release is called: tests of the store empty the whole graph, so the packages that test
// against one Neo4j (go test runs packages at once) take turns. Community Edition serves
// one database, so they cannot each have their own.
func Exclusive(uri string) (release func(), err error) {
	sum := sha256.Sum256([]byte(uri))
	path := filepath.Join(os.TempDir(), "quanzi-neo4j-test-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("neo4jtest: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("neo4jtest: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
