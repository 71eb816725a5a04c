package outbox

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// decisionLines describes the clinician's decision.
func decisionLines(d triage.Decision) []fyne.CanvasObject {
	out := []fyne.CanvasObject{widgets.DetailField("Decision", d.Kind.Label())}
	if d.Kind == triage.DecisionReject {
		out = append(out, widgets.DetailField("Reason", firstText(d.Reason.Display, d.Reason.Code, "–")))
	}
	if d.Kind == triage.DecisionReviewOutcome {
		out = append(out, widgets.DetailField("Outcome", d.Outcome.Label()))
	}
	if d.NewPriority != "" {
		out = append(out, widgets.DetailField("New priority", d.NewPriority.Label()))
	}
	out = append(out, widgets.DetailField("Comments", firstText(d.Comments, "(none)")))
	if n := len(d.Attachments); n > 0 {
		out = append(out, widgets.DetailField("Attachments", widgets.CountOf(n, "file", "files")))
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
		v.setDetail([]fyne.CanvasObject{widget.NewLabel("Select a decision to see its details.")}, nil)
		return
	}
	now := v.now()
	d := en.Decision
	head := widget.NewLabelWithStyle(d.Summary()+" – referral "+widgets.UBRNText(en.UBRN), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	objs := []fyne.CanvasObject{head,
		widgets.DetailField("State", entryStateLabel(en)),
		widgets.DetailField("Made", fmt.Sprintf("%s %s by %s", widgets.DayText(en.CreatedAt), en.CreatedAt.Local().Format("15:04"), whoText(en.By))),
		widgets.DetailField("Attempts", fmt.Sprint(en.Attempts)),
	}
	if en.State == triage.OutboxQueued && !en.NextAttemptAt.IsZero() && en.NextAttemptAt.After(now) {
		objs = append(objs, widgets.DetailField("Next attempt", widgets.ClockText(en.NextAttemptAt, now)))
	}
	if e := en.LastError; e != nil {
		objs = append(objs, widgets.DetailField("Last error", sendErrorText(e)))
	}
	if s := en.Sent; s != nil {
		at := s.ServerTime
		if at.IsZero() {
			at = s.At
		}
		objs = append(objs, widgets.DetailField("Sent", fmt.Sprintf("%s, e-RS request id %s; the referral is now version %d",
			widgets.ClockText(at, now), firstText(s.RequestID, "not given"), s.NewVersion)))
	}
	if en.State == triage.OutboxConflict && en.Conflict != nil {
		objs = append(objs, v.conflictPanel(en))
		v.noteShown(en)
	} else {
		objs = append(objs, widget.NewSeparator())
		objs = append(objs, decisionLines(d)...)
	}
	v.setDetail(objs, v.actions(en))
}

// setDetail shows the body above the action bar (acts: nil for none).
func (v *OutboxView) setDetail(body, acts []fyne.CanvasObject) {
	v.detailBody.Objects = body
	v.detailBody.Refresh()
	v.actionBar.Objects = acts
	v.actionBar.Refresh()
	v.actionBar.Hidden = len(acts) == 0
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
	mine.Objects = append(mine.Objects, widgets.DetailField("Made on version", fmt.Sprint(en.BaseVersion)))
	theirs := container.NewVBox(widget.NewLabelWithStyle("What e-RS says now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widgets.DetailField("State", c.Status.State.Label()),
		widgets.DetailField("Reason", firstText(c.Status.Reason.Display, c.Status.Reason.Code, "(none)")),
		widgets.DetailField("Comments", firstText(c.Status.Comments, "(none)")),
		widgets.DetailField("Version", fmt.Sprint(c.Version)))
	when := c.ServerTime
	if when.IsZero() {
		when = c.SeenAt
	}
	theirs.Objects = append(theirs.Objects, widgets.DetailField("Seen", widgets.DayText(when)+" "+widgets.ClockText(when, now)))
	if c.RequestID != "" {
		theirs.Objects = append(theirs.Objects, widgets.DetailField("e-RS request id", c.RequestID))
	}
	expl := widget.NewLabel(fmt.Sprintf("Not sent: the referral had already changed in e-RS (%s, version %d, at %s), so your decision was not applied. "+
		"Nothing was sent for it. Read what e-RS says now, then acknowledge.", c.Status.State.Label(), c.Version, widgets.ClockText(when, now)))
	expl.Wrapping = fyne.TextWrapWord
	expl.Importance = widget.DangerImportance
	objs := []fyne.CanvasObject{widget.NewSeparator(), expl, container.NewGridWithColumns(2, widgets.PanelBox(mine), widgets.PanelBox(theirs))}
	if c.Acknowledged {
		ack := widget.NewLabel(fmt.Sprintf("You acknowledged this at %s. Amend it to decide again on the referral as it is now, or discard it.",
			widgets.ClockText(c.AcknowledgedAt, now)))
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
	v.confirmThen("Discard this decision?",
		"It will not be sent to e-RS, and the referral stays as e-RS has it. Discarding is recorded in your audit log. "+
			"You can still make a new decision on the referral from the worklist.",
		"Discard decision", widget.DangerImportance, func(ctx context.Context, a *app.Workspace) error {
			_, err := a.Discard(ctx, id)
			return err
		})
}

func (v *OutboxView) confirmCancel(id string) {
	v.confirmThen("Cancel this decision?",
		"It has not been sent to e-RS yet and will not be. Cancelling is recorded in your audit log.",
		"Cancel decision", widget.WarningImportance, func(ctx context.Context, a *app.Workspace) error {
			_, err := a.Cancel(ctx, id)
			return err
		})
}

// confirmThen asks before op, which runs only if the clinician confirms
// ("Keep it" leaves the decision as it is).
func (v *OutboxView) confirmThen(title, msg, confirm string, imp widget.Importance, op func(ctx context.Context, a *app.Workspace) error) {
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		if ok {
			v.run(op)
		}
	}, v.o.Window)
	d.SetConfirmText(confirm)
	d.SetDismissText("Keep it")
	d.SetConfirmImportance(imp)
	d.Show()
}
