package triage

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an application error the way users need it: what kind
// of problem it is and so what they can do about it.
type ErrorCode string

// The application error codes.
const (
	ECONFLICT     ErrorCode = "conflict"     // someone else changed it first
	EINVALID      ErrorCode = "invalid"      // the input breaks a rule
	ENOTFOUND     ErrorCode = "not_found"    // it does not exist (here)
	EUNAUTHORIZED ErrorCode = "unauthorized" // sign-in needed
	EFORBIDDEN    ErrorCode = "forbidden"    // signed in but not allowed
	EUNAVAILABLE  ErrorCode = "unavailable"  // offline or the service is down: try later
	EINTERNAL     ErrorCode = "internal"     // a fault in Triage Desk
)

// Error is an application error with a message safe to show a clinician. It
// never contains patient data, so it may also be logged.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error // the underlying cause, for logs and errors.Is
}

// Error returns the message and, when present, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EINVALID
// for a *ValidationError, and EINTERNAL for anything else (nil for nil).
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns the message to show a user for err: the message of the
// first *Error or *ValidationError in its chain, or a generic message that
// tells them what to do for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Error()
	}
	return "Something went wrong inside Triage Desk. Your decisions are safe. Try again, and if it keeps happening contact your IT service desk."
}
