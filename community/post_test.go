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

// TestListed checks the rule of post states: PUBLISHED is listed, DELETED and any status
// the table does not name (the empty one too) are not, and a post that is not listed reads
// as a tombstone.
func TestListed(t *testing.T) {
	cases := []struct {
		status PostStatus
		listed bool
	}{
		{PostPublished, true},
		{PostDeleted, false},
		{"", false},
		{"HELD", false},
	}
	for _, tc := range cases {
		t.Run(string(tc.status), func(t *testing.T) {
			p := Post{Status: tc.status, Title: "标题", Body: "正文", Tags: []string{"ev"}, CommentCount: 2}
			if got := p.Listed(); got != tc.listed {
				t.Errorf("Listed() = %v, want %v", got, tc.listed)
			}
			shown := tombstone(p)
			if tc.listed != (shown.Title != "" && shown.Body != "" && shown.Tags != nil && shown.CommentCount == 2) {
				t.Errorf("a post listed %v shows %+v", tc.listed, shown)
			}
		})
	}
}

// TestEngagementWeights checks that both readers of engagement weigh by the one table.
func TestEngagementWeights(t *testing.T) {
	p := Post{
		Reactions:       map[ReactionKind]int{ReactionLike: 2, ReactionFunny: 1},
		CommentCount:    4,
		SharesByChannel: map[ShareChannel]int{ShareWeChat: 1, ShareInApp: 2},
	}
	want := 3*EngagementWeights.Reaction + 4*EngagementWeights.Comment + 3*EngagementWeights.Share
	if got := p.Engagement(); got != want || want != 3+8+9 {
		t.Errorf("Post.Engagement() = %d, want %d (3 + 8 + 9)", got, want)
	}
	if got := p.Counts().Engagement(); got != want {
		t.Errorf("PostCounts.Engagement() = %d, want %d", got, want)
	}
}
