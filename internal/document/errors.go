package document

import (
	"errors"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Kind classifies why a document could not be shown.
type Kind string

// The kinds of document error.
const (
	KindEmpty       Kind = "empty"       // the file has no content
	KindTruncated   Kind = "truncated"   // the file stops part-way through
	KindCorrupt     Kind = "corrupt"     // the file is damaged or not what it claims to be
	KindEncrypted   Kind = "encrypted"   // the file needs a password
	KindTooLarge    Kind = "too_large"   // the file is beyond the safe limits for display
	KindUnsupported Kind = "unsupported" // Triage Desk cannot show this type of file
	KindRender      Kind = "render"      // the file was read but a page could not be drawn
	KindUnavailable Kind = "unavailable" // the PDF engine is not running
	KindClosed      Kind = "closed"      // the document was already closed
)

// Error is a document problem with a reason safe to show a clinician. Its
// text never contains document content or file names, so it may be logged.
type Error struct {
	Kind   Kind
	Reason string // plain English, e.g. "the file is incomplete (it may not have finished downloading)"
	Err    error  // the underlying cause, for errors.Is/As; not included in Error()
}

// Error returns "document <kind>: <reason>". The cause is deliberately left
// out: library messages can quote fragments of the file.
func (e *Error) Error() string {
	return fmt.Sprintf("document %s: %s", e.Kind, e.Reason)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Message is the sentence the UI shows in place of the document, beside
// "Save a copy" and the e-RS ids to report it with.
func (e *Error) Message() string {
	return "This document could not be displayed: " + e.Reason + "."
}

// As lets triage.ErrorMessage and triage.ErrorCodeOf treat a document error
// as a *triage.Error carrying Message().
func (e *Error) As(target any) bool {
	t, ok := target.(**triage.Error)
	if !ok {
		return false
	}
	code := triage.EINVALID
	switch e.Kind {
	case KindUnavailable, KindRender:
		code = triage.EINTERNAL
	case KindClosed:
		code = triage.EINTERNAL
	}
	*t = &triage.Error{Code: code, Message: e.Message(), Err: e.Err}
	return true
}

// KindOf returns the Kind of the first *Error in err's chain, or "" when
// there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// DisplayMessage returns the sentence to show in place of a document that
// failed with err: the *Error's Message, or a generic sentence for anything
// else. It returns "" for nil.
func DisplayMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message()
	}
	return "This document could not be displayed: Triage Desk hit an unexpected problem."
}

func newError(kind Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...), Err: cause}
}
