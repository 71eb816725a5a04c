package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// sendItem is the outbox entry a worker is sending: a decision
// (decisionItem) or an A&G action (adviceItem). The steps both take
// (waiting after a failed read, uploading files, handling a failed write,
// retrying, failing) work through it; it holds the entry as the store last
// recorded it, and each transition refreshes it.
type sendItem interface {
	// status is the entry's id, UBRN, state and attempts, and what to call it.
	status() itemStatus
	// attachments are the entry's files, uploaded (BinaryID set) or not.
	attachments() []triage.ProviderAttachment
	// document reads one of its files from the encrypted cache.
	document(ctx context.Context, localID string) ([]byte, error)

	// The outbox transitions: queued -> sending, an uploaded file's e-RS
	// id, sending -> queued (a retry), -> failed.
	begin(ctx context.Context) error
	recordUpload(ctx context.Context, localID, binaryID string) error
	markRetry(ctx context.Context, se store.SendError, next time.Time) error
	markFailed(ctx context.Context, se store.SendError) error

	// settleAfterWrite re-reads after an ambiguous or contended answer to a
	// write and records what happened.
	settleAfterWrite(ctx context.Context, c *ers.Client, ee *ers.Error, se store.SendError)
}

// itemStatus is what the shared send steps read of an outbox entry.
type itemStatus struct {
	ID, UBRN string
	State    triage.OutboxState
	Attempts int
	// Op is the e-RS operation that sends it (for ErrorEvent).
	Op string
	// Noun names it in the log ("decision"); Action names it to the
	// clinician ("send the decision again").
	Noun, Action string
}

// readFailed handles a failed read before or instead of a send: nothing was
// sent, so the entry waits (offline, sign-in, backoff) or, when e-RS will
// never serve the request, fails.
func (p *pusher) readFailed(ctx context.Context, it sendItem, err error) {
	if ctx.Err() != nil {
		return
	}
	class := p.e.noteFailure(err)
	f, _ := failureOf(err)
	if ev, ok := triage.OnSendFailure(triage.FailureOf(triage.StepRead, f, false)); ok && ev == triage.OutboxMarkFailed {
		if it.status().State == triage.OutboxQueued {
			if it.begin(ctx) != nil {
				return
			}
		}
		p.fail(ctx, it, sendErrorOf(err))
		return
	}
	p.retry(ctx, it, sendErrorOf(err), err)
	if st := it.status(); st.State != triage.OutboxSending {
		p.e.log.Warn(st.Noun+" waits", "decision_id", st.ID, "class", class.String())
	}
}

// writeFailed handles a failed A020 upload (step StepUpload) or send
// (StepDecision), as triage.FailureOf says the failure means: an ambiguous
// one is settled by re-reading before anything else.
func (p *pusher) writeFailed(ctx context.Context, c *ers.Client, it sendItem, err error, step triage.SendStep) {
	se := sendErrorOf(err)
	var ee *ers.Error
	if !errors.As(err, &ee) {
		p.retry(ctx, it, se, err)
		return
	}
	f, mayHaveApplied := failureOf(err)
	outcome := triage.FailureOf(step, f, mayHaveApplied)
	if outcome == triage.SendAfterSignIn {
		p.e.noteFailure(err)
		p.retry(ctx, it, se, nil)
		return
	}
	if ctx.Err() != nil {
		// Shutting down mid-send: leave it sending; the next start settles it.
		return
	}
	switch outcome {
	case triage.SendSettle:
		it.settleAfterWrite(ctx, c, ee, se)
	case triage.SendFail:
		p.fail(ctx, it, se)
	default:
		p.retry(ctx, it, se, err)
	}
}

// uploadFiles uploads (A020) each file of the entry not uploaded yet, from
// the encrypted cache, and records e-RS's id for it in the outbox before
// the entry is sent, so no retry uploads a file twice. A failure is handled
// (retry, fail or wait) and returned.
func (p *pusher) uploadFiles(ctx context.Context, c *ers.Client, it sendItem) error {
	e := p.e
	for _, a := range it.attachments() {
		if a.BinaryID != "" {
			continue
		}
		st := it.status()
		data, err := it.document(ctx, a.LocalID)
		if err != nil {
			p.fail(ctx, it, store.SendError{Message: fmt.Sprintf("The attached file %q could not be read from this computer. Attach it again and send the %s again.", a.FileName, st.Action)})
			return fmt.Errorf("read attached file: %w", err)
		}
		up, err := c.UploadAttachment(ctx, st.UBRN, a, data)
		if err != nil {
			p.writeFailed(ctx, c, it, err, triage.StepUpload)
			return fmt.Errorf("upload attached file: %w", err)
		}
		if err := it.recordUpload(ctx, a.LocalID, up.BinaryID); err != nil {
			e.log.Error("recording an uploaded attachment failed", "decision_id", st.ID, "err", err)
			p.retry(ctx, it, store.SendError{Message: triage.ErrorMessage(err)}, nil)
			return fmt.Errorf("record uploaded file: %w", err)
		}
		e.log.Info("attachment uploaded", "decision_id", st.ID, "attempt", st.Attempts, "request_id", up.Meta.RequestID,
			"correlation_id", up.Meta.CorrelationID)
	}
	return nil
}

// retry waits before the next attempt: in memory for a queued entry
// (nothing was sent), recorded (sending -> queued) for one being sent.
func (p *pusher) retry(ctx context.Context, it sendItem, se store.SendError, cause error) {
	st := it.status()
	next := p.e.now().Add(p.backoff(st.Attempts, cause))
	if st.State != triage.OutboxSending {
		p.mu.Lock()
		p.notBefore[st.ID] = next
		p.mu.Unlock()
		return
	}
	if err := it.markRetry(ctx, se, next); err != nil {
		p.e.log.Error("recording a retry failed", "decision_id", st.ID, "err", err)
		return
	}
	p.e.log.Info(st.Noun+" will be retried", "decision_id", st.ID, "status", se.HTTPStatus, "code", se.ERSCode,
		"request_id", se.RequestID, "correlation_id", se.CorrelationID, "in", next.Sub(p.e.now()).Round(time.Millisecond))
}

// fail records the entry as failed and tells the clinician why.
func (p *pusher) fail(ctx context.Context, it sendItem, se store.SendError) {
	st := it.status()
	if err := it.markFailed(ctx, se); err != nil {
		p.e.log.Error("recording a failed "+st.Noun+" failed", "decision_id", st.ID, "err", err)
		return
	}
	p.e.log.Warn(st.Noun+" failed", "decision_id", st.ID, "status", se.HTTPStatus, "code", se.ERSCode,
		"request_id", se.RequestID, "correlation_id", se.CorrelationID)
	p.e.emit(ErrorEvent{Op: st.Op, UBRN: st.UBRN, Message: se.Message})
}

// transitions are the store's outbox transitions for one kind of entry E,
// each returning the entry as recorded.
type transitions[E any] struct {
	begin        func(ctx context.Context, id string) (E, error)
	recordUpload func(ctx context.Context, id, localID, binaryID string) (E, error)
	markRetry    func(ctx context.Context, id string, se store.SendError, next time.Time) (E, error)
	markFailed   func(ctx context.Context, id string, se store.SendError) (E, error)
	// document reads an attached file from the encrypted cache.
	document func(ctx context.Context, ubrn, localID string) (store.DocumentMeta, []byte, error)
}

// tracked is an entry being sent (id, for the referral or request ubrn)
// and the store's transitions for it; each transition the store records
// replaces *en.
type tracked[E any] struct {
	en       *E
	id, ubrn string
	t        transitions[E]
}

func (k tracked[E]) document(ctx context.Context, localID string) ([]byte, error) {
	_, data, err := k.t.document(ctx, k.ubrn, localID)
	return data, err
}

func (k tracked[E]) keep(en E, err error) error {
	if err == nil {
		*k.en = en
	}
	return err
}

func (k tracked[E]) begin(ctx context.Context) error { return k.keep(k.t.begin(ctx, k.id)) }

func (k tracked[E]) recordUpload(ctx context.Context, localID, binaryID string) error {
	return k.keep(k.t.recordUpload(ctx, k.id, localID, binaryID))
}

func (k tracked[E]) markRetry(ctx context.Context, se store.SendError, next time.Time) error {
	return k.keep(k.t.markRetry(ctx, k.id, se, next))
}

func (k tracked[E]) markFailed(ctx context.Context, se store.SendError) error {
	return k.keep(k.t.markFailed(ctx, k.id, se))
}

// decisionItem sends a decision (store.Entry).
type decisionItem struct {
	tracked[store.Entry]
	p *pusher
}

func (p *pusher) decisionItem(en *store.Entry) decisionItem {
	st := p.e.st
	return decisionItem{p: p, tracked: tracked[store.Entry]{en: en, id: en.ID, ubrn: en.UBRN,
		t: transitions[store.Entry]{st.BeginSend, st.RecordUpload, st.MarkRetry, st.MarkFailed, st.Document}}}
}

func (d decisionItem) status() itemStatus {
	return itemStatus{ID: d.en.ID, UBRN: d.en.UBRN, State: d.en.State, Attempts: d.en.Attempts, Op: d.en.Kind.Operation(),
		Noun: "decision", Action: "decision"}
}

func (d decisionItem) attachments() []triage.ProviderAttachment { return d.en.Decision.Attachments }

func (d decisionItem) settleAfterWrite(ctx context.Context, c *ers.Client, ee *ers.Error, se store.SendError) {
	d.p.settleAfterWrite(ctx, c, *d.en, ee, se)
}

// adviceItem sends an A&G reply or conversion (store.AdviceEntry).
type adviceItem struct {
	tracked[store.AdviceEntry]
	p *pusher
}

func (p *pusher) adviceItem(en *store.AdviceEntry) adviceItem {
	st := p.e.st
	return adviceItem{p: p, tracked: tracked[store.AdviceEntry]{en: en, id: en.ID, ubrn: en.UBRN,
		t: transitions[store.AdviceEntry]{st.BeginAdviceSend, st.RecordAdviceUpload, st.MarkAdviceRetry,
			st.MarkAdviceFailed, st.AdviceDocument}}}
}

func (a adviceItem) status() itemStatus {
	return itemStatus{ID: a.en.ID, UBRN: a.en.UBRN, State: a.en.State, Attempts: a.en.Attempts, Op: a.en.Kind.Operation(),
		Noun: "advice and guidance action", Action: string(a.en.Kind)}
}

func (a adviceItem) attachments() []triage.ProviderAttachment {
	var out []triage.ProviderAttachment
	for _, f := range a.en.Attachments() {
		out = append(out, *f)
	}
	return out
}

func (a adviceItem) settleAfterWrite(ctx context.Context, c *ers.Client, ee *ers.Error, se store.SendError) {
	a.p.adviceSettleAfterWrite(ctx, c, *a.en, ee, se)
}
