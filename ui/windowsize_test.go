package ui

import (
	"io"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// laptop is a common NHS laptop screen: the window must fit on it.
var laptop = fyne.NewSize(1280, 800)

// checkFits fails if the window's content needs more than the laptop
// screen (the window would grow past it).
func (h *harness) checkFits(what string) {
	h.t.Helper()
	h.settle()
	if m := h.win.Content().MinSize(); m.Width > laptop.Width || m.Height > laptop.Height {
		h.t.Errorf("%s: the window needs %.0f×%.0f, more than a %.0f×%.0f screen", what, m.Width, m.Height, laptop.Width, laptop.Height)
	}
}

// TestExcludedSearchDoesNotGrowTheWindow: a search the filters exclude
// shows its empty-state text wrapped across the worklist, not one
// character per line in a window taller than the screen.
func TestExcludedSearchDoesNotGrowTheWindow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	h.checkFits("the worklist")
	r := h.booked(false)
	h.v.list.kind.SetSelected("RAS")
	h.v.list.search.SetText(r.UBRN)
	h.settle()
	if !h.v.list.empty.Visible() {
		t.Fatal("no empty-state text for a search the filters exclude")
	}
	h.checkFits("a search the filters exclude")
	if w := h.v.list.empty.Size().Width; w < 200 {
		t.Errorf("the empty-state text is %.0f wide: it does not wrap across the worklist", w)
	}
}

// TestLongAttachmentNameDoesNotWidenTheWindow: a 3000-character file name
// attached to a decision wraps or is cut short inside the form.
func TestLongAttachmentNameDoesNotWidenTheWindow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	ras := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone
	})
	p := h.open(ras.UBRN)
	h.typeKeys("t")
	f := p.decision.form
	if f == nil || f.attachL == nil {
		t.Fatal("no triage-outcome form with an attachment")
	}
	h.checkFits("the triage-outcome form")
	name := strings.Repeat("x", 2996) + ".pdf"
	f.attachFrom(name, io.NopCloser(strings.NewReader("%PDF-1.4 a letter")))
	h.waitFor("the attachment", func() bool { return f.attach != nil })
	h.checkFits("a 3000-character file name")
}
