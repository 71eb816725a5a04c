package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/vetting"
)

// TestTwentyDecisionsThroughAnOutageEndSentOrConflict is the end-to-end
// check of the screens around the vetting window: with faults switched on
// in the demo sandbox (503s, 500s, dropped connections, writes applied and
// then dropped), a clinician accepts 20 referrals with the keyboard while
// e-RS goes away for a while (every connection reset) and comes back;
// another user rejects three of the referrals in e-RS meanwhile. Without a
// click, every decision ends either sent (applied in e-RS exactly once)
// or shown as a conflict: in the outbox, the banner and the status bar.
func TestTwentyDecisionsThroughAnOutageEndSentOrConflict(t *testing.T) {
	fa := test.NewTempApp(t)
	opts := demoRuntimeOptions(t)
	opts.DemoReferrals = 48
	opts.EngineTuning = fastEngine
	rt, ws := demoWorkspace(t, opts)
	faults := apptest.Faults{Unavailable: 0.08, ServerError: 0.05, Reset: 0.05, DropAfterApply: 0.2, RetryAfter: 20 * time.Millisecond}
	if err := apptest.Sandbox(rt).SetFaults(faults); err != nil {
		t.Fatal(err)
	}

	loop := bridge.NewLoop()
	b := bridge.New(bridge.Options{Post: loop.Post})
	t.Cleanup(b.Close)
	fa.Settings().SetTheme(style.NewTheme(nil))
	win, f := frame.NewShellWindow(fa, frame.ShellOptions{Demo: true, Environment: "demo"})
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(1600, 1000))
	v := vetting.NewVetting(f, b, ws, nil)
	t.Cleanup(v.Close)
	f.SetMain(v.Object())
	c := NewChrome(ChromeOptions{App: fa, Frame: f, Bridge: b, Runtime: rt,
		OpenURL: func(*url.URL) error { return errors.New("no browser in tests") }})
	c.SetWorkspace(ws)
	v.Start() // attaches the engine to the bridge
	eng := apptest.Engine(ws)
	b.Go(func(ctx context.Context) { _ = eng.Run(ctx) })
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		if !loop.RunUntil(90*time.Second, cond) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	settle := func() { loop.RunFor(150 * time.Millisecond) }
	waitFor("the worklist", v.Loaded)
	sawOffline := false
	b.OnEngine(func(bridge.Update) { sawOffline = sawOffline || c.offline.Showing() })

	var booked []string
	for _, u := range v.WorklistPanel().Rows() {
		r, _ := v.WorklistPanel().Row(u)
		if r.Type == triage.ReferralTypeAppointment && r.Local == triage.LocalNone && len(booked) < 20 {
			booked = append(booked, r.UBRN)
		}
	}
	if len(booked) < 20 {
		t.Fatalf("only %d booked referrals to decide", len(booked))
	}
	changed := map[string]bool{}
	for i, ubrn := range booked {
		switch i {
		case 6: // e-RS goes away: every connection is reset
			if err := apptest.Sandbox(rt).SetFaults(apptest.Faults{Reset: 1}); err != nil {
				t.Fatal(err)
			}
			eng.SyncNow()
		case 15: // and comes back, still with its everyday faults
			waitFor("the offline banner", c.offline.Showing)
			if err := apptest.Sandbox(rt).SetFaults(faults); err != nil {
				t.Fatal(err)
			}
		}
		v.Open(ubrn)
		waitFor("the referral to open", func() bool { return v.OpenedUBRN() == ubrn })
		win.Canvas().Unfocus()
		test.TypeOnCanvas(win.Canvas(), "a")
		settle()
		if !v.Confirming() {
			t.Fatalf("decision %d: A did not open the confirm step", i+1)
		}
		win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(
			&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault})
		settle()
		waitFor("the decision to queue", v.Decided)
		if i >= 7 && i <= 9 { // another user acts on it while e-RS is away from us
			changeInERS(t, rt, ubrn)
			changed[ubrn] = true
		}
	}

	ctx := context.Background()
	final := map[string]app.Entry{}
	waitFor("every decision to be sent or shown as a conflict", func() bool {
		for _, u := range booked {
			en, err := apptest.Store(ws).LatestForReferral(ctx, u)
			if err != nil || (en.State != triage.OutboxSent && en.State != triage.OutboxConflict) {
				return false
			}
			final[u] = en
		}
		return true
	})
	applied := map[string]int{}
	for _, w := range apptest.Sandbox(rt).Stats().Writes {
		if w.Applied {
			applied[w.UBRN]++
		}
	}
	for _, u := range booked {
		en := final[u]
		switch {
		case changed[u] && en.State != triage.OutboxConflict:
			t.Errorf("%s was changed in e-RS first but ended %s", u, en.State)
		case !changed[u] && en.State != triage.OutboxSent:
			t.Errorf("%s ended %s, want sent", u, en.State)
		case en.State == triage.OutboxSent && applied[u] != 1:
			t.Errorf("%s is sent but e-RS applied it %d times", u, applied[u])
		case en.State == triage.OutboxConflict && applied[u] != 0:
			t.Errorf("%s is a conflict but e-RS applied a write %d times", u, applied[u])
		}
	}

	if !sawOffline {
		t.Error("the offline banner never showed during the outage")
	}
	// Shown as conflicts: the banner, the status bar and the outbox.
	waitFor("the screens to catch up", func() bool {
		return !c.offline.Showing() && strings.HasPrefix(c.conflicts.Text(), "Not sent: 3 of your decisions were not applied") &&
			strings.HasSuffix(c.status.Summary(), "3 conflicts") && !strings.Contains(c.status.Summary(), "queued")
	})
	c.ShowOutbox(triage.OutboxConflict)
	ob := c.Outbox()
	waitFor("the outbox", func() bool { return ob != nil && !ob.Busy() && len(ob.Rows()) == 3 })
	for _, r := range ob.Rows() {
		if !changed[r.UBRN] || r.State != triage.OutboxConflict {
			t.Errorf("needs attention lists %s (%s)", r.UBRN, r.State)
		}
	}
	if apptest.Sandbox(rt).Stats().Faults[apptest.FaultReset] == 0 || apptest.Sandbox(rt).Stats().Faults[apptest.FaultDropAfterApply]+apptest.Sandbox(rt).Stats().Faults[apptest.FaultUnavailable] == 0 {
		t.Errorf("the faults did not happen: %v", apptest.Sandbox(rt).Stats().Faults)
	}
}
