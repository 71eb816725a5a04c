package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// KeySelect is a drop-down that does not keep the keyboard: once an
// option is chosen it still has focus (Fyne's Select takes it on a tap),
// so Esc and typed characters, which it has no use for, leave it and go to
// the window's own key handlers (the shortcuts: Esc, "/", A, R…).
// Space and the arrow keys still open and step through it.
type KeySelect struct {
	widget.Select
}

// NewKeySelect returns a KeySelect with the options, calling changed when
// the choice changes.
func NewKeySelect(options []string, changed func(string)) *KeySelect {
	s := &KeySelect{}
	s.Options, s.OnChanged = options, changed
	s.ExtendBaseWidget(s)
	return s
}

// TypedKey gives Esc to the window; other keys work the drop-down.
func (s *KeySelect) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name != fyne.KeyEscape {
		s.Select.TypedKey(ev)
		return
	}
	if c := s.leave(); c != nil && c.OnTypedKey() != nil {
		c.OnTypedKey()(ev)
	}
}

// TypedRune gives typed characters to the window.
func (s *KeySelect) TypedRune(r rune) {
	if c := s.leave(); c != nil && c.OnTypedRune() != nil {
		c.OnTypedRune()(r)
	}
}

// leave takes the keyboard from the drop-down and returns its canvas.
func (s *KeySelect) leave() fyne.Canvas {
	c := fyne.CurrentApp().Driver().CanvasForObject(s)
	if c != nil {
		c.Unfocus()
	}
	return c
}
