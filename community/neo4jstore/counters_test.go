package neo4jstore

import (
	"testing"

	"quanzi/community"
)

// TestCounterProperty checks the names of counters: shares keep the names stored before
// they were derived, reactions take theirs from their kinds, and a name that could not be
// written into a statement stops the package from initialising.
func TestCounterProperty(t *testing.T) {
	cases := []struct {
		prefix, name, want string
	}{
		{"reaction", string(community.ReactionLike), "reactionLike"},
		{"reaction", string(community.ReactionInsightful), "reactionInsightful"},
		{"share", string(community.ShareWeChat), "shareWechat"},
		{"share", string(community.ShareMoments), "shareMoments"},
		{"share", string(community.ShareWeibo), "shareWeibo"},
		{"share", string(community.ShareLink), "shareLink"},
		{"share", string(community.ShareInApp), "shareInApp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := counterProperty(tc.prefix, tc.name); got != tc.want {
				t.Errorf("counterProperty(%q, %q) = %q, want %q", tc.prefix, tc.name, got, tc.want)
			}
		})
	}
	for _, name := range []string{"", "like", "IN__APP", "_LIKE", "LIKE_", "LIKE}) DETACH DELETE (n", "赞"} {
		t.Run("refuses "+name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("counterProperty(%q) did not panic", name)
				}
			}()
			counterProperty("reaction", name)
		})
	}
	for i, c := range reactionCounters {
		if c.key != community.ReactionKinds[i] || reactionCounter(c.key) != c.property {
			t.Errorf("reaction counter %d is %+v", i, c)
		}
	}
	for i, c := range shareCounters {
		if c.key != community.ShareChannels[i] || shareCounter(c.key) != c.property {
			t.Errorf("share counter %d is %+v", i, c)
		}
	}
}
