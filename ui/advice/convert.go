package advice

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// openConvert asks for what converting to a referral needs (a message to
// the referrer, comments for the booking team, the priority) and then
// shows the confirm step. It is offered only where the referrer allowed
// conversion (AdviceView.CanConvert).
func (c *conversation) openConvert() {
	if !c.view.CanConvert {
		return
	}
	guidance := widget.NewMultiLineEntry()
	guidance.Wrapping = fyne.TextWrapWord
	guidance.SetPlaceHolder("Tell the referrer you are converting the request to a referral")
	guidance.SetMinRowsVisible(4)
	comments := widget.NewMultiLineEntry()
	comments.Wrapping = fyne.TextWrapWord
	comments.SetPlaceHolder("What should your booking team do with the new referral?")
	comments.SetMinRowsVisible(3)
	priority := widget.NewSelect(priorityLabel, nil)
	priority.SetSelected(c.view.Request.Priority.Label())
	errs := errorLabel("")
	errs.Hide()
	var dlg *dialog.CustomDialog
	conv := func() triage.AdviceConversion {
		cv := triage.AdviceConversion{UBRN: c.view.Request.UBRN, BaseVersion: c.view.Request.Version, LastMessageID: c.view.LatestMessageID,
			Authorisation: c.view.Request.Conversion, Guidance: guidance.Text, ReviewComments: comments.Text}
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
