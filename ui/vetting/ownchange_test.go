package vetting

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestOwnDecisionIsNotAChangeBySomeoneElse: the version bump e-RS makes
// when it applies the clinician's own decision does not raise "this
// referral changed in e-RS while it was open"; the header shows the new
// state instead. A change by someone else afterwards still does.
func TestOwnDecisionIsNotAChangeBySomeoneElse(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	row := h.booked(false)
	p := h.open(row.UBRN)
	h.typeKeys("a") // accept: straight to the confirm step
	if p.decision.confirm == nil {
		t.Fatalf("no confirm step: %s", p.decision.note.Text)
	}
	h.shortcut(ctrlEnter)
	h.waitFor("the decision to queue", func() bool { return p.decision.entry != nil })
	if _, err := apptest.Engine(h.ws).SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the decision to show as sent", func() bool {
		return p.decision.entry != nil && p.decision.entry.State == triage.OutboxSent
	})
	sent := p.decision.entry.Sent.NewVersion
	h.waitFor("the header to show the version e-RS gave the decision", func() bool { return p.referral().Version == sent })
	if got := strings.Join(texts(p.changed), " "); strings.Contains(got, "changed in e-RS") {
		t.Fatalf("own decision reported as someone else's change: %s", got)
	}

	// Someone else changes it afterwards: that is a change, and says so.
	if _, err := apptest.Sandbox(h.ws.Runtime()).SetState(row.UBRN, triage.ReferralStatus{State: triage.StateCancelledReferral}); err != nil {
		t.Fatal(err)
	}
	if err := apptest.Engine(h.ws).RefreshReferral(ctx, row.UBRN); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("changed in e-RS while it was open (version %d → %d)", sent, sent+1)
	h.waitFor("the change banner", func() bool {
		return strings.Contains(strings.Join(texts(h.v.panel.changed), " "), want)
	})
}
