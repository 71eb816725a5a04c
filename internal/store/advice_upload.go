package store

import (
	"context"
	"errors"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Attachments returns the files a reply or conversion carries, in the
// order they are uploaded (a conversion's guidance files, then its review
// files). Changing an element changes the entry's.
func (e *AdviceEntry) Attachments() []*triage.ProviderAttachment {
	var out []*triage.ProviderAttachment
	add := func(as []triage.ProviderAttachment) {
		for i := range as {
			out = append(out, &as[i])
		}
	}
	if e.Reply != nil {
		add(e.Reply.Attachments)
	}
	if e.Conversion != nil {
		add(e.Conversion.GuidanceAttachments)
		add(e.Conversion.ReviewAttachments)
	}
	return out
}

// RecordAdviceUpload records the e-RS Binary id returned by A020 for one of
// an A&G reply's or conversion's files (matched by LocalID), before the
// action itself is sent, as RecordUpload does for decisions: a retry after
// a failure or a crash sends the action with the id already uploaded
// instead of uploading the file again. The entry must be sending.
// Recording the same id twice is a no-op.
//
// Errors: ErrIllegalTransition unless the entry is sending; EINVALID for an
// unknown LocalID, an empty or malformed id, or a different id already
// recorded; ErrNotFound; ErrClosed.
func (s *Store) RecordAdviceUpload(ctx context.Context, id, localID, binaryID string) (AdviceEntry, error) {
	if !validBinaryID(binaryID) {
		return AdviceEntry{}, userError(triage.EINVALID, nil, errors.New("malformed binary id"),
			"e-RS returned an attachment id Triage Desk cannot use. The reply was not sent; try again later.")
	}
	return s.modifyAdvice(ctx, id, func(e *AdviceEntry) ([]AuditRecord, error) {
		if err := transitionAdvice(e, triage.OutboxRecordUpload); err != nil {
			return nil, err
		}
		if changed, err := setBinaryID(e.Attachments(), localID, binaryID, "reply", "Reopen the request and write the reply again."); err != nil || !changed {
			return nil, err
		}
		return []AuditRecord{{Event: EventSendResult, Result: "attachment uploaded", CorrelationID: e.CorrelationID}}, nil
	})
}
