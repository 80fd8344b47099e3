// Package community is the domain of Quanzi: members and follows, brands, clubs, posts and
// referrals, the rules for who may see and do what, and the ports the rules need from a
// store. It imports the standard library only; adapters live in subpackages.
//
// The rules are held by one service per area (MemberService, BrandService, ClubService,
// PostService, ReferralService, made together by New) over one shared core. Every write of
// every service starts at one gate (gate.go), which establishes the actor and runs the
// configured write checks; who may do what is decided in one place (policy.go). Each area
// has its own port (MemberStore, BrandStore, ClubStore, PostStore, ReferralStore, BulkStore,
// Outbox); Store is their union, which the adapters implement and the contract suite runs
// against. One error type, Error, carries a code, a message, the input field at fault and
// details such as retryAfter.
//
// Background work is built from the outbox's table of consumers (outbox.go), the Relay
// that carries one consumer's events to its Handler, and the Runner that runs leased work
// on one instance at a time.
package community

import (
	"errors"
	"fmt"
)

// Code classifies an Error; its values are the GraphQL extensions.code a client sees.
type Code string

// The error codes of DESIGN §6.
const (
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeBadUserInput    Code = "BAD_USER_INPUT"
	CodeConflict        Code = "CONFLICT"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeInternal        Code = "INTERNAL"
)

// Error is the one domain error: a code and a message safe to show a client.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault, when there is one.
	Field string
	// Details are facts a client can act on, such as retryAfter (seconds to wait): the
	// error presenter copies each into the error's extensions. Their values are numbers,
	// strings or booleans.
	Details map[string]any
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldError returns a BAD_USER_INPUT error about one input field.
func fieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of err: that of the first *Error in its chain, INTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorDetails returns the details of err's *Error, or nil.
func ErrorDetails(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}

// ErrorMessage returns the client-safe message of err: that of its *Error, or a generic
// message for any other error, whose detail belongs in the log only.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
