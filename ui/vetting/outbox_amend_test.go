package vetting

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
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
	if _, err := apptest.Store(h.ws).BeginSend(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if old, err = apptest.Store(h.ws).MarkFailed(ctx, old.ID, app.SendError{Message: "e-RS refused it.", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	formOpen := func() bool {
		p := h.v.panel
		return p != nil && p.ubrn == row.UBRN && p.decision != nil && p.decision.form != nil && p.decision.amending != nil
	}

	h.v.AmendDecision(old)
	h.waitFor("the form with the decision's inputs", formOpen)
	f := h.v.panel.decision.form
	if f.kind != triage.DecisionRedirect || f.comments.Text() != "Please see in the hand clinic." {
		t.Fatalf("form %s with comments %q", f.kind, f.comments.Text())
	}
	h.key(fyne.KeyEscape)
	if h.v.panel.decision.amending != nil {
		t.Fatal("Esc did not leave the amendment")
	}
	if en, _ := apptest.Store(h.ws).Entry(ctx, old.ID); en.State != triage.OutboxFailed {
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
	was, _ := apptest.Store(h.ws).Entry(ctx, old.ID)
	if was.State != triage.OutboxDiscarded || was.ReplacedBy != nw.ID || nw.Replaces != old.ID || nw.State != triage.OutboxQueued ||
		nw.Decision.Comments != "Please see in the hand clinic; X-ray first." {
		t.Errorf("after amending: old %s replaced by %q; new %+v", was.State, was.ReplacedBy, nw)
	}
}

// TestAmendAfterConflictOffersOnlyWhatERSAllowsNow: after someone else
// rejected a referral and the clinician acknowledged the conflict, Amend
// re-reads the referral from e-RS and offers only what e-RS takes now:
// nothing, for a rejected referral, so no accept is put up to confirm and
// the clinician is told to discard the decision.
func TestAmendAfterConflictOffersOnlyWhatERSAllowsNow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	row := h.booked(false)
	en, err := h.ws.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: row.UBRN})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apptest.Sandbox(h.ws.Runtime()).SetState(row.UBRN, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "OTHER", Display: "Other"}, Comments: "Seen elsewhere (another user)."}); err != nil {
		t.Fatal(err)
	}
	if _, err := apptest.Engine(h.ws).SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if en, err = apptest.Store(h.ws).AcknowledgeConflict(ctx, en.ID, h.ws.Identity()); err != nil || en.State != triage.OutboxConflict {
		t.Fatalf("acknowledge: %s %v", en.State, err)
	}
	h.v.AmendDecision(en)
	h.waitFor("e-RS's answer in the decision panel", func() bool {
		p := h.v.panel
		return p != nil && p.ubrn == row.UBRN && p.decision != nil && strings.Contains(p.decision.note.Text, "e-RS")
	})
	dp := h.v.panel.decision
	if dp.confirm != nil || dp.form != nil || dp.amending != nil {
		t.Fatalf("an amendment e-RS will refuse was put up (confirm %v, form %v)", dp.confirm != nil, dp.form != nil)
	}
	note := dp.note.Text
	if !strings.Contains(note, "Rejected") || !strings.Contains(note, "discard") {
		t.Errorf("note %q does not say the referral's state and what to do", note)
	}
	for _, b := range buttonTexts(dp.box) {
		if strings.HasPrefix(b, "Accept") {
			t.Errorf("accept still offered: %v", buttonTexts(dp.box))
		}
	}
}
