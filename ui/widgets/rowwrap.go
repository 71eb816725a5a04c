package widgets

import (
	"fyne.io/fyne/v2"
)

// rowWrapLayout places objects left to right at their minimum sizes,
// wrapping to a new row when the next does not fit, like Fyne's
// RowWrapLayout, except for its minimum width: that is the widest object,
// whatever width it was last laid out at. (Fyne's keeps the width of its
// last layout, so once the window was wide it could never be made
// narrower again, and a row of fields pushed the window past the screen.)
type rowWrapLayout struct {
	hpad, vpad float32
	width      float32 // the width of the last layout (0: not laid out yet)
}

// NewRowWrapLayout returns a wrapping row layout with hpad between objects
// in a row and vpad between rows.
func NewRowWrapLayout(hpad, vpad float32) fyne.Layout {
	return &rowWrapLayout{hpad: hpad, vpad: vpad}
}

// place calls at (if not nil) with each visible object's position in a
// row width wide, and returns the height the rows take.
func (l *rowWrapLayout) place(objs []fyne.CanvasObject, width float32, at func(fyne.CanvasObject, fyne.Position)) float32 {
	var rowH float32
	for _, o := range objs {
		if o.Visible() {
			rowH = fyne.Max(rowH, o.MinSize().Height)
		}
	}
	x, y, first := float32(0), float32(0), true
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		s := o.MinSize()
		if !first && width > 0 && x+s.Width > width {
			x, y = 0, y+rowH+l.vpad
		}
		first = false
		if at != nil {
			at(o, fyne.NewPos(x, y))
		}
		x += s.Width + l.hpad
	}
	if first {
		return 0
	}
	return y + rowH
}

// Layout implements fyne.Layout.
func (l *rowWrapLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	l.place(objs, size.Width, func(o fyne.CanvasObject, p fyne.Position) {
		o.Resize(o.MinSize())
		o.Move(p)
	})
}

// MinSize implements fyne.Layout: as wide as the widest object, as tall as
// the rows at the last layout's width (one row before the first).
func (l *rowWrapLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	for _, o := range objs {
		if o.Visible() {
			w = fyne.Max(w, o.MinSize().Width)
		}
	}
	return fyne.NewSize(w, l.place(objs, l.width, nil))
}
