package widgets

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Column is one column of a DataTable of rows of T.
type Column[T any] struct {
	// Heading is the column's title, shown in bold above it.
	Heading string
	// Width is the column's width to start with; never less than its
	// heading needs (HeadingWidth).
	Width float32
	// Text is what the column's cell says for a row (on one line, cut
	// with "…" when too long).
	Text func(T) string
	// Style, if set, is how the cell looks for a row (nil: medium
	// importance, plain text).
	Style func(T) (widget.Importance, fyne.TextStyle)
	// Compare, if set, makes the column sortable: a tap on its heading
	// sorts the rows by it (ascending, then descending on the next tap),
	// and the heading shows an arrow. It returns <0, 0 or >0 as cmp.Compare
	// does.
	Compare func(a, b T) int
}

// DataTable is a virtualised table of rows of T: one-line cells under
// bold headings, sorted by a tap on a sortable heading, with selection by
// a tap or the keyboard (the arrow keys move, Space selects, as Fyne's
// tables do). Only the rows on screen have widgets, so a long list costs
// nothing to scroll. Use it on the UI goroutine.
type DataTable[T any] struct {
	cols  []Column[T]
	given []T   // in the order SetRows had them
	rows  []T   // as shown
	order []int // rows[i] is given[order[i]]
	sort  int   // the sorted column, -1 for none (the order given)
	desc  bool
	sel   int  // the selected row as shown, -1 for none
	quiet bool // moving the selection with its row: not a new choice
	table *hookedTable
	hooks hooks[T]

	// OnSelected, if set, is called when a row is selected (by a tap,
	// the keyboard or Select) with its place as shown and the row.
	OnSelected func(row int, item T)
}

// NewDataTable returns an empty table with the columns.
func NewDataTable[T any](cols []Column[T]) *DataTable[T] {
	d := &DataTable[T]{cols: cols, sort: -1, sel: -1}
	d.table = newHookedTable()
	d.table.Length = func() (int, int) { return len(d.rows), len(d.cols) }
	d.table.CreateCell = func() fyne.CanvasObject {
		if d.hooks.newCell != nil {
			return d.hooks.newCell()
		}
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	d.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		if d.hooks.fillCell == nil {
			d.updateCell(id, o.(*widget.Label))
		} else if id.Row >= 0 && id.Row < len(d.rows) && id.Col >= 0 && id.Col < len(d.cols) {
			d.hooks.fillCell(id.Row, id.Col, d.rows[id.Row], o)
		}
	}
	d.table.CreateHeader = func() fyne.CanvasObject {
		h := newDataHeader(d.SortBy)
		d.table.headers[h] = true
		return h
	}
	d.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*dataHeader).set(id.Col, d.heading(id.Col)) }
	d.table.relabel = func(h *dataHeader) { h.set(h.col, d.heading(h.col)) }
	for i, c := range cols {
		d.table.SetColumnWidth(i, max(c.Width, HeadingWidth(c.Heading, c.Compare != nil)))
	}
	d.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(d.rows) {
			return
		}
		d.sel = id.Row
		if d.OnSelected != nil && !d.quiet {
			d.OnSelected(id.Row, d.rows[id.Row])
		}
	}
	return d
}

// Object returns the table's widget, to place on screen.
func (d *DataTable[T]) Object() fyne.CanvasObject { return d.table }

// SetRows replaces the rows, keeping the sort the clinician chose, and
// redraws. The selection is cleared (select again what should stay
// selected). The table keeps its own copy of the slice.
func (d *DataTable[T]) SetRows(rows []T) {
	d.given = slices.Clone(rows)
	d.arrange()
	d.UnselectAll()
	d.table.Refresh()
}

// Rows returns the rows in the order shown.
func (d *DataTable[T]) Rows() []T { return slices.Clone(d.rows) }

// Len returns how many rows there are.
func (d *DataTable[T]) Len() int { return len(d.rows) }

// Row returns the row shown at place i.
func (d *DataTable[T]) Row(i int) (T, bool) {
	if i < 0 || i >= len(d.rows) {
		var zero T
		return zero, false
	}
	return d.rows[i], true
}

// Index returns the place of the first row shown that match accepts, or
// -1.
func (d *DataTable[T]) Index(match func(T) bool) int { return slices.IndexFunc(d.rows, match) }

// Select selects the row shown at place i (and calls OnSelected).
func (d *DataTable[T]) Select(i int) {
	if i >= 0 && i < len(d.rows) {
		d.table.Select(widget.TableCellID{Row: i, Col: 0})
	}
}

// UnselectAll clears the selection.
func (d *DataTable[T]) UnselectAll() {
	d.sel = -1
	d.table.UnselectAll()
}

// Selected returns the place of the selected row as shown, or -1.
func (d *DataTable[T]) Selected() int { return d.sel }

// Refresh redraws the cells (after what their text depends on changed).
func (d *DataTable[T]) Refresh() { d.table.Refresh() }

// Sorted returns the sorted column (-1 for the order given) and whether
// it is descending; with SortOutside, what the sorter says.
func (d *DataTable[T]) Sorted() (col int, descending bool) {
	if d.hooks.sortedBy != nil {
		return d.hooks.sortedBy()
	}
	return d.sort, d.desc
}

// SortBy sorts by a sortable column, ascending; on the column already
// sorted it reverses the order. Other columns are ignored. The selected
// row stays selected where it moves to (OnSelected is not called again).
// With SortOutside, it asks the sorter instead.
func (d *DataTable[T]) SortBy(col int) {
	if d.hooks.sort != nil {
		if col >= 0 && col < len(d.cols) {
			d.hooks.sort(col)
		}
		return
	}
	if col < 0 || col >= len(d.cols) || d.cols[col].Compare == nil {
		return
	}
	if d.sort == col {
		d.desc = !d.desc
	} else {
		d.sort, d.desc = col, false
	}
	picked := -1
	if d.sel >= 0 && d.sel < len(d.order) {
		picked = d.order[d.sel]
	}
	d.arrange()
	d.table.Refresh()
	if i := slices.Index(d.order, picked); picked >= 0 && i >= 0 {
		d.quiet = true
		d.table.Select(widget.TableCellID{Row: i, Col: 0})
		d.quiet = false
	}
}

// arrange puts the rows given in the order shown: stable, so equal keys
// keep the order given.
func (d *DataTable[T]) arrange() {
	d.order = make([]int, len(d.given))
	for i := range d.order {
		d.order[i] = i
	}
	if d.sort >= 0 {
		cmp := d.cols[d.sort].Compare
		slices.SortStableFunc(d.order, func(a, b int) int {
			if d.desc {
				return cmp(d.given[b], d.given[a])
			}
			return cmp(d.given[a], d.given[b])
		})
	}
	d.rows = make([]T, len(d.order))
	for i, g := range d.order {
		d.rows[i] = d.given[g]
	}
}

// Heading is a column's heading as shown: its title with the arrow of the
// sort.
func (d *DataTable[T]) Heading(col int) string { return d.heading(col) }

// heading is a column's title with the arrow of the sort.
func (d *DataTable[T]) heading(col int) string {
	if col < 0 || col >= len(d.cols) {
		return ""
	}
	t := d.cols[col].Heading
	if sorted, desc := d.Sorted(); col == sorted {
		if desc {
			t += " ▼"
		} else {
			t += " ▲"
		}
	}
	return t
}

func (d *DataTable[T]) updateCell(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(d.rows) || id.Col < 0 || id.Col >= len(d.cols) {
		l.SetText("")
		return
	}
	c, r := d.cols[id.Col], d.rows[id.Row]
	imp, style := widget.MediumImportance, fyne.TextStyle{}
	if c.Style != nil {
		imp, style = c.Style(r)
	}
	l.Importance, l.TextStyle = imp, style
	l.Text = c.Text(r)
	l.Refresh()
}

// dataHeader is a DataTable's heading: bold, cut with "…" when its column
// is narrower than its title (the whole title then shows in a tooltip), and
// a tap sorts by its column. It draws a single canvas.Text, cut again only
// when its title, width or text size changes: Fyne's table redraws every
// heading on each scroll and on each row it redraws, and a Label measured
// its text again every time (about 10 ms each time the worklist's cursor
// moved).
type dataHeader struct {
	widget.BaseWidget
	col   int
	title string
	tap   func(col int)
}

func newDataHeader(tap func(int)) *dataHeader {
	h := &dataHeader{col: -1, tap: tap}
	h.ExtendBaseWidget(h)
	return h
}

func (h *dataHeader) set(col int, text string) {
	h.col = col
	if h.title != text {
		h.title = text
		h.Refresh()
	}
}

// HeadingText is the heading's whole title (with its sort arrow, if any),
// however much of it fits.
func (h *dataHeader) HeadingText() string { return h.title }

// Tapped sorts by the heading's column.
func (h *dataHeader) Tapped(*fyne.PointEvent) { h.tap(h.col) }

// CreateRenderer draws the heading.
func (h *dataHeader) CreateRenderer() fyne.WidgetRenderer {
	r := &dataHeaderRenderer{h: h, text: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	r.text.TextStyle = fyne.TextStyle{Bold: true}
	r.tip = NewTip(r.text, func() string {
		if r.text.Text != h.title {
			return h.title
		}
		return ""
	})
	return r
}

// dataHeaderRenderer lays out a heading's text, cut to its width.
type dataHeaderRenderer struct {
	h    *dataHeader
	text *canvas.Text
	tip  *Tip
	// what the text was last cut for
	cutTitle        string
	cutWidth, cutPt float32
}

func (r *dataHeaderRenderer) Destroy() {}

func (r *dataHeaderRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.tip} }

// MinSize is what a one-line bold label cut with "…" asks for.
func (r *dataHeaderRenderer) MinSize() fyne.Size {
	pad := theme.InnerPadding()
	pt := theme.TextSize()
	line := fyne.MeasureText("…", pt, r.text.TextStyle)
	return fyne.NewSize(line.Width+2*pad, line.Height+2*pad)
}

func (r *dataHeaderRenderer) Layout(size fyne.Size) {
	r.tip.Resize(size)
	r.cut(size.Width)
	pad := theme.InnerPadding()
	h := fyne.MeasureText("…", r.text.TextSize, r.text.TextStyle).Height
	r.text.Move(fyne.NewPos(pad, (size.Height-h)/2))
	r.text.Resize(fyne.NewSize(max(size.Width-2*pad, 0), h))
}

func (r *dataHeaderRenderer) Refresh() {
	r.text.Color = theme.Color(theme.ColorNameForeground)
	r.cut(r.h.Size().Width)
	r.text.Refresh()
}

// cut sets the text to as much of the title as fits in width, with "…"
// where it was cut; it measures only when the title, width or text size
// changed since the last cut.
func (r *dataHeaderRenderer) cut(width float32) {
	pt := theme.TextSize()
	if r.cutTitle == r.h.title && r.cutWidth == width && r.cutPt == pt {
		return
	}
	r.cutTitle, r.cutWidth, r.cutPt = r.h.title, width, pt
	r.text.TextSize = pt
	r.text.Text = Ellipsize(r.h.title, width-2*theme.InnerPadding(), pt, r.text.TextStyle)
}

// HeadingWidth is the width a column needs for its heading (bold), with
// room for the sort arrow when sortable ("Days ▼", never "Day…"). A
// DataTable's columns are never narrower than it.
func HeadingWidth(title string, sortable bool) float32 {
	if sortable {
		title += " ▼"
	}
	return fyne.MeasureText(title, theme.TextSize(), fyne.TextStyle{Bold: true}).Width + 2*theme.InnerPadding() + 1
}

// Ellipsize returns as much of s, from its start, as fits in width when
// drawn at text size pt in style, ending with "…" where it was cut ("…"
// alone when nothing else fits).
func Ellipsize(s string, width, pt float32, style fyne.TextStyle) string {
	if s == "" || fyne.MeasureText(s, pt, style).Width <= width {
		return s
	}
	runes := []rune(s)
	// the longest start that fits with the ellipsis
	lo, hi := 0, len(runes)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(string(runes[:mid])+"…", pt, style).Width <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimRight(string(runes[:lo]), " ") + "…"
}
