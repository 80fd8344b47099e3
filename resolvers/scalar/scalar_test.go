package scalar

import (
	"encoding/json"
	"testing"
	"time"

	"quanzi/community"
)

func TestUnmarshalInt(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want int
		ok   bool
	}{
		{"a JSON integer", json.Number("42"), 42, true},
		{"a literal", int64(-7), -7, true},
		{"the largest", json.Number("2147483647"), 2147483647, true},
		{"the smallest", int64(-2147483648), -2147483648, true},
		{"one over 32 bits", json.Number("2147483648"), 0, false},
		{"a literal over 32 bits", int64(3000000000), 0, false},
		{"a string", "5", 0, false},
		{"a fraction", json.Number("5.5"), 0, false},
		{"an exponent", json.Number("1e3"), 0, false},
		{"a float", 5.0, 0, false},
		{"a boolean", true, 0, false},
		{"null", nil, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := UnmarshalInt(c.in)
			if c.ok {
				if err != nil || got != c.want {
					t.Errorf("UnmarshalInt(%v) = %d, %v; want %d", c.in, got, err, c.want)
				}
				return
			}
			if community.ErrorCode(err) != community.CodeBadUserInput {
				t.Errorf("UnmarshalInt(%v) = %d, %v; want BAD_USER_INPUT", c.in, got, err)
			}
		})
	}
}

func TestUnmarshalTime(t *testing.T) {
	want := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-12-03T10:00:00+08:00", "2026-12-03T02:00:00Z", "2026-12-03T02:00:00.000Z"} {
		if got, err := UnmarshalTime(in); err != nil || !got.Equal(want) {
			t.Errorf("UnmarshalTime(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []any{"", "yesterday", "2026-12-03", "2026-12-03T10:00:00", "2026-12-03 10:00:00Z", 1764727200, nil} {
		if _, err := UnmarshalTime(in); community.ErrorCode(err) != community.CodeBadUserInput {
			t.Errorf("UnmarshalTime(%v): %v, want BAD_USER_INPUT", in, err)
		}
	}
}
