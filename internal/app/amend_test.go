package app

import (
	"context"
	"errors"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestAmendValidatesAndReplacesTheDecision: amending reopens a decision with
// the same rules as deciding; the old entry is discarded and points to the
// new one, which is queued under the clinician's identity; a conflict must
// be acknowledged first.
func TestAmendValidatesAndReplacesTheDecision(t *testing.T) {
	_, a, _ := syncedDemo(t)
	ctx := context.Background()
	refs := booked(t, a)
	old, err := a.store.Entry(ctx, accept(t, a, refs[0]))
	if err != nil {
		t.Fatal(err)
	}

	// The form's old inputs changed into a reject without a reason.
	bad := old.Decision
	bad.Kind = triage.DecisionReject
	var ve *triage.ValidationError
	if _, err := a.Amend(ctx, old.ID, bad); !errors.As(err, &ve) {
		t.Fatalf("amend to a reject without reason: %v, want a validation error", err)
	}
	if s := entryState(t, a, old.ID); s != triage.OutboxQueued {
		t.Fatalf("a refused amendment changed the old decision to %s", s)
	}

	// The same inputs again, as the reopened form sends them.
	nw, err := a.Amend(ctx, old.ID, old.Decision)
	if err != nil {
		t.Fatalf("amend: %v", err)
	}
	was, _ := a.store.Entry(ctx, old.ID)
	if nw.ID == old.ID || nw.State != triage.OutboxQueued || nw.Replaces != old.ID || was.State != triage.OutboxDiscarded || was.ReplacedBy != nw.ID {
		t.Fatalf("after amend: new %+v, old %+v", nw, was)
	}
	if !nw.By.SameUser(a.Identity()) || !nw.Decision.DecidedAt.After(old.Decision.DecidedAt) {
		t.Errorf("amended decision by %+v at %v", nw.By, nw.Decision.DecidedAt)
	}

	// A conflict cannot be amended until acknowledged.
	if _, err := a.store.BeginSend(ctx, nw.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.MarkConflict(ctx, nw.ID, store.ConflictInfo{Status: triage.ReferralStatus{State: triage.StateRejected}, Version: nw.BaseVersion + 1}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Amend(ctx, nw.ID, nw.Decision); !errors.Is(err, store.ErrIllegalTransition) || triage.ErrorMessage(err) == "" {
		t.Errorf("amending an unacknowledged conflict: %v", err)
	}
}
