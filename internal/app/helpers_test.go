package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestMain(m *testing.M) {
	// Every test talks to go-keyring's in-memory mock, never the OS keychain.
	keyring.MockInit()
	os.Exit(m.Run())
}

// freshKeychain empties the mock keychain, so no session or key is left
// over from another test.
func freshKeychain(t *testing.T) {
	t.Helper()
	keyring.MockInit()
	t.Cleanup(keyring.MockInit)
}

// traffic is the network as the tests see it: every request Triage Desk
// makes passes through it. It records the authorize requests, the token
// requests' forms, which clinician each issued token belongs to, and, for
// every e-RS write, the clinician whose token it carried.
type traffic struct {
	mu        sync.Mutex
	authorize []url.Values
	forms     []url.Values
	owner     map[string]string // access or refresh token -> SDS user id
	signingIn string            // login_hint of the latest authorize request
	writes    []write
}

type write struct {
	path string
	user string // "" when the token belongs to nobody known
}

func newTraffic() *traffic { return &traffic{owner: map[string]string{}} }

func (tr *traffic) client() *http.Client { return &http.Client{Transport: tr} }

func (tr *traffic) RoundTrip(r *http.Request) (*http.Response, error) {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/authorize"):
		q := r.URL.Query()
		tr.mu.Lock()
		tr.authorize = append(tr.authorize, q)
		tr.signingIn = q.Get("login_hint")
		tr.mu.Unlock()
	case strings.HasSuffix(p, "/token") && r.Method == http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(rb))
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.Unmarshal(rb, &tok)
		tr.mu.Lock()
		tr.forms = append(tr.forms, form)
		user := tr.signingIn
		if form.Get("grant_type") == "refresh_token" {
			user = tr.owner[form.Get("refresh_token")]
		}
		if tok.AccessToken != "" {
			tr.owner[tok.AccessToken], tr.owner[tok.RefreshToken] = user, user
		}
		tr.mu.Unlock()
		return resp, nil
	case r.Method == http.MethodPost && strings.Contains(p, "/$ers.") && !strings.Contains(p, "generateCRI"):
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		tr.mu.Lock()
		tr.writes = append(tr.writes, write{path: p, user: tr.owner[bearer]})
		tr.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// writers returns, for each write to the referral, whose token it carried.
func (tr *traffic) writers(ubrn string) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, w := range tr.writes {
		if strings.Contains(w.path, "/ReferralRequest/"+ubrn+"/") {
			out = append(out, w.user)
		}
	}
	return out
}

// grants returns the token requests of a grant type.
func (tr *traffic) grants(kind string) []url.Values {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []url.Values
	for _, f := range tr.forms {
		if f.Get("grant_type") == kind {
			out = append(out, f)
		}
	}
	return out
}

func (tr *traffic) authorizeRequests() []url.Values {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]url.Values(nil), tr.authorize...)
}

// demoOptions are Options for a demo Runtime in dir whose traffic passes
// through tr, with no inactivity lock.
func demoOptions(dir string, tr *traffic) Options {
	return Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"), DemoReferrals: 30,
		LockTimeout: -1, HTTPClient: tr.client(), KeyWarn: io.Discard}
}

func start(t *testing.T, o Options) *Runtime {
	t.Helper()
	rt, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func openWorkspace(t *testing.T, rt *Runtime) *Workspace {
	t.Helper()
	a, err := rt.OpenWorkspace(context.Background())
	if err != nil {
		t.Fatalf("open workspace: %v", err)
	}
	return a
}

// demoWorkspace starts a Runtime with o, signs in to its demo and opens the
// workspace.
func demoWorkspace(t *testing.T, o Options) (*Runtime, *Workspace) {
	t.Helper()
	rt := start(t, o)
	if _, err := rt.DemoSignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rt, openWorkspace(t, rt)
}

// syncedDemo starts the demo on a fresh keychain with its traffic
// recorded, signs in, opens the workspace and syncs it once.
func syncedDemo(t *testing.T) (*Runtime, *Workspace, *traffic) {
	t.Helper()
	freshKeychain(t)
	tr := newTraffic()
	rt, a := demoWorkspace(t, demoOptions(t.TempDir(), tr))
	syncOnce(t, a)
	return rt, a, tr
}

func syncOnce(t *testing.T, a *Workspace) {
	t.Helper()
	if _, err := a.engine.SyncOnce(context.Background(), nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// booked returns the UBRNs of the synced worklist's booked referrals, which
// Accept fits, in worklist order.
func booked(t *testing.T, a *Workspace) []string {
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
	if len(out) < 2 {
		t.Fatalf("only %d booked referrals in the demo worklist", len(out))
	}
	return out
}

func accept(t *testing.T, a *Workspace, ubrn string) string {
	t.Helper()
	en, err := a.Decide(context.Background(), triage.Decision{Kind: triage.DecisionAccept, UBRN: ubrn})
	if err != nil {
		t.Fatalf("decide %s: %v", ubrn, err)
	}
	if en.State != triage.OutboxQueued {
		t.Fatalf("decision %s is %s, want queued", ubrn, en.State)
	}
	return en.ID
}

func entryState(t *testing.T, a *Workspace, id string) triage.OutboxState {
	t.Helper()
	en, err := a.store.Entry(context.Background(), id)
	if err != nil {
		t.Fatalf("entry %s: %v", id, err)
	}
	return en.State
}

// eventually polls cond until it holds or the wait is over.
func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runEngine runs the workspace's engine until the test ends.
func runEngine(t *testing.T, a *Workspace) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.engine.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done // nil, or an error when the workspace was closed first
	})
}

// waitingAdvice returns the first row of the synced A&G worklist that waits
// for the clinician's reply and is cached (readable offline).
func waitingAdvice(t *testing.T, a *Workspace) AdviceRow {
	t.Helper()
	wl, err := a.AdviceList(context.Background())
	if err != nil {
		t.Fatalf("advice list: %v", err)
	}
	i := slices.IndexFunc(wl.Rows, func(r AdviceRow) bool { return r.Category.ResponseRequired() && r.Cached })
	if i < 0 {
		t.Fatal("no cached request needing a response")
	}
	return wl.Rows[i]
}
