package outbox

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// ScreenOutbox is the outbox screen's name.
const ScreenOutbox = "outbox"

// OutboxFilter chooses which decisions the outbox lists.
type OutboxFilter string

// The outbox filters, in the order offered.
const (
	// OutboxNeedsAttention: conflicts and failed decisions, which wait for
	// the clinician.
	OutboxNeedsAttention OutboxFilter = "Needs attention"
	// OutboxWaitingToSend: queued and being sent.
	OutboxWaitingToSend OutboxFilter = "Waiting to be sent"
	// OutboxSentList: applied in e-RS.
	OutboxSentList OutboxFilter = "Sent"
	// OutboxAll: every decision kept on this computer, discarded ones too.
	OutboxAll OutboxFilter = "All"
)

var outboxFilters = []OutboxFilter{OutboxNeedsAttention, OutboxWaitingToSend, OutboxSentList, OutboxAll}

// FilterFor is the filter that shows decisions in state st ("" : all).
func FilterFor(st triage.OutboxState) OutboxFilter {
	switch st {
	case triage.OutboxConflict, triage.OutboxFailed:
		return OutboxNeedsAttention
	case triage.OutboxQueued, triage.OutboxSending:
		return OutboxWaitingToSend
	case triage.OutboxSent:
		return OutboxSentList
	}
	return OutboxAll
}

func (f OutboxFilter) match(en *app.Entry) bool {
	switch f {
	case OutboxNeedsAttention:
		return en.State == triage.OutboxConflict || en.State == triage.OutboxFailed
	case OutboxWaitingToSend:
		return en.State == triage.OutboxQueued || en.State == triage.OutboxSending
	case OutboxSentList:
		return en.State == triage.OutboxSent
	}
	return true
}

// OutboxOptions configure an OutboxView.
type OutboxOptions struct {
	// Workspace is the clinician's open workspace. Required.
	Workspace *app.Workspace
	// Bridge runs store operations off the UI goroutine. Required.
	Bridge *bridge.Bridge
	// Window shows the confirmation dialogs. Required.
	Window fyne.Window
	// Amend reopens the decision form with the entry's inputs (the vetting
	// window provides it); confirming the form replaces the entry with
	// app.Workspace.Amend. Nil hides Amend.
	Amend func(en app.Entry)
	// OnClose leaves the outbox (back to the worklist). Nil hides the
	// button.
	OnClose func()
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// OutboxView lists every decision on its way to e-RS with its state, when
// it was made, its attempts and last error, and acts on the one selected:
// retry, amend or discard a failed decision, cancel a queued one. A
// conflict shows the clinician's decision beside what e-RS says now (state,
// reason, comments, version, when) and must be acknowledged (audited)
// before it can be discarded or amended. Use it on the UI goroutine.
type OutboxView struct {
	o   OutboxOptions
	now func() time.Time

	filter   OutboxFilter
	all      []app.Entry
	rows     []app.Entry
	selected string // entry id
	shown    map[string]bool

	filterRadio *widget.RadioGroup
	table       *widgets.DataTable[app.Entry]
	empty       *widget.Label
	detail      *fyne.Container // the body (scrolled) over the action bar
	detailBody  *fyne.Container
	actionBar   *fyne.Container
	errLine     *widget.Label
	obj         fyne.CanvasObject
	loading     bool
	reloadAgain bool
	ops         int  // store operations in flight
	selectFirst bool // select the first entry needing attention once listed
}

// outboxColumns are the outbox table's columns; now is the clock the
// "Made" times are written against. The referral, the time made and the
// attempts sort.
func outboxColumns(now func() time.Time) []widgets.Column[app.Entry] {
	plain := func(app.Entry) (widget.Importance, fyne.TextStyle) { return widget.MediumImportance, fyne.TextStyle{} }
	return []widgets.Column[app.Entry]{
		{Heading: "State", Width: 250, Text: func(en app.Entry) string { return entryStateLabel(&en) },
			Style: func(en app.Entry) (widget.Importance, fyne.TextStyle) {
				return stateImportance(&en), fyne.TextStyle{Bold: en.State == triage.OutboxConflict || en.State == triage.OutboxFailed}
			}},
		{Heading: "Referral (UBRN)", Width: 150, Text: func(en app.Entry) string { return widgets.UBRNText(en.UBRN) }, Style: plain,
			Compare: func(a, b app.Entry) int { return cmp.Compare(a.UBRN, b.UBRN) }},
		{Heading: "Decision", Width: 260, Text: func(en app.Entry) string { return en.Decision.Summary() }, Style: plain},
		{Heading: "Made", Width: 110, Text: func(en app.Entry) string { return widgets.ClockText(en.CreatedAt, now()) }, Style: plain,
			Compare: func(a, b app.Entry) int { return a.CreatedAt.Compare(b.CreatedAt) }},
		{Heading: "Attempts", Width: 80, Text: func(en app.Entry) string { return fmt.Sprint(en.Attempts) }, Style: plain,
			Compare: func(a, b app.Entry) int { return cmp.Compare(a.Attempts, b.Attempts) }},
		{Heading: "Last error", Width: 420, Text: func(en app.Entry) string {
			if en.LastError != nil {
				return en.LastError.Message
			}
			return ""
		}, Style: plain},
	}
}

// NewOutboxView builds the outbox and reads it. Show it with
// Frame.ShowPage(ScreenOutbox, v.Object()).
func NewOutboxView(o OutboxOptions) *OutboxView {
	v := &OutboxView{o: o, now: o.Now, filter: OutboxNeedsAttention, shown: map[string]bool{}}
	if v.now == nil {
		v.now = time.Now
	}
	names := make([]string, len(outboxFilters))
	for i, f := range outboxFilters {
		names[i] = string(f)
	}
	v.filterRadio = widget.NewRadioGroup(names, func(s string) {
		if s == "" {
			v.filterRadio.SetSelected(string(v.filter))
			return
		}
		v.filter = OutboxFilter(s)
		v.applyFilter()
	})
	v.filterRadio.Horizontal = true
	v.filterRadio.Selected = string(v.filter)

	v.table = widgets.NewDataTable(outboxColumns(func() time.Time { return v.now() }))
	v.table.OnSelected = func(_ int, en app.Entry) {
		v.selected = en.ID
		v.showDetail()
	}
	v.empty = widget.NewLabel("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.errLine = widget.NewLabel("")
	v.errLine.Importance = widget.DangerImportance
	v.errLine.Wrapping = fyne.TextWrapWord
	v.errLine.Hide()
	// The actions (Acknowledge, Retry, Discard…) sit under the detail,
	// always in view: the detail scrolls above them, so they are never
	// below the fold on a 1280×800 screen.
	v.detailBody = container.NewVBox()
	v.actionBar = container.NewHBox()
	v.detail = container.NewBorder(nil, container.NewPadded(v.actionBar), nil, nil, container.NewVScroll(container.NewPadded(v.detailBody)))

	title := widget.NewLabelWithStyle("Outbox", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	var head []fyne.CanvasObject
	if o.OnClose != nil {
		back := widget.NewButtonWithIcon("Back to the worklist", theme.NavigateBackIcon(), o.OnClose)
		head = append(head, back)
	}
	head = append(head, title)
	intro := widget.NewLabel("Every decision you made on this computer, on its way to e-RS. Decisions are sent automatically; those that need you are under \"Needs attention\".")
	intro.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(container.NewHBox(head...), intro, v.filterRadio, v.errLine)
	list := container.NewStack(v.table.Object(), container.NewCenter(v.empty))
	split := container.NewVSplit(list, v.detail)
	// The list is short (a morning's decisions); the detail, with a
	// conflict's "your decision" beside "what e-RS says now", gets more.
	split.Offset = 0.3
	v.obj = container.NewBorder(top, nil, nil, nil, split)
	v.Reload()
	return v
}

// Object returns the screen.
func (v *OutboxView) Object() fyne.CanvasObject { return v.obj }

// SetFilter shows the decisions the filter selects.
func (v *OutboxView) SetFilter(f OutboxFilter) {
	v.filterRadio.SetSelected(string(f))
}

// Select shows the entry's details (when listed under the current filter,
// or under All otherwise).
func (v *OutboxView) Select(id string) {
	v.selected = id
	if !slices.ContainsFunc(v.rows, func(e app.Entry) bool { return e.ID == id }) {
		v.SetFilter(OutboxAll)
	}
	v.applyFilter()
}

// SelectFirst selects, once listed, the oldest unacknowledged conflict, or
// else the first entry listed.
func (v *OutboxView) SelectFirst() {
	v.selectFirst = true
	v.applyFilter()
}

// Apply reloads the outbox when an engine Update says it changed.
func (v *OutboxView) Apply(u bridge.Update) {
	if u.Outbox != nil || len(u.Decisions) > 0 || u.Lagged {
		v.Reload()
	}
}

// Reload reads the outbox again off the UI goroutine.
func (v *OutboxView) Reload() {
	if v.loading {
		v.reloadAgain = true
		return
	}
	v.loading = true
	st := v.o.Workspace
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) ([]app.Entry, error) {
		return st.Entries(ctx, app.EntryFilter{})
	}, func(es []app.Entry, err error) {
		v.loading = false
		if err != nil {
			v.showError(err)
		} else {
			slices.Reverse(es) // newest first
			v.all = es
			v.applyFilter()
		}
		if v.reloadAgain {
			v.reloadAgain = false
			v.Reload()
		}
	})
}

// busy reports whether a read or an operation is in flight (tests).
func (v *OutboxView) busy() bool { return v.loading || v.ops > 0 }

func (v *OutboxView) showError(err error) {
	v.errLine.SetText(triage.ErrorMessage(err))
	v.errLine.Show()
}

// applyFilter lists the entries the filter selects and keeps the selection.
func (v *OutboxView) applyFilter() {
	v.rows = v.rows[:0]
	for i := range v.all {
		if v.filter.match(&v.all[i]) {
			v.rows = append(v.rows, v.all[i])
		}
	}
	if v.selectFirst && v.selected == "" && len(v.rows) > 0 {
		v.selectFirst = false
		v.selected = v.rows[0].ID
		for i := len(v.rows) - 1; i >= 0; i-- { // newest first: the oldest is last
			if c := v.rows[i].Conflict; v.rows[i].State == triage.OutboxConflict && c != nil && !c.Acknowledged {
				v.selected = v.rows[i].ID
				break
			}
		}
	}
	v.empty.SetText(emptyOutboxText(v.filter))
	v.empty.Hidden = len(v.rows) > 0
	v.table.SetRows(v.rows)
	if row := v.table.Index(func(e app.Entry) bool { return e.ID == v.selected }); row >= 0 {
		v.table.Select(row)
	}
	v.showDetail()
}

func emptyOutboxText(f OutboxFilter) string {
	switch f {
	case OutboxNeedsAttention:
		return "Nothing needs your attention: no conflicts and no failed decisions."
	case OutboxWaitingToSend:
		return "No decisions are waiting to be sent."
	case OutboxSentList:
		return "No sent decisions are kept on this computer."
	}
	return "You have not made any decisions on this computer yet."
}

// current returns the selected entry, if listed.
func (v *OutboxView) current() (*app.Entry, bool) {
	for i := range v.rows {
		if v.rows[i].ID == v.selected {
			return &v.rows[i], true
		}
	}
	return nil, false
}

// entryStateLabel is the state as the outbox shows it.
func entryStateLabel(en *app.Entry) string {
	return triage.OutboxLabel(en.State, en.Attempts > 0, en.Conflict != nil && en.Conflict.Acknowledged, en.ReplacedBy != "", en.Withdrawn)
}

func stateImportance(en *app.Entry) widget.Importance {
	switch en.State {
	case triage.OutboxConflict:
		if en.Conflict != nil && en.Conflict.Acknowledged {
			return widget.WarningImportance
		}
		return widget.DangerImportance
	case triage.OutboxFailed:
		return widget.WarningImportance
	case triage.OutboxSent:
		return widget.SuccessImportance
	case triage.OutboxDiscarded:
		return widget.LowImportance
	}
	return widget.MediumImportance
}
