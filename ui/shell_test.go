package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// labels returns the text of every label in the object tree.
func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *canvas.Text:
			out = append(out, v.Text)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(v)
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func TestShellMarksDemo(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewShellWindow(a, ShellOptions{Demo: true, Environment: "demo"})
	defer w.Close()
	if !strings.Contains(w.Title(), DemoBannerText) {
		t.Errorf("window title %q does not say demo", w.Title())
	}
	got := strings.Join(labels(w.Content()), "|")
	for _, want := range []string{DemoBannerText, "Referrals for Review", "No referrals downloaded yet."} {
		if !strings.Contains(got, want) {
			t.Errorf("shell does not show %q; labels: %s", want, got)
		}
	}
}

func TestBannerPerEnvironment(t *testing.T) {
	if EnvironmentBanner(ShellOptions{Environment: "prod"}) != nil {
		t.Error("production shows a test-environment banner")
	}
	b := EnvironmentBanner(ShellOptions{Environment: "int"})
	if b == nil || !strings.Contains(strings.Join(labels(b), ""), "int") {
		t.Error("INT environment not marked")
	}
}
