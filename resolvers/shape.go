package resolvers

import (
	"strings"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The checks of a parsed document that run before gqlparser validates it: its size once
// fragments are expanded, its introspection, and fields that cannot be merged. Each walks
// the document in time that grows with its expanded fields, which the first check bounds,
// and refuses only documents that validation would refuse too or that break a limit.

// shape is what the pre-validation pass counts in a selection set, fragments expanded.
type shape struct {
	fields, schemas, types int
}

func (s *shape) add(o shape) {
	s.fields = saturatingAdd(s.fields, o.fields)
	s.schemas = saturatingAdd(s.schemas, o.schemas)
	s.types = saturatingAdd(s.types, o.types)
}

// shapeWalker counts the expanded shape of a parsed, not yet validated, document. Each
// fragment is counted once and its count reused wherever it is spread, so the walk is
// linear in the document. A spread of an unknown fragment, or of one being expanded (a
// cycle), is refused at once, as validation would: so the counts are exact, and the walks
// that expand fragments after this one are bounded by the field cap.
type shapeWalker struct {
	fragments map[string]*ast.FragmentDefinition
	memo      map[string]shape
	visiting  map[string]bool
	maxFields int
	err       *gqlerror.Error
}

func (b *Budget) checkShape(doc *ast.QueryDocument) *gqlerror.Error {
	w := &shapeWalker{
		fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		memo:      map[string]shape{},
		visiting:  map[string]bool{},
		maxFields: b.Limits.MaxFields,
	}
	for _, f := range doc.Fragments {
		if _, ok := w.fragments[f.Name]; !ok {
			w.fragments[f.Name] = f
		}
	}
	var total shape
	for _, op := range doc.Operations {
		s := w.set(op.SelectionSet, false)
		if w.err != nil {
			return w.err
		}
		total.add(s)
		if total.fields > w.maxFields {
			break
		}
		if err := b.checkIntrospection(s); err != nil {
			return err
		}
	}
	// Fragments no operation spreads are validated all the same: they count on their own.
	var unused []*ast.FragmentDefinition
	for _, f := range doc.Fragments {
		if _, reached := w.memo[f.Name]; !reached {
			unused = append(unused, f)
		}
	}
	for _, f := range unused {
		if total.fields > w.maxFields {
			break
		}
		total.add(w.fragment(f.Name))
		if w.err != nil {
			return w.err
		}
	}
	if total.fields > w.maxFields {
		return limitError(errcode.ValidationFailed, "the query selects more than %d fields once its fragments are expanded", w.maxFields)
	}
	return b.checkConflicts(doc, w.fragments, unused)
}

func (b *Budget) checkIntrospection(s shape) *gqlerror.Error {
	if s.schemas+s.types == 0 {
		return nil
	}
	if !b.Limits.Introspection {
		return limitError("FORBIDDEN", "introspection is disabled on this server")
	}
	if s.schemas > MaxSchemaLookups || s.types > MaxTypeLookups {
		return limitError(errcode.ValidationFailed, "an operation may ask for __schema at most %d time and for __type at most %d times", MaxSchemaLookups, MaxTypeLookups)
	}
	return nil
}

// set counts a selection set; inside is whether it is within introspection (below
// __schema or __type), where aliases are refused: an alias would repeat a list of the
// whole schema in one response. The lookups themselves may be aliased (ten __type lookups
// need ten names), and are counted.
func (w *shapeWalker) set(ss ast.SelectionSet, inside bool) shape {
	var s shape
	for _, sel := range ss {
		if s.fields > w.maxFields || w.err != nil {
			return s
		}
		switch sel := sel.(type) {
		case *ast.Field:
			s.fields++
			lookup := sel.Name == "__schema" || sel.Name == "__type"
			if inside && sel.Alias != "" && sel.Alias != sel.Name {
				w.err = limitError(errcode.ValidationFailed, "introspection fields may not be aliased")
				return s
			}
			switch sel.Name {
			case "__schema":
				s.schemas++
			case "__type":
				s.types++
			}
			s.add(w.set(sel.SelectionSet, inside || lookup))
		case *ast.InlineFragment:
			s.add(w.set(sel.SelectionSet, inside || strings.HasPrefix(sel.TypeCondition, "__")))
		case *ast.FragmentSpread:
			s.add(w.fragment(sel.Name))
		}
	}
	return s
}

// fragment counts a fragment once. A fragment on an introspection type (__Type, …) is
// walked as inside introspection wherever it is spread.
func (w *shapeWalker) fragment(name string) shape {
	if s, ok := w.memo[name]; ok {
		return s
	}
	f := w.fragments[name]
	switch {
	case f == nil:
		w.err = limitError(errcode.ValidationFailed, "unknown fragment %q", clip(name))
		return shape{}
	case w.visiting[name]:
		w.err = limitError(errcode.ValidationFailed, "fragment %q spreads itself", clip(name))
		return shape{}
	}
	w.visiting[name] = true
	s := w.set(f.SelectionSet, strings.HasPrefix(f.TypeCondition, "__"))
	delete(w.visiting, name)
	w.memo[name] = s
	return s
}

// checkConflicts refuses a document in which two fields of the same response name cannot
// be merged — different fields or arguments where the response cannot tell them apart, or
// leaves of different types — before gqlparser's rule for it runs: that rule compares every
// pair of such fields and builds an error for each conflicting pair, so a few hundred
// aliases cost it seconds and gigabytes. Here copies that are alike are kept once, so the
// work grows with the fields, which the field cap bounds, and stops at the first conflict.
// Like the rule, it compares the fields of one operation (or one unused fragment) at a
// time. It only refuses what the rule would refuse; what it lets pass the rule still checks.
func (b *Budget) checkConflicts(doc *ast.QueryDocument, fragments map[string]*ast.FragmentDefinition, unused []*ast.FragmentDefinition) *gqlerror.Error {
	schema := b.es.Schema()
	walk := func(ss ast.SelectionSet, on *ast.Definition) *gqlerror.Error {
		c := &conflictWalker{schema: schema, fragments: fragments, paths: map[pathKey]int{}, seen: map[int][]responseField{}, visiting: map[string]bool{}}
		return c.set(ss, on, 0, nil)
	}
	for _, op := range doc.Operations {
		root := schema.Query
		switch op.Operation {
		case ast.Mutation:
			root = schema.Mutation
		case ast.Subscription:
			root = schema.Subscription
		}
		if err := walk(op.SelectionSet, root); err != nil {
			return err
		}
	}
	for _, f := range unused {
		if err := walk(f.SelectionSet, schema.Types[f.TypeCondition]); err != nil {
			return err
		}
	}
	return nil
}

// pathKey names a place in the response: the place above it (0 for the root) and a
// response name. Places are numbered, so that deep paths of long names cost no memory.
type pathKey struct {
	parent int
	name   string
}

// onType is the type a field is selected on, linked to those of the fields above it: ""
// where that is an interface, a union or unknown, since only two object types exclude
// each other.
type onType struct {
	name  string
	above *onType
}

// responseField is one way a response field is selected: the types it is selected on,
// level by level, its field, and its type.
type responseField struct {
	on         *onType
	field      *ast.Field
	returns    string
	leaf, real bool // a scalar or enum; a field the schema knows
}

// exclusive reports whether two selections at one place can never both be in one
// response: at some level they are selected on two different object types.
func (s responseField) exclusive(o responseField) bool {
	for a, b := s.on, o.on; a != nil && b != nil; a, b = a.above, b.above {
		if a.name != "" && b.name != "" && a.name != b.name {
			return true
		}
	}
	return false
}

// same reports whether two selections are the same one met again.
func (s responseField) same(o responseField) bool {
	for a, b := s.on, o.on; a != nil || b != nil; a, b = a.above, b.above {
		if a == nil || b == nil || a.name != b.name {
			return false
		}
	}
	return s.field.Name == o.field.Name && sameArguments(s.field.Arguments, o.field.Arguments) && s.returns == o.returns
}

// conflict says why two selections at one place cannot be merged, or "".
func (s responseField) conflict(o responseField) string {
	if !(s.real && o.real && s.exclusive(o)) && (s.field.Name != o.field.Name || !sameArguments(s.field.Arguments, o.field.Arguments)) {
		return "they select different fields or arguments"
	}
	if s.real && o.real && (s.leaf || o.leaf) && s.returns != o.returns {
		return "they return different types"
	}
	return ""
}

type conflictWalker struct {
	schema    *ast.Schema
	fragments map[string]*ast.FragmentDefinition
	paths     map[pathKey]int
	// seen holds, by place, the different selections met there.
	seen     map[int][]responseField
	visiting map[string]bool
	// steps counts the fields visited, for tests that the walk stays linear.
	steps int
}

func (c *conflictWalker) set(ss ast.SelectionSet, on *ast.Definition, path int, above *onType) *gqlerror.Error {
	for _, sel := range ss {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := c.field(sel, on, path, above); err != nil {
				return err
			}
		case *ast.InlineFragment:
			narrowed := on
			if sel.TypeCondition != "" {
				narrowed = c.schema.Types[sel.TypeCondition]
			}
			if err := c.set(sel.SelectionSet, narrowed, path, above); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			f := c.fragments[sel.Name]
			if f == nil || c.visiting[sel.Name] {
				continue // refused by the shape walk already
			}
			c.visiting[sel.Name] = true
			err := c.set(f.SelectionSet, c.schema.Types[f.TypeCondition], path, above)
			delete(c.visiting, sel.Name)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *conflictWalker) field(f *ast.Field, on *ast.Definition, path int, above *onType) *gqlerror.Error {
	c.steps++
	name := f.Alias
	if name == "" {
		name = f.Name
	}
	here := responseField{on: &onType{above: above}, field: f}
	var def *ast.FieldDefinition
	if on != nil {
		if on.Kind == ast.Object {
			here.on.name = on.Name
		}
		def = on.Fields.ForName(f.Name)
	}
	if f.Name == "__typename" {
		def = &ast.FieldDefinition{Name: "__typename", Type: ast.NamedType("String", nil)}
	}
	var next *ast.Definition
	if def != nil {
		here.real, here.returns = true, def.Type.String()
		next = c.schema.Types[def.Type.Name()]
		here.leaf = next != nil && (next.Kind == ast.Scalar || next.Kind == ast.Enum)
	}
	key := pathKey{parent: path, name: name}
	place, ok := c.paths[key]
	if !ok {
		place = len(c.paths) + 1
		c.paths[key] = place
	}
	if why := c.meet(place, here); why != "" {
		return limitError(errcode.ValidationFailed, "fields %q conflict because %s: use different aliases to fetch both", clip(name), why)
	}
	return c.set(f.SelectionSet, next, place, here.on)
}

// meet records a selection at a place and returns why it conflicts with one met there
// before, or "". A selection met before is not recorded twice.
func (c *conflictWalker) meet(place int, here responseField) string {
	for _, other := range c.seen[place] {
		if other.same(here) {
			return ""
		}
		if why := here.conflict(other); why != "" {
			return why
		}
	}
	c.seen[place] = append(c.seen[place], here)
	return ""
}

// sameArguments reports whether two fields have the same arguments, in any order, as
// gqlparser compares them.
func sameArguments(a, b ast.ArgumentList) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		y := b.ForName(x.Name)
		if y == nil || !sameValue(x.Value, y.Value) {
			return false
		}
	}
	return true
}

// sameValue reports whether two argument values are identical: input object fields in
// any order, list items in theirs.
func sameValue(a, b *ast.Value) bool {
	if a.Kind != b.Kind || a.Raw != b.Raw || len(a.Children) != len(b.Children) {
		return false
	}
	if a.Kind == ast.ObjectValue {
		for _, x := range a.Children {
			y := b.Children.ForName(x.Name)
			if y == nil || !sameValue(x.Value, y) {
				return false
			}
		}
		return true
	}
	for i, x := range a.Children {
		if x.Name != b.Children[i].Name || !sameValue(x.Value, b.Children[i].Value) {
			return false
		}
	}
	return true
}

// clip shortens a name from the request for an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "…"
}
