package resolvers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
)

// publish creates a post with a body of its own and returns its id.
func (a *api) publish(token, clubID, title, body string, tags ...string) string {
	a.t.Helper()
	var out struct {
		CreatePost struct{ Post struct{ ID string } } `json:"createPost"`
	}
	a.ok(token, createPostOp, map[string]any{"in": map[string]any{"clubId": clubID, "title": title, "body": body, "tags": tags}}, &out)
	return out.CreatePost.Post.ID
}

const searchOp = `query($q: String!, $f: PostSearchFilter, $s: SearchSort, $n: Int, $after: String) {
  searchPosts(query: $q, filter: $f, sort: $s, first: $n, after: $after) {
    totalCount totalCountIsEstimate
    pageInfo { hasNextPage endCursor }
    facets { clubs { club { slug } count } tags { tag count } }
    edges { cursor titleSnippet bodySnippet node { id title club { slug } } }
  }
}`

type searchOut struct {
	TotalCount           int
	TotalCountIsEstimate bool
	PageInfo             struct {
		HasNextPage bool
		EndCursor   *string
	}
	Facets struct {
		Clubs []struct {
			Club  struct{ Slug string }
			Count int
		}
		Tags []struct {
			Tag   string
			Count int
		}
	}
	Edges []struct {
		Cursor       string
		TitleSnippet string
		BodySnippet  string
		Node         struct {
			ID, Title string
			Club      struct{ Slug string }
		}
	}
}

// search runs searchPosts and returns the result.
func (a *api) search(token, q string, vars map[string]any) searchOut {
	a.t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["q"] = q
	var out struct{ SearchPosts searchOut }
	a.ok(token, searchOp, vars, &out)
	return out.SearchPosts
}

// titles are the titles of the hits, in order.
func (r searchOut) titles() []string {
	out := make([]string, len(r.Edges))
	for i, e := range r.Edges {
		out[i] = e.Node.Title
	}
	return out
}

// sortedTitles are the titles of the hits, sorted, for searches whose order is not the point.
func (r searchOut) sortedTitles() []string {
	out := r.titles()
	slices.Sort(out)
	return out
}

// searchCommunity is a small community to search: a public forum, a private residents'
// forum, a brand's owners' club, and posts in Chinese, English and both.
type searchCommunity struct {
	a                        *api
	cm                       string
	forum, private, brandClb string
	brand                    string
	lihua, wang, zhao        string
	lihuaID                  string
	posts                    map[string]string // title → id
}

func newSearchCommunity(t *testing.T) *searchCommunity {
	a := newAPI(t)
	c := &searchCommunity{a: a, cm: mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), posts: map[string]string{}}
	c.brand = a.createBrand("byd", "比亚迪")
	c.forum = a.createClub(c.cm, evTalkInput)
	c.private = a.createClub(c.cm, map[string]any{"slug": "cuihu", "name": "翠湖花园业主论坛", "kind": "OWNER_CLUB", "visibility": "PRIVATE", "joinPolicy": "OPEN"})
	c.brandClb = a.createClub(c.cm, map[string]any{"slug": "byd-owners", "name": "比亚迪车友会", "kind": "OWNER_CLUB", "visibility": "PRIVATE", "joinPolicy": "OPEN", "brandId": c.brand})
	c.lihuaID, c.lihua = a.register("li_hua", "李华")
	_, c.wang = a.register("wang_fang", "王芳")
	_, c.zhao = a.register("zhao_lei", "赵磊")
	for _, tok := range []string{c.lihua, c.wang} {
		a.join(tok, c.forum)
	}
	a.join(c.wang, c.private)
	a.join(c.wang, c.brandClb)
	for _, p := range []struct {
		tok, club, title, body string
		tags                   []string
	}{
		{c.lihua, c.forum, "汽车保养经验", "每5000公里换一次机油，保养记录要留好。", []string{"保养"}},
		{c.lihua, c.forum, "车友会活动报名", "周末车友会活动：莫干山自驾，欢迎报名。", []string{"活动"}},
		{c.wang, c.forum, "会员日优惠", "朋友推荐的会员日，汽车用品打八折。", []string{"优惠"}},
		{c.wang, c.forum, "Charging tips for winter", "I charged my car overnight; fast chargers slow down in the cold.", []string{"ev"}},
		{c.lihua, c.forum, "Battery health after two years", "My battery still holds 95% after 40,000 km.", []string{"ev", "battery"}},
		{c.lihua, c.forum, "BYD 海豹 续航实测", "高速120km/h续航大约450公里，冬天打七折。", []string{"byd", "续航"}},
		{c.wang, c.private, "报修待处理", "3号楼电梯报修三天了还是待处理。", []string{"物业"}},
		{c.wang, c.brandClb, "车友会年会", "比亚迪车友会年会在深圳举行。", []string{"活动"}},
		{c.lihua, c.forum, "<b>HTML</b> & 保养 tags", "Body with <script>alert(1)</script> and 保养.", nil},
	} {
		c.posts[p.title] = a.publish(p.tok, p.club, p.title, p.body, p.tags...)
	}
	a.deliver()
	return c
}

func TestSearchPosts(t *testing.T) {
	c := newSearchCommunity(t)
	a := c.a

	t.Run("chinese words inside longer runs, not shared characters", func(t *testing.T) {
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"保养", []string{"<b>HTML</b> & 保养 tags", "汽车保养经验"}},
			{"车友会", []string{"车友会活动报名"}},
			{"续航", []string{"BYD 海豹 续航实测"}},
			{"charging", []string{"Charging tips for winter"}},
			{"batery", []string{"Battery health after two years"}},
			{"BYD 续航", []string{"BYD 海豹 续航实测"}},
		} {
			t.Run(tc.q, func(t *testing.T) {
				got := a.search(c.lihua, tc.q, nil)
				if diff := cmp.Diff(tc.want, got.sortedTitles()); diff != "" {
					t.Errorf("searchPosts(%q) (-want +got):\n%s", tc.q, diff)
				}
			})
		}
	})

	t.Run("snippets are escaped HTML with matches in em", func(t *testing.T) {
		got := a.search(c.lihua, "保养", map[string]any{"s": "NEWEST"})
		if len(got.Edges) != 2 {
			t.Fatalf("got %v", got.titles())
		}
		e := got.Edges[0]
		if e.TitleSnippet != "&lt;b&gt;HTML&lt;/b&gt; &amp; <em>保养</em> tags" {
			t.Errorf("title snippet %q", e.TitleSnippet)
		}
		if strings.Contains(e.BodySnippet, "<script>") || !strings.Contains(e.BodySnippet, "&lt;script&gt;") || !strings.Contains(e.BodySnippet, "<em>保养</em>") {
			t.Errorf("body snippet %q", e.BodySnippet)
		}
		if got.Edges[1].TitleSnippet != "汽车<em>保养</em>经验" {
			t.Errorf("title snippet %q", got.Edges[1].TitleSnippet)
		}
	})

	t.Run("private clubs for their members, brand clubs for the brand's staff", func(t *testing.T) {
		staff := staffToken(t, c.brand, "BRAND_STAFF")
		other := staffToken(t, a.createBrand("nio", "蔚来"), "BRAND_STAFF")
		for _, tc := range []struct {
			name, token, q string
			want           []string
		}{
			{"non-member", c.lihua, "待处理", nil},
			{"member", c.wang, "待处理", []string{"报修待处理"}},
			{"community manager", c.cm, "待处理", []string{"报修待处理"}},
			{"member of the brand club", c.wang, "年会", []string{"车友会年会"}},
			{"non-member of the brand club", c.zhao, "年会", nil},
			{"the brand's staff", staff, "车友会", []string{"车友会年会"}},
			{"another brand's staff", other, "车友会", nil},
			{"another brand's staff, public posts", other, "保养", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := a.search(tc.token, tc.q, nil)
				if diff := cmp.Diff(tc.want, got.sortedTitles(), cmpEmpty); diff != "" {
					t.Errorf("searchPosts(%q) (-want +got):\n%s", tc.q, diff)
				}
				if len(tc.want) == 0 && (got.TotalCount != 0 || len(got.Facets.Clubs) != 0 || len(got.Facets.Tags) != 0) {
					t.Errorf("counts leak what the caller may not see: %+v", got)
				}
			})
		}
		a.fails(community.CodeUnauthenticated, "", searchOp, map[string]any{"q": "保养"})
	})

	t.Run("filters, facets and sorts", func(t *testing.T) {
		got := a.search(c.wang, "", map[string]any{"f": map[string]any{"tags": []string{"ＥＶ"}}, "s": "NEWEST"})
		if diff := cmp.Diff([]string{"Battery health after two years", "Charging tips for winter"}, got.titles()); diff != "" {
			t.Errorf("tag filter, newest first (-want +got):\n%s", diff)
		}
		got = a.search(c.wang, "", map[string]any{"f": map[string]any{"authorId": c.lihuaID, "clubIds": []string{c.forum}}})
		if got.TotalCount != 5 {
			t.Errorf("author and club filter: %d hits %v", got.TotalCount, got.titles())
		}
		got = a.search(c.wang, "", map[string]any{"f": map[string]any{"brandIds": []string{c.brand}}})
		if diff := cmp.Diff([]string{"车友会年会"}, got.titles()); diff != "" {
			t.Errorf("brand filter (-want +got):\n%s", diff)
		}
		got = a.search(c.wang, "", nil)
		if got.TotalCount != 9 || got.TotalCountIsEstimate {
			t.Errorf("everything wang may see: %d (estimate %v)", got.TotalCount, got.TotalCountIsEstimate)
		}
		facets := map[string]int{}
		for _, f := range got.Facets.Clubs {
			facets[f.Club.Slug] = f.Count
		}
		if diff := cmp.Diff(map[string]int{"ev-talk": 7, "cuihu": 1, "byd-owners": 1}, facets); diff != "" {
			t.Errorf("club facet (-want +got):\n%s", diff)
		}
		if len(got.Facets.Tags) == 0 || got.Facets.Tags[0].Tag != "ev" || got.Facets.Tags[0].Count != 2 {
			t.Errorf("tag facet: %+v", got.Facets.Tags)
		}
		// Engagement orders MOST_ENGAGED.
		id := c.posts["会员日优惠"]
		a.ok(c.lihua, `mutation($id: ID!) { react(input: {targetId: $id, kind: LIKE}) { reacted } }`, map[string]any{"id": id}, nil)
		a.ok(c.lihua, `mutation($id: ID!) { addComment(input: {postId: $id, body: "好"}) { comment { id } } }`, map[string]any{"id": id}, nil)
		a.deliver()
		got = a.search(c.lihua, "", map[string]any{"s": "MOST_ENGAGED", "n": 1})
		if diff := cmp.Diff([]string{"会员日优惠"}, got.titles()); diff != "" {
			t.Errorf("most engaged (-want +got):\n%s", diff)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var seen []string
		vars := map[string]any{"n": 3, "s": "NEWEST"}
		for page := 0; ; page++ {
			got := a.search(c.wang, "", vars)
			seen = append(seen, got.titles()...)
			if !got.PageInfo.HasNextPage {
				break
			}
			if page > 5 {
				t.Fatal("pages do not end")
			}
			vars["after"] = *got.PageInfo.EndCursor
		}
		if len(seen) != 9 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 9 {
			t.Errorf("walked %d hits: %v", len(seen), seen)
		}
		first := a.search(c.wang, "", map[string]any{"n": 1})
		a.fails(community.CodeBadUserInput, c.wang, searchOp, map[string]any{"q": "保养", "after": *first.PageInfo.EndCursor})
	})

	t.Run("bad input", func(t *testing.T) {
		for name, vars := range map[string]map[string]any{
			"long query":   {"q": strings.Repeat("车", 201)},
			"first 0":      {"q": "x", "n": 0},
			"first 51":     {"q": "x", "n": 51},
			"forged after": {"q": "x", "after": "bm90LWEtY3Vyc29y"},
			"bad club id":  {"q": "x", "f": map[string]any{"clubIds": []string{"club-1"}}},
			"bad author":   {"q": "x", "f": map[string]any{"authorId": "li_hua"}},
			"to before from": {"q": "x", "f": map[string]any{
				"from": "2026-05-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}},
		} {
			t.Run(name, func(t *testing.T) { a.fails(community.CodeBadUserInput, c.wang, searchOp, vars) })
		}
	})

	t.Run("deletes and visibility changes leave the index", func(t *testing.T) {
		id := c.posts["汽车保养经验"]
		a.ok(c.lihua, `mutation($id: ID!) { deletePost(input: {postId: $id}) { post { status } } }`, map[string]any{"id": id}, nil)
		// Before the relay delivers, the store already leaves it out of the page.
		if got := a.search(c.wang, "保养", nil); slices.Contains(got.titles(), "汽车保养经验") {
			t.Errorf("a deleted post is shown: %v", got.titles())
		}
		a.deliver()
		got := a.search(c.wang, "保养", nil)
		if diff := cmp.Diff([]string{"<b>HTML</b> & 保养 tags"}, got.titles()); diff != "" || got.TotalCount != 1 {
			t.Errorf("after delivery (-want +got):\n%s (total %d)", diff, got.TotalCount)
		}
		// The forum turns private: its posts leave the searches of non-members.
		a.ok(c.cm, `mutation($id: ID!) { updateClub(input: {clubId: $id, visibility: PRIVATE}) { club { visibility } } }`, map[string]any{"id": c.forum}, nil)
		a.deliver()
		if got := a.search(c.zhao, "续航", nil); len(got.Edges) != 0 || got.TotalCount != 0 {
			t.Errorf("a non-member finds a now private club's posts: %v", got.titles())
		}
		if got := a.search(c.wang, "续航", nil); len(got.Edges) != 1 {
			t.Errorf("a member lost its club's posts: %v", got.titles())
		}
	})
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestSearchMembers(t *testing.T) {
	a := newAPI(t)
	_, lihua := a.register("li_hua", "李华")
	a.register("li_na", "Nana")
	a.register("lin_feng", "林峰")
	a.register("wang_li", "Li Wang")
	brand := a.createBrand("byd", "比亚迪")
	q := `query($q: String!, $n: Int) { searchMembers(query: $q, first: $n) { handle displayName } }`
	handles := func(token, query string, n int) []string {
		var out struct {
			SearchMembers []struct{ Handle, DisplayName string }
		}
		a.ok(token, q, map[string]any{"q": query, "n": n}, &out)
		var hs []string
		for _, m := range out.SearchMembers {
			hs = append(hs, m.Handle)
		}
		return hs
	}
	for _, tc := range []struct {
		q    string
		n    int
		want []string
	}{
		{"li", 10, []string{"li_hua", "li_na", "lin_feng", "wang_li"}},
		{"@Li", 10, []string{"li_hua", "li_na", "lin_feng", "wang_li"}},
		{"li", 2, []string{"li_hua", "li_na"}},
		{"李", 10, []string{"li_hua"}},
		{"zz", 10, nil},
	} {
		t.Run(fmt.Sprint(tc.q, "/", tc.n), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, handles(lihua, tc.q, tc.n), cmpEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	a.fails(community.CodeUnauthenticated, "", q, map[string]any{"q": "li"})
	a.fails(community.CodeForbidden, staffToken(t, brand, "BRAND_STAFF"), q, map[string]any{"q": "li"})
	// A role without a brand is no member of the community either.
	a.fails(community.CodeForbidden, mint(t, jwtClaimsRoles("BRAND_STAFF")), q, map[string]any{"q": "li"})
	if got := handles(mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), "li", 1); len(got) != 1 {
		t.Errorf("a community manager finds %v", got)
	}
	for name, vars := range map[string]map[string]any{
		"empty":    {"q": " @ "},
		"long":     {"q": strings.Repeat("l", 51)},
		"first 0":  {"q": "li", "n": 0},
		"first 21": {"q": "li", "n": 21},
	} {
		t.Run(name, func(t *testing.T) { a.fails(community.CodeBadUserInput, lihua, q, vars) })
	}
}

// TestSearchRoundTrips checks that a page of hits, with each post's author, club and
// counters, costs the same store round trips for 5 hits as for 20.
func TestSearchRoundTrips(t *testing.T) {
	a, viewer := busyForum(t, func(a *api, _, author, forum string, i int) {
		for j := range 3 {
			a.publish(author, forum, fmt.Sprintf("充电桩 %d-%d", i, j), "小区充电桩安装经验")
		}
	})
	a.deliver()
	q := `query($n: Int) { searchPosts(query: "充电桩", first: $n) { facets { clubs { club { name } count } }
		edges { titleSnippet node { id commentCount viewerReactions author { handle followerCount } club { name } } } } }`
	cost := func(n int) int64 {
		before := a.trips.Total()
		var out struct{ SearchPosts searchOut }
		a.ok(viewer, q, map[string]any{"n": n}, &out)
		if len(out.SearchPosts.Edges) != n {
			t.Fatalf("%d hits for first %d", len(out.SearchPosts.Edges), n)
		}
		return a.trips.Total() - before
	}
	small, large := cost(5), cost(20)
	if small != large {
		t.Errorf("first 5 cost %d round trips, first 20 cost %d", small, large)
	}
	t.Logf("%d store round trips for 5 and for 20 hits", large)
}

func TestSearchIndexOperations(t *testing.T) {
	c := newSearchCommunity(t)
	a := c.a
	admin := adminToken(t)
	status := `{ searchIndexStatus { pendingChanges oldestPendingAt delivered failedDeliveries failing rebuild { startedAt finishedAt indexed failed } } }`
	type statusOut struct {
		SearchIndexStatus struct {
			PendingChanges   int
			OldestPendingAt  *string
			Delivered        int
			FailedDeliveries int
			Failing          bool
			Rebuild          *struct {
				StartedAt  string
				FinishedAt *string
				Indexed    int
				Failed     bool
			}
		}
	}
	read := func() statusOut {
		t.Helper()
		var out statusOut
		a.ok(c.cm, status, nil, &out)
		return out
	}
	a.fails(community.CodeForbidden, c.wang, status, nil)
	a.fails(community.CodeUnauthenticated, "", status, nil)

	a.publish(c.lihua, c.forum, "新帖", "还没送到索引")
	st := read().SearchIndexStatus
	if st.PendingChanges != 1 || st.OldestPendingAt == nil || st.Delivered != 9 || st.Failing {
		t.Errorf("status before delivery: %+v", st)
	}
	a.deliver()
	if st := read().SearchIndexStatus; st.PendingChanges != 0 || st.OldestPendingAt != nil || st.Delivered != 10 {
		t.Errorf("status after delivery: %+v", st)
	}

	rebuild := `mutation { rebuildSearchIndex { rebuild { startedAt finishedAt indexed failed } } }`
	a.fails(community.CodeForbidden, c.cm, rebuild, nil)
	a.ok(admin, rebuild, nil, nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := read().SearchIndexStatus.Rebuild
		if r == nil {
			t.Fatal("no rebuild in the status")
		}
		if r.FinishedAt != nil {
			if r.Failed || r.Indexed != 10 {
				t.Errorf("rebuild: %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuild still running: %+v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := a.search(c.wang, "待处理", nil); len(got.Edges) != 1 {
		t.Errorf("after the rebuild: %v", got.titles())
	}
}
