package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func sendErrorOf(err error) store.SendError {
	var ee *ers.Error
	if errors.As(err, &ee) {
		return store.SendError{Message: ee.Message, ERSCode: ee.Code, HTTPStatus: ee.Status, RequestID: ee.RequestID, CorrelationID: ee.CorrelationID}
	}
	return store.SendError{Message: triage.ErrorMessage(err)}
}

// backoff is full jitter: rand(0, min(cap, base·2^attempts)), at least the
// server's Retry-After.
func (p *pusher) backoff(attempts int, err error) time.Duration {
	cfg := p.e.cfg
	d := min(cfg.RetryCap, cfg.RetryBase<<min(max(attempts, 0), 20))
	wait := rand.N(d + 1)
	var ee *ers.Error
	if errors.As(err, &ee) {
		wait = max(wait, ee.RetryAfter)
		if !ee.NotBefore.IsZero() {
			wait = max(wait, ee.NotBefore.Sub(p.e.now()))
		}
	}
	return wait
}

// readFailed handles a failed read before or instead of a send: nothing was
// sent, so the decision waits (offline, sign-in, backoff) or, when e-RS
// will never serve the referral, fails.
func (p *pusher) readFailed(ctx context.Context, en store.Entry, err error) {
	if ctx.Err() != nil {
		return
	}
	class := p.e.noteFailure(err)
	f, _ := failureOf(err)
	if ev, ok := triage.OnSendFailure(triage.FailureOf(triage.StepRead, f, false)); ok && ev == triage.OutboxMarkFailed {
		if en.State == triage.OutboxQueued {
			var berr error
			if en, berr = p.e.st.BeginSend(ctx, en.ID); berr != nil {
				return
			}
		}
		p.fail(ctx, en, sendErrorOf(err))
		return
	}
	wait := p.backoff(en.Attempts, err)
	if en.State == triage.OutboxSending {
		p.retry(ctx, en, sendErrorOf(err), err)
		return
	}
	p.mu.Lock()
	p.notBefore[en.ID] = p.e.now().Add(wait)
	p.mu.Unlock()
	p.e.log.Warn("decision waits", "decision_id", en.ID, "class", class.String())
}

// writeFailed handles a failed A020 upload (step StepUpload) or decision
// send (StepDecision), as triage.FailureOf says the failure means.
func (p *pusher) writeFailed(ctx context.Context, c *ers.Client, en store.Entry, err error, step triage.SendStep) {
	se := sendErrorOf(err)
	var ee *ers.Error
	if !errors.As(err, &ee) {
		p.retry(ctx, en, se, err)
		return
	}
	f, mayHaveApplied := failureOf(err)
	outcome := triage.FailureOf(step, f, mayHaveApplied)
	if outcome == triage.SendAfterSignIn {
		p.e.noteFailure(err)
		p.retry(ctx, en, se, nil)
		return
	}
	if ctx.Err() != nil {
		// Shutting down mid-send: leave it sending; the next start settles it.
		return
	}
	switch outcome {
	case triage.SendSettle:
		p.settleAfterWrite(ctx, c, en, ee, se)
	case triage.SendFail:
		p.fail(ctx, en, se)
	default:
		p.retry(ctx, en, se, err)
	}
}

// failureOf maps an error to its protocol-neutral failure class, and
// whether the request may have changed the referral in e-RS.
func failureOf(err error) (f triage.SendFailure, mayHaveApplied bool) {
	if errors.Is(err, errNoSession) || errors.Is(err, errAuthPaused) {
		return triage.FailureSignIn, false
	}
	var ee *ers.Error
	if !errors.As(err, &ee) {
		return triage.FailureUnclassified, false
	}
	switch ee.Class {
	case ers.Retryable, ers.Pending:
		f = triage.FailureTransient
	case ers.Conflict:
		f = triage.FailureConflict
	case ers.AuthRequired:
		f = triage.FailureSignIn
	case ers.Forbidden:
		f = triage.FailureForbidden
	case ers.Permanent:
		f = triage.FailureRefused
	case ers.Unreachable:
		f = triage.FailureUnreachable
	case ers.BadResponse:
		f = triage.FailureUnreadable
	}
	return f, ee.MayHaveApplied()
}

// settleAfterWrite re-reads the referral after an ambiguous or contended
// answer and records what happened.
func (p *pusher) settleAfterWrite(ctx context.Context, c *ers.Client, en store.Entry, ee *ers.Error, se store.SendError) {
	e := p.e
	rr, err := c.Referral(ctx, en.UBRN)
	if err != nil {
		e.noteFailure(err)
		p.retry(ctx, en, se, ee) // stays unsettled: the next attempt settles first
		return
	}
	e.noteSuccess()
	e.cacheReferral(ctx, rr)
	switch p.settle(ctx, c, en.Decision, rr) {
	case triage.SettleApplied:
		p.markSent(ctx, en, rr, true)
	case triage.SettleNotApplied:
		if refusedForGood(ee) {
			// e-RS refused the decision on the very version it was made
			// on: sending it again would get the same answer.
			se.Message = refusedMessage(ee, rr)
			p.fail(ctx, en, se)
			return
		}
		p.retry(ctx, en, se, ee)
	case triage.SettleChanged:
		p.conflict(ctx, en, rr, ee)
	default:
		p.retry(ctx, en, se, ee)
	}
}

// refusedForGood reports whether e-RS answered a write with a refusal that
// sending it again cannot change: a 4xx other than 408, 423 (another update
// holds the referral for a moment) and 429 (slow down).
func refusedForGood(ee *ers.Error) bool {
	switch ee.Status {
	case 408, 423, 429:
		return false
	}
	return ee.Status >= 400 && ee.Status < 500
}

// refusedMessage says, in plain English, why e-RS will not take a decision
// on the referral as it is now (rr), and what the clinician can do.
func refusedMessage(ee *ers.Error, rr *ers.ReferralResult) string {
	next := "Sending it again would get the same answer: discard it in the outbox, or amend it to a decision e-RS allows for the referral as it is now."
	switch ee.Code {
	case "INVALID_REQUEST_STATE", "INVALID_STATE":
		return fmt.Sprintf("e-RS will not take this decision because the referral is now in the state %q, which does not allow it. %s",
			rr.Referral.State.State.Label(), next)
	}
	return fmt.Sprintf("e-RS refused this decision (%s). %s", ee.Message, next)
}

func (p *pusher) retry(ctx context.Context, en store.Entry, se store.SendError, cause error) {
	if en.State != triage.OutboxSending {
		p.mu.Lock()
		p.notBefore[en.ID] = p.e.now().Add(p.backoff(en.Attempts, cause))
		p.mu.Unlock()
		return
	}
	next := p.e.now().Add(p.backoff(en.Attempts, cause))
	if _, err := p.e.st.MarkRetry(ctx, en.ID, se, next); err != nil {
		p.e.log.Error("recording a retry failed", "decision_id", en.ID, "err", err)
		return
	}
	p.e.log.Info("decision will be retried", "decision_id", en.ID, "status", se.HTTPStatus, "code", se.ERSCode,
		"request_id", se.RequestID, "correlation_id", se.CorrelationID, "in", next.Sub(p.e.now()).Round(time.Millisecond))
}

func (p *pusher) fail(ctx context.Context, en store.Entry, se store.SendError) {
	if _, err := p.e.st.MarkFailed(ctx, en.ID, se); err != nil {
		p.e.log.Error("recording a failed decision failed", "decision_id", en.ID, "err", err)
		return
	}
	p.e.log.Warn("decision failed", "decision_id", en.ID, "status", se.HTTPStatus, "code", se.ERSCode,
		"request_id", se.RequestID, "correlation_id", se.CorrelationID)
	p.e.emit(ErrorEvent{Op: en.Kind.Operation(), UBRN: en.UBRN, Message: se.Message})
}

func (p *pusher) conflict(ctx context.Context, en store.Entry, rr *ers.ReferralResult, ee *ers.Error) {
	ci := store.ConflictInfo{Status: rr.Referral.State, Version: rr.Version, RequestID: rr.Meta.RequestID,
		CorrelationID: rr.Meta.CorrelationID, ServerTime: rr.Meta.Date}
	var se *store.SendError
	if ee != nil {
		s := sendErrorOf(ee)
		se = &s
		ci.HTTPStatus, ci.ERSCode = ee.Status, ee.Code
	}
	if _, err := p.e.st.MarkConflict(ctx, en.ID, ci, se); err != nil {
		p.e.log.Error("recording a conflict failed", "decision_id", en.ID, "err", err)
		return
	}
	p.e.log.Warn("decision not sent: the referral changed in e-RS", "decision_id", en.ID, "version", rr.Version,
		"state", string(rr.Referral.State.State), "request_id", rr.Meta.RequestID)
	p.e.emit(ErrorEvent{Op: en.Kind.Operation(), UBRN: en.UBRN,
		Message: "Someone else changed this referral in e-RS, so your decision was not sent. Review what changed and decide again."})
}
