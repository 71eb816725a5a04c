package uitest

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// DemoRuntimeOptions are app.Options for a demo Runtime in a temporary
// profile, keys in a development key file (no keychain), no inactivity lock.
func DemoRuntimeOptions(t *testing.T) app.Options {
	dir := t.TempDir()
	return app.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"), DemoReferrals: 20,
		DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard, LockTimeout: -1}
}

// StartRuntime starts a Runtime closed when the test ends.
func StartRuntime(t *testing.T, o app.Options) *app.Runtime {
	t.Helper()
	rt, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// DemoWorkspace signs the demo clinician in, opens their workspace and
// syncs once (the engine is not running).
func DemoWorkspace(t *testing.T, o app.Options) (*app.Runtime, *app.Workspace) {
	t.Helper()
	rt := StartRuntime(t, o)
	ctx := context.Background()
	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	// The first sync (referrals and A&G, everything prefetched) takes as
	// long as the machine needs; the clinician counts as active meanwhile,
	// so a test's short inactivity lock starts once it is done.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rt.Touch()
			}
		}
	}()
	a, err := rt.OpenWorkspace(ctx)
	if err != nil {
		t.Fatalf("open workspace: %v", err)
	}
	if _, err := apptest.Engine(a).SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	rt.Touch()
	return rt, a
}

// BookedReferrals returns the synced worklist's booked referrals (Accept
// fits them), in worklist order.
func BookedReferrals(t *testing.T, a *app.Workspace) []string {
	t.Helper()
	wl, err := a.ReviewList(context.Background())
	if err != nil {
		t.Fatalf("worklist: %v", err)
	}
	var out []string
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment {
			out = append(out, r.UBRN)
		}
	}
	return out
}

// AcceptReferral queues an Accept for ubrn and returns its outbox id.
func AcceptReferral(t *testing.T, a *app.Workspace, ubrn string) string {
	t.Helper()
	en, err := a.Decide(context.Background(), triage.Decision{Kind: triage.DecisionAccept, UBRN: ubrn})
	if err != nil {
		t.Fatalf("decide %s: %v", ubrn, err)
	}
	return en.ID
}

// ChangeInERS makes another user act on the referral in the sandbox, so a
// decision queued for it meets a conflict.
func ChangeInERS(t *testing.T, rt *app.Runtime, ubrn string) {
	t.Helper()
	if _, err := apptest.Sandbox(rt).SetState(ubrn, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "OTHER", Display: "Other"}, Comments: "Seen in the one-stop clinic instead."}); err != nil {
		t.Fatalf("change referral in e-RS: %v", err)
	}
}

// ScreenText is everything the window shows, joined with "|".
func ScreenText(w fyne.Window) string { return strings.Join(Texts(w.Content()), "|") }

// DialogTap taps a button of the dialog on top of the window.
func DialogTap(t *testing.T, w fyne.Window, text string) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open to tap %q", text)
	}
	TapButton(t, top, text)
}
