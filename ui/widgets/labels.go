package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Bold is a bold heading label.
func Bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// Wrapped is a label that wraps at word boundaries (never cut short).
func Wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// ErrorText is a wrapped message in the error colour (with words that say
// what is wrong, so colour is not the only signal).
func ErrorText(s string) *widget.Label {
	l := Wrapped(s)
	l.Importance = widget.DangerImportance
	return l
}

// TableColumn is a column of a table with headings: its title and width.
type TableColumn struct {
	Title string
	Width float32
}

// SetHeadings gives t a row of bold headings with the columns' titles, the
// columns' widths, and no heading column.
func SetHeadings(t *widget.Table, cols []TableColumn) {
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return Bold("") }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(cols) {
			o.(*widget.Label).SetText(cols[id.Col].Title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.Width)
	}
}

// NewLabelTable returns a table of one-line labels (cut with "…" when too
// long) under bold headings: rows says how many rows there are now, and
// update fills the label of a row and column. Cells past the last row are
// left blank.
func NewLabelTable(rows func() int, cols []TableColumn, update func(row, col int, l *widget.Label)) *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return rows(), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row < 0 || id.Row >= rows() {
				l.SetText("")
				return
			}
			update(id.Row, id.Col, l)
		})
	SetHeadings(t, cols)
	return t
}
