package vetting

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/patientbanner"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// --- the confirm step ------------------------------------------------------

// confirmStep shows exactly what will be sent and for which patient, and
// queues it on confirmation.
type confirmStep struct {
	dp      *decisionPanel
	d       triage.Decision
	dlg     *dialog.CustomDialog
	err     *widget.Label
	buttons []*widget.Button
	queued  bool
	body    fyne.CanvasObject
}

// sentAs says in words how e-RS receives a decision of kind, with the
// operation's number in brackets, so it does not read as a reason code.
func sentAs(k triage.DecisionKind) string {
	what := map[triage.DecisionKind]string{
		triage.DecisionAccept:        "an acceptance",
		triage.DecisionReject:        "a rejection",
		triage.DecisionRedirect:      "a redirection",
		triage.DecisionReviewOutcome: "a triage outcome",
	}[k]
	if what == "" {
		return "sent to e-RS (" + k.Operation() + ")"
	}
	return "sent to e-RS as " + what + " (" + k.Operation() + ")"
}

func newConfirmStep(dp *decisionPanel, d triage.Decision) *confirmStep {
	c := &confirmStep{dp: dp, d: d}
	r := dp.p.referral()
	rows := [][2]string{
		{"Patient NHS number", triage.FormatNHSNumber(r.NHSNumber)},
		{"UBRN", widgets.UBRNText(r.UBRN)},
		{"Referral", r.Priority.Label() + " · " + r.Type.Label() + " · " + r.Specialty.Label() + " · " + r.Service.Label()},
		{"Decision", d.Summary() + " – " + sentAs(d.Kind)},
	}
	if d.Kind == triage.DecisionReviewOutcome {
		rows[3][1] = "Triage outcome: " + d.Outcome.Label() + " – " + sentAs(d.Kind)
	}
	if d.Kind != triage.DecisionAccept {
		com := d.Comments
		if com == "" {
			com = "(none)"
		}
		rows = append(rows, [2]string{"Comments", com})
	}
	if d.AppointmentCancelledInPAS != nil {
		v := "No"
		if *d.AppointmentCancelledInPAS {
			v = "Yes"
		}
		rows = append(rows, [2]string{"Appointment cancelled in PAS", v})
	}
	if d.NewPriority != "" {
		rows = append(rows, [2]string{"New priority", d.NewPriority.Label() + " (was " + r.Priority.Label() + ")"})
	}
	for _, a := range d.Attachments {
		rows = append(rows, [2]string{"Attachment", a.FileName + " · " + formatSize(a.Size)})
	}
	grid := container.New(layout.NewFormLayout())
	for _, row := range rows {
		k := widget.NewLabelWithStyle(row[0], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		v := widget.NewLabel(row[1])
		v.Wrapping = fyne.TextWrapWord
		grid.Objects = append(grid.Objects, k, v)
	}
	note := "It is queued now and sent to e-RS as soon as Triage Desk can. You can cancel it until it is sent."
	if d.Kind == triage.DecisionAccept {
		note += " Once sent, an acceptance cannot be undone."
	}
	n := widget.NewLabel(note)
	n.Wrapping = fyne.TextWrapWord
	c.err = errorText("")
	c.err.Hide()
	// Whom it is for, as PDS names the patient: the clinician checks
	// identity against it before sending.
	c.body = container.NewVBox(dp.p.bannerObject(patientbanner.NewCompact), widget.NewSeparator(), grid, widget.NewSeparator(), n, c.err)

	back := widget.NewButtonWithIcon("Back  (Esc)", theme.NavigateBackIcon(), c.close)
	keyText := func(id shortcuts.ID) string { d, _ := shortcuts.Lookup(id); return d.Bindings[0].String() }
	send := widget.NewButtonWithIcon("Queue decision  ("+keyText(shortcuts.Confirm)+")", theme.ConfirmIcon(), func() { c.queue(false) })
	send.Importance = widget.HighImportance
	next := widget.NewButtonWithIcon("Queue and open next  ("+keyText(shortcuts.ConfirmAndNext)+")", theme.MediaSkipNextIcon(), func() { c.queue(true) })
	c.buttons = []*widget.Button{back, send, next}
	w := dp.p.v.frame.Window()
	c.dlg = dialog.NewCustomWithoutButtons("Send this decision to e-RS?", container.NewPadded(c.body), w)
	c.dlg.SetButtons([]fyne.CanvasObject{back, next, send})
	c.dlg.SetOnClosed(func() {
		if dp.confirm == c {
			dp.confirm = nil
		}
	})
	c.dlg.Show()
	width := min(w.Canvas().Size().Width-40, 720)
	c.dlg.Resize(fyne.NewSize(width, 100))
	c.dlg.Resize(fyne.NewSize(width, c.dlg.MinSize().Height))
	w.Canvas().Unfocus()
	return c
}

// close goes back to the form without sending.
func (c *confirmStep) close() {
	c.dp.confirm = nil
	c.dlg.Hide()
}

// queue writes the decision to the outbox (off the UI goroutine: it waits
// for the disk), then shows it queued and, with next, opens the next
// referral.
func (c *confirmStep) queue(next bool) {
	if c.queued {
		return
	}
	c.queued = true
	for _, b := range c.buttons {
		b.Disable()
	}
	dp := c.dp
	v, ubrn, d := dp.p.v, dp.p.ubrn, c.d
	a := v.app
	amend := dp.amending
	bridge.Run(v.b, nil, func(ctx context.Context) (app.Entry, error) {
		var en app.Entry
		var err error
		if amend != nil {
			en, err = a.Amend(ctx, amend.ID, d)
		} else {
			en, err = a.Decide(ctx, d)
		}
		if err == nil {
			_ = a.ClearDraft(ctx, ubrn)
		}
		return en, err
	}, func(en app.Entry, err error) {
		if err != nil {
			c.queued = false
			for _, b := range c.buttons {
				b.Enable()
			}
			c.err.SetText("Not queued: " + triage.ErrorMessage(err))
			c.err.Show()
			return
		}
		delete(v.drafts, ubrn)
		dp.p.data.view.Local.Draft = nil
		// Cleared once more after any draft write still queued, so a
		// draft saved while typing never outlives the decision.
		v.draftWrites.Save(ubrn, func(ctx context.Context) { _ = a.ClearDraft(ctx, ubrn) })
		dp.form = nil
		dp.amending = nil
		dp.entry = &en
		c.close()
		// The form's fields are gone: the keyboard goes back to the
		// window, so the single-key shortcuts act on what shows next.
		v.frame.Window().Canvas().Unfocus()
		v.list.SetLocalStatus(ubrn, triage.LocalStatusOf(en.State))
		dp.render()
		if next {
			v.openNext(ubrn)
		}
	})
}
