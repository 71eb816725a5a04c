package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance replies (A026) and conversions (A027) wait in the
// durable outbox (outbox.db) as decisions do: saved and audited in one
// transaction before Enqueue returns, moved only as the outbox state
// machine (triage.OutboxState.Next) allows, audited at every step, sealed
// under the outbox key. They live in a bucket of their own, created on first
// write, so the referral outbox's records and schema are unchanged.

// bAdviceEntries holds the A&G outbox: decisionKey -> sealed AdviceEntry.
const bAdviceEntries = "advice-entries"

// AdviceActionKind says what an A&G outbox entry sends.
type AdviceActionKind string

// The A&G actions.
const (
	AdviceActionReply   AdviceActionKind = "reply"   // A026
	AdviceActionConvert AdviceActionKind = "convert" // A027
)

// Operation is the e-RS operation that sends the action.
func (k AdviceActionKind) Operation() string {
	if k == AdviceActionConvert {
		return "A027"
	}
	return "A026"
}

// AdviceEntry is an A&G reply or conversion on its way to e-RS: the action
// itself, what the clinician saw (BaseVersion, LastMessageID), its outbox
// state and what happened.
type AdviceEntry struct {
	ID          string           `json:"id"`
	UBRN        string           `json:"ubrn"`
	Kind        AdviceActionKind `json:"kind"`
	Summary     string           `json:"summary"`
	BaseVersion int              `json:"baseVersion"`
	// LastMessageID is the latest message the clinician had read.
	LastMessageID string             `json:"lastMessageId,omitempty"`
	By            triage.Identity    `json:"by"`
	State         triage.OutboxState `json:"state"`
	// Attempts counts sends begun.
	Attempts      int             `json:"attempts"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`
	NextAttemptAt time.Time       `json:"nextAttemptAt,omitzero"`
	CorrelationID string          `json:"correlationId"`
	LastError     *SendError      `json:"lastError,omitempty"`
	Sent          *SentResult     `json:"sent,omitempty"`
	Conflict      *AdviceConflict `json:"conflict,omitempty"`
	Rev           uint64          `json:"rev"`

	// Exactly one of Reply and Conversion is set, as Kind says.
	Reply      *triage.AdviceReply      `json:"reply,omitempty"`
	Conversion *triage.AdviceConversion `json:"conversion,omitempty"`
}

// AdviceConflict is why an A&G action was not sent: the request moved on
// after the clinician read it. NewMessages are the messages written since
// (the referrer's further information, typically), to show beside the
// unsent reply.
type AdviceConflict struct {
	Version        int                    `json:"version"`
	Category       triage.AdviceCategory  `json:"category"`
	NewMessages    []triage.AdviceMessage `json:"newMessages,omitempty"`
	Reason         string                 `json:"reason"`
	HTTPStatus     int                    `json:"httpStatus,omitempty"`
	ERSCode        string                 `json:"ersCode,omitempty"`
	RequestID      string                 `json:"requestId,omitempty"`
	SeenAt         time.Time              `json:"seenAt,omitzero"`
	Acknowledged   bool                   `json:"acknowledged,omitempty"`
	AcknowledgedAt time.Time              `json:"acknowledgedAt,omitzero"`
}

// EnqueueAdviceReply saves a reply to an A&G request in the outbox
// (queued), audited, and returns only when it is on disk. An empty r.ID is
// filled in; r.DecidedAt defaults to now. Callers validate it with
// AdviceReply.Validate first. Errors: EINVALID when incomplete,
// ErrWrongUser, ErrDecisionPending when the request already has an unsent
// action, ErrClosed.
func (s *Store) EnqueueAdviceReply(ctx context.Context, r triage.AdviceReply) (AdviceEntry, error) {
	e := AdviceEntry{Kind: AdviceActionReply, Summary: r.Summary(), BaseVersion: r.BaseVersion, LastMessageID: r.LastMessageID, By: r.By, Reply: &r}
	s.completeAdvice(&e, &r.ID, &r.UBRN, &r.DecidedAt)
	return s.enqueueAdvice(ctx, e)
}

// EnqueueAdviceConversion saves a conversion of an A&G request to a
// referral in the outbox, as EnqueueAdviceReply does.
func (s *Store) EnqueueAdviceConversion(ctx context.Context, c triage.AdviceConversion) (AdviceEntry, error) {
	e := AdviceEntry{Kind: AdviceActionConvert, Summary: c.Summary(), BaseVersion: c.BaseVersion, LastMessageID: c.LastMessageID, By: c.By, Conversion: &c}
	s.completeAdvice(&e, &c.ID, &c.UBRN, &c.DecidedAt)
	return s.enqueueAdvice(ctx, e)
}

// completeAdvice fills in the action's id (when empty), time (when zero)
// and canonical UBRN, and copies the id and UBRN to the entry.
func (s *Store) completeAdvice(e *AdviceEntry, id, ubrn *string, at *time.Time) {
	now := s.now()
	if *id == "" {
		*id = newID(now)
	}
	if at.IsZero() {
		*at = now
	}
	*ubrn = triage.NormalizeUBRN(*ubrn)
	e.ID, e.UBRN = *id, *ubrn
}

func (s *Store) enqueueAdvice(ctx context.Context, e AdviceEntry) (AdviceEntry, error) {
	bad := func(msg string) error {
		return userError(triage.EINVALID, nil, errors.New(msg), "This "+string(e.Kind)+" is incomplete and was not saved: "+msg+". Reopen the request and start again.")
	}
	switch {
	case !validID(e.ID):
		return AdviceEntry{}, bad("its id has characters that are not allowed")
	case e.UBRN == "":
		return AdviceEntry{}, bad("it names no advice and guidance request")
	case e.BaseVersion <= 0:
		return AdviceEntry{}, bad("the request version it was based on is missing")
	case e.By.IsZero():
		return AdviceEntry{}, bad("it does not say who made it")
	}
	if err := s.sameUser(e.By); err != nil {
		return AdviceEntry{}, err
	}
	if s.held() {
		return AdviceEntry{}, errHeld()
	}
	now := s.now()
	e.State, e.CreatedAt, e.UpdatedAt, e.Rev = triage.OutboxQueued, now, now, 1
	e.CorrelationID = nhsapi.NewCorrelationID()
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bAdviceEntries))
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bAdviceEntries, err)
		}
		k := decisionKey(s.keys.index, e.ID)
		if b.Get(k) != nil {
			return userError(triage.ECONFLICT, nil, errors.New("duplicate id"), "This "+string(e.Kind)+" has already been saved.")
		}
		pending := false
		if err := s.eachAdviceTx(tx, func(o *AdviceEntry) {
			pending = pending || (o.UBRN == e.UBRN && o.State.Unsent())
		}); err != nil {
			return err
		}
		if pending {
			return userError(triage.ECONFLICT, ErrDecisionPending, nil,
				"A reply or conversion for this advice and guidance request is already waiting in the outbox. Cancel or discard it first.")
		}
		if err := s.putAdvice(tx, &e); err != nil {
			return err
		}
		_, err = s.appendAudit(tx, adviceAudit(&e, AuditRecord{Event: EventDecisionCreated}))
		return err
	})
	if err != nil {
		return AdviceEntry{}, fmt.Errorf("save advice %s: %w", e.Kind, err)
	}
	s.emit(Change{Kind: ChangeAdviceOutbox, UBRN: e.UBRN, DecisionID: e.ID, State: e.State})
	return e, nil
}

// adviceAudit completes an audit record about an A&G action.
func adviceAudit(e *AdviceEntry, r AuditRecord) AuditRecord {
	if r.Who.IsZero() {
		r.Who = e.By
	}
	r.DecisionID, r.UBRN = e.ID, e.UBRN
	if r.ReferralVersion == 0 {
		r.ReferralVersion = e.BaseVersion
	}
	what := "advice and guidance " + string(e.Kind) + " (" + e.Kind.Operation() + ")"
	if r.Note == "" {
		r.Note = what
	} else {
		r.Note = what + ": " + r.Note
	}
	return r
}

func (s *Store) putAdvice(tx *bolt.Tx, e *AdviceEntry) error {
	js, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode advice outbox entry: %w", err)
	}
	k := decisionKey(s.keys.index, e.ID)
	return tx.Bucket([]byte(bAdviceEntries)).Put(k, s.obSeal.seal(bAdviceEntries, k, js))
}

// eachAdviceTx calls fn for every A&G outbox entry. A record that fails
// authentication is an ErrOutboxDamaged error: an action must never be
// lost silently.
func (s *Store) eachAdviceTx(tx *bolt.Tx, fn func(e *AdviceEntry)) error {
	b := tx.Bucket([]byte(bAdviceEntries))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var e AdviceEntry
		if err := s.obSeal.openJSON(bAdviceEntries, k, v, &e); err != nil {
			return fmt.Errorf("advice outbox entry: %w", errors.Join(errSealBroken, err))
		}
		fn(&e)
		return nil
	})
}

// AdviceEntries returns the A&G outbox entries matching the filter, oldest
// first.
func (s *Store) AdviceEntries(ctx context.Context, f EntryFilter) ([]AdviceEntry, error) {
	ubrn := triage.NormalizeUBRN(f.UBRN)
	var out []AdviceEntry
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		out = out[:0]
		return s.eachAdviceTx(tx, func(e *AdviceEntry) {
			if (len(f.States) == 0 || slices.Contains(f.States, e.State)) && (ubrn == "" || e.UBRN == ubrn) {
				out = append(out, *e)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read advice outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b AdviceEntry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// AdviceEntry returns one A&G outbox entry. Errors: ErrNotFound.
func (s *Store) AdviceEntry(ctx context.Context, id string) (AdviceEntry, error) {
	var out AdviceEntry
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		e, err := s.getAdvice(tx, id)
		if err == nil {
			out = *e
		}
		return err
	})
	return out, err
}

func (s *Store) getAdvice(tx *bolt.Tx, id string) (*AdviceEntry, error) {
	b := tx.Bucket([]byte(bAdviceEntries))
	k := decisionKey(s.keys.index, id)
	if b == nil || b.Get(k) == nil {
		return nil, errEntryNotFound()
	}
	var e AdviceEntry
	if err := s.obSeal.openJSON(bAdviceEntries, k, b.Get(k), &e); err != nil {
		return nil, fmt.Errorf("advice outbox entry: %w", errors.Join(errSealBroken, err))
	}
	return &e, nil
}

// modifyAdvice loads an entry, lets fn check and change it and name the
// audit records, then saves entry and records in one transaction.
func (s *Store) modifyAdvice(ctx context.Context, id string, fn func(e *AdviceEntry) ([]AuditRecord, error)) (AdviceEntry, error) {
	if s.held() {
		return AdviceEntry{}, errHeld()
	}
	var out AdviceEntry
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		e, err := s.getAdvice(tx, id)
		if err != nil {
			return err
		}
		recs, err := fn(e)
		if err != nil {
			return err
		}
		e.Rev++
		e.UpdatedAt = s.now()
		if err := s.putAdvice(tx, e); err != nil {
			return err
		}
		for _, r := range recs {
			if _, err := s.appendAudit(tx, adviceAudit(e, r)); err != nil {
				return err
			}
		}
		out = *e
		return nil
	})
	if err != nil {
		return AdviceEntry{}, err
	}
	s.emit(Change{Kind: ChangeAdviceOutbox, UBRN: out.UBRN, DecisionID: out.ID, State: out.State})
	return out, nil
}

// adviceStep moves the entry through the outbox state machine on the
// event, with no audit record.
func (s *Store) adviceStep(ctx context.Context, id string, ev triage.OutboxEvent, fn func(e *AdviceEntry)) (AdviceEntry, error) {
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, ev); err != nil {
			return nil, err
		}
		if fn != nil {
			fn(e)
		}
		return nil, nil
	})
}

// BeginAdviceSend moves a queued A&G action to sending and counts the
// attempt. Errors: ErrIllegalTransition unless queued.
func (s *Store) BeginAdviceSend(ctx context.Context, id string) (AdviceEntry, error) {
	return s.adviceStep(ctx, id, triage.OutboxBeginSend, func(e *AdviceEntry) { e.Attempts++ })
}

// ResumeAdviceSend counts another attempt at an action left sending, once
// re-reading the request showed the earlier attempt was not applied.
func (s *Store) ResumeAdviceSend(ctx context.Context, id string) (AdviceEntry, error) {
	return s.adviceStep(ctx, id, triage.OutboxResumeSend, func(e *AdviceEntry) { e.Attempts++ })
}

// MarkAdviceSent records that e-RS applied the action (sending -> sent),
// audited.
func (s *Store) MarkAdviceSent(ctx context.Context, id string, r SentResult) (AdviceEntry, error) {
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxMarkSent); err != nil {
			return nil, err
		}
		if r.At.IsZero() {
			r.At = s.now()
		}
		if r.CorrelationID == "" {
			r.CorrelationID = e.CorrelationID
		}
		e.Sent, e.NextAttemptAt = &r, time.Time{}
		result := "sent"
		if r.Settled {
			result = "sent (confirmed by re-reading the conversation)"
		}
		return []AuditRecord{{Event: EventSendResult, Result: result, ServerTime: r.ServerTime, HTTPStatus: r.HTTPStatus,
			RequestID: r.RequestID, CorrelationID: r.CorrelationID, ReferralVersion: r.NewVersion}}, nil
	})
}

func transitionAdvice(e *AdviceEntry, ev triage.OutboxEvent) error {
	to, err := next(e.State, ev)
	if err != nil {
		return err
	}
	e.State = to
	return nil
}

// MarkAdviceRetry records a send that may be tried again (sending ->
// queued) at next.
func (s *Store) MarkAdviceRetry(ctx context.Context, id string, se SendError, next time.Time) (AdviceEntry, error) {
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxMarkRetry); err != nil {
			return nil, err
		}
		s.fillAdviceError(e, &se)
		e.LastError, e.NextAttemptAt = &se, next
		return []AuditRecord{sendErrorAudit("retry later", &se)}, nil
	})
}

// MarkAdviceFailed records that e-RS refused the action for good (sending
// -> failed).
func (s *Store) MarkAdviceFailed(ctx context.Context, id string, se SendError) (AdviceEntry, error) {
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxMarkFailed); err != nil {
			return nil, err
		}
		s.fillAdviceError(e, &se)
		e.LastError, e.NextAttemptAt = &se, time.Time{}
		return []AuditRecord{sendErrorAudit("failed", &se)}, nil
	})
}

func (s *Store) fillAdviceError(e *AdviceEntry, se *SendError) {
	if se.At.IsZero() {
		se.At = s.now()
	}
	if se.CorrelationID == "" {
		se.CorrelationID = e.CorrelationID
	}
}

// MarkAdviceConflict records that the request moved on, so the action was
// not sent (queued or sending -> conflict), with the new messages to show.
func (s *Store) MarkAdviceConflict(ctx context.Context, id string, c AdviceConflict) (AdviceEntry, error) {
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxMarkConflict); err != nil {
			return nil, err
		}
		if c.SeenAt.IsZero() {
			c.SeenAt = s.now()
		}
		c.Acknowledged, c.AcknowledgedAt = false, time.Time{}
		e.Conflict, e.NextAttemptAt = &c, time.Time{}
		return []AuditRecord{{Event: EventSendResult, Result: "conflict: " + c.Reason, HTTPStatus: c.HTTPStatus,
			ERSCode: c.ERSCode, RequestID: c.RequestID, CorrelationID: e.CorrelationID, ReferralVersion: c.Version}}, nil
	})
}

// AcknowledgeAdviceConflict records that the clinician has seen that their
// action was not sent and why. Errors: ErrIllegalTransition unless in
// conflict, ErrWrongUser.
func (s *Store) AcknowledgeAdviceConflict(ctx context.Context, id string, by triage.Identity) (AdviceEntry, error) {
	if err := s.sameUser(by); err != nil {
		return AdviceEntry{}, err
	}
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxAcknowledge); err != nil {
			return nil, err
		}
		if e.Conflict == nil || e.Conflict.Acknowledged {
			return nil, nil
		}
		e.Conflict.Acknowledged, e.Conflict.AcknowledgedAt = true, s.now()
		return []AuditRecord{{Event: EventConflictAcknowledged, Who: by, ReferralVersion: e.Conflict.Version}}, nil
	})
}

// DiscardAdvice gives up a failed action or an acknowledged conflict (->
// discarded), audited. Errors: ErrIllegalTransition, ErrWrongUser.
func (s *Store) DiscardAdvice(ctx context.Context, id string, by triage.Identity) (AdviceEntry, error) {
	if err := s.sameUser(by); err != nil {
		return AdviceEntry{}, err
	}
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if e.State == triage.OutboxConflict && (e.Conflict == nil || !e.Conflict.Acknowledged) {
			return nil, userError(triage.EINVALID, ErrIllegalTransition, errors.New("conflict not acknowledged"),
				"Read the new messages and acknowledge the conflict first.")
		}
		if err := transitionAdvice(e, triage.OutboxDiscard); err != nil {
			return nil, err
		}
		return []AuditRecord{{Event: EventDecisionDiscarded, Who: by}}, nil
	})
}

// CancelAdvice withdraws a queued action before it is sent (queued ->
// discarded), audited. Errors: ErrIllegalTransition, ErrWrongUser.
func (s *Store) CancelAdvice(ctx context.Context, id string, by triage.Identity) (AdviceEntry, error) {
	if err := s.sameUser(by); err != nil {
		return AdviceEntry{}, err
	}
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxCancel); err != nil {
			return nil, err
		}
		return []AuditRecord{{Event: EventDecisionCancelled, Who: by}}, nil
	})
}
