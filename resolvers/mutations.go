package resolvers

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
)

// Write is the @write directive, which every field of Mutation carries, and does for it
// what each would otherwise do by hand:
//   - before it runs, the request's loaders forget what earlier fields loaded, since its
//     resolver may read back what it writes (a join reads the club it joined);
//   - once it has succeeded, they forget what it read and take the entities its payload
//     carries (see NewLoaders), so that the payload's fields read what was written, and
//     Wrote wakes the search relay.
//
// gqlgen resolves a field's children after its directives return, so they see the
// loaders as the mutation left them. A directive, not field middleware: middleware runs
// around every field of every response, and the frames it adds made each element of a
// list cost more (the goroutines gqlgen gives list elements grew their stacks).
func (r *Resolver) Write(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	l, ok := requestLoaders(ctx)
	if ok {
		l.ClearAll()
	}
	payload, err := next(ctx)
	if err != nil {
		return payload, err
	}
	if ok {
		l.Mutated(payload)
	}
	if r.Wrote != nil {
		r.Wrote()
	}
	return payload, nil
}

// carried lists what a mutation's payload carries: the non-nil pointers among the fields
// of its struct (gqlgen's payload models point at the domain's entities).
func carried(payload any) []any {
	v := reflect.Indirect(reflect.ValueOf(payload))
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []any
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() && f.CanInterface() {
			out = append(out, f.Interface())
		}
	}
	return out
}
