package vetting

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// worklistTable is the virtualised table: a widgets.DataTable of the rows
// as triage.FilterSort ordered them, whose cells show badges and the
// cursor, whose headings sort through the WorklistPanel, with the keys it
// does not use itself forwarded to the shortcut Registry, and column
// widths that follow the text size and are kept after a drag.
type worklistTable = widgets.DataTable[*triage.Row]

func newWorklistTable(wl *WorklistPanel, keys *shortcuts.Registry) *worklistTable {
	cols := make([]widgets.Column[*triage.Row], len(columns))
	for i, c := range columns {
		cols[i] = widgets.Column[*triage.Row]{Heading: c.title, Width: wl.widths[i]}
	}
	t := widgets.NewDataTable(cols)
	t.SetCells(newWorklistCell, func(row, col int, r *triage.Row, o fyne.CanvasObject) {
		text, badge := wl.cellText(r, col)
		c := o.(*worklistCell)
		c.row = r.UBRN
		outlined := text != "" && badge == "" && (columns[col].sort == triage.ColumnPriority ||
			(columns[col].sort == triage.ColumnLocalStatus && r.Local.Decided()))
		c.set(text, badge, outlined, r.UBRN == wl.openUBRN, row == wl.cursor, col == 0, r.Local.Decided())
	})
	t.SortOutside(wl.sortedColumn, wl.SortBy)
	t.OnSelected = func(row int, _ *triage.Row) {
		wl.setCursor(row)
		wl.openCursor()
		// The row highlight is the worklist's own; drop the table's
		// single-cell one.
		t.UnselectAll()
	}
	// The worklist keys (↓/↑, Enter, the decision keys) and typed
	// characters (j/k, A, R, /…) go to the Registry; ←/→ scroll the
	// columns as usual.
	t.SetKeys(func(ev *fyne.KeyEvent) bool {
		if keys != nil && keys.TypedKey(ev) {
			return true
		}
		return ev.Name != fyne.KeyLeft && ev.Name != fyne.KeyRight
	}, func(r rune) bool {
		if keys != nil {
			keys.TypedRune(r)
		}
		return true
	})
	t.OnColumnResized(func(col int, width float32) { wl.columnResized(col, width/max(wl.scale, 0.1)) })
	t.BeforeRefresh(wl.applyWidths)
	return t
}

// applyWidths sets the columns' widths for the text size in use: the kept
// widths (for normal text) grow and shrink with the text, so identifiers
// are never cut, and a column is never narrower than its heading.
func (wl *WorklistPanel) applyWidths() {
	s := textScale()
	if s == wl.scale {
		return
	}
	wl.scale = s
	for i, c := range columns {
		wl.table.SetColumnWidth(i, max(wl.widths[i]*s, widgets.HeadingWidth(c.title, true)))
	}
}

// sortedColumn is the column the worklist is sorted by (-1 for none) and
// whether it is descending, for the headings' arrows.
func (wl *WorklistPanel) sortedColumn() (int, bool) {
	for i, c := range columns {
		if c.sort == wl.sort.Column {
			return i, wl.sort.Descending
		}
	}
	return -1, false
}

// textScale is the text-size factor of the app's theme (1 without one).
func textScale() float32 {
	if a := fyne.CurrentApp(); a != nil {
		if th, ok := a.Settings().Theme().(*style.Theme); ok && th.TextScale() > 0 {
			return th.TextScale()
		}
	}
	return 1
}

// worklistCell is one table cell: the row background, the cursor's bar,
// an optional badge (a coloured pill behind the text) and the text. Text is
// drawn with canvas.Text and shortened with "…" to fit, which costs far
// less than a truncating label when thousands of rows scroll by.
type worklistCell struct {
	widget.BaseWidget
	bg      *canvas.Rectangle
	mark    *canvas.Rectangle // the keyboard cursor's bar, in the first column
	badgeBg *canvas.Rectangle
	text    *canvas.Text // badge text
	plain   *canvas.Text // plain text
	full    string       // the plain text before shortening
	fitted  float32      // the width full was shortened for
	// fittedStyle is the style full was shortened in.
	fittedStyle fyne.TextStyle
	badge       bool
	state       *cellState
	row         string // the UBRN of the row shown
}

func newWorklistCell() fyne.CanvasObject {
	c := &worklistCell{bg: canvas.NewRectangle(color.Transparent), mark: canvas.NewRectangle(color.Transparent), badgeBg: canvas.NewRectangle(color.Transparent),
		text: canvas.NewText("", nil), plain: canvas.NewText("", nil)}
	c.mark.Hide()
	c.badgeBg.CornerRadius = 4
	c.text.TextStyle = fyne.TextStyle{Bold: true}
	c.ExtendBaseWidget(c)
	return c
}

// cellState is what a cell shows; set does nothing when it is unchanged,
// so refreshing the table costs nothing for the cells that did not change.
type cellState struct {
	text                         string
	badge                        fyne.ThemeColorName
	outlined, open, cursor, mark bool
	decided                      bool
	// theme is the app's theme the cell was drawn with: a new one (light,
	// dark, another text size) redraws every cell.
	theme fyne.Theme
}

// set shows text; badge names the badge colour ("" for plain text,
// toneDanger for text in the error colour); outlined draws a plain badge
// (routine priority) with a border, so the priority column always shows a
// badge with its text. The open referral's row is shaded; the keyboard
// cursor's row is shaded and, in its first cell, marked with a bar (a
// shape, not only a colour).
func (c *worklistCell) set(text string, badge fyne.ThemeColorName, outlined, open, cursor, first, decided bool) {
	st := cellState{text: text, badge: badge, outlined: outlined, open: open, cursor: cursor, mark: cursor && first,
		decided: decided, theme: fyne.CurrentApp().Settings().Theme()}
	if c.state != nil && *c.state == st {
		return
	}
	c.state = &st
	if st.mark {
		c.mark.FillColor = style.Color(theme.ColorNamePrimary)
		c.mark.Show()
	} else {
		c.mark.Hide()
	}
	switch {
	case open:
		c.bg.FillColor = style.Color(style.ColorNameRowSelected)
	case cursor:
		c.bg.FillColor = style.Color(style.ColorNameRowCursor)
	default:
		c.bg.FillColor = color.Transparent
	}
	c.badge = (badge != "" && badge != toneDanger) || outlined
	if c.badge {
		c.plain.Hide()
		c.text.Text = text
		c.text.TextSize = theme.CaptionTextSize()
		if badge != "" {
			c.badgeBg.FillColor = style.Color(badge)
			c.badgeBg.StrokeWidth = 0
			c.text.Color = style.Color(style.ColorNameOnBadge)
			if badge == style.ColorNameUrgent {
				c.text.Color = color.Black // dark on amber reads in both themes
			}
		} else {
			c.badgeBg.FillColor = color.Transparent
			c.badgeBg.StrokeColor = style.Color(theme.ColorNameForeground)
			c.badgeBg.StrokeWidth = 1
			c.text.Color = style.Color(theme.ColorNameForeground)
		}
		c.badgeBg.Show()
		c.text.Show()
	} else {
		c.badgeBg.Hide()
		c.text.Hide()
		c.plain.Show()
		size := c.plain.TextSize
		c.plain.TextSize = theme.TextSize()
		c.plain.Color = style.Color(theme.ColorNameForeground)
		c.plain.TextStyle = fyne.TextStyle{}
		if decided {
			// A decided referral's row is set apart in every column:
			// muted and in italics (its Status badge says which way).
			c.plain.Color = style.Color(theme.ColorNamePlaceHolder)
			c.plain.TextStyle = fyne.TextStyle{Italic: true}
		}
		if badge == toneDanger {
			c.plain.Color = style.Color(theme.ColorNameError)
		}
		if c.full != text || c.plain.TextStyle != c.fittedStyle || c.plain.TextSize != size {
			c.full, c.fitted, c.fittedStyle = text, -1, c.plain.TextStyle
		}
	}
	c.Refresh()
}

// Text returns the cell's whole text (before any shortening).
func (c *worklistCell) Text() string {
	if c.badge {
		return c.text.Text
	}
	return c.full
}

// CreateRenderer draws the cell.
func (c *worklistCell) CreateRenderer() fyne.WidgetRenderer {
	return &worklistCellRenderer{c: c}
}

type worklistCellRenderer struct{ c *worklistCell }

func (r *worklistCellRenderer) Layout(size fyne.Size) {
	c := r.c
	c.bg.Move(fyne.NewPos(0, 0))
	c.bg.Resize(size)
	c.mark.Move(fyne.NewPos(0, 0))
	c.mark.Resize(fyne.NewSize(4, size.Height))
	pad := theme.Padding()
	inner := theme.InnerPadding()
	if c.badge {
		ts := c.text.MinSize()
		w := min(ts.Width+3*pad, size.Width-pad)
		h := ts.Height + pad
		x, y := pad+2, (size.Height-h)/2
		c.badgeBg.Move(fyne.NewPos(x, y))
		c.badgeBg.Resize(fyne.NewSize(w, h))
		c.text.Move(fyne.NewPos(x+(w-ts.Width)/2, y+(h-ts.Height)/2))
		c.text.Resize(ts)
		return
	}
	avail := size.Width - 2*inner
	if c.fitted != avail {
		c.fitted = avail
		c.plain.Text = widgets.Ellipsize(c.full, avail, c.plain.TextSize, c.plain.TextStyle)
	}
	ts := c.plain.MinSize()
	c.plain.Move(fyne.NewPos(inner, (size.Height-ts.Height)/2))
	c.plain.Resize(fyne.NewSize(avail, ts.Height))
}

func (r *worklistCellRenderer) MinSize() fyne.Size {
	h := fyne.MeasureText("Hg", theme.TextSize(), fyne.TextStyle{}).Height
	return fyne.NewSize(4*theme.InnerPadding(), h+2*theme.InnerPadding())
}

func (r *worklistCellRenderer) Refresh() {
	r.c.bg.Refresh()
	r.c.mark.Refresh()
	r.c.badgeBg.Refresh()
	r.Layout(r.c.Size())
	r.c.text.Refresh()
	r.c.plain.Refresh()
}

func (r *worklistCellRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.c.bg, r.c.mark, r.c.badgeBg, r.c.text, r.c.plain}
}

func (r *worklistCellRenderer) Destroy() {}

// keyEntry is a text field on which Esc leaves the field (Fyne gives a
// focused field every plain key, so the window's Esc would never see it).
// OnEscape, if set, runs after.
type keyEntry struct {
	widget.Entry
	OnEscape func()
}

func newKeyEntry() *keyEntry {
	e := &keyEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab moves to the next field (keyboard-first forms).
func (e *keyEntry) AcceptsTab() bool { return false }

// TypedKey leaves the field on Esc.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
			c.Unfocus()
		}
		if e.OnEscape != nil {
			e.OnEscape()
		}
		return
	}
	e.Entry.TypedKey(ev)
}
