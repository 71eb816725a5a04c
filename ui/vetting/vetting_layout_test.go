package vetting

import (
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

var ctrlB = &desktop.CustomShortcut{KeyName: fyne.KeyB, Modifier: fyne.KeyModifierShortcutDefault}

// worklistOnScreen reports whether the worklist is part of the window's
// content now.
func (h *harness) worklistOnScreen() bool {
	found := false
	uitest.WalkObjects(h.v.Object(), func(o fyne.CanvasObject) {
		if o == h.v.list.Object() && o.Visible() {
			found = true
		}
	})
	return found
}

// TestCtrlBHidesTheWorklistAndTheLetterIsReadableOnALaptop: with a
// referral open on a 1280×800 screen, Ctrl+B hides the worklist, the
// letter takes the width and fit-width reaches at least 90 % on an A4
// page; Ctrl+B again brings the worklist back with its divider where it
// was.
func TestCtrlBHidesTheWorklistAndTheLetterIsReadableOnALaptop(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	h.settle()
	h.typeKeys("b") // no referral open yet: nothing to hide
	h.shortcut(ctrlB)
	if !h.worklistOnScreen() {
		t.Fatal("Ctrl+B hid the worklist with no referral open")
	}
	p := h.open(h.booked(false).UBRN)
	v := h.waitCRI()
	h.v.split.SetOffset(0.35)
	h.settle()
	before := v.zoom
	h.shortcut(ctrlB)
	h.checkFits("the worklist hidden")
	if h.worklistOnScreen() || !h.v.WorklistHidden() {
		t.Fatal("Ctrl+B did not hide the worklist")
	}
	h.waitFor("the letter to refit", func() bool { return v.zoom > before })
	if w := v.sizes[0].Width; math.Abs(w-595) > 2 {
		t.Fatalf("the letter's page is %.0f pt wide, not A4", w)
	}
	t.Logf("fit width with the worklist hidden at 1280×800: %.0f %% (%.0f %% with it shown)", v.zoom*100, before*100)
	if v.zoom < 0.9 {
		t.Errorf("fit width with the worklist hidden at 1280×800 is %.0f %%, want at least 90 %%", v.zoom*100)
	}
	// The next referral opens with the worklist still hidden.
	next := h.v.list.After(p.ubrn)
	h.v.Open(next)
	h.waitFor("the next referral", func() bool { return h.v.panel != nil && h.v.panel.ubrn == next })
	if h.worklistOnScreen() {
		t.Error("the worklist came back on opening the next referral")
	}
	h.shortcut(ctrlB)
	if !h.worklistOnScreen() || h.v.WorklistHidden() {
		t.Fatal("Ctrl+B again did not bring the worklist back")
	}
	if o := h.v.split.Offset; math.Abs(o-0.35) > 0.01 {
		t.Errorf("the worklist divider came back at %.2f, not where it was (0.35)", o)
	}
	inView := false
	for _, m := range h.win.MainMenu().Items {
		if m.Label == "View" && uitest.MenuItem(&fyne.MainMenu{Items: []*fyne.Menu{m}}, "Hide or show the worklist") != nil {
			inView = true
		}
	}
	if !inView {
		t.Error("Hide or show the worklist is not in the View menu")
	}
}

// TestSplitsAreRememberedPerScreenSize: the worklist divider and the
// letter/decision split the clinician set are kept for the screen size
// they were set at, and every referral opened at that size uses them.
func TestSplitsAreRememberedPerScreenSize(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	h.settle()
	undecided := func(r triage.Row) bool { return r.Local == triage.LocalNone }
	rows := h.rows()
	open := func(i int) *referralPanel {
		for ; !undecided(rows[i]); i++ {
		}
		return h.open(rows[i].UBRN)
	}
	p := open(0)
	h.v.split.SetOffset(0.3)
	p.split.SetOffset(0.7)
	p = open(1)
	if o := h.v.split.Offset; math.Abs(o-0.3) > 0.01 {
		t.Errorf("worklist divider %.2f on the next referral, want 0.30", o)
	}
	if o := p.split.Offset; math.Abs(o-0.7) > 0.01 {
		t.Errorf("letter/decision split %.2f on the next referral, want 0.70", o)
	}
	h.win.Resize(fyne.NewSize(1920, 1080))
	h.settle()
	p = open(2)
	p.split.SetOffset(0.5)
	h.v.split.SetOffset(0.45)
	h.win.Resize(laptop)
	h.settle()
	p = open(3)
	if o := h.v.split.Offset; math.Abs(o-0.3) > 0.01 {
		t.Errorf("worklist divider %.2f back at 1280×800, want the 0.30 set there", o)
	}
	if o := p.split.Offset; math.Abs(o-0.7) > 0.01 {
		t.Errorf("letter/decision split %.2f back at 1280×800, want the 0.70 set there", o)
	}
	if got := h.v.prefs.Float(layoutKey(prefSideSplit, "1920x1080")); math.Abs(got-0.5) > 0.01 {
		t.Errorf("letter/decision split kept for 1920x1080: %.2f, want 0.50", got)
	}
	if b := sizeBucket(fyne.NewSize(1266, 770)); b != "1280x800" {
		t.Errorf("a maximised window on a 1280×800 screen is bucket %q", b)
	}
}

// TestJAndKOpenTheNextReferralWhileTheWorklistIsHidden: with the worklist
// hidden there is no cursor to see, so J and K open the next and previous
// referral in the worklist's order (the worklist stays hidden); the
// choice to hide it is kept, so the next window opens referrals with the
// worklist hidden too.
func TestJAndKOpenTheNextReferralWhileTheWorklistIsHidden(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	first := h.rows()[0].UBRN
	h.open(first)
	h.shortcut(ctrlB)
	second := h.v.list.After(first)
	h.typeKeys("j")
	h.waitFor("J to open the next referral", func() bool { return h.v.panel != nil && h.v.panel.ubrn == second })
	if h.worklistOnScreen() {
		t.Error("J brought the worklist back")
	}
	h.typeKeys("k")
	h.waitFor("K to open the previous referral", func() bool { return h.v.panel != nil && h.v.panel.ubrn == first })
	h.typeKeys("k")
	if h.v.panel.ubrn != first || h.v.panel.decision == nil || !strings.Contains(h.v.panel.decision.note.Text, "first referral") {
		t.Errorf("K on the first referral: open %s, note %q", h.v.panel.ubrn, h.v.panel.decision.note.Text)
	}
	if h.v.list.Cursor() != first {
		t.Errorf("the worklist's cursor is on %s, not the open referral, for when it is shown again", h.v.list.Cursor())
	}

	// A new window (as after a restart) keeps the worklist hidden.
	win, f := frame.NewShellWindow(fyne.CurrentApp(), frame.ShellOptions{Demo: true, Environment: "demo"})
	defer win.Close()
	win.Resize(laptop)
	v := NewVetting(f, h.b, h.ws, h.v.prefs)
	defer v.Close()
	f.SetMain(v.Object())
	v.Start()
	h.waitFor("the worklist", func() bool { return v.list.loaded })
	v.Open(second)
	h.waitFor("the referral", func() bool { return v.panel != nil && v.panel.ubrn == second })
	if !v.WorklistHidden() {
		t.Error("the worklist is shown again in a new window after the clinician hid it")
	}
	h.shortcut(ctrlB)
	if h.v.prefs.Bool(prefWorklistHidden) {
		t.Error("showing the worklist again is not kept")
	}
	// "/" with the worklist hidden shows it, with the keyboard in its
	// search box.
	h.shortcut(ctrlB)
	h.win.Canvas().Unfocus()
	h.typeKeys("/")
	if !h.worklistOnScreen() || h.win.Canvas().Focused() != h.v.list.search {
		t.Errorf("/ with the worklist hidden: worklist shown %v, focused %T", h.worklistOnScreen(), h.win.Canvas().Focused())
	}
}
