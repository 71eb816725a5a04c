package pds

import (
	"fmt"

	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Kind is what went wrong with a PDS read.
type Kind int

// The error kinds.
const (
	// InvalidNHSNumber: the NHS number is not valid (checked before the
	// call, or PDS's 400 INVALID_RESOURCE_ID).
	InvalidNHSNumber Kind = iota + 1
	// NotFound: PDS has no patient with that NHS number (404
	// RESOURCE_NOT_FOUND), or the record was invalidated (404
	// INVALIDATED_RESOURCE).
	NotFound
	// TooManyRequests: PDS's rate limit (429); try again later.
	TooManyRequests
	// Unauthorised: PDS did not accept the token (401): the session ended,
	// or the application is not registered for PDS.
	Unauthorised
	// Forbidden: the user's role may not read this record (403).
	Forbidden
	// Unavailable: PDS or the Spine behind it failed or timed out (408,
	// 5xx); try again later.
	Unavailable
	// Unreachable: no answer (network down, DNS, refused, timed out).
	Unreachable
	// BadRequest: PDS refused the request's form (another 400, such as a
	// missing header): a fault in Triage Desk.
	BadRequest
	// BadResponse: the answer could not be read: malformed, oversized, not
	// a Patient, or an unexpected status.
	BadResponse
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case InvalidNHSNumber:
		return "invalid-nhs-number"
	case NotFound:
		return "not-found"
	case TooManyRequests:
		return "too-many-requests"
	case Unauthorised:
		return "unauthorised"
	case Forbidden:
		return "forbidden"
	case Unavailable:
		return "unavailable"
	case Unreachable:
		return "unreachable"
	case BadRequest:
		return "bad-request"
	case BadResponse:
		return "bad-response"
	}
	return "unknown"
}

// Retryable reports whether trying again later may succeed.
func (k Kind) Retryable() bool {
	return k == TooManyRequests || k == Unavailable || k == Unreachable
}

// Outcome maps the kind to the outcome the cache records.
func (k Kind) Outcome() triage.PatientOutcome {
	switch k {
	case InvalidNHSNumber:
		return triage.PatientInvalidNumber
	case NotFound:
		return triage.PatientNotFound
	case Unauthorised, Forbidden, BadRequest:
		return triage.PatientRefused
	case BadResponse:
		return triage.PatientBadResponse
	}
	return triage.PatientUnreachable
}

// Error is every error the client returns. Error() carries the kind,
// status, PDS's error code and the request ids, never the NHS number,
// diagnostics or any other patient data, so it may be logged. Message is
// the plain-English text for the clinician. errors.As with a
// *triage.Error target succeeds.
type Error struct {
	Kind Kind
	// Status is the HTTP status (0: no answer).
	Status int
	// Code is PDS's error code (issue[0].details.coding[0].code), e.g.
	// RESOURCE_NOT_FOUND.
	Code string
	// Diagnostics is PDS's free text. It may quote the request: show it to
	// support on request, never log it.
	Diagnostics string
	// RequestID is the X-Request-ID sent (the same on every retry);
	// CorrelationID the X-Correlation-ID. Quote both to the NHS service
	// desk.
	RequestID     string
	CorrelationID string
	// Message is a plain-English explanation with a next step.
	Message string
	// Err is the cause, without a URL.
	Err error
}

// Error describes the failure for logs.
func (e *Error) Error() string {
	return nhsapi.ErrorLine{What: "PDS read", Status: e.Status, Code: e.Code, Class: e.Kind.String(),
		RequestID: e.RequestID, Err: e.Err}.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// As lets errors.As find a *triage.Error in an *Error.
func (e *Error) As(target any) bool {
	return nhsapi.AsUserError(target, func() *triage.Error { return &triage.Error{Code: e.appCode(), Message: e.Message, Err: e} })
}

func (e *Error) appCode() triage.ErrorCode {
	switch e.Kind {
	case InvalidNHSNumber, BadRequest:
		return triage.EINVALID
	case NotFound:
		return triage.ENOTFOUND
	case Unauthorised:
		return triage.EUNAUTHORIZED
	case Forbidden:
		return triage.EFORBIDDEN
	case BadResponse:
		return triage.EINTERNAL
	}
	return triage.EUNAVAILABLE
}

// classify fills Kind and Message from the status and code.
func (e *Error) classify() {
	switch {
	case e.Status == 400 && e.Code == "INVALID_RESOURCE_ID":
		e.Kind = InvalidNHSNumber
		e.Message = "PDS says this is not a valid NHS number. Check the number on the referral."
	case e.Status == 400:
		e.Kind = BadRequest
		e.Message = fmt.Sprintf("PDS refused Triage Desk's request (%s). This is a fault in Triage Desk, not in your work: contact your IT service desk and quote request id %s.", orCode(e), e.RequestID)
	case e.Status == 401:
		e.Kind = Unauthorised
		e.Message = "PDS did not accept your sign-in. Sign in again; if it keeps happening, ask your IT service desk whether Triage Desk is registered for the Personal Demographics Service."
	case e.Status == 403:
		e.Kind = Forbidden
		e.Message = "PDS refused to show this patient's details to your role. Check the patient's identity in e-RS, or ask your Registration Authority about your role."
	case e.Status == 404:
		e.Kind = NotFound
		e.Message = "PDS has no patient with this NHS number."
	case e.Status == 429:
		e.Kind = TooManyRequests
		e.Message = "PDS is busy and asked Triage Desk to slow down. It will try again shortly."
	case e.Status == 408 || e.Status >= 500:
		e.Kind = Unavailable
		e.Message = "PDS is not answering properly just now. Triage Desk will try again later."
	default:
		e.Kind = BadResponse
		e.Message = fmt.Sprintf("PDS answered in a way Triage Desk could not use (HTTP %d). Try again later; if it keeps happening, contact your IT service desk and quote request id %s.", e.Status, e.RequestID)
	}
}

func orCode(e *Error) string {
	if e.Code != "" {
		return e.Code
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}
