package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// AuditEvent names what an audit record is about.
type AuditEvent string

// The audit events.
const (
	EventDecisionCreated      AuditEvent = "decision-created"
	EventDecisionAmended      AuditEvent = "decision-amended"
	EventDecisionCancelled    AuditEvent = "decision-cancelled"
	EventDecisionDiscarded    AuditEvent = "decision-discarded"
	EventRetryRequested       AuditEvent = "retry-requested"
	EventSendResult           AuditEvent = "send-result"
	EventConflictShown        AuditEvent = "conflict-shown"
	EventConflictAcknowledged AuditEvent = "conflict-acknowledged"
	EventPurge                AuditEvent = "purge"
	EventWipe                 AuditEvent = "wipe"
)

// AuditRecord is one entry of the append-only audit log: who did what, when
// and what e-RS said. It is sealed on disk like everything else; the UBRN
// only ever appears inside the seal.
type AuditRecord struct {
	Seq   uint64     `json:"seq"`
	Event AuditEvent `json:"event"`
	// At is local time; ServerTime is e-RS's Date when there was a response.
	At         time.Time `json:"at"`
	ServerTime time.Time `json:"serverTime,omitzero"`
	// Who acted: SDS user id, role, ODS code and on-behalf-of.
	Who             triage.Identity      `json:"who"`
	DecisionID      string               `json:"decisionId,omitempty"`
	UBRN            string               `json:"ubrn,omitempty"`
	Kind            triage.DecisionKind  `json:"kind,omitempty"`
	ReasonCode      string               `json:"reasonCode,omitempty"`
	Outcome         triage.ReviewOutcome `json:"outcome,omitempty"`
	ReferralVersion int                  `json:"referralVersion,omitempty"`
	// Result is the outcome of a send attempt or action, in plain words.
	Result        string `json:"result,omitempty"`
	HTTPStatus    int    `json:"httpStatus,omitempty"`
	ERSCode       string `json:"ersCode,omitempty"`
	RequestID     string `json:"requestId,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
	// Note is free text without patient data (e.g. a purge reason).
	Note string `json:"note,omitempty"`
	// PrevHash is the Hash of the record before (zeros for the first).
	PrevHash []byte `json:"prevHash"`
	// Hash is SHA-256(PrevHash ‖ the record's stored JSON); not part of the
	// JSON itself.
	Hash []byte `json:"-"`
}

type auditHead struct {
	Seq  uint64 `json:"seq"`
	Hash []byte `json:"hash"`
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func (s *Store) readHead(tx *bolt.Tx) (auditHead, error) {
	v := tx.Bucket([]byte(bMeta)).Get(mAuditHead)
	if v == nil {
		return auditHead{Hash: make([]byte, sha256.Size)}, nil
	}
	pt, err := s.obSeal.open(bMeta, mAuditHead, v)
	if err != nil {
		return auditHead{}, fmt.Errorf("audit head: %w", err)
	}
	var h auditHead
	if err := json.Unmarshal(pt, &h); err != nil {
		return auditHead{}, fmt.Errorf("audit head: %w", errors.Join(errSealBroken, err))
	}
	return h, nil
}

// appendAudit chains rec onto the log inside tx.
func (s *Store) appendAudit(tx *bolt.Tx, rec AuditRecord) (AuditRecord, error) {
	head, err := s.readHead(tx)
	if err != nil {
		return rec, err
	}
	if rec.At.IsZero() {
		rec.At = s.now()
	}
	rec.Seq = head.Seq + 1
	rec.PrevHash = head.Hash
	js, err := json.Marshal(rec)
	if err != nil {
		return rec, fmt.Errorf("encode audit record: %w", err)
	}
	rec.Hash = chainHash(head.Hash, js)
	k := seqKey(rec.Seq)
	val := append(append(make([]byte, 0, len(rec.Hash)+len(js)), rec.Hash...), js...)
	if err := tx.Bucket([]byte(bAudit)).Put(k, s.obSeal.seal(bAudit, k, val)); err != nil {
		return rec, err
	}
	hb, _ := json.Marshal(auditHead{Seq: rec.Seq, Hash: rec.Hash})
	if err := tx.Bucket([]byte(bMeta)).Put(mAuditHead, s.obSeal.seal(bMeta, mAuditHead, hb)); err != nil {
		return rec, err
	}
	return rec, nil
}

func chainHash(prev, js []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(js)
	return h.Sum(nil)
}

// decodeAudit opens one stored audit value; hash and JSON are returned as
// stored.
func decodeAudit(seal *sealer, k, v []byte) (AuditRecord, []byte, error) {
	pt, err := seal.open(bAudit, k, v)
	if err != nil {
		return AuditRecord{}, nil, err
	}
	if len(pt) < sha256.Size {
		return AuditRecord{}, nil, errSealBroken
	}
	var r AuditRecord
	js := pt[sha256.Size:]
	if err := json.Unmarshal(js, &r); err != nil {
		return AuditRecord{}, nil, errors.Join(errSealBroken, err)
	}
	r.Hash = bytes.Clone(pt[:sha256.Size])
	return r, js, nil
}

// AuditError says where and how the audit log failed verification.
type AuditError struct {
	Seq     uint64 // the record at fault (0: the log as a whole)
	Problem string
}

// Error says which record failed and how.
func (e *AuditError) Error() string {
	return fmt.Sprintf("audit record %d: %s", e.Seq, e.Problem)
}

// AuditSummary is the result of a successful VerifyAudit.
type AuditSummary struct {
	Records uint64
	Head    []byte // hash of the last record
}

// VerifyAudit checks the whole audit log: every record authenticates under
// its own key (so none was edited or moved), records run 1, 2, 3... with no
// gap (none deleted or reordered), each stores the hash of the one before,
// each hash matches its content, and the last record is the recorded head
// (none cut off the end).
//
// Errors: a *triage.Error wrapping ErrAuditBroken and an *AuditError.
func (s *Store) VerifyAudit(ctx context.Context) (AuditSummary, error) {
	var sum AuditSummary
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		var err error
		sum, err = verifyAuditTx(tx, s.obSeal, func(tx *bolt.Tx) (auditHead, error) { return s.readHead(tx) })
		return err
	})
	var ae *AuditError
	if errors.As(err, &ae) {
		s.log.Error("audit log failed verification", "seq", ae.Seq, "problem", ae.Problem)
		return sum, userError(triage.EINTERNAL, ErrAuditBroken, err,
			"The audit log of your decisions failed its integrity check. Do not delete anything; contact your IT service desk.")
	}
	return sum, err
}

func verifyAuditTx(tx *bolt.Tx, seal *sealer, head func(*bolt.Tx) (auditHead, error)) (AuditSummary, error) {
	prev := make([]byte, sha256.Size)
	var want uint64 = 1
	c := tx.Bucket([]byte(bAudit)).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return AuditSummary{}, &AuditError{Seq: want, Problem: "a record has a malformed key"}
		}
		seq := binary.BigEndian.Uint64(k)
		if seq != want {
			return AuditSummary{}, &AuditError{Seq: want, Problem: fmt.Sprintf("record missing (next stored is %d)", seq)}
		}
		r, js, err := decodeAudit(seal, k, v)
		if err != nil {
			return AuditSummary{}, &AuditError{Seq: seq, Problem: "record was altered or moved (it does not authenticate)"}
		}
		if r.Seq != seq {
			return AuditSummary{}, &AuditError{Seq: seq, Problem: fmt.Sprintf("record says it is number %d", r.Seq)}
		}
		if !bytes.Equal(r.PrevHash, prev) {
			return AuditSummary{}, &AuditError{Seq: seq, Problem: "does not follow the record before it (chain broken)"}
		}
		if !bytes.Equal(chainHash(prev, js), r.Hash) {
			return AuditSummary{}, &AuditError{Seq: seq, Problem: "content does not match its hash"}
		}
		prev = r.Hash
		want++
	}
	h, err := head(tx)
	if err != nil {
		return AuditSummary{}, &AuditError{Seq: 0, Problem: "the log's head record does not authenticate"}
	}
	if h.Seq != want-1 || !bytes.Equal(h.Hash, prev) {
		return AuditSummary{}, &AuditError{Seq: want, Problem: fmt.Sprintf("log ends at record %d but %d were written", want-1, h.Seq)}
	}
	return AuditSummary{Records: want - 1, Head: prev}, nil
}

// AuditRecords returns up to limit audit records from sequence number from
// (1 is the first), in order; limit <= 0 means all. Each record is checked
// to authenticate; use VerifyAudit to check the chain.
func (s *Store) AuditRecords(ctx context.Context, from uint64, limit int) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bAudit)).Cursor()
		for k, v := c.Seek(seqKey(max(from, 1))); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			r, _, err := decodeAudit(s.obSeal, k, v)
			if err != nil {
				return fmt.Errorf("audit record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// RecordAudit appends an audit record for an event the store does not see
// itself (for example a conflict shown in a dialog). Who must be this
// store's user. Seq, PrevHash and Hash are filled in; At defaults to now.
func (s *Store) RecordAudit(ctx context.Context, rec AuditRecord) (AuditRecord, error) {
	if err := s.sameUser(rec.Who); err != nil {
		return rec, err
	}
	var out AuditRecord
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		var err error
		out, err = s.appendAudit(tx, rec)
		return err
	})
	return out, err
}
