package resolvers

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"quanzi/community"
)

// CheckRepresentations is root-field middleware that reads the representations of a
// federation _entities query before gqlgen resolves them: each must be an object naming an
// entity type of this subgraph in __typename and carrying its key, a non-empty string id.
// Anything else is the caller's mistake, answered BAD_USER_INPUT without resolving any.
func CheckRepresentations(es graphql.ExecutableSchema) graphql.RootFieldMiddleware {
	entities := map[string]bool{}
	if union := es.Schema().Types["_Entity"]; union != nil {
		for _, name := range union.Types {
			entities[name] = true
		}
	}
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		fc := graphql.GetRootFieldContext(ctx)
		if fc == nil || fc.Field.Name != "_entities" {
			return next(ctx)
		}
		reps := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)["representations"]
		if err := checkRepresentations(reps, entities); err != nil {
			graphql.AddError(ctx, err)
			return graphql.Null
		}
		return next(ctx)
	}
}

func checkRepresentations(reps any, entities map[string]bool) error {
	list, ok := reps.([]any)
	if one, single := reps.(map[string]any); single {
		list, ok = []any{one}, true // GraphQL takes one value where a list is expected
	}
	if !ok {
		return &community.Error{Code: community.CodeBadUserInput, Field: "representations", Message: "representations must be a list of objects"}
	}
	for i, rep := range list {
		bad := func(format string, args ...any) error {
			return &community.Error{Code: community.CodeBadUserInput, Field: "representations", Message: fmt.Sprintf("representations[%d] ", i) + fmt.Sprintf(format, args...)}
		}
		obj, ok := rep.(map[string]any)
		if !ok {
			return bad("must be an object with __typename and id")
		}
		typename, _ := obj["__typename"].(string)
		if !entities[typename] {
			return bad("must name an entity type of this subgraph in __typename")
		}
		if id, _ := obj["id"].(string); id == "" {
			return bad("must carry the key of its %s: a non-empty string id", typename)
		}
	}
	return nil
}
