package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
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

// Entry is a decision's place in the outbox: its state on the way to e-RS and
// everything the sync engine and the outbox and conflict screens need.
type Entry struct {
	ID          string              `json:"id"`
	UBRN        string              `json:"ubrn"`
	Kind        triage.DecisionKind `json:"kind"`
	Summary     string              `json:"summary"`
	BaseVersion int                 `json:"baseVersion"`
	// By is who made the decision, in which role: it is sent only under this
	// identity.
	By    triage.Identity    `json:"by"`
	State triage.OutboxState `json:"state"`
	// Attempts counts sends begun (BeginSend).
	Attempts      int       `json:"attempts"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	// CorrelationID is sent as X-Correlation-ID on every attempt.
	CorrelationID string        `json:"correlationId"`
	LastError     *SendError    `json:"lastError,omitempty"`
	Sent          *SentResult   `json:"sent,omitempty"`
	Conflict      *ConflictInfo `json:"conflict,omitempty"`
	Replaces      string        `json:"replaces,omitempty"`   // id of the decision this one amended
	ReplacedBy    string        `json:"replacedBy,omitempty"` // id of the decision that amended this one
	// Withdrawn is set when the clinician cancelled the decision before it
	// was sent (Cancel): it is discarded, but reads "Withdrawn", unlike a
	// failed or conflicting decision given up after the fact.
	Withdrawn bool            `json:"withdrawn,omitempty"`
	Rev       uint64          `json:"rev"` // bumped on every change
	Decision  triage.Decision `json:"-"`   // the decision itself, joined on read
}

// SendError is why a send did not succeed, for the clinician and for
// support. Message is plain English and contains no patient data.
type SendError struct {
	Message       string    `json:"message"`
	ERSCode       string    `json:"ersCode,omitempty"` // e.g. INVALID_REQUEST_STATE
	HTTPStatus    int       `json:"httpStatus,omitempty"`
	RequestID     string    `json:"requestId,omitempty"` // X-Request-ID from e-RS
	CorrelationID string    `json:"correlationId,omitempty"`
	At            time.Time `json:"at"`
	ServerTime    time.Time `json:"serverTime,omitzero"` // the response's Date
}

// SentResult is what e-RS returned when the decision was applied.
type SentResult struct {
	NewVersion    int       `json:"newVersion"`
	RequestID     string    `json:"requestId,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	HTTPStatus    int       `json:"httpStatus,omitempty"`
	At            time.Time `json:"at,omitzero"`         // local time; zero means now
	ServerTime    time.Time `json:"serverTime,omitzero"` // the response's Date
	// Settled is true when the outcome was established by re-reading the
	// referral after an ambiguous failure rather than from the response.
	Settled bool `json:"settled,omitempty"`
}

// ConflictInfo is what e-RS says now about a referral the decision could not
// be applied to, and whether the clinician has acknowledged it.
type ConflictInfo struct {
	Status         triage.ReferralStatus `json:"status"`
	Version        int                   `json:"version"`
	RequestID      string                `json:"requestId,omitempty"`
	CorrelationID  string                `json:"correlationId,omitempty"`
	HTTPStatus     int                   `json:"httpStatus,omitempty"`
	ERSCode        string                `json:"ersCode,omitempty"`
	SeenAt         time.Time             `json:"seenAt,omitzero"`
	ServerTime     time.Time             `json:"serverTime,omitzero"`
	Acknowledged   bool                  `json:"acknowledged,omitempty"`
	AcknowledgedAt time.Time             `json:"acknowledgedAt,omitzero"`
}

func decisionKey(indexKey []byte, id string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("decision\x00"))
	m.Write([]byte(id))
	return m.Sum(nil)[:16]
}

// next returns the state an entry in state from moves to on the event,
// as the outbox state machine (triage.OutboxState.Next) allows, or the
// store's ErrIllegalTransition error with the machine's message.
func next(from triage.OutboxState, ev triage.OutboxEvent) (triage.OutboxState, error) {
	to, err := from.Next(ev)
	if err != nil {
		var te *triage.OutboxTransitionError
		msg := "This decision cannot be changed that way. Refresh the outbox to see its current state."
		if errors.As(err, &te) {
			msg = te.Message()
		}
		return from, userError(triage.ECONFLICT, ErrIllegalTransition, err, msg)
	}
	return to, nil
}

// transition moves e through the outbox state machine on the event.
func transition(e *Entry, ev triage.OutboxEvent) error {
	to, err := next(e.State, ev)
	if err != nil {
		return err
	}
	e.State = to
	return nil
}

// checkDecision checks what the store relies on. Callers validate the
// clinical rules with Decision.Validate before enqueueing.
func (s *Store) checkDecision(d *triage.Decision) error {
	bad := func(msg string) error {
		return userError(triage.EINVALID, nil, errors.New(msg), "This decision is incomplete and was not saved: "+msg+". Reopen the referral and decide again.")
	}
	switch {
	case d.ID != "" && !validID(d.ID):
		return bad("its id has characters that are not allowed")
	case strings.TrimSpace(d.UBRN) == "":
		return bad("it names no referral")
	case !slices.Contains(triage.DecisionKinds, d.Kind):
		return bad("its kind is not known")
	case d.BaseVersion <= 0:
		return bad("the referral version it was based on is missing")
	case d.By.IsZero():
		return bad("it does not say who made it")
	}
	if d.By.SDSUserID != s.opts.UserID {
		return userError(triage.EFORBIDDEN, ErrWrongUser, nil, msgWrongUser)
	}
	return nil
}

// Enqueue saves a new decision: the decision, its outbox entry (queued, no
// attempts, a fresh correlation id) and a "decision created" audit record
// are written in one transaction, and Enqueue returns only when that
// transaction is on disk. An empty d.ID is filled with a new id;
// d.DecidedAt defaults to now.
//
// Errors: EINVALID for a structurally incomplete decision, ErrWrongUser when
// d.By is another clinician, ErrDecisionPending when the referral already has
// an unsent decision (amend or cancel it instead), ErrOutboxDamaged, ErrClosed.
func (s *Store) Enqueue(ctx context.Context, d triage.Decision) (Entry, error) {
	if err := s.checkDecision(&d); err != nil {
		return Entry{}, err
	}
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	var e Entry
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		var err error
		e, err = s.enqueueTx(tx, d, "", AuditRecord{Event: EventDecisionCreated})
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("save decision: %w", err)
	}
	s.emit(Change{Kind: ChangeOutbox, UBRN: e.UBRN, DecisionID: e.ID, State: e.State})
	return e, nil
}

func (s *Store) enqueueTx(tx *bolt.Tx, d triage.Decision, replaces string, rec AuditRecord) (Entry, error) {
	now := s.now()
	if d.ID == "" {
		d.ID = newID(now)
	}
	if d.DecidedAt.IsZero() {
		d.DecidedAt = now
	}
	d.UBRN = triage.NormalizeUBRN(d.UBRN)
	dk := decisionKey(s.keys.index, d.ID)
	if tx.Bucket([]byte(bDecisions)).Get(dk) != nil {
		return Entry{}, userError(triage.ECONFLICT, nil, errors.New("duplicate decision id"), "This decision has already been saved.")
	}
	if s.held() {
		return Entry{}, errHeld()
	}
	rk := refKey(s.keys.index, d.UBRN)
	active := tx.Bucket([]byte(bActive))
	if v := active.Get(rk); v != nil {
		if err := s.pendingReadable(tx, rk, v); err != nil {
			return Entry{}, err
		}
		return Entry{}, userError(triage.ECONFLICT, ErrDecisionPending, nil, msgPending)
	}
	e := Entry{
		ID: d.ID, UBRN: d.UBRN, Kind: d.Kind, Summary: d.Summary(), BaseVersion: d.BaseVersion,
		By: d.By, State: triage.OutboxQueued, CreatedAt: now, UpdatedAt: now,
		CorrelationID: nhsapi.NewCorrelationID(), Replaces: replaces, Rev: 1,
	}
	db, err := json.Marshal(d)
	if err != nil {
		return Entry{}, fmt.Errorf("encode decision: %w", err)
	}
	if err := tx.Bucket([]byte(bDecisions)).Put(dk, s.obSeal.seal(bDecisions, dk, db)); err != nil {
		return Entry{}, err
	}
	if err := s.putEntry(tx, &e); err != nil {
		return Entry{}, err
	}
	if err := active.Put(rk, s.obSeal.seal(bActive, rk, []byte(e.ID))); err != nil {
		return Entry{}, err
	}
	rec.Who = d.By
	fillAuditFromDecision(&rec, &d)
	if _, err := s.appendAudit(tx, rec); err != nil {
		return Entry{}, err
	}
	e.Decision = d
	return e, nil
}

func fillAuditFromDecision(rec *AuditRecord, d *triage.Decision) {
	rec.DecisionID = d.ID
	rec.UBRN = d.UBRN
	rec.Kind = d.Kind
	rec.ReasonCode = d.Reason.Code
	rec.Outcome = d.Outcome
	if rec.ReferralVersion == 0 {
		rec.ReferralVersion = d.BaseVersion
	}
}

func (s *Store) putEntry(tx *bolt.Tx, e *Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox entry: %w", err)
	}
	k := decisionKey(s.keys.index, e.ID)
	return tx.Bucket([]byte(bEntries)).Put(k, s.obSeal.seal(bEntries, k, b))
}

func (s *Store) getEntry(tx *bolt.Tx, id string, withDecision bool) (*Entry, error) {
	k := decisionKey(s.keys.index, id)
	v := tx.Bucket([]byte(bEntries)).Get(k)
	if v == nil {
		return nil, errEntryNotFound()
	}
	e, err := s.decodeEntry(k, v)
	if err != nil {
		return nil, err
	}
	if withDecision {
		if err := s.joinDecision(tx, k, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (s *Store) decodeEntry(k, v []byte) (*Entry, error) {
	var e Entry
	if err := s.obSeal.openJSON(bEntries, k, v, &e); err != nil {
		return nil, fmt.Errorf("outbox entry: %w", damaged(bEntries, k, err))
	}
	return &e, nil
}

func (s *Store) joinDecision(tx *bolt.Tx, k []byte, e *Entry) error {
	v := tx.Bucket([]byte(bDecisions)).Get(k)
	if v == nil {
		return fmt.Errorf("decision: %w", damaged(bDecisions, k, errors.New("missing")))
	}
	if err := s.obSeal.openJSON(bDecisions, k, v, &e.Decision); err != nil {
		return fmt.Errorf("decision: %w", damaged(bDecisions, k, err))
	}
	return nil
}

// pendingReadable checks that the unsent decision a referral's marker
// points at can be read: a damaged marker, or a marker pointing at a
// damaged decision, gets its own message (the clinician cannot see that
// decision in the outbox).
func (s *Store) pendingReadable(tx *bolt.Tx, rk, v []byte) error {
	id, err := s.obSeal.open(bActive, rk, v)
	if err == nil {
		k := decisionKey(s.keys.index, string(id))
		var e *Entry
		if ev := tx.Bucket([]byte(bEntries)).Get(k); ev != nil {
			if e, err = s.decodeEntry(k, ev); err == nil {
				err = s.joinDecision(tx, k, e)
			}
		}
		if err == nil {
			return nil
		}
	} else {
		err = damaged(bActive, rk, err)
	}
	s.noteDamage(damagedRecords(err))
	return userError(triage.ECONFLICT, ErrOutboxDamaged, err,
		"A decision already saved for this referral is in a damaged record and cannot be read or sent, so a new one cannot be saved for it. "+
			"Check the referral in e-RS. "+NextStep)
}

// modify loads an entry, lets fn check and change it and name the audit
// records to write, then saves entry and records in the same transaction.
func (s *Store) modify(ctx context.Context, id string, fn func(tx *bolt.Tx, e *Entry) ([]AuditRecord, error)) (Entry, error) {
	if s.held() {
		return Entry{}, errHeld()
	}
	var out Entry
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		e, err := s.getEntry(tx, id, true)
		if err != nil {
			return err
		}
		before := e.State
		recs, err := fn(tx, e)
		if err != nil {
			return err
		}
		e.Rev++
		e.UpdatedAt = s.now()
		if err := s.putEntry(tx, e); err != nil {
			return err
		}
		if before.Unsent() && !e.State.Unsent() {
			rk := refKey(s.keys.index, e.UBRN)
			if err := s.clearActive(tx, rk, e.ID); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if r.Who.IsZero() {
				r.Who = e.By
			}
			fillAuditFromDecision(&r, &e.Decision)
			if _, err := s.appendAudit(tx, r); err != nil {
				return err
			}
		}
		out = *e
		return nil
	})
	if err != nil {
		return Entry{}, err
	}
	s.emit(Change{Kind: ChangeOutbox, UBRN: out.UBRN, DecisionID: out.ID, State: out.State})
	return out, nil
}

// clearActive removes the referral's unsent-decision marker if it points at id.
func (s *Store) clearActive(tx *bolt.Tx, rk []byte, id string) error {
	b := tx.Bucket([]byte(bActive))
	v := b.Get(rk)
	if v == nil {
		return nil
	}
	cur, err := s.obSeal.open(bActive, rk, v)
	if err != nil {
		// A damaged marker is left as it is (and reported); the decision
		// it belonged to still moves on.
		s.noteDamage([]*recordError{{bucket: bActive, key: bytes.Clone(rk), err: err}})
		return nil
	}
	if string(cur) != id {
		return nil
	}
	return b.Delete(rk)
}

func (s *Store) sameUser(by triage.Identity) error {
	if by.SDSUserID != s.opts.UserID {
		return userError(triage.EFORBIDDEN, ErrWrongUser, nil, msgWrongUser)
	}
	return nil
}

// Entry returns one outbox entry with its decision. Errors: ErrNotFound.
func (s *Store) Entry(ctx context.Context, id string) (Entry, error) {
	var out Entry
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		e, err := s.getEntry(tx, id, true)
		if err != nil {
			return err
		}
		out = *e
		return nil
	})
	return out, err
}

// EntryFilter selects outbox entries; empty fields match everything.
type EntryFilter struct {
	States []triage.OutboxState
	UBRN   string
}

// Entries returns the matching entries with their decisions, oldest first.
func (s *Store) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	ubrn := triage.NormalizeUBRN(f.UBRN)
	var out []Entry
	var bad recordErrors
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		out, bad = out[:0], bad[:0]
		return tx.Bucket([]byte(bEntries)).ForEach(func(k, v []byte) error {
			e, err := s.decodeEntry(k, v)
			if err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			if len(f.States) > 0 && !slices.Contains(f.States, e.State) {
				return nil
			}
			if ubrn != "" && e.UBRN != ubrn {
				return nil
			}
			if err := s.joinDecision(tx, k, e); err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			out = append(out, *e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	s.skipped(bad)
	sortEntries(out)
	return out, nil
}

// skipped remembers damaged records a listing left out (they are reported
// by OutboxDamage, never dropped silently).
func (s *Store) skipped(bad recordErrors) {
	if len(bad) == 0 {
		return
	}
	s.log.Error("outbox records failed authentication and were left out", "records", len(bad))
	if s.noteDamage(bad) {
		s.emit(Change{Kind: ChangeOutbox})
	}
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// eachEntry calls fn for every readable entry (without its decision);
// damaged ones are remembered and left out.
func (s *Store) eachEntry(ctx context.Context, fn func(e *Entry) error) error {
	var bad recordErrors
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		bad = bad[:0]
		return tx.Bucket([]byte(bEntries)).ForEach(func(k, v []byte) error {
			e, err := s.decodeEntry(k, v)
			if err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			return fn(e)
		})
	})
	if err == nil {
		s.skipped(bad)
	}
	return err
}

// Unsent returns the decisions that have not reached e-RS (queued,
// sending, conflict, failed), oldest first.
func (s *Store) Unsent(ctx context.Context) ([]Entry, error) {
	return s.Entries(ctx, EntryFilter{States: []triage.OutboxState{
		triage.OutboxQueued, triage.OutboxSending, triage.OutboxConflict, triage.OutboxFailed}})
}

// UnsentCount counts the decisions and Advice and Guidance actions that
// have not reached e-RS, counting every damaged decision record that may
// hold one (OutboxDamage) as unsent. The exit and sign-out warnings use it.
func (s *Store) UnsentCount(ctx context.Context) (int, error) {
	n := 0
	err := s.eachEntry(ctx, func(e *Entry) error {
		if e.State.Unsent() && !s.knownDamaged(bDecisions, decisionKey(s.keys.index, e.ID)) {
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	advice, err := s.AdviceEntries(ctx, EntryFilter{})
	if err != nil {
		return n, fmt.Errorf("count unsent: %w", err)
	}
	for _, e := range advice {
		if e.State.Unsent() {
			n++
		}
	}
	d, err := s.OutboxDamage(ctx)
	return n + d.PossiblyUnsent(), err
}

// Sendable returns the queued decisions due at now that were made under
// identity who (same user, role, organisation and on-behalf-of), oldest
// first. Decisions made under another identity are held for it; none is
// sendable while the outbox is held (OutboxDamage.Held).
func (s *Store) Sendable(ctx context.Context, who triage.Identity, now time.Time) ([]Entry, error) {
	if s.held() {
		return nil, nil
	}
	es, err := s.Entries(ctx, EntryFilter{States: []triage.OutboxState{triage.OutboxQueued}})
	if err != nil {
		return nil, err
	}
	out := es[:0]
	for _, e := range es {
		if e.By.SameUser(who) && !e.NextAttemptAt.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// LatestForReferral returns the referral's most recent outbox entry that
// was not replaced by an amendment. Errors: ErrNotFound.
func (s *Store) LatestForReferral(ctx context.Context, ubrn string) (Entry, error) {
	es, err := s.Entries(ctx, EntryFilter{UBRN: ubrn})
	if err != nil {
		return Entry{}, err
	}
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].ReplacedBy == "" {
			return es[i], nil
		}
	}
	return Entry{}, errEntryNotFound()
}
