package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
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
	table       *widget.Table
	empty       *widget.Label
	detail      *fyne.Container
	errLine     *widget.Label
	obj         fyne.CanvasObject
	loading     bool
	reloadAgain bool
	ops         int  // store operations in flight
	selectFirst bool // select the first entry needing attention once listed
}

// outbox table columns.
var outboxColumns = []struct {
	title string
	width float32
}{
	{"State", 250}, {"Referral (UBRN)", 150}, {"Decision", 260}, {"Made", 110}, {"Attempts", 80}, {"Last error", 420},
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

	v.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.rows), len(outboxColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row < 0 || id.Row >= len(v.rows) {
				l.SetText("")
				return
			}
			en := &v.rows[id.Row]
			l.Importance = widget.MediumImportance
			l.TextStyle = fyne.TextStyle{}
			switch id.Col {
			case 0:
				l.Importance = stateImportance(en)
				l.TextStyle.Bold = en.State == triage.OutboxConflict || en.State == triage.OutboxFailed
				l.SetText(entryStateLabel(en))
			case 1:
				l.SetText(ubrnText(en.UBRN))
			case 2:
				l.SetText(en.Decision.Summary())
			case 3:
				l.SetText(clockText(en.CreatedAt, v.now()))
			case 4:
				l.SetText(fmt.Sprint(en.Attempts))
			case 5:
				if en.LastError != nil {
					l.SetText(en.LastError.Message)
				} else {
					l.SetText("")
				}
			}
			l.Refresh()
		})
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(outboxColumns) {
			o.(*widget.Label).SetText(outboxColumns[id.Col].title)
		}
	}
	for i, c := range outboxColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(v.rows) {
			v.selected = v.rows[id.Row].ID
			v.showDetail()
		}
	}
	v.empty = widget.NewLabel("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.errLine = widget.NewLabel("")
	v.errLine.Importance = widget.DangerImportance
	v.errLine.Wrapping = fyne.TextWrapWord
	v.errLine.Hide()
	v.detail = container.NewVBox()

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
	list := container.NewStack(v.table, container.NewCenter(v.empty))
	split := container.NewVSplit(list, container.NewVScroll(container.NewPadded(v.detail)))
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
	v.table.Refresh()
	row := slices.IndexFunc(v.rows, func(e app.Entry) bool { return e.ID == v.selected })
	if row >= 0 {
		v.table.Select(widget.TableCellID{Row: row, Col: 0})
	} else {
		v.table.UnselectAll()
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
	switch en.State {
	case triage.OutboxQueued:
		if en.Attempts > 0 {
			return "Queued (will retry)"
		}
		return "Queued"
	case triage.OutboxSending:
		return "Sending"
	case triage.OutboxSent:
		return "Sent"
	case triage.OutboxConflict:
		if en.Conflict != nil && en.Conflict.Acknowledged {
			return "Not applied (acknowledged)"
		}
		return "Not applied: acknowledge"
	case triage.OutboxFailed:
		return "Failed"
	case triage.OutboxDiscarded:
		if en.ReplacedBy != "" {
			return "Replaced by an amendment"
		}
		return "Discarded"
	}
	return string(en.State)
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

// ubrnText groups a UBRN in fours ("0000 1234 5678").
func ubrnText(u string) string {
	n := strings.ReplaceAll(u, " ", "")
	if len(n) != 12 {
		return u
	}
	return n[:4] + " " + n[4:8] + " " + n[8:]
}

// detailField is a bold label and its value, for the detail panel.
func detailField(name, value string) fyne.CanvasObject {
	k := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	val := widget.NewLabel(value)
	val.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(150, k.MinSize().Height), k), nil, val)
}

// decisionLines describes the clinician's decision.
func decisionLines(d triage.Decision) []fyne.CanvasObject {
	out := []fyne.CanvasObject{detailField("Decision", d.Kind.Label())}
	if d.Kind == triage.DecisionReject {
		out = append(out, detailField("Reason", firstText(d.Reason.Display, d.Reason.Code, "–")))
	}
	if d.Kind == triage.DecisionReviewOutcome {
		out = append(out, detailField("Outcome", d.Outcome.Label()))
	}
	if d.NewPriority != "" {
		out = append(out, detailField("New priority", d.NewPriority.Label()))
	}
	out = append(out, detailField("Comments", firstText(d.Comments, "(none)")))
	if n := len(d.Attachments); n > 0 {
		out = append(out, detailField("Attachments", countOf(n, "file", "files")))
	}
	return out
}

func firstText(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func whoText(id triage.Identity) string {
	who := firstText(id.Name, "SDS user "+id.SDSUserID)
	if id.BusinessFunction != "" {
		who += " as " + strings.ToLower(id.BusinessFunction.Label()) + " at " + id.ODS
	}
	if id.OnBehalfOf != "" {
		who += ", on behalf of SDS user " + id.OnBehalfOf
	}
	return who
}

// showDetail shows the selected entry and what can be done with it.
func (v *OutboxView) showDetail() {
	en, ok := v.current()
	if !ok {
		v.detail.Objects = []fyne.CanvasObject{widget.NewLabel("Select a decision to see its details.")}
		v.detail.Refresh()
		return
	}
	now := v.now()
	d := en.Decision
	head := widget.NewLabelWithStyle(d.Summary()+" – referral "+ubrnText(en.UBRN), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	objs := []fyne.CanvasObject{head,
		detailField("State", entryStateLabel(en)),
		detailField("Made", fmt.Sprintf("%s %s by %s", dayText(en.CreatedAt), en.CreatedAt.Local().Format("15:04"), whoText(en.By))),
		detailField("Attempts", fmt.Sprint(en.Attempts)),
	}
	if en.State == triage.OutboxQueued && !en.NextAttemptAt.IsZero() && en.NextAttemptAt.After(now) {
		objs = append(objs, detailField("Next attempt", clockText(en.NextAttemptAt, now)))
	}
	if e := en.LastError; e != nil {
		objs = append(objs, detailField("Last error", sendErrorText(e)))
	}
	if s := en.Sent; s != nil {
		at := s.ServerTime
		if at.IsZero() {
			at = s.At
		}
		objs = append(objs, detailField("Sent", fmt.Sprintf("%s, e-RS request id %s; the referral is now version %d",
			clockText(at, now), firstText(s.RequestID, "not given"), s.NewVersion)))
	}
	if en.State == triage.OutboxConflict && en.Conflict != nil {
		objs = append(objs, v.conflictPanel(en))
		v.noteShown(en)
	} else {
		objs = append(objs, widget.NewSeparator())
		objs = append(objs, decisionLines(d)...)
	}
	if acts := v.actions(en); len(acts) > 0 {
		objs = append(objs, container.NewHBox(acts...))
	}
	v.detail.Objects = objs
	v.detail.Refresh()
}

func dayText(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Local().Format("02 Jan 2006")
}

// sendErrorText is a send error with e-RS's identifiers for support.
func sendErrorText(e *app.SendError) string {
	s := e.Message
	var ids []string
	if e.HTTPStatus != 0 {
		ids = append(ids, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	if e.ERSCode != "" {
		ids = append(ids, e.ERSCode)
	}
	if e.RequestID != "" {
		ids = append(ids, "e-RS request id "+e.RequestID)
	}
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s
}

// conflictPanel shows the decision made beside what e-RS says now.
func (v *OutboxView) conflictPanel(en *app.Entry) fyne.CanvasObject {
	c := en.Conflict
	now := v.now()
	mine := container.NewVBox(widget.NewLabelWithStyle("Your decision (not applied)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	mine.Objects = append(mine.Objects, decisionLines(en.Decision)...)
	mine.Objects = append(mine.Objects, detailField("Made on version", fmt.Sprint(en.BaseVersion)))
	theirs := container.NewVBox(widget.NewLabelWithStyle("What e-RS says now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detailField("State", c.Status.State.Label()),
		detailField("Reason", firstText(c.Status.Reason.Display, c.Status.Reason.Code, "(none)")),
		detailField("Comments", firstText(c.Status.Comments, "(none)")),
		detailField("Version", fmt.Sprint(c.Version)))
	when := c.ServerTime
	if when.IsZero() {
		when = c.SeenAt
	}
	theirs.Objects = append(theirs.Objects, detailField("Seen", dayText(when)+" "+clockText(when, now)))
	if c.RequestID != "" {
		theirs.Objects = append(theirs.Objects, detailField("e-RS request id", c.RequestID))
	}
	expl := widget.NewLabel(fmt.Sprintf("Not sent: the referral had already changed in e-RS (%s, version %d, at %s), so your decision was not applied. "+
		"Nothing was sent for it. Read what e-RS says now, then acknowledge.", c.Status.State.Label(), c.Version, clockText(when, now)))
	expl.Wrapping = fyne.TextWrapWord
	expl.Importance = widget.DangerImportance
	objs := []fyne.CanvasObject{widget.NewSeparator(), expl, container.NewGridWithColumns(2, panelBox(mine), panelBox(theirs))}
	if c.Acknowledged {
		ack := widget.NewLabel(fmt.Sprintf("You acknowledged this at %s. Amend it to decide again on the referral as it is now, or discard it.",
			clockText(c.AcknowledgedAt, now)))
		ack.Wrapping = fyne.TextWrapWord
		objs = append(objs, ack)
	}
	return container.NewVBox(objs...)
}

// noteShown audits, once per session, that a conflict was shown.
func (v *OutboxView) noteShown(en *app.Entry) {
	if v.shown[en.ID] || en.Conflict.Acknowledged {
		return
	}
	v.shown[en.ID] = true
	a, id := v.o.Workspace, en.ID
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, a.NoteConflictShown(ctx, id)
	}, func(_ struct{}, err error) {
		if err != nil {
			v.showError(err)
		}
	})
}

// actions are the buttons for what can be done with the entry now.
func (v *OutboxView) actions(en *app.Entry) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	btn := func(text string, icon fyne.Resource, imp widget.Importance, fn func()) {
		b := widget.NewButtonWithIcon(text, icon, fn)
		b.Importance = imp
		out = append(out, b)
	}
	amend := func() {
		if v.o.Amend != nil {
			e := *en
			btn("Amend…", theme.DocumentCreateIcon(), widget.MediumImportance, func() { v.o.Amend(e) })
		}
	}
	id := en.ID
	switch en.State {
	case triage.OutboxQueued:
		amend()
		btn("Cancel decision…", theme.CancelIcon(), widget.WarningImportance, func() { v.confirmCancel(id) })
	case triage.OutboxFailed:
		btn("Retry", theme.ViewRefreshIcon(), widget.HighImportance, func() { v.retry(id) })
		amend()
		btn("Discard…", theme.DeleteIcon(), widget.DangerImportance, func() { v.confirmDiscard(id) })
	case triage.OutboxConflict:
		if en.Conflict == nil || !en.Conflict.Acknowledged {
			btn("I have read this: acknowledge", theme.ConfirmIcon(), widget.HighImportance, func() { v.acknowledge(id) })
		} else {
			amend()
			btn("Discard…", theme.DeleteIcon(), widget.DangerImportance, func() { v.confirmDiscard(id) })
		}
	}
	return out
}

// run performs a store operation off the UI goroutine, then reloads.
func (v *OutboxView) run(op func(ctx context.Context, a *app.Workspace) error) {
	a := v.o.Workspace
	v.errLine.Hide()
	v.ops++
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, op(ctx, a)
	}, func(_ struct{}, err error) {
		v.ops--
		if err != nil {
			v.showError(err)
		}
		v.Reload()
	})
}

func (v *OutboxView) retry(id string) {
	v.run(func(ctx context.Context, a *app.Workspace) error {
		_, err := a.Retry(ctx, id)
		return err
	})
}

func (v *OutboxView) acknowledge(id string) {
	v.run(func(ctx context.Context, a *app.Workspace) error {
		_, err := a.AcknowledgeConflict(ctx, id)
		return err
	})
}

func (v *OutboxView) confirmDiscard(id string) {
	d := dialog.NewConfirm("Discard this decision?",
		"It will not be sent to e-RS, and the referral stays as e-RS has it. Discarding is recorded in your audit log. "+
			"You can still make a new decision on the referral from the worklist.",
		func(ok bool) {
			if ok {
				v.run(func(ctx context.Context, a *app.Workspace) error {
					_, err := a.Discard(ctx, id)
					return err
				})
			}
		}, v.o.Window)
	d.SetConfirmText("Discard decision")
	d.SetDismissText("Keep it")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (v *OutboxView) confirmCancel(id string) {
	d := dialog.NewConfirm("Cancel this decision?",
		"It has not been sent to e-RS yet and will not be. Cancelling is recorded in your audit log.",
		func(ok bool) {
			if ok {
				v.run(func(ctx context.Context, a *app.Workspace) error {
					_, err := a.Cancel(ctx, id)
					return err
				})
			}
		}, v.o.Window)
	d.SetConfirmText("Cancel decision")
	d.SetDismissText("Keep it")
	d.SetConfirmImportance(widget.WarningImportance)
	d.Show()
}
