package widgets

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestTipShowsTheWholeTextWithoutGrowingTheWindow: hovering a Tip shows
// its text under it, inside the window, wrapped to the window's width
// however long it is (a 3,000-character file name); the window's content
// asks for no more room; moving away hides it; a Tip with nothing to say
// shows nothing.
func TestTipShowsTheWholeTextWithoutGrowingTheWindow(t *testing.T) {
	test.NewTempApp(t)
	long := strings.Repeat("Referral letter scanned at the practice ", 75) + "2026-03-01.pdf"
	name := "Discharge summary from the cardiology outpatient clinic 2026-03-01.pdf"
	says := NewTip(widget.NewLabel("Discharge…pdf"), func() string { return name })
	silent := NewTip(widget.NewLabel("ECG.pdf"), func() string { return "" })
	w := test.NewWindow(nil)
	defer w.Close()
	content := container.NewVBox(says, silent)
	before := content.MinSize()
	w.SetContent(WithTips(w.Canvas(), content))
	w.Resize(fyne.NewSize(400, 300))
	layer := tipLayers.m[w.Canvas()]

	over, away := fyne.NewPos(10, says.Size().Height/2), fyne.NewPos(10, says.Size().Height+silent.Size().Height/2)
	test.MoveMouse(w.Canvas(), over)
	if !layer.box.Visible() || layer.text.Text != name {
		t.Fatalf("hovering did not show the whole name (shown %v: %q)", layer.box.Visible(), layer.text.Text)
	}
	test.MoveMouse(w.Canvas(), away)
	name = long
	test.MoveMouse(w.Canvas(), over)
	if got := layer.text.Text; !strings.HasPrefix(got, "Referral letter") || !strings.HasSuffix(got, "2026-03-01.pdf") || !strings.Contains(got, "…") {
		t.Fatalf("a 3,000-character name shows as %q: want its start, …, and its end", got)
	}
	if got := w.Content().MinSize(); got != before {
		t.Errorf("the tooltip made the content ask for %v (was %v)", got, before)
	}
	if s := w.Canvas().Size(); s.Width > 400 || s.Height > 300 {
		t.Errorf("the window grew to %v", s)
	}
	box := layer.box
	if box.Position().X < 0 || box.Position().X+box.Size().Width > 400 || box.Position().Y < says.Size().Height-1 {
		t.Errorf("the tooltip is at %v size %v, not under the name inside the window", box.Position(), box.Size())
	}
	test.MoveMouse(w.Canvas(), away)
	if layer.box.Visible() {
		t.Error("the tooltip stayed after the pointer moved to a name shown whole")
	}
}
