package advice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/internal/attach"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// filesHelp says what happens to an attached file.
const filesHelp = "Files (up to 5 MB each) are kept encrypted on this computer and sent to the referrer with your reply."

// replyForm is the reply to the open request: outcome, intended
// recommendation (with advice), guidance with a live counter, priority.
type replyForm struct {
	c *conversation
	// base and lastMessage are the version and latest message the
	// clinician had on screen: the reply is checked against them.
	base        int
	lastMessage string

	outcome  *widget.RadioGroup
	rec      *widget.Select
	guidance *widgets.TextArea
	stopSave func() // the pending save of the draft while typing
	counter  *widget.Label
	priority *widget.Select
	note     *widget.Label
	errs     *widget.Label
	obj      fyne.CanvasObject
	// files are kept with app.AttachAdviceFile and sent with the reply.
	files *attach.Picker
}

// Labels of the form's choices.
var (
	outcomeLabels = []string{triage.GuidanceReturnWithAdvice.Label(), triage.GuidanceRequestFurtherInfo.Label()}
	recLabels     = labels(triage.IntendedRecommendations, triage.IntendedRecommendation.Label)
	priorityLabel = labels(triage.Priorities, triage.Priority.Label)
)

func labels[T any](xs []T, label func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = label(x)
	}
	return out
}

// openForm replaces the actions with the reply form, filled from d.
func (c *conversation) openForm(d *triage.AdviceReply) {
	if !c.view.CanReply {
		return
	}
	f := &replyForm{c: c, base: c.view.Request.Version, lastMessage: c.view.LatestMessageID}
	f.counter = widget.NewLabel("")
	f.rec = widget.NewSelect(recLabels, nil)
	f.rec.PlaceHolder = "Choose what you recommend"
	f.outcome = widget.NewRadioGroup(outcomeLabels, func(string) { f.outcomeChanged() })
	f.guidance = widgets.NewTextArea(6)
	f.guidance.SetPlaceHolder("Your guidance for the referrer")
	f.guidance.OnChanged = func(s string) { f.count(s); f.saveSoon() }
	f.priority = widget.NewSelect(priorityLabel, nil)
	f.note = wrapped("")
	f.note.Hide()
	f.errs = errorLabel("")
	f.errs.Hide()
	if d == nil {
		d = &triage.AdviceReply{Priority: c.view.Request.Priority}
	}
	if d.Outcome != "" {
		f.outcome.SetSelected(d.Outcome.Label())
	}
	if d.Recommendation != "" {
		f.rec.SetSelected(d.Recommendation.Label())
	}
	f.guidance.SetText(d.Guidance)
	f.priority.SetSelected(d.Priority.Label())
	f.outcomeChanged()
	f.count(d.Guidance)
	ws, ubrn := c.v.ws, c.view.Request.UBRN
	f.files = attach.New(attach.Options{Bridge: c.v.b, Context: c.ctx, Window: c.v.opts.Frame.Window(),
		Keep: func(ctx context.Context, name string, data []byte) (triage.ProviderAttachment, error) {
			return ws.AttachAdviceFile(ctx, ubrn, name, data)
		},
		None: "No files attached.", Keeping: "Keeping", Remove: "Remove the files",
		Line: func(a triage.ProviderAttachment) string { return fmt.Sprintf("%s (%s)", a.FileName, sizeText(a.Size)) },
		OnAttached: func() {
			f.errs.Hide()
			c.v.setDraft(c.ubrn, f.draft())
		},
		OnError: f.showError})
	f.files.SetFiles(d.Attachments)
	send := widget.NewButtonWithIcon("Review and send"+keyHint(shortcuts.Confirm), theme.MailSendIcon(), func() { f.review(false) })
	send.Importance = widget.HighImportance
	next := widget.NewButton("Review, send and open next"+keyHint(shortcuts.ConfirmAndNext), func() { f.review(true) })
	cancel := widget.NewButton("Close"+keyHint(shortcuts.Cancel), c.cancel)
	discard := widget.NewButton("Discard this reply", func() {
		c.v.setDraft(c.ubrn, nil)
		c.closeForm()
	})
	f.obj = container.NewVBox(bold("Reply to the referrer"),
		bold("Outcome"), f.outcome,
		bold("Intended recommendation (needed with advice)"), f.rec,
		bold("Guidance"), f.guidance, f.counter,
		bold("Priority"), f.priority,
		bold("Files"), f.files.List, f.files.Buttons(), wrapped(filesHelp),
		f.note, f.errs,
		send, next, container.NewHBox(cancel, discard))
	c.form = f
	c.side.Objects = []fyne.CanvasObject{f.obj}
	c.side.Refresh()
	c.split.SetOffset(formOffset)
	c.v.setDraft(c.ubrn, f.draft())
	c.v.opts.Frame.Window().Canvas().Focus(f.guidance)
}

// closeForm goes back to the actions (the caller keeps or drops the draft).
func (c *conversation) closeForm() {
	c.form = nil
	c.showActions()
}

// outcomeChanged enables the recommendation only with advice.
func (f *replyForm) outcomeChanged() {
	if f.outcome.Selected == triage.GuidanceReturnWithAdvice.Label() {
		f.rec.Enable()
		return
	}
	f.rec.ClearSelected()
	f.rec.Disable()
}

// count updates the live counter: a label only, so typing stays cheap.
func (f *replyForm) count(s string) {
	n := utf8.RuneCountInString(s)
	text := fmt.Sprintf("%d / %d characters", n, triage.MaxGuidanceLength)
	if n > triage.MaxGuidanceLength {
		text += fmt.Sprintf(": %d too many", n-triage.MaxGuidanceLength)
		f.counter.Importance = widget.DangerImportance
	} else {
		f.counter.Importance = widget.MediumImportance
	}
	f.counter.SetText(text)
}

// draftPause is how long typing must pause before the draft is saved.
const draftPause = 2 * time.Second

// saveSoon keeps the reply as the request's draft once typing pauses, so a
// crash loses at most the last moments of typing.
func (f *replyForm) saveSoon() {
	if f.stopSave != nil {
		f.stopSave()
	}
	c := f.c
	f.stopSave = c.v.b.After(draftPause, func() {
		if c.form == f && c.confirm == nil && c.v.conv == c {
			c.v.setDraft(c.ubrn, f.draft())
		}
	})
}

// draft is what the form holds, or nil when nothing was written or chosen.
func (f *replyForm) draft() *triage.AdviceReply {
	r := f.reply()
	if r.Outcome == "" && r.Recommendation == "" && r.Guidance == "" && len(r.Attachments) == 0 {
		return nil
	}
	return &triage.AdviceReply{UBRN: r.UBRN, Outcome: r.Outcome, Recommendation: r.Recommendation, Guidance: r.Guidance, Priority: r.Priority, Attachments: r.Attachments}
}

// reply builds the reply from the form, based on what was on screen.
func (f *replyForm) reply() triage.AdviceReply {
	r := triage.AdviceReply{UBRN: f.c.view.Request.UBRN, BaseVersion: f.base, LastMessageID: f.lastMessage, Guidance: f.guidance.Text()}
	if i := slices.Index(outcomeLabels, f.outcome.Selected); i >= 0 {
		r.Outcome = triage.GuidanceOutcomes[i]
	}
	if i := f.rec.SelectedIndex(); i >= 0 && r.Outcome == triage.GuidanceReturnWithAdvice {
		r.Recommendation = triage.IntendedRecommendations[i]
	}
	if i := f.priority.SelectedIndex(); i >= 0 {
		r.Priority = triage.Priorities[i]
	}
	r.Attachments = f.files.Files()
	return r
}

func sizeText(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	if n < 1024*1024 {
		return fmt.Sprintf("%d KB", (n+1023)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// showError shows why the reply cannot be sent.
func (f *replyForm) showError(err error) {
	f.errs.SetText(errorMessage(err))
	f.errs.Show()
}

// review checks the reply as e-RS will and shows the confirm step; a reply
// that breaks a rule (no intended recommendation with advice, no guidance,
// too long) is refused here, and nothing is queued.
func (f *replyForm) review(next bool) {
	r := f.reply()
	if err := r.CheckSendable(); err != nil {
		f.showError(err)
		return
	}
	f.errs.Hide()
	f.c.v.setDraft(f.c.ubrn, f.draft())
	f.c.confirm = newConfirmStep(f.c, confirmReply(f.c.view, r), func(ctx context.Context, ws *app.Workspace) error {
		_, err := ws.Reply(ctx, r)
		return err
	}, next, f.sendFailed)
}

// conversationChanged notes a new message that arrived while the reply is
// being written; the reply stays based on what the clinician had read, so
// sending it is refused until they have seen the new message.
func (f *replyForm) conversationChanged(av app.AdviceView) {
	if av.LatestMessageID != f.lastMessage || av.Request.Version != f.base {
		f.note.SetText("The request changed while you were writing (a new message is shown in the conversation). Read it before you send.")
		f.note.Show()
	}
}

// sendFailed shows why queueing failed. When the conversation moved on,
// the form is based on the conversation now shown, so the clinician can
// send once they have read the new message.
func (f *replyForm) sendFailed(err error) {
	f.showError(err)
	var ve *triage.ValidationError
	if errors.As(err, &ve) && slices.ContainsFunc(ve.Problems, func(p triage.Problem) bool { return p.Rule == triage.RuleConversationMovedOn }) {
		f.base, f.lastMessage = f.c.view.Request.Version, f.c.view.LatestMessageID
		f.note.SetText("Read the new message in the conversation; then review and send again if your reply still stands.")
		f.note.Show()
	}
}

// sent closes the form after a reply or conversion was queued.
func (c *conversation) sent(next bool) {
	c.v.setDraft(c.ubrn, nil)
	c.form = nil
	c.load()
	c.v.reload()
	if next {
		c.v.openNext(c.ubrn)
	}
}

// queue runs the action off the UI goroutine, then closes the form or
// shows why it was refused.
func (c *conversation) queue(work func(context.Context, *app.Workspace) error, next bool, failed func(error)) {
	ws := c.v.ws
	bridge.Run(c.v.b, c.ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, work(ctx, ws)
	}, func(_ struct{}, err error) {
		if err != nil {
			failed(err)
			return
		}
		c.sent(next)
	})
}
