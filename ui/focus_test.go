package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// typeFocused types characters on the window as the keyboard does, without
// first clearing the focus: they reach whatever the canvas has focused.
func (h *harness) typeFocused(s string) {
	c := h.win.Canvas()
	if f := c.Focused(); f != nil {
		test.Type(f, s)
	} else {
		test.TypeOnCanvas(c, s)
	}
	h.settle()
}

// TestShortcutsWorkAfterQueueAndNext: after "queue and open next" from a
// form whose comment box had the keyboard, the single-key shortcuts act on
// the next referral at once (R opens the reject form) without Esc first.
func TestShortcutsWorkAfterQueueAndNext(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	first := h.booked(false)
	p := h.open(first.UBRN)
	h.typeKeys("r")
	f := p.decision.form
	if f == nil || f.kind != triage.DecisionReject {
		t.Fatal("R did not open the reject form")
	}
	f.reason.SetSelectedIndex(0)
	h.win.Canvas().Focus(f.comments)
	h.typeFocused("Needs a GP review first.")
	h.shortcut(ctrlEnter)
	if p.decision.confirm == nil {
		t.Fatalf("no confirm step: %s", p.decision.note.Text)
	}
	c := p.decision.confirm
	h.shortcut(ctrlShiftEnter)
	h.waitFor("the next referral", func() bool {
		if c.err.Visible() {
			t.Fatalf("not queued: %s", c.err.Text)
		}
		return h.v.panel != nil && h.v.panel.ubrn != first.UBRN && h.v.panel.decision != nil
	})
	next := h.v.panel
	h.settle()
	if next.decision.kindAllowed(triage.DecisionReject) {
		h.typeFocused("r")
		if next.decision.form == nil || next.decision.form.kind != triage.DecisionReject {
			t.Fatalf("R after queue-and-next did not open the reject form (focused: %T)", h.win.Canvas().Focused())
		}
	} else {
		h.typeFocused("t")
		if next.decision.form == nil {
			t.Fatalf("T after queue-and-next did not open a form (focused: %T)", h.win.Canvas().Focused())
		}
	}
}
