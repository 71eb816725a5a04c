package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// activityWatcher wraps the window's content and reports the clinician's
// activity (Runtime.Touch) so the session only locks after real
// inactivity. Fyne has no window-wide input hook, so activity is gathered
// from what reaches the window itself: pointer movement and clicks over
// anything that does not take them (labels, panels, the document), key
// presses while no field has focus, and, polled, typing in a focused
// field.
type activityWatcher struct {
	widget.BaseWidget
	content fyne.CanvasObject
	touch   func()
}

var (
	_ desktop.Hoverable = (*activityWatcher)(nil)
	_ desktop.Mouseable = (*activityWatcher)(nil)
)

func newActivityWatcher(content fyne.CanvasObject, touch func()) *activityWatcher {
	w := &activityWatcher{content: content, touch: touch}
	w.ExtendBaseWidget(w)
	return w
}

func (w *activityWatcher) poke() {
	if w.touch != nil {
		w.touch()
	}
}

// CreateRenderer implements fyne.Widget.
func (w *activityWatcher) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(w.content)
}

// MouseIn implements desktop.Hoverable.
func (w *activityWatcher) MouseIn(*desktop.MouseEvent) { w.poke() }

// MouseMoved implements desktop.Hoverable.
func (w *activityWatcher) MouseMoved(*desktop.MouseEvent) { w.poke() }

// MouseOut implements desktop.Hoverable.
func (w *activityWatcher) MouseOut() {}

// MouseDown implements desktop.Mouseable.
func (w *activityWatcher) MouseDown(*desktop.MouseEvent) { w.poke() }

// MouseUp implements desktop.Mouseable.
func (w *activityWatcher) MouseUp(*desktop.MouseEvent) {}

// focusSignature describes the focused field and what is typed in it, so a
// change between two polls means the clinician typed.
func focusSignature(c fyne.Canvas) string {
	f := c.Focused()
	if f == nil {
		return ""
	}
	if e, ok := f.(*widget.Entry); ok {
		return fmt.Sprintf("%p:%d:%d:%d", e, len(e.Text), e.CursorRow, e.CursorColumn)
	}
	if e, ok := f.(interface{ SelectedText() string }); ok {
		return fmt.Sprintf("%p:%d", f, len(e.SelectedText()))
	}
	return fmt.Sprintf("%p", f)
}

// watchActivity has the frame report activity to touch (the window's
// content is the frame's activityWatcher, set when the window was made, so
// the content is never replaced). Typing in a focused field is noticed by
// polling every poll interval.
func watchActivity(f *Frame, b *bridge.Bridge, poll time.Duration, touch func()) {
	f.SetOnActivity(touch)
	w := f.Window()
	if dc, ok := w.Canvas().(desktop.Canvas); ok {
		dc.SetOnKeyDown(func(*fyne.KeyEvent) { touch() })
	}
	last := focusSignature(w.Canvas())
	b.Go(func(ctx context.Context) {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			b.Post(func() {
				if sig := focusSignature(w.Canvas()); sig != last {
					last = sig
					if sig != "" {
						touch()
					}
				}
			})
		}
	})
}

// signInNeededText is the banner shown while the platform's sign-in has
// ended but cached data stays readable.
func signInNeededText(st app.Status, unsent int) string {
	msg := "Your NHS sign-in has ended, so nothing is sent to e-RS or downloaded. Everything already downloaded can still be read, and decisions are kept"
	if unsent > 0 {
		msg += fmt.Sprintf(": %s will be sent after you sign in again.", widgets.CountOf(unsent, "decision", "decisions"))
	} else {
		msg += " and sent after you sign in again."
	}
	return msg
}

// signOut asks before signing out: when decisions have not reached e-RS it
// says how many and offers to keep them for the next sign-in (the default)
// or, explicitly, to discard them; then it calls Logout.
func signOut(w fyne.Window, b *bridge.Bridge, rt *app.Runtime, done func(app.LogoutReport, error)) {
	bridge.Run(b, nil, func(ctx context.Context) (int, error) {
		return rt.UnsentCount(ctx, "")
	}, func(unsent int, err error) {
		logout := func(discard bool) {
			bridge.Run(b, nil, func(ctx context.Context) (app.LogoutReport, error) {
				return rt.Logout(ctx, discard)
			}, done)
		}
		if err != nil || unsent == 0 {
			msg := "Your downloaded referrals will be removed from this computer. You will need to sign in with your NHS Care Identity to use Triage Desk again."
			if err != nil {
				msg = "Triage Desk could not check for unsent decisions, so any it has are kept on this computer, encrypted, for your next sign-in. " + msg
			}
			d := dialog.NewConfirm("Sign out of Triage Desk?", msg, func(ok bool) {
				if ok {
					logout(false)
				}
			}, w)
			d.SetConfirmText("Sign out")
			d.SetDismissText("Stay signed in")
			d.Show()
			return
		}
		what := widgets.CountOf(unsent, "decision has", "decisions have")
		body := widget.NewLabel(fmt.Sprintf("%s not reached e-RS yet.\n\n"+
			"If you sign out now, %s kept on this computer, encrypted, and sent after you next sign in here. "+
			"To send them first, stay signed in until the outbox is empty.", what, map[bool]string{true: "it is", false: "they are"}[unsent == 1]))
		body.Wrapping = fyne.TextWrapWord
		var dlg *dialog.CustomDialog
		keep := widget.NewButton("Sign out and keep them", func() { dlg.Hide(); logout(false) })
		stay := widget.NewButton("Stay signed in", func() { dlg.Hide() })
		stay.Importance = widget.HighImportance
		discard := widget.NewButtonWithIcon(fmt.Sprintf("Discard %s and sign out…", widgets.CountOf(unsent, "decision", "decisions")), theme.DeleteIcon(), func() {
			dlg.Hide()
			c := dialog.NewConfirm("Discard unsent decisions?",
				fmt.Sprintf("%s will never be sent to e-RS and will be deleted from this computer. The referrals stay as e-RS has them. This cannot be undone.",
					widgets.CountOf(unsent, "decision", "decisions")),
				func(ok bool) {
					if ok {
						logout(true)
					}
				}, w)
			c.SetConfirmText("Discard and sign out")
			c.SetDismissText("Keep them")
			c.SetConfirmImportance(widget.DangerImportance)
			c.Show()
		})
		discard.Importance = widget.DangerImportance
		content := container.NewVBox(body, container.NewHBox(stay, keep, discard))
		dlg = dialog.NewCustomWithoutButtons("Unsent decisions", content, w)
		dlg.Resize(fyne.NewSize(560, content.MinSize().Height+80))
		dlg.Show()
	})
}
