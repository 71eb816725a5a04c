package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// bearerLog records the Authorization header of every request.
type bearerLog struct {
	mu      sync.Mutex
	bearers []string
}

func (b *bearerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	b.bearers = append(b.bearers, r.Header.Get("Authorization"))
	b.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (b *bearerLog) sent() (requests int, withToken int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.bearers {
		if h != "" {
			withToken++
		}
	}
	return len(b.bearers), withToken
}

// standalone starts an e-RS sandbox on loopback, as `triagectl sandbox`
// does, with authentication on or off.
func standalone(t *testing.T, cfg erssandbox.Config) *erssandbox.Sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if cfg.Referrals == 0 {
		cfg.Referrals = 6
	}
	sb, err := erssandbox.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sb.Close() })
	return sb
}

func envOptions(dir string, choice config.EnvironmentChoice, hc *http.Client) Options {
	return Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"), Override: &choice,
		LockTimeout: -1, HTTPClient: hc, KeyWarn: io.Discard}
}

// firstBooked returns a booked referral of the synced worklist.
func firstBooked(t *testing.T, a *Workspace) string {
	t.Helper()
	wl, err := a.ReviewList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment {
			return r.UBRN
		}
	}
	t.Fatal("no booked referral in the worklist")
	return ""
}

// sentOnce checks that the sandbox's write log holds the decision exactly
// once, applied.
func sentOnce(t *testing.T, sb *erssandbox.Sandbox, op, ubrn string) {
	t.Helper()
	n := 0
	for _, w := range sb.Stats().Writes {
		if w.UBRN == ubrn {
			n++
			if w.Op != op || !w.Applied {
				t.Errorf("write %+v", w)
			}
		}
	}
	if n != 1 {
		t.Errorf("%s reached the sandbox %d times, want once", ubrn, n)
	}
}

// The NHS sandbox (here a copy on a loopback address over plain http) has
// no sign-in: the whole engine runs there without one. Opening it reads the
// roles without a browser or token, sync downloads the worklist, a decision
// is queued and sent, and no request ever carries a token.
func TestNHSSandboxRunsTheWholeEngineWithoutSignIn(t *testing.T) {
	freshKeychain(t)
	sb := standalone(t, erssandbox.Config{})
	var bl bearerLog
	dir := t.TempDir()
	o := envOptions(dir, config.EnvironmentChoice{Name: config.EnvNHSSandbox, FHIRBaseURL: sb.BaseURL()}, &http.Client{Transport: &bl})
	ctx := context.Background()
	a, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer a.Close()
	if a.client == nil || a.engine == nil {
		t.Fatal("no e-RS client or engine")
	}
	if st := a.runtime.Status(); st.State != auth.StateActive || !st.NoSignIn || st.Identity.ODS != erssandbox.ProviderODS {
		t.Fatalf("status %+v", st)
	}
	syncOnce(t, a)
	ubrn := firstBooked(t, a)
	id := accept(t, a, ubrn)
	syncOnce(t, a)
	if st := entryState(t, a, id); st != triage.OutboxSent {
		t.Fatalf("decision is %s, want sent", st)
	}
	sentOnce(t, sb, "A013", ubrn)
	if n, tok := bl.sent(); n == 0 || tok != 0 {
		t.Errorf("%d requests, %d with a token", n, tok)
	}
	a.Close()

	// The chosen role is kept: the next command resumes it offline.
	o.Offline = true
	b, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("reopen offline: %v", err)
	}
	defer b.Close()
	if en, err := b.store.Entry(ctx, id); err != nil || en.State != triage.OutboxSent {
		t.Fatalf("entry after reopening: %+v %v", en, err)
	}
}

// A session made against a local development server is found again by every
// later command that names the same server, whatever client id and secret
// it was made with: they are saved with it, and renewing the session uses
// them.
func TestLocalSessionFoundWithTheSameFlags(t *testing.T) {
	freshKeychain(t)
	port := freePort(t)
	const clientID, secret = "my-local-client", "my-local-secret"
	sb := standalone(t, erssandbox.Config{Auth: true, ClientID: clientID, ClientSecret: secret,
		RedirectURI: "http://127.0.0.1:" + port + "/callback"})
	tr := newTraffic()
	dir := t.TempDir()
	choice := config.EnvironmentChoice{Name: config.EnvLocal, FHIRBaseURL: sb.BaseURL()}
	ctx := context.Background()

	o := envOptions(dir, choice, tr.client())
	o.ClientID, o.ClientSecret, o.RedirectPort = clientID, secret, atoi(t, port)
	rt, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.SignIn(ctx, auth.LoginHintBrowser(tr.client(), erssandbox.UserClinician)); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if _, err := rt.ChooseRole(ctx, config.RoleChoice{ODSCode: erssandbox.ProviderODS, BusinessFunction: string(triage.RoleServiceProviderClinician)}); err != nil {
		t.Fatal(err)
	}
	rt.Close()

	// A later command: only --env and --base-url.
	later := envOptions(dir, choice, tr.client())
	a, err := Open(ctx, later)
	if err != nil {
		t.Fatalf("open with the same flags: %v", err)
	}
	defer a.Close()
	if a.Environment.ClientID != clientID {
		t.Errorf("client id %q", a.Environment.ClientID)
	}
	if len(tr.grants("refresh_token")) == 0 {
		t.Error("the saved session was not renewed")
	}
	syncOnce(t, a)
	ubrn := firstBooked(t, a)
	accept(t, a, ubrn)
	syncOnce(t, a)
	sentOnce(t, sb, "A013", ubrn)
	for _, f := range tr.grants("refresh_token") {
		if f.Get("client_id") != clientID || f.Get("client_secret") != secret {
			t.Errorf("refreshed as %q with secret %q", f.Get("client_id"), f.Get("client_secret"))
		}
	}
}

// A local server without sign-in: signing in once with NoSignIn saves a
// session without tokens, which later commands with the same --env and
// --base-url find, and the engine runs without a token.
func TestLocalServerWithoutSignIn(t *testing.T) {
	freshKeychain(t)
	sb := standalone(t, erssandbox.Config{})
	var bl bearerLog
	dir := t.TempDir()
	choice := config.EnvironmentChoice{Name: config.EnvLocal, FHIRBaseURL: sb.BaseURL()}
	ctx := context.Background()

	// Without a saved session or NoSignIn, the local server needs a sign-in.
	_, err := Open(ctx, envOptions(dir, choice, &http.Client{Transport: &bl}))
	if triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED || !errors.Is(err, auth.ErrNotSignedIn) {
		t.Fatalf("open before sign-in: %v", err)
	}

	o := envOptions(dir, choice, &http.Client{Transport: &bl})
	o.NoSignIn = true
	rt, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.AutoSignIn(ctx); err != nil {
		t.Fatalf("sign in without sign-in: %v", err)
	}
	rt.Close()

	a, err := Open(ctx, envOptions(dir, choice, &http.Client{Transport: &bl}))
	if err != nil {
		t.Fatalf("open with the same flags: %v", err)
	}
	defer a.Close()
	syncOnce(t, a)
	ubrn := firstBooked(t, a)
	accept(t, a, ubrn)
	syncOnce(t, a)
	sentOnce(t, sb, "A013", ubrn)
	if n, tok := bl.sent(); n == 0 || tok != 0 {
		t.Errorf("%d requests, %d with a token", n, tok)
	}

	// NoSignIn is for local development servers only.
	bad := envOptions(t.TempDir(), config.EnvironmentChoice{Name: config.EnvInt}, nil)
	bad.NoSignIn = true
	if _, err := Start(ctx, bad); err == nil || !strings.Contains(triage.ErrorMessage(err), "local") {
		t.Errorf("NoSignIn for INT: %v", err)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	p, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(p)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The synthetic environments share their test users and, from the same
// seed, their UBRNs. Each environment (and each server) keeps its own data,
// so a decision queued in the demo is never sent to a local server that
// happens to have a referral with the same UBRN, and is still in the demo
// afterwards.
func TestEnvironmentsKeepTheirDataApart(t *testing.T) {
	freshKeychain(t)
	dir := t.TempDir()
	ctx := context.Background()
	tr := newTraffic()
	demo := demoOptions(dir, tr)
	demo.DemoReferrals = 6
	a, err := Open(ctx, demo)
	if err != nil {
		t.Fatalf("open the demo: %v", err)
	}
	syncOnce(t, a)
	ubrn := firstBooked(t, a)
	id := accept(t, a, ubrn)
	a.Close()

	sb := standalone(t, erssandbox.Config{})
	if _, err := sb.Referral(ubrn); err != nil {
		t.Fatalf("the local server has no referral %s: the test needs the same UBRNs (%v)", ubrn, err)
	}
	local := envOptions(dir, config.EnvironmentChoice{Name: config.EnvLocal, FHIRBaseURL: sb.BaseURL()}, nil)
	local.NoSignIn = true
	b, err := Open(ctx, local)
	if err != nil {
		t.Fatalf("open the local server: %v", err)
	}
	if b.User() != a.User() {
		t.Fatalf("the test needs the same user in both: %s and %s", a.User(), b.User())
	}
	es, err := b.store.Entries(ctx, store.EntryFilter{})
	if err != nil || len(es) != 0 {
		t.Fatalf("the local server's outbox holds %d entries (%v)", len(es), err)
	}
	syncOnce(t, b)
	if w := sb.Stats().Writes; len(w) != 0 {
		t.Fatalf("the demo's decision was sent to the local server: %+v", w)
	}
	b.Close()

	demo.Offline = true
	c, err := Open(ctx, demo)
	if err != nil {
		t.Fatalf("reopen the demo: %v", err)
	}
	defer c.Close()
	if st := entryState(t, c, id); st != triage.OutboxQueued {
		t.Errorf("the demo's decision is %s, want still queued", st)
	}
}
