package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// BeginSend moves a queued entry to sending and counts the attempt. The
// engine calls it just before sending; after a crash, entries left in
// sending must be settled by re-reading the referral (OpenReport.InFlight).
// Errors: ErrIllegalTransition unless queued, ErrNotFound.
func (s *Store) BeginSend(ctx context.Context, id string) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxBeginSend); err != nil {
			return nil, err
		}
		e.Attempts++
		return nil, nil
	})
}

// ResumeSend counts another attempt at a decision left sending by a
// process that stopped mid-send (a crash, or a kill), once re-reading the
// referral showed the earlier attempt was not applied: the engine is about
// to send it again. Errors: ErrIllegalTransition unless sending.
func (s *Store) ResumeSend(ctx context.Context, id string) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxResumeSend); err != nil {
			return nil, err
		}
		e.Attempts++
		return nil, nil
	})
}

// MarkSent records that e-RS applied the decision (sending -> sent), with
// the referral's new version and e-RS's request id, and audits the attempt.
func (s *Store) MarkSent(ctx context.Context, id string, r SentResult) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxMarkSent); err != nil {
			return nil, err
		}
		if r.At.IsZero() {
			r.At = s.now()
		}
		if r.CorrelationID == "" {
			r.CorrelationID = e.CorrelationID
		}
		e.Sent = &r
		e.NextAttemptAt = time.Time{}
		result := "sent"
		if r.Settled {
			result = "sent (confirmed by re-reading the referral)"
		}
		return []AuditRecord{{
			Event: EventSendResult, Result: result, ServerTime: r.ServerTime, HTTPStatus: r.HTTPStatus,
			RequestID: r.RequestID, CorrelationID: r.CorrelationID, ReferralVersion: r.NewVersion,
		}}, nil
	})
}

// MarkRetry records a send that may be retried (sending -> queued): the
// error, and when to try next. Errors: ErrIllegalTransition unless sending.
func (s *Store) MarkRetry(ctx context.Context, id string, se SendError, next time.Time) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxMarkRetry); err != nil {
			return nil, err
		}
		s.fillSendError(e, &se)
		e.LastError = &se
		e.NextAttemptAt = next
		return []AuditRecord{sendErrorAudit("retry later", &se)}, nil
	})
}

// MarkFailed records that e-RS refused the decision for good (sending ->
// failed): the clinician amends or discards it.
func (s *Store) MarkFailed(ctx context.Context, id string, se SendError) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxMarkFailed); err != nil {
			return nil, err
		}
		s.fillSendError(e, &se)
		e.LastError = &se
		e.NextAttemptAt = time.Time{}
		return []AuditRecord{sendErrorAudit("failed", &se)}, nil
	})
}

// MarkConflict records that the referral changed in e-RS so the decision was
// not applied (queued or sending -> conflict), with what e-RS says now. se,
// if not nil, is the error response that revealed it.
func (s *Store) MarkConflict(ctx context.Context, id string, c ConflictInfo, se *SendError) (Entry, error) {
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxMarkConflict); err != nil {
			return nil, err
		}
		if c.SeenAt.IsZero() {
			c.SeenAt = s.now()
		}
		c.Acknowledged, c.AcknowledgedAt = false, time.Time{}
		e.Conflict = &c
		e.NextAttemptAt = time.Time{}
		rec := AuditRecord{Event: EventSendResult, Result: "conflict: referral is now " + string(c.Status.State),
			ServerTime: c.ServerTime, HTTPStatus: c.HTTPStatus, ERSCode: c.ERSCode, RequestID: c.RequestID,
			CorrelationID: c.CorrelationID, ReferralVersion: c.Version}
		if se != nil {
			s.fillSendError(e, se)
			e.LastError = se
			if rec.RequestID == "" {
				rec.RequestID = se.RequestID
			}
			if rec.HTTPStatus == 0 {
				rec.HTTPStatus = se.HTTPStatus
			}
			if rec.ERSCode == "" {
				rec.ERSCode = se.ERSCode
			}
		}
		if rec.CorrelationID == "" {
			rec.CorrelationID = e.CorrelationID
		}
		return []AuditRecord{rec}, nil
	})
}

func (s *Store) fillSendError(e *Entry, se *SendError) {
	if se.At.IsZero() {
		se.At = s.now()
	}
	if se.CorrelationID == "" {
		se.CorrelationID = e.CorrelationID
	}
}

func sendErrorAudit(result string, se *SendError) AuditRecord {
	return AuditRecord{Event: EventSendResult, Result: result, ServerTime: se.ServerTime, HTTPStatus: se.HTTPStatus,
		ERSCode: se.ERSCode, RequestID: se.RequestID, CorrelationID: se.CorrelationID}
}

// NoteConflictShown audits that the conflict was shown to the clinician.
// Errors: EINVALID unless the entry is in conflict, ErrWrongUser.
func (s *Store) NoteConflictShown(ctx context.Context, id string, by triage.Identity) error {
	if err := s.sameUser(by); err != nil {
		return err
	}
	_, err := s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxShowConflict); err != nil {
			return nil, err
		}
		return []AuditRecord{{Event: EventConflictShown, Who: by, ReferralVersion: e.Conflict.Version}}, nil
	})
	return err
}

// AcknowledgeConflict records, with an audit record in the same
// transaction, that the clinician has seen that their decision was not
// applied. A conflict must be acknowledged before it is discarded or
// amended. Errors: ErrIllegalTransition unless in conflict, ErrWrongUser.
func (s *Store) AcknowledgeConflict(ctx context.Context, id string, by triage.Identity) (Entry, error) {
	if err := s.sameUser(by); err != nil {
		return Entry{}, err
	}
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxAcknowledge); err != nil {
			return nil, err
		}
		if e.Conflict == nil {
			te := &triage.OutboxTransitionError{From: e.State, Event: triage.OutboxAcknowledge}
			return nil, userError(triage.ECONFLICT, ErrIllegalTransition, errors.New("conflict without details"), te.Message())
		}
		if e.Conflict.Acknowledged {
			return nil, nil
		}
		e.Conflict.Acknowledged = true
		e.Conflict.AcknowledgedAt = s.now()
		return []AuditRecord{{Event: EventConflictAcknowledged, Who: by, ReferralVersion: e.Conflict.Version}}, nil
	})
}

func needsAck(e *Entry) error {
	if e.State == triage.OutboxConflict && (e.Conflict == nil || !e.Conflict.Acknowledged) {
		return userError(triage.EINVALID, ErrIllegalTransition, errors.New("conflict not acknowledged"),
			"Read what changed in e-RS and acknowledge the conflict first.")
	}
	return nil
}

// Discard gives up a decision that failed or met a conflict (failed or
// acknowledged conflict -> discarded), audited in the same transaction. A
// queued decision is withdrawn with Cancel. Errors: ErrIllegalTransition,
// ErrWrongUser.
func (s *Store) Discard(ctx context.Context, id string, by triage.Identity) (Entry, error) {
	if err := s.sameUser(by); err != nil {
		return Entry{}, err
	}
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		to, err := next(e.State, triage.OutboxDiscard)
		if err != nil {
			return nil, err
		}
		if err := needsAck(e); err != nil {
			return nil, err
		}
		e.State = to
		return []AuditRecord{{Event: EventDecisionDiscarded, Who: by}}, nil
	})
}

// Cancel withdraws a queued decision before it is sent (queued ->
// discarded), audited. Errors: ErrIllegalTransition if it is already being
// sent or is not queued, ErrWrongUser.
func (s *Store) Cancel(ctx context.Context, id string, by triage.Identity) (Entry, error) {
	if err := s.sameUser(by); err != nil {
		return Entry{}, err
	}
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxCancel); err != nil {
			return nil, err
		}
		e.Withdrawn = true
		return []AuditRecord{{Event: EventDecisionCancelled, Who: by}}, nil
	})
}

// Retry puts a failed decision back in the queue at the clinician's request
// (failed -> queued), audited. Errors: ErrIllegalTransition, ErrWrongUser.
func (s *Store) Retry(ctx context.Context, id string, by triage.Identity) (Entry, error) {
	if err := s.sameUser(by); err != nil {
		return Entry{}, err
	}
	return s.modify(ctx, id, func(_ *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxRetry); err != nil {
			return nil, err
		}
		e.NextAttemptAt = time.Time{}
		return []AuditRecord{{Event: EventRetryRequested, Who: by}}, nil
	})
}

// Amend replaces a queued, failed or acknowledged-conflict decision with d,
// for the same referral, in one transaction: the old entry becomes
// discarded (ReplacedBy set), d is queued (Replaces set), and both are
// audited. d.BaseVersion may be newer (re-deciding after a conflict).
// Errors: as Enqueue, plus ErrIllegalTransition and EINVALID when d is for
// another referral.
func (s *Store) Amend(ctx context.Context, id string, d triage.Decision) (Entry, error) {
	if err := s.checkDecision(&d); err != nil {
		return Entry{}, err
	}
	if s.held() {
		return Entry{}, errHeld()
	}
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	var out Entry
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		old, err := s.getEntry(tx, id, true)
		if err != nil {
			return err
		}
		if triage.NormalizeUBRN(d.UBRN) != old.UBRN {
			return userError(triage.EINVALID, nil, errors.New("amendment for another referral"),
				"An amended decision must be for the same referral. Open that referral and decide there.")
		}
		to, err := next(old.State, triage.OutboxAmend)
		if err != nil {
			return err
		}
		if err := needsAck(old); err != nil {
			return err
		}
		if d.ID == "" {
			d.ID = newID(s.now())
		}
		old.State = to
		old.ReplacedBy = d.ID
		old.Rev++
		old.UpdatedAt = s.now()
		if err := s.putEntry(tx, old); err != nil {
			return err
		}
		if err := s.clearActive(tx, refKey(s.keys.index, old.UBRN), old.ID); err != nil {
			return err
		}
		rec := AuditRecord{Event: EventDecisionAmended, Who: d.By, Note: "replaced by " + d.ID}
		fillAuditFromDecision(&rec, &old.Decision)
		if _, err := s.appendAudit(tx, rec); err != nil {
			return err
		}
		out, err = s.enqueueTx(tx, d, old.ID, AuditRecord{Event: EventDecisionCreated, Note: "amends " + old.ID})
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("amend decision: %w", err)
	}
	s.emit(Change{Kind: ChangeOutbox, UBRN: out.UBRN, DecisionID: id, State: triage.OutboxDiscarded},
		Change{Kind: ChangeOutbox, UBRN: out.UBRN, DecisionID: out.ID, State: out.State})
	return out, nil
}
