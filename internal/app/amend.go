package app

import (
	"context"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Amend replaces the outbox entry id (queued, failed, or a conflict the
// clinician has acknowledged) with the decision d for the same referral,
// validated exactly as Decide validates a new one. d is a new decision: its
// id, author, time and referral version are set afresh (the version is the
// cached one, which after a conflict is what e-RS says now), so a decision
// form reopened with the old inputs can be passed as it is.
//
// Errors: as Decide; store.Amend's (an entry being sent, already sent or
// discarded, or a conflict not yet acknowledged, each with a plain
// message; a decision for another referral).
func (a *Workspace) Amend(ctx context.Context, id string, d triage.Decision) (store.Entry, error) {
	d.ID, d.By, d.DecidedAt, d.BaseVersion = "", triage.Identity{}, time.Time{}, 0
	d, err := a.prepare(ctx, d)
	if err != nil {
		return store.Entry{}, err
	}
	return a.store.Amend(ctx, id, d)
}

// Choices are the decisions e-RS takes on a referral now, for amending a
// decision after a conflict or a refusal.
type Choices struct {
	// Kinds are the decisions e-RS takes now (triage.KindsNow); empty
	// when it takes none.
	Kinds []triage.DecisionKind
	// Checked is true when the referral was read from e-RS just now and,
	// for a RAS referral, A029 was asked; false when e-RS could not be
	// asked and Kinds come from the cached referral.
	Checked bool
	// State is the referral's e-RS state the choices are for.
	State triage.ReferralStatus
	// Note says why e-RS could not be asked ("" when it was).
	Note string
}

// DecisionsNow re-reads the referral from e-RS (A005, cached), asks A029
// for a RAS referral, and returns the decisions e-RS takes on it now, so an
// amendment starts from what e-RS says now and offers nothing it would
// refuse. Offline, it answers from the cache and says so (the engine asks
// e-RS again before sending). Errors: Referral's (not cached, locked).
func (a *Workspace) DecisionsNow(ctx context.Context, ubrn string) (Choices, error) {
	var ch Choices
	var refreshErr error = &triage.Error{Code: triage.EUNAVAILABLE, Message: "Triage Desk is working only from what is stored on this computer, so this is the referral as last downloaded."}
	if a.engine != nil {
		refreshErr = a.engine.RefreshReferral(ctx, ubrn)
	}
	v, err := a.Referral(ctx, ubrn)
	if err != nil {
		return ch, err
	}
	r := v.Referral.Referral
	ch.State, ch.Checked = r.State, refreshErr == nil
	var acts []triage.Action
	if ch.Checked && r.Type == triage.ReferralTypeTriageDeferral {
		if acts, err = a.engine.AvailableActions(ctx, ubrn, r.Version); err != nil {
			ch.Checked = false
			refreshErr = err
		}
	}
	if !ch.Checked {
		ch.Note = triage.ErrorMessage(refreshErr)
	}
	ch.Kinds = triage.KindsNow(&r, !v.Local.LeftWorklist, acts, ch.Checked)
	return ch, nil
}
