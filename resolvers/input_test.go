package resolvers_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"quanzi/community"
	"quanzi/community/jwtauth"
)

// Text that no input may store: each kind of text has its own hostile variants. (Invalid
// UTF-8 cannot come through JSON: its decoder makes it U+FFFD; the domain's tests cover it.)
var (
	hostileLines = map[string]string{
		"right-to-left override":  "\u202egnp.exe",
		"left-to-right isolate":   "\u2066李华\u2069",
		"zero width spaces only":  "\u200b\u200b",
		"zero width space inside": "李\u200b华",
		"byte order mark":         "\ufeff李华",
		"soft hyphen":             "ad\u00admin",
		"NUL":                     "李\x00华",
		"ESC sequence":            "\x1b[31m李华",
		"DEL":                     "李\x7f华",
		"next line U+0085":        "李\u0085华",
		"newline":                 "第一行\n第二行",
		"tab":                     "李\t华",
		"lone combining mark":     "\u0301",
		"variation selector only": "\ufe0f",
		"Hangul filler only":      "\u3164",
	}
	hostileTexts = map[string]string{
		"right-to-left override": "点这里 \u202egnp.exe",
		"right-to-left isolate":  "a\u2067b",
		"NUL":                    "正文\x00",
		"ESC sequence":           "正文\x1b[2J",
		"DEL":                    "正\x7f文",
		"next line U+0085":       "正\u0085文",
		"C1 control U+009B":      "\u009b31m正文",
		"zero width spaces only": "\u200b\u200b",
		"combining marks only":   "\u0301\u0301",
	}
)

// read runs a query that must succeed and returns its data as it came.
func (a *api) read(t *testing.T, token, query string, vars map[string]any) string {
	t.Helper()
	res := a.do(token, query, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("read: %+v", res.Errors)
	}
	return string(res.Data)
}

// refused runs a mutation that must be BAD_USER_INPUT on field.
func (a *api) refused(t *testing.T, field, token, query string, vars map[string]any) {
	t.Helper()
	res := a.do(token, query, vars)
	if len(res.Errors) == 0 {
		t.Fatalf("want BAD_USER_INPUT on %s, got data %s", field, res.Data)
	}
	got := map[string]any{"code": res.Errors[0].Extensions["code"], "field": res.Errors[0].Extensions["field"]}
	if diff := cmp.Diff(map[string]any{"code": string(community.CodeBadUserInput), "field": field}, got); diff != "" {
		t.Errorf("error %q (-want +got):\n%s", res.Errors[0].Message, diff)
	}
}

// TestRefusedText sends hostile text to every text field of every mutation and checks that
// each is BAD_USER_INPUT on that field and changes nothing: what a query reads before the
// mutation, it reads after.
func TestRefusedText(t *testing.T) {
	a := newAPI(t)
	admin := adminToken(t)
	cm := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	byd := a.createBrand("byd-auto", "比亚迪")
	bydAdmin := staffToken(t, byd, "BRAND_ADMIN")
	lihuaID, lihua := a.register("li_hua", "李华")
	_, wang := a.register("wang_fang", "王芳")
	forum := a.createClub(cm, map[string]any{"slug": "ev-talk", "name": "电动车论坛", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"})
	approval := a.createClub(cm, map[string]any{"slug": "cuihu", "name": "翠湖花园业主论坛", "kind": "OWNER_CLUB", "visibility": "PUBLIC", "joinPolicy": "APPROVAL"})
	a.join(lihua, forum)
	post := a.createPost(lihua, forum, "汽车保养经验", "保养")
	var added struct {
		AddComment struct{ Comment struct{ ID string } } `json:"addComment"`
	}
	a.ok(lihua, `mutation($p: ID!) { addComment(input: {postId: $p, body: "好的"}) { comment { id } } }`, map[string]any{"p": post}, &added)
	comment := added.AddComment.Comment.ID
	a.ok(lihua, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { points } } }`, map[string]any{"b": byd}, nil)

	const (
		register      = `mutation($in: RegisterMemberInput!) { registerMember(input: $in) { member { id } } }`
		updateProfile = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { id } } }`
		linkIdentity  = `mutation($x: String!) { linkIdentity(input: {provider: WEIBO, externalId: $x}) { member { id } } }`
		createBrand   = `mutation($in: CreateBrandInput!) { createBrand(input: $in) { brand { id } } }`
		setTiers      = `mutation($b: ID!, $t: [TierInput!]!) { setBrandTiers(input: {brandId: $b, tiers: $t}) { brand { id } } }`
		createClub    = `mutation($in: CreateClubInput!) { createClub(input: $in) { club { id } } }`
		updateClub    = `mutation($in: UpdateClubInput!) { updateClub(input: $in) { club { id } } }`
		joinClub      = `mutation($c: ID!, $m: String) { joinClub(input: {clubId: $c, message: $m}) { outcome } }`
		createPost    = `mutation($in: CreatePostInput!) { createPost(input: $in) { post { id } } }`
		editPost      = `mutation($in: EditPostInput!) { editPost(input: $in) { post { id } } }`
		addComment    = `mutation($p: ID!, $b: String!) { addComment(input: {postId: $p, body: $b}) { comment { id } } }`
		editComment   = `mutation($c: ID!, $b: String!) { editComment(input: {commentId: $c, body: $b}) { comment { id } } }`
		record        = `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`

		profile   = `{ viewer { handle displayName bio identities { provider externalId } } }`
		newMember = `{ memberByHandle(handle: "zhao_lei") { id } }`
		brands    = `{ byd: brand(slug: "byd-auto") { name description tiers { name threshold } } tesla: brand(slug: "tesla") { id } }`
		clubs     = `{ forum: club(slug: "ev-talk") { name description memberCount posts { edges { node { id } } } } other: club(slug: "car-club") { id } }`
		requests  = `{ club(slug: "cuihu") { memberCount joinRequests { edges { node { message } } } } }`
		content   = `query($p: ID!) { post(id: $p) { title body tags commentCount comments { edges { node { body } } } } }`
		purchases = `{ viewer { brandMemberships { points } purchases { externalId } } }`
	)
	newcomer := identityToken(t, "WECHAT", "openid-zhao_lei")
	postVars := map[string]any{"p": post}
	withDefaults := func(defaults map[string]any, field string) func(string) map[string]any {
		return func(s string) map[string]any {
			in := map[string]any{}
			for k, v := range defaults {
				in[k] = v
			}
			in[field] = s
			return map[string]any{"in": in}
		}
	}
	newPost := map[string]any{"clubId": forum, "title": "新帖", "body": "正文"}
	edit := map[string]any{"postId": post, "title": "汽车保养经验", "body": "**汽车保养经验** 正文", "tags": []string{"保养"}}
	cases := []struct {
		name, field string
		long        bool
		token, op   string
		vars        func(s string) map[string]any
		// What the refusal must leave as it was.
		readToken, read string
		readVars        map[string]any
	}{
		{"registerMember displayName", "displayName", false, newcomer, register, withDefaults(map[string]any{"handle": "zhao_lei"}, "displayName"), lihua, newMember, nil},
		{"registerMember bio", "bio", true, newcomer, register, withDefaults(map[string]any{"handle": "zhao_lei", "displayName": "赵磊"}, "bio"), lihua, newMember, nil},
		{"updateProfile displayName", "displayName", false, lihua, updateProfile, withDefaults(nil, "displayName"), lihua, profile, nil},
		{"updateProfile bio", "bio", true, lihua, updateProfile, withDefaults(nil, "bio"), lihua, profile, nil},
		{"linkIdentity externalId", "externalId", false, lihua, linkIdentity, func(s string) map[string]any { return map[string]any{"x": s} }, lihua, profile, nil},
		{"createBrand name", "name", false, admin, createBrand, withDefaults(map[string]any{"slug": "tesla"}, "name"), "", brands, nil},
		{"createBrand description", "description", true, admin, createBrand, withDefaults(map[string]any{"slug": "tesla", "name": "特斯拉"}, "description"), "", brands, nil},
		{"setBrandTiers name", "tiers", false, bydAdmin, setTiers, func(s string) map[string]any {
			return map[string]any{"b": byd, "t": []map[string]any{{"name": "普通", "threshold": 0}, {"name": s, "threshold": 100}}}
		}, "", brands, nil},
		{"createClub name", "name", false, cm, createClub, withDefaults(map[string]any{"slug": "car-club", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}, "name"), lihua, clubs, nil},
		{"createClub description", "description", true, cm, createClub, withDefaults(map[string]any{"slug": "car-club", "name": "车友会", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"}, "description"), lihua, clubs, nil},
		{"updateClub name", "name", false, cm, updateClub, withDefaults(map[string]any{"clubId": forum}, "name"), lihua, clubs, nil},
		{"updateClub description", "description", true, cm, updateClub, withDefaults(map[string]any{"clubId": forum}, "description"), lihua, clubs, nil},
		{"joinClub message", "message", true, wang, joinClub, func(s string) map[string]any { return map[string]any{"c": approval, "m": s} }, cm, requests, nil},
		{"createPost title", "title", false, lihua, createPost, withDefaults(newPost, "title"), lihua, clubs, nil},
		{"createPost body", "body", true, lihua, createPost, withDefaults(newPost, "body"), lihua, clubs, nil},
		{"createPost tags", "tags", false, lihua, createPost, func(s string) map[string]any {
			// The hostile text is one tag among good ones.
			in := withDefaults(newPost, "title")("新帖")
			in["in"].(map[string]any)["tags"] = []string{"保养", s}
			return in
		}, lihua, clubs, nil},
		{"editPost title", "title", false, lihua, editPost, withDefaults(edit, "title"), lihua, content, postVars},
		{"editPost body", "body", true, lihua, editPost, withDefaults(edit, "body"), lihua, content, postVars},
		{"addComment body", "body", true, lihua, addComment, func(s string) map[string]any { return map[string]any{"p": post, "b": s} }, lihua, content, postVars},
		{"editComment body", "body", true, lihua, editComment, func(s string) map[string]any { return map[string]any{"c": comment, "b": s} }, lihua, content, postVars},
		{"recordPurchase externalId", "externalId", false, staffToken(t, byd, "BRAND_STAFF"), record, withDefaults(map[string]any{
			"memberId": lihuaID, "brandId": byd, "amount": "1299.00", "currency": "CNY", "at": "2026-03-01T10:00:00Z",
		}, "externalId"), lihua, purchases, nil},
	}
	for _, tc := range cases {
		hostile := hostileLines
		if tc.long {
			hostile = hostileTexts
		}
		for name, s := range hostile {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				before := a.read(t, tc.readToken, tc.read, tc.readVars)
				a.refused(t, tc.field, tc.token, tc.op, tc.vars(s))
				if diff := cmp.Diff(before, a.read(t, tc.readToken, tc.read, tc.readVars)); diff != "" {
					t.Errorf("a refused %s changed what is stored (-before +after):\n%s", tc.name, diff)
				}
			})
		}
	}
}

// TestKeptText checks that text of any script, emoji sequences, and the lines and tabs of
// long text are kept as written (trimmed; a long text's CRLF read back as a newline).
func TestKeptText(t *testing.T) {
	a := newAPI(t)
	cm := mint(t, jwtauth.Claims{Roles: []string{"COMMUNITY_MANAGER"}})
	forum := a.createClub(cm, map[string]any{"slug": "ev-talk", "name": "电动车论坛", "kind": "FORUM", "visibility": "PUBLIC", "joinPolicy": "OPEN"})
	_, lihua := a.register("li_hua", "李华")
	a.join(lihua, forum)

	profiles := []struct {
		name            string
		displayName     string
		bio             string
		wantDisplayName string
		wantBio         string
	}{
		{"emoji family", " 👨‍👩‍👧 李华 ", "周末自驾游\r\n车友会老会员\t🚗", "👨‍👩‍👧 李华", "周末自驾游\n车友会老会员\t🚗"},
		{"Arabic", "محمد علي", "مرحبا\u200e EV", "محمد علي", "مرحبا\u200e EV"},
		{"Japanese and a flag", "さくら 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "第一行\n\n第二行", "さくら 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "第一行\n\n第二行"},
		{"skin tone and Hindi", "🧑🏽‍💻 नमस्ते", "", "🧑🏽‍💻 नमस्ते", ""},
	}
	for _, tc := range profiles {
		t.Run("profile/"+tc.name, func(t *testing.T) {
			var got struct {
				UpdateProfile struct{ Member memberJSON } `json:"updateProfile"`
			}
			a.ok(lihua, `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { displayName bio } } }`,
				map[string]any{"in": map[string]any{"displayName": tc.displayName, "bio": tc.bio}}, &got)
			want := memberJSON{DisplayName: tc.wantDisplayName, Bio: tc.wantBio}
			if diff := cmp.Diff(want, got.UpdateProfile.Member); diff != "" {
				t.Errorf("profile (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("post", func(t *testing.T) {
		var created struct {
			CreatePost struct{ Post postOut } `json:"createPost"`
		}
		a.ok(lihua, `mutation($in: CreatePostInput!) { createPost(input: $in) { post { `+postFields+` } } }`, map[string]any{"in": map[string]any{
			"clubId": forum, "title": "家庭出游 👨‍👩‍👧", "body": "第一段\r\n\r\n| 参数\t| 数值 |\n", "tags": []string{"自驾游", "❤️"},
		}}, &created)
		type kept struct {
			Title, Body string
			Tags        []string
		}
		got := created.CreatePost.Post
		want := kept{Title: "家庭出游 👨‍👩‍👧", Body: "第一段\n\n| 参数\t| 数值 |", Tags: []string{"自驾游", "❤️"}}
		if diff := cmp.Diff(want, kept{got.Title, got.Body, got.Tags}); diff != "" {
			t.Errorf("post (-want +got):\n%s", diff)
		}
	})
}

// TestPurchaseBounds checks the bounds of amounts and points through the API: a purchase
// is at most 10,000,000.00; one that would take a member's points in a brand above
// 1,000,000,000 is CONFLICT on amount and records nothing; tier thresholds stop at
// 1,000,000,000 too.
func TestPurchaseBounds(t *testing.T) {
	a := newAPI(t)
	byd := a.createBrand("byd-auto", "比亚迪")
	lihuaID, lihua := a.register("li_hua", "李华")
	a.ok(lihua, `mutation($b: ID!) { joinBrand(input: {brandId: $b}) { membership { points } } }`, map[string]any{"b": byd}, nil)
	staff := staffToken(t, byd, "BRAND_STAFF")
	const record = `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { points } } }`
	purchase := func(externalID, amount string) map[string]any {
		return map[string]any{"in": map[string]any{
			"memberId": lihuaID, "brandId": byd, "amount": amount, "currency": "CNY", "externalId": externalID, "at": "2026-03-01T10:00:00Z",
		}}
	}
	type state struct {
		Points    int
		Tier      string
		Purchases int
	}
	read := func(t *testing.T) state {
		t.Helper()
		var out struct {
			Viewer struct {
				BrandMemberships []struct {
					Points int
					Tier   string
				}
				Purchases []struct{ ExternalID string }
			}
		}
		if err := json.Unmarshal([]byte(a.read(t, lihua, `{ viewer { brandMemberships { points tier } purchases { externalId } } }`, nil)), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Viewer.BrandMemberships) != 1 {
			t.Fatalf("memberships: %+v", out.Viewer.BrandMemberships)
		}
		m := out.Viewer.BrandMemberships[0]
		return state{Points: m.Points, Tier: m.Tier, Purchases: len(out.Viewer.Purchases)}
	}

	for name, amount := range map[string]string{"one fen above the largest": "10000000.01", "far above": "999999999999.99"} {
		t.Run("amount/"+name, func(t *testing.T) {
			a.refused(t, "amount", staff, record, purchase("too-much", amount))
			if diff := cmp.Diff(state{Tier: "普通"}, read(t)); diff != "" {
				t.Errorf("after a refused amount (-want +got):\n%s", diff)
			}
		})
	}

	// The largest purchase, a hundred times, reaches the limit exactly.
	for i := range 100 {
		var out struct {
			RecordPurchase struct{ Purchase struct{ Points int } } `json:"recordPurchase"`
		}
		a.ok(staff, record, purchase(fmt.Sprintf("SO-%03d", i), "10000000.00"), &out)
		if out.RecordPurchase.Purchase.Points != 10_000_000 {
			t.Fatalf("the largest purchase earns %d points", out.RecordPurchase.Purchase.Points)
		}
	}
	atLimit := state{Points: 1_000_000_000, Tier: "金卡", Purchases: 100}
	if diff := cmp.Diff(atLimit, read(t)); diff != "" {
		t.Fatalf("after 100 of the largest purchases (-want +got):\n%s", diff)
	}

	t.Run("beyond the points limit", func(t *testing.T) {
		res := a.fails(community.CodeConflict, staff, record, purchase("SO-over", "1.00"))
		if got := res.Errors[0].Extensions["field"]; got != "amount" {
			t.Errorf("field = %v, want amount", got)
		}
		if diff := cmp.Diff(atLimit, read(t)); diff != "" {
			t.Errorf("after a purchase beyond the limit (-want +got):\n%s", diff)
		}
	})
	t.Run("at the limit, the same purchase again", func(t *testing.T) {
		a.ok(staff, record, purchase("SO-000", "10000000.00"), nil)
		if diff := cmp.Diff(atLimit, read(t)); diff != "" {
			t.Errorf("after recording a purchase again (-want +got):\n%s", diff)
		}
	})

	const tiers = `mutation($b: ID!, $t: [TierInput!]!) { setBrandTiers(input: {brandId: $b, tiers: $t}) { brand { tiers { threshold } } } }`
	admin := staffToken(t, byd, "BRAND_ADMIN")
	t.Run("tier threshold above the limit", func(t *testing.T) {
		a.refused(t, "tiers", admin, tiers, map[string]any{"b": byd, "t": []map[string]any{{"name": "普通", "threshold": 0}, {"name": "黑金", "threshold": 1_000_000_001}}})
		if diff := cmp.Diff(atLimit, read(t)); diff != "" {
			t.Errorf("after refused tiers (-want +got):\n%s", diff)
		}
	})
	t.Run("tier threshold at the limit", func(t *testing.T) {
		a.ok(admin, tiers, map[string]any{"b": byd, "t": []map[string]any{{"name": "普通", "threshold": 0}, {"name": "黑金", "threshold": 1_000_000_000}}}, nil)
		want := atLimit
		want.Tier = "黑金"
		if diff := cmp.Diff(want, read(t)); diff != "" {
			t.Errorf("after tiers up to the limit (-want +got):\n%s", diff)
		}
	})
}
