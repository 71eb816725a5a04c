package widgets

import (
	"slices"
	"strconv"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// fillCall is one call of a table's cell filler.
type fillCall struct {
	row, col int
	name     string
}

// composite is a table of *fruit whose cells are two labels side by side
// (the name or count, and a badge for none left), filled by the table's
// owner; fills records each fill.
func composite(fills *[]fillCall) *DataTable[*fruit] {
	d := NewDataTable([]Column[*fruit]{
		{Heading: "Name", Width: 200},
		{Heading: "Count", Width: 120},
	})
	d.SetCells(func() fyne.CanvasObject {
		return container.NewHBox(widget.NewLabel(""), widget.NewLabel(""))
	}, func(row, col int, f *fruit, cell fyne.CanvasObject) {
		*fills = append(*fills, fillCall{row, col, f.name})
		parts := cell.(*fyne.Container).Objects
		text, badge := f.name, ""
		if col == 1 {
			text = strconv.Itoa(f.count)
			if f.count == 0 {
				badge = "none left"
			}
		}
		parts[0].(*widget.Label).SetText(text)
		parts[1].(*widget.Label).SetText(badge)
	})
	return d
}

func fruitPointers() []*fruit {
	out := make([]*fruit, len(basket))
	for i := range basket {
		f := basket[i]
		out[i] = &f
	}
	return out
}

// Cells of the owner's making show what its filler puts in them, for the
// row shown at each place.
func TestDataTableCompositeCells(t *testing.T) {
	test.NewTempApp(t)
	var fills []fillCall
	d := composite(&fills)
	show(t, d, fruitPointers())
	txt := drawn(d.Object())
	for _, want := range []string{"pear", "apple", "fig", "date", "3", "0", "7", "none left"} {
		if !slices.Contains(txt, want) {
			t.Errorf("%q is not drawn: %v", want, txt)
		}
	}
	for _, f := range fills {
		if got, _ := d.Row(f.row); got.name != f.name {
			t.Errorf("place %d was filled with %s, but shows %s", f.row, f.name, got.name)
		}
	}
}

// With the sorting left to the owner, a tap on a heading asks it to sort
// (the table does not reorder the rows itself), the headings' arrows
// follow what the owner says, and the rows keep the order the owner gave.
func TestDataTableSortOutside(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	show(t, d, nil)
	sorted, desc := -1, false
	var asked []int
	d.SortOutside(func() (int, bool) { return sorted, desc }, func(col int) {
		asked = append(asked, col)
		if sorted == col {
			desc = !desc
		} else {
			sorted, desc = col, false
		}
		rows := slices.Clone(basket)
		slices.Reverse(rows) // any order of the owner's choosing
		d.SetRows(rows)
	})
	d.SetRows(basket)
	test.Tap(header(t, d, 1))
	if !slices.Equal(asked, []int{1}) {
		t.Fatalf("the owner was asked to sort by %v", asked)
	}
	if got := names(d); !slices.Equal(got, []string{"date", "fig", "apple", "pear"}) {
		t.Errorf("rows %v, not in the owner's order", got)
	}
	if col, descending := d.Sorted(); col != 1 || descending {
		t.Errorf("Sorted() = %d, %v", col, descending)
	}
	if !slices.Contains(drawn(d.Object()), "Count ▲") || d.Heading(1) != "Count ▲" {
		t.Errorf("the heading does not follow the owner's sort: %v", drawn(d.Object()))
	}
	test.Tap(header(t, d, 2)) // sortable or not is the owner's business
	test.Tap(header(t, d, 2))
	if !slices.Equal(asked, []int{1, 2, 2}) || d.Heading(2) != "Note ▼" {
		t.Errorf("asked %v; heading %q", asked, d.Heading(2))
	}
	d.SortBy(9)
	if len(asked) != 3 {
		t.Errorf("a column that does not exist was sorted: %v", asked)
	}
}

// RefreshRow redraws one row's cells and no others; RefreshCell one cell.
func TestDataTableRefreshOneRow(t *testing.T) {
	test.NewTempApp(t)
	var fills []fillCall
	d := composite(&fills)
	show(t, d, nil)
	rows := fruitPointers()
	d.SetRows(rows)
	rows[2].name, rows[2].count = "grape", 0
	fills = nil
	d.RefreshRow(2)
	if len(fills) != 2 || fills[0] != (fillCall{2, 0, "grape"}) || fills[1] != (fillCall{2, 1, "grape"}) {
		t.Errorf("RefreshRow(2) filled %v", fills)
	}
	if txt := drawn(d.Object()); !slices.Contains(txt, "grape") || slices.Contains(txt, "fig") {
		t.Errorf("after the refresh: %v", txt)
	}
	fills = nil
	d.RefreshCell(1, 1)
	d.RefreshCell(7, 0)
	d.RefreshRow(-1)
	if !slices.Equal(fills, []fillCall{{1, 1, "apple"}}) {
		t.Errorf("RefreshCell(1, 1) and cells that do not exist filled %v", fills)
	}
}

// The owner sees the keys first; those it leaves are the table's (Space
// selects the focused cell).
func TestDataTableKeysGoToTheOwnerFirst(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	w := show(t, d, basket)
	var keys []fyne.KeyName
	var runes []rune
	handle := true
	d.SetKeys(func(ev *fyne.KeyEvent) bool { keys = append(keys, ev.Name); return handle },
		func(r rune) bool { runes = append(runes, r); return true })
	w.Canvas().Focus(d.table)
	test.Type(d.table, "j")
	d.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if !slices.Equal(runes, []rune{'j'}) || !slices.Equal(keys, []fyne.KeyName{fyne.KeySpace}) {
		t.Fatalf("the owner saw keys %v, runes %q", keys, runes)
	}
	if d.Selected() != -1 {
		t.Fatalf("Space handled by the owner still selected row %d", d.Selected())
	}
	handle = false
	d.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if d.Selected() != 0 {
		t.Errorf("Space left to the table selected row %d", d.Selected())
	}
}

// A column's width set, then dragged, is reported; BeforeRefresh runs on
// every redraw.
func TestDataTableColumnWidthsAndRefresh(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	show(t, d, basket)
	refreshed := 0
	d.BeforeRefresh(func() { refreshed++ })
	got := map[int]float32{}
	d.OnColumnResized(func(col int, width float32) { got[col] = width })
	d.SetColumnWidth(1, 150)
	d.Refresh()
	if refreshed == 0 {
		t.Error("BeforeRefresh was not called")
	}
	test.WidgetRenderer(d.table).Layout(d.table.Size())
	d.table.DragEnd()
	if got[1] != 150 || got[0] != 200 {
		t.Errorf("widths reported after a drag: %v", got)
	}
}
