package resolvers_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"quanzi/community"
	"quanzi/community/embedded"
)

// createdID reads the id that an operation written as `m: mutation(…) { x: entity { id } }`
// answered.
func createdID(t *testing.T, res gqlResponse) string {
	t.Helper()
	if len(res.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", res.Errors)
	}
	var out struct {
		M struct{ X struct{ ID string } }
	}
	if err := json.Unmarshal(res.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out.M.X.ID
}

// TestIdempotencyKeys sends each creating mutation with an idempotency key: retries, at
// once and later, make one entity and answer it; the key with another input is CONFLICT;
// a bad key is BAD_USER_INPUT and writes nothing.
func TestIdempotencyKeys(t *testing.T) {
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(t.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	o := development()
	// One caller's requests run at once, as a client's retries over several connections do.
	o.HandlerLimits.CallerInFlight = 8
	a := newAPIWith(t, s, o, quietLog())
	club, _ := a.evTalk()
	_, authorToken := a.register("li_hua", "李华")
	_, fanToken := a.register("wang_fang", "王芳")
	a.join(authorToken, club)
	a.join(fanToken, club)
	target := a.createPost(authorToken, club, "周末莫干山自驾")

	count := func(query string, vars map[string]any, n func(data json.RawMessage) int) func() int {
		return func() int {
			var data json.RawMessage
			a.ok(authorToken, query, vars, &data)
			return n(data)
		}
	}
	targetCount := func(field string) func() int {
		return count(`query($id: ID!) { post(id: $id) { commentCount shareCount } }`, map[string]any{"id": target}, func(data json.RawMessage) int {
			var out struct{ Post map[string]int }
			json.Unmarshal(data, &out)
			return out.Post[field]
		})
	}
	handles := []string{"zhao_lei", "chen_jing"}
	cases := []struct {
		name string
		// callers are the tokens of two callers: the first sends the retries.
		callers [2]string
		op      string
		// input is the input of caller who, a first one (variant 0) or another.
		input func(who, variant int) map[string]any
		count func() int
	}{
		{"createPost", [2]string{fanToken, authorToken},
			`mutation($in: CreatePostInput!) { m: createPost(input: $in) { x: post { id } } }`,
			func(who, variant int) map[string]any {
				return map[string]any{"clubId": club, "title": fmt.Sprintf("充电桩地图 %d", variant), "body": "山脚有两个快充。"}
			},
			count(`{ club(slug: "ev-talk") { posts(first: 100) { edges { node { id } } } } }`, nil, func(data json.RawMessage) int {
				var out struct {
					Club struct{ Posts struct{ Edges []any } }
				}
				json.Unmarshal(data, &out)
				return len(out.Club.Posts.Edges)
			})},
		{"addComment", [2]string{fanToken, authorToken},
			`mutation($in: AddCommentInput!) { m: addComment(input: $in) { x: comment { id } } }`,
			func(who, variant int) map[string]any {
				return map[string]any{"postId": target, "body": fmt.Sprintf("算我一个 %d", variant)}
			},
			targetCount("commentCount")},
		{"sharePost", [2]string{fanToken, authorToken},
			`mutation($in: SharePostInput!) { m: sharePost(input: $in) { x: post { id } } }`,
			func(who, variant int) map[string]any {
				return map[string]any{"postId": target, "channel": []string{"WECHAT", "WEIBO"}[min(variant, 1)]}
			},
			targetCount("shareCount")},
		{"registerMember", [2]string{identityToken(t, "WECHAT", "o-zhao"), identityToken(t, "WECHAT", "o-chen")},
			`mutation($in: RegisterMemberInput!) { m: registerMember(input: $in) { x: member { id } } }`,
			func(who, variant int) map[string]any {
				return map[string]any{"handle": handles[who] + strings.Repeat("_x", variant), "displayName": "新会员"}
			},
			func() int {
				n := 0
				for _, h := range handles {
					var out struct{ MemberByHandle *struct{ ID string } }
					a.ok(authorToken, `query($h: String!) { memberByHandle(handle: $h) { id } }`, map[string]any{"h": h}, &out)
					if out.MemberByHandle != nil {
						n++
					}
				}
				return n
			}},
	}
	withKey := func(in map[string]any, key any) map[string]any {
		in["idempotencyKey"] = key
		return map[string]any{"in": in}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			caller := tc.callers[0]
			before := tc.count()
			wantCount := func(t *testing.T, made int) {
				t.Helper()
				if got := tc.count() - before; got != made {
					t.Errorf("made %d, want %d", got, made)
				}
			}
			bad := []struct{ name, key string }{
				{"empty", ""},
				{"space", "retry 1"},
				{"surrounding spaces", " retry-1 "},
				{"slash", "retry/1"},
				{"not ASCII", "重试-1"},
				{"full-width", "ｒｅｔｒｙ"},
				{"line break", "retry-1\n"},
				{"zero width space", "retry\u200b1"},
				{"65 characters", strings.Repeat("k", 65)},
			}
			for _, b := range bad {
				t.Run("bad key/"+b.name, func(t *testing.T) {
					res := a.fails(community.CodeBadUserInput, caller, tc.op, withKey(tc.input(0, 0), b.key))
					if got := res.Errors[0].Extensions["field"]; got != "idempotencyKey" {
						t.Errorf("extensions.field = %v, want idempotencyKey", got)
					}
					wantCount(t, 0)
				})
			}

			const n = 8
			key := "order:2026-03-01_retry-" + strings.Repeat("9", 41) // every kind of character
			if len(key) != community.MaxIdempotencyKey {
				t.Fatalf("the key has %d characters, want the longest, %d", len(key), community.MaxIdempotencyKey)
			}
			var first string
			t.Run("retries at once make one", func(t *testing.T) {
				ids := make([]string, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var res gqlResponse
						if res, errs[i] = a.client().Try(caller, tc.op, withKey(tc.input(0, 0), key)); errs[i] == nil {
							if len(res.Errors) > 0 {
								errs[i] = fmt.Errorf("errors: %+v", res.Errors)
							} else {
								var out struct {
									M struct{ X struct{ ID string } }
								}
								errs[i] = json.Unmarshal(res.Data, &out)
								ids[i] = out.M.X.ID
							}
						}
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				for _, id := range ids {
					if id != ids[0] || id == "" {
						t.Fatalf("retries answered %v, want one id", ids)
					}
				}
				first = ids[0]
				wantCount(t, 1)
			})
			t.Run("a later retry answers the first", func(t *testing.T) {
				if got := createdID(t, a.do(caller, tc.op, withKey(tc.input(0, 0), key))); got != first {
					t.Errorf("retry answered %q, want %q", got, first)
				}
				wantCount(t, 1)
			})
			t.Run("another input is CONFLICT", func(t *testing.T) {
				res := a.fails(community.CodeConflict, caller, tc.op, withKey(tc.input(0, 1), key))
				if got := res.Errors[0].Extensions["field"]; got != "idempotencyKey" {
					t.Errorf("extensions.field = %v, want idempotencyKey", got)
				}
				wantCount(t, 1)
			})
			t.Run("another caller's key is another key", func(t *testing.T) {
				createdID(t, a.do(tc.callers[1], tc.op, withKey(tc.input(1, 0), key)))
				wantCount(t, 2)
			})
		})
	}

	t.Run("a refused request reserves nothing", func(t *testing.T) {
		_, outsider := a.register("zhang_wei", "张伟")
		post := func(title string) map[string]any {
			return withKey(map[string]any{"clubId": club, "title": title, "body": "正文"}, "first-post")
		}
		op := cases[0].op
		a.fails(community.CodeForbidden, outsider, op, post("还没入会"))
		a.join(outsider, club)
		a.fails(community.CodeBadUserInput, outsider, op, post(strings.Repeat("长", community.MaxTitle+1)))
		// Had either refusal reserved the key, this other input would be a CONFLICT.
		createdID(t, a.do(outsider, op, post("入会第一帖")))
	})
}
