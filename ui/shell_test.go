package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// texts returns the text of every label, rich text segment and canvas text
// in the object tree, in order.
func texts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
			return
		case *canvas.Text:
			out = append(out, v.Text)
			return
		case *widget.Button:
			out = append(out, v.Text)
			return
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

// joined is texts joined with "|".
func joined(o fyne.CanvasObject) string { return strings.Join(texts(o), "|") }

func TestShellMarksDemo(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := NewShellWindow(a, ShellOptions{Demo: true, Environment: "demo"})
	defer w.Close()
	if !strings.Contains(w.Title(), DemoBannerText) {
		t.Errorf("window title %q does not say demo", w.Title())
	}
	got := joined(w.Content())
	for _, want := range []string{DemoBannerText, "No referrals downloaded yet."} {
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
	if b == nil || !strings.Contains(joined(b), "int") {
		t.Error("INT environment not marked")
	}
}
