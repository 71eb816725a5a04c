package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// RequestQuit is the clinician's way out (File → Quit, Ctrl+Q, the
// window's close button, the tray's Quit): it counts the decisions not yet
// in e-RS from the store (not from the last event, which may lag a
// decision just queued) and, when there are any, says so and whether they
// are kept, and quits only if the clinician confirms.
func (c *Chrome) RequestQuit() {
	if c.quitting {
		return
	}
	c.quitting = true
	quit := c.o.Quit
	if quit == nil {
		quit = c.o.App.Quit
	}
	rt := c.o.Runtime
	bridge.Run(c.o.Bridge, nil, func(ctx context.Context) (int, error) {
		return rt.UnsentCount(ctx, "")
	}, func(n int, err error) {
		if err != nil {
			n = c.unsent() // the store could not be read: the engine's last count
		}
		if n == 0 {
			c.quitting = false
			quit()
			return
		}
		c.showWindow()
		kept := rt.Storage().Kept
		d := dialog.NewConfirm("Quit Triage Desk?", widgets.WrapText(unsentQuitText(n, kept), 70), func(ok bool) {
			c.quitting = false
			if ok {
				quit()
			}
		}, c.o.Frame.Window())
		d.SetDismissText("Keep Triage Desk open")
		if kept {
			d.SetConfirmText("Quit")
		} else {
			d.SetConfirmText("Quit and lose them")
			d.SetConfirmImportance(widget.DangerImportance)
		}
		d.Show()
	})
}

// unsentQuitText is the warning before quitting with n decisions not yet
// in e-RS; kept says whether they survive Triage Desk closing.
func unsentQuitText(n int, kept bool) string {
	head := widgets.CountOf(n, "decision has", "decisions have") + " not reached e-RS yet."
	if kept {
		return head + " " + map[bool]string{true: "It is", false: "They are"}[n == 1] +
			" kept on this computer, encrypted, and sent the next time you open Triage Desk and sign in."
	}
	return head + " This computer has no keychain, so Triage Desk cannot keep " + map[bool]string{true: "it", false: "them"}[n == 1] +
		": if you quit now " + map[bool]string{true: "it is", false: "they are"}[n == 1] + " lost. Keep Triage Desk open until the status bar shows " +
		"nothing waiting, or record the " + map[bool]string{true: "decision", false: "decisions"}[n == 1] + " in the e-RS web application."
}

// unsentAtExitText is said (standard error, a notification) when Triage
// Desk was ended, without anyone being asked, with n decisions unsent.
func unsentAtExitText(n int, kept bool) string {
	if kept {
		return fmt.Sprintf("%s not reached e-RS when Triage Desk was closed. %s kept, encrypted, and sent the next time you open Triage Desk and sign in.",
			widgets.CountOf(n, "decision had", "decisions had"), map[bool]string{true: "It is", false: "They are"}[n == 1])
	}
	return fmt.Sprintf("%s not reached e-RS when Triage Desk was closed, and this computer has no keychain, so %s lost. Record %s in the e-RS web application.",
		widgets.CountOf(n, "decision had", "decisions had"), map[bool]string{true: "it was", false: "they were"}[n == 1],
		map[bool]string{true: "it", false: "them"}[n == 1])
}

// toggleOutage starts or ends the demo's simulated e-RS outage: every
// request to the built-in sandbox fails as a dropped connection.
func (c *Chrome) toggleOutage() {
	rt := c.o.Runtime
	if !rt.CanSimulate() {
		return
	}
	c.outage = !c.outage
	if c.outage {
		c.outageItem.Label = "End the simulated e-RS outage"
	} else {
		c.outageItem.Label = "Simulate an e-RS outage"
	}
	if err := rt.SimulateOutage(c.outage); err != nil {
		dialog.ShowInformation("Demo", triage.ErrorMessage(err), c.o.Frame.Window())
	}
	c.o.Frame.RefreshMenu()
	if !c.outage {
		c.refresh()
	}
}

// simulateConflict has "another user" reject, in the demo sandbox, the
// referral of the oldest queued decision, so it becomes a conflict when
// it is sent.
func (c *Chrome) simulateConflict() {
	a, rt, w := c.ws, c.o.Runtime, c.o.Frame.Window()
	if a == nil || !rt.CanSimulate() {
		return
	}
	bridge.Run(c.o.Bridge, nil, rt.SimulateConflict, func(done bool, err error) {
		switch {
		case err != nil:
			dialog.ShowInformation("Demo", triage.ErrorMessage(err), w)
		case !done:
			dialog.ShowInformation("Demo", "There is no queued decision. Simulate an outage, decide a referral, then try again.", w)
		default:
			dialog.ShowInformation("Demo", "Another user has rejected the referral of your oldest queued decision in e-RS. When it is sent, it will be shown as a conflict.", w)
		}
	})
}
