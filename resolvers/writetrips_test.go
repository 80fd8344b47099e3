package resolvers_test

import "testing"

// TestWriteRoundTrips counts the store round trips of writes that check a rule against a
// post or a comment: what the id names, its club and the caller's place in the club are
// read once and serve both seeing the target and acting on it.
func TestWriteRoundTrips(t *testing.T) {
	a := newAPI(t)
	forum, cm := a.evTalk()
	_, author := a.register("li_hua", "李华")
	modID, mod := a.register("wang_fang", "王芳")
	a.join(author, forum)
	a.join(mod, forum)
	a.ok(cm, `mutation($c: ID!, $m: ID!) { setClubRole(input: {clubId: $c, memberId: $m, role: MODERATOR}) { membership { role } } }`, map[string]any{"c": forum, "m": modID}, nil)
	post := a.createPost(author, forum, "电池保养")
	var c struct {
		AddComment struct{ Comment struct{ ID string } } `json:"addComment"`
	}
	a.ok(author, `mutation($p: ID!) { addComment(input: {postId: $p, body: "冬天怎么充电？"}) { comment { id } } }`, map[string]any{"p": post}, &c)
	comment := c.AddComment.Comment.ID

	for _, tc := range []struct {
		name, token, op string
		vars            map[string]any
		want            int64
	}{
		// What the id names, its club, the member's place in the club, the write (6 before:
		// the id was tried as a post first).
		{"react to a comment", mod, `mutation($id: ID!) { react(input: {targetId: $id, kind: LIKE}) { __typename } }`, map[string]any{"id": comment}, 4},
		{"react to a post", mod, `mutation($id: ID!) { react(input: {targetId: $id, kind: LIKE}) { __typename } }`, map[string]any{"id": post}, 4},
		{"editComment by its author", author, `mutation($id: ID!) { editComment(input: {commentId: $id, body: "冬天少充满"}) { __typename } }`, map[string]any{"id": comment}, 4},
		// The same three reads, then the write (7 before).
		{"deleteComment by a moderator", mod, `mutation($id: ID!) { deleteComment(input: {commentId: $id}) { __typename } }`, map[string]any{"id": comment}, 4},
		// The post, its club, the moderator's place, the write (6 before).
		{"deletePost by a moderator", mod, `mutation($id: ID!) { deletePost(input: {postId: $id}) { __typename } }`, map[string]any{"id": post}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.trips.Total()
			a.ok(tc.token, tc.op, tc.vars, nil)
			if n := a.trips.Total() - before; n != tc.want {
				t.Errorf("%d store round trips, want %d", n, tc.want)
			}
		})
	}
}
