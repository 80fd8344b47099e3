package resolvers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"quanzi/graph"
)

func testBudget(t *testing.T) *Budget {
	t.Helper()
	b := &Budget{Limits: Limits{MaxTokens: 2000, MaxFields: 1000, MaxValidationErrors: 20, MaxDepth: 12, MaxComplexity: 5000, Introspection: true}}
	if err := b.Validate(graph.NewExecutableSchema(graph.Config{Resolvers: &Resolver{}, Complexity: Complexity()})); err != nil {
		t.Fatal(err)
	}
	return b
}

// The pre-validation pass refuses conflicting fields before gqlparser's rule does its
// quadratic work; it must never refuse a document that gqlparser accepts, and must refuse
// the conflicts it was written for.
func TestConflictsAgreeWithValidation(t *testing.T) {
	b := testBudget(t)
	repeat := func(n int, f func(i int) string) string {
		var s strings.Builder
		for i := range n {
			s.WriteString(f(i) + " ")
		}
		return s.String()
	}
	cases := []struct {
		name, query string
		// early is whether the pass itself refuses it (gqlparser refuses it too).
		early bool
	}{
		{"the same field twice", `{ viewer { id } viewer { handle } }`, false},
		{"the same aliased field twice", `{ a: viewer { id } a: viewer { id } }`, false},
		{"one field through fragments", `{ viewer { ...A ...B id } } fragment A on Member { id handle } fragment B on Member { id displayName }`, false},
		{"identical arguments", `{ a: member(id: "1") { id } a: member(id: "1") { handle } }`, false},
		{"arguments in another order", `{ viewer { a: followers(first: 2, after: "x") { totalCount } a: followers(after: "x", first: 2) { totalCount } } }`, false},
		{"aliases on different entity types", `{ _entities(representations: []) { ... on Brand { x: slug } ... on Club { x: name } } }`, false},
		{"different fields of different entity types, nested", `{ _entities(representations: []) { ... on Brand { x: members { y: pageInfo { z: startCursor } } } ... on Club { x: members { y: pageInfo { z: endCursor } } } } }`, false},
		{"200 identical aliases", "{ " + repeat(200, func(int) string { return `a: member(id: "0") { id }` }) + "}", false},
		{"different arguments", `{ a: member(id: "1") { id } a: member(id: "2") { id } }`, true},
		{"different fields under one alias", `{ viewer { x: handle x: displayName } }`, true},
		{"different arguments in a fragment", `{ viewer { followers(first: 1) { totalCount } ...F } } fragment F on Member { followers(first: 2) { totalCount } }`, true},
		{"different arguments nested under one field", `{ viewer { a: followers(first: 1) { totalCount } } viewer { a: followers(first: 2) { totalCount } } }`, true},
		{"different leaf types on exclusive types", `{ _entities(representations: []) { ... on Member { x: handle } ... on Club { x: memberCount } } }`, true},
		{"an unknown field aliased over a known one", `{ viewer { x: handle x: nope } }`, true},
		{"fragments on an interface", `query { ...E } fragment E on Query { _entities(representations: []) { ... on _Entity { __typename } ... on Member { id } } }`, false},
		{"two operations with different arguments in one place", `query A { member(id: "1") { id } } query B { member(id: "2") { id } }`, false},
		{"__typename aliased beside a field of another entity type", `{ _entities(representations: []) { ... on Member { x: handle } ... on Club { x: __typename } } }`, false},
		{"__typename aliased over a String field", `{ viewer { x: __typename x: handle } }`, true},
		{"input object fields in another order", `{ a: searchPosts(query: "x", filter: {clubIds: ["1"], tags: ["t"]}) { totalCount } a: searchPosts(query: "x", filter: {tags: ["t"], clubIds: ["1"]}) { totalCount } }`, false},
		{"input objects that differ", `{ a: searchPosts(query: "x", filter: {tags: ["t"]}) { totalCount } a: searchPosts(query: "x", filter: {tags: ["u"]}) { totalCount } }`, true},
		{"lists in another order", `{ a: searchPosts(query: "x", filter: {tags: ["t", "u"]}) { totalCount } a: searchPosts(query: "x", filter: {tags: ["u", "t"]}) { totalCount } }`, true},
		{"fields under @include and @skip", `{ viewer { a: handle @include(if: true) a: handle @skip(if: false) } }`, false},
		{"200 conflicting aliases", "{ " + repeat(200, func(i int) string { return fmt.Sprintf(`a: member(id: "%d") { id }`, i) }) + "}", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: c.query})
			if err != nil {
				t.Fatal(err)
			}
			valid := len(validator.ValidateWithRules(b.es.Schema(), doc, rules.NewDefaultRules())) == 0
			doc, _ = parser.ParseQuery(&ast.Source{Input: c.query}) // validation annotated the first
			early := b.checkShape(doc) != nil
			if early != c.early {
				t.Errorf("refused before validation: %v, want %v (gqlparser accepts it: %v)", early, c.early, valid)
			}
			if early && valid {
				t.Errorf("refused a document gqlparser accepts")
			}
			if !c.early && !valid {
				t.Errorf("the case is meant to be valid, but gqlparser refuses it")
			}
		})
	}
}

// costOf validates the query q and walks its cost with no limit to stop the walk early,
// returning the cost and how many fields the walk visited.
func costOf(t *testing.T, b *Budget, q string, vars map[string]any) (cost, int) {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatal(err)
	}
	if errs := validator.ValidateWithRules(b.es.Schema(), doc, rules.NewDefaultRules()); len(errs) > 0 {
		t.Fatalf("invalid: %v", errs)
	}
	w := &costWalker{ctx: context.Background(), es: b.es, schema: b.es.Schema(), vars: vars, memo: map[fragmentWalk]fragmentCost{}, maxComplexity: maxInt, maxDepth: maxInt}
	return w.set(doc.Operations[0].SelectionSet), w.steps
}

// The cost pass counts a fragment at every spread, however many times it is spread, and
// stops early; depth goes through fragments.
func TestCostThroughFragments(t *testing.T) {
	b := testBudget(t)
	cost := func(q string, vars map[string]any) cost {
		c, _ := costOf(t, b, q, vars)
		return c
	}
	page := `followers(first: 10) { edges { node { id } } }` // 1 + 10 × (1 + (1 + 1)) = 31
	once := cost(`{ viewer { `+page+` } }`, nil)
	twice := cost(`{ viewer { ...F ...G } } fragment F on Member { `+page+` } fragment G on Member { ...F }`, nil)
	if once.complexity != 32 || twice.complexity != 1+2*31 {
		t.Errorf("complexity: once %d, twice through fragments %d; want 32 and 63", once.complexity, twice.complexity)
	}
	if once.depth != 5 || twice.depth != 5 {
		t.Errorf("depth: %d and %d, want 5", once.depth, twice.depth)
	}
	var fan strings.Builder
	fan.WriteString("{ viewer { ...F0 } }\n")
	for i := range 40 {
		fmt.Fprintf(&fan, "fragment F%d on Member { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fan.WriteString("fragment F40 on Member { id }\n")
	c := cost(fan.String(), nil)
	if want := 1 + 1<<40; c.complexity != want {
		t.Errorf("40 fragments spreading the next twice: complexity %d, want %d", c.complexity, want)
	}
	// A connection's page size multiplies its edges only: totals come once.
	totals := cost(`{ viewer { followers(first: 10) { totalCount pageInfo { hasNextPage } edges { node { id } } } } }`, nil)
	spread := cost(`{ viewer { followers(first: 10) { ...P } } } fragment P on FollowConnection { totalCount pageInfo { hasNextPage } edges { node { id } } }`, nil)
	if want := 1 + (1 + 10*3) + 1 + 2; totals.complexity != want || spread.complexity != want {
		t.Errorf("a page with its totals: complexity %d, and %d through a fragment; want %d", totals.complexity, spread.complexity, want)
	}
	vars := cost(`query($n: Int) { viewer { followers(first: $n) { edges { node { id } } } } }`, map[string]any{"n": 50})
	if vars.complexity != 1+1+50*3 {
		t.Errorf("a page size from a variable: complexity %d, want %d", vars.complexity, 1+1+50*3)
	}
	// A list that is not a connection multiplies its whole selection, directly or through
	// a fragment.
	list := cost(`{ viewer { suggestedFollows(first: 20) { followedByFollowings member { id handle } } } }`, nil)
	listSpread := cost(`{ viewer { suggestedFollows(first: 20) { ...S } } } fragment S on SuggestedFollow { followedByFollowings member { id handle } }`, nil)
	if want := 1 + 1 + 20*(1+(1+2)); list.complexity != want || listSpread.complexity != want {
		t.Errorf("a list of 20: complexity %d, and %d through a fragment; want %d", list.complexity, listSpread.complexity, want)
	}
}

// Documents that expand exponentially through fragments that are unknown or spread in a
// cycle, or that nest connections deeply, are refused or costed in steps linear in their
// size: before, each of these took seconds at 20 levels and days at 40.
func TestChecksStayLinear(t *testing.T) {
	b := testBudget(t)
	fan := func(last string) string {
		var s strings.Builder
		s.WriteString("{ ...F0 }\n")
		for i := range 40 {
			fmt.Fprintf(&s, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		s.WriteString(last)
		return s.String()
	}
	for name, q := range map[string]string{
		"the last fragment unknown":           fan(""),
		"the last fragment spreads the first": fan("fragment F40 on Query { ...F0 }"),
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: q})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.checkShape(doc); err == nil || err.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("refused with %v, want GRAPHQL_VALIDATION_FAILED", err)
			}
		})
	}
	t.Run("40 nested connections", func(t *testing.T) {
		q := "{ viewer { " + strings.Repeat("followers { edges { node { ", 40) + "id" + strings.Repeat(" } } }", 40) + " } }"
		c, steps := costOf(t, b, q, nil)
		if fields := 2 + 3*40; steps > fields {
			t.Errorf("visited %d fields of a document of %d", steps, fields)
		}
		if c.depth != 2+3*40 {
			t.Errorf("depth %d, want %d", c.depth, 2+3*40)
		}
	})
	t.Run("aliases inside introspection", func(t *testing.T) {
		for q, refused := range map[string]bool{
			`{ __schema { types { f0: fields { name } f1: fields { name } } } }`:       true,
			`{ __schema { types { ...T } } } fragment T on __Type { a: name b: name }`: true,
			`{ a: __type(name: "Member") { name } b: __type(name: "Club") { name } }`:  false,
		} {
			doc, err := parser.ParseQuery(&ast.Source{Input: q})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.checkShape(doc) != nil; got != refused {
				t.Errorf("%s: refused %v, want %v", q, got, refused)
			}
		}
	})
}
