package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// box is an object of a fixed minimum size.
func box(w, h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(w, h))
	return r
}

// TestRowWrapShrinksAfterAWideLayout: a row of fields laid out on one
// line in a wide window still lets the window be made narrower (its
// minimum width is the widest field), and wraps into rows when it is.
func TestRowWrapShrinksAfterAWideLayout(t *testing.T) {
	c := container.New(NewRowWrapLayout(16, 0), box(180, 20), box(120, 20), box(170, 20), box(160, 20))
	c.Resize(fyne.NewSize(1000, 20))
	if m := c.MinSize(); m.Width != 180 || m.Height != 20 {
		t.Errorf("laid out wide: min %v, want 180×20", m)
	}
	c.Resize(fyne.NewSize(400, 100))
	if m := c.MinSize(); m.Width != 180 || m.Height != 40 {
		t.Errorf("laid out at 400: min %v, want 180×40 (two rows)", m)
	}
	if p := c.Objects[2].Position(); p.X != 0 || p.Y != 20 {
		t.Errorf("the third field is at %v, want the start of the second row", p)
	}
}
