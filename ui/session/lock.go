package session

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// SignInNeededText is the banner shown while the platform's sign-in has
// ended but cached data stays readable.
func SignInNeededText(st app.Status, unsent int) string {
	msg := "Your NHS sign-in has ended, so nothing is sent to e-RS or downloaded. Everything already downloaded can still be read, and decisions are kept"
	if unsent > 0 {
		msg += fmt.Sprintf(": %s will be sent after you sign in again.", widgets.CountOf(unsent, "decision", "decisions"))
	} else {
		msg += " and sent after you sign in again."
	}
	return msg
}

// SignOut asks before signing out: when decisions have not reached e-RS it
// says how many and offers to keep them for the next sign-in (the default)
// or, explicitly, to discard them; then it calls Logout.
func SignOut(w fyne.Window, b *bridge.Bridge, rt *app.Runtime, done func(app.LogoutReport, error)) {
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

// signInMessage explains why the screen shows.
func signInMessage(st app.Status, locked bool) string {
	switch {
	case locked:
		who := "you"
		if st.Identity.Name != "" {
			who = st.Identity.Name
		}
		carry := fmt.Sprintf(" Sign in again as %s to carry on: your work, including any decision you were writing, is kept.", who)
		if st.IdleLock > 0 {
			return "Triage Desk locked itself after " + idleText(st.IdleLock) + " without activity, to protect patient data." + carry
		}
		// Locked on purpose (Lock, Ctrl+L, the computer's own lock) or
		// restored locked at start-up: it did not lock "itself".
		return "Locked to protect patient data while you are away." + carry
	case st.Message != "":
		return st.Message
	case st.State == app.SessionNeedsRole:
		return "Choose the organisation and role you are working as."
	case st.NoSignIn:
		return "This e-RS server has no sign-in. Continue, then choose the organisation and role you are working as."
	}
	return "Use your NHS smartcard or other NHS Care Identity to sign in. Your browser opens to sign you in, then brings you back here."
}

// idleText is an inactivity timeout in words ("15 minutes").
func idleText(d time.Duration) string {
	if d >= time.Minute {
		return widgets.CountOf(int(d.Round(time.Minute)/time.Minute), "minute", "minutes")
	}
	return widgets.CountOf(int(d.Round(time.Second)/time.Second), "second", "seconds")
}
