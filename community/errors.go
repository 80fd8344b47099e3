// Package community is the domain of Quanzi: members, their identities and follows, the
// rules for who may see and do what, and the ports the rules need from a store. It also
// holds what background work is built from: the outbox's table of consumers, the Relay
// that carries one consumer's events to its Handler, and the Runner that runs leased work
// on one instance at a time. It imports the standard library only; adapters live in
// subpackages.
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

// ErrorMessage returns the client-safe message of err: that of its *Error, or a generic
// message for any other error, whose detail belongs in the log only.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
