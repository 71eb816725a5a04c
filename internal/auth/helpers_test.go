package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// realKeyringChild is set in the environment of the child process that
// runs TestRealKeychainChild against the OS keychain.
const realKeyringChild = "TRIAGEDESK_AUTH_REAL_KEYRING_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(realKeyringChild) == "" {
		// Every other test talks to go-keyring's in-memory mock.
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

const testSecret = "test-client-secret"

// tokenCalls counts token requests by grant type, passing them on.
type tokenCalls struct {
	mu     sync.Mutex
	grants map[string]int
	forms  []url.Values
	next   http.RoundTripper
}

func newTokenCalls() *tokenCalls {
	return &tokenCalls{grants: map[string]int{}, next: http.DefaultTransport}
}

func (c *tokenCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		f, _ := url.ParseQuery(string(b))
		c.mu.Lock()
		c.grants[f.Get("grant_type")]++
		c.forms = append(c.forms, f)
		c.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

func (c *tokenCalls) count(grant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grants[grant]
}

func (c *tokenCalls) lastForm() url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.forms) == 0 {
		return nil
	}
	return c.forms[len(c.forms)-1]
}

// fixture is an in-process e-RS sandbox with authentication on and its
// mock OAuth2 server registered for a loopback callback on a free port.
type fixture struct {
	sb    *erssandbox.Sandbox
	env   config.Environment
	port  int
	calls *tokenCalls
}

type sandboxOption func(*erssandbox.Config)

func newFixture(t *testing.T, opts ...sandboxOption) *fixture {
	t.Helper()
	port := testutil.FreeLoopbackPort(t)
	clientID := "td-test-" + strings.ToLower(rand.Text()[:10]) // a keychain account of its own
	cfg := erssandbox.Config{Auth: true, Referrals: 3, ClientID: clientID, ClientSecret: testSecret,
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", port)}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := erssandbox.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sb.Close() })
	env, _ := config.Builtin(config.EnvLocal)
	env = env.WithURLs(sb.BaseURL(), sb.AuthBaseURL())
	env.ClientID = clientID
	env.RedirectPort = port
	return &fixture{sb: sb, env: env, port: port, calls: newTokenCalls()}
}

// options returns Manager options for the fixture: the direct exchanger with
// the sandbox's secret (counted), no inactivity lock, a fast e-RS client.
func (f *fixture) options() Options {
	return Options{
		Environment: f.env,
		Exchanger:   NewDirectExchanger(f.env, StaticSecret(testSecret), &http.Client{Transport: f.calls}),
		LockTimeout: -1,
		ERS:         ersWith(f.env, ers.Config{RateLimit: 1000, MaxRetries: -1}),
	}
}

// managerFor is f.manager for env (the fixture's, with another Secret), with
// the exchanger that env's Secret says (keychain, broker).
func (f *fixture) managerFor(t *testing.T, env config.Environment) *Manager {
	t.Helper()
	return f.manager(t, func(o *Options) { o.Environment, o.Exchanger = env, nil })
}

// newManager builds a Manager from o, closed when the test ends.
func newManager(t testing.TB, o Options) *Manager {
	t.Helper()
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func (f *fixture) manager(t *testing.T, mod ...func(*Options)) *Manager {
	t.Helper()
	o := f.options()
	for _, fn := range mod {
		fn(&o)
	}
	return newManager(t, o)
}

// browser plays the system browser asynchronously, as a real one does:
// SignIn's openBrowser returns at once and the "browser" follows the
// authorize URL (after tamper, if set) with login_hint and lands on the
// loopback callback. Its outcome arrives on done; the last authorize URL
// it was given is in url.
type browser struct {
	user   string
	tamper func(q url.Values)
	done   chan error
	mu     sync.Mutex
	url    string
}

func newBrowser(user string) *browser { return &browser{user: user, done: make(chan error, 4)} }

func (b *browser) open(authURL string) error {
	b.mu.Lock()
	b.url = authURL
	b.mu.Unlock()
	if b.tamper != nil {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		b.tamper(q)
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	go func() { b.done <- LoginHintBrowser(nil, b.user)(authURL) }()
	return nil
}

func (b *browser) lastURL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.url
}

// result waits for the browser's outcome.
func (b *browser) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-b.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the test browser did not finish")
		return nil
	}
}

// signIn signs user in with the fixture's browser and returns the result.
func signIn(t *testing.T, m *Manager, user string) *SignInResult {
	t.Helper()
	b := newBrowser(user)
	res, err := m.SignIn(context.Background(), b.open)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if err := b.result(t); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return res
}

// signInAs signs in and chooses the role.
func signInAs(t *testing.T, m *Manager, user, ods string, bf triage.BusinessFunction) triage.Identity {
	t.Helper()
	signIn(t, m, user)
	id, err := m.ChooseRole(context.Background(), config.RoleChoice{ODSCode: ods, BusinessFunction: string(bf)})
	if err != nil {
		t.Fatalf("ChooseRole: %v", err)
	}
	return id
}

// saved reads the manager's keychain item.
func saved(t *testing.T, env config.Environment) (*record, bool) {
	t.Helper()
	s, err := keyring.Get(KeychainService, SessionAccount(env))
	if err == keyring.ErrNotFound {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeRecord(s)
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

func save(t *testing.T, env config.Environment, r *record) {
	t.Helper()
	s, err := r.encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Set(KeychainService, SessionAccount(env), s); err != nil {
		t.Fatal(err)
	}
}

// fakeExchanger issues tokens without a network, for tests of lock, logout
// and the e-RS redirect: each refresh rotates the refresh token and spends
// the old one.
type fakeExchanger struct {
	mu       sync.Mutex
	n        int
	valid    map[string]bool
	ttl      time.Duration
	refreshN int
}

func newFakeExchanger(rts ...string) *fakeExchanger {
	f := &fakeExchanger{valid: map[string]bool{}, ttl: 10 * time.Minute}
	for _, rt := range rts {
		f.valid[rt] = true
	}
	return f
}

func (f *fakeExchanger) issue() *TokenResponse {
	f.n++
	rt := fmt.Sprintf("rt-issued-%d", f.n)
	f.valid[rt] = true
	return &TokenResponse{AccessToken: fmt.Sprintf("at-%d", f.n), TokenType: "Bearer", Expiry: time.Now().Add(f.ttl),
		RefreshToken: rt, RefreshExpiresIn: 12 * time.Hour, RefreshCount: f.n}
}

func (f *fakeExchanger) Exchange(context.Context, string, string, string) (*TokenResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issue(), nil
}

func (f *fakeExchanger) Refresh(_ context.Context, rt string) (*TokenResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshN++
	if !f.valid[rt] {
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, &OAuthError{Status: 401, Code: "invalid_grant"}, msgSignInNeeded)
	}
	delete(f.valid, rt)
	return f.issue(), nil
}

func (f *fakeExchanger) refreshes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshN
}

// offlineEnv is an environment whose servers are never contacted.
func offlineEnv(clientID string) config.Environment {
	env, _ := config.Builtin(config.EnvLocal)
	env = env.WithURLs("http://127.0.0.1:1/FHIR", "http://127.0.0.1:1/oauth2-mock")
	env.ClientID = clientID
	return env
}

var clinician = triage.Identity{SDSUserID: "910000000101", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician}

// seedSession saves an active session with refresh token rt for env.
func seedSession(t *testing.T, env config.Environment, rt string, id triage.Identity) {
	t.Helper()
	now := time.Now()
	save(t, env, &record{V: recordVersion, Auth: env.AuthBaseURL, RT: rt, RTExp: now.Add(12 * time.Hour), Since: now, ID: id})
}

// statusLog records OnChange calls.
type statusLog struct {
	mu sync.Mutex
	st []Status
}

func (l *statusLog) add(s Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st = append(l.st, s)
}

func (l *statusLog) count(s State) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.st {
		if x.State == s {
			n++
		}
	}
	return n
}

// tokenOf is a token from m's source, failing the test on error.
func tokenOf(t *testing.T, m *Manager) *oauth2.Token {
	t.Helper()
	tok, err := m.TokenSource().Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// ersWith builds the e-RS client as the app does: env's base URL, cfg's
// settings and the session's tokens.
func ersWith(env config.Environment, cfg ers.Config) ERSFactory {
	return func(tokens oauth2.TokenSource) (*ers.Client, error) {
		cfg.BaseURL, cfg.TokenSource = env.FHIRBaseURL, tokens
		return ers.New(cfg)
	}
}

// restoreActive builds a Manager from o (closed when the test ends) and
// restores the saved session, which must come back active as id.
func restoreActive(t *testing.T, o Options, id triage.Identity, what string) *Manager {
	t.Helper()
	m := newManager(t, o)
	st, err := m.Restore(context.Background())
	if err != nil || st.State != StateActive || st.Identity != id {
		t.Fatalf("%s: restored %+v %v", what, st, err)
	}
	return m
}
