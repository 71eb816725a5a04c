package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// shortLived makes the sandbox's access tokens expire within the manager's
// early-expiry margin, so every Token call refreshes (and rotates).
func shortLived(c *erssandbox.Config) { c.AccessTokenTTL = 30 * time.Second }

func TestRestartAfterRotationAndReplayOfOldToken(t *testing.T) {
	f := newFixture(t, shortLived)
	a := f.manager(t)
	id := signInAs(t, a, erssandbox.UserClinicianRCD, "RCD", triage.RoleServiceProviderClinician)
	first, _ := saved(t, f.env)
	refreshes := f.calls.count("refresh_token")

	// A refresh rotates the refresh token; the new one is in the keychain
	// by the time the new access token is handed out.
	tok := tokenOf(t, a)
	rotated, _ := saved(t, f.env)
	if rotated.RT == first.RT || f.calls.count("refresh_token") != refreshes+1 {
		t.Fatalf("no rotation saved (refreshes %d -> %d)", refreshes, f.calls.count("refresh_token"))
	}
	if f.calls.lastForm().Get("refresh_token") != first.RT || f.calls.lastForm().Get("client_secret") != testSecret {
		t.Error("the refresh did not redeem the saved token with the client secret")
	}
	if tok.AccessToken == "" {
		t.Fatal("empty access token")
	}
	if _, err := a.ERS().WithIdentity(id).PractitionerRoles(context.Background()); err != nil {
		t.Fatalf("e-RS with the refreshed token: %v", err)
	}
	a.Close() // the process exits

	// A new process with the same keychain is still signed in.
	b := f.manager(t)
	st, err := b.Restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateActive || st.Identity != id || b.Identity() != id {
		t.Fatalf("restored %+v", st)
	}
	if _, err := b.ERS().WithIdentity(b.Identity()).PractitionerRoles(context.Background()); err != nil {
		t.Fatalf("e-RS after restart: %v", err)
	}
	if st.SessionExpires.Sub(first.RTExp) > time.Second {
		t.Errorf("the session end moved later on refresh: %v -> %v", first.RTExp, st.SessionExpires)
	}
	b.Close()

	// Replaying a spent refresh token (say, a keychain restored from a
	// backup) gives "sign-in needed", once.
	save(t, f.env, rotatedWith(first, first.RT))
	var log statusLog
	c := f.manager(t, func(o *Options) { o.OnChange = log.add })
	before := f.calls.count("refresh_token")
	st, err = c.Restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateSignInNeeded || st.Message != msgSignInNeeded || st.Identity.SDSUserID != id.SDSUserID {
		t.Fatalf("after replay: %+v", st)
	}
	if _, ok := saved(t, f.env); ok {
		t.Error("the refused session is still in the keychain")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.TokenSource().Token(); !errors.Is(err, ErrSignInNeeded) || triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED {
				t.Errorf("Token after replay: %v", err)
			}
		}()
	}
	wg.Wait()
	_, err = c.ERS().WithIdentity(id).PractitionerRoles(context.Background())
	var ee *ers.Error
	if !errors.As(err, &ee) || ee.Class != ers.AuthRequired || !errors.Is(err, ErrSignInNeeded) {
		t.Errorf("e-RS call after replay: %v", err)
	}
	if n := f.calls.count("refresh_token") - before; n != 1 {
		t.Errorf("%d refresh attempts after the refusal, want exactly 1 (no retry loop)", n)
	}
	if n := log.count(StateSignInNeeded); n != 1 {
		t.Errorf("sign-in needed raised %d times, want once", n)
	}
}

func rotatedWith(r *record, rt string) *record {
	c := *r
	c.RT = rt
	return &c
}

func TestRestoreStates(t *testing.T) {
	env := offlineEnv("td-restore-states")
	now := time.Now()
	for _, tc := range []struct {
		name string
		rec  *record
		raw  string
		want State
		kept bool
	}{
		{"nothing saved", nil, "", StateSignedOut, false},
		{"locked", &record{V: 1, Auth: env.AuthBaseURL, Locked: true, ID: clinician}, "", StateLocked, true},
		{"expired", &record{V: 1, Auth: env.AuthBaseURL, RT: "rt-x", RTExp: now.Add(-time.Minute), ID: clinician}, "", StateSignInNeeded, false},
		{"no refresh token", &record{V: 1, Auth: env.AuthBaseURL, RTExp: now.Add(time.Hour), ID: clinician}, "", StateSignInNeeded, false},
		{"another server", &record{V: 1, Auth: "https://elsewhere.example/oauth2", RT: "rt-x", RTExp: now.Add(time.Hour), ID: clinician}, "", StateSignedOut, false},
		{"unreadable", nil, "{not json", StateSignedOut, false},
		{"future version", nil, `{"v":9}`, StateSignedOut, false},
	} {
		keyring.Delete(KeychainService, SessionAccount(env))
		switch {
		case tc.rec != nil:
			save(t, env, tc.rec)
		case tc.raw != "":
			keyring.Set(KeychainService, SessionAccount(env), tc.raw)
		}
		ex := newFakeExchanger()
		m, err := New(Options{Environment: env, Exchanger: ex, LockTimeout: -1})
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.Restore(context.Background())
		if err != nil || st.State != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, st.State, err, tc.want)
		}
		if _, ok := saved(t, env); ok != tc.kept {
			t.Errorf("%s: saved session kept = %v", tc.name, ok)
		}
		if ex.refreshes() != 0 {
			t.Errorf("%s: refreshed a session that cannot be used", tc.name)
		}
		if _, err := m.TokenSource().Token(); err == nil {
			t.Errorf("%s: a token without a session", tc.name)
		}
		m.Close()
	}
}

func TestSessionCapEndsTheSessionWithoutCallingThePlatform(t *testing.T) {
	// The sandbox caps the session at one hour from sign-in and says so in
	// refresh_token_expires_in; the app's clock then passes it.
	f := newFixture(t, func(c *erssandbox.Config) { c.SessionCap = time.Hour })
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := f.manager(t, func(o *Options) { o.Clock = clock })
	signInAs(t, m, erssandbox.UserClinician2, "R69", triage.RoleServiceProviderClinician)
	st := m.Status()
	if d := st.SessionExpires.Sub(now); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("session ends %v after sign-in, want the 1 h cap", d)
	}
	tokenOf(t, m)
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	_, err := m.TokenSource().Token()
	if !errors.Is(err, ErrSignInNeeded) || triage.ErrorMessage(err) != msgSessionCap {
		t.Fatalf("after the cap: %v", err)
	}
	if f.calls.count("refresh_token") != 0 {
		t.Error("the platform was asked to refresh past the session's end")
	}
	if st := m.Status(); st.State != StateSignInNeeded || !st.SessionExpires.IsZero() {
		t.Errorf("status %+v", st)
	}

	// Our own cap applies even when a server reports a longer lifetime.
	m2 := f.manager(t, func(o *Options) { o.SessionCap = 10 * time.Minute })
	signIn(t, m2, erssandbox.UserClinician2)
	if d := time.Until(m2.Status().SessionExpires); d > 10*time.Minute {
		t.Errorf("session ends in %v, beyond SessionCap", d)
	}
}

func TestKeychainUnavailable(t *testing.T) {
	f := newFixture(t)
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	t.Cleanup(keyring.MockInit)
	m := f.manager(t)
	st, err := m.Restore(context.Background())
	if !errors.Is(err, ErrKeychainUnavailable) || st.State != StateSignedOut || triage.ErrorMessage(err) != msgKeychain {
		t.Fatalf("Restore: %+v %v", st, err)
	}
	// Signing in still works; the status warns that it will not be
	// remembered.
	signInAs(t, m, erssandbox.UserClinician2, "R69", triage.RoleServiceProviderClinician)
	if st := m.Status(); st.State != StateActive || st.Warning != msgKeychain {
		t.Errorf("status %+v", st)
	}
	if _, err := m.SavedStatus(context.Background()); !errors.Is(err, ErrKeychainUnavailable) {
		t.Errorf("SavedStatus: %v", err)
	}
}

func TestSavedStatusReadsWithoutNetwork(t *testing.T) {
	env := offlineEnv("td-saved-status")
	seedSession(t, env, "rt-1", clinician)
	ex := newFakeExchanger("rt-1")
	m := newManager(t, Options{Environment: env, Exchanger: ex, LockTimeout: -1})
	st, err := m.SavedStatus(context.Background())
	if err != nil || st.State != StateActive || st.Identity != clinician || st.SessionExpires.IsZero() {
		t.Errorf("saved status %+v %v", st, err)
	}
	if ex.refreshes() != 0 || m.Status().State != StateSignedOut {
		t.Error("SavedStatus changed the session or called the platform")
	}
}

// TestRealKeychain runs the restart test against the OS keychain (the Secret
// Service on Linux) in a child process, because keyring.MockInit cannot be
// undone. The child skips when no keychain answers.
func TestRealKeychain(t *testing.T) {
	if os.Getenv(realKeyringChild) != "" {
		return // this process is the child; TestRealKeychainChild does the work
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRealKeychainChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), realKeyringChild+"=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "NO-SECRET-SERVICE") {
		t.Skipf("no OS keychain is reachable here (CI runs this under dbus-run-session with gnome-keyring): %s", lastLine(out))
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRealKeychainChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "NO-SECRET-SERVICE") {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

func TestRealKeychainChild(t *testing.T) {
	if os.Getenv(realKeyringChild) == "" {
		return // a helper process: it runs only as TestRealKeychain's child
	}
	probe := fmt.Sprintf("probe-%d", os.Getpid())
	_, err := keychain.Do(context.Background(), func() (struct{}, error) {
		if err := keyring.Set(KeychainService, probe, "x"); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, keyring.Delete(KeychainService, probe)
	})
	if err != nil {
		t.Skipf("NO-SECRET-SERVICE: %v", err)
	}
	f := newFixture(t, shortLived)
	t.Cleanup(func() { keyring.Delete(KeychainService, SessionAccount(f.env)) })
	a := f.manager(t)
	id := signInAs(t, a, erssandbox.UserClinicianRCD, "RCD", triage.RoleServiceProviderClinician)
	first, _ := saved(t, f.env)
	tokenOf(t, a) // rotates
	a.Close()
	b := f.manager(t)
	st, err := b.Restore(context.Background())
	if err != nil || st.State != StateActive || st.Identity != id {
		t.Fatalf("restore from the OS keychain: %+v %v", st, err)
	}
	b.Close()
	save(t, f.env, rotatedWith(first, first.RT))
	c := f.manager(t)
	if st, _ := c.Restore(context.Background()); st.State != StateSignInNeeded {
		t.Fatalf("replayed token: %v", st.State)
	}
}
