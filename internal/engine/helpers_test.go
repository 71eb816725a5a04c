package engine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// clinician is the sandbox's service provider clinician at R69.
var clinician = triage.Identity{SDSUserID: erssandbox.UserClinician, Name: "Dr Alex Carter (synthetic)",
	ODS: erssandbox.ProviderODS, BusinessFunction: triage.RoleServiceProviderClinician}

// testEnv is a sandbox, a store and an engine wired as the app wires them.
type testEnv struct {
	t       testing.TB
	sb      *erssandbox.Sandbox
	profile string
	keyfile string
	st      *store.Store
	client  *ers.Client
	pds     *pds.Client
	sess    *StaticSession
	eng     *Engine

	mu      sync.Mutex
	changes []store.Change // every store change, in commit order
	times   []time.Time    // when each change was committed
	hook    atomic.Pointer[Engine]

	runDone chan struct{}
}

type envOptions struct {
	sandbox  erssandbox.Config
	client   ers.Config
	engine   func(*Config)
	tokens   *swapTokens
	noEngine bool
	// pds reads patients from the sandbox's PDS, sharing the e-RS
	// client's rate limiter.
	pds bool
}

// newSendEnv is a test env whose engine prefetches nothing and sends one
// decision at a time, so that a test sees each send on its own.
func newSendEnv(t testing.TB, sb erssandbox.Config) *testEnv {
	t.Helper()
	return newTestEnv(t, envOptions{sandbox: sb, engine: func(c *Config) { c.NoPrefetch, c.PushWorkers = true, 1 }})
}

// newTestEnv starts a sandbox (PENDING attachments stay pending unless the
// test says otherwise) and opens a store and an engine on it.
func newTestEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if o.sandbox.PendingDelay == 0 {
		o.sandbox.PendingDelay = -1
	}
	sb, err := erssandbox.Start(ctx, o.sandbox)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	dir := t.TempDir()
	env := &testEnv{t: t, sb: sb, profile: dir, keyfile: filepath.Join(dir, "dev.key")}
	cc := o.client
	cc.BaseURL = sb.BaseURL()
	if cc.RateLimit == 0 {
		cc.RateLimit = rate.Inf
	}
	if cc.RetryBaseDelay == 0 {
		cc.RetryBaseDelay = 10 * time.Millisecond
	}
	if o.tokens != nil {
		cc.TokenSource = o.tokens
	}
	env.client, err = ers.New(cc)
	if err != nil {
		t.Fatalf("ers client: %v", err)
	}
	env.sess = NewStaticSession(clinician)
	env.openStore()
	if o.pds {
		env.pds, err = pds.New(pds.Config{BaseURL: sb.PDSBaseURL(), Limiter: env.client.Limiter(), RateLimit: rate.Inf,
			MaxRetries: -1, Logger: discardLogger()})
		if err != nil {
			t.Fatalf("pds client: %v", err)
		}
		mod := o.engine
		o.engine = func(c *Config) {
			c.PDS = env.pds
			if mod != nil {
				mod(c)
			}
		}
	}
	if !o.noEngine {
		env.newEngine(o.engine)
	}
	return env
}

func (env *testEnv) openStore() {
	env.t.Helper()
	st, err := store.Open(context.Background(), store.Options{
		ProfileDir: env.profile, UserID: clinician.SDSUserID,
		Keys:     store.DevKeyFileProvider{Path: env.keyfile, Warn: io.Discard},
		Logger:   discardLogger(),
		OnChange: env.onChange,
	})
	if err != nil {
		env.t.Fatalf("open store: %v", err)
	}
	env.st = st
	env.t.Cleanup(func() { st.Close() })
}

func (env *testEnv) onChange(c store.Change) {
	env.mu.Lock()
	env.changes = append(env.changes, c)
	env.times = append(env.times, time.Now())
	env.mu.Unlock()
	if e := env.hook.Load(); e != nil {
		e.StoreChanged(c)
	}
}

// newEngine builds the engine with fast test timings.
func (env *testEnv) newEngine(mod func(*Config)) *Engine {
	env.t.Helper()
	cfg := Config{Store: env.st, Client: env.client, Session: env.sess, Logger: discardLogger(),
		RetryBase: 20 * time.Millisecond, RetryCap: 500 * time.Millisecond,
		ProbeMin: 20 * time.Millisecond, ProbeMax: 200 * time.Millisecond, PushCheckInterval: 200 * time.Millisecond,
		RetentionInterval: -1}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		env.t.Fatalf("new engine: %v", err)
	}
	env.eng = e
	env.hook.Store(e)
	env.t.Cleanup(func() { e.Close() })
	return e
}

// run starts the engine's services; Close (in cleanup or by the test) joins
// them.
func (env *testEnv) run() {
	env.runDone = make(chan struct{})
	e := env.eng
	go func() {
		defer close(env.runDone)
		if err := e.Run(context.Background()); err != nil {
			env.t.Errorf("run: %v", err)
		}
	}()
}

func (env *testEnv) storeChanges() []store.Change {
	env.mu.Lock()
	defer env.mu.Unlock()
	return append([]store.Change(nil), env.changes...)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// swapTokens is a token source whose token the test replaces, as a new
// sign-in would, or which revokes itself when a condition first holds.
type swapTokens struct {
	mu     sync.Mutex
	tok    string
	revoke func() bool // checked on every Token call until it holds
}

func (s *swapTokens) set(tok string) {
	s.mu.Lock()
	s.tok, s.revoke = tok, nil
	s.mu.Unlock()
}

// revokeWhen makes the token a revoked one from the first request made once
// cond holds: the session ends exactly there, as the platform would end it,
// however the test's goroutines are scheduled.
func (s *swapTokens) revokeWhen(cond func() bool) {
	s.mu.Lock()
	s.revoke = cond
	s.mu.Unlock()
}

func (s *swapTokens) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoke != nil && s.revoke() {
		s.tok, s.revoke = "revoked-token", nil
	}
	return &oauth2.Token{AccessToken: s.tok, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}

// discardLogger drops logs unless TRIAGEDESK_TEST_LOG is set.
func discardLogger() *slog.Logger {
	if os.Getenv("TRIAGEDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
