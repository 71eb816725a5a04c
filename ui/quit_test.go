package ui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/vetting"
)

// quitApp is a test app with a system tray (desktop.App) whose windows
// remember their close intercept, so the tests can use every way out.
type quitApp struct {
	fyne.App
	trayMenu *fyne.Menu
	win      *interceptWindow
}

func (a *quitApp) NewWindow(title string) fyne.Window {
	a.win = &interceptWindow{Window: a.App.NewWindow(title)}
	return a.win
}
func (a *quitApp) SetSystemTrayMenu(m *fyne.Menu)  { a.trayMenu = m }
func (a *quitApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *quitApp) SetSystemTrayWindow(fyne.Window) {}

var _ desktop.App = (*quitApp)(nil)

// interceptWindow keeps the close intercept: calling it is what the
// window's close button does.
type interceptWindow struct {
	fyne.Window
	intercept func()
}

func (w *interceptWindow) SetCloseIntercept(fn func()) {
	w.intercept = fn
	w.Window.SetCloseIntercept(fn)
}

// desktopFixture is a running Desktop on the demo, with a tray.
type desktopFixture struct {
	t    *testing.T
	a    *quitApp
	d    *Desktop
	loop *bridge.Loop
}

func newDesktopFixture(t *testing.T, opts app.Options) *desktopFixture {
	t.Helper()
	return newDesktopFixtureWith(t, RunOptions{App: opts})
}

func newDesktopFixtureWith(t *testing.T, ro RunOptions) *desktopFixture {
	t.Helper()
	old := trayHostAvailable
	trayHostAvailable = func() bool { return true }
	t.Cleanup(func() { trayHostAvailable = old })
	fx := &desktopFixture{t: t, a: &quitApp{App: test.NewTempApp(t)}, loop: bridge.NewLoop()}
	var shown *vetting.Vetting
	ro.Post, ro.OnVetting = fx.loop.Post, func(v *vetting.Vetting) { shown = v }
	fx.d = NewDesktop(fx.a, ro)
	t.Cleanup(fx.d.Close)
	fx.until("the worklist", func() bool { return shown != nil && shown.Listed() > 0 && fx.d.Chrome() != nil })
	return fx
}

func (fx *desktopFixture) until(what string, cond func() bool) {
	fx.t.Helper()
	if !fx.loop.RunUntil(90*time.Second, cond) {
		fx.t.Fatalf("timed out waiting for %s on screen %q", what, fx.d.Frame.Screen())
	}
}

// dialog returns the text of the dialog on top, "" for none.
func (fx *desktopFixture) dialog() string {
	top := fx.d.Window.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	return strings.Join(texts(top), "|")
}

// answer presses a button of the dialog on top.
func (fx *desktopFixture) answer(text string) {
	fx.t.Helper()
	top := fx.d.Window.Canvas().Overlays().Top()
	if top == nil {
		fx.t.Fatal("no dialog")
	}
	b := findButton(top, text)
	if b == nil {
		fx.t.Fatalf("no %q button in the dialog: %s", text, fx.dialog())
	}
	test.Tap(b)
	fx.loop.RunFor(50 * time.Millisecond)
}

// queueUnsent queues a decision e-RS cannot be reached to take (an outage),
// so it stays unsent.
func (fx *desktopFixture) queueUnsent() {
	fx.t.Helper()
	rt := fx.d.Runtime()
	ws := fx.d.Vetting().Workspace()
	// A decision needs its referral downloaded: wait for one before e-RS
	// goes away (the worklist arrives before the referrals do).
	var ubrn string
	fx.until("a booked referral downloaded", func() bool {
		for _, u := range bookedReferrals(fx.t, ws) {
			if _, err := ws.Referral(context.Background(), u); err == nil {
				ubrn = u
				return true
			}
		}
		return false
	})
	if err := apptest.Sandbox(rt).SetFaults(apptest.Faults{Reset: 1}); err != nil {
		fx.t.Fatal(err)
	}
	if _, err := ws.Decide(context.Background(), triage.Decision{Kind: triage.DecisionAccept, UBRN: ubrn}); err != nil {
		fx.t.Fatal(err)
	}
}

// TestEveryWayOutWarnsAboutUnsentDecisions: File → Quit, Ctrl+Q, the
// window's close button and the tray's Quit all say that a decision has
// not reached e-RS yet, and that it is kept; "Keep Triage Desk open" keeps
// it open; Quit then closes the store and the engine.
func TestEveryWayOutWarnsAboutUnsentDecisions(t *testing.T) {
	fx := newDesktopFixture(t, desktopOptions(t, config.EnvironmentChoice{Name: config.EnvDemo}, 20))
	fx.queueUnsent()

	fileQuit := func() {
		for _, m := range fx.d.Window.MainMenu().Items {
			for _, it := range m.Items {
				if it.IsQuit {
					if m.Label != "File" {
						t.Errorf("Quit is in the %s menu", m.Label)
					}
					it.Action()
					return
				}
			}
		}
		t.Fatal("the File menu has no Quit")
	}
	ctrlQ := func() {
		fx.d.Window.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(
			&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault})
	}
	closeButton := func() {
		if fx.a.win.intercept == nil {
			t.Fatal("closing the window is not intercepted")
		}
		fx.a.win.intercept()
	}
	trayQuit := func() {
		if fx.a.trayMenu == nil {
			t.Fatal("no tray menu")
		}
		for _, it := range fx.a.trayMenu.Items {
			if it.IsQuit {
				it.Action()
				return
			}
		}
		t.Fatal("the tray menu has no Quit")
	}
	for _, way := range []struct {
		name string
		do   func()
	}{{"File → Quit", fileQuit}, {"Ctrl+Q", ctrlQ}, {"the close button", closeButton}, {"the tray's Quit", trayQuit}} {
		way.do()
		fx.until(way.name+"'s warning", func() bool { return fx.dialog() != "" })
		msg := fx.dialog()
		if !strings.Contains(msg, "1 decision has not reached e-RS yet") || !strings.Contains(msg, "kept on this computer") {
			t.Errorf("%s: warning %q", way.name, msg)
		}
		fx.answer("Keep Triage Desk open")
		if fx.d.closed {
			t.Fatalf("%s: Triage Desk closed after 'Keep Triage Desk open'", way.name)
		}
	}
	ws := fx.d.Vetting().Workspace()
	fileQuit()
	fx.until("the warning", func() bool { return fx.dialog() != "" })
	fx.answer("Quit")
	if !fx.d.closed {
		t.Fatal("Quit did not close Triage Desk")
	}
	if _, err := apptest.Store(ws).UnsentCount(context.Background()); err == nil {
		t.Error("the store is still open after quitting")
	}
}

// TestWithoutAKeychainNothingPretendsToBeKept: on a computer without a
// keychain the demo keeps its data in a throwaway folder under a key in
// memory. About names that folder and says nothing survives closing; a
// banner and the status bar say so; and quitting with an unsent decision
// warns that it will be lost.
func TestWithoutAKeychainNothingPretendsToBeKept(t *testing.T) {
	keyring.MockInitWithError(errors.New("no secret service on this desktop"))
	t.Cleanup(keyring.MockInit)
	dir := t.TempDir()
	fx := newDesktopFixture(t, app.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"),
		DemoReferrals: 20, LockTimeout: -1, Override: &config.EnvironmentChoice{Name: config.EnvDemo}})
	st := fx.d.Runtime().Storage()
	if st.Kept {
		t.Fatalf("storage %+v: the throwaway store was not used", st)
	}
	c := fx.d.Chrome()
	c.ShowAbout()
	about := screenText(fx.d.Window)
	if i := strings.Index(about, "Licences"); i > 0 {
		about = about[:i]
	}
	if !strings.Contains(about, st.Dir) || strings.Contains(about, "keys are in this computer's keychain") || !strings.Contains(about, "not kept") {
		t.Errorf("About does not tell the truth about the data: %s", about)
	}
	c.closeScreen()
	if b := fx.d.Frame.Banner(frame.BannerNotice); b == nil || !strings.Contains(strings.Join(texts(b), " "), "will not be kept") {
		t.Error("no banner says the data will not be kept")
	}
	if !strings.Contains(c.status.Summary(), "Not kept after closing") {
		t.Errorf("status bar: %q", c.status.Summary())
	}
	fx.queueUnsent()
	fx.d.RequestQuit()
	fx.until("the warning", func() bool { return fx.dialog() != "" })
	if msg := fx.dialog(); !strings.Contains(msg, "1 decision has not reached e-RS yet") || !strings.Contains(msg, "lost") {
		t.Errorf("warning %q does not say the decision will be lost", msg)
	}
	fx.answer("Keep Triage Desk open")
}

// TestEndedWithoutAskingSaysWhatWasLeft: when Triage Desk is ended without
// the clinician choosing to quit (the desktop session ending, SIGTERM), the
// store and the engine are still closed, and the decisions left unsent are
// reported (a count, never patient data) with whether they are kept.
func TestEndedWithoutAskingSaysWhatWasLeft(t *testing.T) {
	var stderr strings.Builder
	fx := newDesktopFixtureWith(t, RunOptions{Stderr: &stderr, App: desktopOptions(t, config.EnvironmentChoice{Name: config.EnvDemo}, 20)})
	fx.queueUnsent()
	ws := fx.d.Vetting().Workspace()
	fx.d.Close()
	if got := stderr.String(); !strings.Contains(got, "1 decision had not reached e-RS when Triage Desk was closed. It is kept") {
		t.Errorf("stderr %q", got)
	}
	if _, err := apptest.Store(ws).UnsentCount(context.Background()); err == nil {
		t.Error("the store is still open")
	}
}
