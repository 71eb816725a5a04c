package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Record-level damage. Bit rot or a disk fault can spoil one value inside a
// file whose pages are otherwise sound: bbolt reads it, but it fails
// authentication. Such a record is never rewritten, repaired or deleted in
// the outbox: it is reported, by every reader, with what its readable
// neighbours and the audit log say about it, and the rest of the outbox
// keeps working. In the cache a damaged record is dropped and downloaded
// again (see dropCacheRecords).

// DamagedRecord is one record that failed authentication, with what could
// be learnt about it. UBRN is patient-identifying: show it only where
// patient data may be shown (never in a banner or a log).
type DamagedRecord struct {
	// File is OutboxFile or CacheFile; Bucket the bucket it is in; Key its
	// record key in hex (no patient data).
	File   string `json:"file"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// What is the record in plain English ("a decision's outbox entry").
	What string `json:"what"`
	// What its readable neighbours or the audit log say: the decision it
	// belongs to, its referral, kind and state, when it was made, and its
	// last known status. Empty when nothing names it.
	DecisionID string              `json:"decisionId,omitempty"`
	UBRN       string              `json:"ubrn,omitempty"`
	Kind       triage.DecisionKind `json:"kind,omitempty"`
	State      triage.OutboxState  `json:"state,omitempty"`
	CreatedAt  time.Time           `json:"createdAt,omitzero"`
	Status     string              `json:"status,omitempty"`
	AuditSeq   uint64              `json:"auditSeq,omitempty"`
	// PossiblyUnsent is true when the record may hold a decision that has
	// not reached e-RS: count it as unsent and check the referral in e-RS.
	PossiblyUnsent bool `json:"possiblyUnsent,omitempty"`
	// Trail is the audit log's record of the decision, oldest first.
	Trail []AuditRecord `json:"auditTrail,omitempty"`
}

// OutboxDamage is what is known about damaged records in outbox.db.
type OutboxDamage struct {
	Records []DamagedRecord `json:"records"`
	// Held is true when nothing can be saved or sent safely: the audit
	// log's head record is damaged, so no change could be audited. Every
	// decision then stays where it is until the file is set aside.
	Held bool `json:"held,omitempty"`
}

// Damaged reports whether any record is damaged.
func (d OutboxDamage) Damaged() bool { return len(d.Records) > 0 }

// PossiblyUnsent counts damaged records that may hold an unsent decision.
func (d OutboxDamage) PossiblyUnsent() int {
	n := 0
	for _, r := range d.Records {
		if r.PossiblyUnsent {
			n++
		}
	}
	return n
}

// NextStep is what to do about damaged records, in plain English.
const NextStep = "Run 'triagectl doctor' to see each damaged record, export what can be read with 'triagectl doctor --export FILE', and check the referrals named there in e-RS."

// Summary is the verdict every screen and command gives, in plain English
// and without patient data ("" when nothing is damaged).
func (d OutboxDamage) Summary() string {
	if !d.Damaged() {
		return ""
	}
	n := len(d.Records)
	s := fmt.Sprintf("%d saved record(s) in the file of your decisions are damaged and cannot be read", n)
	if u := d.PossiblyUnsent(); u > 0 {
		s += fmt.Sprintf("; %d of them may be decision(s) that have not reached e-RS", u)
	}
	s += ". "
	if d.Held {
		s += "Nothing can be sent or saved until the file is set aside: your queued decisions are held, not lost. "
	} else {
		s += "Your other decisions are sent as normal; the damaged ones cannot be sent. "
	}
	return s + NextStep
}

// Lines describes each damaged record, one line each, naming the referral
// where it is known (patient-identifying: for the outbox screen, the
// command line and doctor only).
func (d OutboxDamage) Lines() []string {
	out := make([]string, 0, len(d.Records))
	for _, r := range d.Records {
		out = append(out, r.Line())
	}
	return out
}

// Line describes the record in one line.
func (r DamagedRecord) Line() string {
	var b strings.Builder
	b.WriteString(r.What)
	var facts []string
	if r.UBRN != "" {
		facts = append(facts, "referral "+r.UBRN)
	}
	if r.Kind != "" {
		facts = append(facts, r.Kind.Label())
	}
	if !r.CreatedAt.IsZero() {
		facts = append(facts, "made "+r.CreatedAt.Local().Format("2 Jan 2006 15:04"))
	}
	if r.Status != "" {
		facts = append(facts, r.Status)
	}
	if len(facts) > 0 {
		b.WriteString(": " + strings.Join(facts, ", "))
	} else if r.Bucket != bAudit && r.Bucket != bMeta {
		b.WriteString(": nothing readable names it")
	}
	return b.String()
}

// damagedKey identifies a damaged record.
type damagedKey struct {
	bucket string
	key    string // raw key bytes as a string
}

// recordError is a record that failed authentication, in the chain of the
// error a read returns; it wraps errSealBroken.
type recordError struct {
	bucket string
	key    []byte
	err    error
}

func (e *recordError) Error() string {
	return fmt.Sprintf("%s record %x: %v", e.bucket, e.key, e.err)
}

func (e *recordError) Unwrap() []error { return []error{e.err, errSealBroken} }

func damaged(bucket string, key []byte, err error) error {
	if err == nil {
		err = errSealBroken
	}
	return &recordError{bucket: bucket, key: bytes.Clone(key), err: err}
}

// recordErrors collects every damaged record found by one read.
type recordErrors []*recordError

func (e recordErrors) Error() string {
	parts := make([]string, len(e))
	for i, r := range e {
		parts[i] = r.Error()
	}
	return strings.Join(parts, "; ")
}

func (e recordErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, r := range e {
		out[i] = r
	}
	return out
}

// damagedRecords lists the damaged records in err's chain.
func damagedRecords(err error) []*recordError {
	var out []*recordError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *recordError:
			out = append(out, e)
		case recordErrors:
			out = append(out, e...)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// outboxReader reads outbox records with a sealer and the index key, for
// the Store and for doctor (which has only the keys).
type outboxReader struct {
	se    *sealer
	index []byte
}

// scan tries every record of the outbox and returns those that fail.
func (r outboxReader) scan(tx *bolt.Tx) []damagedKey {
	var bad []damagedKey
	note := func(bucket string, k []byte) { bad = append(bad, damagedKey{bucket, string(k)}) }
	for _, name := range []string{bEntries, bDecisions, bActive, bAudit} {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue
		}
		_ = b.ForEach(func(k, v []byte) error {
			if !r.readable(name, k, v) {
				note(name, k)
			}
			return nil
		})
	}
	if m := tx.Bucket([]byte(bMeta)); m != nil {
		for _, k := range [][]byte{mKeyCheck, mAuditHead} {
			if v := m.Get(k); v != nil && !r.readable(bMeta, k, v) {
				note(bMeta, k)
			}
		}
	}
	return bad
}

// anyReadable reports whether any decision, entry or audit record (or the
// audit head) opens: the key is right even if the key check does not.
func (r outboxReader) anyReadable(tx *bolt.Tx) bool {
	for _, name := range []string{bAudit, bEntries, bDecisions} {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue
		}
		found := false
		_ = b.ForEach(func(k, v []byte) error {
			if r.readable(name, k, v) {
				found = true
				return errStop
			}
			return nil
		})
		if found {
			return true
		}
	}
	if m := tx.Bucket([]byte(bMeta)); m != nil {
		if v := m.Get(mAuditHead); v != nil && r.readable(bMeta, mAuditHead, v) {
			return true
		}
	}
	return false
}

var errStop = errors.New("stop")

// readable reports whether one stored value authenticates and decodes.
func (r outboxReader) readable(bucket string, k, v []byte) bool {
	switch bucket {
	case bAudit:
		_, _, err := decodeAudit(r.se, k, v)
		return err == nil
	case bEntries:
		var e Entry
		return r.se.openJSON(bucket, k, v, &e) == nil
	case bDecisions:
		var d triage.Decision
		return r.se.openJSON(bucket, k, v, &d) == nil
	case bMeta:
		pt, err := r.se.open(bucket, k, v)
		if err != nil {
			return false
		}
		if bytes.Equal(k, mAuditHead) {
			var h auditHead
			return json.Unmarshal(pt, &h) == nil
		}
		return true
	}
	_, err := r.se.open(bucket, k, v)
	return err == nil
}

// auditIndex is what the readable audit records say, by the record keys
// they map to.
type auditIndex struct {
	byDecision map[string][]AuditRecord // decisionKey -> trail
	byRef      map[string]string        // refKey -> decision id of the latest decision
	bySeq      map[uint64]AuditRecord
}

func (r outboxReader) indexAudit(tx *bolt.Tx) auditIndex {
	ix := auditIndex{byDecision: map[string][]AuditRecord{}, byRef: map[string]string{}, bySeq: map[uint64]AuditRecord{}}
	b := tx.Bucket([]byte(bAudit))
	if b == nil {
		return ix
	}
	_ = b.ForEach(func(k, v []byte) error {
		a, _, err := decodeAudit(r.se, k, v)
		if err != nil {
			return nil
		}
		ix.add(r.index, a)
		return nil
	})
	return ix
}

func (ix auditIndex) add(index []byte, a AuditRecord) {
	ix.bySeq[a.Seq] = a
	if a.DecisionID == "" {
		return
	}
	dk := string(decisionKey(index, a.DecisionID))
	ix.byDecision[dk] = append(ix.byDecision[dk], a)
	if a.UBRN != "" && a.Event == EventDecisionCreated {
		ix.byRef[string(refKey(index, a.UBRN))] = a.DecisionID
	}
}

// trailStatus says what an audit trail shows happened to a decision, and
// whether it may still be unsent.
func trailStatus(trail []AuditRecord) (string, bool) {
	status, unsent := "created, no send result: possibly unsent", true
	for _, a := range trail {
		switch a.Event {
		case EventSendResult:
			switch {
			case strings.HasPrefix(a.Result, "sent"):
				status, unsent = "sent to e-RS (per the audit log)", false
			case strings.HasPrefix(a.Result, "conflict"):
				status, unsent = "not applied: "+a.Result, true
			case a.Result == "failed":
				status, unsent = "refused by e-RS", true
			default:
				status, unsent = "tried, will be retried: possibly unsent", true
			}
		case EventDecisionCancelled:
			status, unsent = "cancelled", false
		case EventDecisionDiscarded:
			status, unsent = "discarded", false
		case EventDecisionAmended:
			status, unsent = "replaced by an amended decision", false
		}
	}
	return status, unsent
}

// name describes a damaged record from its readable neighbours and the
// audit index.
func (r outboxReader) name(tx *bolt.Tx, ix auditIndex, d damagedKey) DamagedRecord {
	k := []byte(d.key)
	rec := DamagedRecord{File: OutboxFile, Bucket: d.bucket, Key: hex.EncodeToString(k)}
	fromTrail := func(trail []AuditRecord) {
		if len(trail) == 0 {
			return
		}
		rec.Trail = trail
		first := trail[0]
		rec.DecisionID, rec.UBRN, rec.Kind = first.DecisionID, first.UBRN, first.Kind
		if first.Event == EventDecisionCreated {
			rec.CreatedAt = first.At
		}
		rec.Status, rec.PossiblyUnsent = trailStatus(trail)
	}
	switch d.bucket {
	case bEntries:
		rec.What = "a decision's place in the outbox"
		rec.PossiblyUnsent = true
		rec.Status = "nothing readable says whether it was sent: possibly unsent"
		if v := tx.Bucket([]byte(bDecisions)).Get(k); v != nil {
			var dec triage.Decision
			if r.se.openJSON(bDecisions, k, v, &dec) == nil {
				rec.DecisionID, rec.UBRN, rec.Kind, rec.CreatedAt = dec.ID, dec.UBRN, dec.Kind, dec.DecidedAt
			}
		}
		fromTrail(ix.byDecision[d.key])
	case bDecisions:
		rec.What = "a decision"
		rec.PossiblyUnsent = true
		if v := tx.Bucket([]byte(bEntries)).Get(k); v != nil {
			if pt, err := r.se.open(bEntries, k, v); err == nil {
				var e Entry
				if json.Unmarshal(pt, &e) == nil {
					rec.DecisionID, rec.UBRN, rec.Kind, rec.State, rec.CreatedAt = e.ID, e.UBRN, e.Kind, e.State, e.CreatedAt
					rec.Trail = ix.byDecision[d.key]
					rec.PossiblyUnsent = e.State.Unsent()
					rec.Status = e.State.Phrase() + ": its content cannot be read, so it cannot be sent"
					break
				}
			}
		}
		if rec.DecisionID == "" {
			fromTrail(ix.byDecision[d.key])
		}
	case bActive:
		rec.What = "a referral's marker of an unsent decision"
		if id, ok := ix.byRef[d.key]; ok {
			trail := ix.byDecision[string(decisionKey(r.index, id))]
			if len(trail) > 0 {
				rec.UBRN, rec.DecisionID = trail[0].UBRN, id
			}
		}
		rec.Status = "no new decision can be saved for this referral until the file is set aside"
	case bAudit:
		rec.What = "an audit record"
		if len(k) == 8 {
			rec.AuditSeq = binary.BigEndian.Uint64(k)
			rec.What = fmt.Sprintf("audit record %d", rec.AuditSeq)
			before, after := ix.bySeq[rec.AuditSeq-1], ix.bySeq[rec.AuditSeq+1]
			switch {
			case !before.At.IsZero() && !after.At.IsZero():
				rec.Status = fmt.Sprintf("written between %s and %s", before.At.Local().Format("2 Jan 15:04:05"), after.At.Local().Format("2 Jan 15:04:05"))
			case !before.At.IsZero():
				rec.Status = "written after " + before.At.Local().Format("2 Jan 15:04:05")
			}
		}
	case bMeta:
		switch d.key {
		case string(mAuditHead):
			rec.What = "the audit log's head (its last record's number and hash)"
			rec.Status = "no change can be audited, so nothing can be saved or sent"
		case string(mKeyCheck):
			rec.What = "the key check"
			rec.Status = "the other records open with your key, so nothing else depends on it"
		default:
			rec.What = "a bookkeeping record"
		}
	}
	return rec
}

// describe names every damaged record and says whether the outbox is held.
func (r outboxReader) describe(tx *bolt.Tx, keys []damagedKey) OutboxDamage {
	d := OutboxDamage{Records: []DamagedRecord{}}
	if len(keys) == 0 {
		return d
	}
	ix := r.indexAudit(tx)
	for _, k := range keys {
		d.Records = append(d.Records, r.name(tx, ix, k))
		if k.bucket == bMeta && k.key == string(mAuditHead) {
			d.Held = true
		}
	}
	slices.SortFunc(d.Records, func(a, b DamagedRecord) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return d
}

// noteDamage remembers damaged outbox records a read came across. It
// reports whether any was new.
func (s *Store) noteDamage(recs []*recordError) bool {
	s.damMu.Lock()
	defer s.damMu.Unlock()
	added := false
	for _, r := range recs {
		k := damagedKey{r.bucket, string(r.key)}
		if !slices.Contains(s.damaged, k) {
			s.damaged = append(s.damaged, k)
			added = true
		}
	}
	return added
}

func (s *Store) damagedKeys() []damagedKey {
	s.damMu.Lock()
	defer s.damMu.Unlock()
	return slices.Clone(s.damaged)
}

// isDamaged reports whether the record is known to be damaged.
func (s *Store) knownDamaged(bucket string, k []byte) bool {
	s.damMu.Lock()
	defer s.damMu.Unlock()
	return slices.Contains(s.damaged, damagedKey{bucket, string(k)})
}

// held reports whether the outbox is held (its audit head is damaged).
func (s *Store) held() bool { return s.knownDamaged(bMeta, mAuditHead) }

// OutboxDamage says which records of the outbox are damaged (found when
// the store opened, or by a read since), naming each as far as its
// readable neighbours and the audit log allow. Its zero value (no
// records) means none is known.
func (s *Store) OutboxDamage(ctx context.Context) (OutboxDamage, error) {
	keys := s.damagedKeys()
	if len(keys) == 0 {
		return OutboxDamage{Records: []DamagedRecord{}}, nil
	}
	var d OutboxDamage
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		d = s.obReader().describe(tx, keys)
		return nil
	})
	return d, err
}

func (s *Store) obReader() outboxReader { return outboxReader{se: s.obSeal, index: s.keys.index} }

// errHeld refuses a change while the outbox is held.
func errHeld() error {
	return userError(triage.EINTERNAL, ErrOutboxDamaged, errors.New("audit head damaged"),
		"Nothing can be saved or sent because a damaged record in the file of your decisions stops changes from being audited. "+
			"Your queued decisions are held, not lost. "+NextStep+" Then set the file aside with 'triagectl doctor --export FILE --set-aside-outbox'.")
}

// msgRecordDamaged is the error of a read that met a damaged record.
const msgRecordDamaged = "A saved decision is damaged and cannot be read, so it cannot be sent. Your other decisions are not affected. " + NextStep
