package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// cappedTopLayout places a header above a body: the header gets its
// natural height while that is at most share of the space, and otherwise
// share of it, scrolling inside; the body gets the rest. Its minimum height
// is only the body's plus a header strip, so a tall header (larger text,
// a banner added) never makes the window taller than the screen.
type cappedTopLayout struct {
	content fyne.CanvasObject // the header's content, inside the scroll
	share   float32
}

// capStrip is the least height the header keeps: about one line.
const capStrip = 40

// NewCappedTop returns top above body, with top limited to share (0–1) of
// the height and scrolled inside when it needs more.
func NewCappedTop(top, body fyne.CanvasObject, share float32) *fyne.Container {
	scroll := container.NewVScroll(top)
	return container.New(&cappedTopLayout{content: top, share: share}, scroll, body)
}

func (l *cappedTopLayout) topHeight(height float32) float32 {
	return fyne.Min(l.content.MinSize().Height, fyne.Max(capStrip, height*l.share))
}

// Layout gives the header its (capped) height and the body the rest.
func (l *cappedTopLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 2 {
		return
	}
	th := l.topHeight(size.Height)
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(size.Width, th))
	objs[1].Move(fyne.NewPos(0, th))
	objs[1].Resize(fyne.NewSize(size.Width, size.Height-th))
}

// MinSize is as wide as the wider of the two, and as tall as the body
// with a strip of header.
func (l *cappedTopLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 2 {
		return fyne.Size{}
	}
	b := objs[1].MinSize()
	return fyne.NewSize(fyne.Max(l.content.MinSize().Width, b.Width), b.Height+fyne.Min(l.content.MinSize().Height, capStrip))
}
