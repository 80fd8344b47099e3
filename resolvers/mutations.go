package resolvers

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
)

// aroundMutations is field middleware that does for every field of the mutation type (the
// type named mutation) what each would otherwise do by hand:
//   - before it runs, the request's loaders forget what earlier fields loaded, since its
//     resolver may read back what it writes (a join reads the club it joined);
//   - once it has succeeded, they forget what it read and take the entities its payload
//     carries (see NewLoaders), so that the payload's fields read what was written, and
//     Wrote wakes the search relay.
//
// gqlgen resolves a field's children after its middleware returns, so they see the
// loaders as the mutation left them.
func (r *Resolver) aroundMutations(mutation string) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		if fc := graphql.GetFieldContext(ctx); fc == nil || fc.Object != mutation {
			return next(ctx)
		}
		l, ok := requestLoaders(ctx)
		if ok {
			l.ClearAll()
		}
		payload, err := next(ctx)
		if err != nil {
			return payload, err
		}
		if ok {
			l.Mutated(ctx, payload)
		}
		if r.Wrote != nil {
			r.Wrote()
		}
		return payload, nil
	}
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
