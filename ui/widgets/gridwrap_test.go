package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// TestColumnsWrapFitsANarrowPane: six filters in at most three columns
// need only one column's width, and wrap onto more rows when the pane
// narrows (larger text, a narrow window) instead of growing the window.
func TestColumnsWrapFitsANarrowPane(t *testing.T) {
	var objs []fyne.CanvasObject
	for range 6 {
		r := canvas.NewRectangle(nil)
		r.SetMinSize(fyne.NewSize(100, 20))
		objs = append(objs, r)
	}
	c := container.New(NewColumnsWrapLayout(3, 10, 5), objs...)
	if m := c.MinSize(); m.Width != 100 || m.Height != 45 {
		t.Fatalf("before the first layout: min %v, want 100 wide and two rows (45)", m)
	}
	for _, tc := range []struct {
		width, height float32
		rowY, colX    float32 // where the fourth object goes
	}{
		{400, 45, 25, 0},     // three columns
		{215, 70, 25, 112.5}, // two columns, three rows: the fourth is in the second column
		{150, 145, 75, 0},    // one column
	} {
		c.Resize(fyne.NewSize(tc.width, 200))
		if m := c.MinSize(); m.Width != 100 || m.Height != tc.height {
			t.Errorf("at %v wide: min %v, want 100×%v", tc.width, m, tc.height)
		}
		if p := objs[3].Position(); p.Y != tc.rowY || p.X != tc.colX {
			t.Errorf("at %v wide: fourth object at %v, want (%v, %v)", tc.width, p, tc.colX, tc.rowY)
		}
	}
}
