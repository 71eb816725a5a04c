package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// RecordUpload records the e-RS Binary id returned by A020 for one of a
// decision's provider attachments (matched by LocalID), in the outbox, before
// the decision itself is sent. A retry after a failure or a crash then sends
// the decision with the id already uploaded instead of uploading the file
// again. The entry must be sending. Recording the same id twice is a no-op.
//
// Errors: ErrIllegalTransition unless the entry is sending; EINVALID for an
// unknown LocalID, an empty or malformed id, or a different id already
// recorded; ErrNotFound; ErrClosed.
func (s *Store) RecordUpload(ctx context.Context, id, localID, binaryID string) (Entry, error) {
	if !validBinaryID(binaryID) {
		return Entry{}, userError(triage.EINVALID, nil, errors.New("malformed binary id"),
			"e-RS returned an attachment id Triage Desk cannot use. The decision was not sent; try again later.")
	}
	return s.modify(ctx, id, func(tx *bolt.Tx, e *Entry) ([]AuditRecord, error) {
		if err := transition(e, triage.OutboxRecordUpload); err != nil {
			return nil, err
		}
		atts := make([]*triage.ProviderAttachment, len(e.Decision.Attachments))
		for i := range e.Decision.Attachments {
			atts[i] = &e.Decision.Attachments[i]
		}
		if changed, err := setBinaryID(atts, localID, binaryID, "decision", "Reopen the referral and decide again."); err != nil || !changed {
			return nil, err
		}
		db, err := json.Marshal(e.Decision)
		if err != nil {
			return nil, fmt.Errorf("encode decision: %w", err)
		}
		dk := decisionKey(s.keys.index, e.ID)
		if err := tx.Bucket([]byte(bDecisions)).Put(dk, s.obSeal.seal(bDecisions, dk, db)); err != nil {
			return nil, err
		}
		return []AuditRecord{{Event: EventSendResult, Result: "attachment uploaded", CorrelationID: e.CorrelationID}}, nil
	})
}

// setBinaryID records binaryID on the attachment with localID, for an
// action (what: "decision", "reply"; again: the next step when the
// attachment is unknown) about to be sent. It reports false
// when that id was recorded already. Errors: EINVALID for an unknown
// attachment or a different id already recorded.
func setBinaryID(atts []*triage.ProviderAttachment, localID, binaryID, what, again string) (bool, error) {
	for _, a := range atts {
		if a.LocalID != localID {
			continue
		}
		switch a.BinaryID {
		case binaryID:
			return false, nil
		case "":
			a.BinaryID = binaryID
			return true, nil
		}
		return false, userError(triage.EINVALID, nil, errors.New("attachment already uploaded"),
			"This attachment was already uploaded to e-RS. The "+what+" was not sent again.")
	}
	return false, userError(triage.EINVALID, nil, errors.New("unknown attachment"),
		"The "+what+" has no such attachment. "+again)
}

// validBinaryID accepts the ids e-RS gives uploaded files: letters, digits,
// '.', '_' and '-', at most 128 characters.
func validBinaryID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
