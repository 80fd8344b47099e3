package resolvers

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Limits bound what one GraphQL document may cost before it runs. Each is checked in a
// pass whose work grows with the size of the document, never with what its fragments
// expand to, so a small document cannot make the checks themselves expensive.
type Limits struct {
	// MaxTokens caps the lexical tokens of a query: the parser stops at the first one over.
	MaxTokens int
	// MaxFields caps the field selections of a document after fragment expansion (aliases
	// and __typename included; the operations' and those of fragments no operation spreads),
	// checked before validation, whose overlapping-fields rule is quadratic in them.
	MaxFields int
	// MaxValidationErrors caps the validation errors reported for one document.
	MaxValidationErrors int
	// MaxDepth caps how deep the fields of an operation nest (introspection excluded: it is
	// bounded by MaxSchemaLookups, MaxTypeLookups and gqlparser's introspection depth rule).
	MaxDepth int
	// MaxComplexity caps the cost of an operation: a field costs 1 plus its children, a
	// list its page size times its items, and fields that do more work cost that work.
	MaxComplexity int
	// Introspection allows __schema and __type.
	Introspection bool
	// Suggestions keeps the "Did you mean …" hints in validation errors.
	Suggestions bool
}

// Introspection an operation may ask for: the whole schema once, and a few types.
const (
	MaxSchemaLookups = 1
	MaxTypeLookups   = 10
)

// CodeComplexityLimit is gqlgen's code for an operation over its complexity limit.
const CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"

// Budget is a gqlgen extension that enforces Limits: before validation it parses the query
// with a token limit and counts its expanded fields and introspection lookups, memoised per
// fragment and stopping at the first limit crossed; after validation it computes the
// operation's complexity and depth in one pass, memoised per fragment too.
type Budget struct {
	Limits Limits
	// Validated, when set, is gqlgen's cache of validated documents: a query found there
	// passed these checks already, and a query that passes them is validated here and put
	// there, so that gqlgen does not parse it a second time.
	Validated graphql.Cache[*ast.QueryDocument]

	es    graphql.ExecutableSchema
	rules func() *rules.Rules
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*Budget)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*Budget) ExtensionName() string { return "Budget" }

// Validate implements graphql.HandlerExtension.
func (b *Budget) Validate(es graphql.ExecutableSchema) error {
	l := b.Limits
	if l.MaxTokens < 1 || l.MaxFields < 1 || l.MaxValidationErrors < 1 || l.MaxDepth < 1 || l.MaxComplexity < 1 {
		return fmt.Errorf("every request limit must be positive: %+v", l)
	}
	b.es, b.rules = es, l.ValidationRules()
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator: the checks that
// run before gqlgen parses and validates the query.
func (b *Budget) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // gqlgen refuses it, or the persisted-query extension did
	}
	if b.Validated != nil {
		if _, ok := b.Validated.Get(ctx, params.Query); ok {
			return nil
		}
	}
	src := &ast.Source{Input: params.Query}
	if len(params.Query) > b.Limits.MaxTokens && overTokens(src, b.Limits.MaxTokens) {
		return limitError(errcode.ParseFailed, "the query has more than %d tokens", b.Limits.MaxTokens)
	}
	doc, err := parser.ParseQueryWithTokenLimit(src, b.Limits.MaxTokens)
	if err != nil {
		gerr, ok := err.(*gqlerror.Error)
		if !ok {
			gerr = gqlerror.Errorf("the query could not be parsed")
		}
		errcode.Set(gerr, errcode.ParseFailed)
		return gerr
	}
	if err := b.checkShape(doc); err != nil {
		return err
	}
	// A document that validates is handed to gqlgen through its cache. One that does not
	// is left to gqlgen, which parses and validates it again to report every error.
	if b.Validated != nil && len(validator.ValidateWithRules(b.es.Schema(), doc, b.rules())) == 0 {
		b.Validated.Add(ctx, params.Query, doc)
	}
	return nil
}

// overTokens reports whether src has more than max tokens, reading no further than that:
// lexing alone costs a fraction of parsing, which builds a node for each token. (A query of
// at most max bytes cannot have more than max tokens.)
func overTokens(src *ast.Source, max int) bool {
	lex := lexer.New(src)
	for range max + 1 {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return false // the parser reports a lexical error
		}
	}
	return true
}

// MutateOperationContext implements graphql.OperationContextMutator: complexity and depth
// of the validated operation, with its variables, in one pass.
func (b *Budget) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &costWalker{
		ctx: ctx, es: b.es, schema: b.es.Schema(), vars: oc.Variables,
		memo: map[fragmentWalk]fragmentCost{}, maxComplexity: b.Limits.MaxComplexity, maxDepth: b.Limits.MaxDepth,
	}
	c := w.set(oc.Operation.SelectionSet)
	switch {
	case c.depth > b.Limits.MaxDepth:
		return limitError("BAD_USER_INPUT", "operation is nested more than %d levels deep", b.Limits.MaxDepth)
	case c.complexity > b.Limits.MaxComplexity:
		return limitError(CodeComplexityLimit, "operation has complexity %d or more, which exceeds the limit of %d", c.complexity, b.Limits.MaxComplexity)
	}
	return nil
}

// cost is the complexity and depth of a selection set.
type cost struct{ complexity, depth int }

// costWalker computes the cost of a validated operation. A fragment's fields are typed by
// its type condition and its arguments come from the operation's variables, so its cost is
// the same wherever it is spread: it is computed once. The walk stops adding as soon as a
// limit is crossed.
type costWalker struct {
	ctx                     context.Context
	es                      graphql.ExecutableSchema
	schema                  *ast.Schema
	vars                    map[string]any
	memo                    map[fragmentWalk]fragmentCost
	maxComplexity, maxDepth int
	// steps counts the fields visited, for tests that the walk stays linear.
	steps int
}

func (w *costWalker) over(c cost) bool { return c.complexity > w.maxComplexity || c.depth > w.maxDepth }

// set is the cost of a selection set.
func (w *costWalker) set(ss ast.SelectionSet) cost {
	_, c := w.parts(ss, false)
	return c
}

// parts is the cost of a selection set; of a connection's (page), the cost of its edges,
// which come once per item, is kept apart from the rest, which comes once. A fragment's
// parts are computed once for each way it is walked.
func (w *costWalker) parts(ss ast.SelectionSet, page bool) (edges, rest cost) {
	add := func(to *cost, c cost) {
		to.complexity = saturatingAdd(to.complexity, c.complexity)
		to.depth = max(to.depth, c.depth)
	}
	for _, sel := range ss {
		if w.over(edges) || w.over(rest) {
			break
		}
		switch sel := sel.(type) {
		case *ast.Field:
			if page && sel.Name == "edges" {
				add(&edges, w.field(sel))
			} else {
				add(&rest, w.field(sel))
			}
		case *ast.InlineFragment:
			e, r := w.parts(sel.SelectionSet, page)
			add(&edges, e)
			add(&rest, r)
		case *ast.FragmentSpread:
			if sel.Definition == nil {
				continue
			}
			key := fragmentWalk{sel.Name, page}
			c, ok := w.memo[key]
			if !ok {
				c.edges, c.rest = w.parts(sel.Definition.SelectionSet, page)
				w.memo[key] = c
			}
			add(&edges, c.edges)
			add(&rest, c.rest)
		}
	}
	return edges, rest
}

// fragmentWalk names a fragment walked as a connection's selection (page) or not.
type fragmentWalk struct {
	name string
	page bool
}

// fragmentCost is what parts found of a fragment.
type fragmentCost struct{ edges, rest cost }

func (w *costWalker) field(f *ast.Field) cost {
	w.steps++
	// A connection's page size multiplies what each edge costs, not its totals, page
	// info or facets, which are read once; any other list's length multiplies its whole
	// selection, which each item repeats.
	t := w.fieldType(f)
	connection := t != nil && t.Fields.ForName("edges") != nil
	child, rest := w.parts(f.SelectionSet, connection)
	if !connection {
		child, rest = rest, cost{}
	}
	if w.over(child) || w.over(rest) || f.Definition == nil || f.ObjectDefinition == nil {
		return cost{complexity: saturatingAdd(child.complexity, rest.complexity), depth: max(child.depth, rest.depth)}
	}
	c := cost{complexity: saturatingAdd(w.fieldComplexity(f, child.complexity), rest.complexity), depth: max(child.depth, rest.depth) + 1}
	if introspective(f) {
		// Introspection is bounded by the lookups an operation may make and by gqlparser's
		// introspection depth rule; its type references nest deeper than data does.
		c.depth = 0
	}
	return c
}

func (w *costWalker) fieldType(f *ast.Field) *ast.Definition {
	if f.Definition == nil {
		return nil
	}
	return w.schema.Types[f.Definition.Type.Name()]
}

func introspective(f *ast.Field) bool {
	return strings.HasPrefix(f.Name, "__") && f.Name != "__typename" || strings.HasPrefix(f.ObjectDefinition.Name, "__")
}

// fieldComplexity is the cost of one field given its children's: the schema's complexity
// function where there is one (for an interface's field the dearest of its implementations),
// else 1 plus the children.
func (w *costWalker) fieldComplexity(f *ast.Field, child int) int {
	if f.ObjectDefinition.Name == w.schema.Query.Name && f.Name == "_entities" {
		// Each representation is an entity resolved: the list costs its length.
		n := 1 // one representation given alone
		if reps, ok := f.ArgumentMap(w.vars)["representations"].([]any); ok {
			n = len(reps)
		}
		return saturatingAdd(1, saturatingMul(n, max(child, 1)))
	}
	args := f.ArgumentMap(w.vars)
	best := 0
	objects := []*ast.Definition{f.ObjectDefinition}
	if f.ObjectDefinition.Kind == ast.Interface {
		objects = w.schema.GetPossibleTypes(f.ObjectDefinition)
	}
	for _, obj := range objects {
		if c, ok := w.es.Complexity(w.ctx, obj.Name, f.Name, child, args); ok && c >= 1 {
			best = max(best, c)
		}
	}
	if best > 0 {
		return best
	}
	return saturatingAdd(1, child)
}

// ValidationRules returns the validation rules of each document: gqlparser's defaults,
// without suggestions unless the limits keep them, reporting at most MaxValidationErrors
// errors (and one more saying that the rest are left out).
func (l Limits) ValidationRules() func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		if !l.Suggestions {
			r.ReplaceRule(rules.FieldsOnCorrectTypeRule.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions.RuleFunc)
			r.ReplaceRule(rules.ScalarLeafsRule.Name, rules.ScalarLeafsRuleWithoutSuggestions.RuleFunc)
		}
		reported := 0 // shared by the rules of one validation, which run in one walk
		for name, rule := range r.GetInner() {
			r.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
				rule(observers, func(options ...core.ErrorOption) {
					switch reported++; {
					case reported <= l.MaxValidationErrors:
						addError(options...)
					case reported == l.MaxValidationErrors+1:
						addError(core.Message("too many validation errors: only the first %d are reported", l.MaxValidationErrors))
					}
				})
			})
		}
		return r
	}
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

const maxInt = int(^uint(0) >> 1)

// saturatingAdd adds two non-negative costs, stopping at the largest int.
func saturatingAdd(a, b int) int {
	if a > maxInt-b {
		return maxInt
	}
	return a + b
}

// saturatingMul multiplies two non-negative costs, stopping at the largest int.
func saturatingMul(a, b int) int {
	if a != 0 && b > maxInt/a {
		return maxInt
	}
	return a * b
}
