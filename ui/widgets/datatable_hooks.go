package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// hooks are what a DataTable's owner can put in place of the table's own
// ways: composite cells and sorting done elsewhere.
type hooks[T any] struct {
	newCell  func() fyne.CanvasObject
	fillCell func(row, col int, item T, cell fyne.CanvasObject)
	sortedBy func() (col int, descending bool)
	sort     func(col int)
}

// SetCells gives the table cells of its owner's making, in place of its
// one-line labels (and of the columns' Text and Style): create builds an
// empty cell, and fill shows in it column col of item, the row shown at
// place row. fill is called only for rows and columns that exist. Call it
// before the table is shown.
func (d *DataTable[T]) SetCells(create func() fyne.CanvasObject, fill func(row, col int, item T, cell fyne.CanvasObject)) {
	d.hooks.newCell = create
	d.hooks.fillCell = fill
}

// SortOutside leaves the sorting to the table's owner: a tap on a heading
// (or SortBy) calls sort with its column, and the owner sorts the rows and
// gives them back with SetRows, which then keeps the order given. The
// headings' arrows follow sortedBy (col -1 for none), as does Sorted.
func (d *DataTable[T]) SortOutside(sortedBy func() (col int, descending bool), sort func(col int)) {
	d.hooks.sortedBy, d.hooks.sort = sortedBy, sort
	d.sort, d.desc = -1, false
	d.arrange()
}

// SetKeys gives the table's keys to its owner first: typedKey and
// typedRune (either may be nil) report whether they handled the key; the
// keys they leave are the table's own (the arrow keys move, Space
// selects).
func (d *DataTable[T]) SetKeys(typedKey func(*fyne.KeyEvent) bool, typedRune func(rune) bool) {
	d.table.typedKey, d.table.typedRune = typedKey, typedRune
}

// OnColumnResized calls fn with each column on screen and its width after
// the clinician dragged a column's edge.
func (d *DataTable[T]) OnColumnResized(fn func(col int, width float32)) { d.table.resized = fn }

// BeforeRefresh calls fn each time the table is redrawn, by its owner or
// by Fyne (a new theme, say), before its cells are: the place to set
// column widths that follow the text size.
func (d *DataTable[T]) BeforeRefresh(fn func()) { d.table.beforeRefresh = fn }

// SetColumnWidth sets a column's width.
func (d *DataTable[T]) SetColumnWidth(col int, width float32) { d.table.SetColumnWidth(col, width) }

// ScrollTo scrolls the row shown at place row, and the first column, into
// view.
func (d *DataTable[T]) ScrollTo(row int) {
	if row >= 0 && row < len(d.rows) {
		d.table.ScrollTo(widget.TableCellID{Row: row, Col: 0})
	}
}

// RefreshRow redraws the cells of the row shown at place row (after what
// they show changed), and no others.
func (d *DataTable[T]) RefreshRow(row int) {
	for col := range d.cols {
		d.RefreshCell(row, col)
	}
}

// RefreshCell redraws one cell, if it is on screen, and no others.
func (d *DataTable[T]) RefreshCell(row, col int) {
	if row >= 0 && row < len(d.rows) && col >= 0 && col < len(d.cols) {
		d.table.RefreshItem(widget.TableCellID{Row: row, Col: col})
	}
}

// hookedTable is a DataTable's widget: Fyne's table with bold headings
// and no heading column, whose keys, column drags and redraws its owner
// can take part in.
type hookedTable struct {
	widget.Table
	headers       map[*dataHeader]bool // the headings made
	typedKey      func(*fyne.KeyEvent) bool
	typedRune     func(rune) bool
	resized       func(col int, width float32)
	beforeRefresh func()
	relabel       func(h *dataHeader) // gives a heading its title as it is now
}

func newHookedTable() *hookedTable {
	t := &hookedTable{headers: map[*dataHeader]bool{}}
	t.ShowHeaderRow = true
	t.ExtendBaseWidget(t)
	return t
}

// TypedKey offers the key to the owner, then to the table.
func (t *hookedTable) TypedKey(ev *fyne.KeyEvent) {
	if t.typedKey != nil && t.typedKey(ev) {
		return
	}
	t.Table.TypedKey(ev)
}

// TypedRune offers the character to the owner, then to the table.
func (t *hookedTable) TypedRune(r rune) {
	if t.typedRune != nil && t.typedRune(r) {
		return
	}
	t.Table.TypedRune(r)
}

// DragEnd ends a column drag and reports the widths of the columns on
// screen.
func (t *hookedTable) DragEnd() {
	t.Table.DragEnd()
	if t.resized == nil {
		return
	}
	for h := range t.headers {
		if h.col >= 0 && h.Size().Width > 0 {
			t.resized(h.col, h.Size().Width)
		}
	}
}

// Refresh redraws the table, after the owner's BeforeRefresh, with every
// heading made given its title again (the sort's arrow may have moved).
func (t *hookedTable) Refresh() {
	if t.beforeRefresh != nil {
		t.beforeRefresh()
	}
	if t.relabel != nil {
		for h := range t.headers {
			t.relabel(h)
		}
	}
	t.Table.Refresh()
}
