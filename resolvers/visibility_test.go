package resolvers_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

// revealed returns the member ids among ids that a response carries anywhere: in its data,
// its error messages, or inside the cursors it hands out.
func revealed(res gqlResponse, ids ...string) []string {
	text := string(res.Data)
	for _, e := range res.Errors {
		text += " " + e.Message
	}
	for _, c := range regexp.MustCompile(`"(?:cursor|endCursor)":"([^"]+)"`).FindAllStringSubmatch(string(res.Data), -1) {
		if raw, err := base64.RawURLEncoding.DecodeString(c[1]); err == nil {
			text += " " + string(raw)
		}
	}
	var out []string
	for _, id := range ids {
		if strings.Contains(text, id) {
			out = append(out, id)
		}
	}
	return out
}

// TestMemberLookupVisibility checks who learns that a member exists, by handle, by id and
// through federation: anonymous callers are told to sign in, brand staff find only members
// who consented to share their profile with their brand (and cannot tell the others from
// unknown ones), the community finds everyone.
func TestMemberLookupVisibility(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	nio := a.createBrand("nio", "蔚来")
	consenting, lihuaTok := a.register("li_hua", "李华")
	silent, _ := a.register("wang_fang", "王芳")
	elsewhere, zhaoTok := a.register("zhao_lei", "赵磊")
	contactOnly, chenTok := a.register("chen_jing", "陈静")
	a.ok(lihuaTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
	a.ok(zhaoTok, consentOp, map[string]any{"b": nio, "s": []string{"PROFILE", "CONTACT", "ACTIVITY"}}, nil)
	a.ok(chenTok, consentOp, map[string]any{"b": byd, "s": []string{"CONTACT", "ACTIVITY"}}, nil)
	handles := map[string]string{consenting: "li_hua", silent: "wang_fang", elsewhere: "zhao_lei", contactOnly: "chen_jing"}
	unknown := community.NewID()
	handles[unknown] = "nobody_here"

	const (
		shown  = "shown"
		absent = "absent" // null, with no error: as for an unknown member
	)
	readers := []struct {
		name  string
		token string
		// sees says which members the reader finds; want is the answer for the others.
		sees map[string]bool
		want string
	}{
		{"anonymous", "", nil, string(community.CodeUnauthenticated)},
		{"member", lihuaTok, map[string]bool{consenting: true, silent: true, elsewhere: true, contactOnly: true}, absent},
		{"newcomer", identityToken(t, "WECHAT", "openid-newcomer"), map[string]bool{consenting: true, silent: true, elsewhere: true, contactOnly: true}, absent},
		{"community manager", mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), map[string]bool{consenting: true, silent: true, elsewhere: true, contactOnly: true}, absent},
		{"admin", adminToken(t), map[string]bool{consenting: true, silent: true, elsewhere: true, contactOnly: true}, absent},
		{"byd staff", staffToken(t, byd, "BRAND_STAFF"), map[string]bool{consenting: true}, absent},
		{"byd admin", staffToken(t, byd, "BRAND_ADMIN"), map[string]bool{consenting: true}, absent},
		{"nio staff", staffToken(t, nio, "BRAND_STAFF"), map[string]bool{elsewhere: true}, absent},
		{"byd staff who is a member", mint(t, jwtauth.Claims{RegisteredClaims: jwtClaims(silent), Roles: []string{"BRAND_STAFF"}, Brand: byd}), map[string]bool{consenting: true, silent: true}, absent},
	}
	lookups := map[string]func(id string) (string, map[string]any){
		"memberByHandle": func(id string) (string, map[string]any) {
			return `query($h: String!) { memberByHandle(handle: $h) { id } }`, map[string]any{"h": strings.ToUpper(handles[id])}
		},
		"member": func(id string) (string, map[string]any) {
			return `query($id: ID!) { member(id: $id) { id } }`, map[string]any{"id": id}
		},
		"_entities": func(id string) (string, map[string]any) {
			return `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }`,
				map[string]any{"r": []map[string]any{{"__typename": "Member", "id": id}}}
		},
	}
	for _, r := range readers {
		for lookup, op := range lookups {
			for _, id := range []string{consenting, silent, elsewhere, contactOnly, unknown} {
				t.Run(fmt.Sprintf("%s/%s/%s", r.name, lookup, handles[id]), func(t *testing.T) {
					want := r.want
					if r.sees[id] {
						want = shown
					}
					q, vars := op(id)
					res := a.do(r.token, q, vars)
					got := absent
					switch {
					case len(res.Errors) > 0:
						got = fmt.Sprint(res.Errors[0].Extensions["code"])
					case strings.Contains(string(res.Data), id):
						got = shown
					case string(res.Data) != `{"memberByHandle":null}` && string(res.Data) != `{"member":null}` && string(res.Data) != `{"_entities":[null]}`:
						got = "unexpected " + string(res.Data)
					}
					if got != want {
						t.Errorf("got %s (%s), want %s", got, res.Data, want)
					}
					if want != shown && len(revealed(res, id)) > 0 {
						t.Errorf("the answer carries the member's id: %s %+v", res.Data, res.Errors)
					}
				})
			}
		}
	}
}

// TestMemberListVisibility checks that the lists of members brand staff may read — a
// club's members, its join requests, a consenting member's followers — leave out the
// members who have not consented to share their profile with the brand, ids and cursors
// included; that pages fill past them; that a post or comment by such a member shows its
// author as null; and that the community sees everyone.
func TestMemberListVisibility(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	staff := staffToken(t, byd, "BRAND_STAFF")
	club := a.createClub(staffToken(t, byd, "BRAND_ADMIN"), map[string]any{"slug": "byd-owners", "name": "比亚迪车友会", "kind": "OWNER_CLUB", "visibility": "PUBLIC", "joinPolicy": "OPEN", "brandId": byd})
	fans := a.createClub(staffToken(t, byd, "BRAND_ADMIN"), map[string]any{"slug": "byd-fans", "name": "比亚迪粉丝", "kind": "INTEREST", "visibility": "PUBLIC", "joinPolicy": "APPROVAL", "brandId": byd})
	star, starTok := a.register("star_member", "明星会员")
	a.ok(starTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
	a.join(starTok, club)

	// Twelve members, every third consenting: pages of 2 must read past runs of two
	// members the staff may not see.
	var all, consenting, hidden []string
	var communityTok string
	for i := range 12 {
		id, tok := a.register(fmt.Sprintf("member_%02d", i), fmt.Sprintf("会员 %d", i))
		if i%3 == 0 {
			a.ok(tok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
			consenting = append(consenting, id)
		} else {
			hidden = append(hidden, id)
		}
		all = append(all, id)
		a.join(tok, club)
		a.ok(tok, joinClubOp, map[string]any{"c": fans}, nil)
		a.follow(tok, star)
		communityTok = tok
	}
	newestFirst := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[len(ids)-1-i] = id
		}
		return out
	}
	lists := []struct {
		name, query string
		vars        map[string]any
		// path leads from data to the connection; node to the member id in an edge.
		path []string
		node []string
		// extra are members the list holds besides the twelve.
		extra []string
	}{
		{"club members", `query($s: String!, $n: Int, $after: String) { club(slug: $s) { members(first: $n, after: $after) { edges { cursor node { member { id } } } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"s": "byd-owners"}, []string{"club", "members"}, []string{"node", "member", "id"}, []string{star}},
		{"join requests", `query($s: String!, $n: Int, $after: String) { club(slug: $s) { joinRequests(first: $n, after: $after) { edges { cursor node { member { id } } } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"s": "byd-fans"}, []string{"club", "joinRequests"}, []string{"node", "member", "id"}, nil},
		{"followers", `query($id: ID!, $n: Int, $after: String) { member(id: $id) { followers(first: $n, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`,
			map[string]any{"id": star}, []string{"member", "followers"}, []string{"node", "id"}, nil},
	}
	readers := []struct {
		name, token string
		want        func(extra []string) []string
	}{
		{"brand staff", staff, func(extra []string) []string { return append(newestFirst(consenting), extra...) }},
		{"community manager", mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), func(extra []string) []string { return append(newestFirst(all), extra...) }},
	}
	walk := func(t *testing.T, token string, l struct {
		name, query string
		vars        map[string]any
		path        []string
		node        []string
		extra       []string
	}) []string {
		t.Helper()
		var got []string
		after := ""
		for range 20 {
			vars := map[string]any{"n": 2}
			for k, v := range l.vars {
				vars[k] = v
			}
			if after != "" {
				vars["after"] = after
			}
			res := a.do(token, l.query, vars)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Errors)
			}
			if leaked := revealed(res, hidden...); token == staff && len(leaked) > 0 {
				t.Fatalf("a page carries members who did not consent: %v in %s", leaked, res.Data)
			}
			var data map[string]any
			json.Unmarshal(res.Data, &data)
			conn := data
			for _, k := range l.path {
				conn = conn[k].(map[string]any)
			}
			edges := conn["edges"].([]any)
			for _, e := range edges {
				v := e.(map[string]any)
				for _, k := range l.node[:len(l.node)-1] {
					v = v[k].(map[string]any)
				}
				got = append(got, v[l.node[len(l.node)-1]].(string))
			}
			info := conn["pageInfo"].(map[string]any)
			if info["hasNextPage"] != true {
				return got
			}
			end, _ := info["endCursor"].(string)
			if end == "" {
				t.Fatalf("a page says more follow, with no cursor to go on from: %s", res.Data)
			}
			after = end
		}
		t.Fatal("the walk did not end")
		return nil
	}
	for _, l := range lists {
		for _, r := range readers {
			t.Run(l.name+"/"+r.name, func(t *testing.T) {
				want := r.want(l.extra)
				if diff := cmp.Diff(want, walk(t, r.token, l)); diff != "" {
					t.Errorf("members listed (-want +got):\n%s", diff)
				}
			})
		}
	}

	// Brand staff cannot decide the request of a member they may not know of: the answer is
	// NOT_FOUND, as for no request at all, and the request stays pending. They decide a
	// consenting member's.
	decide := func(op, member string) string {
		res := a.do(staff, `mutation($c: ID!, $m: ID!) { `+op+`(input: {clubId: $c, memberId: $m}) { club { id } } }`, map[string]any{"c": fans, "m": member})
		if len(res.Errors) == 0 {
			return "ok"
		}
		if leaked := revealed(res, member); member != consenting[0] && len(leaked) > 0 {
			t.Errorf("the refusal names the member: %+v", res.Errors)
		}
		return fmt.Sprint(res.Errors[0].Extensions["code"])
	}
	for _, op := range []string{"approveJoinRequest", "rejectJoinRequest"} {
		if got := decide(op, hidden[0]); got != string(community.CodeNotFound) {
			t.Errorf("brand staff %s of a member who did not consent: %s, want NOT_FOUND", op, got)
		}
	}
	if got := decide("approveJoinRequest", consenting[0]); got != "ok" {
		t.Errorf("brand staff approve a consenting member's request: %s", got)
	}
	pending := walk(t, mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), lists[1])
	if !slices.Contains(pending, hidden[0]) || slices.Contains(pending, consenting[0]) {
		t.Errorf("pending after the decisions: %v; want %s still pending and %s decided", pending, hidden[0], consenting[0])
	}
	// Nor can the host brand's admins learn, by giving a role, that such a member is in
	// their club: NOT_FOUND, as for a member who is not, and no role changes.
	setRole := `mutation($c: ID!, $m: ID!) { setClubRole(input: {clubId: $c, memberId: $m, role: MODERATOR}) { membership { role } } }`
	admin := staffToken(t, byd, "BRAND_ADMIN")
	refused := a.fails(community.CodeNotFound, admin, setRole, map[string]any{"c": club, "m": hidden[1]})
	if leaked := revealed(refused, hidden[1]); len(leaked) > 0 {
		t.Errorf("the refusal names the member: %+v", refused.Errors)
	}
	a.ok(admin, setRole, map[string]any{"c": club, "m": consenting[1]}, nil)
	var mods struct {
		Club struct {
			Moderators struct {
				Edges []struct {
					Node struct{ Member struct{ ID string } }
				}
			}
		}
	}
	a.ok(mint(t, jwtClaimsRoles("COMMUNITY_MANAGER")), `{ club(slug: "byd-owners") { moderators { edges { node { member { id } } } } } }`, nil, &mods)
	if e := mods.Club.Moderators.Edges; len(e) != 1 || e[0].Node.Member.ID != consenting[1] {
		t.Errorf("moderators after the admin's calls: %+v, want %s alone", e, consenting[1])
	}

	// A post, and a comment, by a member who did not consent: the brand's staff see the
	// post and the comment, with their author null and NOT_FOUND, and nothing of the id.
	byHidden := a.createPost(communityTok, club, "新车提车作业")
	a.ok(memberToken(t, consenting[0]), `mutation($id: ID!) { addComment(input: {postId: $id, body: "恭喜"}) { comment { id } } }`, map[string]any{"id": byHidden}, nil)
	a.ok(communityTok, `mutation($id: ID!) { addComment(input: {postId: $id, body: "谢谢"}) { comment { id } } }`, map[string]any{"id": byHidden}, nil)
	postQuery := `query($id: ID!) { post(id: $id) { title author { id } comments { edges { node { body author { id } } } } } }`
	res := a.do(staff, postQuery, map[string]any{"id": byHidden})
	var seen struct {
		Post struct {
			Title  string
			Author *struct{ ID string }
			// Comments' authors in order.
			Comments struct {
				Edges []struct {
					Node struct {
						Body   string
						Author *struct{ ID string }
					}
				}
			}
		}
	}
	decode(t, res, &seen)
	if seen.Post.Title != "新车提车作业" || seen.Post.Author != nil || len(seen.Post.Comments.Edges) != 2 {
		t.Fatalf("brand staff read the post as %s", res.Data)
	}
	if c := seen.Post.Comments.Edges; c[0].Node.Author == nil || c[0].Node.Author.ID != consenting[0] || c[1].Node.Author != nil {
		t.Errorf("comments' authors: %s", res.Data)
	}
	var codes []string
	for _, e := range res.Errors {
		codes = append(codes, fmt.Sprint(e.Extensions["code"], e.Path))
	}
	slices.Sort(codes) // fields resolve concurrently: errors come in no set order
	if diff := cmp.Diff([]string{"NOT_FOUND[post author]", "NOT_FOUND[post comments edges 1 node author]"}, codes); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if leaked := revealed(res, hidden...); len(leaked) > 0 {
		t.Errorf("the post carries its author's id: %s %+v", res.Data, res.Errors)
	}
	// The community sees the author.
	var full struct {
		Post struct{ Author struct{ ID string } }
	}
	a.ok(starTok, postQuery, map[string]any{"id": byHidden}, &full)
	if full.Post.Author.ID != all[len(all)-1] {
		t.Errorf("a member reads the author as %+v", full.Post.Author)
	}
}

// TestReadOnIsBounded checks that a page that brand staff read of a list where few members
// consented costs a bounded number of store reads: after the reads allowed it ends short,
// with a cursor past what it read, and walking on still finds every consenting member.
func TestReadOnIsBounded(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	staff := staffToken(t, byd, "BRAND_STAFF")
	star, starTok := a.register("star_member", "明星会员")
	a.ok(starTok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE", "ACTIVITY"}}, nil)
	// The first follower consents; the 24 who follow after (and come before, newest
	// first) do not.
	var want []string
	for i := range 25 {
		id, tok := a.register(fmt.Sprintf("follower_%02d", i), fmt.Sprintf("粉丝 %d", i))
		if i == 0 {
			a.ok(tok, consentOp, map[string]any{"b": byd, "s": []string{"PROFILE"}}, nil)
			want = append(want, id)
		}
		a.ok(tok, `mutation($id: ID!) { follow(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": star}, nil)
	}
	const page = `query($id: ID!, $after: String) { member(id: $id) { followers(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`
	var got []string
	after, pages := "", 0
	for {
		var out struct {
			Member struct {
				Followers struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		vars := map[string]any{"id": star}
		if after != "" {
			vars["after"] = after
		}
		reads := a.trips.Of("FollowLists")
		a.ok(staff, page, vars, &out)
		// One read, and at most four more past members the staff may not see.
		if n := a.trips.Of("FollowLists") - reads; n > 5 {
			t.Errorf("page %d read follow lists %d times, want at most 5", pages, n)
		}
		pages++
		f := out.Member.Followers
		for _, e := range f.Edges {
			got = append(got, e.Node.ID)
		}
		if !f.PageInfo.HasNextPage {
			break
		}
		if f.PageInfo.EndCursor == nil || pages > 10 {
			t.Fatalf("page %d: %+v", pages, f.PageInfo)
		}
		after = *f.PageInfo.EndCursor
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("followers shown (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("the walk took %d pages, want 3: two cut short past ten hidden followers each, then the last", pages)
	}
}
