package ers

import (
	"fmt"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Class is what the caller can do about an error.
type Class int

// The error classes.
const (
	// Retryable: try again later, not before NotBefore when set (429, 5xx,
	// 504 PAS_NOT_RESPONDING, an expired download link). For a write, first
	// re-read the referral: the write may have been applied.
	Retryable Class = iota + 1
	// Conflict: the referral changed or is being changed (409, 423, 422
	// INVALID_REQUEST_STATE / INVALID_STATE, HISTORY_NOT_SUPPORTED). Re-read
	// it and show the clinician what changed; never resend blindly.
	Conflict
	// AuthRequired: the session is over (401, or no token could be had).
	// Sign in again; queued work is kept.
	AuthRequired
	// Forbidden: the user's role or organisation may not do this (403).
	Forbidden
	// Pending: the attachment is still being scanned for viruses; try again
	// after NotBefore (at least 5 minutes).
	Pending
	// Permanent: e-RS refused the request and will refuse it again (400,
	// 404, 406, 412, 415, other 422 such as PATIENT_ERROR). Do not retry.
	Permanent
	// Unreachable: no answer from e-RS (network down, DNS, refused, reset,
	// timed out). For a write, re-read the referral before anything else.
	Unreachable
	// BadResponse: e-RS answered in a way that could not be read (malformed
	// or oversized body, missing Location). For a write with a 2xx status
	// the write was applied.
	BadResponse
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Conflict:
		return "conflict"
	case AuthRequired:
		return "auth-required"
	case Forbidden:
		return "forbidden"
	case Pending:
		return "pending"
	case Permanent:
		return "permanent"
	case Unreachable:
		return "unreachable"
	case BadResponse:
		return "bad-response"
	}
	return "unknown"
}

// Error is every error the client returns from an e-RS call. Error() and
// the log lines never include Diagnostics, URLs or patient data, so the
// error may be logged; Message is the plain-English text for the clinician.
// errors.As(err, &triageErr) with a *triage.Error target succeeds, so
// triage.ErrorMessage and triage.ErrorCodeOf work on it.
type Error struct {
	// Op is the e-RS operation id, e.g. "A014".
	Op string
	// Status is the HTTP status, 0 when no response was received.
	Status int
	// Code is the e-RS error code (eRS-APIErrorCode-1 or an R4 code), e.g.
	// INVALID_REQUEST_STATE; "" when the body had none.
	Code string
	// Display is e-RS's display text for Code.
	Display string
	// IssueType is the FHIR issue type, e.g. business-rule.
	IssueType string
	// Diagnostics is e-RS's free text (or a plain-text body). It may contain
	// a UBRN: show it to the clinician on request, never log it.
	Diagnostics string
	// CorrelationID is the X-Correlation-ID of the call; RequestID the
	// e-RS transaction id (X-Request-ID). Quote both to the e-RS service desk.
	CorrelationID string
	RequestID     string
	// RetryAfter is the server's Retry-After; NotBefore is when to try again
	// (zero when the server did not say and no rule applies).
	RetryAfter time.Duration
	NotBefore  time.Time
	// Class says what to do about the error.
	Class Class
	// Message is a plain-English explanation with a next step, free of
	// patient data.
	Message string
	// Err is the underlying cause, if any (network error, decode error,
	// token error). It never carries a URL.
	Err error

	write bool // the call was a write
	sent  bool // the request may have reached e-RS
}

// Error describes the failure for logs: operation, status, code, class and
// the ids, without diagnostics or patient data.
func (e *Error) Error() string {
	return nhsapi.ErrorLine{What: "e-RS " + e.Op, Status: e.Status, Code: e.Code, Class: e.Class.String(),
		CorrelationID: e.CorrelationID, RequestID: e.RequestID, Err: e.Err}.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// MayHaveApplied reports whether a failed write may nevertheless have been
// applied by e-RS (no answer, a timeout, a 5xx, or an unreadable 2xx), so
// the referral must be re-read before deciding what to do. It is false for
// reads and for writes e-RS refused (4xx) or that were never sent.
func (e *Error) MayHaveApplied() bool {
	if !e.write || !e.sent {
		return false
	}
	return e.Status == 0 || e.Status >= 500 || (e.Status >= 200 && e.Status < 300)
}

// UserError returns the error as a *triage.Error carrying Message, with a
// code matching the class.
func (e *Error) UserError() *triage.Error {
	return &triage.Error{Code: e.appCode(), Message: e.Message, Err: e}
}

// As lets errors.As find a *triage.Error in an *Error.
func (e *Error) As(target any) bool { return nhsapi.AsUserError(target, e.UserError) }

func (e *Error) appCode() triage.ErrorCode {
	switch e.Class {
	case Conflict:
		return triage.ECONFLICT
	case AuthRequired:
		return triage.EUNAUTHORIZED
	case Forbidden:
		return triage.EFORBIDDEN
	case Permanent:
		if e.Status == 404 {
			return triage.ENOTFOUND
		}
		return triage.EINVALID
	}
	return triage.EUNAVAILABLE
}

// pendingWait is how long e-RS asks clients to wait before checking a
// scanning attachment again.
const pendingWait = 5 * time.Minute

// classify fills Class, NotBefore and Message from the status, code and
// the identity the call was made under.
func (e *Error) classify(now time.Time, id triage.Identity) {
	if e.RetryAfter > 0 {
		e.NotBefore = now.Add(e.RetryAfter)
	}
	code := e.Code
	what := opNoun(e.Op)
	switch {
	case code == "PENDING":
		e.Class = Pending
		wait := max(pendingWait, e.RetryAfter)
		e.NotBefore = now.Add(wait)
		e.Message = "This attachment is still being scanned for viruses by e-RS. Triage Desk will try again in a few minutes."
	case code == "THREATS_FOUND":
		e.Class = Permanent
		e.Message = "e-RS found a threat in this attachment, so it cannot be opened. Ask the referrer to send it again."
	case code == "VALIDATION_FAILED":
		e.Class = Permanent
		e.Message = "e-RS could not validate this attachment, so it cannot be opened. Ask the referrer to send it again."
	case e.Status == 401:
		e.Class = AuthRequired
		e.Message = "Your NHS Care Identity session has ended, or e-RS did not accept it. Sign in again."
		if e.write {
			e.Message = "Your NHS Care Identity session has ended, or e-RS did not accept it. Sign in again; your decision is kept and will be sent afterwards."
		}
	case e.Status == 403:
		e.Class = Forbidden
		e.Message = forbiddenMessage(e, id)
	case e.Status == 409:
		e.Class = Conflict
		e.Message = "Someone else changed this referral in e-RS after you opened it, so your decision was not applied. Triage Desk will refresh it: review what changed and decide again."
	case e.Status == 423:
		e.Class = Conflict
		e.Message = "Another update to this referral is in progress in e-RS, so your decision was not applied. Triage Desk will refresh it; check it and send again."
	case code == "INVALID_REQUEST_STATE" || code == "INVALID_STATE":
		e.Class = Conflict
		e.Message = "This referral is no longer in a state that allows this decision; someone may have acted on it already. Triage Desk will refresh it so you can see its current state."
	case code == "HISTORY_NOT_SUPPORTED":
		e.Class = Conflict
		e.Message = "The referral has changed since this version was read. Triage Desk will refresh it; check the latest version."
	case e.Status == 429:
		e.Class = Retryable
		e.Message = "e-RS is busy and asked Triage Desk to slow down. It will try again shortly; nothing has been lost."
	case code == "PAS_NOT_RESPONDING" || e.Status == 504:
		e.Class = Retryable
		e.Message = "e-RS could not get an answer from your hospital's patient administration system (PAS) in time. Triage Desk will check the referral and try again later; nothing has been lost."
	case code == "PAS_RESPONDED_WITH_ERROR":
		e.Class = Retryable
		e.Message = "Your hospital's patient administration system (PAS) reported an error to e-RS. Triage Desk will check the referral and try again later; if it keeps happening, contact your PAS team."
	case e.Status == 503:
		e.Class = Retryable
		e.Message = "e-RS is temporarily unavailable. Triage Desk will try again later; nothing has been lost."
	case e.Status >= 500 || e.Status == 408:
		e.Class = Retryable
		e.Message = "e-RS had a problem answering. Triage Desk will try again later; nothing has been lost."
	case e.Status == 404:
		e.Class = Permanent
		e.Message = fmt.Sprintf("e-RS could not find this %s. It may have been withdrawn or moved; refresh the worklist.", what)
	case code == "PATIENT_ERROR":
		e.Class = Permanent
		e.Message = "e-RS cannot process this referral because of a problem with the patient's record. Do not try again: check the referral in e-RS or contact the e-RS service desk."
	case code == "NO_RELATIONSHIP":
		e.Class = Permanent
		e.Message = fmt.Sprintf("e-RS says you have no legitimate relationship with this %s. Check you are signed in at the organisation the referral was sent to.", what)
	case code == "PRIORITY_NOT_CURRENT":
		e.Class = Permanent
		e.Message = "The priority cannot be changed with this outcome. Leave the priority unchanged and send again."
	case code == "DUPLICATE_FILENAME":
		e.Class = Permanent
		e.Message = "An attachment with this file name is already on the referral. Rename the file and attach it again."
	case code == "FILE_SIZE_ERROR":
		e.Class = Permanent
		e.Message = "This attachment is too large for e-RS to send this way. Open it in the e-RS web application."
	case code == "SANDBOX_ERROR":
		e.Class = Permanent
		e.Message = fmt.Sprintf("The NHS sandbox answers only its published example requests, and this was not one of them (%s). "+
			"Use a referral from the sandbox's examples, with the business function its example names; decisions of your own can be tried in Triage Desk's own sandbox (triagectl sandbox).", serverSaid(e))
	case e.Status == 422 && e.write:
		e.Class = Permanent
		e.Message = fmt.Sprintf("e-RS did not accept the decision (%s). Amend it and send it again; if e-RS refuses it again, contact your IT service desk and quote the correlation id %s.", serverSaid(e), e.CorrelationID)
	default:
		// e-RS's own refusal: say what it said, never blame Triage Desk.
		e.Class = Permanent
		e.Message = fmt.Sprintf("e-RS refused the request (%s). Check the referral number and the role you are working as, then try again; if it keeps happening, contact your IT service desk and quote the correlation id %s.", serverSaid(e), e.CorrelationID)
	}
}

// serverSaid is what e-RS answered, for a message: the HTTP status, its
// error code and the code's display text ("HTTP 422 INVALID_VALUE: Invalid
// value"). It never includes the free-text diagnostics, which may name a
// patient's referral.
func serverSaid(e *Error) string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Display != "" && !strings.EqualFold(e.Display, e.Code) {
		s += ": " + e.Display
	}
	return s
}

func forbiddenMessage(e *Error, id triage.Identity) string {
	diag := strings.ToLower(e.Diagnostics)
	switch {
	case e.Code == "NO_RELATIONSHIP":
		return fmt.Sprintf("e-RS says you have no legitimate relationship with this %s. Check you are signed in at the organisation the referral was sent to.", opNoun(e.Op))
	case strings.Contains(diag, "asid"):
		return "Triage Desk is not fully registered with the NHS API Platform (no ASID). Contact your IT service desk."
	case id.BusinessFunction != "" && id.ODS != "":
		return fmt.Sprintf("e-RS refused this for your role %q at organisation %s: you may not hold that role there, or it may not allow this. Sign in again choosing a role you hold at that organisation, or ask your Registration Authority to add it.", id.BusinessFunction.Label(), id.ODS)
	}
	return "e-RS refused this for your role and organisation. Sign in again choosing a role and organisation you hold, or ask your Registration Authority to add the role."
}

// opNoun names what an operation is about, for messages.
func opNoun(op string) string {
	switch op {
	case "A042", "A006", "A020":
		return "attachment"
	case "A004":
		return "reference data"
	case "A008":
		return "worklist"
	case "A023":
		return "advice and guidance worklist"
	case "A024", "A025", "A026", "A027", "A043":
		return "advice and guidance request"
	}
	return "referral"
}

// newLocalError is an error raised before or instead of a call.
func newLocalError(op string, class Class, message string, cause error) *Error {
	return &Error{Op: op, Class: class, Message: message, Err: cause}
}
