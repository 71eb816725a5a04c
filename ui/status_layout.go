package ui

import (
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// readableColumnLayout centres its objects in a column at most width wide, as tall
// as they need: a readable measure for screens of text and forms, however
// wide the window.
type readableColumnLayout struct{ width float32 }

// Layout implements fyne.Layout.
func (l readableColumnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := fyne.Min(size.Width, l.width)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, fyne.Max(size.Height, o.MinSize().Height)))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

// MinSize implements fyne.Layout.
func (l readableColumnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h, w float32
	for _, o := range objs {
		m := o.MinSize()
		h = fyne.Max(h, m.Height)
		w = fyne.Max(w, m.Width)
	}
	return fyne.NewSize(fyne.Min(w, l.width), h)
}

// readableColumn centres obj in a column at most width wide.
func readableColumn(width float32, obj fyne.CanvasObject) *fyne.Container {
	return container.New(readableColumnLayout{width: width}, obj)
}

// clockText writes a time as "14:05" when it is today (local time), and
// "02 Mar 14:05" otherwise; "never" when unknown.
func clockText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	lt, ln := t.Local(), now.Local()
	if lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay() {
		return lt.Format("15:04")
	}
	return lt.Format("02 Jan 15:04")
}

// countOf writes "1 decision" / "3 decisions".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// panelBox sets obj on a tinted panel, to group related lines.
func panelBox(obj fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(obj))
}
