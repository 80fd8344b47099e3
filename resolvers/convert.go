package resolvers

import (
	"context"
	"time"

	"quanzi/community"
	"quanzi/graph/model"
)

// deref returns the value v points to, or the zero value for nil: for optional inputs
// whose absence means empty.
func deref[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}

// orNil returns v, or nil when err is set: a refused nullable field is null.
func orNil[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// optionalTime returns nil for the zero time, which stands for "never".
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// optionalString returns nil for "", which stands for none.
func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pageInfo returns the PageInfo of a page of edges.
func pageInfo[E any](hasNext bool, edges []E, cursor func(E) string) *model.PageInfo {
	p := &model.PageInfo{HasNextPage: hasNext}
	if len(edges) > 0 {
		start, end := cursor(edges[0]), cursor(edges[len(edges)-1])
		p.StartCursor, p.EndCursor = &start, &end
	}
	return p
}

// pageInfoTo is pageInfo for a list whose next page may start past its last edge: end, when
// it returns other than "", returns the end cursor (see community's readOnLimit).
func pageInfoTo[E any](hasNext bool, edges []E, cursor func(E) string, end func() string) *model.PageInfo {
	p := pageInfo(hasNext, edges, cursor)
	if end := end(); end != "" {
		p.EndCursor = &end
	}
	return p
}

// selectedPageInfo returns, for a connection that a resolver builds whole, its PageInfo
// (see pageInfoTo, where end may be nil) when the query selects its pageInfo, and nil when
// it does not: cursors are signed, and most pages are read without them.
func selectedPageInfo[E any](ctx context.Context, hasNext bool, edges []E, cursor func(E) string, end func() string) *model.PageInfo {
	if !selected(ctx, "pageInfo") {
		return nil
	}
	if end == nil {
		return pageInfo(hasNext, edges, cursor)
	}
	return pageInfoTo(hasNext, edges, cursor, end)
}

// list returns items, or an empty list for nil, so that an allowed empty list is [] rather
// than the null that stands for a refused one.
func list[T any](items []T, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	return items, nil
}

// nonNil returns items, or an empty list for nil.
func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// orEmpty returns a pointer to s, or nil for "".
func orEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// intArg reads an Int argument, or def when it is null or absent.
func intArg(v any, def int) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case *int:
		if n != nil {
			return *n
		}
	}
	return def
}

// stringArg reads a String argument, or "" when it is null or absent.
func stringArg(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

// reactionCounts lists a target's reactions in ReactionKinds order, kinds with none left out.
func reactionCounts(counts map[community.ReactionKind]int) []model.ReactionCount {
	out := []model.ReactionCount{}
	for _, k := range community.ReactionKinds {
		if n := counts[k]; n > 0 {
			out = append(out, model.ReactionCount{Kind: k, Count: n})
		}
	}
	return out
}
