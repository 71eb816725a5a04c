package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/session"
	"github.com/triagedesk/triagedesk/ui/settings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// coverScreen is the name the fixture's stand-in lifecycle shows the
// session screen under.
const coverScreen = "session-cover"

// Patient details the stand-in main view shows: the lock must hide them.
const (
	testNHSNumber = "943 476 5919"
	testUBRN      = "0000 1234 5678"
)

// chromeFixture is the main window with the chrome around a stand-in main
// view (patient details and a half-written comment), on a demo workspace
// whose engine runs, with the lifecycle's one duty done as ui.Desktop does
// it: cover the window with Chrome.SessionScreen while patient data may
// not be shown.
type chromeFixture struct {
	rt    *app.Runtime
	a     *app.Workspace
	b     *bridge.Bridge
	loop  *bridge.Loop
	w     fyne.Window
	f     *frame.Frame
	c     *Chrome
	draft *widget.Entry

	mu   sync.Mutex
	skew time.Duration // added to the sign-in's clock
}

func (cf *chromeFixture) clock() time.Time {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return time.Now().Add(cf.skew)
}

func fastEngine(c *apptest.EngineConfig) {
	c.ProbeMin, c.ProbeMax = 20*time.Millisecond, 200*time.Millisecond
	c.RetryBase, c.RetryCap = 20*time.Millisecond, 300*time.Millisecond
	c.PushCheckInterval = 100 * time.Millisecond
	c.RetentionInterval = -1
}

func newChromeFixture(t *testing.T, mod func(*app.Options)) *chromeFixture {
	t.Helper()
	fa := test.NewTempApp(t)
	cf := &chromeFixture{}
	opts := demoRuntimeOptions(t)
	opts.EngineTuning = fastEngine
	opts.AuthClock = cf.clock
	if mod != nil {
		mod(&opts)
	}
	cf.rt, cf.a = demoWorkspace(t, opts)
	cf.rt.Touch()
	cf.b, cf.loop = loopBridge(t)
	cf.w, cf.f = frame.NewShellWindow(fa, frame.ShellOptions{Demo: true, Environment: "demo"})
	t.Cleanup(cf.w.Close)
	cf.draft = widget.NewMultiLineEntry()
	cf.draft.SetText("Please arrange an MRI before clinic")
	cf.f.SetMain(container.NewVBox(widget.NewLabel("NHS "+testNHSNumber+" · UBRN "+testUBRN), cf.draft))
	cf.c = NewChrome(ChromeOptions{App: fa, Frame: cf.f, Bridge: cf.b, Runtime: cf.rt, ActivityPoll: 50 * time.Millisecond,
		OpenURL: func(*url.URL) error { return errors.New("no browser in tests") }})
	f, c := cf.f, cf.c
	bridge.Watch(cf.b, cf.rt.OnStatus, func(st app.Status) {
		switch {
		case !st.ShowPatientData:
			f.ShowScreen(coverScreen, c.SessionScreen(st))
		case f.Screen() == coverScreen:
			f.CloseScreen()
		}
	})
	cf.c.SetWorkspace(cf.a)
	cf.b.AttachEngine(cf.a)
	eng := apptest.Engine(cf.a)
	cf.b.Go(func(ctx context.Context) { _ = eng.Run(ctx) })
	// The clinician is at the keyboard until the first sync is shown: the
	// lock timer counts from here, however long a loaded machine takes.
	cf.until(t, "online", func() bool {
		cf.rt.Touch()
		return strings.HasPrefix(cf.c.status.Summary(), "Online · Worklist as of ")
	})
	return cf
}

func (cf *chromeFixture) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// A wait for the result, not a time limit on the machine: a loaded
	// 2-core machine may take long to start the demo and sync.
	pumpUntil(t, cf.loop, 90*time.Second, what, cond)
}

func (cf *chromeFixture) entryState(t *testing.T, id string) triage.OutboxState {
	t.Helper()
	en, err := apptest.Store(cf.a).Entry(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return en.State
}

func (cf *chromeFixture) goOffline(t *testing.T) {
	t.Helper()
	if err := apptest.Sandbox(cf.rt).SetFaults(apptest.Faults{Reset: 1}); err != nil {
		t.Fatal(err)
	}
	apptest.Engine(cf.a).SyncNow()
	cf.until(t, "the offline banner", cf.c.offline.Showing)
}

// TestOfflineBannerAndRecoveryWithoutAClick: when e-RS cannot be reached
// the banner says so with the last successful sync, cached data stays
// readable and decisions queue; when the network returns the banner goes
// and the queue is sent without anyone clicking.
func TestOfflineBannerAndRecoveryWithoutAClick(t *testing.T) {
	cf := newChromeFixture(t, nil)
	last := apptest.Engine(cf.a).Status().LastSuccess
	cf.goOffline(t)
	text := cf.c.offline.Text()
	if want := "Last successful sync at " + widgets.ClockText(last, time.Now()); !strings.Contains(text, "Offline: Triage Desk cannot reach e-RS.") || !strings.Contains(text, want) {
		t.Fatalf("offline banner %q, want %q", text, want)
	}
	if !strings.HasPrefix(cf.c.status.Summary(), "Offline · ") {
		t.Errorf("status bar while offline: %q", cf.c.status.Summary())
	}
	wl, err := cf.a.ReviewList(context.Background())
	if err != nil || len(wl.Rows) == 0 {
		t.Fatalf("cached worklist while offline: %d rows, %v", len(wl.Rows), err)
	}
	id := acceptReferral(t, cf.a, bookedReferrals(t, cf.a)[0])
	cf.until(t, "the queued decision in the banner", func() bool {
		return strings.Contains(cf.c.offline.Text(), "your 1 queued decision will be sent when the connection returns")
	})
	if !strings.Contains(cf.c.status.Summary(), "1 queued") {
		t.Errorf("status bar: %q", cf.c.status.Summary())
	}
	if s := cf.entryState(t, id); s != triage.OutboxQueued {
		t.Fatalf("decision while offline is %s", s)
	}

	if err := apptest.Sandbox(cf.rt).SetFaults(apptest.Faults{}); err != nil {
		t.Fatal(err)
	}
	cf.until(t, "recovery", func() bool { return !cf.c.offline.Showing() && cf.entryState(t, id) == triage.OutboxSent })
	cf.until(t, "the status bar to catch up", func() bool {
		return strings.HasPrefix(cf.c.status.Summary(), "Online · ") && strings.HasSuffix(cf.c.status.Summary(), "Outbox: nothing waiting")
	})
}

// TestLockHidesPatientDataAndKeepsTheDraft: locking (Ctrl+L) replaces the
// main view with the lock screen: no patient detail is on screen, the
// status bar still is, no shortcut or patient screen works; unlocking
// brings the view back with the half-written comment intact.
func TestLockHidesPatientDataAndKeepsTheDraft(t *testing.T) {
	cf := newChromeFixture(t, nil)
	if !strings.Contains(screenText(cf.w), testNHSNumber) {
		t.Fatal("the stand-in main view is not showing")
	}
	accepted := 0
	cf.f.Shortcuts().Handle(shortcuts.Accept, func() { accepted++ })
	if !cf.f.Shortcuts().Run(shortcuts.Lock) {
		t.Fatal("Lock shortcut did not run")
	}
	cf.until(t, "the lock screen", func() bool { return cf.f.Screen() == coverScreen })
	got := screenText(cf.w)
	for _, secret := range []string{testNHSNumber, testUBRN, "MRI before clinic"} {
		if strings.Contains(got, secret) {
			t.Errorf("locked window shows %q: %s", secret, got)
		}
	}
	if !strings.Contains(got, "Triage Desk is locked") || !strings.Contains(got, "Locked") {
		t.Errorf("locked window: %s", got)
	}
	cf.c.ShowOutbox("")
	cf.c.ShowAudit()
	test.TypeOnCanvas(cf.w.Canvas(), "a")
	if cf.f.Screen() != coverScreen || accepted != 0 {
		t.Fatalf("behind the lock: screen %q, accept ran %d times", cf.f.Screen(), accepted)
	}
	if it := uitest.MenuItem(cf.w.MainMenu(), "Outbox"); it == nil || !it.Disabled {
		t.Error("the Outbox menu item works while locked")
	}

	tapButton(t, cf.f.Window().Content(), "Unlock as the demo clinician")
	cf.until(t, "unlock", func() bool { return cf.f.Screen() == "" })
	if cf.draft.Text != "Please arrange an MRI before clinic" || !strings.Contains(screenText(cf.w), testNHSNumber) {
		t.Errorf("after unlocking: draft %q, screen %s", cf.draft.Text, screenText(cf.w))
	}
}

// TestSignInNeededKeepsQueuedDecisions: when the platform ends the session
// the banner asks for a sign-in and says queued decisions are kept; the
// cache stays readable; signing in again sends them.
func TestSignInNeededKeepsQueuedDecisions(t *testing.T) {
	cf := newChromeFixture(t, nil)
	cf.mu.Lock()
	cf.skew = 13 * time.Hour // past the 12-hour session limit
	cf.mu.Unlock()
	apptest.Engine(cf.a).SyncNow()
	cf.until(t, "the sign-in banner", func() bool { return cf.f.Banner(frame.BannerSignIn) != nil })
	if cf.f.Screen() != "" {
		t.Fatalf("sign-in needed covered the readable cache with %q", cf.f.Screen())
	}
	id := acceptReferral(t, cf.a, bookedReferrals(t, cf.a)[0])
	cf.until(t, "the banner to count it", func() bool {
		return cf.c.signInBar != nil && strings.Contains(cf.c.signInBar.Text, "1 decision will be sent after you sign in again")
	})
	if !strings.HasPrefix(cf.c.status.Summary(), "Sign-in needed") {
		t.Errorf("status bar: %q", cf.c.status.Summary())
	}
	tapButton(t, cf.f.Banner(frame.BannerSignIn), "Sign in again")
	if cf.f.Screen() != session.ScreenSignIn {
		t.Fatalf("screen %q after Sign in again", cf.f.Screen())
	}
	tapButton(t, cf.w.Content(), "Sign in as the demo clinician")
	cf.until(t, "signed in and sent", func() bool {
		return cf.f.Screen() == "" && cf.f.Banner(frame.BannerSignIn) == nil && cf.entryState(t, id) == triage.OutboxSent
	})
}

// TestSignOutWarnsAboutUnsentDecisions: signing out with a decision not yet
// in e-RS says so; keeping it leaves it for the next sign-in; discarding
// it needs a second, explicit confirmation.
func TestSignOutWarnsAboutUnsentDecisions(t *testing.T) {
	for _, discard := range []bool{false, true} {
		name := "keep"
		if discard {
			name = "discard"
		}
		t.Run(name, func(t *testing.T) {
			cf := newChromeFixture(t, nil)
			cf.goOffline(t)
			acceptReferral(t, cf.a, bookedReferrals(t, cf.a)[0])
			cf.c.SignOut()
			cf.until(t, "the warning", func() bool { return cf.w.Canvas().Overlays().Top() != nil })
			warn := strings.Join(texts(cf.w.Canvas().Overlays().Top()), "|")
			if !strings.Contains(warn, "1 decision has not reached e-RS yet") || !strings.Contains(warn, "Discard 1 decision and sign out…") {
				t.Fatalf("warning: %s", warn)
			}
			if discard {
				uitest.DialogTap(t, cf.w, "Discard 1 decision and sign out…")
				if cf.rt.Status().State != app.SessionActive {
					t.Fatal("signed out before the second confirmation")
				}
				uitest.DialogTap(t, cf.w, "Discard and sign out")
			} else {
				uitest.DialogTap(t, cf.w, "Sign out and keep them")
			}
			cf.until(t, "signed out", func() bool { return cf.rt.Status().State == app.SessionSignedOut })
			n, err := cf.rt.UnsentCount(context.Background(), apptest.UserClinician)
			want := 1
			if discard {
				want = 0
			}
			if err != nil || n != want {
				t.Errorf("unsent after signing out: %d (%v), want %d", n, err, want)
			}
			cf.until(t, "the sign-in screen", func() bool { return cf.f.Screen() == coverScreen })
			if !strings.Contains(screenText(cf.w), "Sign in with NHS Care Identity") {
				t.Errorf("after signing out: %s", screenText(cf.w))
			}
		})
	}
}

// TestConflictBannerUntilAcknowledged: a decision that meets a change made
// in e-RS raises a banner until it is acknowledged in the outbox, which the
// banner opens at that conflict; the status bar's count goes with it. The
// banner names the referral's UBRN and NHS number, except while the
// session is locked (banners show over the lock screen).
func TestConflictBannerUntilAcknowledged(t *testing.T) {
	cf := newChromeFixture(t, nil)
	cf.goOffline(t)
	ubrn := bookedReferrals(t, cf.a)[0]
	nhs := cachedNHSNumber(t, cf.a, ubrn)
	id := acceptReferral(t, cf.a, ubrn)
	changeInERS(t, cf.rt, ubrn)
	if err := apptest.Sandbox(cf.rt).SetFaults(apptest.Faults{}); err != nil {
		t.Fatal(err)
	}
	cf.until(t, "the conflict banner", func() bool { return cf.c.conflicts.Text() != "" })
	text := cf.c.conflicts.Text()
	named := "Not sent: referral UBRN " + widgets.UBRNText(ubrn) + " (NHS number " + triage.FormatNHSNumber(nhs) + ") had already been actioned in e-RS (Rejected (returned to referrer), version "
	if !strings.HasPrefix(text, named) {
		t.Fatalf("conflict banner %q, want it to start %q", text, named)
	}
	cf.rt.Lock()
	cf.until(t, "the banner to stop naming the patient while locked", func() bool {
		text = cf.c.conflicts.Text()
		return strings.HasPrefix(text, "Not sent: a referral had already been actioned in e-RS")
	})
	if strings.Contains(text, widgets.UBRNText(ubrn)) || strings.Contains(text, triage.FormatNHSNumber(nhs)) || strings.Contains(text, nhs) {
		t.Fatalf("while locked the conflict banner names the referral or patient: %q", text)
	}
	if _, err := cf.rt.DemoSignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	cf.until(t, "the banner to name the referral again once unlocked", func() bool { return strings.HasPrefix(cf.c.conflicts.Text(), named) })
	cf.until(t, "the status bar to count the conflict", func() bool { return strings.HasSuffix(cf.c.status.Summary(), "1 conflict") })
	tapButton(t, cf.f.Banner(frame.BannerConflict), "Review in the outbox")
	ob := cf.c.Outbox()
	if ob == nil {
		t.Fatalf("the outbox did not open: screen %q", cf.f.Screen())
	}
	cf.until(t, "the conflict selected", func() bool {
		return ob.Selected() == id && findButton(ob.Detail(), "I have read this: acknowledge") != nil
	})
	tapButton(t, ob.Detail(), "I have read this: acknowledge")
	cf.until(t, "the banner to go", func() bool { return cf.f.Banner(frame.BannerConflict) == nil })
	// The status bar counts conflicts waiting to be read, as the banner
	// does: the acknowledged one is no longer "1 conflict".
	cf.until(t, "the status bar to stop counting the conflict", func() bool { return !strings.Contains(cf.c.status.Summary(), "conflict") })
	tapButton(t, ob.Object(), "Back to the worklist")
	if cf.f.Screen() != "" {
		t.Errorf("back from the outbox: screen %q", cf.f.Screen())
	}
}

// TestActivityKeepsTheSessionUnlocked: pointer movement over the window
// and typing in a focused field count as activity; without any, the
// session locks after the timeout.
func TestActivityKeepsTheSessionUnlocked(t *testing.T) {
	cf := newChromeFixture(t, func(o *app.Options) {
		o.LockTimeout, o.DemoReferrals = 1500*time.Millisecond, 6
		o.EngineTuning = fastEngine
	})
	watcher, ok := cf.w.Content().(*frame.ActivityWatcher)
	if !ok {
		t.Fatalf("window content is %T, not watched for activity", cf.w.Content())
	}
	cf.w.Canvas().Focus(cf.draft)
	for i := range 35 {
		if i%2 == 0 {
			watcher.MouseMoved(nil)
		} else {
			cf.draft.TypedRune('x') // polled: typing in a focused field
		}
		cf.loop.RunFor(100 * time.Millisecond)
	}
	if st := cf.rt.Status().State; st != app.SessionActive {
		t.Fatalf("locked after 3.5 s of activity with a 1.5 s timeout: %v", st)
	}
	cf.until(t, "the inactivity lock", func() bool { return cf.f.Screen() == coverScreen })
}

// TestEscLeavesPages: Esc leaves the settings page (and the other pages)
// for the worklist, unless a dialog is over it.
func TestEscLeavesPages(t *testing.T) {
	cf := newChromeFixture(t, nil)
	cf.c.ShowSettings()
	if cf.f.Screen() != settings.Screen {
		t.Fatalf("settings did not open: screen %q", cf.f.Screen())
	}
	cf.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if cf.f.Screen() != "" {
		t.Fatalf("Esc on settings left screen %q", cf.f.Screen())
	}
}

// TestSentDecisionIsConfirmed: when a decision reaches e-RS the status bar
// says so (a count and a time, never patient data).
func TestSentDecisionIsConfirmed(t *testing.T) {
	cf := newChromeFixture(t, nil)
	id := uitest.AcceptReferral(t, cf.a, uitest.BookedReferrals(t, cf.a)[0])
	cf.until(t, "the confirmation", func() bool {
		return cf.entryState(t, id) == triage.OutboxSent && strings.Contains(cf.c.status.Summary(), "1 decision sent to e-RS at ")
	})
}
