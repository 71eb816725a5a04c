package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// desktopOptions are the app options of a desktop test in the environment
// env: a new profile folder with a throwaway key file and no policy, no
// lock, and referrals demo referrals (uitest.DemoRuntimeOptions).
func desktopOptions(t *testing.T, env config.EnvironmentChoice, referrals int) app.Options {
	o := uitest.DemoRuntimeOptions(t)
	o.Override, o.DemoReferrals = &env, referrals
	return o
}

// loopBridge returns a Bridge whose posts run when the test pumps the Loop
// (uitest.LoopBridge).
func loopBridge(t *testing.T) (*bridge.Bridge, *bridge.Loop) { t.Helper(); return uitest.LoopBridge(t) }

// pumpUntil pumps the loop until cond holds (uitest.PumpUntil).
func pumpUntil(t *testing.T, loop *bridge.Loop, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	uitest.PumpUntil(t, loop, wait, what, cond)
}

// demoRuntimeOptions are app.Options for a demo Runtime in a temporary
// profile (uitest.DemoRuntimeOptions).
func demoRuntimeOptions(t *testing.T) app.Options { return uitest.DemoRuntimeOptions(t) }

// demoWorkspace signs the demo clinician in, opens their workspace and
// syncs once (uitest.DemoWorkspace).
func demoWorkspace(t *testing.T, o app.Options) (*app.Runtime, *app.Workspace) {
	t.Helper()
	return uitest.DemoWorkspace(t, o)
}

// bookedReferrals returns the synced worklist's booked referrals
// (uitest.BookedReferrals).
func bookedReferrals(t *testing.T, a *app.Workspace) []string {
	t.Helper()
	return uitest.BookedReferrals(t, a)
}

// acceptReferral queues an Accept for ubrn and returns its outbox id
// (uitest.AcceptReferral).
func acceptReferral(t *testing.T, a *app.Workspace, ubrn string) string {
	t.Helper()
	return uitest.AcceptReferral(t, a, ubrn)
}

// changeInERS makes another user act on the referral in the sandbox
// (uitest.ChangeInERS).
func changeInERS(t *testing.T, rt *app.Runtime, ubrn string) {
	t.Helper()
	uitest.ChangeInERS(t, rt, ubrn)
}

// screenText is everything the window shows, joined with "|".
func screenText(w fyne.Window) string { return uitest.ScreenText(w) }

// findButton finds the visible button labelled text (uitest.FindButton).
func findButton(o fyne.CanvasObject, text string) *widget.Button { return uitest.FindButton(o, text) }

// tapButton taps the enabled button labelled text (uitest.TapButton).
func tapButton(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	uitest.TapButton(t, o, text)
}

// texts returns the text of every visible label, button and canvas text in
// the object tree, in order (uitest.Texts).
func texts(o fyne.CanvasObject) []string { return uitest.Texts(o) }

// cachedNHSNumber is the NHS number of the cached referral's patient, as
// the worklist lists it.
func cachedNHSNumber(t *testing.T, a *app.Workspace, ubrn string) string {
	t.Helper()
	wl, err := a.ReviewList(context.Background())
	if err != nil {
		t.Fatalf("worklist: %v", err)
	}
	for _, r := range wl.Rows {
		if triage.NormalizeUBRN(r.UBRN) == triage.NormalizeUBRN(ubrn) {
			return r.NHSNumber
		}
	}
	t.Fatalf("%s is not on the worklist", ubrn)
	return ""
}
