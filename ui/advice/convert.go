package advice

import (
	"context"
	"strings"

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

// openConvert asks for what converting to a referral needs (a message to
// the referrer, comments for the booking team, the priority) and then
// shows the confirm step. It is offered only where the referrer allowed
// conversion (AdviceView.CanConvert).
func (c *conversation) openConvert() {
	if !c.view.CanConvert {
		return
	}
	guidance := widgets.NewTextArea(4)
	guidance.SetPlaceHolder("Tell the referrer you are converting the request to a referral")
	comments := widgets.NewTextArea(3)
	comments.SetPlaceHolder("What should your booking team do with the new referral?")
	priority := widget.NewSelect(priorityLabel, nil)
	priority.SetSelected(c.view.Request.Priority.Label())
	errs := errorLabel("")
	errs.Hide()
	var dlg *dialog.CustomDialog
	conv := func() triage.AdviceConversion {
		cv := triage.AdviceConversion{UBRN: c.view.Request.UBRN, BaseVersion: c.view.Request.Version, LastMessageID: c.view.LatestMessageID,
			Authorisation: c.view.Request.Conversion, Guidance: guidance.Text(), ReviewComments: comments.Text()}
		if i := priority.SelectedIndex(); i >= 0 {
			cv.Priority = triage.Priorities[i]
		}
		return cv
	}
	review := widget.NewButton("Review the conversion", func() {
		cv := conv()
		if err := cv.CheckSendable(); err != nil {
			errs.SetText(errorMessage(err))
			errs.Show()
			return
		}
		dlg.Hide()
		rows := append(confirmRows(c.view),
			[2]string{"Action", cv.Summary() + " – sent to e-RS as a conversion to a referral (A027)"},
			[2]string{"To the referrer", clip(cv.Guidance, 400)},
			[2]string{"To your booking team", clip(cv.ReviewComments, 400)})
		c.confirm = newConfirmStep(c, confirmContent{title: "Convert to a referral: " + cv.Priority.Label(), send: "Convert", rows: rows},
			func(ctx context.Context, ws *app.Workspace) error {
				_, err := ws.Convert(ctx, cv)
				return err
			}, false, func(err error) { c.say("The conversion was not queued. " + errorMessage(err)) })
	})
	review.Importance = widget.HighImportance
	body := container.NewVBox(wrapped(c.view.Request.Conversion.Label()+"."),
		bold("Message to the referrer"), guidance, bold("Comments for your booking team"), comments,
		bold("Priority of the new referral"), priority, errs)
	dlg = dialog.NewCustomWithoutButtons("Convert to a referral", body, c.v.opts.Frame.Window())
	dlg.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", func() { dlg.Hide() }), review})
	dlg.Resize(fyne.NewSize(640, 520))
	dlg.Show()
}

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
	if len(r.Attachments) > 0 {
		names := make([]string, len(r.Attachments))
		for i, a := range r.Attachments {
			names[i] = a.FileName
		}
		rows = append(rows, [2]string{"Files", strings.Join(names, ", ") + " – each uploaded to e-RS (A020) just before the reply"})
	}
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
