package community

import "testing"

func TestStoreMethod(t *testing.T) {
	for _, tc := range []struct{ fn, want string }{
		{"quanzi/community/embedded.(*Store).MembersByID", "MembersByID"},
		{"quanzi/community/neo4jstore.(*Store).Feed.func1", "Feed"},
		{"quanzi/community/neo4jstore.(*Store).ClubPosts[...]", "ClubPosts"},
		{"quanzi/community/neo4jstore.(*Store).session", ""},
		{"quanzi/community/neo4jstore.read[...]", ""},
		{"quanzi/community.(*core).post", ""},
	} {
		got, ok := storeMethod(tc.fn)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("storeMethod(%q) = %q, %v; want %q", tc.fn, got, ok, tc.want)
		}
	}
}
