package community

import (
	"strings"
	"testing"
)

// TestIdempotencyKeyRule checks the rule of keys on keys as sent: they are never
// normalized, so what a trim or a fold would change is refused.
func TestIdempotencyKeyRule(t *testing.T) {
	cases := []struct {
		name string
		key  string
		ok   bool
	}{
		{"UUID", "550e8400-e29b-41d4-a716-446655440000", true},
		{"ULID", "01HZX3J5Q8W2N6R7T9V0B1C2D3", true},
		{"namespaced", "checkout:42", true},
		{"every kind of character", "Az09-_:", true},
		{"one character", "k", true},
		{"longest", strings.Repeat("k", MaxIdempotencyKey), true},

		{"empty", "", false},
		{"too long", strings.Repeat("k", MaxIdempotencyKey+1), false},
		{"leading space", " key", false},
		{"trailing space", "key ", false},
		{"space inside", "my key", false},
		{"slash", "a/b", false},
		{"dot", "a.b", false},
		{"NUL", "a\x00b", false},
		{"newline", "key\n", false},
		{"tab", "a\tb", false},
		{"Chinese", "重试", false},
		{"full-width letters", "ｋｅｙ", false},
		{"accented letter", "clé", false},
		{"zero width space", "a\u200bb", false},
		{"right-to-left override", "\u202ekey", false},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := idempotencyKeyText.check(tc.key)
			if tc.ok {
				if err != nil {
					t.Fatalf("check(%+q) = %v, want it kept", tc.key, err)
				}
				return
			}
			if ErrorCode(err) != CodeBadUserInput || err.(*Error).Field != "idempotencyKey" {
				t.Fatalf("check(%+q) = %v, want BAD_USER_INPUT on idempotencyKey", tc.key, err)
			}
		})
	}
}

// TestFingerprint checks that inputs that differ only in where their parts end have
// fingerprints of their own.
func TestFingerprint(t *testing.T) {
	cases := []struct {
		name string
		a, b []string
	}{
		{"a part's end moved", []string{"createPost", "ab", "c"}, []string{"createPost", "a", "bc"}},
		{"an empty part more", []string{"addComment", "p", ""}, []string{"addComment", "p"}},
		{"parts swapped", []string{"sharePost", "p", "WECHAT"}, []string{"sharePost", "WECHAT", "p"}},
		{"another action", []string{"createPost", "x"}, []string{"addComment", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if fingerprint(tc.a) == fingerprint(tc.b) {
				t.Errorf("fingerprint(%q) = fingerprint(%q)", tc.a, tc.b)
			}
			if fingerprint(tc.a) != fingerprint(append([]string(nil), tc.a...)) {
				t.Errorf("fingerprint(%q) is not the same twice", tc.a)
			}
		})
	}
}
