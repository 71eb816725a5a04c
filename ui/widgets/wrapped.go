package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// wrapCentreLayout gives its objects the full width it has (less padding),
// as tall as their text needs at that width, centred in the space. It asks
// for no room itself: a wrapping label in it never makes the window wider
// or taller, unlike in a centre container, which gives a wrapping label
// only its narrowest width (one character per line).
type wrapCentreLayout struct{}

// Layout implements fyne.Layout.
func (wrapCentreLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	w := fyne.Max(size.Width-2*pad, 0)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
		h := o.MinSize().Height // at the new width
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(pad, fyne.Max((size.Height-h)/2, 0)))
	}
}

// MinSize implements fyne.Layout: nothing, so the text follows the space
// it is given rather than setting it.
func (wrapCentreLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.Size{} }

// WrapCentre shows obj (a wrapping label) across the width it is given,
// centred, without asking for room of its own.
func WrapCentre(obj fyne.CanvasObject) *fyne.Container {
	return container.New(wrapCentreLayout{}, obj)
}
