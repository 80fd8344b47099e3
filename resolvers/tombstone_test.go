package resolvers_test

import (
	"strings"
	"testing"
)

// TestDeletedPostListsNoComments checks that a deleted post, read as its tombstone, lists
// none of its comments or their replies, and counts none, for every reader.
func TestDeletedPostListsNoComments(t *testing.T) {
	a := newAPI(t)
	forum, cm := a.evTalk()
	_, authorTok := a.register("li_hua", "李华")
	_, wangTok := a.register("wang_fang", "王芳")
	a.join(authorTok, forum)
	a.join(wangTok, forum)
	post := a.createPost(authorTok, forum, "冬季续航实测")
	var added struct {
		AddComment struct{ Comment struct{ ID string } } `json:"addComment"`
	}
	addComment := `mutation($in: AddCommentInput!) { addComment(input: $in) { comment { id } } }`
	a.ok(wangTok, addComment, map[string]any{"in": map[string]any{"postId": post, "body": "零下十度掉电多少？"}}, &added)
	a.ok(authorTok, addComment, map[string]any{"in": map[string]any{"postId": post, "body": "大约三成", "replyTo": added.AddComment.Comment.ID}}, nil)
	a.ok(wangTok, addComment, map[string]any{"in": map[string]any{"postId": post, "body": "谢谢分享"}}, nil)

	const read = `query($id: ID!) { post(id: $id) { status commentCount comments(first: 10) { edges { node { body replyCount replies { edges { node { body } } } } } pageInfo { hasNextPage } } } }`
	type thread struct {
		Post struct {
			Status       string
			CommentCount int
			Comments     struct {
				Edges    []any
				PageInfo struct{ HasNextPage bool }
			}
		}
	}
	readers := map[string]string{"author": authorTok, "commenter": wangTok, "community manager": cm}
	check := func(status string, count, listed int) {
		t.Helper()
		for name, tok := range readers {
			t.Run(status+"/"+name, func(t *testing.T) {
				var got thread
				a.ok(tok, read, map[string]any{"id": post}, &got)
				if got.Post.Status != status || got.Post.CommentCount != count || len(got.Post.Comments.Edges) != listed || got.Post.Comments.PageInfo.HasNextPage {
					t.Errorf("read %+v, want %s with %d comments counted and %d listed", got.Post, status, count, listed)
				}
			})
		}
	}
	check("PUBLISHED", 3, 2)
	a.ok(authorTok, `mutation($id: ID!) { deletePost(input: {postId: $id}) { post { status commentCount } } }`, map[string]any{"id": post}, nil)
	check("DELETED", 0, 0)
	res := a.do(wangTok, read, map[string]any{"id": post})
	for _, body := range []string{"零下十度", "大约三成", "谢谢分享"} {
		if strings.Contains(string(res.Data), body) {
			t.Errorf("the tombstone shows the comment %q: %s", body, res.Data)
		}
	}
}
