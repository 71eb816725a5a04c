package app

import (
	"context"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ConflictNotice is a decision not applied because the referral had
// already changed in e-RS, not yet acknowledged, with whom it is about.
type ConflictNotice struct {
	Entry
	// NHSNumber is the referral's patient, from the cached referral ("" when
	// the referral is no longer cached).
	NHSNumber string
}

// OpenConflicts returns the unacknowledged conflicts, oldest first, each
// with its patient's NHS number. Errors: EUNAUTHORIZED while the session
// is locked or someone else's; the store's.
func (a *Workspace) OpenConflicts(ctx context.Context) ([]ConflictNotice, error) {
	return guarded(a, func(triage.Identity) ([]ConflictNotice, error) {
		es, err := a.store.Entries(ctx, EntryFilter{States: []triage.OutboxState{triage.OutboxConflict}})
		if err != nil {
			return nil, err
		}
		var out []ConflictNotice
		for _, e := range es {
			if e.Conflict == nil || e.Conflict.Acknowledged {
				continue
			}
			n := ConflictNotice{Entry: e}
			if cr, err := a.store.Referral(ctx, e.UBRN); err == nil {
				n.NHSNumber = cr.Referral.NHSNumber
			}
			out = append(out, n)
		}
		return out, nil
	})
}
