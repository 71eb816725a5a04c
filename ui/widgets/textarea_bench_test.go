package widgets

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// BenchmarkTextAreaKeystrokeAt8000Chars types into the middle of a text
// area holding 8,000 characters (the most an A&G reply's guidance may
// have), drawn at a form's width: each iteration types a character and
// deletes it (two keystrokes). ms/keystroke is the figure; the target for
// a comment box is under 1 ms.
func BenchmarkTextAreaKeystrokeAt8000Chars(b *testing.B) {
	a := test.NewTempApp(b)
	ta := NewTextArea(6)
	w := a.NewWindow("")
	defer w.Close()
	w.SetContent(ta)
	w.Resize(fyne.NewSize(420, 300))
	ta.SetText(strings.Repeat("Please try a full-dose PPI for eight weeks first. ", 160))
	w.Canvas().Focus(ta)
	ta.SetCursorPosition(4000)
	for b.Loop() {
		ta.TypedRune('x')
		ta.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(2*b.N), "ms/keystroke")
	if n := len(ta.Text()); n != 8000 {
		b.Fatalf("%d characters after typing", n)
	}
}
