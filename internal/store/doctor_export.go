package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
