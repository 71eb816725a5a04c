package vetting

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// decideRow queues a valid decision on a row outside the GUI.
func (h *harness) decideRow(r triage.Row) {
	h.t.Helper()
	d := triage.Decision{Kind: triage.DecisionAccept, UBRN: r.UBRN}
	if r.Type == triage.ReferralTypeTriageDeferral {
		d = triage.Decision{Kind: triage.DecisionReviewOutcome, UBRN: r.UBRN, Outcome: triage.OutcomeAcceptReferBookLater, Comments: "Book within six weeks."}
	}
	if _, err := h.ws.Decide(context.Background(), d); err != nil {
		h.t.Fatalf("decide %s: %v", r.UBRN, err)
	}
}

// visibleCells returns the worklist cells on screen.
func (h *harness) visibleCells() []*worklistCell {
	var out []*worklistCell
	uitest.WalkObjects(h.v.list.table.Object(), func(o fyne.CanvasObject) {
		if c, ok := o.(*worklistCell); ok && c.state != nil {
			out = append(out, c)
		}
	})
	return out
}

// TestNextSkipsDecidedReferrals: "queue and open next" goes to the next
// referral in the worklist's order that has no decision queued, sending or
// sent, and says so at the end of the list; decided rows look different
// from undecided ones in the columns visible beside an open referral.
func TestNextSkipsDecidedReferrals(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(frame.DefaultWindowSize)
	rows := h.rows()
	start := -1
	for i := 0; i+3 < len(rows); i++ {
		if rows[i].Type == triage.ReferralTypeAppointment && rows[i].Local == triage.LocalNone &&
			rows[i+1].Local == triage.LocalNone && rows[i+2].Local == triage.LocalNone && rows[i+3].Local == triage.LocalNone {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("no four undecided referrals in a row")
	}
	h.decideRow(rows[start+1])
	h.decideRow(rows[start+2])
	h.v.reloadWorklist()
	h.waitFor("the decided rows", func() bool {
		r, _ := h.v.list.Row(rows[start+2].UBRN)
		return r.Local == triage.LocalQueued
	})

	p := h.open(rows[start].UBRN)
	h.typeKeys("a")
	if p.decision.confirm == nil {
		t.Fatalf("no confirm step: %s", p.decision.note.Text)
	}
	h.shortcut(ctrlShiftEnter)
	h.waitFor("the next referral", func() bool { return h.v.panel != nil && h.v.panel.ubrn != rows[start].UBRN })
	if got, want := h.v.panel.ubrn, rows[start+3].UBRN; got != want {
		t.Fatalf("next opened %s, want %s (the next without a decision)", got, want)
	}

	// Beside the open referral, decided rows differ in the visible columns:
	// their status is shown and their text is set apart.
	h.settle()
	decided, undecided := 0, 0
	for _, c := range h.visibleCells() {
		switch c.row {
		case rows[start].UBRN, rows[start+1].UBRN, rows[start+2].UBRN:
			if c.state.decided {
				decided++
			}
			if c.Text() == "Queued" {
				decided++
			}
		case rows[start+3].UBRN:
			if c.state.decided {
				t.Errorf("undecided row drawn as decided: %q", c.Text())
			}
			undecided++
		}
	}
	if undecided == 0 || decided < 9 {
		t.Errorf("decided rows are not set apart in the visible columns (%d marks, %d undecided cells)", decided, undecided)
	}

	// At the end of the list: say so, and stay.
	view := h.rows()
	var last triage.Row
	for _, r := range view {
		if r.Local == triage.LocalNone && r.Type == triage.ReferralTypeAppointment {
			last = r
		}
	}
	for _, r := range view[h.v.list.pos[last.UBRN]+1:] {
		if r.Local == triage.LocalNone {
			h.decideRow(r)
		}
	}
	h.v.reloadWorklist()
	h.settle()
	h.open(last.UBRN)
	h.typeKeys("a")
	h.shortcut(ctrlShiftEnter)
	h.waitFor("the end-of-list note", func() bool {
		return h.v.panel.decision.entry != nil && strings.Contains(h.v.panel.decision.note.Text, "end of the list")
	})
	if h.v.panel.ubrn != last.UBRN {
		t.Errorf("next at the end of the list opened %s", h.v.panel.ubrn)
	}
}
