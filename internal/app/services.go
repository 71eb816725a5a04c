package app

import (
	"context"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The workspace's outbox, cache and sync operations for the front ends.
// Each goes through the same access check as Decide: while the session is
// locked, signed out or someone else's it refuses with an EUNAUTHORIZED
// *triage.Error carrying a plain message. Drafts are the exception: they
// are kept while the session is locked (the clinician's own unfinished
// work, sealed like the rest of the store), but never for another
// clinician.

// Entry returns the outbox entry with this id. Errors: access; the
// store's (ErrNotFound when there is none).
func (a *Workspace) Entry(ctx context.Context, id string) (Entry, error) {
	return guarded(a, func(triage.Identity) (Entry, error) { return a.store.Entry(ctx, id) })
}

// Entries returns the outbox entries the filter selects, oldest first.
func (a *Workspace) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	return guarded(a, func(triage.Identity) ([]Entry, error) { return a.store.Entries(ctx, f) })
}

// LatestForReferral returns the referral's latest outbox entry (ErrNotFound
// when it has none).
func (a *Workspace) LatestForReferral(ctx context.Context, ubrn string) (Entry, error) {
	return guarded(a, func(triage.Identity) (Entry, error) { return a.store.LatestForReferral(ctx, ubrn) })
}

// Cancel withdraws a queued decision before it is sent, as the signed-in
// clinician.
func (a *Workspace) Cancel(ctx context.Context, id string) (Entry, error) {
	return guarded(a, func(me triage.Identity) (Entry, error) { return a.store.Cancel(ctx, id, me) })
}

// Discard drops a decision that failed or conflicted, as the signed-in
// clinician.
func (a *Workspace) Discard(ctx context.Context, id string) (Entry, error) {
	return guarded(a, func(me triage.Identity) (Entry, error) { return a.store.Discard(ctx, id, me) })
}

// Retry queues a failed decision to be sent again.
func (a *Workspace) Retry(ctx context.Context, id string) (Entry, error) {
	return guarded(a, func(me triage.Identity) (Entry, error) { return a.store.Retry(ctx, id, me) })
}

// NoteConflictShown records in the audit log that a conflict was shown to
// the clinician.
func (a *Workspace) NoteConflictShown(ctx context.Context, id string) error {
	return guardedErr(a, func(me triage.Identity) error { return a.store.NoteConflictShown(ctx, id, me) })
}

// AcknowledgeConflict records that the clinician has seen a conflict; the
// decision is closed unsent.
func (a *Workspace) AcknowledgeConflict(ctx context.Context, id string) (Entry, error) {
	return guarded(a, func(me triage.Identity) (Entry, error) { return a.store.AcknowledgeConflict(ctx, id, me) })
}

// OutboxDamage describes outbox records that could not be read.
func (a *Workspace) OutboxDamage(ctx context.Context) (OutboxDamage, error) {
	return guarded(a, func(triage.Identity) (OutboxDamage, error) { return a.store.OutboxDamage(ctx) })
}

// UnsentCount counts the decisions not yet sent.
func (a *Workspace) UnsentCount(ctx context.Context) (int, error) {
	return guarded(a, func(triage.Identity) (int, error) { return a.store.UnsentCount(ctx) })
}

// CacheInfo says what of the referral is cached for offline reading.
func (a *Workspace) CacheInfo(ctx context.Context, ubrn string) (CacheInfo, error) {
	return guarded(a, func(triage.Identity) (CacheInfo, error) { return a.store.CacheInfo(ctx, ubrn) })
}

// ReferenceData returns the cached e-RS code systems (ErrNotFound before
// the first sync).
func (a *Workspace) ReferenceData(ctx context.Context) (triage.ReferenceData, error) {
	return guarded(a, func(triage.Identity) (triage.ReferenceData, error) { return a.store.ReferenceData(ctx) })
}

// Document returns a cached document of the referral and its description.
func (a *Workspace) Document(ctx context.Context, ubrn, id string) (DocumentMeta, []byte, error) {
	if _, err := a.access(); err != nil {
		return DocumentMeta{}, nil, err
	}
	return a.store.Document(ctx, ubrn, id)
}

// PutDocument stores a document against the referral (sealed like the
// rest of the store).
func (a *Workspace) PutDocument(ctx context.Context, ubrn string, meta DocumentMeta, data []byte) error {
	return guardedErr(a, func(triage.Identity) error { return a.store.PutDocument(ctx, ubrn, meta, data) })
}

// DeleteDocument removes a stored document from the referral.
func (a *Workspace) DeleteDocument(ctx context.Context, ubrn, id string) error {
	return guardedErr(a, func(triage.Identity) error { return a.store.DeleteDocument(ctx, ubrn, id) })
}

// SaveDraft keeps an unfinished decision against the referral.
func (a *Workspace) SaveDraft(ctx context.Context, ubrn string, d triage.Decision) error {
	if err := a.mine(); err != nil {
		return err
	}
	return a.store.UpdateLocalState(ctx, ubrn, func(l *store.LocalState) error { l.Draft = &d; return nil })
}

// ClearDraft forgets the referral's draft decision.
func (a *Workspace) ClearDraft(ctx context.Context, ubrn string) error {
	if err := a.mine(); err != nil {
		return err
	}
	return a.store.UpdateLocalState(ctx, ubrn, func(l *store.LocalState) error { l.Draft = nil; return nil })
}

// AuditRecords returns up to limit audit records from sequence number from
// (limit 0: all).
func (a *Workspace) AuditRecords(ctx context.Context, from uint64, limit int) ([]AuditRecord, error) {
	return guarded(a, func(triage.Identity) ([]AuditRecord, error) { return a.store.AuditRecords(ctx, from, limit) })
}

// VerifyAudit checks the audit log's hash chain.
func (a *Workspace) VerifyAudit(ctx context.Context) (AuditSummary, error) {
	return guarded(a, func(triage.Identity) (AuditSummary, error) { return a.store.VerifyAudit(ctx) })
}

// mine refuses when the session belongs to another clinician (locked is
// allowed: the work is the clinician's own).
func (a *Workspace) mine() error {
	if a.runtime.storeOnly {
		return nil
	}
	if _, err := a.access(); err != nil && a.runtime.auth.Status().Identity.SDSUserID != a.user {
		return err
	}
	return nil
}

// The sync operations are guarded by the engine's own session, live only
// while the session is active as this workspace's clinician (as before),
// except AvailableActions, which also takes the access check.

// CanSync reports whether the workspace synchronises with e-RS (false for
// a store-only workspace, Options.Offline). The sync methods below do
// nothing without it.
func (a *Workspace) CanSync() bool { return a.engine != nil }

// SyncStatus returns the engine's connection state (zero without sync).
func (a *Workspace) SyncStatus() SyncStatus {
	if a.engine == nil {
		return SyncStatus{}
	}
	return a.engine.Status()
}

// SyncNow asks for a worklist pull and an outbox push now.
func (a *Workspace) SyncNow() {
	if a.engine != nil {
		a.engine.SyncNow()
	}
}

// SyncOnce pulls, prefetches and pushes once, reporting prefetch progress.
func (a *Workspace) SyncOnce(ctx context.Context, progress func(PrefetchProgress)) (SyncReport, error) {
	if a.engine == nil {
		return SyncReport{}, errStoreOnly
	}
	return a.engine.SyncOnce(ctx, progress)
}

// Run keeps the workspace in sync until ctx ends or the workspace closes.
func (a *Workspace) Run(ctx context.Context) error {
	if a.engine == nil {
		return errStoreOnly
	}
	return a.engine.Run(ctx)
}

// Subscribe returns the engine's events and a function that stops them
// (buffer: the channel's capacity). Without sync the channel is closed.
func (a *Workspace) Subscribe(buffer int) (<-chan Event, func()) {
	if a.engine == nil {
		ch := make(chan Event)
		close(ch)
		return ch, func() {}
	}
	return a.engine.Subscribe(buffer)
}

// SetPullInterval changes how often the worklist is pulled.
func (a *Workspace) SetPullInterval(d time.Duration) {
	if a.engine != nil {
		a.engine.SetPullInterval(d)
	}
}

// SetPrefetch turns fetching referrals for offline reading on or off.
func (a *Workspace) SetPrefetch(on bool) {
	if a.engine != nil {
		a.engine.SetPrefetch(on)
	}
}

// MakeAvailableOffline fetches every worklist referral's details and
// documents now, returning how many were fetched.
func (a *Workspace) MakeAvailableOffline(ctx context.Context) (int, error) {
	return synced(a, func() (int, error) { return a.engine.MakeAvailableOffline(ctx) })
}

// OutboxCounts counts the outbox entries in each state.
func (a *Workspace) OutboxCounts(ctx context.Context) (map[triage.OutboxState]int, error) {
	return synced(a, func() (map[triage.OutboxState]int, error) { return a.engine.OutboxCounts(ctx) })
}

// RefreshReferral fetches the referral's details from e-RS again.
func (a *Workspace) RefreshReferral(ctx context.Context, ubrn string) error {
	if a.engine == nil {
		return errStoreOnly
	}
	return a.engine.RefreshReferral(ctx, ubrn)
}

// RefreshReferenceData fetches the e-RS code systems again.
func (a *Workspace) RefreshReferenceData(ctx context.Context) error {
	if a.engine == nil {
		return errStoreOnly
	}
	return a.engine.RefreshReferenceData(ctx)
}

// AvailableActions asks e-RS which actions the referral allows now at
// this version. Errors: ErrActionsUnknown when e-RS could not say;
// IsVersionConflict when the version is no longer current.
func (a *Workspace) AvailableActions(ctx context.Context, ubrn string, version int) ([]triage.Action, error) {
	if _, err := a.access(); err != nil {
		return nil, err
	}
	if a.engine == nil {
		return nil, errStoreOnly
	}
	return a.engine.AvailableActions(ctx, ubrn, version)
}

// errStoreOnly: a store-only workspace does not talk to e-RS.
var errStoreOnly = &triage.Error{Code: triage.EUNAVAILABLE, Message: "Triage Desk is working from this computer's copy only, so it cannot reach e-RS now."}

// Runtime returns the Runtime the workspace belongs to.
func (a *Workspace) Runtime() *Runtime { return a.runtime }

// guarded runs do as the clinician the access check allows, or returns
// why the workspace may not be used now.
func guarded[T any](a *Workspace, do func(me triage.Identity) (T, error)) (T, error) {
	me, err := a.access()
	if err != nil {
		var zero T
		return zero, err
	}
	return do(me)
}

// guardedErr is guarded for operations that return only an error.
func guardedErr(a *Workspace, do func(me triage.Identity) error) error {
	_, err := guarded(a, func(me triage.Identity) (struct{}, error) { return struct{}{}, do(me) })
	return err
}

// synced runs do on the engine, or refuses in a store-only workspace.
func synced[T any](a *Workspace, do func() (T, error)) (T, error) {
	if a.engine == nil {
		var zero T
		return zero, errStoreOnly
	}
	return do()
}

// DocumentsStarted reports whether the PDF engine has been started
// (Documents was called): the desktop starts it only once the worklist's
// rows show, so compiling PDFium does not delay them.
func (rt *Runtime) DocumentsStarted() bool {
	rt.docMu.Lock()
	defer rt.docMu.Unlock()
	return rt.docs != nil
}
