package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Sending A&G replies (A026) and conversions (A027) from the outbox. The
// pusher that sends decisions sends them too, with the same workers, backoff
// and failure rules (triage.FailureOf), one action per request at a time:
//
//  1. Pre-flight: the request is read again (A024). If its version is still
//     the one the clinician saw, nothing happened to it since (every change
//     bumps the version), and the action is sent with If-Match of that
//     version (A027 carries it in createFrom).
//  2. Otherwise the conversation is read (A025) and decides: the action is
//     there (a provider message after the one the clinician last read, with
//     this guidance; for a conversion, the request converted), so it was
//     applied by an earlier attempt whose answer was lost: it is marked sent
//     and never sent again; or it is not, so the conversation moved on (the
//     referrer wrote, withdrew, or someone else replied): it becomes a
//     conflict naming the messages that arrived, and is never sent blind.
//  3. A send whose answer is ambiguous (no answer, 5xx, 409, 423) is settled
//     the same way before anything else.

// adviceOutcome is what re-reading a request says about an action.
type adviceOutcome int

const (
	adviceNotApplied adviceOutcome = iota // unchanged since the clinician read it
	adviceApplied                         // the action is in the conversation
	adviceMovedOn                         // changed, without the action
)

// adviceBusyKey keeps one action per request in flight, apart from the
// referral of the same UBRN.
func adviceBusyKey(ubrn string) string { return "advice:" + ubrn }

// dispatchAdvice starts sends for the A&G actions that are due, as
// dispatch does for decisions, and returns when the next falls due (zero
// if none is waiting on time) and how many it started.
func (p *pusher) dispatchAdvice(ctx context.Context, wg *sync.WaitGroup) (time.Time, int) {
	e := p.e
	entries, err := e.st.AdviceEntries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending}})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading the advice and guidance outbox failed", "err", err)
			e.emit(ErrorEvent{Op: "outbox", Message: triage.ErrorMessage(err), Err: err})
		}
		return e.now().Add(e.cfg.PushCheckInterval), 0
	}
	if len(entries) == 0 {
		return time.Time{}, 0
	}
	if d, err := e.st.OutboxDamage(ctx); err == nil && d.Held {
		return e.now().Add(e.cfg.PushCheckInterval), 0
	}
	id, live := e.cfg.Session.Identity()
	usable, _ := e.usable()
	if !live || !usable {
		return time.Time{}, 0
	}
	started := 0
	now := e.now()
	var next soonest
	for _, en := range entries {
		if !en.By.SameUser(id) {
			continue
		}
		key := adviceBusyKey(en.UBRN)
		if !p.startable(en.ID, key, en.State, en.NextAttemptAt, now, &next) {
			continue
		}
		started++
		p.launch(wg, en.ID, key, func() { p.sendAdvice(ctx, en) })
	}
	return next.at, started
}

// sendAdvice takes one A&G action as far as it can go now.
func (p *pusher) sendAdvice(ctx context.Context, en store.AdviceEntry) {
	e := p.e
	c, id, err := e.client()
	if err != nil || !en.By.SameUser(id) {
		return
	}
	if en, err = e.st.AdviceEntry(ctx, en.ID); err != nil || (en.State != triage.OutboxQueued && en.State != triage.OutboxSending) {
		return
	}
	if en.NextAttemptAt.After(e.now()) {
		return
	}
	it := p.adviceItem(&en)
	log := e.log.With("decision_id", en.ID, "op", en.Kind.Operation(), "attempt", en.Attempts+1)

	rr, err := c.AdviceRequest(ctx, en.UBRN)
	if err != nil {
		p.readFailed(ctx, it, err)
		return
	}
	e.noteSuccess()
	e.cacheAdviceRequest(ctx, rr)
	out, conv, err := p.adviceOutcome(ctx, c, en, rr)
	switch {
	case err != nil:
		p.readFailed(ctx, it, err)
		return
	case out == adviceApplied:
		p.adviceSent(ctx, en, rr.Version, rr.Meta, true)
		return
	case out == adviceMovedOn:
		p.adviceConflict(ctx, en, rr, conv, nil)
		return
	}

	if en.State == triage.OutboxQueued {
		en, err = e.st.BeginAdviceSend(ctx, en.ID)
	} else {
		en, err = e.st.ResumeAdviceSend(ctx, en.ID)
	}
	if err != nil {
		log.Warn("could not start sending", "err", err)
		return
	}
	if p.uploadFiles(ctx, c, it) != nil {
		return
	}
	wctx, cancel := e.writeContext(ctx)
	version, meta, err := p.sendAdviceAction(wctx, ctx, c, en)
	cancel()
	if err != nil {
		p.writeFailed(ctx, c, it, err, triage.StepDecision)
		return
	}
	e.noteSuccess()
	p.adviceSent(ctx, en, version, meta, false)
}

// sendAdviceAction sends the entry's reply (A026) or conversion (A027)
// within wctx, caches what e-RS answered (the request as it now stands, or
// the new referral) within ctx, and returns the version e-RS answered with.
func (p *pusher) sendAdviceAction(wctx, ctx context.Context, c *ers.Client, en store.AdviceEntry) (int, ers.Meta, error) {
	switch {
	case en.Kind == store.AdviceActionReply && en.Reply != nil:
		res, err := c.SendAdviceReply(wctx, *en.Reply)
		if err != nil {
			return 0, ers.Meta{}, err
		}
		p.e.cacheAdviceRequest(ctx, &res.AdviceRequestResult)
		return res.Version, res.Meta, nil
	case en.Kind == store.AdviceActionConvert && en.Conversion != nil:
		res, err := c.ConvertAdviceToReferral(wctx, *en.Conversion)
		if err != nil {
			return 0, ers.Meta{}, err
		}
		p.e.cacheReferral(ctx, res)
		return res.Version, res.Meta, nil
	}
	return 0, ers.Meta{}, &triage.Error{Code: triage.EINVALID, Message: "This outbox entry holds no reply or conversion, so it cannot be sent. Discard it and write it again."}
}

// adviceOutcome says, from the request as just read, whether the action was
// applied, is still to be sent, or met a conversation that moved on; when
// the version moved, it reads the conversation (returned) to tell.
func (p *pusher) adviceOutcome(ctx context.Context, c *ers.Client, en store.AdviceEntry, rr *ers.AdviceRequestResult) (adviceOutcome, *triage.AdviceConversation, error) {
	if rr.Version == en.BaseVersion {
		return adviceNotApplied, nil, nil
	}
	cr, err := c.AdviceConversation(ctx, en.UBRN, rr.Version)
	if err != nil {
		return adviceNotApplied, nil, err
	}
	p.e.noteSuccess()
	p.e.cacheAdviceConversation(ctx, cr)
	conv := cr.Conversation
	if en.Kind == store.AdviceActionConvert {
		if rr.Request.Category == triage.AdviceConverted && ownMessage(conv, en) != nil {
			return adviceApplied, conv, nil
		}
		return adviceMovedOn, conv, nil
	}
	if ownMessage(conv, en) != nil {
		return adviceApplied, conv, nil
	}
	return adviceMovedOn, conv, nil
}

// since returns the messages after the one the clinician last read (all of
// them when it is not found).
func since(conv *triage.AdviceConversation, lastID string) []triage.AdviceMessage {
	if conv == nil {
		return nil
	}
	for i, m := range conv.Messages {
		if m.ID == lastID {
			return conv.Messages[i+1:]
		}
	}
	return conv.Messages
}

// ownMessage finds the provider's message the action created: after the
// message the clinician last read, from the provider, with the action's
// guidance. Only one action per request is ever unsent, so it can be no
// other.
func ownMessage(conv *triage.AdviceConversation, en store.AdviceEntry) *triage.AdviceMessage {
	guidance := ""
	switch {
	case en.Reply != nil:
		guidance = en.Reply.Guidance
	case en.Conversion != nil:
		guidance = en.Conversion.Guidance
	}
	for _, m := range since(conv, en.LastMessageID) {
		if m.SentBy.FromProvider() && strings.TrimSpace(m.Text) == strings.TrimSpace(guidance) {
			return &m
		}
	}
	return nil
}

// adviceSent records the action as applied (moving a queued entry settled
// by re-reading through sending first).
func (p *pusher) adviceSent(ctx context.Context, en store.AdviceEntry, version int, m ers.Meta, settled bool) {
	e := p.e
	if en.State == triage.OutboxQueued {
		var err error
		if en, err = e.st.BeginAdviceSend(ctx, en.ID); err != nil {
			e.log.Error("recording a sent advice and guidance action failed", "decision_id", en.ID, "err", err)
			return
		}
	}
	r := store.SentResult{NewVersion: version, RequestID: m.RequestID, CorrelationID: m.CorrelationID, HTTPStatus: m.Status,
		ServerTime: m.Date, Settled: settled}
	if _, err := e.st.MarkAdviceSent(ctx, en.ID, r); err != nil {
		e.log.Error("recording a sent advice and guidance action failed", "decision_id", en.ID, "err", err)
		return
	}
	p.mu.Lock()
	delete(p.notBefore, en.ID)
	p.mu.Unlock()
	e.log.Info("advice and guidance action sent", "decision_id", en.ID, "op", en.Kind.Operation(), "version", version,
		"settled", settled, "request_id", m.RequestID, "correlation_id", m.CorrelationID)
}

// adviceConflict records that the request moved on, naming the messages
// that arrived since the clinician read it.
func (p *pusher) adviceConflict(ctx context.Context, en store.AdviceEntry, rr *ers.AdviceRequestResult, conv *triage.AdviceConversation, ee *ers.Error) {
	e := p.e
	news := since(conv, en.LastMessageID)
	reason := fmt.Sprintf("the request changed after it was read (now %s)", rr.Request.Category.Label())
	for _, m := range news {
		if !m.SentBy.FromProvider() {
			reason = "the referrer wrote again after it was read"
			break
		}
	}
	ci := store.AdviceConflict{Version: rr.Version, Category: rr.Request.Category, NewMessages: news, Reason: reason,
		RequestID: rr.Meta.RequestID}
	if ee != nil {
		ci.HTTPStatus, ci.ERSCode = ee.Status, ee.Code
	}
	if _, err := e.st.MarkAdviceConflict(ctx, en.ID, ci); err != nil {
		e.log.Error("recording an advice and guidance conflict failed", "decision_id", en.ID, "err", err)
		return
	}
	e.log.Warn("advice and guidance action not sent: the conversation moved on", "decision_id", en.ID, "version", rr.Version,
		"new_messages", len(news), "request_id", rr.Meta.RequestID)
	e.emit(ErrorEvent{Op: en.Kind.Operation(), UBRN: en.UBRN,
		Message: "The conversation changed in e-RS after you read it (" + reason + "), so your " + string(en.Kind) + " was not sent. Read the new messages, then decide again."})
}

// adviceSettleAfterWrite re-reads the request after an ambiguous or
// contended answer to an A&G action and records what happened.
func (p *pusher) adviceSettleAfterWrite(ctx context.Context, c *ers.Client, en store.AdviceEntry, ee *ers.Error, se store.SendError) {
	it := p.adviceItem(&en)
	rr, err := c.AdviceRequest(ctx, en.UBRN)
	if err != nil {
		p.e.noteFailure(err)
		p.retry(ctx, it, se, ee)
		return
	}
	p.e.noteSuccess()
	p.e.cacheAdviceRequest(ctx, rr)
	out, conv, err := p.adviceOutcome(ctx, c, en, rr)
	switch {
	case err != nil:
		p.retry(ctx, it, se, ee)
	case out == adviceApplied:
		p.adviceSent(ctx, en, rr.Version, rr.Meta, true)
	case out == adviceMovedOn:
		p.adviceConflict(ctx, en, rr, conv, ee)
	case refusedForGood(ee) && ee.Status != 409:
		p.fail(ctx, it, se)
	default:
		p.retry(ctx, it, se, ee)
	}
}
