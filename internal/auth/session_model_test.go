package auth

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A session is found by the environment and the e-RS server it is for,
// whatever client id the later command assumes: the client id, token
// endpoint and, for a local development server, the client secret it was
// made with are saved with it, and a new Manager built from them resumes it.
func TestSessionFoundByServerNotClientID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.manager(t, func(o *Options) { o.Exchanger, o.DevSecret = nil, testSecret })
	id := signInAs(t, a, erssandbox.UserClinicianRCD, "RCD", triage.RoleServiceProviderClinician)
	a.Close()

	rec, ok := saved(t, f.env)
	if !ok || rec.Client != f.env.ClientID || rec.Token != f.env.TokenURL() || rec.FHIR != f.env.FHIRBaseURL || rec.DevSecret != testSecret {
		t.Fatalf("saved session %+v", rec)
	}

	// A later command knows only the environment and the server.
	later := f.env
	later.ClientID = config.LocalClientID
	reg, found, err := SavedRegistration(ctx, OSKeyring{}, later)
	if err != nil || !found {
		t.Fatalf("SavedRegistration: %v %v", found, err)
	}
	if reg.ClientID != f.env.ClientID || reg.AuthBaseURL != f.env.AuthBaseURL || reg.DevSecret != testSecret || reg.NoSignIn {
		t.Fatalf("registration %+v", reg)
	}
	env := reg.Apply(later)
	b := restoreActive(t, Options{Environment: env, DevSecret: reg.DevSecret, LockTimeout: -1, ERS: ersWith(env, ers.Config{RateLimit: 1000, MaxRetries: -1})}, id, "later command")
	if _, err := b.ERS().WithIdentity(id).PractitionerRoles(ctx); err != nil {
		t.Fatalf("e-RS with the resumed session: %v", err)
	}

	// The same server under another client id is another registration:
	// nothing is resumed with the wrong client.
	other := f.env
	other.ClientID = "someone-else"
	c, err := New(Options{Environment: other, Exchanger: newFakeExchanger(), LockTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.SavedStatus(ctx); err != nil || st.State != StateSignedOut {
		t.Errorf("another client's saved status: %+v %v", st, err)
	}
}

// authHeaders records the Authorization header of every request.
type authHeaders struct {
	mu    sync.Mutex
	n     int
	auths []string
}

func (h *authHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.n++
	h.auths = append(h.auths, r.Header.Get("Authorization"))
	h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (h *authHeaders) snapshot() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n, append([]string(nil), h.auths...)
}

// An environment without sign-in (the NHS sandbox, or a local server run
// without authentication) has the same session model: "signing in" opens
// no browser and asks for no token, reads the roles (A030) and the chosen
// role is saved, so the next start resumes it without the network.
func TestNoSignInSession(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := erssandbox.Start(ctx, erssandbox.Config{Referrals: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env, _ := config.Builtin(config.EnvNHSSandbox)
	env = env.WithURLs(sb.BaseURL(), "")
	keyring.Delete(KeychainService, SessionAccount(env))
	var hl authHeaders
	o := Options{Environment: env, LockTimeout: -1, ERS: ersWith(env, ers.Config{RateLimit: 1000, MaxRetries: -1, HTTPClient: &http.Client{Transport: &hl}})}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.SignIn(ctx, func(string) error {
		t.Error("a browser was opened for an environment without sign-in")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != erssandbox.UserClinician || len(res.Roles) == 0 {
		t.Fatalf("sign-in result %+v", res)
	}
	id, err := a.ChooseRole(ctx, config.RoleChoice{ODSCode: "R69", BusinessFunction: string(triage.RoleServiceProviderClinician)})
	if err != nil || a.Status().State != StateActive {
		t.Fatalf("ChooseRole: %v %v", id, err)
	}
	n, auths := hl.snapshot()
	for _, h := range auths {
		if h != "" {
			t.Errorf("a token was sent to an environment without sign-in: %q", h)
		}
	}
	if n == 0 {
		t.Fatal("A030 was not called")
	}
	if st := a.Status(); !st.SessionExpires.IsZero() {
		t.Errorf("a session without sign-in has no end: %v", st.SessionExpires)
	}
	rec, ok := saved(t, env)
	if !ok || !rec.NoSignIn || rec.RT != "" || rec.ID != id {
		t.Fatalf("saved %+v", rec)
	}
	// Locking and signing in again resumes the same role, still without a
	// browser.
	a.Lock()
	if a.Status().State != StateLocked {
		t.Fatalf("lock: %v", a.Status().State)
	}
	res, err = a.SignIn(ctx, func(string) error { t.Error("browser opened to unlock"); return nil })
	if err != nil || !res.Resumed || a.Identity() != id {
		t.Fatalf("unlock: %+v %v", res, err)
	}
	a.Close()

	// The next start resumes it without any request.
	before, _ := hl.snapshot()
	b := restoreActive(t, o, id, "next start")
	if after, _ := hl.snapshot(); after != before {
		t.Errorf("restoring a session without sign-in made %d request(s)", after-before)
	}
	reg, found, err := SavedRegistration(ctx, OSKeyring{}, env)
	if err != nil || !found || !reg.NoSignIn {
		t.Errorf("registration %+v %v %v", reg, found, err)
	}
	if _, err := b.Logout(ctx, LogoutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := saved(t, env); ok {
		t.Error("the session is still saved after logout")
	}
}

// A session saved before sessions were keyed by server (under
// "session:<environment>:<client id>") is resumed and moved to its new
// place, so nobody has to sign in again after an update.
func TestLegacySessionIsMoved(t *testing.T) {
	env := offlineEnv("td-legacy-client")
	keyring.Delete(KeychainService, SessionAccount(env))
	now := time.Now()
	old := &record{V: recordVersion, Auth: env.AuthBaseURL, RT: "rt-legacy", RTExp: now.Add(time.Hour), Since: now, ID: clinician}
	s, err := old.encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Set(KeychainService, legacySessionAccount(env), s); err != nil {
		t.Fatal(err)
	}
	ex := newFakeExchanger("rt-legacy")
	m := newManager(t, Options{Environment: env, Exchanger: ex, LockTimeout: -1})
	st, err := m.Restore(context.Background())
	if err != nil || st.State != StateActive || st.Identity != clinician {
		t.Fatalf("restored %+v %v", st, err)
	}
	if _, err := keyring.Get(KeychainService, legacySessionAccount(env)); err != keyring.ErrNotFound {
		t.Errorf("the old item is still there: %v", err)
	}
	rec, ok := saved(t, env)
	if !ok || rec.ID != clinician || rec.RT == "" || rec.Client != env.ClientID {
		t.Errorf("moved session %+v", rec)
	}
}
