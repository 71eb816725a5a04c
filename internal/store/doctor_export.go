package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ExportWarning heads every export: it holds patient identifiers.
const ExportWarning = "This file contains patient identifiers (UBRNs) and clinical comments from Triage Desk decisions. " +
	"Keep it on an encrypted drive, share it only with the people who need it, and delete it when the decisions are resolved."

// ExportedEntry is one recovered decision with its outbox state.
type ExportedEntry struct {
	Entry    Entry           `json:"entry"`
	Decision triage.Decision `json:"decision"`
	// DecisionMissing is true when the outbox entry was recovered but the
	// decision itself was not.
	DecisionMissing bool `json:"decisionMissing,omitempty"`
}

// Export is what could be read from an outbox.db, for triagectl doctor.
type Export struct {
	Warning     string          `json:"warning"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Source      string          `json:"source"`
	Method      string          `json:"method"`
	Decisions   []ExportedEntry `json:"decisions"`
	// OrphanDecisions were recovered without their outbox entry.
	OrphanDecisions []triage.Decision `json:"orphanDecisions,omitempty"`
	// Reconstructed are decisions the audit log records whose outbox entry
	// could not be read (damaged, or lost with a cut or damaged file),
	// with what the log says happened to each: "created, no send result:
	// possibly unsent" means check the referral in e-RS.
	Reconstructed []ReconstructedDecision `json:"reconstructedFromAudit,omitempty"`
	// Damaged names the damaged records of a file whose pages are sound
	// (read through the database), each with its audit trail.
	Damaged []DamagedRecord `json:"damagedRecords,omitempty"`
	Audit   []AuditRecord   `json:"audit"`
	// AuditCheck says how far the recovered audit chain verifies, and
	// whether it ends where the log's head says (AuditCut when it ends
	// early).
	AuditCheck string `json:"auditCheck"`
	AuditCut   bool   `json:"auditCut,omitempty"`
	// Unreadable counts records that did not authenticate.
	Unreadable int      `json:"unreadable"`
	Notes      []string `json:"notes,omitempty"`
}

// ReconstructedDecision is a decision known only from the audit log.
type ReconstructedDecision struct {
	DecisionID      string               `json:"decisionId"`
	UBRN            string               `json:"ubrn"`
	Kind            triage.DecisionKind  `json:"kind"`
	ReasonCode      string               `json:"reasonCode,omitempty"`
	Outcome         triage.ReviewOutcome `json:"outcome,omitempty"`
	ReferralVersion int                  `json:"referralVersion,omitempty"`
	By              triage.Identity      `json:"by"`
	CreatedAt       time.Time            `json:"createdAt,omitzero"`
	// Status is what the log shows happened last; PossiblyUnsent is true
	// unless it shows the decision sent, cancelled, discarded or replaced.
	Status         string `json:"status"`
	PossiblyUnsent bool   `json:"possiblyUnsent"`
	// DecisionRecovered is true when the decision itself was read (it is
	// in OrphanDecisions).
	DecisionRecovered bool          `json:"decisionRecovered,omitempty"`
	Trail             []AuditRecord `json:"auditTrail"`
}

// PossiblyUnsent counts the decisions of the export that may not have
// reached e-RS: recovered entries in an unsent state, and decisions
// reconstructed from the audit log without a send result.
func (ex *Export) PossiblyUnsent() int {
	recovered, reconstructed := ex.UnsentCounts()
	return recovered + reconstructed
}

// UnsentCounts counts the recovered entries in an unsent state and the
// reconstructed decisions that may be unsent.
func (ex *Export) UnsentCounts() (recovered, reconstructed int) {
	for _, d := range ex.Decisions {
		if d.Entry.State.Unsent() {
			recovered++
		}
	}
	for _, r := range ex.Reconstructed {
		if r.PossiblyUnsent {
			reconstructed++
		}
	}
	return recovered, reconstructed
}

// ExportOutbox reads whatever can be read from the outbox.db in dir (a user
// folder) with the user's key, without changing the file. A healthy file is
// read through bbolt; a damaged one is scanned page by page, keeping only
// records that authenticate under the key, so nothing forged or garbled is
// reported. Several copies of an entry can survive in a damaged file; the
// one with the highest revision is reported.
//
// Errors: ErrKeychainUnavailable or ErrKeyNotFound (no key, nothing can be
// read), ErrAlreadyRunning (Triage Desk has the file open), or the file
// cannot be read at all.
func ExportOutbox(ctx context.Context, dir string, keys KeyProvider, now time.Time) (*Export, error) {
	path := filepath.Join(dir, OutboxFile)
	userDir := filepath.Base(dir)
	mk, err := keys.Get(ctx, MasterKeyAccount(userDir))
	if err != nil {
		return nil, fmt.Errorf("export: read key: %w", err)
	}
	ks, err := deriveKeys(mk)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	ex := &Export{Warning: ExportWarning, GeneratedAt: now, Source: path, Decisions: []ExportedEntry{}, Audit: []AuditRecord{}}
	rec := newRecovery(ks, userDir)

	db, err := openBolt(path, 500*time.Millisecond, true)
	if errors.Is(err, ErrAlreadyRunning) {
		return nil, fmt.Errorf("export: %w", err)
	}
	var de *damagedError
	if errors.As(err, &de) && de.short {
		// The end of the file is gone: so may be the latest copy of the
		// audit log's head, and any head found is not trusted to be it.
		rec.cut = true
		ex.Notes = append(ex.Notes, "The file's end was cut off ("+de.reason+"): the latest records, and decisions made last, may be missing.")
	}
	healthy := err == nil && checkBolt(db) == nil
	if healthy {
		ex.Method = "database"
		err = guard(func() error {
			return db.View(func(tx *bolt.Tx) error {
				for _, name := range []string{bEntries, bDecisions, bAudit} {
					if b := tx.Bucket([]byte(name)); b != nil {
						_ = b.ForEach(func(k, v []byte) error {
							if !rec.add(name, k, v) {
								rec.unreadable++
							}
							return nil
						})
					}
				}
				if m := tx.Bucket([]byte(bMeta)); m != nil {
					if v := m.Get(mAuditHead); v != nil {
						rec.add(bMeta, mAuditHead, v)
					}
				}
				ob := outboxReader{se: rec.audit, index: ks.index}
				ex.Damaged = ob.describe(tx, ob.scan(tx)).Records
				return nil
			})
		})
		if err != nil {
			healthy = false
			ex.Notes = append(ex.Notes, "Reading through the database failed ("+err.Error()+"); the file was scanned instead.")
			rec = newRecovery(ks, userDir)
		}
	}
	closeQuietly(db)
	if !healthy {
		ex.Method = "page scan of a damaged file"
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("export: read %s: %w", OutboxFile, err)
		}
		scanLeaves(data, func(k, v []byte) {
			if bytes.Equal(k, mAuditHead) && rec.add(bMeta, k, v) {
				return
			}
			for _, name := range []string{bEntries, bDecisions, bAudit} {
				if rec.add(name, k, v) {
					return
				}
			}
			rec.unreadable++
		})
		ex.Notes = append(ex.Notes, "The file is damaged. Only records that authenticate under your key are listed; "+
			"some may be older copies, and recent changes may be missing. Check each decision in e-RS.")
	}
	rec.fill(ex)
	return ex, nil
}

// recovery collects authenticated records.
type recovery struct {
	entry, decision, audit *sealer
	entries                map[string]Entry
	decisions              map[string]triage.Decision
	audits                 map[uint64]auditCopy
	head                   *auditHead // the highest copy of the log's head that authenticates
	cut                    bool       // the file's end is gone: head may not be the latest
	index                  []byte
	unreadable             int
}

type auditCopy struct {
	rec AuditRecord
	js  []byte
}

func newRecovery(ks keyset, userDir string) *recovery {
	se, _ := newSealer(ks.outbox, userDir, OutboxSchemaVersion)
	return &recovery{entry: se, decision: se, audit: se, index: ks.index,
		entries: map[string]Entry{}, decisions: map[string]triage.Decision{}, audits: map[uint64]auditCopy{}}
}

// add tries k/v as a record of bucket; it reports whether it authenticated.
func (r *recovery) add(bucket string, k, v []byte) bool {
	switch bucket {
	case bEntries:
		var e Entry
		if r.entry.openJSON(bEntries, k, v, &e) != nil {
			return false
		}
		if old, ok := r.entries[e.ID]; !ok || e.Rev > old.Rev {
			r.entries[e.ID] = e
		}
	case bDecisions:
		var d triage.Decision
		if r.decision.openJSON(bDecisions, k, v, &d) != nil {
			return false
		}
		r.decisions[d.ID] = d
	case bAudit:
		a, js, err := decodeAudit(r.audit, k, v)
		if err != nil {
			return false
		}
		r.audits[a.Seq] = auditCopy{a, bytes.Clone(js)}
	case bMeta:
		var h auditHead
		if r.audit.openJSON(bMeta, k, v, &h) != nil {
			return false
		}
		if r.head == nil || h.Seq > r.head.Seq {
			r.head = &h
		}
	default:
		return false
	}
	return true
}

func (r *recovery) fill(ex *Export) {
	for id, e := range r.entries {
		d, ok := r.decisions[id]
		ex.Decisions = append(ex.Decisions, ExportedEntry{Entry: e, Decision: d, DecisionMissing: !ok})
	}
	slices.SortFunc(ex.Decisions, func(a, b ExportedEntry) int {
		if c := a.Entry.CreatedAt.Compare(b.Entry.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Entry.ID, b.Entry.ID)
	})
	for id, d := range r.decisions {
		if _, ok := r.entries[id]; !ok {
			ex.OrphanDecisions = append(ex.OrphanDecisions, d)
		}
	}
	slices.SortFunc(ex.OrphanDecisions, func(a, b triage.Decision) int { return strings.Compare(a.ID, b.ID) })
	seqs := make([]uint64, 0, len(r.audits))
	for s := range r.audits {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	prev := make([]byte, sha256.Size)
	verified := uint64(0)
	ix := auditIndex{byDecision: map[string][]AuditRecord{}, byRef: map[string]string{}, bySeq: map[uint64]AuditRecord{}}
	for i, s := range seqs {
		a := r.audits[s]
		ex.Audit = append(ex.Audit, a.rec)
		ix.add(r.index, a.rec)
		if uint64(i+1) == s && verified == uint64(i) && bytes.Equal(a.rec.PrevHash, prev) && bytes.Equal(chainHash(prev, a.js), a.rec.Hash) {
			verified = s
			prev = a.rec.Hash
		}
	}
	head := r.head
	if r.cut {
		head = nil
	}
	ex.AuditCheck, ex.AuditCut = auditVerdict(len(seqs), verified, prev, head)
	if len(seqs) == 0 && ex.Method != "database" {
		ex.AuditCheck = "No audit records could be read from the damaged file, so decisions may be missing from this export: check the referrals in e-RS."
		ex.AuditCut = true
	}
	r.reconstruct(ex, ix)
	for i := range ex.Damaged {
		if ex.Damaged[i].Trail == nil && ex.Damaged[i].DecisionID != "" {
			ex.Damaged[i].Trail = ix.byDecision[string(decisionKey(r.index, ex.Damaged[i].DecisionID))]
		}
	}
	ex.Unreadable = r.unreadable
}

// auditVerdict says how far a recovered audit chain verifies: read records,
// the last record the chain verifies to (and its hash), and the log's head
// if it could be read. A chain is only "verified" when it reaches the head;
// one that ends before the head says is reported as cut.
func auditVerdict(read int, verified uint64, lastHash []byte, head *auditHead) (string, bool) {
	switch {
	case read == 0 && (head == nil || head.Seq == 0):
		return "No audit records could be read.", head != nil && head.Seq > 0
	case head != nil && head.Seq == verified && uint64(read) == verified && bytes.Equal(head.Hash, lastHash):
		return fmt.Sprintf("All %d audit records read; the chain from the first to the last verifies, and the last is the last one written.", read), false
	case head != nil && head.Seq > verified:
		return fmt.Sprintf("The audit log is cut: %d of the %d records written were read, and the chain verifies from record 1 to %d only; "+
			"records %d to %d are missing or damaged. Decisions recorded there may be missing from this export: check the referrals in e-RS.",
			read, head.Seq, verified, verified+1, head.Seq), true
	case head != nil:
		return fmt.Sprintf("%d audit records read; the chain verifies from record 1 to %d only: later records may be damaged or out of order.", read, verified), true
	}
	return fmt.Sprintf("%d audit records read; the chain verifies from record 1 to %d, but it cannot be confirmed that record %d was the last one written "+
		"(the log's head is unreadable, or the file's end was cut off), so later records may be missing: check the referrals in e-RS.", read, verified, verified), true
}

// reconstruct lists the decisions the audit log records whose outbox
// entry was not recovered.
func (r *recovery) reconstruct(ex *Export, ix auditIndex) {
	for _, trail := range ix.byDecision {
		id := trail[0].DecisionID
		if _, ok := r.entries[id]; ok {
			continue
		}
		rd := ReconstructedDecision{DecisionID: id, Trail: trail}
		for _, a := range trail {
			if rd.UBRN == "" {
				rd.UBRN = a.UBRN
			}
			if a.Event == EventDecisionCreated {
				rd.Kind, rd.ReasonCode, rd.Outcome, rd.ReferralVersion, rd.By, rd.CreatedAt =
					a.Kind, a.ReasonCode, a.Outcome, a.ReferralVersion, a.Who, a.At
			}
		}
		if rd.Kind == "" {
			rd.Kind = trail[0].Kind
		}
		rd.Status, rd.PossiblyUnsent = trailStatus(trail)
		_, rd.DecisionRecovered = r.decisions[id]
		ex.Reconstructed = append(ex.Reconstructed, rd)
	}
	slices.SortFunc(ex.Reconstructed, func(a, b ReconstructedDecision) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.DecisionID, b.DecisionID)
	})
}

// scanLeaves walks every 4096-byte boundary of a bbolt file and calls fn for
// each key/value that a leaf page there (or an inline bucket inside one)
// holds. It trusts nothing: every offset is bounds-checked, and the caller
// authenticates what it gets.
func scanLeaves(data []byte, fn func(k, v []byte)) {
	const step = 4096
	for off := 0; off+16 <= len(data); off += step {
		scanLeafPage(data[off:], fn, 0)
	}
}

func scanLeafPage(p []byte, fn func(k, v []byte), depth int) {
	const (
		header   = 16
		elemSize = 16
		leafFlag = 0x02
	)
	if len(p) < header || depth > 3 {
		return
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if flags != leafFlag {
		return
	}
	for i := 0; i < count; i++ {
		e := header + i*elemSize
		if e+elemSize > len(p) {
			return
		}
		eflags := binary.LittleEndian.Uint32(p[e:])
		pos := int(binary.LittleEndian.Uint32(p[e+4:]))
		ksize := int(binary.LittleEndian.Uint32(p[e+8:]))
		vsize := int(binary.LittleEndian.Uint32(p[e+12:]))
		start := e + pos
		if pos < 0 || ksize < 0 || vsize < 0 || start < e || start+ksize < start || start+ksize+vsize < start+ksize || start+ksize+vsize > len(p) {
			continue
		}
		k := p[start : start+ksize]
		v := p[start+ksize : start+ksize+vsize]
		if eflags&0x01 != 0 { // a bucket: inline ones carry a page after the 16-byte header
			if len(v) > 16 && binary.LittleEndian.Uint64(v) == 0 {
				scanLeafPage(v[16:], fn, depth+1)
			}
			continue
		}
		fn(k, v)
	}
}
