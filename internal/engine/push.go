package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/ers/fhir"
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
		wait := p.e.cfg.PushCheckInterval
		if !next.IsZero() {
			wait = min(wait, max(time.Millisecond, next.Sub(p.e.now())))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-p.e.outboxWake:
		case <-t.C:
		}
		t.Stop()
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
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
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
		p.mu.Lock()
		busy := p.inflight[en.ID] || p.ubrns[en.UBRN] || len(p.inflight) >= e.cfg.PushWorkers
		nb := p.notBefore[en.ID]
		p.mu.Unlock()
		if busy {
			continue
		}
		if en.State == triage.OutboxQueued && en.NextAttemptAt.After(now) {
			later(en.NextAttemptAt)
			continue
		}
		if nb.After(now) {
			later(nb)
			continue
		}
		p.mu.Lock()
		p.inflight[en.ID], p.ubrns[en.UBRN] = true, true
		p.mu.Unlock()
		started++
		wg.Add(1)
		go func(en store.Entry) {
			defer wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.inflight, en.ID)
				delete(p.ubrns, en.UBRN)
				p.mu.Unlock()
				signal(e.outboxWake)
			}()
			defer func() {
				if r := recover(); r != nil {
					e.log.Error("sending a decision panicked; it stays in the outbox", "decision_id", en.ID, "panic", fmt.Sprint(r))
					p.mu.Lock()
					p.notBefore[en.ID] = e.now().Add(e.cfg.RetryCap)
					p.mu.Unlock()
				}
			}()
			p.send(ctx, en)
		}(en)
	}
	p.reportWaiting(live, usable, mine, others)
	return next, started
}

// reportWaiting publishes why queued decisions are not being sent.
func (p *pusher) reportWaiting(live, usable bool, mine, others int) {
	w := OutboxWaiting{}
	st := p.e.Status()
	switch {
	case !live && mine+others > 0:
		w = OutboxWaiting{Count: mine + others, Reason: fmt.Sprintf("%s to send. Sign in with your NHS Care Identity to send them.", plural(mine+others))}
	case !usable && mine > 0 && st.State == StateOffline:
		w = OutboxWaiting{Count: mine, Reason: fmt.Sprintf("%s waiting: e-RS cannot be reached. They will be sent when the connection returns.", plural(mine))}
	case !usable && mine > 0:
		w = OutboxWaiting{Count: mine, Reason: fmt.Sprintf("%s waiting: %s", plural(mine), msgSignInAgain)}
	case others > 0:
		w = OutboxWaiting{Count: others, Reason: fmt.Sprintf("%s made under another role or organisation. They will be sent when you sign in that way.", plural(others))}
	}
	p.publishWaiting(w)
}

// reportHeld publishes that the outbox is held by a damaged record.
func (p *pusher) reportHeld(n int, d store.OutboxDamage) {
	p.publishWaiting(OutboxWaiting{Count: max(n, 1), Reason: d.Summary()})
}

// publishWaiting publishes w when it differs from the last one published.
func (p *pusher) publishWaiting(w OutboxWaiting) {
	p.mu.Lock()
	changed := w != p.waiting
	p.waiting = w
	p.mu.Unlock()
	if changed {
		p.e.emit(w)
	}
}

func plural(n int) string {
	if n == 1 {
		return "1 decision"
	}
	return fmt.Sprintf("%d decisions", n)
}

// runCounter publishes OutboxChanged with the counts by state, at most
// every defaultOutboxCountDebounce.
func (p *pusher) runCounter(ctx context.Context) {
	p.countDirty()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.countCh:
		}
		if !sleep(ctx, defaultOutboxCountDebounce) {
			return
		}
		select {
		case <-p.countCh:
		default:
		}
		counts, err := p.e.OutboxCounts(ctx)
		var damage store.OutboxDamage
		if err == nil {
			damage, err = p.e.st.OutboxDamage(ctx)
		}
		if err != nil {
			if ctx.Err() == nil {
				p.e.log.Warn("counting the outbox failed", "err", err)
				p.e.emit(ErrorEvent{Op: "outbox", Message: triage.ErrorMessage(err), Err: err})
			}
			continue
		}
		p.e.emit(OutboxChanged{Counts: counts, Damage: damage})
	}
}

// OutboxCounts returns how many decisions are in each outbox state.
func (e *Engine) OutboxCounts(ctx context.Context) (map[triage.OutboxState]int, error) {
	es, err := e.st.Entries(ctx, store.EntryFilter{})
	if err != nil {
		return nil, err
	}
	counts := map[triage.OutboxState]int{}
	for _, en := range es {
		counts[en.State]++
	}
	return counts, nil
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
	log := e.log.With("decision_id", en.ID, "op", d.Kind.Operation(), "attempt", en.Attempts+1)

	// Re-read the referral: settle an earlier send, or check nothing changed.
	rr, err := c.Referral(ctx, d.UBRN)
	if err != nil {
		p.readFailed(ctx, en, err)
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
			p.readFailed(ctx, en, errSettleLater)
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
			p.readFailed(ctx, en, err)
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
	for _, a := range en.Decision.Attachments {
		if a.BinaryID != "" {
			continue
		}
		_, data, err := e.st.Document(ctx, d.UBRN, a.LocalID)
		if err != nil {
			p.fail(ctx, en, store.SendError{Message: fmt.Sprintf("The attached file %q could not be read from this computer. Attach it again and send the decision again.", a.FileName)})
			return
		}
		up, err := c.UploadAttachment(ctx, d.UBRN, a, data)
		if err != nil {
			p.writeFailed(ctx, c, en, err, triage.StepUpload)
			return
		}
		if en, err = e.st.RecordUpload(ctx, en.ID, a.LocalID, up.BinaryID); err != nil {
			log.Error("recording an uploaded attachment failed", "err", err)
			p.retry(ctx, en, store.SendError{Message: triage.ErrorMessage(err)}, nil)
			return
		}
		log.Info("attachment uploaded", "request_id", up.Meta.RequestID, "correlation_id", up.Meta.CorrelationID)
	}

	wctx, cancel := ctx, context.CancelFunc(func() {})
	if e.cfg.WriteTimeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, e.cfg.WriteTimeout)
	}
	res, err := c.Decide(wctx, en.Decision)
	cancel()
	if err != nil {
		p.writeFailed(ctx, c, en, err, triage.StepDecision)
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
	wl, err := c.Worklist(ctx, triage.ListReferralsForReview, fhir.WorklistFilter{Service: rr.Referral.Service.ID})
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
