package resolvers_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"quanzi/community"
	"quanzi/community/embedded"
	"quanzi/resolvers"
)

// Requests an outside caller could send to exhaust the server, and what each must get.

// newLimitedAPI is an API over a fresh embedded store whose options the test adjusts,
// logging into the returned buffer.
func newLimitedAPI(t *testing.T, adjust func(*resolvers.Options)) (*api, *syncBuffer) {
	t.Helper()
	return newLimitedAPIOver(t, openEmbedded(t), adjust)
}

func newLimitedAPIOver(t *testing.T, s community.Store, adjust func(*resolvers.Options)) (*api, *syncBuffer) {
	t.Helper()
	o := development()
	if adjust != nil {
		adjust(&o)
	}
	logs := &syncBuffer{}
	return newAPIWith(t, s, o, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), logs
}

func production(o *resolvers.Options) { o.Production = true }

// openEmbedded opens a fresh embedded store that the test closes when it ends.
func openEmbedded(tb testing.TB) *embedded.Store {
	tb.Helper()
	s, err := embedded.Open(embedded.Config{Path: filepath.Join(tb.TempDir(), "graph.db"), Logger: quietLog()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// syncBuffer is a log destination that handlers on many goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// errorLines returns the log lines at level ERROR.
func (b *syncBuffer) errorLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(b.buf.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return out
}

// send posts a raw body and returns the status, headers and decoded body of the answer.
func (a *api) send(method, contentType, body string, header http.Header) (int, http.Header, gqlResponse, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+"/query", strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out gqlResponse
	json.Unmarshal(raw, &out)
	return res.StatusCode, res.Header, out, raw
}

func query(q string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	return string(b)
}

// fanOut returns a query of n fragments, each spreading the next twice: 2^n fields once
// expanded, in a few hundred bytes.
func fanOut(n int, leaf string) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", n, leaf)
	return b.String()
}

// aliases returns a selection of n aliased copies of field, given a number each.
func aliases(n int, field func(i int) string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		b.WriteString(field(i))
		b.WriteByte(' ')
	}
	b.WriteString("}")
	return b.String()
}

const introspection = `query Introspection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...Type }
    directives { name description locations args { ...Input } }
  }
}
fragment Type on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...Input } type { ...Ref } isDeprecated deprecationReason }
  inputFields { ...Input }
  interfaces { ...Ref }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...Ref }
}
fragment Input on __InputValue { name description type { ...Ref } defaultValue }
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }`

func TestQueryBudget(t *testing.T) {
	for _, mode := range []string{"development", "production"} {
		t.Run(mode, func(t *testing.T) { testQueryBudget(t, mode) })
	}
}

func testQueryBudget(t *testing.T, mode string) {
	a, logs := newLimitedAPI(t, func(o *resolvers.Options) { o.Production = mode == "production" })
	id, tok := a.register("budget_member", "预算")
	vars := map[string]any{"id": id}
	member := func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		code  string // "" for an answer without errors
		// most is how many errors the answer may carry at most (0: any number).
		most int
	}{
		{"fragments spreading the next twice, 27 deep", fanOut(27, "__typename"), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"fragments spreading the next twice, 60 deep", fanOut(60, "viewer { id }"), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"fragments spreading the next twice, 9 deep: 512 fields, within the cap", fanOut(9, "__typename"), nil, "", 0},
		{"fragments spreading the next twice, 10 deep: 1,024 fields", fanOut(10, "__typename"), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"a fragment cycle", "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", nil, "GRAPHQL_VALIDATION_FAILED", 0},
		{"1,600 conflicting aliases: over the token limit", aliases(1600, member), nil, "GRAPHQL_PARSE_FAILED", 1},
		{"150 conflicting aliases: refused at the first conflict", aliases(150, member), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"60 unknown fields: errors capped", aliases(60, func(i int) string { return fmt.Sprintf("f%d: nope%d", i, i) }), nil, "GRAPHQL_VALIDATION_FAILED", 21},
		{"16,000 copies of __typename", aliases(16000, func(int) string { return "__typename" }), nil, "GRAPHQL_PARSE_FAILED", 1},
		{"1,200 copies of __typename: over the field cap", aliases(1200, func(int) string { return "__typename" }), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"800 aliases of __schema", aliases(800, func(i int) string { return fmt.Sprintf("s%d: __schema { types { name fields { name } } }", i) }), nil, "GRAPHQL_PARSE_FAILED", 1},
		{"100 aliases of __schema", aliases(100, func(i int) string { return fmt.Sprintf("s%d: __schema { types { name fields { name } } }", i) }), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"an unused fragment of 1,200 fields", "query { __typename } fragment U on Query { " + strings.Repeat("__typename ", 1200) + "}", nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"a chain of fragments, each counted once", "query { ...A } fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { " + strings.Repeat("__typename ", 600) + "}", nil, "", 0},
		{"two aliases of __schema", aliases(2, func(i int) string { return fmt.Sprintf("s%d: __schema { queryType { name } }", i) }), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"__schema twice through a fragment", "query { ...S ...S2 } fragment S on Query { __schema { queryType { name } } } fragment S2 on Query { ...S }", nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"a full introspection query", introspection, nil, "", 0},
		{"ten __type lookups", aliases(10, func(i int) string { return fmt.Sprintf(`t%d: __type(name: "Member") { name fields { name } }`, i) }), nil, "", 0},
		{"eleven __type lookups", aliases(11, func(i int) string { return fmt.Sprintf(`t%d: __type(name: "Member") { name fields { name } }`, i) }), nil, "GRAPHQL_VALIDATION_FAILED", 1},
		{"13 levels through fragments", `query($id: ID!) { member(id: $id) { ...L1 } }
			fragment L1 on Member { followers(first: 1) { edges { node { ...L2 } } } }
			fragment L2 on Member { followers(first: 1) { edges { node { ...L3 } } } }
			fragment L3 on Member { followers(first: 1) { edges { node { ...L4 } } } }
			fragment L4 on Member { followers(first: 1) { edges { node { id } } } }`, vars, "BAD_USER_INPUT", 1},
		{"a costly fragment spread once", `query($id: ID!) { member(id: $id) { ...C } } fragment C on Member { followers(first: 50) { edges { node { following(first: 20) { edges { node { id } } } } } } }`, vars, "", 0},
		{"the same fragment spread under two aliases: twice the cost", `query($id: ID!) { a: member(id: $id) { ...C } b: member(id: $id) { ...C } } fragment C on Member { followers(first: 50) { edges { node { following(first: 20) { edges { node { id } } } } } } }`, vars, "COMPLEXITY_LIMIT_EXCEEDED", 1},
		{"a list page from a variable", `query($id: ID!, $n: Int) { member(id: $id) { followers(first: $n) { edges { node { following(first: 100) { edges { node { id } } } } } } } }`, map[string]any{"id": id, "n": 100}, "COMPLEXITY_LIMIT_EXCEEDED", 1},
		{"a brand's campaigns, each with its brand's members", `{ brand(slug: "byd") { referralCampaigns(first: 100) { edges { node { brand { members(first: 100) { edges { node { tier } } } } } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED", 1},
		{"a page of a brand's campaigns", `{ brand(slug: "byd") { referralCampaigns(first: 100) { totalCount edges { node { name rules { level kind value } brand { name } } } } } }`, nil, "", 0},
		{"a downline page, each member with its own", `query($id: ID!) { member(id: $id) { referrals(first: 100) { edges { node { referrals(first: 50) { edges { node { id } } } } } } } }`, vars, "COMPLEXITY_LIMIT_EXCEEDED", 1},
		{"a page of a downline's tenth level, with figures", `query($id: ID!) { member(id: $id) { referralStats { total perLevel } referrals(level: 10, first: 100) { totalCount edges { node { id handle referralStats { total } } } } } }`, vars, "", 0},
		{"6,000 entity representations", `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id handle } } }`, map[string]any{"r": representations(6000, id)}, "COMPLEXITY_LIMIT_EXCEEDED", 1},
		{"100 entity representations", `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id handle } } }`, map[string]any{"r": representations(100, id)}, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, most := c.code, c.most
			if mode == "production" && code != "GRAPHQL_PARSE_FAILED" && (strings.Contains(c.query, "__schema") || strings.Contains(c.query, "__type(")) {
				code, most = "FORBIDDEN", 1 // introspection is off: refused before it is counted
			}
			for _, token := range []string{"", tok} {
				if code == "" {
					if res := a.do(tok, c.query, c.vars); len(res.Errors) > 0 {
						t.Fatalf("errors: %.300v", res.Errors)
					}
					continue
				}
				header := http.Header{}
				if token != "" {
					header.Set("Authorization", "Bearer "+token)
				}
				_, _, res, raw := a.send("POST", "application/json", query(c.query, c.vars), header)
				if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != code {
					t.Fatalf("want %s, got %.300s", code, raw)
				}
				if most > 0 && len(res.Errors) > most {
					t.Errorf("%d errors (%d bytes), want at most %d", len(res.Errors), len(raw), most)
				}
			}
		})
	}
	if lines := logs.errorLines(); len(lines) > 0 {
		t.Errorf("refusals were logged as errors: %s", lines[0])
	}
}

func representations(n int, id string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"__typename": "Member", "id": id}
	}
	return out
}

func TestIntrospectionInProduction(t *testing.T) {
	a, logs := newLimitedAPI(t, production)
	for name, q := range map[string]string{
		"__schema":           introspection,
		"aliased __type":     aliases(100, func(i int) string { return fmt.Sprintf(`t%d: __type(name: "Member") { name }`, i) }),
		"__type in a spread": `query { ...T } fragment T on Query { __type(name: "Member") { name } }`,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, res, raw := a.send("POST", "application/json", query(q, nil), nil)
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("want one FORBIDDEN error, got %.300s", raw)
			}
		})
	}
	// __typename is not introspection of the schema: it stays.
	a.ok("", `{ __typename }`, nil, nil)
	if lines := logs.errorLines(); len(lines) > 0 {
		t.Errorf("refused introspection was logged as an error: %s", lines[0])
	}
	// With introspection enabled, production takes it.
	b, _ := newLimitedAPI(t, func(o *resolvers.Options) { o.Production, o.Introspection = true, true })
	b.ok("", introspection, nil, nil)
}

func TestClientMistakesAreCoded(t *testing.T) {
	for _, mode := range []string{"development", "production"} {
		t.Run(mode, func(t *testing.T) {
			a, logs := newLimitedAPI(t, func(o *resolvers.Options) { o.Production = mode == "production" })
			brand := a.createBrand("byd-auto", "比亚迪")
			lihua, tok := a.register("li_hua", "李华")
			staff := staffToken(t, brand, "BRAND_STAFF")
			record := `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } } }`
			purchase := func(at any) map[string]any {
				return map[string]any{"in": map[string]any{"memberId": lihua, "brandId": brand, "amount": "10.00", "currency": "CNY", "externalId": "SO-1", "at": at}}
			}
			entities := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }`
			followers := `query($n: Int) { viewer { followers(first: $n) { totalCount } } }`
			cases := []struct {
				name, token, query string
				vars               map[string]any
				code               string
			}{
				{"a time that does not parse", staff, record, purchase("yesterday"), "BAD_USER_INPUT"},
				{"an empty time", staff, record, purchase(""), "BAD_USER_INPUT"},
				{"a time without its offset", staff, record, purchase("2026-03-01T10:00:00"), "BAD_USER_INPUT"},
				{"a time as a number", staff, record, purchase(1700000000), "BAD_USER_INPUT"},
				{"a time literal that does not parse", tok, `{ searchPosts(query: "x", filter: {from: "last week"}) { totalCount } }`, nil, "BAD_USER_INPUT"},
				{"an unknown entity type", "", entities, map[string]any{"r": []any{map[string]any{"__typename": "Nope", "id": "1"}}}, "BAD_USER_INPUT"},
				{"a representation without a type", "", entities, map[string]any{"r": []any{map[string]any{}}}, "BAD_USER_INPUT"},
				{"a representation that is a number", "", entities, map[string]any{"r": []any{5}}, "BAD_USER_INPUT"},
				{"a representation literal that is a number", "", `{ _entities(representations: [5]) { __typename } }`, nil, "BAD_USER_INPUT"},
				{"a representation without its key", "", entities, map[string]any{"r": []any{map[string]any{"__typename": "Member"}}}, "BAD_USER_INPUT"},
				{"a representation whose key is a number", "", entities, map[string]any{"r": []any{map[string]any{"__typename": "Member", "id": 7}}}, "BAD_USER_INPUT"},
				{"an Int given as a string", tok, followers, map[string]any{"n": "5"}, "BAD_USER_INPUT"},
				{"an Int with a fraction", tok, followers, map[string]any{"n": 5.5}, "BAD_USER_INPUT"},
				{"an Int beyond 32 bits", tok, followers, map[string]any{"n": 1e12}, "BAD_USER_INPUT"},
				{"an Int literal beyond 32 bits", tok, `{ viewer { followers(first: 3000000000) { totalCount } } }`, nil, "BAD_USER_INPUT"},
				{"a String given as a number", tok, `query($s: String!) { club(slug: $s) { id } }`, map[string]any{"s": 12}, "BAD_USER_INPUT"},
				{"a String given as an object", tok, `query($s: String!) { club(slug: $s) { id } }`, map[string]any{"s": map[string]any{"secret-input": 1}}, "BAD_USER_INPUT"},
				{"an unknown enum value", tok, `query($s: SearchSort) { searchPosts(query: "x", sort: $s) { totalCount } }`, map[string]any{"s": "SECRET-INPUT"}, "BAD_USER_INPUT"},
				{"a list where an input object goes", tok, `query($f: PostSearchFilter) { searchPosts(query: "x", filter: $f) { totalCount } }`, map[string]any{"f": []any{"secret-input"}}, "BAD_USER_INPUT"},
				{"one representation given alone, of an unknown type", "", `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, map[string]any{"r": map[string]any{"__typename": "Nope"}}, "BAD_USER_INPUT"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					res := a.fails(community.Code(c.code), c.token, c.query, c.vars)
					for _, e := range res.Errors {
						for _, leak := range []string{"int64", "float64", "map", "slice", "json:", "time.Parse", "parsing time", "Go ", "SECRET-INPUT", "secret-input"} {
							if strings.Contains(e.Message, leak) {
								t.Errorf("message %q names %q", e.Message, leak)
							}
						}
					}
				})
			}
			// Refused input changes nothing.
			var out struct {
				Member struct{ Purchases []struct{ ID string } }
			}
			a.ok(staff, `query($id: ID!, $b: ID!) { member(id: $id) { purchases(brandId: $b) { id } } }`, map[string]any{"id": lihua, "b": brand}, &out)
			if n := len(out.Member.Purchases); n != 0 {
				t.Errorf("refused purchases recorded %d", n)
			}
			a.ok(tok, followers, map[string]any{"n": 5}, nil)
			if lines := logs.errorLines(); len(lines) > 0 {
				t.Errorf("client mistakes were logged as errors: %s", lines[0])
			}

			res := a.do(tok, `{ viewer { handel } }`, nil)
			hinted := len(res.Errors) > 0 && strings.Contains(res.Errors[0].Message, "Did you mean")
			if want := mode == "development"; hinted != want {
				t.Errorf("a misspelt field's error %+v: hint shown %v, want %v", res.Errors, hinted, want)
			}
		})
	}
}

func TestTransportRefusals(t *testing.T) {
	for _, mode := range []string{"development", "production"} {
		t.Run(mode, func(t *testing.T) { testTransportRefusals(t, mode) })
	}
}

func testTransportRefusals(t *testing.T, mode string) {
	a, logs := newLimitedAPI(t, func(o *resolvers.Options) { o.Production, o.MaxBodyBytes = mode == "production", 64<<10 })
	big := query(`{ __typename }`, map[string]any{"pad": strings.Repeat("x", 80<<10)})
	cases := []struct {
		name, method, contentType, body string
		status                          int
	}{
		{"PUT", "PUT", "application/json", query(`{ __typename }`, nil), http.StatusMethodNotAllowed},
		{"DELETE", "DELETE", "application/json", "", http.StatusMethodNotAllowed},
		{"PATCH", "PATCH", "application/json", query(`{ __typename }`, nil), http.StatusMethodNotAllowed},
		{"text/plain", "POST", "text/plain", query(`{ __typename }`, nil), http.StatusUnsupportedMediaType},
		{"form", "POST", "application/x-www-form-urlencoded", "query=%7B__typename%7D", http.StatusUnsupportedMediaType},
		{"no content type", "POST", "", query(`{ __typename }`, nil), http.StatusUnsupportedMediaType},
		{"malformed JSON", "POST", "application/json", `{"query": "{ __typename }", "secret-token-in-body`, http.StatusBadRequest},
		{"a JSON array", "POST", "application/json", `[{"query": "{ __typename }"}]`, http.StatusBadRequest},
		{"two JSON values", "POST", "application/json", `{"query": "{ __typename }"} {"x": 1}`, http.StatusBadRequest},
		{"a query that is a number", "POST", "application/json", `{"query": 5}`, http.StatusBadRequest},
		{"variables that are a string", "POST", "application/json", `{"query": "{ __typename }", "variables": "secret-token-in-body"}`, http.StatusBadRequest},
		{"variables that are a list", "POST", "application/json", `{"query": "{ __typename }", "variables": [1, 2]}`, http.StatusBadRequest},
		{"extensions that are a number", "POST", "application/json", `{"query": "{ __typename }", "extensions": 5}`, http.StatusBadRequest},
		{"a body over the limit", "POST", "application/json", big, http.StatusRequestEntityTooLarge},
		{"a mutation by GET", "GET", "", "", http.StatusMethodNotAllowed},
		{"GET with undecodable variables", "GET", "", "", http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var header http.Header
			var res gqlResponse
			var raw []byte
			if c.method == "GET" {
				q := "?query=" + urlEscape(`mutation { updateProfile(input: {bio: "x"}) { member { id } } }`)
				if strings.Contains(c.name, "variables") {
					q = "?query=" + urlEscape(`{ __typename }`) + "&variables=" + urlEscape(`{"a": secret-token-in-body`)
				}
				res0, err := http.Get(a.url + "/query" + q)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ = io.ReadAll(res0.Body)
				res0.Body.Close()
				status, header = res0.StatusCode, res0.Header
				json.Unmarshal(raw, &res)
			} else {
				status, header, res, raw = a.send(c.method, c.contentType, c.body, nil)
			}
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "BAD_REQUEST" {
				t.Fatalf("want one BAD_REQUEST error, got %.300s", raw)
			}
			for _, leak := range []string{"secret-token-in-body", "json:", "graphql.RawParams", "map[string]", "xxxxxxxx", "invalid character"} {
				if bytes.Contains(raw, []byte(leak)) {
					t.Errorf("the answer echoes %q: %.300s", leak, raw)
				}
			}
		})
	}
	// Requests only a raw connection can send.
	longName := query(`query `+strings.Repeat("n", 300)+` { __typename }`, nil)
	longName = longName[:len(longName)-1] + `, "operationName": "` + strings.Repeat("n", 300) + `"}`
	for name, raw := range map[string]string{
		"an upgrade":                  "GET /query?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"a GET whose body is garbled": "GET /query?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"a long operationName":        fmt.Sprintf("POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(longName), longName),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, raw)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out gqlResponse
			json.NewDecoder(res.Body).Decode(&out)
			if res.StatusCode != http.StatusBadRequest || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "BAD_REQUEST" {
				t.Errorf("status %d, %+v", res.StatusCode, out.Errors)
			}
		})
	}
	// A query by GET is served.
	res, err := http.Get(a.url + "/query?query=" + urlEscape(`{ __typename }`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET query: status %d", res.StatusCode)
	}
	if lines := logs.errorLines(); len(lines) > 0 {
		t.Errorf("refusals were logged as errors: %s", lines[0])
	}
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "{", "%7B", "}", "%7D", "\"", "%22", ":", "%3A", "(", "%28", ")", "%29", "&", "%26", "#", "%23", "+", "%2B").Replace(s)
}

func TestPersistedQueries(t *testing.T) {
	a, _ := newLimitedAPI(t, func(o *resolvers.Options) { o.APQMaxQueryBytes = 2 << 10 })
	persisted := func(q string, withQuery bool) gqlResponse {
		sum := sha256.Sum256([]byte(q))
		body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
		if withQuery {
			body["query"] = q
		}
		b, _ := json.Marshal(body)
		_, _, res, _ := a.send("POST", "application/json", string(b), nil)
		return res
	}
	small := `query Small { __typename }`
	large := `query Large { __typename ` + strings.Repeat("  ", 2<<10) + `}`
	for _, c := range []struct {
		name       string
		query      string
		registered bool
	}{{"a small query", small, true}, {"a query over the size limit", large, false}} {
		t.Run(c.name, func(t *testing.T) {
			if res := persisted(c.query, true); len(res.Errors) > 0 {
				t.Fatalf("registering: %+v", res.Errors)
			}
			res := persisted(c.query, false)
			if found := len(res.Errors) == 0; found != c.registered {
				t.Errorf("found by its hash: %v, want %v (%+v)", found, c.registered, res.Errors)
			}
		})
	}
}

// blockingStore is a real store whose member and club reads and follows wait until the
// request's context ends, as a slow or stuck backend would, and report why it ended.
type blockingStore struct {
	community.Store
	entered chan struct{}
	ended   chan error
	// release, when sent to, lets one blocked read return (empty) before its deadline.
	release chan struct{}
}

// newBlockingStore wraps s for up to n reads blocked at once.
func newBlockingStore(s community.Store, n int) *blockingStore {
	return &blockingStore{Store: s, entered: make(chan struct{}, n), ended: make(chan error, n), release: make(chan struct{})}
}

func (s *blockingStore) MembersByID(ctx context.Context, ids []string) (map[string]community.Member, error) {
	return nil, s.block(ctx)
}

func (s *blockingStore) ClubBySlug(ctx context.Context, slug string) (community.Club, error) {
	return community.Club{}, s.block(ctx)
}

func (s *blockingStore) Follow(ctx context.Context, followerID, followedID string, at time.Time) error {
	return s.block(ctx)
}

func (s *blockingStore) block(ctx context.Context) error {
	s.entered <- struct{}{}
	select {
	case <-ctx.Done():
	case <-s.release:
	}
	s.ended <- ctx.Err()
	return ctx.Err()
}

func TestRequestDeadline(t *testing.T) {
	s := openEmbedded(t)
	slow := newBlockingStore(s, 1)
	a, logs := newLimitedAPIOver(t, slow, func(o *resolvers.Options) { o.RequestTimeout = 200 * time.Millisecond })
	tok := memberToken(t, community.NewID())
	lookup := query(`{ viewer { id } }`, nil)

	t.Run("the deadline passes", func(t *testing.T) {
		status, _, res, raw := a.send("POST", "application/json", lookup, http.Header{"Authorization": {"Bearer " + tok}})
		if status != http.StatusGatewayTimeout || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "TIMEOUT" {
			t.Fatalf("status %d, %.300s", status, raw)
		}
		<-slow.entered
		if err := <-slow.ended; err != context.DeadlineExceeded {
			t.Errorf("the store's work ended with %v, want the deadline", err)
		}
	})
	t.Run("a mutation's answer is sent past the deadline", func(t *testing.T) {
		follow := query(`mutation($id: ID!) { follow(input: {memberId: $id}) { member { id } } }`, map[string]any{"id": community.NewID()})
		status, _, res, raw := a.send("POST", "application/json", follow, http.Header{"Authorization": {"Bearer " + tok}})
		<-slow.entered
		<-slow.ended
		// Its own answer: the follow it tried, and why that failed.
		if status != http.StatusOK || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "TIMEOUT" || fmt.Sprint(res.Errors[0].Path) != "[follow]" {
			t.Errorf("status %d, %.300s: want the mutation's own answer, saying what it did", status, raw)
		}
	})
	t.Run("the caller goes away", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", a.url+"/query", strings.NewReader(lookup))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		<-slow.entered
		cancel()
		if err := <-slow.ended; err != context.Canceled {
			t.Errorf("the store's work ended with %v, want the caller's cancellation", err)
		}
		<-done
	})
	if lines := logs.errorLines(); len(lines) > 0 {
		t.Errorf("deadlines were logged as errors: %s", lines[0])
	}
}

// stalledRequest starts a POST whose body never finishes arriving, so that the server
// holds it in flight until the connection is closed.
func stalledRequest(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\": \"")
	return conn
}

func TestLoadShedding(t *testing.T) {
	s := openEmbedded(t)
	slow := newBlockingStore(s, 2)
	a, _ := newLimitedAPIOver(t, slow, func(o *resolvers.Options) { o.MaxInFlight = 2 })
	// Two members' requests block in the store: the server has two in flight of two.
	held := make(chan int, 2)
	for range 2 {
		go func() {
			status, _, _, _ := a.send("POST", "application/json", query(`{ viewer { id } }`, nil), http.Header{"Authorization": {"Bearer " + memberToken(t, community.NewID())}})
			held <- status
		}()
	}
	<-slow.entered
	<-slow.entered
	status, header, res, _ := a.send("POST", "application/json", query(`{ __typename }`, nil), nil)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" {
		t.Fatalf("with two requests in flight of two: status %d, Retry-After %q, %+v", status, header.Get("Retry-After"), res.Errors)
	}
	// Requests still sending their bodies are not in flight: they cannot fill the server.
	stalledRequest(t, a.url)
	slow.release <- struct{}{}
	<-slow.ended
	<-held
	if status, _, _, _ := a.send("POST", "application/json", query(`{ __typename }`, nil), nil); status != http.StatusOK {
		t.Errorf("after one request ended, beside a stalled body: status %d", status)
	}
	slow.release <- struct{}{}
	<-slow.ended
	<-held
}

func TestPerCaller(t *testing.T) {
	s := openEmbedded(t)
	// A read that blocks until the test releases it holds its caller's one turn.
	slow := newBlockingStore(s, 1)
	a, _ := newLimitedAPIOver(t, slow, func(o *resolvers.Options) {
		o.CallerInFlight, o.CallerQueue = 1, 1
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	})
	lihua, wang := memberToken(t, community.NewID()), memberToken(t, community.NewID())
	// send posts a query with a header and reports the status on the channel.
	send := func(q string, header http.Header) chan int {
		done := make(chan int, 1)
		go func() {
			status, _, _, _ := a.send("POST", "application/json", query(q, nil), header)
			done <- status
		}()
		return done
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	const quick, blocking = `{ __typename }`, `{ viewer { id } }`

	held := send(blocking, bearer(lihua))
	<-slow.entered
	// Another member is served while 李华's one turn is taken.
	if status := <-send(quick, bearer(wang)); status != http.StatusOK {
		t.Fatalf("another caller: status %d", status)
	}
	// 李华's next two requests: one waits its turn, the other is over her share.
	second, third := send(quick, bearer(lihua)), send(quick, bearer(lihua))
	var waiting chan int
	select {
	case status := <-second:
		waiting = third
		if status != http.StatusTooManyRequests {
			t.Fatalf("over the caller's share: status %d", status)
		}
	case status := <-third:
		waiting = second
		if status != http.StatusTooManyRequests {
			t.Fatalf("over the caller's share: status %d", status)
		}
	}
	if status, header, res, _ := a.send("POST", "application/json", query(quick, nil), bearer(lihua)); status != http.StatusTooManyRequests ||
		header.Get("Retry-After") == "" || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "RATE_LIMITED" {
		t.Errorf("over the caller's share: status %d, Retry-After %q, %+v", status, header.Get("Retry-After"), res.Errors)
	}
	select {
	case status := <-waiting:
		t.Fatalf("a request ran while its caller's turn was taken: status %d", status)
	default:
	}
	slow.release <- struct{}{}
	<-slow.ended
	if status := <-held; status != http.StatusOK {
		t.Errorf("the held request: status %d", status)
	}
	if status := <-waiting; status != http.StatusOK {
		t.Errorf("the waiting request, once its turn came: status %d", status)
	}

	// Anonymous callers behind a trusted proxy are told apart by X-Forwarded-For.
	held = send(`{ club(slug: "open-forum") { id } }`, http.Header{"X-Forwarded-For": {"203.0.113.7"}})
	<-slow.entered
	if status := <-send(quick, http.Header{"X-Forwarded-For": {"198.51.100.9"}}); status != http.StatusOK {
		t.Errorf("another address behind the proxy: status %d", status)
	}
	pending := send(quick, http.Header{"X-Forwarded-For": {"203.0.113.7"}})
	select {
	case status := <-pending:
		t.Errorf("the same address behind the proxy ran beside its held request: status %d", status)
	case <-time.After(50 * time.Millisecond):
	}
	slow.release <- struct{}{}
	<-slow.ended
	<-held
	if status := <-pending; status != http.StatusOK {
		t.Errorf("the same address, after: status %d", status)
	}
}
