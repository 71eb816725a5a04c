package vetting

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// TestLongAttachmentNamesStayDistinguishable: two attachment names that
// differ only near their end, in a side column too narrow for either,
// are cut in the middle: both keep their start and their distinct end
// (date and extension), neither reads "…" alone, and a name that fits is
// shown whole. Hovering a cut name shows it whole.
func TestLongAttachmentNamesStayDistinguishable(t *testing.T) {
	test.NewTempApp(t)
	a := "Discharge summary from the cardiology outpatient clinic 2026-03-01.pdf"
	b := "Discharge summary from the cardiology outpatient clinic 2026-04-12.pdf"
	col := container.NewVBox(middleLabel(a, fyne.TextStyle{Bold: true}), middleLabel(b, fyne.TextStyle{Bold: true}), middleLabel("ECG.pdf", fyne.TextStyle{}))
	w := test.NewWindow(col)
	defer w.Close()
	w.Resize(fyne.NewSize(220, 200))
	col.Refresh()
	got := texts(col)
	if len(got) != 3 {
		t.Fatalf("texts %q", got)
	}
	if got[0] == got[1] {
		t.Errorf("both names read %q", got[0])
	}
	for i, want := range []string{"2026-03-01.pdf", "2026-04-12.pdf"} {
		if !strings.HasPrefix(got[i], "Dis") || !strings.HasSuffix(got[i], want) || !strings.Contains(got[i], "…") {
			t.Errorf("name %d reads %q: want its start, …, and %q", i, got[i], want)
		}
	}
	if got[2] != "ECG.pdf" {
		t.Errorf("a short name reads %q", got[2])
	}
	if m := col.MinSize().Width; m > 120 {
		t.Errorf("the names ask for %.0f px: they would widen the side column", m)
	}
	// Hovering a name cut short shows it whole.
	w.SetContent(widgets.WithTips(w.Canvas(), col))
	w.Resize(fyne.NewSize(220, 200))
	first := col.Objects[0]
	test.MoveMouse(w.Canvas(), first.Position().AddXY(10, first.Size().Height/2))
	shown := false
	uitest.WalkObjects(w.Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text == a && o.Visible() {
			shown = true
		}
	})
	if !shown {
		t.Error("hovering the cut name does not show it whole")
	}
}
