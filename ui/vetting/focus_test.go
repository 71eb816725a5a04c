package vetting

import (
	"testing"

	"fyne.io/fyne/v2"
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
	h, p, f := rejectFormWithReason(t)
	first := p.referral()
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

// keyFocused presses a named key as the keyboard does: the focused widget
// gets it, or the window when nothing has focus.
func (h *harness) keyFocused(k fyne.KeyName) {
	c := h.win.Canvas()
	ev := &fyne.KeyEvent{Name: k}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else {
		c.OnTypedKey()(ev)
	}
	h.settle()
}

// TestKeysAfterChoosingAFilter: a filter chosen from a drop-down does not
// keep the keyboard: "/" then goes to the search box and Esc closes the
// form open on the referral.
func TestKeysAfterChoosingAFilter(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.win.Canvas()
	c.Focus(h.v.list.priority)
	h.v.list.priority.SetSelected("Urgent")
	h.typeFocused("/")
	if c.Focused() != h.v.list.search {
		t.Fatalf("/ after choosing a filter: focus on %T, not the search box", c.Focused())
	}
	h.v.list.priority.SetSelected(anyPriority)

	p := h.open(h.booked(false).UBRN)
	h.typeKeys("r")
	if p.decision.form == nil {
		t.Fatal("R did not open the reject form")
	}
	c.Focus(h.v.list.kind)
	h.v.list.kind.SetSelected(anyType)
	h.keyFocused(fyne.KeyEscape)
	if p.decision.form != nil {
		t.Fatalf("Esc after choosing a filter did not close the form (focus on %T)", c.Focused())
	}
}
