package advice

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// conversation is one open A&G request: its details and messages on the
// left (or a file being previewed), the actions or the reply form on the
// right. Each opened request gets a new one, read from one cached copy.
type conversation struct {
	v    *View
	ubrn string
	ctx  context.Context
	stop context.CancelFunc

	view    app.AdviceView
	loaded  bool
	showing string // "" for the messages, else the previewed file's id

	header    *fyne.Container
	conflicts *fyne.Container
	notice    *widget.Label
	messages  *fyne.Container
	msgScroll *container.Scroll
	left      *fyne.Container
	side      *fyne.Container
	split     *container.Split
	obj       fyne.CanvasObject

	form    *replyForm
	confirm *confirmStep
}

func newConversation(v *View, ubrn string) *conversation {
	ctx, cancel := context.WithCancel(v.b.Context())
	c := &conversation{v: v, ubrn: ubrn, ctx: ctx, stop: cancel}
	c.header = container.NewVBox(widget.NewLabel("Reading the request…"))
	c.conflicts = container.NewVBox()
	c.notice = widget.NewLabel("")
	c.notice.Wrapping = fyne.TextWrapWord
	c.notice.Hide()
	c.messages = container.NewVBox()
	c.msgScroll = container.NewVScroll(c.messages)
	c.left = container.NewStack(c.msgScroll)
	c.side = container.NewStack()
	c.split = container.NewHSplit(c.left, container.NewVScroll(c.side))
	c.split.Offset = sideOffset
	c.obj = container.NewBorder(container.NewVBox(c.header, c.conflicts, c.notice), nil, nil, nil, c.split)
	return c
}

func (c *conversation) object() fyne.CanvasObject { return c.obj }

// Where the conversation / actions split sits: the actions need less
// room than the reply form.
const (
	sideOffset = 0.64
	formOffset = 0.48
)

// close keeps the reply being written as a draft and stops the request's
// background work.
func (c *conversation) close() {
	if c.confirm != nil {
		c.confirm.close()
	}
	if c.form != nil {
		c.v.setDraft(c.ubrn, c.form.draft())
	}
	c.stop()
}

// say shows a sentence above the conversation.
func (c *conversation) say(msg string) {
	c.notice.SetText(msg)
	c.notice.Show()
}

// load reads the request from the cache off the UI goroutine; the reply
// form, if open, stays as it is.
func (c *conversation) load() {
	ws, ubrn := c.v.ws, c.ubrn
	bridge.Run(c.v.b, c.ctx, func(ctx context.Context) (app.AdviceView, error) {
		return ws.Advice(ctx, ubrn)
	}, func(av app.AdviceView, err error) {
		if err != nil {
			c.header.Objects = []fyne.CanvasObject{errorLabel(errorMessage(err))}
			c.header.Refresh()
			return
		}
		first := !c.loaded
		c.view, c.loaded = av, true
		c.fillHeader()
		c.fillConflicts()
		c.fillMessages()
		if c.form != nil {
			c.form.conversationChanged(av)
		} else {
			c.showActions()
			if d := c.v.draft(c.ubrn, av); first && d != nil && av.CanReply {
				c.openForm(d)
			}
		}
	})
}

// fillHeader shows who the request is about and where it stands.
func (c *conversation) fillHeader() {
	r := c.view.Request
	title := widget.NewLabelWithStyle("Advice and Guidance request · NHS number "+triage.FormatNHSNumber(r.NHSNumber)+
		" · UBRN "+formatUBRN(r.UBRN), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	what := r.Priority.Label() + " · " + r.Specialty.Label()
	if sv := r.Service.Label(); sv != "" {
		what += " · " + sv
	}
	details := wrapped(what + ". " + r.Category.Label() + ". Asked by " + r.Requester.Label() + ". " +
		r.Conversion.Label() + ". As of " + formatWhen(c.view.AsOf) + ".")
	c.header.Objects = []fyne.CanvasObject{title, details}
	c.header.Refresh()
}

// fillConflicts shows each reply or conversion that was not sent, beside
// the messages that made it so, with what the clinician can do.
func (c *conversation) fillConflicts() {
	var objs []fyne.CanvasObject
	for _, en := range c.view.Actions {
		switch {
		case en.State == triage.OutboxConflict && en.Conflict != nil:
			objs = append(objs, c.conflictBanner(en))
		case en.State == triage.OutboxFailed:
			msg := "Your " + actionNoun(en) + " (" + en.Summary + ") was refused by e-RS."
			if en.LastError != nil {
				msg += " " + en.LastError.Message
			}
			b, _ := widgets.BannerStrip(theme.ErrorIcon(), msg, theme.ColorNameError,
				widget.NewButton("Discard", func() { c.act(en.ID, (*app.Workspace).DiscardAdvice) }))
			objs = append(objs, b)
		}
	}
	c.conflicts.Objects = objs
	c.conflicts.Refresh()
}

// conflictBanner names the new messages that stopped the action.
func (c *conversation) conflictBanner(en app.AdviceEntry) fyne.CanvasObject {
	cf := en.Conflict
	msg := "Your " + actionNoun(en) + " (" + en.Summary + ") was not sent: " + cf.Reason
	if len(cf.NewMessages) > 0 {
		var parts []string
		for _, m := range cf.NewMessages {
			parts = append(parts, m.SentBy.Label()+" wrote on "+formatWhen(m.Sent)+": “"+clip(m.Text, 200)+"”")
		}
		msg = "Your " + actionNoun(en) + " (" + en.Summary + ") was not sent because the referrer wrote again meanwhile. " +
			strings.Join(parts, " ")
	}
	var action *widget.Button
	if !cf.Acknowledged {
		action = widget.NewButton("I have read it", func() { c.act(en.ID, (*app.Workspace).AcknowledgeAdviceConflict) })
	} else {
		msg += " (Read.)"
		action = widget.NewButton("Discard and reply again", func() { c.act(en.ID, (*app.Workspace).DiscardAdvice) })
	}
	b, _ := widgets.BannerStrip(theme.WarningIcon(), msg, theme.ColorNameWarning, action)
	return b
}

// act runs an outbox action on an entry and reads the request again.
func (c *conversation) act(id string, fn func(*app.Workspace, context.Context, string) (app.AdviceEntry, error)) {
	ws := c.v.ws
	bridge.Run(c.v.b, c.ctx, func(ctx context.Context) (app.AdviceEntry, error) {
		return fn(ws, ctx, id)
	}, func(_ app.AdviceEntry, err error) {
		if err != nil {
			c.say(errorMessage(err))
		}
		c.load()
		c.v.reload()
	})
}

// fillMessages lists the files and every message, oldest first.
func (c *conversation) fillMessages() {
	objs := []fyne.CanvasObject{}
	var files []fyne.CanvasObject
	for _, d := range c.view.Documents {
		if d.ID == app.AdviceOverviewID {
			files = append(files, c.fileButton("Overview of the request (PDF)", d.ID, d.ContentType))
		}
	}
	for _, d := range c.view.Request.Documents {
		files = append(files, c.fileButton(documentName(d), d.ID, d.ContentType))
	}
	if len(files) > 0 {
		objs = append(objs, bold("Files"))
		objs = append(objs, files...)
	}
	objs = append(objs, bold(widgets.CountOf(len(c.view.Messages), "message", "messages")+", oldest first"))
	unanswered := map[string]bool{}
	for _, m := range c.view.Unanswered {
		unanswered[m.ID] = true
	}
	for _, m := range c.view.Messages {
		objs = append(objs, c.messageCard(m, unanswered[m.ID]))
	}
	if len(c.view.Messages) == 0 {
		objs = append(objs, widget.NewLabel("The conversation has not been downloaded yet."))
	}
	c.messages.Objects = objs
	c.messages.Refresh()
}

// messageCard is one message: who wrote it and when, the text, its files.
func (c *conversation) messageCard(m triage.AdviceMessage, toAnswer bool) fyne.CanvasObject {
	who := m.SentBy.Label()
	if !m.Author.IsZero() {
		who += " – " + m.Author.Label()
	}
	head := who + " · " + formatWhen(m.Sent)
	if toAnswer && !c.view.Request.Category.Ended() {
		head += " · to answer"
	}
	objs := []fyne.CanvasObject{widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	text := widget.NewLabel(strings.TrimSpace(m.Text))
	text.Wrapping = fyne.TextWrapWord
	if m.Text == "" {
		text.SetText("(no text)")
	}
	objs = append(objs, text)
	for _, d := range m.Documents {
		objs = append(objs, c.fileButton(documentName(d), d.ID, d.ContentType))
	}
	return widget.NewCard("", "", container.NewVBox(objs...))
}

// fileButton opens a file in the viewer area.
func (c *conversation) fileButton(name, id, contentType string) fyne.CanvasObject {
	b := widget.NewButtonWithIcon(name, theme.FileIcon(), func() { c.preview(name, id, contentType) })
	b.Alignment = widget.ButtonAlignLeading
	return b
}

// preview shows a cached file where the messages were, with a way back.
func (c *conversation) preview(name, id, contentType string) {
	back := container.NewBorder(nil, nil, widget.NewButtonWithIcon("Back to the conversation", theme.NavigateBackIcon(), c.showMessages),
		nil, widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	c.showing = id
	c.setLeft(container.NewBorder(back, nil, nil, nil, widget.NewLabel("Opening "+name+"…")))
	ws, ubrn := c.v.ws, c.ubrn
	type file struct {
		meta app.DocumentMeta
		data []byte
	}
	bridge.Run(c.v.b, c.ctx, func(ctx context.Context) (file, error) {
		m, data, err := ws.AdviceDocument(ctx, ubrn, id)
		return file{m, data}, err
	}, func(f file, err error) {
		if c.showing != id {
			return
		}
		if err != nil {
			c.setLeft(container.NewBorder(back, nil, nil, nil, errorLabel("This file is not on this computer yet: "+
				errorMessage(err)+" It is downloaded with the request when Triage Desk is online.")))
			return
		}
		if c.v.opts.Preview == nil {
			c.setLeft(container.NewBorder(back, nil, nil, nil, widget.NewLabel(name+" is downloaded ("+f.meta.ContentType+").")))
			return
		}
		width := c.left.Size().Width
		if width < 100 {
			width = 560
		}
		c.setLeft(c.v.opts.Preview(c.ctx, name, firstNonEmpty(f.meta.ContentType, contentType), f.data, width, back))
	})
}

// showMessages goes back from a file to the conversation.
func (c *conversation) showMessages() {
	c.showing = ""
	c.setLeft(c.msgScroll)
}

func (c *conversation) setLeft(o fyne.CanvasObject) {
	c.left.Objects = []fyne.CanvasObject{o}
	c.left.Refresh()
}

// cancel is Esc: the confirm step closes, then the form (its text kept as
// a draft), then a previewed file.
func (c *conversation) cancel() {
	switch {
	case c.confirm != nil:
		c.confirm.close()
	case c.form != nil:
		c.v.setDraft(c.ubrn, c.form.draft())
		c.closeForm()
	case c.showing != "":
		c.showMessages()
	}
}

// showActions fills the side with what can be done now.
func (c *conversation) showActions() {
	v := c.view
	objs := []fyne.CanvasObject{bold("Your reply")}
	switch {
	case v.Pending != nil && v.Pending.State.Unsent() && v.Pending.State != triage.OutboxConflict && v.Pending.State != triage.OutboxFailed:
		objs = append(objs, wrapped("Your "+actionNoun(*v.Pending)+" ("+v.Pending.Summary+") is "+v.Pending.State.Phrase()+"."))
		if v.Pending.State == triage.OutboxQueued {
			id := v.Pending.ID
			objs = append(objs, widget.NewButton("Withdraw it", func() { c.act(id, (*app.Workspace).CancelAdvice) }))
		}
	case v.Pending != nil:
		objs = append(objs, wrapped("Your last "+actionNoun(*v.Pending)+" was not sent: see above."))
	case v.CanReply:
		reply := widget.NewButtonWithIcon("Write a reply…"+keyHint(shortcuts.ReplyAdvice), theme.MailReplyIcon(), func() { c.openForm(c.v.draft(c.ubrn, c.view)) })
		reply.Importance = widget.HighImportance
		objs = append(objs, wrapped("The referrer is waiting for your reply."), reply)
	default:
		objs = append(objs, wrapped(whyNoReply(v.Request.Category)))
	}
	if v.CanConvert {
		objs = append(objs, widget.NewSeparator(), wrapped(v.Request.Conversion.Label()+"."),
			widget.NewButtonWithIcon("Convert to a referral…", theme.ContentRedoIcon(), c.openConvert))
	} else if v.CanReply {
		objs = append(objs, widget.NewSeparator(), wrapped(v.Request.Conversion.Label()+"."))
	}
	for _, en := range v.Actions {
		if en.State == triage.OutboxSent {
			objs = append(objs, wrapped("Sent "+formatWhen(en.UpdatedAt)+": "+en.Summary+"."))
		}
	}
	c.side.Objects = []fyne.CanvasObject{container.NewVBox(objs...)}
	c.side.Refresh()
	c.split.SetOffset(sideOffset)
}

// whyNoReply says why no reply can be written now.
func whyNoReply(cat triage.AdviceCategory) string {
	switch {
	case cat == triage.AdviceAwaitingInformation:
		return "You asked for further information: the referrer has not sent it yet."
	case cat == triage.AdviceReferrerReviewing:
		return "You returned advice: the referrer is reviewing it."
	case cat.Ended():
		return "The conversation has ended (" + cat.Label() + ")."
	}
	return "It is not your turn to reply (" + cat.Label() + ")."
}

// actionNoun is "reply" or "conversion to a referral".
func actionNoun(en app.AdviceEntry) string {
	if en.Conversion != nil {
		return "conversion to a referral"
	}
	return "reply"
}

// documentName is the name a file is listed under.
func documentName(d triage.Document) string {
	return firstNonEmpty(d.Title, d.Description, "File "+d.ID)
}

func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "time unknown"
	}
	return t.Local().Format("02 Jan 2006 15:04")
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

var (
	bold       = widgets.Bold
	wrapped    = widgets.Wrapped
	errorLabel = widgets.ErrorText
)
