package advice

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
)

// PreviewFunc shows a cached file in the document viewer the referral
// screens use: it returns at once an object for the viewer area (filled in
// when the file is drawn, off the UI goroutine), under tools (the back
// bar). Drawing stops and the document closes when ctx ends. width is the
// viewer area's width.
type PreviewFunc func(ctx context.Context, name, contentType string, data []byte, width float32, tools fyne.CanvasObject) fyne.CanvasObject

// Options configure a View.
type Options struct {
	Frame     *frame.Frame
	Bridge    *bridge.Bridge
	Workspace *app.Workspace
	// Preview draws attachments and the overview PDF; nil lists them
	// without a preview.
	Preview PreviewFunc
}

// Default split between the worklist and the open request.
const defaultSplit = 0.34

// View is the Advice and Guidance screen for an open workspace. Use it on
// the UI goroutine; Close it before the workspace closes.
type View struct {
	opts Options
	b    *bridge.Bridge
	ws   *app.Workspace

	list  *worklist
	right *fyne.Container
	split *container.Split
	body  *fyne.Container

	conv *conversation
	// drafts are the replies written or discarded in this window, by
	// UBRN (nil: discarded), ahead of the encrypted store, which keeps
	// them across restarts (app.SaveAdviceDraft).
	drafts map[string]*triage.AdviceReply
	// draftWrites keeps and drops drafts in the store in the order the
	// clinician did, so a dropped draft never comes back.
	draftWrites *bridge.Writes

	unlisten func()

	// OnLoaded, if set, is called after each worklist read is shown
	// (tests).
	OnLoaded func()
}

// New builds the A&G screen. Call Start to load it.
func New(o Options) *View {
	v := &View{opts: o, b: o.Bridge, ws: o.Workspace, drafts: map[string]*triage.AdviceReply{}, draftWrites: bridge.NewWrites(o.Bridge)}
	v.list = newWorklist(v.open)
	v.right = container.NewStack(placeholder("Select an advice and guidance request to read the conversation.\n" +
		"↓/↑ or J/K move through the list and open the request; Ctrl+1 goes back to Referrals for Review."))
	v.split = container.NewHSplit(v.list.object(), v.right)
	v.split.Offset = defaultSplit
	v.body = container.NewStack(v.list.object())
	return v
}

// Object returns the screen's canvas object.
func (v *View) Object() fyne.CanvasObject { return v.body }

// Start listens to the engine's events (through the Bridge; the caller
// attaches the engine) and reads the worklist from the cache.
func (v *View) Start() {
	v.unlisten = v.b.OnEngine(v.onUpdate)
	v.reload()
}

// Close stops listening and closes the open request, keeping the reply
// being written in the encrypted store now (not in the background: the
// window is closing).
func (v *View) Close() {
	if c := v.conv; c != nil {
		form := c.form
		c.form = nil
		c.close()
		if form != nil {
			ctx, cancel := context.WithTimeout(context.Background(), bridge.SaveTimeout)
			storeDraft(ctx, v.ws, c.ubrn, form.draft())
			cancel()
		}
		v.conv = nil
	}
	if v.unlisten != nil {
		v.unlisten()
		v.unlisten = nil
	}
}

// Rows returns the worklist as shown, in order.
func (v *View) Rows() []app.AdviceRow { return v.list.rows() }

// Summary is the counts above the worklist, e.g. "3 response required ·
// 2 waiting for further information".
func (v *View) Summary() string { return v.list.summary.Text }

// Open opens the request (as a click on its row does).
func (v *View) Open(ubrn string) { v.open(ubrn) }

// OpenUBRN is the UBRN of the open request ("" for none).
func (v *View) OpenUBRN() string {
	if v.conv == nil {
		return ""
	}
	return v.conv.ubrn
}

// reload reads the worklist off the UI goroutine.
func (v *View) reload() {
	ws := v.ws
	bridge.Run(v.b, nil, func(ctx context.Context) (app.AdviceList, error) {
		return ws.AdviceList(ctx)
	}, func(l app.AdviceList, err error) {
		if err != nil {
			v.list.setError(err)
		} else {
			v.list.set(l, v.drafts)
		}
		if v.conv != nil {
			v.list.markOpen(v.conv.ubrn)
		}
		if v.OnLoaded != nil {
			v.OnLoaded()
		}
	})
}

// onUpdate follows the engine: the worklist is read again when it was
// pulled or an action moved on, and the open request when it changed.
func (v *View) onUpdate(u bridge.Update) {
	if len(u.Advice) > 0 || len(u.AdviceActions) > 0 || u.Lagged {
		v.reload()
	}
	if c := v.conv; c != nil {
		_, acted := u.AdviceActions[c.ubrn]
		if u.Advice[c.ubrn] || acted || u.Lagged {
			c.load()
		}
	}
}

// open shows a request on the right, in a new conversation panel; the
// previous one's reply form is kept as a draft.
func (v *View) open(ubrn string) {
	if v.conv != nil {
		if v.conv.ubrn == ubrn {
			v.list.markOpen(ubrn)
			return
		}
		v.conv.close()
	}
	if len(v.body.Objects) != 1 || v.body.Objects[0] != v.split {
		v.split.Leading = v.list.object()
		v.body.Objects = []fyne.CanvasObject{v.split}
		v.body.Refresh()
	}
	v.conv = newConversation(v, ubrn)
	v.right.Objects = []fyne.CanvasObject{v.conv.object()}
	v.right.Refresh()
	v.list.markOpen(ubrn)
	v.conv.load()
}

// openNext opens the next request after ubrn that needs a reply; at the
// end of the list it says so.
func (v *View) openNext(ubrn string) {
	if next := v.list.nextNeedingReply(ubrn); next != "" {
		v.open(next)
		return
	}
	if v.conv != nil {
		v.conv.say("That was the last request waiting for your reply.")
	}
}

// setDraft keeps (or with nil forgets) the reply being written for ubrn,
// marks its row, and stores it (or drops it from the store) in the
// background.
func (v *View) setDraft(ubrn string, d *triage.AdviceReply) {
	old, had := v.drafts[ubrn]
	v.drafts[ubrn] = d
	v.list.setDraft(ubrn, d != nil)
	if had && old == nil && d == nil {
		return // already forgotten
	}
	ws := v.ws
	v.draftWrites.Save(ubrn, func(ctx context.Context) { storeDraft(ctx, ws, ubrn, d) })
}

// storeDraft keeps d as the request's draft in the encrypted store, or
// drops the stored one when d is nil.
func storeDraft(ctx context.Context, ws *app.Workspace, ubrn string, d *triage.AdviceReply) {
	if d == nil {
		_ = ws.ClearAdviceDraft(ctx, ubrn)
		return
	}
	_ = ws.SaveAdviceDraft(ctx, ubrn, *d)
}

// draft is the reply being written for ubrn: this window's if it wrote or
// discarded one, otherwise the one stored (as read into av).
func (v *View) draft(ubrn string, av app.AdviceView) *triage.AdviceReply {
	if d, ok := v.drafts[ubrn]; ok {
		return d
	}
	return av.Draft
}

// modal reports whether a dialog (such as the confirm step) is up.
func (v *View) modal() bool {
	return v.opts.Frame.Window().Canvas().Overlays().Top() != nil
}

// RegisterShortcuts gives the window's shortcuts to this screen while it
// shows: moving through the worklist, opening, refreshing, the reply
// form's confirm and "…and next", cancel, and the viewer's paging. The
// referral screen's actions (accept, reject…) are removed so no key acts
// on a screen that is not shown.
func (v *View) RegisterShortcuts(keys *shortcuts.Registry) {
	plain := func(id shortcuts.ID, fn func()) {
		keys.Handle(id, func() {
			if !v.modal() {
				fn()
			}
		})
	}
	plain(shortcuts.Next, func() { v.list.move(1) })
	plain(shortcuts.Previous, func() { v.list.move(-1) })
	plain(shortcuts.Open, func() {
		if u := v.list.cursorUBRN(); u != "" {
			v.open(u)
		}
	})
	plain(shortcuts.ReplyAdvice, func() {
		if c := v.conv; c != nil && c.form == nil && c.loaded {
			c.openForm(v.drafts[c.ubrn])
		}
	})
	plain(shortcuts.Refresh, func() {
		if v.ws.CanSync() {
			v.ws.SyncNow()
		}
		v.reload()
	})
	for _, id := range []shortcuts.ID{shortcuts.Accept, shortcuts.Reject, shortcuts.Redirect, shortcuts.TriageOutcome,
		shortcuts.Search, shortcuts.PageDown, shortcuts.PageUp, shortcuts.ZoomIn, shortcuts.ZoomOut, shortcuts.FitWidth, shortcuts.Find} {
		keys.Handle(id, nil)
	}
	keys.Handle(shortcuts.Confirm, func() { v.submit(false) })
	keys.Handle(shortcuts.ConfirmAndNext, func() { v.submit(true) })
	keys.Handle(shortcuts.Cancel, func() {
		if c := v.conv; c != nil {
			c.cancel()
		}
	})
}

// submit is Ctrl+Enter: in the confirm step it sends; in the reply form it
// reviews the reply.
func (v *View) submit(next bool) {
	c := v.conv
	if c == nil {
		return
	}
	if c.confirm != nil {
		c.confirm.send(next)
		return
	}
	if !v.modal() && c.form != nil {
		c.form.review(next)
	}
}

// placeholder fills an empty pane with a sentence.
func placeholder(msg string) fyne.CanvasObject {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return container.NewPadded(container.NewVBox(widget.NewIcon(theme.MailComposeIcon()), l))
}

// errorMessage is an error in plain English.
func errorMessage(err error) string { return triage.ErrorMessage(err) }

// keyHint is the shortcut written after a button's text, e.g. " (Ctrl+Enter)".
func keyHint(id shortcuts.ID) string {
	d, _ := shortcuts.Lookup(id)
	return " (" + d.Keys() + ")"
}
