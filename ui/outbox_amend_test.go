package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestOutboxAmendReopensTheFormWithTheSameInputs: Amend in the outbox opens
// the referral with the decision form filled in as the clinician left it;
// Esc leaves the outbox decision alone; confirming a changed form replaces
// it.
func TestOutboxAmendReopensTheFormWithTheSameInputs(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	row := h.booked(false)
	old, err := h.ws.Decide(ctx, triage.Decision{Kind: triage.DecisionRedirect, UBRN: row.UBRN, Comments: "Please see in the hand clinic."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.Store.BeginSend(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if old, err = h.ws.Store.MarkFailed(ctx, old.ID, store.SendError{Message: "e-RS refused it.", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	formOpen := func() bool {
		p := h.v.panel
		return p != nil && p.ubrn == row.UBRN && p.decision != nil && p.decision.form != nil && p.decision.amending != nil
	}

	h.v.AmendDecision(old)
	h.waitFor("the form with the decision's inputs", formOpen)
	f := h.v.panel.decision.form
	if f.kind != triage.DecisionRedirect || f.comments.Text != "Please see in the hand clinic." {
		t.Fatalf("form %s with comments %q", f.kind, f.comments.Text)
	}
	h.key(fyne.KeyEscape)
	if h.v.panel.decision.amending != nil {
		t.Fatal("Esc did not leave the amendment")
	}
	if en, _ := h.ws.Store.Entry(ctx, old.ID); en.State != triage.OutboxFailed {
		t.Fatalf("Esc changed the outbox decision to %s", en.State)
	}

	h.v.AmendDecision(old)
	h.waitFor("the form again", formOpen)
	h.v.panel.decision.form.comments.SetText("Please see in the hand clinic; X-ray first.")
	h.shortcut(ctrlEnter)
	if h.v.panel.decision.confirm == nil {
		t.Fatalf("no confirm step: %s", h.v.panel.decision.note.Text)
	}
	h.shortcut(ctrlEnter)
	h.waitFor("the amendment to queue", func() bool {
		dp := h.v.panel.decision
		return dp.entry != nil && dp.entry.ID != old.ID && dp.amending == nil
	})
	nw := *h.v.panel.decision.entry
	was, _ := h.ws.Store.Entry(ctx, old.ID)
	if was.State != triage.OutboxDiscarded || was.ReplacedBy != nw.ID || nw.Replaces != old.ID || nw.State != triage.OutboxQueued ||
		nw.Decision.Comments != "Please see in the hand clinic; X-ray first." {
		t.Errorf("after amending: old %s replaced by %q; new %+v", was.State, was.ReplacedBy, nw)
	}
}
