package advice

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// confirmContent is what the confirm step shows: exactly what will be sent
// and for which patient.
type confirmContent struct {
	title string
	send  string
	rows  [][2]string
}

// confirmRows are the rows naming the patient and request.
func confirmRows(av app.AdviceView) [][2]string {
	r := av.Request
	return [][2]string{
		{"Patient NHS number", triage.FormatNHSNumber(r.NHSNumber)},
		{"UBRN", formatUBRN(r.UBRN)},
		{"Request", r.Priority.Label() + " · " + r.Specialty.Label() + " · " + r.Category.Label()},
	}
}

// confirmReply is the confirm step of a reply: "Send advice: …".
func confirmReply(av app.AdviceView, r triage.AdviceReply) confirmContent {
	rows := append(confirmRows(av), [2]string{"Outcome", r.Outcome.Label() + " – sent to e-RS as an advice and guidance response (A026)"})
	if r.Recommendation != "" {
		rows = append(rows, [2]string{"Intended recommendation", r.Recommendation.Label()})
	}
	rows = append(rows, [2]string{"Guidance", clip(r.Guidance, 600)})
	pr := r.Priority.Label()
	if r.Priority != av.Request.Priority {
		pr += " (was " + av.Request.Priority.Label() + ")"
	}
	rows = append(rows, [2]string{"Priority", pr})
	return confirmContent{title: "Send advice: " + r.Summary(), send: "Send advice", rows: rows}
}

// confirmStep is the dialog between the form and the outbox.
type confirmStep struct {
	c       *conversation
	title   string
	dlg     *dialog.CustomDialog
	work    func(context.Context, *app.Workspace) error
	failed  func(error)
	buttons []*widget.Button
	busy    bool
}

// newConfirmStep shows what will be sent; confirming queues it with work.
// next (the form's "…and next") is the default of Ctrl+Enter.
func newConfirmStep(c *conversation, content confirmContent, work func(context.Context, *app.Workspace) error, next bool, failed func(error)) *confirmStep {
	s := &confirmStep{c: c, title: content.title, work: work, failed: failed}
	objs := []fyne.CanvasObject{}
	for _, r := range content.rows {
		objs = append(objs, widgets.DetailField(r[0], r[1]))
	}
	send := widget.NewButtonWithIcon(content.send+keyHint(shortcuts.Confirm), theme.ConfirmIcon(), func() { s.send(false) })
	send.Importance = widget.HighImportance
	andNext := widget.NewButton(content.send+" and open next"+keyHint(shortcuts.ConfirmAndNext), func() { s.send(true) })
	back := widget.NewButton("Back to the form"+keyHint(shortcuts.Cancel), s.close)
	if next {
		send, andNext = andNext, send
		andNext.Importance, send.Importance = widget.MediumImportance, widget.HighImportance
	}
	s.buttons = []*widget.Button{send, andNext, back}
	body := container.NewBorder(nil, container.NewHBox(send, andNext, back), nil, nil,
		container.NewVScroll(container.NewVBox(objs...)))
	s.dlg = dialog.NewCustomWithoutButtons(content.title, body, c.v.opts.Frame.Window())
	s.dlg.Resize(fyne.NewSize(720, 460))
	s.dlg.Show()
	return s
}

// send queues the action; next opens the next request waiting for a
// reply afterwards.
func (s *confirmStep) send(next bool) {
	if s.busy {
		return
	}
	s.busy = true
	for _, b := range s.buttons {
		b.Disable()
	}
	s.c.queue(s.work, next, s.failed)
	s.close()
}

// close hides the dialog (the form stays as it was).
func (s *confirmStep) close() {
	s.dlg.Hide()
	if s.c.confirm == s {
		s.c.confirm = nil
	}
}
