package resolvers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

const createPostOp = `mutation($in: CreatePostInput!) { createPost(input: $in) { post { id title tags status } } }`

// evTalkInput is the input of an open, public forum of the platform.
var evTalkInput = map[string]any{"slug": "ev-talk", "name": "EV Talk", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}

// evTalk creates the forum evTalkInput as a community manager, and returns its id and the
// community manager's token.
func (a *api) evTalk() (id, cm string) {
	a.t.Helper()
	cm = mint(a.t, jwtClaimsRoles("COMMUNITY_MANAGER"))
	return a.createClub(cm, evTalkInput), cm
}

func (a *api) createPost(token, clubID, title string, tags ...string) string {
	a.t.Helper()
	var out struct {
		CreatePost struct{ Post struct{ ID string } } `json:"createPost"`
	}
	a.ok(token, createPostOp, map[string]any{"in": map[string]any{"clubId": clubID, "title": title, "body": "**" + title + "** 正文", "tags": tags}}, &out)
	return out.CreatePost.Post.ID
}

func (a *api) join(token, clubID string) {
	a.t.Helper()
	a.ok(token, joinClubOp, map[string]any{"c": clubID}, nil)
}

type postOut struct {
	ID, Title, Body, Status string
	Tags                    []string
	EditedAt                *string
	CommentCount            int
	ShareCount              int
	ReactionCounts          []struct {
		Kind  string
		Count int
	}
	ViewerReactions []string
	SharesByChannel []struct {
		Channel string
		Count   int
	}
}

const postFields = `id title body status tags editedAt commentCount shareCount reactionCounts { kind count } viewerReactions sharesByChannel { channel count }`

func (a *api) post(token, id string) (postOut, gqlResponse) {
	a.t.Helper()
	var out struct{ Post postOut }
	res := a.do(token, `query($id: ID!) { post(id: $id) { `+postFields+` } }`, map[string]any{"id": id})
	decode(a.t, res, &out)
	return out.Post, res
}

func TestPosts(t *testing.T) {
	a := newAPI(t)
	forum, cm := a.evTalk()
	private := a.createClub(cm, map[string]any{"slug": "cuihu", "name": "翠湖花园业主论坛", "kind": "OWNER_CLUB", "visibility": "PRIVATE", "joinPolicy": "APPROVAL"})
	_, lihua := a.register("li_hua", "李华")
	wangID, wang := a.register("wang_fang", "王芳")
	_, zhao := a.register("zhao_lei", "赵磊")
	a.join(lihua, forum)
	a.join(wang, forum)
	a.ok(wang, joinClubOp, map[string]any{"c": private}, nil)
	a.ok(cm, `mutation($c: ID!, $m: ID!) { approveJoinRequest(input: {clubId: $c, memberId: $m}) { club { id } } }`, map[string]any{"c": private, "m": wangID}, nil)

	// Posting: members of the club only; content rules.
	var created struct {
		CreatePost struct{ Post postOut } `json:"createPost"`
	}
	a.ok(lihua, createPostOp, map[string]any{"in": map[string]any{"clubId": forum, "title": "  汽车保养经验  ", "body": "每5000公里换机油", "tags": []string{" ＥＶ ", "Road Trip", "ev", "保养"}}}, &created)
	p := created.CreatePost.Post
	if p.Title != "汽车保养经验" || fmt.Sprint(p.Tags) != "[ev road trip 保养]" || p.Status != "PUBLISHED" {
		t.Errorf("created %+v", p)
	}
	a.fails(community.CodeForbidden, zhao, createPostOp, map[string]any{"in": map[string]any{"clubId": forum, "title": "t", "body": "b"}})
	a.fails(community.CodeUnauthenticated, "", createPostOp, map[string]any{"in": map[string]any{"clubId": forum, "title": "t", "body": "b"}})
	tags := make([]string, 11)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%d", i)
	}
	for name, in := range map[string]map[string]any{
		"long title":   {"title": strings.Repeat("长", 121), "body": "b"},
		"empty title":  {"title": "  ", "body": "b"},
		"long body":    {"title": "t", "body": strings.Repeat("字", 20001)},
		"empty body":   {"title": "t", "body": " "},
		"eleven tags":  {"title": "t", "body": "b", "tags": tags},
		"long tag":     {"title": "t", "body": "b", "tags": []string{strings.Repeat("x", 31)}},
		"control char": {"title": "a\u0000b", "body": "b"},
	} {
		t.Run("post/"+name, func(t *testing.T) {
			in["clubId"] = forum
			a.fails(community.CodeBadUserInput, lihua, createPostOp, map[string]any{"in": in})
		})
	}
	a.ok(lihua, createPostOp, map[string]any{"in": map[string]any{"clubId": forum, "title": strings.Repeat("长", 120), "body": strings.Repeat("字", 20000)}}, nil)

	// A private club's posts are for its members.
	secret := a.createPost(wang, private, "物业费调整通知")
	if _, res := a.post(lihua, secret); len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("a non-member read a private club's post: %+v", res)
	}
	a.fails(community.CodeForbidden, lihua, `{ club(slug: "cuihu") { posts { edges { node { title } } } } }`, nil)
	if got, _ := a.post(wang, secret); got.Title != "物业费调整通知" {
		t.Errorf("a member cannot read its club's post: %+v", got)
	}

	// Editing and deleting.
	edit := `mutation($in: EditPostInput!) { editPost(input: $in) { post { title editedAt tags } } }`
	a.fails(community.CodeForbidden, wang, edit, map[string]any{"in": map[string]any{"postId": p.ID, "title": "x", "body": "y"}})
	a.ok(lihua, edit, map[string]any{"in": map[string]any{"postId": p.ID, "title": "汽车保养经验（更新）", "body": "每5000公里换机油和机滤"}}, nil)
	if got, _ := a.post(wang, p.ID); got.EditedAt == nil || got.Title != "汽车保养经验（更新）" || len(got.Tags) != 0 {
		t.Errorf("after the edit: %+v", got)
	}

	// Comments, threaded; counters.
	add := `mutation($in: AddCommentInput!) { addComment(input: $in) { comment { id body } } }`
	var c1 struct {
		AddComment struct{ Comment struct{ ID string } } `json:"addComment"`
	}
	a.ok(wang, add, map[string]any{"in": map[string]any{"postId": p.ID, "body": "学到了"}}, &c1)
	a.ok(lihua, add, map[string]any{"in": map[string]any{"postId": p.ID, "body": "谢谢", "replyTo": c1.AddComment.Comment.ID}}, nil)
	a.ok(zhao, add, map[string]any{"in": map[string]any{"postId": p.ID, "body": "Useful, thanks"}}, nil) // a public club: any member of the community comments
	a.fails(community.CodeNotFound, wang, add, map[string]any{"in": map[string]any{"postId": p.ID, "body": "x", "replyTo": community.NewID()}})
	a.fails(community.CodeBadUserInput, wang, add, map[string]any{"in": map[string]any{"postId": p.ID, "body": "  "}})
	a.fails(community.CodeForbidden, lihua, add, map[string]any{"in": map[string]any{"postId": secret, "body": "x"}})
	thread := `query($id: ID!) { post(id: $id) { commentCount comments { edges { node { body deleted replyCount author { handle } replies { edges { node { body } } } } } } } }`
	var th struct {
		Post struct {
			CommentCount int
			Comments     struct {
				Edges []struct {
					Node struct {
						Body       string
						Deleted    bool
						ReplyCount int
						Replies    struct {
							Edges []struct{ Node struct{ Body string } }
						}
					}
				}
			}
		}
	}
	a.ok(wang, thread, map[string]any{"id": p.ID}, &th)
	if th.Post.CommentCount != 3 || len(th.Post.Comments.Edges) != 2 || th.Post.Comments.Edges[0].Node.ReplyCount != 1 || th.Post.Comments.Edges[0].Node.Replies.Edges[0].Node.Body != "谢谢" {
		t.Errorf("thread = %+v", th.Post)
	}
	delComment := `mutation($id: ID!) { deleteComment(input: {commentId: $id}) { comment { deleted body } } }`
	a.fails(community.CodeForbidden, zhao, delComment, map[string]any{"id": c1.AddComment.Comment.ID})
	a.ok(wang, delComment, map[string]any{"id": c1.AddComment.Comment.ID}, nil)
	a.ok(wang, thread, map[string]any{"id": p.ID}, &th)
	if first := th.Post.Comments.Edges[0].Node; !first.Deleted || first.Body != "" || first.ReplyCount != 1 || th.Post.CommentCount != 2 {
		t.Errorf("after deleting the first comment: %+v (count %d)", first, th.Post.CommentCount)
	}

	// Reactions and shares.
	react := `mutation($id: ID!, $k: ReactionKind!) { react(input: {targetId: $id, kind: $k}) { reacted } }`
	unreact := `mutation($id: ID!, $k: ReactionKind!) { unreact(input: {targetId: $id, kind: $k}) { reacted } }`
	for range 2 {
		a.ok(wang, react, map[string]any{"id": p.ID, "k": "LIKE"}, nil)
	}
	a.ok(wang, react, map[string]any{"id": p.ID, "k": "INSIGHTFUL"}, nil)
	a.ok(zhao, react, map[string]any{"id": p.ID, "k": "LIKE"}, nil)
	a.ok(zhao, unreact, map[string]any{"id": p.ID, "k": "LIKE"}, nil)
	a.ok(zhao, unreact, map[string]any{"id": p.ID, "k": "LIKE"}, nil)
	a.fails(community.CodeBadUserInput, wang, react, map[string]any{"id": p.ID, "k": "ANGRY"})
	a.fails(community.CodeNotFound, wang, react, map[string]any{"id": community.NewID(), "k": "LIKE"})
	share := `mutation($id: ID!, $c: ShareChannel!) { sharePost(input: {postId: $id, channel: $c}) { post { shareCount } } }`
	a.ok(wang, share, map[string]any{"id": p.ID, "c": "WECHAT"}, nil)
	a.ok(wang, share, map[string]any{"id": p.ID, "c": "IN_APP"}, nil)
	a.ok(zhao, share, map[string]any{"id": p.ID, "c": "WECHAT"}, nil)
	got, _ := a.post(wang, p.ID)
	if fmt.Sprint(got.ReactionCounts) != "[{LIKE 1} {INSIGHTFUL 1}]" || fmt.Sprint(got.ViewerReactions) != "[LIKE INSIGHTFUL]" ||
		got.ShareCount != 3 || fmt.Sprint(got.SharesByChannel) != "[{WECHAT 2} {IN_APP 1}]" {
		t.Errorf("counters: %+v", got)
	}

	// Deleting: moderators may, others may not; a deleted post is a tombstone.
	del := `mutation($id: ID!) { deletePost(input: {postId: $id}) { post { status title body } } }`
	a.fails(community.CodeForbidden, zhao, del, map[string]any{"id": p.ID})
	a.ok(cm, `mutation($c: ID!, $m: ID!) { setClubRole(input: {clubId: $c, memberId: $m, role: MODERATOR}) { membership { role } } }`, map[string]any{"c": forum, "m": wangID}, nil)
	a.ok(wang, del, map[string]any{"id": p.ID}, nil)
	if got, _ := a.post(lihua, p.ID); got.Status != "DELETED" || got.Title != "" || got.Body != "" {
		t.Errorf("a deleted post reads %+v", got)
	}
	a.fails(community.CodeNotFound, wang, react, map[string]any{"id": p.ID, "k": "FUNNY"})
	var list struct {
		Club struct {
			Posts struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	a.ok(lihua, `{ club(slug: "ev-talk") { posts { edges { node { id } } } } }`, nil, &list)
	for _, e := range list.Club.Posts.Edges {
		if e.Node.ID == p.ID {
			t.Error("a deleted post is still listed in its club")
		}
	}
}

func TestClubPostOrders(t *testing.T) {
	a := newAPI(t)
	forum, _ := a.evTalk()
	_, author := a.register("author_one", "作者")
	a.join(author, forum)
	var ids []string
	for i := range 6 {
		ids = append(ids, a.createPost(author, forum, fmt.Sprintf("post %d", i)))
	}
	// post 1 gets much engagement, post 3 a little.
	for i := range 4 {
		_, tok := a.register(fmt.Sprintf("fan_%d", i), "fan")
		a.join(tok, forum)
		a.ok(tok, `mutation($id: ID!) { react(input: {targetId: $id, kind: LIKE}) { reacted } }`, map[string]any{"id": ids[1]}, nil)
		a.ok(tok, `mutation($in: AddCommentInput!) { addComment(input: $in) { comment { id } } }`, map[string]any{"in": map[string]any{"postId": ids[1], "body": "赞"}}, nil)
		if i == 0 {
			a.ok(tok, `mutation($id: ID!) { react(input: {targetId: $id, kind: SUPPORT}) { reacted } }`, map[string]any{"id": ids[3]}, nil)
		}
	}
	walk := func(sort string, size int) []string {
		var out []string
		after := ""
		for range 20 {
			var page struct {
				Club struct {
					Posts struct {
						PageInfo struct {
							HasNextPage bool
							EndCursor   string
						}
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
			vars := map[string]any{"sort": sort, "first": size}
			if after != "" {
				vars["after"] = after
			}
			a.ok(author, `query($sort: PostSort, $first: Int, $after: String) { club(slug: "ev-talk") { posts(sort: $sort, first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }`, vars, &page)
			for _, e := range page.Club.Posts.Edges {
				out = append(out, e.Node.ID)
			}
			if !page.Club.Posts.PageInfo.HasNextPage {
				return out
			}
			after = page.Club.Posts.PageInfo.EndCursor
		}
		t.Fatal("paging did not end")
		return nil
	}
	newest := []string{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}
	top := []string{ids[1], ids[3], ids[5], ids[4], ids[2], ids[0]}
	for _, size := range []int{1, 2, 4, 10} {
		if got := walk("NEW", size); fmt.Sprint(got) != fmt.Sprint(newest) {
			t.Errorf("NEW in pages of %d = %v, want %v", size, got, newest)
		}
		if got := walk("TOP", size); fmt.Sprint(got) != fmt.Sprint(top) {
			t.Errorf("TOP in pages of %d = %v, want %v", size, got, top)
		}
		hot := walk("HOT", size)
		if len(hot) != 6 || hot[0] != ids[1] {
			t.Errorf("HOT in pages of %d = %v, want all six with the engaged post first", size, hot)
		}
	}
}

func TestFeed(t *testing.T) {
	a := newAPI(t)
	forum, cm := a.evTalk()
	other := a.createClub(cm, map[string]any{"slug": "camping", "name": "露营", "kind": "INTEREST", "visibility": "PUBLIC", "joinPolicy": "OPEN"})
	hidden := a.createClub(cm, map[string]any{"slug": "hidden", "name": "私密", "kind": "INTEREST", "visibility": "PRIVATE", "joinPolicy": "APPROVAL"})
	_, viewer := a.register("viewer_one", "读者")
	followedID, followed := a.register("followed_one", "被关注者")
	sharerID, sharer := a.register("sharer_one", "分享者")
	_, stranger := a.register("stranger_one", "陌生人")
	a.join(viewer, forum)
	for _, tok := range []string{followed, sharer, stranger} {
		a.join(tok, forum)
		a.join(tok, other)
	}
	a.join(followed, hidden)
	a.ok(cm, `mutation($c: ID!, $m: ID!) { approveJoinRequest(input: {clubId: $c, memberId: $m}) { club { id } } }`, map[string]any{"c": hidden, "m": followedID}, nil)
	for _, id := range []string{followedID, sharerID} {
		a.follow(viewer, id)
	}
	inClub := a.createPost(stranger, forum, "论坛里的帖子")         // in the viewer's club
	byFollowed := a.createPost(followed, other, "关注的人在别的俱乐部") // by a followed member
	notMine := a.createPost(stranger, other, "与我无关")          // neither: absent, until shared
	a.ok(sharer, `mutation($id: ID!) { sharePost(input: {postId: $id, channel: IN_APP}) { post { id } } }`, map[string]any{"id": notMine}, nil)
	a.ok(sharer, `mutation($id: ID!) { sharePost(input: {postId: $id, channel: WECHAT}) { post { id } } }`, map[string]any{"id": byFollowed}, nil)
	own := a.createPost(viewer, forum, "我自己的帖子")
	type feedPage struct {
		Feed struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct {
				Node struct {
					ID     string
					Author struct{ Handle string }
				}
				SharedBy *struct{ Handle string }
			}
		}
	}
	feedOp := `query($first: Int, $after: String) { feed(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id author { handle } } sharedBy { handle } } } }`
	var f feedPage
	a.ok(viewer, feedOp, map[string]any{"first": 10}, &f)
	var got []string
	for _, e := range f.Feed.Edges {
		got = append(got, e.Node.ID)
	}
	want := []string{own, notMine, byFollowed, inClub}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("feed = %v, want %v (own, shared, followed, club)", got, want)
	}
	if len(f.Feed.Edges) == 4 && (f.Feed.Edges[1].SharedBy == nil || f.Feed.Edges[1].SharedBy.Handle != "sharer_one" || f.Feed.Edges[2].SharedBy != nil) {
		t.Errorf("sharedBy: %+v", f.Feed.Edges)
	}
	// A private club's post by a followed member stays out of the viewer's feed.
	hiddenPost := a.createPost(followed, hidden, "私密俱乐部的帖子")
	a.ok(viewer, feedOp, map[string]any{"first": 10}, &f)
	for _, e := range f.Feed.Edges {
		if e.Node.ID == hiddenPost {
			t.Error("a private club's post reached a non-member's feed")
		}
	}
	a.fails(community.CodeUnauthenticated, "", feedOp, nil)

	// Pages stay correct while posts arrive: walk in pages of 2, posting between pages.
	var walked []string
	after := ""
	for i := 0; ; i++ {
		vars := map[string]any{"first": 2}
		if after != "" {
			vars["after"] = after
		}
		a.ok(viewer, feedOp, vars, &f)
		for _, e := range f.Feed.Edges {
			walked = append(walked, e.Node.ID)
		}
		if !f.Feed.PageInfo.HasNextPage {
			break
		}
		after = f.Feed.PageInfo.EndCursor
		a.createPost(stranger, forum, fmt.Sprintf("新帖 %d", i))
	}
	first := []string{own, notMine, byFollowed, inClub}
	if fmt.Sprint(walked) != fmt.Sprint(first) {
		t.Errorf("feed walked while posts arrived = %v, want %v", walked, first)
	}
}

func jwtClaimsRoles(roles ...string) jwtauth.Claims { return jwtauth.Claims{Roles: roles} }

// decode reads a response's data, whatever its errors.
func decode(t *testing.T, res gqlResponse, out any) {
	t.Helper()
	if len(res.Data) > 0 && string(res.Data) != "null" {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// busyForum is a public forum ("ev-talk") with a viewer and eight authors who joined it;
// write adds each author's posts. It returns the API and the viewer's token.
func busyForum(t *testing.T, write func(a *api, viewer, author, forum string, i int)) (*api, string) {
	t.Helper()
	a := newAPI(t)
	forum, _ := a.evTalk()
	_, viewer := a.register("viewer_one", "读者")
	a.join(viewer, forum)
	for i := range 8 {
		_, tok := a.register(fmt.Sprintf("author_%d", i), fmt.Sprintf("作者 %d", i))
		a.join(tok, forum)
		write(a, viewer, tok, forum, i)
	}
	return a, viewer
}

// TestPostListRoundTrips checks that a feed page and a club's HOT page, with each post's
// author, counters, the viewer's reactions and the first comments with their authors, cost
// the same number of store round trips whatever their size.
func TestPostListRoundTrips(t *testing.T) {
	a, viewer := busyForum(t, func(a *api, viewer, author, forum string, i int) {
		// Each author's posts are commented by a member of their own, so that comment
		// authors are members the page has not loaded yet.
		_, commenter := a.register(fmt.Sprintf("commenter_%d", i), fmt.Sprintf("评论者 %d", i))
		a.join(commenter, forum)
		for j := range 4 {
			id := a.createPost(author, forum, fmt.Sprintf("帖子 %d-%d", i, j))
			a.ok(viewer, `mutation($id: ID!) { react(input: {targetId: $id, kind: LIKE}) { reacted } }`, map[string]any{"id": id}, nil)
			a.ok(commenter, `mutation($id: ID!) { addComment(input: {postId: $id, body: "补充一下"}) { comment { id } } }`, map[string]any{"id": id}, nil)
		}
	})
	queries := map[string]string{
		"feed": `query($n: Int) { feed(first: $n) { edges { node { id title commentCount reactionCounts { kind count } viewerReactions
			author { handle followerCount } club { name } comments(first: 2) { edges { node { body author { handle followerCount } } } } } } } }`,
		"club HOT": `query($n: Int) { club(slug: "ev-talk") { posts(sort: HOT, first: $n) { edges { node { id title viewerReactions
			author { handle followerCount } } } } } }`,
	}
	for name, q := range queries {
		cost := func(n int) int64 {
			before := a.trips.Total()
			res := a.do(viewer, q, map[string]any{"n": n})
			calls := a.trips.Total() - before
			// The page must hold what was asked for, or an equal cost would prove nothing.
			if got := strings.Count(string(res.Data), `"title"`); len(res.Errors) > 0 || got != n {
				t.Fatalf("%s: first %d gave %d posts (%v)", name, n, got, res.Errors)
			}
			return calls
		}
		small, large := cost(5), cost(20)
		if small != large {
			t.Errorf("%s: first 5 cost %d round trips, first 20 cost %d", name, small, large)
		}
		t.Logf("%s: %d store round trips for 5 and for 20 posts", name, large)
	}
}
