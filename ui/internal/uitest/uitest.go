// Package uitest holds what the UI packages' tests share: reading what a
// screen says and walking its object tree headless, and the demo workspace
// fixtures (DemoWorkspace, AcceptReferral, ChangeInERS). Only tests import
// it.
package uitest

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/bridge"
)

// Texts returns the text of every visible label, button and canvas text in
// the object tree, in order: what a screen says, for tests and for the
// plain-text summaries of panels.
func Texts(o fyne.CanvasObject) []string {
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
		case *widget.Check:
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

// WalkObjects calls fn for every visible object in o's tree, widgets'
// rendered parts included.
func WalkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			WalkObjects(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			WalkObjects(c, fn)
		}
	}
}

// SegmentText is a rich-text segment's text, list items included.
func SegmentText(seg widget.RichTextSegment) string {
	switch v := seg.(type) {
	case *widget.ListSegment:
		out := ""
		for _, it := range v.Items {
			out += SegmentText(it) + "\n"
		}
		return out
	case *widget.ParagraphSegment:
		out := ""
		for _, t := range v.Texts {
			out += SegmentText(t)
		}
		return out
	case *widget.TextSegment:
		return v.Text
	}
	return ""
}

// FindButton returns the visible button with the text in o's tree.
func FindButton(o fyne.CanvasObject, text string) *widget.Button {
	return FindButtonFunc(o, func(b *widget.Button) bool { return b.Text == text })
}

// FindButtonFunc returns the first visible button in o's tree, widgets'
// rendered parts included, for which match holds.
func FindButtonFunc(o fyne.CanvasObject, match func(*widget.Button) bool) *widget.Button {
	var found *widget.Button
	WalkObjects(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && found == nil && match(b) {
			found = b
		}
	})
	return found
}

// TapButton taps the visible, enabled button with the text, failing the
// test when there is none.
func TapButton(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	b := FindButton(o, text)
	if b == nil {
		t.Fatalf("no button %q in %s", text, strings.Join(Texts(o), "|"))
	}
	if b.Disabled() {
		t.Fatalf("button %q is disabled", text)
	}
	test.Tap(b)
}

// LoopBridge returns a Bridge whose posts run when the test pumps the Loop,
// so widgets are only touched from the test goroutine.
func LoopBridge(t *testing.T) (*bridge.Bridge, *bridge.Loop) {
	t.Helper()
	loop := bridge.NewLoop()
	b := bridge.New(bridge.Options{Post: loop.Post, Interval: 10 * time.Millisecond})
	t.Cleanup(b.Close)
	return b, loop
}

// PumpUntil pumps the loop until cond holds, failing the test after wait.
func PumpUntil(t *testing.T, loop *bridge.Loop, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	if !loop.RunUntil(wait, cond) {
		t.Fatalf("timed out after %v waiting for %s", wait, what)
	}
}

// Joined is every text in the object tree (Texts), joined with "|".
func Joined(o fyne.CanvasObject) string { return strings.Join(Texts(o), "|") }

// MenuItem finds the item with the label in any menu of mm, or nil.
func MenuItem(mm *fyne.MainMenu, label string) *fyne.MenuItem {
	for _, m := range mm.Items {
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	return nil
}

// MenuLabels lists the items' labels, "—" for a separator.
func MenuLabels(items []*fyne.MenuItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Label
		if it.IsSeparator {
			out[i] = "—"
		}
	}
	return out
}
