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
func (a *App) Amend(ctx context.Context, id string, d triage.Decision) (store.Entry, error) {
	d.ID, d.By, d.DecidedAt, d.BaseVersion = "", triage.Identity{}, time.Time{}, 0
	d, err := a.prepare(ctx, d)
	if err != nil {
		return store.Entry{}, err
	}
	return a.Store.Amend(ctx, id, d)
}
