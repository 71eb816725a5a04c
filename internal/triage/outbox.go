package triage

import (
	"fmt"
	"slices"
)

// OutboxState is where a decision is on its way to e-RS.
type OutboxState string

// The outbox states. Queued, sending and conflict/failed items are never
// deleted: they end as sent, or as discarded by the clinician.
const (
	OutboxQueued    OutboxState = "queued"    // saved, waiting to be sent
	OutboxSending   OutboxState = "sending"   // being sent now
	OutboxSent      OutboxState = "sent"      // applied in e-RS
	OutboxConflict  OutboxState = "conflict"  // someone else acted first; not applied
	OutboxFailed    OutboxState = "failed"    // e-RS refused it; amend or discard
	OutboxDiscarded OutboxState = "discarded" // the clinician discarded it
)

// OutboxStates lists every outbox state.
var OutboxStates = []OutboxState{OutboxQueued, OutboxSending, OutboxSent, OutboxConflict, OutboxFailed, OutboxDiscarded}

// Unsent reports whether the decision has not reached e-RS and still needs
// the clinician's attention or the sync engine's work.
func (s OutboxState) Unsent() bool {
	return s == OutboxQueued || s == OutboxSending || s == OutboxConflict || s == OutboxFailed
}

// Terminal reports whether the decision needs no more work.
func (s OutboxState) Terminal() bool { return s == OutboxSent || s == OutboxDiscarded }

// Phrase describes the state inside a sentence ("This decision is waiting
// to be sent, …").
func (s OutboxState) Phrase() string {
	switch s {
	case OutboxQueued:
		return "waiting to be sent"
	case OutboxSending:
		return "being sent"
	case OutboxSent:
		return "already sent to e-RS"
	case OutboxConflict:
		return "in conflict with a change in e-RS"
	case OutboxFailed:
		return "refused by e-RS"
	case OutboxDiscarded:
		return "already discarded"
	}
	return string(s)
}

// OutboxLabel is the state of one decision as the outbox lists it. retrying
// is whether a queued decision has been tried before, acknowledged whether
// the clinician acknowledged a conflict, replaced whether a discarded
// decision was replaced by an amendment, withdrawn whether the clinician
// cancelled it before it was sent ("Withdrawn", not "Discarded").
func OutboxLabel(s OutboxState, retrying, acknowledged, replaced, withdrawn bool) string {
	switch s {
	case OutboxQueued:
		if retrying {
			return "Queued (will retry)"
		}
		return "Queued"
	case OutboxSending:
		return "Sending"
	case OutboxSent:
		return "Sent"
	case OutboxConflict:
		if acknowledged {
			return "Not applied (acknowledged)"
		}
		return "Not applied: acknowledge"
	case OutboxFailed:
		return "Failed"
	case OutboxDiscarded:
		if replaced {
			return "Replaced by an amendment"
		}
		if withdrawn {
			return "Withdrawn"
		}
		return "Discarded"
	}
	return string(s)
}

// CountText is how many decisions are in the state, as the status bar
// shows it ("3 queued", "1 conflict").
func (s OutboxState) CountText(n int) string {
	switch s {
	case OutboxQueued:
		return fmt.Sprintf("%d queued", n)
	case OutboxSending:
		return fmt.Sprintf("%d sending", n)
	case OutboxConflict:
		if n == 1 {
			return "1 conflict"
		}
		return fmt.Sprintf("%d conflicts", n)
	case OutboxFailed:
		return fmt.Sprintf("%d failed", n)
	}
	return fmt.Sprintf("%d %s", n, s)
}

// OutboxEvent is something that happens to a decision in the outbox. Each
// event is allowed from some states and leads to one state (Next).
type OutboxEvent int

// The outbox events.
const (
	// OutboxBeginSend: the engine starts sending (queued -> sending).
	OutboxBeginSend OutboxEvent = iota + 1
	// OutboxResumeSend: the engine sends again a decision left sending by a
	// process that stopped mid-send (sending -> sending).
	OutboxResumeSend
	// OutboxRecordUpload: an attached file was uploaded to e-RS while
	// sending (sending -> sending).
	OutboxRecordUpload
	// OutboxMarkSent: e-RS applied it (sending -> sent).
	OutboxMarkSent
	// OutboxMarkRetry: the send may be tried again later (sending -> queued).
	OutboxMarkRetry
	// OutboxMarkFailed: e-RS refused it for good (sending -> failed).
	OutboxMarkFailed
	// OutboxMarkConflict: the referral changed in e-RS, so it was not
	// applied (queued or sending -> conflict).
	OutboxMarkConflict
	// OutboxShowConflict: the conflict was shown to the clinician
	// (conflict -> conflict).
	OutboxShowConflict
	// OutboxAcknowledge: the clinician acknowledged the conflict
	// (conflict -> conflict).
	OutboxAcknowledge
	// OutboxDiscard: the clinician gave up a failed or conflicting
	// decision (-> discarded).
	OutboxDiscard
	// OutboxCancel: the clinician withdrew a queued decision (-> discarded).
	OutboxCancel
	// OutboxRetry: the clinician put a failed decision back in the queue
	// (failed -> queued).
	OutboxRetry
	// OutboxAmend: the clinician replaced a queued, failed or conflicting
	// decision with another (-> discarded; the new one is queued).
	OutboxAmend
)

// outboxTransition is one event's rule: the states it is allowed from, the
// state it leads to, and what it does, for messages.
type outboxTransition struct {
	from []OutboxState
	to   OutboxState
	verb string // "This decision is …, so it cannot be <verb>."
}

// outboxTransitions is the outbox state machine. Sent and discarded are
// terminal: no event leaves them.
var outboxTransitions = map[OutboxEvent]outboxTransition{
	OutboxBeginSend:    {[]OutboxState{OutboxQueued}, OutboxSending, "sent now"},
	OutboxResumeSend:   {[]OutboxState{OutboxSending}, OutboxSending, "sent again"},
	OutboxRecordUpload: {[]OutboxState{OutboxSending}, OutboxSending, "given an uploaded attachment"},
	OutboxMarkSent:     {[]OutboxState{OutboxSending}, OutboxSent, "marked as sent"},
	OutboxMarkRetry:    {[]OutboxState{OutboxSending}, OutboxQueued, "retried"},
	OutboxMarkFailed:   {[]OutboxState{OutboxSending}, OutboxFailed, "marked as failed"},
	OutboxMarkConflict: {[]OutboxState{OutboxQueued, OutboxSending}, OutboxConflict, "marked as a conflict"},
	OutboxShowConflict: {[]OutboxState{OutboxConflict}, OutboxConflict, "shown as a conflict"},
	OutboxAcknowledge:  {[]OutboxState{OutboxConflict}, OutboxConflict, "acknowledged as a conflict"},
	OutboxDiscard:      {[]OutboxState{OutboxFailed, OutboxConflict}, OutboxDiscarded, "discarded"},
	OutboxCancel:       {[]OutboxState{OutboxQueued}, OutboxDiscarded, "cancelled"},
	OutboxRetry:        {[]OutboxState{OutboxFailed}, OutboxQueued, "retried"},
	OutboxAmend:        {[]OutboxState{OutboxQueued, OutboxFailed, OutboxConflict}, OutboxDiscarded, "amended"},
}

// OutboxTransitionError is Next's error: the event is not allowed in the
// decision's state.
type OutboxTransitionError struct {
	From  OutboxState
	Event OutboxEvent
}

// Error names the refused change, for logs.
func (e *OutboxTransitionError) Error() string {
	to := outboxTransitions[e.Event].to
	if to == "" {
		return fmt.Sprintf("%s: unknown outbox event %d", e.From, int(e.Event))
	}
	return fmt.Sprintf("%s -> %s", e.From, to)
}

// Message says in plain English why the change was refused and what to do.
func (e *OutboxTransitionError) Message() string {
	return fmt.Sprintf("This decision is %s, so it cannot be %s. Refresh the outbox to see its current state.",
		e.From.Phrase(), e.Event.verb())
}

func (ev OutboxEvent) verb() string {
	if t, ok := outboxTransitions[ev]; ok {
		return t.verb
	}
	return "changed"
}

// Next returns the state a decision in state s moves to on the event, or an
// *OutboxTransitionError when the event is not allowed in s.
func (s OutboxState) Next(ev OutboxEvent) (OutboxState, error) {
	t, ok := outboxTransitions[ev]
	if !ok || !slices.Contains(t.from, s) {
		return s, &OutboxTransitionError{From: s, Event: ev}
	}
	return t.to, nil
}

// SendStep is the step of sending a decision that failed.
type SendStep int

// The steps of sending a decision.
const (
	// StepRead: reading the referral before sending; nothing was sent.
	StepRead SendStep = iota + 1
	// StepUpload: uploading an attached file; the decision was not sent.
	StepUpload
	// StepDecision: sending the decision itself.
	StepDecision
)

// SendFailure is a failure's class, in terms that do not depend on the
// e-RS protocol (the adapter maps its errors to these).
type SendFailure int

// The failure classes.
const (
	// FailureUnclassified: not an answer from e-RS (a local error).
	FailureUnclassified SendFailure = iota
	// FailureTransient: try again later (rate limited, server busy, an
	// attachment still being scanned, an expired link).
	FailureTransient
	// FailureConflict: the referral changed or is being changed.
	FailureConflict
	// FailureSignIn: the session is over.
	FailureSignIn
	// FailureForbidden: the user's role or organisation may not do this.
	FailureForbidden
	// FailureRefused: e-RS refused the request and will refuse it again.
	FailureRefused
	// FailureUnreachable: no answer from e-RS.
	FailureUnreachable
	// FailureUnreadable: e-RS answered in a way that could not be read.
	FailureUnreadable
)

// SendOutcome is what a failure means for the decision.
type SendOutcome int

// The meanings of a failure.
const (
	// SendRetry: the decision goes back to the queue and is sent again
	// after a backoff.
	SendRetry SendOutcome = iota + 1
	// SendAfterSignIn: the decision goes back to the queue and is sent
	// again once the user signs in.
	SendAfterSignIn
	// SendSettle: the decision may have been applied, or the referral
	// changed: re-read the referral before anything else and record what
	// it shows (sent, conflict, or retry). Never resend blindly.
	SendSettle
	// SendFail: e-RS will refuse it again; the clinician amends or
	// discards it.
	SendFail
)

// FailureOf says what a failure of a step means for the decision.
// mayHaveApplied is whether the request reached e-RS in a way that may
// have changed the referral (no answer, a 5xx or an unreadable 2xx after
// the request was sent).
func FailureOf(step SendStep, f SendFailure, mayHaveApplied bool) SendOutcome {
	if f == FailureSignIn {
		return SendAfterSignIn
	}
	if step == StepDecision && (mayHaveApplied || f == FailureConflict || f == FailureUnreachable || f == FailureUnreadable) {
		return SendSettle
	}
	if f == FailureRefused || f == FailureForbidden {
		return SendFail
	}
	return SendRetry
}

// OnSendFailure is the outbox event that records an outcome for a decision
// being sent. SendSettle has none (ok is false): the referral is re-read
// first, and what it shows decides the event.
func OnSendFailure(o SendOutcome) (ev OutboxEvent, ok bool) {
	switch o {
	case SendRetry, SendAfterSignIn:
		return OutboxMarkRetry, true
	case SendFail:
		return OutboxMarkFailed, true
	}
	return 0, false
}
