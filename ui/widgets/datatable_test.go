package widgets

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type fruit struct {
	name  string
	count int
}

func fruitTable() *DataTable[fruit] {
	return NewDataTable([]Column[fruit]{
		{Heading: "Name", Width: 200, Text: func(f fruit) string { return f.name },
			Compare: func(a, b fruit) int { return cmp.Compare(a.name, b.name) }},
		{Heading: "Count", Width: 80, Text: func(f fruit) string { return strconv.Itoa(f.count) },
			Compare: func(a, b fruit) int { return cmp.Compare(a.count, b.count) },
			Style: func(f fruit) (widget.Importance, fyne.TextStyle) {
				if f.count == 0 {
					return widget.DangerImportance, fyne.TextStyle{Bold: true}
				}
				return widget.MediumImportance, fyne.TextStyle{}
			}},
		{Heading: "Note", Width: 100, Text: func(fruit) string { return "unsortable" }},
	})
}

// show puts d in a test window wide enough for its columns, with rows,
// and returns the window.
func show[T any](t *testing.T, d *DataTable[T], rows []T) fyne.Window {
	t.Helper()
	w := test.NewTempWindow(t, d.Object())
	w.Resize(fyne.NewSize(600, 400))
	d.SetRows(rows)
	return w
}

var basket = []fruit{{"pear", 3}, {"apple", 0}, {"fig", 3}, {"date", 7}}

func names(d *DataTable[fruit]) []string {
	var out []string
	for _, f := range d.Rows() {
		out = append(out, f.name)
	}
	return out
}

// walk calls fn for every object in o's tree, widgets' rendered parts
// included.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			walk(c, fn)
		}
	}
}

// drawn returns the text of every canvas text the table draws (headings
// and the cells on screen).
func drawn(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok {
			out = append(out, t.Text)
		}
	})
	return out
}

// header finds the heading widget of a column on screen.
func header(t *testing.T, d *DataTable[fruit], col int) *dataHeader {
	t.Helper()
	var found *dataHeader
	walk(d.Object(), func(o fyne.CanvasObject) {
		if h, ok := o.(*dataHeader); ok && h.col == col {
			found = h
		}
	})
	if found == nil {
		t.Fatalf("no heading for column %d on screen", col)
	}
	return found
}

// The rows show in the order given until a sortable heading is tapped:
// then ascending, again descending (equal keys keep the order given), and
// the heading says which way; an unsortable heading changes nothing.
func TestDataTableHeaderTapSorts(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	show(t, d, basket)
	if got := names(d); !slices.Equal(got, []string{"pear", "apple", "fig", "date"}) {
		t.Fatalf("unsorted: %v", got)
	}
	test.Tap(header(t, d, 0))
	if got := names(d); !slices.Equal(got, []string{"apple", "date", "fig", "pear"}) {
		t.Fatalf("by name: %v", got)
	}
	if !slices.Contains(drawn(d.Object()), "Name ▲") {
		t.Errorf("the sorted heading does not say so: %v", drawn(d.Object()))
	}
	test.Tap(header(t, d, 1))
	if got := names(d); !slices.Equal(got, []string{"apple", "pear", "fig", "date"}) {
		t.Fatalf("by count: %v", got)
	}
	test.Tap(header(t, d, 1))
	if got := names(d); !slices.Equal(got, []string{"date", "pear", "fig", "apple"}) {
		t.Fatalf("by count, descending: %v", got)
	}
	if col, desc := d.Sorted(); col != 1 || !desc {
		t.Errorf("Sorted() = %d, %v", col, desc)
	}
	test.Tap(header(t, d, 2))
	if col, _ := d.Sorted(); col != 1 {
		t.Errorf("tapping an unsortable heading sorted by column %d", col)
	}
	txt := drawn(d.Object())
	if !slices.Contains(txt, "Count ▼") || !slices.Contains(txt, "Name") {
		t.Errorf("headings: %v", txt)
	}
}

// Selecting a row reports it; the selection moves with its row when the
// table is sorted (without reporting it again), and replacing the rows
// clears it.
func TestDataTableSelectFollowsTheRow(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	show(t, d, basket)
	var picked []string
	d.OnSelected = func(i int, f fruit) {
		if got, _ := d.Row(i); got != f {
			t.Errorf("OnSelected(%d, %v) but row %d is %v", i, f, i, got)
		}
		picked = append(picked, f.name)
	}
	d.Select(d.Index(func(f fruit) bool { return f.name == "fig" }))
	if !slices.Equal(picked, []string{"fig"}) || d.Selected() != 2 {
		t.Fatalf("picked %v, selected %d", picked, d.Selected())
	}
	d.SortBy(0)
	if d.Selected() != 2 {
		t.Fatalf("after sorting, selected row %d", d.Selected())
	}
	if f, _ := d.Row(d.Selected()); f.name != "fig" || len(picked) != 1 {
		t.Fatalf("after sorting the selection is %v (picked %v)", f, picked)
	}
	d.SortBy(0) // descending: fig moves to place 1
	if f, _ := d.Row(d.Selected()); f.name != "fig" || d.Selected() != 1 {
		t.Fatalf("after reversing the selection is %v at %d", f, d.Selected())
	}
	d.SetRows(basket[:2])
	if d.Selected() != -1 || d.Len() != 2 {
		t.Fatalf("after new rows: selected %d of %d", d.Selected(), d.Len())
	}
	d.Select(5)
	if d.Selected() != -1 || len(picked) != 1 {
		t.Errorf("selecting past the end selected %d", d.Selected())
	}
}

// New rows keep the sort the clinician chose, and the cells show them
// with each column's text and style.
func TestDataTableRowsReplacedKeepTheSort(t *testing.T) {
	test.NewTempApp(t)
	d := fruitTable()
	show(t, d, basket)
	d.SortBy(1)
	d.SetRows([]fruit{{"kiwi", 9}, {"lime", 1}, {"plum", 0}})
	if got := names(d); !slices.Equal(got, []string{"plum", "lime", "kiwi"}) {
		t.Fatalf("new rows: %v", got)
	}
	txt := drawn(d.Object())
	for _, want := range []string{"plum", "lime", "kiwi", "9", "unsortable"} {
		if !slices.Contains(txt, want) {
			t.Errorf("%q is not drawn: %v", want, txt)
		}
	}
	if slices.Contains(txt, "pear") {
		t.Errorf("an old row is still drawn: %v", txt)
	}
	l := widget.NewLabel("")
	d.updateCell(widget.TableCellID{Row: 0, Col: 1}, l)
	if l.Text != "0" || l.Importance != widget.DangerImportance || !l.TextStyle.Bold {
		t.Errorf("plum's count cell: %q %v %v", l.Text, l.Importance, l.TextStyle)
	}
	d.updateCell(widget.TableCellID{Row: 1, Col: 1}, l)
	if l.Importance != widget.MediumImportance || l.TextStyle.Bold {
		t.Errorf("lime's count cell kept the style of the row before: %v %v", l.Importance, l.TextStyle)
	}
	d.updateCell(widget.TableCellID{Row: 7, Col: 0}, l)
	if l.Text != "" {
		t.Errorf("a cell past the last row says %q", l.Text)
	}
}

// TestHeadingCutShortShowsItsTitleInATooltip: a column starts at least as
// wide as its heading (with room for the sort arrow) whatever width it was
// given; dragged narrower than its title, the heading is cut with "…"
// (what is left fits the column) and the whole title shows in a tooltip on
// hover, while a heading that fits shows whole with no tooltip; widening
// the column shows the whole title again.
func TestHeadingCutShortShowsItsTitleInATooltip(t *testing.T) {
	test.NewTempApp(t)
	d := NewDataTable([]Column[fruit]{
		{Heading: "Attempts to send", Width: 60, Text: func(f fruit) string { return strconv.Itoa(f.count) }},
		{Heading: "Name", Width: 120, Text: func(f fruit) string { return f.name }},
	})
	w := test.NewWindow(nil)
	defer w.Close()
	w.SetContent(WithTips(w.Canvas(), d.Object()))
	w.Resize(fyne.NewSize(400, 300))
	d.SetRows(basket)
	layer := tipLayers.m[w.Canvas()]

	cut, whole := header(t, d, 0), header(t, d, 1)
	text := func(h *dataHeader) *canvas.Text {
		var found *canvas.Text
		walk(h, func(o fyne.CanvasObject) {
			if c, ok := o.(*canvas.Text); ok {
				found = c
			}
		})
		return found
	}
	if got := text(cut).Text; got != "Attempts to send" {
		t.Errorf("a column given 60 for a longer heading starts showing %q", got)
	}
	d.SetColumnWidth(0, 60) // dragged narrower
	shown := text(cut).Text
	if !strings.HasSuffix(shown, "…") || !strings.HasPrefix("Attempts to send", strings.TrimSuffix(shown, "…")) {
		t.Fatalf("a 60-wide heading shows %q: want the start of its title and …", shown)
	}
	if got := fyne.MeasureText(shown, theme.TextSize(), fyne.TextStyle{Bold: true}).Width; got > cut.Size().Width {
		t.Errorf("the cut heading %q is %.0f wide in a %.0f column", shown, got, cut.Size().Width)
	}
	if got := text(whole).Text; got != "Name" {
		t.Errorf("a heading that fits shows %q", got)
	}

	at := func(h *dataHeader) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(h).Add(fyne.NewPos(5, h.Size().Height/2))
	}
	test.MoveMouse(w.Canvas(), at(cut))
	if !layer.box.Visible() || layer.text.Text != "Attempts to send" {
		t.Errorf("hovering the cut heading showed %v: %q", layer.box.Visible(), layer.text.Text)
	}
	test.MoveMouse(w.Canvas(), at(whole))
	if layer.box.Visible() {
		t.Errorf("hovering a heading shown whole showed a tooltip: %q", layer.text.Text)
	}

	d.SetColumnWidth(0, 300)
	if got := text(cut).Text; got != "Attempts to send" {
		t.Errorf("widened to 300, the heading shows %q", got)
	}
}
