package store

import (
	"context"
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
