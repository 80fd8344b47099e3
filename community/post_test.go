package community

import "testing"

// TestCommentBody checks the one rule that adding and editing a comment share.
func TestCommentBody(t *testing.T) {
	if got, err := commentBody("  好的  "); err != nil || got != "好的" {
		t.Errorf("commentBody trims to %q, %v", got, err)
	}
	long := make([]rune, MaxCommentBody+1)
	for i := range long {
		long[i] = '字'
	}
	for name, body := range map[string]string{"empty": " \n ", "too long": string(long), "invalid UTF-8": "好\xff的"} {
		if _, err := commentBody(body); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
		}
	}
}
