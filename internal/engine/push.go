package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// pusher sends queued decisions.
type pusher struct {
	e *Engine

	mu        sync.Mutex
	inflight  map[string]bool      // entry ids being worked on
	ubrns     map[string]bool      // referrals with a decision being worked on
	notBefore map[string]time.Time // entry id -> not before (after a failed re-read)
	waiting   OutboxWaiting

	countCh chan struct{}
}

func newPusher(e *Engine) *pusher {
	return &pusher{e: e, inflight: map[string]bool{}, ubrns: map[string]bool{}, notBefore: map[string]time.Time{},
		countCh: make(chan struct{}, 1)}
}

func (p *pusher) countDirty() { signal(p.countCh) }

// run dispatches decisions to at most PushWorkers goroutines, each for a
// different referral, and joins them before returning.
func (p *pusher) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		next, _ := p.dispatch(ctx, &wg)
		if an, _ := p.dispatchAdvice(ctx, &wg); !an.IsZero() && (next.IsZero() || an.Before(next)) {
			next = an
		}
		wait := p.e.cfg.PushCheckInterval
		if !next.IsZero() {
			wait = min(wait, max(time.Millisecond, next.Sub(p.e.now())))
		}
		sleepOrWake(ctx, wait, p.e.outboxWake)
	}
}

// dispatch starts sends for the decisions that are due, and returns when
// the next one falls due (zero if none is waiting on time) and how many it
// started.
func (p *pusher) dispatch(ctx context.Context, wg *sync.WaitGroup) (time.Time, int) {
	e := p.e
	entries, err := e.st.Entries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending}})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading the outbox failed", "err", err)
			e.emit(ErrorEvent{Op: "outbox", Message: triage.ErrorMessage(err), Err: err})
		}
		return e.now().Add(e.cfg.PushCheckInterval), 0
	}
	if d, err := e.st.OutboxDamage(ctx); err == nil && d.Held {
		// Nothing can be audited, so nothing is sent: every screen says
		// so (OutboxChanged.Damage) and the decisions stay queued.
		p.reportHeld(len(entries), d)
		return e.now().Add(e.cfg.PushCheckInterval), 0
	}
	id, live := e.cfg.Session.Identity()
	usable, _ := e.usable()
	now := e.now()
	var next soonest
	mine, others, started := 0, 0, 0
	for _, en := range entries {
		if !live || !en.By.SameUser(id) {
			others++
			continue
		}
		mine++
		if !usable {
			continue
		}
		if !p.startable(en.ID, en.UBRN, en.State, en.NextAttemptAt, now, &next) {
			continue
		}
		started++
		p.launch(wg, en.ID, en.UBRN, func() { p.send(ctx, en) })
	}
	p.reportWaiting(live, usable, mine, others)
	return next.at, started
}

// writeContext bounds one send by WriteTimeout, when set.
func (e *Engine) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.cfg.WriteTimeout > 0 {
		return context.WithTimeout(ctx, e.cfg.WriteTimeout)
	}
	return ctx, func() {}
}

// soonest keeps the earliest time it is shown (zero until then).
type soonest struct{ at time.Time }

func (s *soonest) see(t time.Time) {
	if s.at.IsZero() || t.Before(s.at) {
		s.at = t
	}
}

// startable reports whether the outbox entry id (of the referral or
// request whose busy key is key) may be sent now: no send of it or its key
// is in flight, a worker is free, and neither its recorded next attempt
// (when queued) nor its in-memory wait lies ahead; a wait that lies ahead
// is shown to next.
func (p *pusher) startable(id, key string, state triage.OutboxState, nextAttempt, now time.Time, next *soonest) bool {
	p.mu.Lock()
	busy := p.inflight[id] || p.ubrns[key] || len(p.inflight) >= p.e.cfg.PushWorkers
	nb := p.notBefore[id]
	p.mu.Unlock()
	switch {
	case busy:
		return false
	case state == triage.OutboxQueued && nextAttempt.After(now):
		next.see(nextAttempt)
		return false
	case nb.After(now):
		next.see(nb)
		return false
	}
	return true
}

// launch sends one outbox entry (id) on its own goroutine, marking it and
// its busy key (one send per referral or request at a time) in flight until
// it returns. A send that panics is logged and the entry waits RetryCap.
func (p *pusher) launch(wg *sync.WaitGroup, id, key string, send func()) {
	e := p.e
	p.mu.Lock()
	p.inflight[id], p.ubrns[key] = true, true
	p.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.inflight, id)
			delete(p.ubrns, key)
			p.mu.Unlock()
			signal(e.outboxWake)
		}()
		defer func() {
			if r := recover(); r != nil {
				e.log.Error("sending a decision panicked; it stays in the outbox", "decision_id", id, "panic", fmt.Sprint(r))
				p.mu.Lock()
				p.notBefore[id] = e.now().Add(e.cfg.RetryCap)
				p.mu.Unlock()
			}
		}()
		send()
	}()
}

// send takes one decision as far as it can go now.
func (p *pusher) send(ctx context.Context, en store.Entry) {
	e := p.e
	c, id, err := e.client()
	if err != nil || !en.By.SameUser(id) {
		return
	}
	// The dispatcher works from a snapshot of the outbox: another worker
	// may have taken this decision further since. Only the stored entry
	// says whether an earlier attempt may have reached e-RS.
	if en, err = e.st.Entry(ctx, en.ID); err != nil || (en.State != triage.OutboxQueued && en.State != triage.OutboxSending) {
		return
	}
	if !en.NextAttemptAt.IsZero() && en.NextAttemptAt.After(e.now()) {
		return
	}
	d := en.Decision
	it := p.decisionItem(&en)
	log := e.log.With("decision_id", en.ID, "op", d.Kind.Operation(), "attempt", en.Attempts+1)

	// Re-read the referral: settle an earlier send, or check nothing changed.
	rr, err := c.Referral(ctx, d.UBRN)
	if err != nil {
		p.readFailed(ctx, it, err)
		return
	}
	e.noteSuccess()
	e.cacheReferral(ctx, rr)
	if en.Attempts > 0 || en.State == triage.OutboxSending {
		switch p.settle(ctx, c, d, rr) {
		case triage.SettleApplied:
			p.markSent(ctx, en, rr, true)
			return
		case triage.SettleChanged:
			p.conflict(ctx, en, rr, nil)
			return
		case triage.SettleNeedsWorklist: // the worklist could not be read
			p.readFailed(ctx, it, errSettleLater)
			return
		}
	} else if rr.Version != d.BaseVersion {
		p.conflict(ctx, en, rr, nil)
		return
	}

	// A triage outcome must still be allowed (A029, never cached). When
	// e-RS cannot say, it is sent: e-RS checks it on arrival.
	if d.Kind == triage.DecisionReviewOutcome {
		chk, err := e.actionsNow(ctx, c, d.UBRN, rr.Version)
		switch {
		case err != nil:
			p.readFailed(ctx, it, err)
			return
		case chk.Changed(rr.Version):
			p.conflict(ctx, en, chk.Reread, nil)
			return
		case !chk.Known:
			log.Info("e-RS did not say which actions are allowed: sending; e-RS checks the decision")
		case !slices.Contains(chk.Actions, triage.ActionRecordReviewOutcome):
			p.conflict(ctx, en, rr, nil)
			return
		}
	}

	if en.State == triage.OutboxQueued {
		if en, err = e.st.BeginSend(ctx, en.ID); err != nil {
			log.Warn("could not start sending", "err", err)
			return
		}
	} else if en, err = e.st.ResumeSend(ctx, en.ID); err != nil {
		// Left sending by a stopped process and not applied: this is
		// another attempt, and counts as one.
		log.Warn("could not resume sending", "err", err)
		return
	}
	if p.uploadFiles(ctx, c, it) != nil {
		return
	}

	wctx, cancel := e.writeContext(ctx)
	res, err := c.Decide(wctx, en.Decision)
	cancel()
	if err != nil {
		p.writeFailed(ctx, c, it, err, triage.StepDecision)
		return
	}
	e.noteSuccess()
	p.markSent(ctx, en, res, false)
}

// errSettleLater means an earlier send could not be settled yet.
var errSettleLater = &triage.Error{Code: triage.EUNAVAILABLE, Message: "Triage Desk could not yet confirm whether this decision reached e-RS. It will check again shortly; nothing has been lost."}

// settle says whether the decision is applied in the referral as read,
// asking the worklist for an accept (which leaves the state BOOKED).
func (p *pusher) settle(ctx context.Context, c *ers.Client, d triage.Decision, rr *ers.ReferralResult) triage.Settlement {
	s := d.Settle(rr.Referral)
	if s != triage.SettleNeedsWorklist {
		return s
	}
	wl, err := c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{Service: rr.Referral.Service.ID})
	if err != nil {
		p.e.noteFailure(err)
		return triage.SettleNeedsWorklist
	}
	for _, it := range wl.Items {
		if triage.SameUBRN(it.UBRN, d.UBRN) {
			return triage.SettleChanged // still awaiting review, yet changed
		}
	}
	return triage.SettleApplied
}

// cacheReferral stores a referral read or returned by a write, so the UI
// shows e-RS's latest.
func (e *Engine) cacheReferral(ctx context.Context, rr *ers.ReferralResult) {
	if rr == nil || rr.Referral == nil {
		return
	}
	cr := store.CachedReferral{Referral: *rr.Referral, Raw: rr.Raw, ETag: rr.ETag, ServerTime: rr.Meta.Date}
	if err := e.st.PutReferral(ctx, cr); err != nil {
		e.log.Warn("caching a referral failed", "err", err)
		return
	}
	e.emit(ReferralUpdated{UBRN: triage.NormalizeUBRN(rr.Referral.UBRN), Version: rr.Version})
}

// markSent records the decision as applied (moving a queued entry that
// was settled by re-reading through sending first).
func (p *pusher) markSent(ctx context.Context, en store.Entry, rr *ers.ReferralResult, settled bool) {
	e := p.e
	if en.State == triage.OutboxQueued {
		var err error
		if en, err = e.st.BeginSend(ctx, en.ID); err != nil {
			e.log.Error("recording a sent decision failed", "decision_id", en.ID, "err", err)
			return
		}
	}
	// e-RS's answer is cached before the decision is marked sent, so
	// whoever sees "sent" (the UI, a test) reads the referral as e-RS now
	// has it. A crash in between leaves the decision "sending", which is
	// settled by re-reading on the next start.
	if !settled {
		e.cacheReferral(ctx, rr)
	}
	r := store.SentResult{NewVersion: rr.Version, RequestID: rr.Meta.RequestID, CorrelationID: rr.Meta.CorrelationID,
		HTTPStatus: rr.Meta.Status, ServerTime: rr.Meta.Date, Settled: settled}
	if _, err := e.st.MarkSent(ctx, en.ID, r); err != nil {
		e.log.Error("recording a sent decision failed", "decision_id", en.ID, "err", err)
		return
	}
	p.mu.Lock()
	delete(p.notBefore, en.ID)
	p.mu.Unlock()
	e.log.Info("decision sent", "decision_id", en.ID, "op", en.Kind.Operation(), "version", rr.Version, "settled", settled,
		"request_id", rr.Meta.RequestID, "correlation_id", rr.Meta.CorrelationID)
}

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

// failureClasses maps e-RS's error classes to the protocol-neutral
// failure classes of the outbox state machine.
var failureClasses = map[ers.Class]triage.SendFailure{
	ers.Retryable: triage.FailureTransient, ers.Pending: triage.FailureTransient,
	ers.Conflict: triage.FailureConflict, ers.AuthRequired: triage.FailureSignIn,
	ers.Forbidden: triage.FailureForbidden, ers.Permanent: triage.FailureRefused,
	ers.Unreachable: triage.FailureUnreachable, ers.BadResponse: triage.FailureUnreadable,
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
	return failureClasses[ee.Class], ee.MayHaveApplied()
}

// settleAfterWrite re-reads the referral after an ambiguous or contended
// answer and records what happened.
func (p *pusher) settleAfterWrite(ctx context.Context, c *ers.Client, en store.Entry, ee *ers.Error, se store.SendError) {
	e, it := p.e, p.decisionItem(&en)
	rr, err := c.Referral(ctx, en.UBRN)
	if err != nil {
		e.noteFailure(err)
		p.retry(ctx, it, se, ee) // stays unsettled: the next attempt settles first
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
			p.fail(ctx, it, se)
			return
		}
		p.retry(ctx, it, se, ee)
	case triage.SettleChanged:
		p.conflict(ctx, en, rr, ee)
	default:
		p.retry(ctx, it, se, ee)
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
