package advice

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// column is one column of the A&G worklist.
type column struct {
	title string
	width float32
	text  func(r app.AdviceRow) string
}

// columns are the worklist's columns, in order.
var columns = []column{
	{"Category", 250, func(r app.AdviceRow) string { return r.Category.Label() }},
	{"Priority", 110, func(r app.AdviceRow) string { return r.Priority.Label() }},
	{"Days", 60, func(r app.AdviceRow) string { return strconv.Itoa(r.DaysSinceAsked) }},
	{"Named clinician", 170, func(r app.AdviceRow) string { return namedClinician(r.NamedClinician) }},
	{"Patient NHS number", 150, func(r app.AdviceRow) string { return triage.FormatNHSNumber(r.NHSNumber) }},
	{"UBRN", 140, func(r app.AdviceRow) string { return formatUBRN(r.UBRN) }},
	{"Specialty", 180, func(r app.AdviceRow) string { return r.Specialty.Label() }},
	{"Your reply", 190, nil},
}

// worklist is the A&G worklist: the counts per category above a table in
// the façade's order ("response required" first).
type worklist struct {
	onOpen func(ubrn string)

	summary *widget.Label
	note    *widget.Label
	table   *widgets.DataTable[app.AdviceRow]
	obj     fyne.CanvasObject

	drafts map[string]bool
	open   string
	cursor int
	quiet  bool // selecting the open row without opening it again
}

func newWorklist(onOpen func(string)) *worklist {
	w := &worklist{onOpen: onOpen, drafts: map[string]bool{}, cursor: -1}
	w.summary = widgets.Bold("Advice and Guidance")
	w.summary.Wrapping = fyne.TextWrapWord
	w.note = widgets.Wrapped("Reading the Advice and Guidance worklist…")
	cols := make([]widgets.Column[app.AdviceRow], len(columns))
	for i, c := range columns {
		cols[i] = widgets.Column[app.AdviceRow]{Heading: c.title, Width: c.width,
			Text:  func(r app.AdviceRow) string { return w.text(i, r) },
			Style: rowStyle}
	}
	w.table = widgets.NewDataTable(cols)
	w.table.OnSelected = func(row int, r app.AdviceRow) {
		w.cursor = row
		if !w.quiet {
			w.onOpen(triage.NormalizeUBRN(r.UBRN))
		}
	}
	w.obj = container.NewBorder(container.NewVBox(w.summary, w.note), nil, nil, nil, w.table.Object())
	return w
}

func (w *worklist) object() fyne.CanvasObject { return w.obj }

// rowStyle makes the requests that need a response bold.
func rowStyle(r app.AdviceRow) (widget.Importance, fyne.TextStyle) {
	return widget.MediumImportance, fyne.TextStyle{Bold: r.Category.ResponseRequired()}
}

// text is what column col says for r.
func (w *worklist) text(col int, r app.AdviceRow) string {
	if columns[col].text != nil {
		return columns[col].text(r)
	}
	return replyState(r, w.drafts[triage.NormalizeUBRN(r.UBRN)])
}

// rows are the worklist's rows as shown.
func (w *worklist) rows() []app.AdviceRow { return w.table.Rows() }

// CellText returns the text of a cell as shown (tests, screenshots).
func (w *worklist) CellText(row, col int) string {
	r, ok := w.table.Row(row)
	if !ok || col < 0 || col >= len(columns) {
		return ""
	}
	return w.text(col, r)
}

// set shows a new read of the worklist, keeping the open row.
func (w *worklist) set(l app.AdviceList, drafts map[string]*triage.AdviceReply) {
	w.drafts = map[string]bool{}
	for _, r := range l.Rows {
		w.drafts[triage.NormalizeUBRN(r.UBRN)] = r.Draft
	}
	for u, d := range drafts { // this session's changes, perhaps not yet stored
		w.drafts[u] = d != nil
	}
	w.summary.SetText(categoryCounts(l.Rows))
	switch {
	case len(l.Rows) == 0:
		w.note.SetText("No advice and guidance requests for your organisation.")
		w.note.Show()
	case l.Conflicts > 0:
		w.note.SetText(strconv.Itoa(l.Conflicts) + " of your replies could not be sent because the referrer wrote again: open the request to read what they wrote.")
		w.note.Show()
	default:
		w.note.Hide()
	}
	w.table.SetRows(l.Rows)
	if w.open != "" && w.index(w.open) >= 0 {
		w.markOpen(w.open)
	} else if w.cursor >= 0 && w.cursor < w.table.Len() {
		w.selectQuietly(w.cursor) // the place selected stays selected
	}
}

// setError says why the worklist could not be read.
func (w *worklist) setError(err error) {
	if triage.ErrorCodeOf(err) == triage.ENOTFOUND {
		w.note.SetText("Nothing has been downloaded yet. Triage Desk is fetching the Advice and Guidance worklist from e-RS…")
	} else {
		w.note.SetText("The Advice and Guidance worklist could not be read. " + errorMessage(err))
	}
	w.note.Show()
}

// index is the row of ubrn, or -1.
func (w *worklist) index(ubrn string) int {
	return w.table.Index(func(r app.AdviceRow) bool { return triage.NormalizeUBRN(r.UBRN) == ubrn })
}

// selectQuietly selects row i without opening it.
func (w *worklist) selectQuietly(i int) {
	w.quiet = true
	w.table.Select(i)
	w.quiet = false
	w.cursor = i
}

// markOpen highlights the open request's row without opening it again.
func (w *worklist) markOpen(ubrn string) {
	w.open = ubrn
	if i := w.index(ubrn); i >= 0 {
		w.selectQuietly(i)
	}
}

// move moves the selection by d rows and opens that request.
func (w *worklist) move(d int) {
	n := w.table.Len()
	if n == 0 {
		return
	}
	i := min(max(w.cursor+d, 0), n-1)
	if w.cursor < 0 {
		i = 0
	}
	w.table.Select(i)
}

// cursorUBRN is the selected row's UBRN ("" for none).
func (w *worklist) cursorUBRN() string {
	r, ok := w.table.Row(w.cursor)
	if !ok {
		return ""
	}
	return triage.NormalizeUBRN(r.UBRN)
}

// nextNeedingReply is the first request after ubrn (then from the top)
// that needs a reply and has none waiting.
func (w *worklist) nextNeedingReply(ubrn string) string {
	rows := w.rows()
	start := w.index(ubrn)
	for k := 1; k <= len(rows); k++ {
		r := rows[(start+k+len(rows))%len(rows)]
		u := triage.NormalizeUBRN(r.UBRN)
		if u != ubrn && r.Category.ResponseRequired() && !r.Action.Unsent() {
			return u
		}
	}
	return ""
}

// setDraft marks whether ubrn has a reply being written.
func (w *worklist) setDraft(ubrn string, has bool) {
	w.drafts[ubrn] = has
	w.table.Refresh()
}

// categoryCounts writes the count per category in worklist order, e.g.
// "3 response required · 1 waiting for further information".
func categoryCounts(rows []app.AdviceRow) string {
	counts := map[triage.AdviceCategory]int{}
	var order []triage.AdviceCategory
	for _, r := range rows {
		if counts[r.Category] == 0 {
			order = append(order, r.Category)
		}
		counts[r.Category]++
	}
	parts := make([]string, 0, len(order))
	for _, c := range order {
		parts = append(parts, strconv.Itoa(counts[c])+" "+strings.ToLower(c.Label()[:1])+c.Label()[1:])
	}
	if len(parts) == 0 {
		return "No requests"
	}
	return strings.Join(parts, " · ")
}

// replyState says where the clinician's reply stands for the row.
func replyState(r app.AdviceRow, draft bool) string {
	switch r.Action {
	case triage.OutboxQueued, triage.OutboxSending:
		return "Reply queued"
	case triage.OutboxSent:
		return "Sent"
	case triage.OutboxConflict:
		return "Not sent: referrer wrote again"
	case triage.OutboxFailed:
		return "Refused by e-RS"
	}
	if draft {
		return "Draft"
	}
	if !r.Cached {
		return "Downloading…"
	}
	return ""
}

// namedClinician is the clinician the referrer addressed, or "Unassigned".
func namedClinician(s string) string {
	if strings.TrimSpace(s) == "" {
		return "Unassigned"
	}
	return s
}

// formatUBRN writes a UBRN in groups of four.
func formatUBRN(u string) string { return widgets.UBRNText(u) }
