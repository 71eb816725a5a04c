package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

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
		pt, err := r.entry.open(bEntries, k, v)
		if err != nil {
			return false
		}
		var e Entry
		if json.Unmarshal(pt, &e) != nil {
			return false
		}
		if old, ok := r.entries[e.ID]; !ok || e.Rev > old.Rev {
			r.entries[e.ID] = e
		}
	case bDecisions:
		pt, err := r.decision.open(bDecisions, k, v)
		if err != nil {
			return false
		}
		var d triage.Decision
		if json.Unmarshal(pt, &d) != nil {
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
		pt, err := r.audit.open(bMeta, k, v)
		if err != nil {
			return false
		}
		var h auditHead
		if json.Unmarshal(pt, &h) != nil {
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
