package widgets

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TextArea is a multi-line, word-wrapped text field for comments and
// messages of a few thousand characters. Fyne's multi-line Entry rewraps
// and re-measures its whole text on every keystroke (several milliseconds
// at 2,000 characters); a TextArea rewraps only the rows an edit reaches,
// draws only the rows in view and keeps its size as the text grows (it
// scrolls inside), so typing never re-lays out the form around it.
//
// It has what a clinician expects of a text box: typing, Backspace and
// Delete, arrows, Ctrl+arrows by word, Home/End, Page Up/Down, Shift to
// select, a click to place
// the cursor, dragging or a double click to select, Ctrl+A/C/X/V,
// Ctrl+Z/Y and a right-click menu. Tab moves to the next field and Esc
// leaves the box.
type TextArea struct {
	widget.DisableableWidget

	// OnChanged runs after each change to the text (as with Fyne's Entry,
	// SetText too).
	OnChanged func(string)
	// OnEscape runs after Esc has taken the focus away.
	OnEscape func()

	placeHolder string
	rows        int
	model       textModel
	first       int // the first row in view
	focused     bool
	shift       bool
	dragFrom    int
	dragging    bool

	size     float32 // text size the advances were measured at
	advances map[rune]float32
}

// NewTextArea returns an empty text area showing rows rows.
func NewTextArea(rows int) *TextArea {
	t := &TextArea{rows: max(1, rows)}
	t.model.advance = t.advance
	t.model.rewrapAll()
	t.ExtendBaseWidget(t)
	return t
}

// SetText replaces the text; the cursor goes to the end.
func (t *TextArea) SetText(s string) {
	t.model.setText(s)
	t.first = 0
	t.changed()
}

// Text is the whole text.
func (t *TextArea) Text() string { return string(t.model.runes) }

// SetPlaceHolder sets the hint shown while the box is empty.
func (t *TextArea) SetPlaceHolder(s string) {
	t.placeHolder = s
	t.Refresh()
}

// SetMinRowsVisible sets how many rows the box shows.
func (t *TextArea) SetMinRowsVisible(n int) {
	t.rows = max(1, n)
	t.Refresh()
}

// CursorPosition is the cursor's offset in runes from the start.
func (t *TextArea) CursorPosition() int { return t.model.cursor }

// SetCursorPosition moves the cursor (and clears the selection).
func (t *TextArea) SetCursorPosition(p int) {
	t.model.moveTo(p, false)
	t.scrollToCursor()
	t.Refresh()
}

// SelectedText is the selected text ("" when none).
func (t *TextArea) SelectedText() string { return t.model.selectedText() }

// AcceptsTab is false: Tab moves to the next field (keyboard-first forms).
func (t *TextArea) AcceptsTab() bool { return false }

// FocusGained shows the cursor.
func (t *TextArea) FocusGained() {
	t.focused = true
	t.Refresh()
}

// FocusLost hides the cursor.
func (t *TextArea) FocusLost() {
	t.focused, t.shift = false, false
	t.Refresh()
}

// TypedRune inserts the character typed (over the selection).
func (t *TextArea) TypedRune(r rune) {
	if t.Disabled() {
		return
	}
	t.model.edit([]rune{r}, true)
	t.changed()
}

// TypedKey edits or moves the cursor.
func (t *TextArea) TypedKey(ev *fyne.KeyEvent) {
	if t.Disabled() {
		return
	}
	m := &t.model
	switch ev.Name {
	case fyne.KeyEscape:
		if c := fyne.CurrentApp().Driver().CanvasForObject(t); c != nil {
			c.Unfocus()
		}
		if t.OnEscape != nil {
			t.OnEscape()
		}
		return
	case fyne.KeyBackspace:
		if m.deleteBack() {
			t.changed()
		}
		return
	case fyne.KeyDelete:
		if m.deleteForward() {
			t.changed()
		}
		return
	case fyne.KeyReturn, fyne.KeyEnter:
		m.edit([]rune{'\n'}, false)
		t.changed()
		return
	}
	p, ok := t.moveTarget(ev.Name)
	if !ok {
		return
	}
	from, to := m.selection()
	if !t.shift && from != to && (ev.Name == fyne.KeyLeft || ev.Name == fyne.KeyRight) {
		// An arrow collapses a selection to its side.
		p = from
		if ev.Name == fyne.KeyRight {
			p = to
		}
	}
	m.moveTo(p, t.shift)
	t.scrollToCursor()
	t.Refresh()
}

// moveTarget is where a movement key takes the cursor.
func (t *TextArea) moveTarget(k fyne.KeyName) (int, bool) {
	m := &t.model
	row := m.rowOf(m.cursor)
	x := m.xOf(m.cursor)
	switch k {
	case fyne.KeyLeft:
		return m.cursor - 1, true
	case fyne.KeyRight:
		return m.cursor + 1, true
	case fyne.KeyUp:
		if row == 0 {
			return 0, true
		}
		return m.positionAt(row-1, x), true
	case fyne.KeyDown:
		if row == len(m.starts)-1 {
			return len(m.runes), true
		}
		return m.positionAt(row+1, x), true
	case fyne.KeyPageUp:
		return m.positionAt(max(0, row-t.rows), x), true
	case fyne.KeyPageDown:
		return m.positionAt(min(len(m.starts)-1, row+t.rows), x), true
	case fyne.KeyHome:
		return m.starts[row], true
	case fyne.KeyEnd:
		return m.rowEnd(row), true
	}
	return 0, false
}

// KeyDown notes Shift for selecting with the arrows.
func (t *TextArea) KeyDown(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		t.shift = true
	}
}

// KeyUp notes Shift's release.
func (t *TextArea) KeyUp(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		t.shift = false
	}
}

// TypedShortcut handles the clipboard, select all, undo and redo.
func (t *TextArea) TypedShortcut(s fyne.Shortcut) {
	m := &t.model
	switch s := s.(type) {
	case *fyne.ShortcutCopy:
		if from, to := m.selection(); from != to && s.Clipboard != nil {
			s.Clipboard.SetContent(m.selectedText())
		}
		return
	case *fyne.ShortcutSelectAll:
		m.anchor, m.cursor = 0, len(m.runes)
		t.Refresh()
		return
	case *desktop.CustomShortcut:
		t.jump(s)
		return
	}
	if t.Disabled() {
		return
	}
	switch s := s.(type) {
	case *fyne.ShortcutCut:
		if from, to := m.selection(); from != to && s.Clipboard != nil {
			s.Clipboard.SetContent(m.selectedText())
			m.deleteBack()
			t.changed()
		}
	case *fyne.ShortcutPaste:
		if s.Clipboard == nil {
			return
		}
		if text := normaliseNewlines(s.Clipboard.Content()); text != "" {
			m.edit([]rune(text), false)
			t.changed()
		}
	case *fyne.ShortcutUndo:
		if m.undoStep() {
			t.changed()
		}
	case *fyne.ShortcutRedo:
		if m.redoStep() {
			t.changed()
		}
	}
}

// jump is Ctrl+Left/Right (a word; Alt on macOS) and Ctrl+Home/End (the
// whole text), with Shift to select.
func (t *TextArea) jump(s *desktop.CustomShortcut) {
	word := fyne.KeyModifierShortcutDefault
	if word == fyne.KeyModifierSuper {
		word = fyne.KeyModifierAlt
	}
	extend := s.Modifier&fyne.KeyModifierShift != 0
	mod := s.Modifier &^ fyne.KeyModifierShift
	m := &t.model
	var p int
	switch {
	case mod == word && s.KeyName == fyne.KeyLeft:
		p = m.wordLeft(m.cursor)
	case mod == word && s.KeyName == fyne.KeyRight:
		p = m.wordRight(m.cursor)
	case mod == fyne.KeyModifierShortcutDefault && s.KeyName == fyne.KeyHome:
		p = 0
	case mod == fyne.KeyModifierShortcutDefault && s.KeyName == fyne.KeyEnd:
		p = len(m.runes)
	default:
		return
	}
	m.moveTo(p, extend)
	t.scrollToCursor()
	t.Refresh()
}

// changed redraws after an edit and tells OnChanged.
func (t *TextArea) changed() {
	t.scrollToCursor()
	t.Refresh()
	if t.OnChanged != nil {
		t.OnChanged(t.Text())
	}
}

// Tapped focuses the box and places the cursor.
func (t *TextArea) Tapped(ev *fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(t); c != nil && !t.Disabled() {
		c.Focus(t)
	}
	t.model.moveTo(t.positionAtPoint(ev.Position), t.shift)
	t.Refresh()
}

// TappedSecondary (a right click) offers Undo, Redo, Cut, Copy, Paste and
// Select all, as a text box does.
func (t *TextArea) TappedSecondary(ev *fyne.PointEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(t)
	if c == nil {
		return
	}
	if !t.Disabled() {
		c.Focus(t)
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(t).Add(ev.Position)
	widget.ShowPopUpMenuAtPosition(t.editMenu(), c, pos)
}

// editMenu is the right-click menu for the text area's state now.
func (t *TextArea) editMenu() *fyne.Menu {
	clip := fyne.CurrentApp().Clipboard()
	item := func(label string, s fyne.Shortcut) *fyne.MenuItem {
		return fyne.NewMenuItem(label, func() { t.TypedShortcut(s) })
	}
	var items []*fyne.MenuItem
	if !t.Disabled() {
		if len(t.model.undo) > 0 {
			items = append(items, item("Undo", &fyne.ShortcutUndo{}))
		}
		if len(t.model.redo) > 0 {
			items = append(items, item("Redo", &fyne.ShortcutRedo{}))
		}
		if len(items) > 0 {
			items = append(items, fyne.NewMenuItemSeparator())
		}
		items = append(items, item("Cut", &fyne.ShortcutCut{Clipboard: clip}))
	}
	items = append(items, item("Copy", &fyne.ShortcutCopy{Clipboard: clip}))
	if !t.Disabled() {
		items = append(items, item("Paste", &fyne.ShortcutPaste{Clipboard: clip}))
	}
	items = append(items, item("Select all", &fyne.ShortcutSelectAll{}))
	return fyne.NewMenu("", items...)
}

// DoubleTapped selects the word under the pointer.
func (t *TextArea) DoubleTapped(ev *fyne.PointEvent) {
	from, to := t.model.wordAt(t.positionAtPoint(ev.Position))
	t.model.anchor, t.model.cursor = from, to
	t.Refresh()
}

// Dragged selects from where the drag began to the pointer.
func (t *TextArea) Dragged(ev *fyne.DragEvent) {
	if !t.dragging {
		start := ev.Position.Subtract(ev.Dragged)
		t.dragFrom = t.positionAtPoint(start)
		t.dragging = true
	}
	t.model.anchor = t.dragFrom
	t.model.cursor = t.positionAtPoint(ev.Position)
	t.scrollToCursor()
	t.Refresh()
}

// DragEnd ends a drag selection.
func (t *TextArea) DragEnd() { t.dragging = false }

// Scrolled moves the rows in view with the mouse wheel.
func (t *TextArea) Scrolled(ev *fyne.ScrollEvent) {
	step := int(-ev.Scrolled.DY / t.lineHeight())
	if step == 0 && ev.Scrolled.DY != 0 {
		step = 1
		if ev.Scrolled.DY > 0 {
			step = -1
		}
	}
	t.first = max(0, min(t.first+step, len(t.model.starts)-t.rows))
	t.Refresh()
}

// Cursor is the text cursor over the box.
func (t *TextArea) Cursor() desktop.Cursor { return desktop.TextCursor }

// positionAtPoint is the text position under a point in the box.
func (t *TextArea) positionAtPoint(p fyne.Position) int {
	pad := theme.InnerPadding()
	row := t.first + int((p.Y-pad/2)/t.lineHeight())
	return t.model.positionAt(row, p.X-pad)
}

// scrollToCursor keeps the cursor's row in view.
func (t *TextArea) scrollToCursor() {
	row := t.model.rowOf(t.model.cursor)
	if row < t.first {
		t.first = row
	} else if row >= t.first+t.rows {
		t.first = row - t.rows + 1
	}
	t.first = max(0, min(t.first, len(t.model.starts)-1))
}

// advance is a character's width at the current text size, measured once.
func (t *TextArea) advance(r rune) float32 {
	if w, ok := t.advances[r]; ok {
		return w
	}
	s := string(r)
	if r == '\t' {
		s = "    "
	}
	w := fyne.MeasureText(s, t.textSize(), fyne.TextStyle{}).Width
	if t.advances == nil {
		t.advances = map[rune]float32{}
	}
	t.advances[r] = w
	return w
}

func (t *TextArea) textSize() float32 { return t.Theme().Size(theme.SizeNameText) }

func (t *TextArea) lineHeight() float32 {
	return fyne.MeasureText("Mg", t.textSize(), fyne.TextStyle{}).Height + theme.LineSpacing()
}

// CreateRenderer draws the box.
func (t *TextArea) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	r := &textAreaRenderer{t: t}
	r.bg = canvas.NewRectangle(color.Transparent)
	r.cursor = canvas.NewRectangle(color.Transparent)
	r.bar = canvas.NewRectangle(color.Transparent)
	r.hint = canvas.NewText("", color.Transparent)
	r.Refresh()
	return r
}

// textAreaRenderer draws the rows in view, the selection on them, the
// cursor and a scroll bar.
type textAreaRenderer struct {
	t      *TextArea
	bg     *canvas.Rectangle
	lines  []*canvas.Text
	sel    []*canvas.Rectangle
	cursor *canvas.Rectangle
	bar    *canvas.Rectangle
	hint   *canvas.Text
	objs   []fyne.CanvasObject
	size   fyne.Size
}

func (r *textAreaRenderer) Destroy() {}

func (r *textAreaRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *textAreaRenderer) MinSize() fyne.Size {
	pad := theme.InnerPadding()
	return fyne.NewSize(fyne.MeasureText("Wrapped comments go here", r.t.textSize(), fyne.TextStyle{}).Width+2*pad,
		float32(r.t.rows)*r.t.lineHeight()+pad)
}

func (r *textAreaRenderer) Layout(s fyne.Size) {
	r.size = s
	r.t.model.setWidth(s.Width - 2*theme.InnerPadding())
	r.t.scrollToCursor()
	r.Refresh()
}

// Refresh redraws what changed: rows whose text is the same keep their
// canvas text untouched.
func (r *textAreaRenderer) Refresh() {
	t := r.t
	th := t.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	if size := t.textSize(); size != t.size {
		t.size, t.advances = size, nil
		t.model.width = -1 // rewrap at the new size on the next Layout
		t.model.setWidth(r.size.Width - 2*theme.InnerPadding())
	}
	pad := theme.InnerPadding()
	lh := t.lineHeight()
	// Background and border, as Fyne draws an entry.
	r.bg.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.bg.StrokeColor = th.Color(theme.ColorNameInputBorder, v)
	if t.focused {
		r.bg.StrokeColor = th.Color(theme.ColorNamePrimary, v)
	}
	r.bg.StrokeWidth = th.Size(theme.SizeNameInputBorder)
	r.bg.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.bg.Resize(r.size)
	r.bg.Refresh()

	fg := th.Color(theme.ColorNameForeground, v)
	if t.Disabled() {
		fg = th.Color(theme.ColorNameDisabled, v)
	}
	for len(r.lines) < t.rows {
		r.lines = append(r.lines, canvas.NewText("", fg))
		r.sel = append(r.sel, canvas.NewRectangle(color.Transparent))
	}
	selFrom, selTo := t.model.selection()
	for i := range r.lines {
		row := t.first + i
		text, line, sel := "", r.lines[i], r.sel[i]
		if i < t.rows && row < len(t.model.starts) {
			text = strings.ReplaceAll(string(t.model.rowText(row)), "\t", "    ")
		}
		line.Move(fyne.NewPos(pad, pad/2+float32(i)*lh))
		line.Resize(fyne.NewSize(r.size.Width-2*pad, lh))
		if line.Text != text || line.Color != fg || line.TextSize != t.size {
			line.Text, line.Color, line.TextSize = text, fg, t.size
			line.Refresh()
		}
		r.placeSelection(sel, row, selFrom, selTo, pad, lh, float32(i))
	}
	r.placeCursor(pad, lh, th, v)
	r.placeBar(th, v)

	r.hint.Text = t.placeHolder
	r.hint.TextSize = t.size
	r.hint.Color = th.Color(theme.ColorNamePlaceHolder, v)
	r.hint.Move(fyne.NewPos(pad, pad/2))
	r.hint.Hidden = len(t.model.runes) > 0 || t.placeHolder == ""
	r.hint.Refresh()

	r.objs = r.objs[:0]
	r.objs = append(r.objs, r.bg)
	for _, s := range r.sel[:t.rows] {
		r.objs = append(r.objs, s)
	}
	r.objs = append(r.objs, r.hint)
	for _, l := range r.lines[:t.rows] {
		r.objs = append(r.objs, l)
	}
	r.objs = append(r.objs, r.cursor, r.bar)
}

// placeSelection highlights the selected part of a row in view.
func (r *textAreaRenderer) placeSelection(sel *canvas.Rectangle, row, from, to int, pad, lh, i float32) {
	t := r.t
	if from == to || row >= len(t.model.starts) || row >= t.first+t.rows {
		sel.Hide()
		return
	}
	start, end := t.model.starts[row], t.model.rowEnd(row)+1
	if row == len(t.model.starts)-1 {
		end = len(t.model.runes)
	}
	a, b := max(from, start), min(to, end)
	if a >= b {
		sel.Hide()
		return
	}
	x0, x1 := r.textX(row, a), r.textX(row, b)
	sel.FillColor = t.Theme().Color(theme.ColorNameSelection, fyne.CurrentApp().Settings().ThemeVariant())
	sel.Move(fyne.NewPos(pad+x0, pad/2+i*lh))
	sel.Resize(fyne.NewSize(max(x1-x0, 2), lh))
	sel.Show()
	sel.Refresh()
}

// textX is the drawn offset of position p on row: the shaped width of the
// row's text before p, so the cursor sits between the characters drawn.
func (r *textAreaRenderer) textX(row, p int) float32 {
	m := &r.t.model
	p = min(p, m.starts[row]+len(m.rowText(row)))
	prefix := strings.ReplaceAll(string(m.runes[m.starts[row]:p]), "\t", "    ")
	return fyne.MeasureText(prefix, r.t.size, fyne.TextStyle{}).Width
}

// placeCursor draws the cursor when the box has the keyboard.
func (r *textAreaRenderer) placeCursor(pad, lh float32, th fyne.Theme, v fyne.ThemeVariant) {
	t := r.t
	row := t.model.rowOf(t.model.cursor)
	if !t.focused || t.Disabled() || row < t.first || row >= t.first+t.rows {
		r.cursor.Hide()
		return
	}
	r.cursor.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.cursor.Move(fyne.NewPos(pad+r.textX(row, t.model.cursor)-1, pad/2+float32(row-t.first)*lh))
	r.cursor.Resize(fyne.NewSize(th.Size(theme.SizeNameInputBorder), lh))
	r.cursor.Show()
	r.cursor.Refresh()
}

// placeBar shows where the rows in view are when there are more rows.
func (r *textAreaRenderer) placeBar(th fyne.Theme, v fyne.ThemeVariant) {
	t := r.t
	n := len(t.model.starts)
	if n <= t.rows {
		r.bar.Hide()
		return
	}
	h := r.size.Height * float32(t.rows) / float32(n)
	y := (r.size.Height - h) * float32(t.first) / float32(n-t.rows)
	w := th.Size(theme.SizeNameScrollBarSmall)
	r.bar.FillColor = th.Color(theme.ColorNameScrollBar, v)
	r.bar.CornerRadius = w / 2
	r.bar.Move(fyne.NewPos(r.size.Width-w-2, y))
	r.bar.Resize(fyne.NewSize(w, h))
	r.bar.Show()
	r.bar.Refresh()
}
