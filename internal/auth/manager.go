package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/defaults"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Defaults of Options.
const (
	// DefaultLockTimeout locks the session after 15 minutes without
	// activity (the machine policy's lock_timeout_minutes changes it).
	DefaultLockTimeout = time.Duration(config.DefaultLockTimeoutMinutes) * time.Minute
	// DefaultSessionCap is the longest a session lasts from sign-in,
	// whatever the server says: the platform's CIS2 refresh tokens last
	// 12 hours from sign-in.
	DefaultSessionCap = 12 * time.Hour
	// DefaultEarlyExpiry renews the access token this long before it
	// expires.
	DefaultEarlyExpiry = 60 * time.Second
	// Scope is sent on the authorize request; the platform uses it to
	// choose NHS CIS2 (rather than NHS login) as the identity provider.
	Scope = "nhs-cis2"

	refreshTimeout = 45 * time.Second
)

// State is where a session stands.
type State int

// The session states.
const (
	// StateSignedOut: no session; SignIn (or Restore at start-up).
	StateSignedOut State = iota
	// StateNeedsRole: signed in, but no organisation and business function
	// chosen yet. The token source works for A030 and A040 only; call
	// ChooseRole.
	StateNeedsRole
	// StateActive: signed in with a role; e-RS may be called.
	StateActive
	// StateLocked: locked after inactivity or by the app; tokens are gone
	// from memory and the keychain. Hide patient data; SignIn unlocks.
	StateLocked
	// StateSignInNeeded: the platform ended the session (refresh token
	// refused, or the session's time limit was reached). Sign in again;
	// queued work is kept.
	StateSignInNeeded
)

// String names the state.
func (s State) String() string {
	switch s {
	case StateSignedOut:
		return "signed-out"
	case StateNeedsRole:
		return "needs-role"
	case StateActive:
		return "active"
	case StateLocked:
		return "locked"
	case StateSignInNeeded:
		return "sign-in-needed"
	}
	return "unknown"
}

// hasTokens reports whether the token source hands out tokens in s.
func (s State) hasTokens() bool { return s == StateNeedsRole || s == StateActive }

// Status is a snapshot of the session for the GUI and the engine.
type Status struct {
	State State
	// Identity is the clinician and role: complete in StateActive; the SDS
	// user id only (or nothing) in StateNeedsRole; kept in StateLocked and
	// StateSignInNeeded so the app knows whose data is open.
	Identity triage.Identity
	// Environment says where the session is; every screen shows
	// EnvironmentLabel, marked when Production is false.
	Environment      config.EnvironmentName
	EnvironmentLabel string
	Production       bool
	// SessionExpires is when the session ends and the clinician must sign
	// in again (the refresh token's absolute expiry); zero when unknown or
	// not signed in.
	SessionExpires time.Time
	// Message is a plain-English sentence for the state (why sign-in is
	// needed, that the session is locked); "" when there is nothing to say.
	Message string
	// Warning is set when the keychain could not save the session: it
	// works now but will not survive a restart.
	Warning string
	// NoSignIn is true for an environment without sign-in (the NHS
	// sandbox, or a local server run without authentication): SignIn opens
	// no browser and asks for no token; it only reads the roles.
	NoSignIn bool
	// IdleLock is, in StateLocked, how long the session went without
	// activity when it locked itself; zero when the clinician (or the
	// operating system) locked it, or the lock was restored at start-up.
	IdleLock time.Duration
}

// Options configure New. Only Environment is required.
type Options struct {
	// Environment is where to sign in: its AuthBaseURL, ClientID, Secret,
	// RedirectPort (the callback listens on 127.0.0.1:RedirectPort/callback,
	// exactly as registered) and ACRValues. It must pass Check. The demo
	// environment needs its URLs filled in (WithURLs). An environment
	// whose NeedsToken is false has sessions without sign-in: SignIn reads
	// the roles without a browser or token, and no token is ever sent.
	Environment config.Environment
	// DevSecret is the client secret of a local development server (the
	// local environment only; EINVALID elsewhere). With Exchanger nil,
	// tokens are exchanged with it, and it is saved with the session so
	// the next command can renew the session without being given it again.
	DevSecret string
	// Keyring keeps the session; nil uses the OS keychain (OSKeyring).
	Keyring Keyring
	// Exchanger obtains tokens; nil picks it from Environment.Secret
	// (DefaultExchanger). The demo passes NewDirectExchanger with the
	// embedded sandbox's StaticSecret.
	Exchanger TokenExchanger
	// HTTPClient sends token requests when Exchanger is nil (nil: a client
	// of its own). Redirects are never followed for token requests.
	HTTPClient *http.Client
	// ERS builds the e-RS client the Manager uses for A030 and A040 (the
	// app builds it: the environment's base URL, its HTTP client and rate
	// limit). It must send tokens from the source it is given: the
	// Manager's, or nil for an environment without sign-in. Nil: no e-RS
	// client, and reading roles fails.
	ERS ERSFactory
	// Roles remembers each clinician's chosen role; nil remembers nothing.
	Roles RoleMemory
	// AllowedODS reports whether the policy lets Triage Desk act for an
	// organisation (config.Settings.ODSAllowed); nil allows any.
	AllowedODS func(ods string) bool
	// LockTimeout locks the session after this long without Touch (0:
	// DefaultLockTimeout; negative: never, for command-line tools).
	LockTimeout time.Duration
	// CallbackTimeout is how long SignIn waits for the browser (0:
	// DefaultCallbackTimeout).
	CallbackTimeout time.Duration
	// SessionCap bounds a session from sign-in (0: DefaultSessionCap).
	SessionCap time.Duration
	// EarlyExpiry renews the access token this long before it expires (0:
	// DefaultEarlyExpiry).
	EarlyExpiry time.Duration
	// Clock is the time (nil: time.Now), for session expiry and
	// inactivity. The inactivity timer runs on real timers, so tests of the
	// lock use testing/synctest.
	Clock func() time.Time
	// Logger receives state changes and failures (never tokens, codes or
	// patient data); nil discards.
	Logger *slog.Logger
	// OnChange is called after every state change with the new status, on
	// whichever goroutine made the change (the lock timer's included); the
	// GUI must move to its own goroutine. It must not block for long or
	// call back into the Manager synchronously.
	OnChange func(Status)
}

// FromConfig returns Options for the current settings of m: environment,
// remembered roles, allowed organisations and lock timeout. Fill in
// Keyring, Logger and OnChange (and, for demo, the environment's URLs and
// Exchanger) before calling New.
func FromConfig(m *config.Manager) Options {
	s := m.Settings()
	return Options{
		Environment: s.Environment,
		Roles:       ConfigRoles{M: m},
		AllowedODS:  func(ods string) bool { return m.Settings().ODSAllowed(ods) },
		LockTimeout: s.LockTimeout,
	}
}

// Manager is one environment's session: sign-in, the token source for the
// e-RS client, role choice, inactivity lock and logout. It is safe for
// concurrent use. Create one per environment with New; Close it at exit.
type Manager struct {
	env        config.Environment
	authKey    string
	account    string
	legacy     string // the account sessions were kept under before
	tokenURL   string // where tokens are exchanged ("" without sign-in)
	noSignIn   bool
	devSecret  string
	ring       Keyring
	ex         TokenExchanger
	ers        *ers.Client
	roles      RoleMemory
	allowed    func(string) bool
	lockAfter  time.Duration
	cbTimeout  time.Duration
	sessionCap time.Duration
	early      time.Duration
	now        func() time.Time
	log        *slog.Logger
	onChange   func(Status)
	ts         *sessionTokenSource

	bg     context.Context
	cancel context.CancelFunc

	signMu     sync.Mutex   // one sign-in at a time
	saveMu     sync.Mutex   // orders keychain writes
	lastActive atomic.Int64 // unix nanoseconds of the last Touch

	mu      sync.Mutex
	closed  bool
	state   State
	gen     uint64 // bumped on every change of tokens; stale work is dropped
	id      triage.Identity
	rt      string
	rtExp   time.Time
	since   time.Time
	src     oauth2.TokenSource
	opts    []RoleOption // A030, once read in this session
	message string
	warning string
	timer   *time.Timer
	// idleLock is the inactivity timeout when the session locked itself
	// for inactivity; zero after Lock.
	idleLock time.Duration
}

// New returns a signed-out Manager for o.Environment; call Restore at
// start-up. Errors: EINVALID *triage.Error for an environment that needs no
// sign-in or fails Environment.Check, or an unknown secret source; the
// e-RS client's configuration errors.
func New(o Options) (*Manager, error) {
	env := o.Environment
	if err := env.Check(); err != nil {
		return nil, err
	}
	if o.DevSecret != "" && env.Name != config.EnvLocal {
		return nil, triage.Errorf(triage.EINVALID, "A client secret can be given for a local development server only; for %s your IT team sets it up in the machine policy.", env.Label)
	}
	m := &Manager{
		env: env, account: SessionAccount(env), legacy: legacySessionAccount(env), ring: o.Keyring, ex: o.Exchanger, roles: o.Roles,
		allowed: o.AllowedODS, lockAfter: o.LockTimeout, cbTimeout: o.CallbackTimeout,
		sessionCap: o.SessionCap, early: o.EarlyExpiry, now: o.Clock, log: o.Logger, onChange: o.OnChange,
		noSignIn: !env.NeedsToken, devSecret: o.DevSecret,
	}
	m.authKey, m.tokenURL = env.AuthBaseURL, env.TokenURL()
	switch {
	case m.noSignIn:
		m.authKey, m.tokenURL, m.legacy = "none", "", ""
	case env.Name == config.EnvDemo:
		// The embedded sandbox listens on a new port each run.
		m.authKey = "demo"
	case env.Secret.Kind == config.SecretBroker:
		m.authKey += " via " + env.Secret.BrokerURL
		m.tokenURL = strings.TrimRight(env.Secret.BrokerURL, "/") + BrokerTokenPath
	}
	if m.legacy == m.account {
		m.legacy = ""
	}
	if m.ring == nil {
		m.ring = OSKeyring{}
	}
	defaults.Zero(&m.lockAfter, DefaultLockTimeout)
	defaults.Positive(&m.cbTimeout, DefaultCallbackTimeout)
	defaults.Positive(&m.sessionCap, DefaultSessionCap)
	defaults.Positive(&m.early, DefaultEarlyExpiry)
	if m.now == nil {
		m.now = time.Now
	}
	defaults.Zero(&m.log, slog.New(slog.DiscardHandler))
	m.log = m.log.With("component", "auth", "env", string(env.Name))
	switch {
	case m.noSignIn:
		m.ex = nil
	case m.ex == nil && m.devSecret != "":
		m.ex = NewDirectExchanger(env, StaticSecret(m.devSecret), o.HTTPClient)
	case m.ex == nil:
		ex, err := DefaultExchanger(env, m.ring, o.HTTPClient)
		if err != nil {
			return nil, err
		}
		m.ex = ex
	}
	m.ts = &sessionTokenSource{m: m}
	if o.ERS != nil {
		var ts oauth2.TokenSource = m.ts
		if m.noSignIn {
			// Nothing to send: the server has no sign-in.
			ts = nil
		}
		c, err := o.ERS(ts)
		if err != nil {
			return nil, fmt.Errorf("auth: e-RS client: %w", err)
		}
		m.ers = c
	}
	m.bg, m.cancel = context.WithCancel(context.Background())
	m.lastActive.Store(m.now().UnixNano())
	return m, nil
}

// Environment returns the environment the Manager signs in to.
func (m *Manager) Environment() config.Environment { return m.env }

// ERSFactory builds an e-RS client that sends bearer tokens from tokens
// (nil: none).
type ERSFactory func(tokens oauth2.TokenSource) (*ers.Client, error)

// ERS returns the e-RS client the Manager uses for A030 and A040 (nil
// without Options.ERS). It sends
// the Manager's tokens and no identity headers; the app may use it with
// WithIdentity(m.Identity()).
func (m *Manager) ERS() *ers.Client { return m.ers }

// NoSignIn reports whether the environment has no sign-in: sessions hold
// a role and no tokens, and the e-RS client must be built without a token
// source.
func (m *Manager) NoSignIn() bool { return m.noSignIn }

// TokenSource returns the bearer-token source for the e-RS client
// (ers.Config.TokenSource). It is the same value for the Manager's life.
// Token fails with ErrLocked, ErrSignInNeeded or ErrNotSignedIn (in
// *triage.Error values) when the session has no tokens, without any
// network call; a refresh that fails for the network is
// ErrTokenServiceUnavailable and may be retried.
func (m *Manager) TokenSource() oauth2.TokenSource { return m.ts }

// Status returns the session's current status.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked()
}

// Identity returns the clinician and role the session acts as, or the zero
// Identity unless the session is StateActive. The engine sends a decision
// only when Identity().SameUser(decision.By).
func (m *Manager) Identity() triage.Identity {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != StateActive {
		return triage.Identity{}
	}
	return m.id
}

func (m *Manager) statusLocked() Status {
	s := Status{State: m.state, Identity: m.id, Environment: m.env.Name, EnvironmentLabel: m.env.Label,
		Production: m.env.Production, Message: m.message, Warning: m.warning, NoSignIn: m.noSignIn}
	if m.state.hasTokens() {
		s.SessionExpires = m.rtExp
	}
	if m.state == StateLocked {
		s.IdleLock = m.idleLock
	}
	return s
}

func (m *Manager) notify(s Status) {
	if m.onChange != nil {
		m.onChange(s)
	}
}

// Close stops the inactivity timer and drops tokens from memory at exit.
// The saved session stays in the keychain for the next start. The Manager
// cannot be used afterwards.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.gen++
	m.state, m.rt, m.src, m.opts = StateSignedOut, "", nil, nil
	m.stopTimerLocked()
	m.mu.Unlock()
	m.cancel()
}
