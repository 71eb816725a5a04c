package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

// ReadableColumn centres obj in a column at most width wide.
func ReadableColumn(width float32, obj fyne.CanvasObject) *fyne.Container {
	return container.New(readableColumnLayout{width: width}, obj)
}
