// Package errs is Boxwire's one error type. Every failure a user can see
// carries a stable Code; each API surface renders it in its own shape in
// exactly one place. Codes are wire values: they are only ever appended to.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error kind.
type Code string

const (
	Invalid      Code = "invalid"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Gone         Code = "gone"
	TooLarge     Code = "too_large"
	RateLimited  Code = "rate_limited"
	Internal     Code = "internal"
	// Timeout: the client sent its request too slowly (a body that
	// trickles in), so the server stopped waiting for it.
	Timeout Code = "timeout"
	// InsufficientStorage: the server has no room left to keep what was
	// sent. Its message is generic; the cause (with paths) is only logged.
	InsufficientStorage Code = "insufficient_storage"
)

// Where says which part of a request held the bad input. The values are
// Misakey's "origin" values, which the other surfaces reuse.
type Where string

const (
	Body       Where = "body"
	Query      Where = "query"
	Path       Where = "path"
	Headers    Where = "headers"
	Cookies    Where = "cookies"
	NotDefined Where = "not_defined"
)

// Reasons used in Fields. Misakey's vocabulary.
const (
	Required  = "required"
	Malformed = "malformed"
	Invalid_  = "invalid"
	Conflicts = "conflict"
	TooLong   = "too_long"
)

// Error is a failure with a code a client can act on.
type Error struct {
	Code    Code
	Message string            // human readable, safe to show
	Where   Where             // where the offending input was, if any
	Fields  map[string]string // field name → reason
	// RetryAfter is set on RateLimited errors.
	RetryAfter time.Duration
	// Err is the cause; it is logged, never rendered.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an error with a code and a message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error naming one field of the input.
func Field(where Where, field, reason, format string, args ...any) *Error {
	return &Error{
		Code:    Invalid,
		Message: fmt.Sprintf(format, args...),
		Where:   where,
		Fields:  map[string]string{field: reason},
	}
}

// Wrap marks err as an internal failure with a message for the log.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// As returns err as an *Error; anything that is not one is Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}

// CodeOf returns the code of err, Internal for foreign errors, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// Faults joins the checks of one input so that a client learns of every
// faulty field at once, as Misakey's reference reports validation. Field
// errors (Invalid with Fields) merge into one; any other error (a value
// too large, a refusal) wins alone, the first one in order.
func Faults(checks ...error) error {
	var joined *Error
	for _, err := range checks {
		if err == nil {
			continue
		}
		e := As(err)
		if e.Code != Invalid || len(e.Fields) == 0 {
			return err
		}
		if joined == nil {
			joined = &Error{Code: Invalid, Message: e.Message, Where: e.Where, Fields: map[string]string{}}
		} else {
			joined.Message += "; " + e.Message
		}
		for f, reason := range e.Fields {
			joined.Fields[f] = reason
		}
	}
	if joined == nil {
		return nil
	}
	return joined
}
