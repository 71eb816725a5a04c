package widgets

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tipLayers maps each window's canvas to its tooltip layer (WithTips): a
// few windows in the app's life, so entries are not removed.
var tipLayers = struct {
	sync.Mutex
	m map[fyne.Canvas]*tipLayer
}{m: map[fyne.Canvas]*tipLayer{}}

// WithTips puts a tooltip layer over a window's content, for the Tip
// widgets in it. The layer takes no room and no clicks: a tooltip, however
// long its text, never grows the window.
func WithTips(c fyne.Canvas, content fyne.CanvasObject) fyne.CanvasObject {
	l := &tipLayer{canvas: c}
	l.bg = canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	l.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	l.bg.StrokeWidth = 1
	l.bg.CornerRadius = theme.InputRadiusSize()
	l.text = widget.NewLabel("")
	l.text.Wrapping = fyne.TextWrapBreak
	l.box = container.New(noLayout{}, l.bg, l.text)
	l.box.Hide()
	tipLayers.Lock()
	tipLayers.m[c] = l
	tipLayers.Unlock()
	return container.NewStack(content, l.box)
}

// tipLayer shows one tooltip at a time, placed by show.
type tipLayer struct {
	canvas fyne.Canvas
	box    *fyne.Container
	bg     *canvas.Rectangle
	text   *widget.Label
}

// noLayout leaves its objects where they were put and asks for no room.
type noLayout struct{}

func (noLayout) Layout([]fyne.CanvasObject, fyne.Size) {}
func (noLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.Size{} }

// maxTipRunes is the most of a text a tooltip shows: a longer one (a
// hostile 3,000-character file name) is cut in the middle.
const maxTipRunes = 300

// show puts text under the area at pos (absolute) of height h, kept
// inside the window, wrapped when wider than the window.
func (l *tipLayer) show(text string, pos fyne.Position, h float32) {
	win := l.canvas.Size()
	pad := theme.Padding()
	l.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	l.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	if r := []rune(text); len(r) > maxTipRunes {
		text = string(r[:maxTipRunes/3]) + "…" + string(r[len(r)-2*maxTipRunes/3:])
	}
	l.text.Text = text
	full := fyne.MeasureText(text, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
	w := min(full, max(win.Width-2*pad, 1))
	l.text.Resize(fyne.NewSize(w, 1))
	size := fyne.NewSize(w, min(l.text.MinSize().Height, win.Height))
	l.text.Resize(size)
	at := fyne.NewPos(min(pos.X, win.Width-w-pad), pos.Y+h)
	if at.Y+size.Height > win.Height {
		at.Y = max(0, pos.Y-size.Height) // above, near the window's foot
	}
	at.X = max(at.X, pad)
	l.text.Move(fyne.Position{})
	l.bg.Resize(size)
	l.box.Move(at)
	l.box.Resize(size)
	l.text.Refresh()
	l.box.Show()
	l.box.Refresh()
}

func (l *tipLayer) hide() {
	l.box.Hide()
}

// Tip shows a tooltip while the pointer is over its content: Text's
// answer at that moment, nothing when it answers "".
type Tip struct {
	widget.BaseWidget
	content fyne.CanvasObject
	// Text is the tooltip's text now ("" for none, e.g. while the content
	// shows its text whole).
	Text func() string
}

var _ desktop.Hoverable = (*Tip)(nil)

// NewTip wraps content with a tooltip.
func NewTip(content fyne.CanvasObject, text func() string) *Tip {
	t := &Tip{content: content, Text: text}
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer draws the content.
func (t *Tip) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.content) }

// MouseIn shows the tooltip.
func (t *Tip) MouseIn(*desktop.MouseEvent) {
	text := ""
	if t.Text != nil {
		text = t.Text()
	}
	l := t.layer()
	if text == "" || l == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(t)
	l.show(text, pos, t.Size().Height)
}

// MouseMoved does nothing (the tooltip stays where it was put).
func (t *Tip) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the tooltip.
func (t *Tip) MouseOut() {
	if l := t.layer(); l != nil {
		l.hide()
	}
}

func (t *Tip) layer() *tipLayer {
	c := fyne.CurrentApp().Driver().CanvasForObject(t)
	if c == nil {
		return nil
	}
	tipLayers.Lock()
	defer tipLayers.Unlock()
	return tipLayers.m[c]
}
