package main

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseStatement checks that a statement logged by Quanzi's JSON log handler comes back
// with the types it was sent with: integers, floats, times, within maps and lists.
func TestParseStatement(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	params := map[string]any{
		"handle": "li_hua",
		"limit":  51,
		"weight": 0.85,
		"ids":    []string{"m1", "m2"},
		"reqs":   []map[string]any{{"i": 0, "memberId": "m1", "afterSince": since, "afterId": "m9"}, {"i": 1, "afterSince": nil}},
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("neo4j statement", "cypher", "MATCH (m:Member {id: $id}) RETURN m", "params", params)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("listening", "addr", "127.0.0.1:8080")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	got, ok, err := parseStatement(lines[0])
	if err != nil || !ok {
		t.Fatalf("parseStatement = %v, %v", ok, err)
	}
	want := statement{
		cypher: "MATCH (m:Member {id: $id}) RETURN m",
		params: map[string]any{
			"handle": "li_hua",
			"limit":  int64(51),
			"weight": 0.85,
			"ids":    []any{"m1", "m2"},
			"reqs": []any{
				map[string]any{"i": int64(0), "memberId": "m1", "afterSince": since, "afterId": "m9"},
				map[string]any{"i": int64(1), "afterSince": nil},
			},
		},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(statement{})); diff != "" {
		t.Errorf("parsed statement (-want +got):\n%s", diff)
	}
	if _, ok, err := parseStatement(lines[1]); ok || err != nil {
		t.Errorf("another log line parsed as a statement: %v, %v", ok, err)
	}
}

// TestParseStatementPeerNumbers checks the peer's encoding of numbers: driver Integers as
// JSON integers, JavaScript numbers with a fraction or an exponent.
func TestParseStatementPeerNumbers(t *testing.T) {
	line := []byte(`{"msg":"neo4j statement","cypher":"RETURN 1","params":{"param0":"a","param1":1,"param2":50.0,"param3":1e+21,"param4":"2026-03-04T05:06:07.000000000Z"}}`)
	got, ok, err := parseStatement(line)
	if err != nil || !ok {
		t.Fatalf("parseStatement = %v, %v", ok, err)
	}
	want := map[string]any{"param0": "a", "param1": int64(1), "param2": 50.0, "param3": 1e21, "param4": time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	if diff := cmp.Diff(want, got.params); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
}

// TestShortNames checks that statements sharing their first lines are named by as many
// lines as tell them apart, and that query options are skipped.
func TestShortNames(t *testing.T) {
	followers := "\nUNWIND $reqs AS req\nMATCH (m:Member {id: req.memberId})\nRETURN COUNT { (m)<-[:FOLLOWS]-() }"
	following := "\nUNWIND $reqs AS req\nMATCH (m:Member {id: req.memberId})\nRETURN COUNT { (m)-[:FOLLOWS]->() }"
	peer := "CYPHER 5\nMATCH (this:Member)\nWHERE this.handleKey = $param0"
	got := shortNames([]string{followers, following, peer, followers})
	want := map[string]string{
		followers: "UNWIND $reqs AS req MATCH (m:Member {id: req.memberId}) RETURN COUNT { (m)<-[:FOLLOWS]-() }",
		following: "UNWIND $reqs AS req MATCH (m:Member {id: req.memberId}) RETURN COUNT { (m)-[:FOLLOWS]->() }",
		peer:      "MATCH (this:Member)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("short names (-want +got):\n%s", diff)
	}
}
