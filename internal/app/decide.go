package app

import (
	"context"
	"errors"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Decide records a clinician's decision: it fills in the referral version
// from the cache (the version the clinician saw), the signed-in identity and
// the time, validates it exactly as the GUI does (triage.Decision.Validate
// against the cached referral and reference data) and queues it in the
// outbox. The engine sends it when it can.
//
// Decisions are recorded while the session is active or only waiting for
// a new sign-in (they are sent after it); not while it is locked, has no
// role chosen, or belongs to someone else.
//
// Errors: a *triage.ValidationError listing every problem; ENOTFOUND when
// the referral is not cached; EUNAUTHORIZED as above; the store's (a
// decision already pending for the referral: amend or cancel it instead).
func (a *Workspace) Decide(ctx context.Context, d triage.Decision) (store.Entry, error) {
	d, err := a.prepare(ctx, d)
	if err != nil {
		return store.Entry{}, err
	}
	return a.store.Enqueue(ctx, d)
}

// prepare checks that the workspace may record decisions now, fills in the
// referral version, identity, time and reason display, and validates the
// decision, for Decide and Amend.
func (a *Workspace) prepare(ctx context.Context, d triage.Decision) (triage.Decision, error) {
	me, err := a.access()
	if err != nil {
		return d, err
	}
	if me.ODS == "" || me.BusinessFunction == "" {
		return d, &triage.Error{Code: triage.EUNAUTHORIZED, Message: "Choose the organisation and role you are working as before recording a decision."}
	}
	d.UBRN = triage.NormalizeUBRN(d.UBRN)
	cr, err := a.store.Referral(ctx, d.UBRN)
	if errors.Is(err, store.ErrNotFound) {
		return d, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "That referral is not downloaded on this computer, so it cannot be decided here. Sync and try again."}
	}
	if err != nil {
		return d, err
	}
	rd, err := a.store.ReferenceData(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	now := time.Now()
	if d.BaseVersion == 0 {
		d.BaseVersion = cr.Referral.Version
	}
	if d.By.IsZero() {
		d.By = me
	}
	if d.DecidedAt.IsZero() {
		d.DecidedAt = now
	}
	if d.Kind == triage.DecisionReject && d.Reason.Code != "" && d.Reason.System == "" {
		if cs, ok := rd.System(triage.CodeSystemAppointmentCancellationReason); ok {
			d.Reason.System = cs.URL
			if c, ok := cs.Lookup(d.Reason.Code); ok && d.Reason.Display == "" {
				d.Reason.Display = c.Display
			}
		}
	}
	ref, mismatches, err := a.reconcile(ctx, cr.Referral)
	if err != nil {
		return d, err
	}
	if triage.PatientMismatch(mismatches) {
		return d, errPatientMismatch
	}
	if err := d.Validate(triage.ValidationContext{Referral: &ref, RefData: &rd, Now: now}); err != nil {
		return d, err
	}
	return d, nil
}

// Conflicts returns the decisions that were not applied because the
// referral changed in e-RS, oldest first.
func (a *Workspace) Conflicts(ctx context.Context) ([]store.Entry, error) {
	if _, err := a.access(); err != nil {
		return nil, err
	}
	return a.store.Entries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxConflict}})
}
