package widgets

import (
	"math"

	"fyne.io/fyne/v2"
)

// columnsWrapLayout is a grid of equal columns, at most max of them, as
// many as fit the width it is given: a narrow pane (or larger text) gets
// fewer columns and more rows instead of growing the window. Its minimum
// width is one column's; its minimum height is that of the rows at the last
// layout's width.
type columnsWrapLayout struct {
	max        int
	hpad, vpad float32
	width      float32 // the width of the last layout (0: not laid out yet)
}

// NewColumnsWrapLayout returns a grid of at most most equal columns that
// wraps onto more rows when its width does not hold them all.
func NewColumnsWrapLayout(most int, hpad, vpad float32) fyne.Layout {
	return &columnsWrapLayout{max: max(most, 1), hpad: hpad, vpad: vpad}
}

// cell returns the size every cell needs and the visible objects.
func (l *columnsWrapLayout) cell(objs []fyne.CanvasObject) (fyne.Size, []fyne.CanvasObject) {
	var c fyne.Size
	var vis []fyne.CanvasObject
	for _, o := range objs {
		if o.Visible() {
			c = c.Max(o.MinSize())
			vis = append(vis, o)
		}
	}
	return c, vis
}

// columns is how many columns of cell width fit in width (at most max; at
// least one; max before the first layout).
func (l *columnsWrapLayout) columns(cell float32, width float32, n int) int {
	cols := l.max
	if width > 0 {
		cols = int(math.Floor(float64((width + l.hpad) / (cell + l.hpad))))
	}
	return max(1, min(cols, l.max, max(n, 1)))
}

// Layout implements fyne.Layout.
func (l *columnsWrapLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	c, vis := l.cell(objs)
	cols := l.columns(c.Width, size.Width, len(vis))
	w := (size.Width - l.hpad*float32(cols-1)) / float32(cols)
	for i, o := range vis {
		row, col := i/cols, i%cols
		o.Move(fyne.NewPos(float32(col)*(w+l.hpad), float32(row)*(c.Height+l.vpad)))
		o.Resize(fyne.NewSize(w, c.Height))
	}
}

// MinSize implements fyne.Layout.
func (l *columnsWrapLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	c, vis := l.cell(objs)
	if len(vis) == 0 {
		return fyne.Size{}
	}
	cols := l.columns(c.Width, l.width, len(vis))
	rows := (len(vis) + cols - 1) / cols
	return fyne.NewSize(c.Width, float32(rows)*c.Height+float32(rows-1)*l.vpad)
}
