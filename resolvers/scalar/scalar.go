// Package scalar holds the GraphQL scalars whose input gqlgen's built-ins take too loosely:
// an Int given as a string or beyond 32 bits, a Time that is empty or not RFC 3339. A value
// refused here is the client's mistake, so the error is BAD_USER_INPUT, never INTERNAL.
package scalar

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"quanzi/community"
)

// MarshalInt writes an Int.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt reads an Int: a JSON or GraphQL integer within 32 bits, as the GraphQL
// specification defines Int. A string, a fraction or a larger number is BAD_USER_INPUT.
func UnmarshalInt(v any) (int, error) {
	var n int64
	switch v := v.(type) {
	case json.Number:
		var err error
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return 0, notInt(v)
		}
	case int64:
		n = v
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	default:
		return 0, notInt(v)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, community.Errorf(community.CodeBadUserInput, "Int must be a whole number from %d to %d", math.MinInt32, math.MaxInt32)
	}
	return int(n), nil
}

func notInt(v any) error {
	what := "this value"
	switch v.(type) {
	case string:
		what = "a string"
	case json.Number, float64, float32:
		what = "a number with a fraction or an exponent"
	case bool:
		what = "a boolean"
	}
	return community.Errorf(community.CodeBadUserInput, "%s is not an Int: give a whole number from %d to %d", what, math.MinInt32, math.MaxInt32)
}

// MarshalTime writes a Time in RFC 3339 with nanoseconds.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads a Time: an RFC 3339 string with its offset, such as
// 2026-12-03T10:00:00+08:00. Anything else, the empty string included, is BAD_USER_INPUT.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if ok && len(s) <= 64 {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, community.Errorf(community.CodeBadUserInput, "Time must be an RFC 3339 date and time with its offset, such as 2026-12-03T10:00:00+08:00")
}

// MarshalString writes a String.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString reads a String: a JSON or GraphQL string only. A number, a boolean or an
// object is BAD_USER_INPUT, where gqlgen's built-in would turn it into text.
func UnmarshalString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", community.Errorf(community.CodeBadUserInput, "String must be a string")
}
