package widgets

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// TestTextAreaRewrapsOnlyWhatAnEditReaches: after any edit, the rows the
// incremental rewrap leaves are exactly those a wrap from scratch gives.
func TestTextAreaRewrapsOnlyWhatAnEditReaches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	words := []string{"a", "GP", "review", "first", "\n", "community", "service", "please", "x", "antidisestablishmentarianism", " ", "  "}
	m := &textModel{width: 20, advance: func(r rune) float32 {
		if r == 'm' || r == 'w' {
			return 2
		}
		return 1
	}}
	m.setText("")
	for i := range 3000 {
		switch op := rng.IntN(10); {
		case op < 6:
			w := words[rng.IntN(len(words))]
			if rng.IntN(2) == 0 {
				w += " "
			}
			m.moveTo(rng.IntN(len(m.runes)+1), false)
			m.edit([]rune(w), len(w) == 1)
		case op < 8:
			m.moveTo(rng.IntN(len(m.runes)+1), false)
			m.deleteBack()
		default:
			m.moveTo(rng.IntN(len(m.runes)+1), false)
			m.moveTo(rng.IntN(len(m.runes)+1), true)
			m.deleteForward()
		}
		got := slices.Clone(m.starts)
		m.rewrapAll()
		if !slices.Equal(got, m.starts) {
			t.Fatalf("edit %d: incremental rows %v, from scratch %v (text %q)", i, got, m.starts, string(m.runes))
		}
	}
	if len(m.runes) == 0 {
		t.Fatal("the random edits left no text to check")
	}
}

// TestTextAreaWrapsAtWordsAndNewlines: rows break after the last space that
// fits, inside a word longer than a row, and after each newline (a
// trailing newline starts an empty last row where the cursor goes).
func TestTextAreaWrapsAtWordsAndNewlines(t *testing.T) {
	m := &textModel{width: 9}
	m.setText("see the GP first\nabcdefghijklmn\n")
	var rows []string
	for r := range m.starts {
		rows = append(rows, string(m.rowText(r)))
	}
	want := []string{"see the ", "GP first", "abcdefghi", "jklmn", ""}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %q, want %q", rows, want)
	}
	if r := m.rowOf(len(m.runes)); r != 4 {
		t.Errorf("the cursor at the end is on row %d, want the empty last row 4", r)
	}
}

func newTestTextArea(t *testing.T, rows int) (*TextArea, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	ta := NewTextArea(rows)
	w := a.NewWindow("")
	w.SetContent(ta)
	w.Resize(fyne.NewSize(300, 200))
	t.Cleanup(w.Close)
	return ta, w
}

// shown is what the rows in view draw, top to bottom.
func shown(ta *TextArea) []string {
	r := test.WidgetRenderer(ta).(*textAreaRenderer)
	var out []string
	for _, l := range r.lines[:ta.rows] {
		out = append(out, l.Text)
	}
	return out
}

// TestTextAreaTypingAndEditingKeys: what a clinician types, deletes and
// moves over ends up in the text, and OnChanged hears each change.
func TestTextAreaTypingAndEditingKeys(t *testing.T) {
	ta, w := newTestTextArea(t, 3)
	var changes []string
	ta.OnChanged = func(s string) { changes = append(changes, s) }
	w.Canvas().Focus(ta)
	test.Type(ta, "Refer to the hand clinic")
	if ta.Text() != "Refer to the hand clinic" {
		t.Fatalf("typed %q", ta.Text())
	}
	key := func(k fyne.KeyName) { ta.TypedKey(&fyne.KeyEvent{Name: k}) }
	key(fyne.KeyBackspace)
	key(fyne.KeyHome)
	key(fyne.KeyDelete)
	key(fyne.KeyEnd)
	test.Type(ta, "c.")
	key(fyne.KeyReturn)
	test.Type(ta, "X-ray first")
	if want := "efer to the hand clinic.\nX-ray first"; ta.Text() != want {
		t.Fatalf("text %q, want %q", ta.Text(), want)
	}
	if n := len(changes); n == 0 || changes[n-1] != ta.Text() {
		t.Fatalf("OnChanged last heard %q", changes)
	}
	// Shift+Left selects; typing replaces the selection.
	ta.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	for range len("first") {
		key(fyne.KeyLeft)
	}
	ta.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	if got := ta.SelectedText(); got != "first" {
		t.Fatalf("selected %q", got)
	}
	test.Type(ta, "today")
	if !strings.HasSuffix(ta.Text(), "X-ray today") {
		t.Fatalf("typing over the selection gave %q", ta.Text())
	}
	// Ctrl+Shift+Left selects a word; Ctrl+Home goes to the start.
	word := fyne.KeyModifierShortcutDefault
	if word == fyne.KeyModifierSuper {
		word = fyne.KeyModifierAlt
	}
	ta.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyLeft, Modifier: word | fyne.KeyModifierShift})
	if got := ta.SelectedText(); got != "today" {
		t.Fatalf("Ctrl+Shift+Left selected %q", got)
	}
	ta.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyHome, Modifier: fyne.KeyModifierShortcutDefault})
	if ta.CursorPosition() != 0 || ta.SelectedText() != "" {
		t.Fatalf("Ctrl+Home: cursor %d, selected %q", ta.CursorPosition(), ta.SelectedText())
	}
}

// TestTextAreaClipboardUndoAndRedo: select all, cut, paste (Windows line
// ends made plain), undo back to the typed text and redo.
func TestTextAreaClipboardUndoAndRedo(t *testing.T) {
	ta, w := newTestTextArea(t, 3)
	w.Canvas().Focus(ta)
	test.Type(ta, "Please see in clinic")
	clip := fyne.CurrentApp().Clipboard()
	ta.TypedShortcut(&fyne.ShortcutSelectAll{})
	ta.TypedShortcut(&fyne.ShortcutCut{Clipboard: clip})
	if ta.Text() != "" || clip.Content() != "Please see in clinic" {
		t.Fatalf("after cut: text %q, clipboard %q", ta.Text(), clip.Content())
	}
	clip.SetContent("Line one\r\nLine two")
	ta.TypedShortcut(&fyne.ShortcutPaste{Clipboard: clip})
	if ta.Text() != "Line one\nLine two" {
		t.Fatalf("pasted %q", ta.Text())
	}
	ta.TypedShortcut(&fyne.ShortcutUndo{})
	if ta.Text() != "" {
		t.Fatalf("undo of the paste left %q", ta.Text())
	}
	ta.TypedShortcut(&fyne.ShortcutUndo{})
	if ta.Text() != "Please see in clinic" {
		t.Fatalf("undo of the cut left %q", ta.Text())
	}
	ta.TypedShortcut(&fyne.ShortcutRedo{})
	if ta.Text() != "" {
		t.Fatalf("redo gave %q", ta.Text())
	}
	ta.TypedShortcut(&fyne.ShortcutUndo{})
	ta.SetCursorPosition(len("Please"))
	ta.TypedShortcut(&fyne.ShortcutCopy{Clipboard: clip})
	if clip.Content() != "Line one\r\nLine two" {
		t.Fatalf("copy with nothing selected changed the clipboard to %q", clip.Content())
	}
}

// TestTextAreaKeepsItsSizeAndShowsTheCursorsRow: a long text does not grow
// the box (so the form and the window keep their size); the rows in view
// follow the cursor, and Esc gives the keyboard back.
func TestTextAreaKeepsItsSizeAndShowsTheCursorsRow(t *testing.T) {
	ta, w := newTestTextArea(t, 3)
	empty := ta.MinSize()
	w.Canvas().Focus(ta)
	ta.SetText(strings.Repeat("word ", 400) + "END")
	if got := ta.MinSize(); got != empty {
		t.Fatalf("the box grew from %v to %v with 2,000 characters", empty, got)
	}
	if rows := shown(ta); !strings.Contains(rows[2], "END") {
		t.Fatalf("the cursor's row is not in view: %q", rows)
	}
	ta.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageUp})
	ta.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageUp})
	for range len(ta.model.starts) {
		ta.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	}
	if rows := shown(ta); !strings.HasPrefix(rows[0], "word word") || ta.CursorPosition() != 0 {
		t.Fatalf("after going up: cursor %d, rows %q", ta.CursorPosition(), rows)
	}
	escaped := false
	ta.OnEscape = func() { escaped = true }
	ta.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.Canvas().Focused() != nil || !escaped {
		t.Fatalf("Esc: focused %v, OnEscape ran %v", w.Canvas().Focused(), escaped)
	}
	if ta.AcceptsTab() {
		t.Error("the box keeps Tab; it must move to the next field")
	}
}

// TestTextAreaClickAndDragSelect: a click places the cursor where the
// pointer is; a drag selects; a double click selects the word.
func TestTextAreaClickAndDragSelect(t *testing.T) {
	ta, w := newTestTextArea(t, 3)
	ta.SetText("alpha beta gamma")
	r := test.WidgetRenderer(ta).(*textAreaRenderer)
	line := r.lines[0]
	x := func(prefix string) float32 {
		return line.Position().X + fyne.MeasureText(prefix, ta.size, fyne.TextStyle{}).Width
	}
	y := line.Position().Y + line.Size().Height/2
	test.Tap(ta) // focus
	ta.Tapped(&fyne.PointEvent{Position: fyne.NewPos(x("alpha ")+1, y)})
	if w.Canvas().Focused() != ta || ta.CursorPosition() != len("alpha ") {
		t.Fatalf("click: focused %v, cursor %d", w.Canvas().Focused() == ta, ta.CursorPosition())
	}
	to := fyne.NewPos(x("alpha beta")+1, y)
	ta.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.NewDelta(to.X-x("alpha "), 0)})
	ta.DragEnd()
	if got := ta.SelectedText(); got != "beta" {
		t.Fatalf("drag selected %q", got)
	}
	ta.DoubleTapped(&fyne.PointEvent{Position: fyne.NewPos(x("alpha beta g")+1, y)})
	if got := ta.SelectedText(); got != "gamma" {
		t.Fatalf("double click selected %q", got)
	}
}

// TestTextAreaRightClickPastes: a right click offers the clipboard, and
// Paste from that menu puts the clipboard's text at the cursor.
func TestTextAreaRightClickPastes(t *testing.T) {
	ta, w := newTestTextArea(t, 3)
	fyne.CurrentApp().Clipboard().SetContent("see in clinic")
	test.Type(ta, "Please ")
	ta.TappedSecondary(&fyne.PointEvent{Position: fyne.NewPos(5, 5)})
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no menu on a right click")
	}
	var labels []string
	for _, it := range ta.editMenu().Items {
		labels = append(labels, it.Label)
		if it.Label == "Paste" {
			it.Action()
		}
	}
	if ta.Text() != "Please see in clinic" {
		t.Fatalf("menu %q; text after Paste %q", labels, ta.Text())
	}
}
