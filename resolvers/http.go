package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"quanzi/community"
)

// Authenticate is HTTP middleware that verifies the bearer token, if any, and puts the
// actor in the request context. A request without a token goes on as anonymous; one whose
// token is refused (malformed, wrongly signed, expired) is answered at once with a
// GraphQL error of code UNAUTHENTICATED and status 401, so that a client learns its token
// is bad rather than silently reading as nobody.
func Authenticate(v community.TokenVerifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var actor community.Actor
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			token = strings.TrimSpace(token)
			var err error
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				err = community.Errorf(community.CodeUnauthenticated, "the Authorization header must be Bearer <token>")
			} else {
				actor, err = v.Verify(r.Context(), token)
			}
			if err != nil {
				refuse(w, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(community.WithActor(r.Context(), actor)))
	})
}

// DeviceHeader is the header in which a client names the device it runs on.
const DeviceHeader = community.DeviceField

// Device is HTTP middleware that puts the device a request names in its X-Device-Id header
// into the request context (community.WithDevice), for the writes that keep it
// (registerMember and redeemInvite). Those writes check it and keep only its keyed hash;
// every other operation ignores it. A header sent twice reads as one value with a comma,
// which the check refuses.
func Device(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ids := r.Header.Values(DeviceHeader); len(ids) > 0 {
			r = r.WithContext(community.WithDevice(r.Context(), strings.Join(ids, ",")))
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers a request whose token was refused.
func refuse(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.WriteHeader(http.StatusUnauthorized)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    community.ErrorMessage(err),
		"extensions": map[string]any{"code": string(community.CodeUnauthenticated)},
	}}})
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id that logs name.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ErrorPresenter turns errors into GraphQL errors with extensions.code: domain errors keep
// their message, and their details (such as retryAfter) become extensions beside the code; gqlgen's own errors about the request, and arguments that could not be
// read, are the client's (BAD_USER_INPUT unless gqlgen coded them); a deadline that passed
// is TIMEOUT; anything else is logged once, with the request id, and shown as INTERNAL with
// no detail. Without hints, "Did you mean …" suggestions are cut from messages, so that a
// production server does not spell out its schema to a caller who may not introspect it.
func ErrorPresenter(log *slog.Logger, hints bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var domain *community.Error
		switch {
		case errors.As(err, &domain) && domain.Code != community.CodeInternal:
			// INTERNAL errors of the domain fall to the default: masked and logged.
			gerr.Message = domain.Message
			setExtension(gerr, "code", string(domain.Code))
			if domain.Field != "" {
				setExtension(gerr, "field", domain.Field)
			}
			for k, v := range domain.Details {
				if k != "code" && k != "field" {
					setExtension(gerr, k, v)
				}
			}
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			log.InfoContext(ctx, "request ended before its work", "request_id", RequestID(ctx), "path", gerr.Path.String())
			gerr.Message = "the request ended before this field was resolved"
			setExtension(gerr, "code", CodeTimeout)
		case isVariableError(gerr):
			// A variable's value does not fit its type: the client's input is bad. gqlparser's
			// message may name Go kinds or echo the value: it is replaced by one naming where.
			gerr.Message = "variable " + variablePath(gerr.Path) + " does not fit its type"
			setExtension(gerr, "code", string(community.CodeBadUserInput))
		case isArgumentError(ctx, gerr):
			// gqlgen could not read an argument: the message may name Go types, so it is
			// replaced by one that names the argument.
			gerr.Message = "invalid value for argument " + argumentPath(ctx, gerr)
			setExtension(gerr, "code", string(community.CodeBadUserInput))
		case isGraphQLError(err):
			// Parse, validation and limit errors: the client's fault, already coded by
			// gqlgen or the budget; anything else uncoded is a bad input too.
			if gerr.Extensions["code"] == nil {
				setExtension(gerr, "code", string(community.CodeBadUserInput))
			}
		default:
			log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "path", gerr.Path.String(), "err", err)
			gerr.Message = "internal error"
			setExtension(gerr, "code", string(community.CodeInternal))
		}
		if !hints {
			if i := strings.Index(gerr.Message, " Did you mean "); i >= 0 {
				gerr.Message = gerr.Message[:i]
			}
		}
		return gerr
	}
}

// isGraphQLError reports whether err is gqlgen's own error about the request rather than a
// failure inside a resolver: a gqlerror, however wrapped, that wraps no other error.
func isGraphQLError(err error) bool {
	var gerr *gqlerror.Error
	return errors.As(err, &gerr) && gerr.Unwrap() == nil
}

// isArgumentError reports whether e is about an argument of the field being resolved:
// its path goes past the field's own, into one of the field's arguments.
func isArgumentError(ctx context.Context, e *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	own := fc.Path()
	if len(e.Path) <= len(own) {
		return false
	}
	name, ok := e.Path[len(own)].(ast.PathName)
	return ok && fc.Field.Arguments.ForName(string(name)) != nil
}

// argumentPath names the argument value at fault, as in representations[0].
func argumentPath(ctx context.Context, e *gqlerror.Error) string {
	var b strings.Builder
	for _, el := range e.Path[len(graphql.GetFieldContext(ctx).Path()):] {
		switch el := el.(type) {
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		}
	}
	return b.String()
}

// variablePath names the value at fault in a variable, as in $filter.tags[2], from an
// error path that starts with "variable".
func variablePath(p ast.Path) string {
	var b strings.Builder
	for i, el := range p[1:] {
		switch el := el.(type) {
		case ast.PathName:
			if i == 0 {
				b.WriteByte('$')
			} else {
				b.WriteByte('.')
			}
			b.WriteString(clip(string(el)))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		}
	}
	return b.String()
}

func isVariableError(e *gqlerror.Error) bool {
	if len(e.Path) == 0 || e.Extensions["code"] != errcode.ValidationFailed {
		return false
	}
	name, ok := e.Path[0].(ast.PathName)
	return ok && name == "variable"
}

func setExtension(e *gqlerror.Error, key string, value any) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions[key] = value
}

// Recover turns a panic in a resolver into an error that ErrorPresenter logs, with the
// stack, and shows as INTERNAL.
func Recover(ctx context.Context, p any) error {
	return fmt.Errorf("panic in resolver: %v\n%s", p, debug.Stack())
}
