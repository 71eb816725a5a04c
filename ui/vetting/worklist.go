package vetting

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// column is one worklist column: its heading, the triage.Column it sorts
// by and its default width.
type column struct {
	title string
	sort  triage.Column
	width float32
}

// columns are the worklist's columns, left to right. Status comes second,
// so whether a referral is decided shows even beside an open referral,
// where only the first few columns fit.
var columns = []column{
	{"Priority", triage.ColumnPriority, 92},
	{"Status", triage.ColumnLocalStatus, 84},
	{"Type", triage.ColumnType, 72},
	{"UBRN", triage.ColumnUBRN, 130},
	{"NHS number", triage.ColumnNHSNumber, 118},
	{"Specialty", triage.ColumnSpecialty, 140},
	{"Service", triage.ColumnService, 190},
	{"Received", triage.ColumnReceived, 104},
	{"Days", triage.ColumnDaysWaiting, 60},
	{"Review by", triage.ColumnReviewBy, 178},
	{"Changed", triage.ColumnChanged, 124},
	{"Offline", triage.ColumnOffline, 74},
}

// Preference keys for the worklist's layout. The widths are kept per
// column position; "v2" began when Status moved to the second column, so
// widths kept for the old order are not applied to the wrong columns.
const (
	prefColumnWidth = "worklist.v2.column.%d.width"
)

// Filter choices shown in the worklist's selects.
const (
	anyPriority  = "All priorities"
	anyType      = "Booked and RAS"
	anySpecialty = "All specialties"
	anyService   = "All services"
	anyStatus    = "Any status"
	notDecided   = "Not decided"
)

// WorklistPanel is the Referrals for Review table with its filters, search box
// and counts. Rows are sorted and filtered with triage.FilterSort; a
// clicked header sorts by its column (again: reversed). The keyboard
// cursor (↓/↑, j/k) and the open referral are separate: Enter opens the
// row under the cursor, and a click does both. Use it on the UI goroutine.
type WorklistPanel struct {
	// OnOpen is called when the clinician opens a referral.
	OnOpen func(ubrn string)

	prefs fyne.Preferences
	now   func() time.Time

	all    []triage.Row
	index  map[string]int // UBRN -> index in all
	view   []*triage.Row
	pos    map[string]int // UBRN -> index in view
	filter triage.Filter
	sort   triage.Sort
	asOf   time.Time
	loaded bool

	cursor   int
	openUBRN string

	table     *worklistTable
	widths    []float32
	scale     float32 // the text-size factor the column widths were set for
	search    *keyEntry
	priority  *widgets.KeySelect
	kind      *widgets.KeySelect
	specialty *widgets.KeySelect
	service   *widgets.KeySelect
	status    *widgets.KeySelect
	changed   *widget.Check
	counts    *widget.Label
	empty     *widget.Label
	body      *fyne.Container
	obj       fyne.CanvasObject

	specialtyCodes map[string]string // label -> code
	serviceIDs     map[string]string // label -> id
}

// NewWorklistPanel builds an empty worklist. keys receives the keys the table
// does not use itself; prefs keeps the column widths (nil: not kept).
func NewWorklistPanel(keys *shortcuts.Registry, prefs fyne.Preferences) *WorklistPanel {
	wl := &WorklistPanel{prefs: prefs, now: time.Now, index: map[string]int{}, pos: map[string]int{},
		cursor: -1}
	wl.widths = make([]float32, len(columns))
	for i, c := range columns {
		wl.widths[i] = c.width
		if prefs != nil {
			if w := prefs.FloatWithFallback(fmt.Sprintf(prefColumnWidth, i), 0); w >= 30 && w <= 800 {
				wl.widths[i] = float32(w)
			}
		}
		wl.widths[i] = max(wl.widths[i], widgets.HeadingWidth(c.title, true))
	}
	wl.table = newWorklistTable(wl, keys)
	wl.applyWidths()
	wl.search = newKeyEntry()
	wl.search.OnEscape = func() { wl.search.SetText("") }
	wl.search.SetPlaceHolder("Search UBRN or NHS number  ( / )")
	wl.search.OnChanged = func(s string) { wl.filter.Text = s; wl.apply() }
	wl.search.OnSubmitted = func(string) {
		// Enter in the search box opens the first match.
		if len(wl.view) > 0 {
			wl.setCursor(0)
			wl.openCursor()
		}
	}
	wl.priority = widgets.NewKeySelect([]string{anyPriority, "2WW", "Urgent", "Routine"}, func(s string) {
		wl.filter.Priorities = nil
		for _, p := range triage.Priorities {
			if p.Label() == s {
				wl.filter.Priorities = []triage.Priority{p}
			}
		}
		wl.apply()
	})
	wl.kind = widgets.NewKeySelect([]string{anyType, "Booked", "RAS"}, func(s string) {
		wl.filter.Types = nil
		for _, t := range []triage.ReferralType{triage.ReferralTypeAppointment, triage.ReferralTypeTriageDeferral} {
			if t.Label() == s {
				wl.filter.Types = []triage.ReferralType{t}
			}
		}
		wl.apply()
	})
	wl.specialty = widgets.NewKeySelect([]string{anySpecialty}, func(s string) {
		wl.filter.Specialties = nil
		if code, ok := wl.specialtyCodes[s]; ok {
			wl.filter.Specialties = []string{code}
		}
		wl.apply()
	})
	wl.service = widgets.NewKeySelect([]string{anyService}, func(s string) {
		wl.filter.Services = nil
		if id, ok := wl.serviceIDs[s]; ok {
			wl.filter.Services = []string{id}
		}
		wl.apply()
	})
	statuses := []string{anyStatus, notDecided}
	for _, s := range []triage.LocalStatus{triage.LocalDraft, triage.LocalQueued, triage.LocalSending, triage.LocalSent, triage.LocalConflict, triage.LocalFailed} {
		statuses = append(statuses, s.Label())
	}
	wl.status = widgets.NewKeySelect(statuses, func(s string) {
		wl.filter.LocalStatuses = nil
		switch s {
		case anyStatus:
		case notDecided:
			wl.filter.LocalStatuses = []triage.LocalStatus{triage.LocalNone}
		default:
			for _, l := range []triage.LocalStatus{triage.LocalDraft, triage.LocalQueued, triage.LocalSending, triage.LocalSent, triage.LocalConflict, triage.LocalFailed} {
				if l.Label() == s {
					wl.filter.LocalStatuses = []triage.LocalStatus{l}
				}
			}
		}
		wl.apply()
	})
	wl.changed = widget.NewCheck("Changed since review", func(on bool) { wl.filter.ChangedSinceReview = on; wl.apply() })
	for _, s := range []*widgets.KeySelect{wl.priority, wl.kind, wl.specialty, wl.service, wl.status} {
		s.SetSelectedIndex(0)
	}
	wl.counts = widget.NewLabelWithStyle("Loading the worklist…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	wl.counts.Truncation = fyne.TextTruncateEllipsis
	wl.empty = widget.NewLabel("")
	wl.empty.Alignment = fyne.TextAlignCenter
	wl.empty.Wrapping = fyne.TextWrapWord
	wl.empty.Hide()

	// Up to three columns; fewer, on more rows, when larger text or a
	// narrow pane would not hold three, so the window never outgrows the
	// screen.
	filters := container.New(widgets.NewColumnsWrapLayout(3, theme.Padding(), theme.Padding()), wl.priority, wl.kind, wl.status, wl.specialty, wl.service, wl.changed)
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Referrals for Review", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, wl.counts),
		wl.search, filters)
	wl.body = container.NewStack(wl.table.Object(), widgets.WrapCentre(wl.empty))
	wl.obj = container.NewBorder(top, nil, nil, nil, wl.body)
	return wl
}

// Object returns the worklist's canvas object.
func (wl *WorklistPanel) Object() fyne.CanvasObject { return wl.obj }

// SetWorklist replaces the rows with a freshly read worklist, keeping the
// filters, the sort, the cursor and the open referral where they still
// exist.
func (wl *WorklistPanel) SetWorklist(w app.ReviewList) {
	wl.all = w.Rows
	wl.asOf = w.AsOf
	wl.loaded = true
	wl.index = make(map[string]int, len(wl.all))
	for i := range wl.all {
		wl.index[wl.all[i].UBRN] = i
	}
	wl.fillChoices()
	wl.apply()
}

// fillChoices lists the specialties and services present in the rows.
func (wl *WorklistPanel) fillChoices() {
	wl.specialtyCodes, wl.serviceIDs = map[string]string{}, map[string]string{}
	for i := range wl.all {
		r := &wl.all[i]
		wl.specialtyCodes[r.Specialty.Label()] = r.Specialty.Code
		wl.serviceIDs[r.Service.Label()] = r.Service.ID
	}
	opts := func(first string, m map[string]string) []string {
		out := make([]string, 0, len(m)+1)
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return append([]string{first}, out...)
	}
	keep := func(s *widgets.KeySelect, options []string) {
		cur := s.Selected
		s.SetOptions(options)
		if !slices.Contains(options, cur) {
			s.SetSelectedIndex(0)
		}
	}
	keep(wl.specialty, opts(anySpecialty, wl.specialtyCodes))
	keep(wl.service, opts(anyService, wl.serviceIDs))
}

// apply re-filters and re-sorts, keeping the cursor on the same referral.
func (wl *WorklistPanel) apply() {
	if wl.table == nil || wl.counts == nil {
		return // still being built
	}
	var cursorUBRN string
	if wl.cursor >= 0 && wl.cursor < len(wl.view) {
		cursorUBRN = wl.view[wl.cursor].UBRN
	}
	wl.view = triage.FilterSort(wl.all, wl.filter, wl.sort)
	wl.pos = make(map[string]int, len(wl.view))
	for i, r := range wl.view {
		wl.pos[r.UBRN] = i
	}
	wl.cursor = -1
	if i, ok := wl.pos[cursorUBRN]; ok {
		wl.cursor = i
	} else if i, ok := wl.pos[wl.openUBRN]; ok {
		wl.cursor = i
	}
	wl.updateCounts()
	switch {
	case !wl.loaded:
		wl.empty.SetText("Loading the worklist…")
		wl.empty.Show()
	case len(wl.all) == 0:
		wl.empty.SetText("No referrals are waiting for review.")
		wl.empty.Show()
	case len(wl.view) == 0:
		wl.empty.SetText("No referrals match these filters. Clear the search or choose other filters.")
		wl.empty.Show()
	default:
		wl.empty.Hide()
	}
	wl.table.SetRows(wl.view)
	if wl.cursor >= 0 {
		wl.table.ScrollTo(wl.cursor)
	}
}

// updateCounts writes the counts line: "42 to review · 5 2WW · 3 queued".
func (wl *WorklistPanel) updateCounts() {
	if !wl.loaded {
		return
	}
	c := triage.Count(wl.all)
	parts := []string{fmt.Sprintf("%d to review", c.ToReview), fmt.Sprintf("%d 2WW", c.TwoWeek)}
	parts = append(parts, fmt.Sprintf("%d queued", c.ByLocal[triage.LocalQueued]+c.ByLocal[triage.LocalSending]))
	if n := c.ByLocal[triage.LocalConflict] + c.ByLocal[triage.LocalFailed]; n > 0 {
		parts = append(parts, plural(n, "needs attention", "need attention"))
	}
	s := strings.Join(parts, " · ")
	if !wl.filter.IsZero() {
		s += fmt.Sprintf(" (showing %d)", len(wl.view))
	}
	wl.counts.SetText(s)
}

// Counts returns the counts line as shown.
func (wl *WorklistPanel) Counts() string { return wl.counts.Text }

// Rows returns the UBRNs in display order.
func (wl *WorklistPanel) Rows() []string {
	out := make([]string, len(wl.view))
	for i, r := range wl.view {
		out[i] = r.UBRN
	}
	return out
}

// Row returns the displayed row for a UBRN.
func (wl *WorklistPanel) Row(ubrn string) (triage.Row, bool) {
	i, ok := wl.index[ubrn]
	if !ok {
		return triage.Row{}, false
	}
	return wl.all[i], true
}

// Sort returns the sort in use.
func (wl *WorklistPanel) Sort() triage.Sort { return wl.sort }

// SortBy sorts by the column at index col; the same column again reverses
// the order. It is what a click on a header does.
func (wl *WorklistPanel) SortBy(col int) {
	if col < 0 || col >= len(columns) {
		return
	}
	c := columns[col].sort
	if wl.sort.Column == c {
		wl.sort.Descending = !wl.sort.Descending
	} else {
		wl.sort = triage.Sort{Column: c}
	}
	wl.apply()
}

// SetLocalStatus shows a decision's new state on its row (one-row refresh).
func (wl *WorklistPanel) SetLocalStatus(ubrn string, s triage.LocalStatus) {
	i, ok := wl.index[ubrn]
	if !ok || wl.all[i].Local == s {
		return
	}
	wl.all[i].Local = s
	wl.refreshCell(ubrn, triage.ColumnLocalStatus)
	wl.refreshCell(ubrn, triage.ColumnReviewBy) // "overdue" no longer applies once sent
	wl.updateCounts()
}

// SetOfflineReady shows whether a referral's documents are stored for
// offline reading (one-row refresh).
func (wl *WorklistPanel) SetOfflineReady(ubrn string, ready bool) {
	i, ok := wl.index[ubrn]
	if !ok || wl.all[i].OfflineReady == ready {
		return
	}
	wl.all[i].OfflineReady = ready
	wl.refreshCell(ubrn, triage.ColumnOffline)
}

// refreshCell redraws one cell of a referral's row, if it is displayed
// (only that cell is updated).
func (wl *WorklistPanel) refreshCell(ubrn string, c triage.Column) {
	p, ok := wl.pos[ubrn]
	if !ok {
		return
	}
	for i, col := range columns {
		if col.sort == c {
			wl.table.RefreshCell(p, i)
		}
	}
}

// refreshHighlight redraws the rows after the cursor or the open referral
// moved: one pass over the visible cells, in which only the cells whose
// look changed do any work.
func (wl *WorklistPanel) refreshHighlight() { wl.table.Refresh() }

// Cursor returns the UBRN under the keyboard cursor ("" for none).
func (wl *WorklistPanel) Cursor() string {
	if wl.cursor < 0 || wl.cursor >= len(wl.view) {
		return ""
	}
	return wl.view[wl.cursor].UBRN
}

// OpenUBRN returns the referral shown as open.
func (wl *WorklistPanel) OpenUBRN() string { return wl.openUBRN }

func (wl *WorklistPanel) setCursor(i int) {
	if i < 0 || i >= len(wl.view) {
		return
	}
	wl.cursor = i
	// Fyne's Table.ScrollTo redraws every cell in view, which draws the
	// cursor and the open referral's highlight where they now are: a
	// second redraw of the whole table here cost as much again on every
	// move.
	wl.table.ScrollTo(i)
}

// MoveCursor moves the keyboard cursor by delta rows (↓ +1, ↑ −1).
func (wl *WorklistPanel) MoveCursor(delta int) {
	if len(wl.view) == 0 {
		return
	}
	if wl.cursor < 0 {
		wl.setCursor(0)
		return
	}
	wl.setCursor(max(0, min(len(wl.view)-1, wl.cursor+delta)))
}

// OpenCursor opens the referral under the cursor.
func (wl *WorklistPanel) OpenCursor() { wl.openCursor() }

func (wl *WorklistPanel) openCursor() {
	if u := wl.Cursor(); u != "" {
		wl.MarkOpen(u)
		if wl.OnOpen != nil {
			wl.OnOpen(u)
		}
	}
}

// MarkOpen shows ubrn as the open referral and moves the cursor to it,
// without calling OnOpen.
func (wl *WorklistPanel) MarkOpen(ubrn string) {
	wl.openUBRN = ubrn
	if i, ok := wl.pos[ubrn]; ok {
		wl.setCursor(i)
	} else {
		wl.refreshHighlight()
	}
}

// After returns the referral displayed after ubrn ("" at the end): where
// "…and next" goes.
func (wl *WorklistPanel) After(ubrn string) string {
	i, ok := wl.pos[ubrn]
	if !ok || i+1 >= len(wl.view) {
		return ""
	}
	return wl.view[i+1].UBRN
}

// NextUndecided returns the first referral displayed after ubrn that has no
// decision queued, being sent or sent ("" when there is none): where
// "…and next" goes.
func (wl *WorklistPanel) NextUndecided(ubrn string) string {
	i, ok := wl.pos[ubrn]
	if !ok {
		return ""
	}
	for _, r := range wl.view[i+1:] {
		if !r.Local.Decided() {
			return r.UBRN
		}
	}
	return ""
}

// Before returns the referral displayed before ubrn ("" at the top).
func (wl *WorklistPanel) Before(ubrn string) string {
	i, ok := wl.pos[ubrn]
	if !ok || i == 0 {
		return ""
	}
	return wl.view[i-1].UBRN
}

// FocusSearch puts the keyboard in the search box.
func (wl *WorklistPanel) FocusSearch(c fyne.Canvas) {
	if c != nil {
		c.Focus(wl.search)
	}
}

// Search returns the search box.
func (wl *WorklistPanel) Search() *widget.Entry { return &wl.search.Entry }

// columnResized records a new width for column i and keeps it.
func (wl *WorklistPanel) columnResized(i int, w float32) {
	if i < 0 || i >= len(wl.widths) || w == wl.widths[i] {
		return
	}
	wl.widths[i] = w
	if wl.prefs != nil {
		wl.prefs.SetFloat(fmt.Sprintf(prefColumnWidth, i), float64(w))
	}
}

// cellText returns what a cell shows, and for the priority column the
// badge colour.
func (wl *WorklistPanel) cellText(r *triage.Row, col int) (string, fyne.ThemeColorName) {
	switch columns[col].sort {
	case triage.ColumnPriority:
		switch r.Priority {
		case triage.PriorityTwoWeekWait:
			return r.Priority.Label(), style.ColorNameTwoWeek
		case triage.PriorityUrgent:
			return r.Priority.Label(), style.ColorNameUrgent
		}
		return r.Priority.Label(), ""
	case triage.ColumnType:
		return r.Type.Label(), ""
	case triage.ColumnUBRN:
		return widgets.UBRNText(r.UBRN), ""
	case triage.ColumnNHSNumber:
		return triage.FormatNHSNumber(r.NHSNumber), ""
	case triage.ColumnSpecialty:
		return r.Specialty.Label(), ""
	case triage.ColumnService:
		return r.Service.Label(), ""
	case triage.ColumnReceived:
		return widgets.DayText(r.Received()), ""
	case triage.ColumnDaysWaiting:
		return strconv.Itoa(r.DaysWaiting(wl.now())), ""
	case triage.ColumnReviewBy:
		if r.ReviewBy.IsZero() {
			return "–", ""
		}
		if r.Local != triage.LocalSent && reviewOverdue(r.ReviewBy, wl.now()) {
			return widgets.DayText(r.ReviewBy) + " · overdue", toneDanger
		}
		return widgets.DayText(r.ReviewBy), ""
	case triage.ColumnChanged:
		if l := changedLabel(r.ContextStatus); l != "" {
			return l, style.ColorNameUrgent
		}
		return "", ""
	case triage.ColumnLocalStatus:
		switch r.Local {
		case triage.LocalConflict, triage.LocalFailed:
			return r.Local.Label(), toneDanger
		case triage.LocalSent:
			return r.Local.Label(), theme.ColorNameSuccess
		}
		return r.Local.Label(), ""
	case triage.ColumnOffline:
		if r.OfflineReady {
			return "Ready", ""
		}
		return "Not yet", ""
	}
	return "", ""
}

// toneDanger draws a cell's text in the error colour instead of a badge
// (its words, such as "overdue", say it too).
const toneDanger fyne.ThemeColorName = "triagedesk.dangerText"
