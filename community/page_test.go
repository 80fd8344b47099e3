package community

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCursors(t *testing.T) {
	s := &core{cursorKey: []byte("a cursor key shared by instances")}
	at := time.Date(2026, 12, 3, 8, 30, 0, 123456789, time.UTC)
	rank := rankKey{Score: 12.5, At: at, ID: "01a23c7b-d77d-72f0-aedc-27883aaaa89f", Now: at.Add(time.Hour)}
	hot := cursorList[rankKey]("posts-HOT-")
	c := encodeCursor(s, hot, "club-1", rank)
	got, err := decodeCursor(s, hot, "club-1", c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rank, got); diff != "" {
		t.Errorf("a rank key read back (-want +got):\n%s", diff)
	}

	top := cursorList[rankKey]("posts-TOP-WEEK")
	other := &core{cursorKey: []byte("another instance's key")}
	tampered := []byte(c)
	tampered[len(tampered)/2] ^= 1
	for name, read := range map[string]func() error{
		"another list":  func() error { _, err := decodeCursor(s, top, "club-1", c); return err },
		"another owner": func() error { _, err := decodeCursor(s, hot, "club-2", c); return err },
		"another key type of the same name": func() error {
			_, err := decodeCursor(s, cursorList[timeKey]("posts-HOT-"), "club-1", encodeCursor(s, cursorList[offsetKey]("posts-HOT-"), "club-1", offsetKey{3}))
			return err
		},
		"another signing key": func() error { _, err := decodeCursor(other, hot, "club-1", c); return err },
		"a changed byte":      func() error { _, err := decodeCursor(s, hot, "club-1", string(tampered)); return err },
		"not base64":          func() error { _, err := decodeCursor(s, hot, "club-1", "%%%"); return err },
		"empty":               func() error { _, err := decodeCursor(s, hot, "club-1", ""); return err },
	} {
		t.Run(name, func(t *testing.T) {
			if code := ErrorCode(read()); code != CodeBadUserInput {
				t.Errorf("code = %q, want BAD_USER_INPUT", code)
			}
		})
	}

	off, err := s.DecodeOffsetCursor("query-digest", s.OffsetCursor("query-digest", 40))
	if err != nil || off != 40 {
		t.Errorf("offset cursor read back %d, %v; want 40", off, err)
	}
	if _, err := s.DecodeOffsetCursor("query-digest", encodeCursor(s, cursorList[timeKey]("follows-followers"), "query-digest", timeKey{at, "x"})); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("a follow list's cursor was read as a search offset: %v", err)
	}
}
