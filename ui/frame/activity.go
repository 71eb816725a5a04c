package frame

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/bridge"
)

// ActivityWatcher wraps the window's content and reports the clinician's
// activity (Runtime.Touch) so the session only locks after real
// inactivity. Fyne has no window-wide input hook, so activity is gathered
// from what reaches the window itself: pointer movement and clicks over
// anything that does not take them (labels, panels, the document), key
// presses while no field has focus, and, polled, typing in a focused
// field.
type ActivityWatcher struct {
	widget.BaseWidget
	content fyne.CanvasObject
	touch   func()
}

var (
	_ desktop.Hoverable = (*ActivityWatcher)(nil)
	_ desktop.Mouseable = (*ActivityWatcher)(nil)
)

// NewActivityWatcher wraps content; touch is called on activity.
func NewActivityWatcher(content fyne.CanvasObject, touch func()) *ActivityWatcher {
	w := &ActivityWatcher{content: content, touch: touch}
	w.ExtendBaseWidget(w)
	return w
}

func (w *ActivityWatcher) poke() {
	if w.touch != nil {
		w.touch()
	}
}

// CreateRenderer implements fyne.Widget.
func (w *ActivityWatcher) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(w.content)
}

// MouseIn implements desktop.Hoverable.
func (w *ActivityWatcher) MouseIn(*desktop.MouseEvent) { w.poke() }

// MouseMoved implements desktop.Hoverable.
func (w *ActivityWatcher) MouseMoved(*desktop.MouseEvent) { w.poke() }

// MouseOut implements desktop.Hoverable.
func (w *ActivityWatcher) MouseOut() {}

// MouseDown implements desktop.Mouseable.
func (w *ActivityWatcher) MouseDown(*desktop.MouseEvent) { w.poke() }

// MouseUp implements desktop.Mouseable.
func (w *ActivityWatcher) MouseUp(*desktop.MouseEvent) {}

// focusSignature describes the focused field and what is typed in it, so a
// change between two polls means the clinician typed.
func focusSignature(c fyne.Canvas) string {
	f := c.Focused()
	if f == nil {
		return ""
	}
	if e, ok := f.(*widget.Entry); ok {
		return fmt.Sprintf("%p:%d:%d:%d", e, len(e.Text), e.CursorRow, e.CursorColumn)
	}
	if e, ok := f.(interface{ SelectedText() string }); ok {
		return fmt.Sprintf("%p:%d", f, len(e.SelectedText()))
	}
	return fmt.Sprintf("%p", f)
}

// WatchActivity has the frame report activity to touch (the window's
// content is the frame's activityWatcher, set when the window was made, so
// the content is never replaced). Typing in a focused field is noticed by
// polling every poll interval.
func WatchActivity(f *Frame, b *bridge.Bridge, poll time.Duration, touch func()) {
	f.SetOnActivity(touch)
	w := f.Window()
	if dc, ok := w.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(func(*fyne.KeyEvent) { touch() })
	}
	last := focusSignature(w.Canvas())
	b.Every(poll, func() {
		if sig := focusSignature(w.Canvas()); sig != last {
			last = sig
			if sig != "" {
				touch()
			}
		}
	})
}
