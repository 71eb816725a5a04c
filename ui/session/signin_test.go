package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// browserAs is a stand-in for the system browser: it completes the mock
// CIS2 sign-in as the test user, and records the addresses opened.
type browserAs struct {
	mu     sync.Mutex
	user   string
	opened []string
}

func (b *browserAs) open(u *url.URL) error {
	b.mu.Lock()
	b.opened = append(b.opened, u.String())
	user := b.user
	b.mu.Unlock()
	return apptest.LoginHintBrowser(nil, user)(u.String())
}

func (b *browserAs) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.opened)
}

func TestSignInOpensTheBrowserThenChoosesTheRole(t *testing.T) {
	test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)
	rt := uitest.StartRuntime(t, uitest.DemoRuntimeOptions(t))
	browser := &browserAs{user: apptest.UserClinician}
	var done []triage.Identity
	newScreen := func() *SignInScreen {
		return NewSignInScreen(SignInOptions{Service: rt, Bridge: b, Status: rt.Status(), OpenURL: browser.open,
			OnDone: func(id triage.Identity) { done = append(done, id) }})
	}
	s := newScreen()
	w := test.NewTempWindow(t, s.Object())
	got := uitest.ScreenText(w)
	for _, want := range []string{"Sign in with NHS Care Identity", "Environment: ", "DEMO – synthetic data, not real patients"} {
		if !strings.Contains(got, want) {
			t.Errorf("sign-in screen lacks %q: %s", want, got)
		}
	}
	uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
	if !s.waiting.Visible() || !strings.Contains(uitest.ScreenText(w), "Waiting for you to finish signing in in your browser") {
		t.Fatalf("no progress while the browser is used: %s", uitest.ScreenText(w))
	}
	uitest.PumpUntil(t, loop, 10*time.Second, "the role picker", func() bool { return s.roles.Visible() })
	if browser.count() != 1 || !strings.Contains(browser.opened[0], "/authorize?") {
		t.Fatalf("browser opened %v", browser.opened)
	}
	// Two roles, nothing remembered yet: the clinician must choose.
	if len(s.radio.Options) != 2 || s.radio.Selected != "" || !s.choose.Disabled() {
		t.Fatalf("roles %v selected %q, continue disabled %v", s.radio.Options, s.radio.Selected, s.choose.Disabled())
	}
	s.radio.SetSelected("Service provider clinician at " + apptest.ProviderODS)
	uitest.TapButton(t, s.Object(), "Continue")
	uitest.PumpUntil(t, loop, 10*time.Second, "sign-in to finish", func() bool { return len(done) == 1 })
	if st := rt.Status(); st.State != app.SessionActive || done[0].ODS != apptest.ProviderODS || done[0].SDSUserID != apptest.UserClinician {
		t.Fatalf("after choosing: status %v, identity %+v", st.State, done[0])
	}

	// Signed out and back: the remembered role is preselected.
	if _, err := rt.Logout(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	s = newScreen()
	w.SetContent(s.Object())
	uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
	uitest.PumpUntil(t, loop, 10*time.Second, "the role picker again", func() bool { return s.roles.Visible() })
	if s.radio.Selected != "Service provider clinician at "+apptest.ProviderODS || s.choose.Disabled() {
		t.Fatalf("remembered role not preselected: %q", s.radio.Selected)
	}
	uitest.TapButton(t, s.Object(), "Continue")
	uitest.PumpUntil(t, loop, 10*time.Second, "second sign-in", func() bool { return len(done) == 2 })

	// Locked, then unlocked from the lock screen: the role comes back
	// without asking.
	rt.Lock()
	lock := NewSignInScreen(SignInOptions{Service: rt, Bridge: b, Status: rt.Status(), OpenURL: browser.open, Locked: true,
		OnDone: func(id triage.Identity) { done = append(done, id) }})
	w.SetContent(lock.Object())
	if txt := uitest.ScreenText(w); !strings.Contains(txt, "Triage Desk is locked") || strings.Contains(txt, "locked itself") {
		t.Fatalf("lock screen after the clinician locked it: %s", txt)
	}
	uitest.TapButton(t, lock.Object(), "Sign in with NHS Care Identity")
	uitest.PumpUntil(t, loop, 10*time.Second, "unlock", func() bool { return len(done) == 3 })
	if lock.roles.Visible() || rt.Status().State != app.SessionActive {
		t.Error("unlocking asked for the role again")
	}
}

func TestSignInAsClinicianAdminChoosesWhomToActFor(t *testing.T) {
	test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)
	rt := uitest.StartRuntime(t, uitest.DemoRuntimeOptions(t))
	var done triage.Identity
	s := NewSignInScreen(SignInOptions{Service: rt, Bridge: b, Status: rt.Status(),
		OpenURL: (&browserAs{user: apptest.UserClinicianAdmin}).open, OnDone: func(id triage.Identity) { done = id }})
	test.NewTempWindow(t, s.Object())
	uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
	uitest.PumpUntil(t, loop, 10*time.Second, "the role picker", func() bool { return s.roles.Visible() })
	if s.radio.Selected == "" {
		s.radio.SetSelected(s.radio.Options[0])
	}
	uitest.PumpUntil(t, loop, 10*time.Second, "the clinicians to act for", func() bool { return len(s.behalf.Options) > 0 })
	if !s.behalfBox.Visible() || !s.choose.Disabled() {
		t.Fatal("a clinician admin could continue without choosing whom they act for")
	}
	var pick string
	for _, o := range s.behalf.Options {
		if strings.Contains(o, apptest.UserClinician) {
			pick = o
		}
	}
	if pick == "" {
		t.Fatalf("A040 users %v lack %s", s.behalf.Options, apptest.UserClinician)
	}
	s.behalf.SetSelected(pick)
	uitest.TapButton(t, s.Object(), "Continue")
	uitest.PumpUntil(t, loop, 10*time.Second, "sign-in", func() bool { return done.SDSUserID != "" })
	if done.OnBehalfOf != apptest.UserClinician || done.BusinessFunction != triage.RoleServiceProviderClinicianAdmin {
		t.Errorf("identity %+v, want acting for %s", done, apptest.UserClinician)
	}
}

// TestSignInFailuresAreExplained: each way the browser sign-in fails is
// shown with a title and the plain-English next step, and the clinician can
// start again.
func TestSignInFailuresAreExplained(t *testing.T) {
	test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)

	// A port someone else holds.
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	portOpts := uitest.DemoRuntimeOptions(t)
	portOpts.RedirectPort = busy.Addr().(*net.TCPAddr).Port
	timeoutOpts := uitest.DemoRuntimeOptions(t)
	timeoutOpts.CallbackTimeout = 300 * time.Millisecond

	nothing := func(*url.URL) error { return nil }
	// refuse answers the callback as CIS2 does when the clinician cancels.
	refuse := func(u *url.URL) error {
		q := u.Query()
		back := q.Get("redirect_uri") + "?" + url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}.Encode()
		resp, err := http.Get(back)
		if err == nil {
			resp.Body.Close()
		}
		return nil
	}
	tests := []struct {
		name    string
		service SignInService
		open    func(*url.URL) error
		title   string
		says    string
	}{
		{"port in use", uitest.StartRuntime(t, portOpts), nothing, "Another program is using Triage Desk's sign-in port", ""},
		{"timeout", uitest.StartRuntime(t, timeoutOpts), nothing, "The sign-in timed out", "Start the sign-in again"},
		{"refused", uitest.StartRuntime(t, uitest.DemoRuntimeOptions(t)), refuse, "The sign-in was refused or cancelled in the browser", "Start the sign-in again"},
		{"no secret", failingSignIn{&triage.Error{Code: triage.EUNAVAILABLE, Err: app.ErrSecretMissing,
			Message: "Sign-in is not set up on this computer: the client secret your IT team installs in the keychain is missing. Contact your IT service desk."}},
			nothing, "Sign-in is not set up on this computer", "Contact your IT service desk"},
		{"keychain", failingSignIn{&triage.Error{Code: triage.EUNAVAILABLE, Err: app.ErrKeychainUnavailable,
			Message: "Triage Desk cannot use this computer's secure keychain."}},
			nothing, "This computer's keychain cannot be used", "secure keychain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := app.Status{Demo: true}
			s := NewSignInScreen(SignInOptions{Service: tt.service, Bridge: b, Status: st, OpenURL: tt.open})
			w := test.NewTempWindow(t, s.Object())
			uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
			uitest.PumpUntil(t, loop, 10*time.Second, "the failure", func() bool { return s.failHead.Visible() })
			if s.failHead.Text != tt.title || s.failure.Text == "" || !strings.Contains(s.failure.Text, tt.says) {
				t.Errorf("shows %q / %q, want %q saying %q", s.failHead.Text, s.failure.Text, tt.title, tt.says)
			}
			if uitest.FindButton(w.Content(), "Sign in with NHS Care Identity") == nil || s.waiting.Visible() {
				t.Error("cannot start again after a failure")
			}
		})
	}
}

// failingSignIn fails every sign-in with err.
type failingSignIn struct{ err error }

func (f failingSignIn) SignIn(context.Context, func(string) error) (*app.SignInResult, error) {
	return nil, f.err
}
func (f failingSignIn) DemoSignIn(context.Context) (triage.Identity, error) {
	return triage.Identity{}, f.err
}
func (f failingSignIn) Roles(context.Context) ([]app.RoleOption, error) { return nil, f.err }
func (f failingSignIn) OnBehalfOfUsers(context.Context, string) ([]app.OnBehalfOfUser, error) {
	return nil, f.err
}
func (f failingSignIn) ChooseRole(context.Context, config.RoleChoice) (triage.Identity, error) {
	return triage.Identity{}, f.err
}

// TestSignInCancelAndNoBrowser: Cancel stops waiting for the browser (the
// sign-in's context ends); when no browser can be opened, the address is
// shown to copy.
func TestSignInCancelAndNoBrowser(t *testing.T) {
	test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)
	rt := uitest.StartRuntime(t, uitest.DemoRuntimeOptions(t))
	s := NewSignInScreen(SignInOptions{Service: rt, Bridge: b, Status: rt.Status(),
		OpenURL: func(*url.URL) error { return errors.New("no browser on this computer") }})
	test.NewTempWindow(t, s.Object())
	uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
	uitest.PumpUntil(t, loop, 10*time.Second, "the address to copy", func() bool { return s.addrBox.Visible() })
	if !strings.Contains(s.address.Text, "/authorize?") {
		t.Fatalf("address shown: %q", s.address.Text)
	}
	uitest.TapButton(t, s.Object(), "Cancel")
	if s.failHead.Text != "Sign-in cancelled" || s.waiting.Visible() {
		t.Fatalf("after cancel: %q, waiting %v", s.failHead.Text, s.waiting.Visible())
	}
	// The cancelled sign-in released its callback port: a new one works.
	s.o.OpenURL = (&browserAs{user: apptest.UserClinician2}).open
	uitest.TapButton(t, s.Object(), "Sign in with NHS Care Identity")
	uitest.PumpUntil(t, loop, 10*time.Second, "a second sign-in", func() bool { return s.roles.Visible() || s.failHead.Visible() })
	if !s.roles.Visible() {
		t.Fatalf("second sign-in: %s: %s", s.failHead.Text, s.failure.Text)
	}
}

// TestLockScreenSaysWhyItLocked: an idle lock says Triage Desk locked
// itself after the timeout; a lock the clinician asked for (Ctrl+L) does
// not say it locked "itself".
func TestLockScreenSaysWhyItLocked(t *testing.T) {
	idle := app.Status{}
	idle.State, idle.IdleLock, idle.Identity.Name = app.SessionLocked, 15*time.Minute, "Dr A Example"
	if got := signInMessage(idle, true); !strings.HasPrefix(got, "Triage Desk locked itself after 15 minutes without activity") ||
		!strings.Contains(got, "as Dr A Example") {
		t.Errorf("idle lock: %q", got)
	}
	manual := idle
	manual.IdleLock = 0
	if got := signInMessage(manual, true); strings.Contains(got, "itself") || !strings.HasPrefix(got, "Locked") {
		t.Errorf("lock asked for: %q", got)
	}
}
