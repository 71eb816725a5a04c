package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

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
