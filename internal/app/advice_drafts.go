package app

import (
	"context"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Drafts of Advice and Guidance replies: what the clinician has written
// but not yet sent, kept sealed in the encrypted cache beside the request
// (store.CachedAdvice.Draft), so it survives moving between requests,
// closing the window and a crash. Only the fields the clinician chose are
// kept (outcome, recommendation, guidance, priority, files); who, when and
// the version are filled in when the reply is queued. Queuing a reply or
// a conversion forgets the draft.

// SaveAdviceDraft keeps the reply being written to the request. Errors:
// ENOTFOUND when the request is not cached; EUNAUTHORIZED while the
// session is someone else's; the store's.
func (a *Workspace) SaveAdviceDraft(ctx context.Context, ubrn string, d triage.AdviceReply) error {
	if err := a.mine(); err != nil {
		return err
	}
	if _, err := a.cachedAdvice(ctx, ubrn); err != nil {
		return err
	}
	kept := draftFields(d)
	return a.store.UpdateAdvice(ctx, ubrn, func(ca *store.CachedAdvice) error { ca.Draft = &kept; return nil })
}

// ClearAdviceDraft forgets the reply being written to the request (nothing
// to do when there is none).
func (a *Workspace) ClearAdviceDraft(ctx context.Context, ubrn string) error {
	if err := a.mine(); err != nil {
		return err
	}
	return a.clearAdviceDraft(ctx, ubrn)
}

// clearAdviceDraft drops the draft of a cached request, if it has one.
func (a *Workspace) clearAdviceDraft(ctx context.Context, ubrn string) error {
	ca, err := a.store.Advice(ctx, triage.NormalizeUBRN(ubrn))
	if err != nil || ca.Draft == nil {
		return nil // nothing cached, nothing to forget
	}
	return a.store.UpdateAdvice(ctx, ubrn, func(ca *store.CachedAdvice) error { ca.Draft = nil; return nil })
}

// draftFields is the part of a reply a draft keeps.
func draftFields(d triage.AdviceReply) triage.AdviceReply {
	return triage.AdviceReply{UBRN: triage.NormalizeUBRN(d.UBRN), Outcome: d.Outcome, Recommendation: d.Recommendation,
		Guidance: d.Guidance, Priority: d.Priority, Attachments: d.Attachments}
}
