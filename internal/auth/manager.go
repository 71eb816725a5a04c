package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/keychain"
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
	// ERS configures the e-RS client used for A030 and A040; BaseURL
	// defaults to Environment.FHIRBaseURL and TokenSource is always the
	// Manager's.
	ERS ers.Config
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
	if m.lockAfter == 0 {
		m.lockAfter = DefaultLockTimeout
	}
	if m.cbTimeout <= 0 {
		m.cbTimeout = DefaultCallbackTimeout
	}
	if m.sessionCap <= 0 {
		m.sessionCap = DefaultSessionCap
	}
	if m.early <= 0 {
		m.early = DefaultEarlyExpiry
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
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
	cfg := o.ERS
	if cfg.BaseURL == "" {
		cfg.BaseURL = env.FHIRBaseURL
	}
	if cfg.Logger == nil {
		cfg.Logger = o.Logger
	}
	cfg.TokenSource = m.ts
	if m.noSignIn {
		// Nothing to send: the server has no sign-in.
		cfg.TokenSource = nil
	}
	c, err := ers.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("auth: e-RS client: %w", err)
	}
	m.ers = c
	m.bg, m.cancel = context.WithCancel(context.Background())
	m.lastActive.Store(m.now().UnixNano())
	return m, nil
}

// Environment returns the environment the Manager signs in to.
func (m *Manager) Environment() config.Environment { return m.env }

// ERS returns the e-RS client the Manager uses for A030 and A040. It sends
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
	return s
}

func (m *Manager) notify(s Status) {
	if m.onChange != nil {
		m.onChange(s)
	}
}

// Touch records user activity (a key press, click or scroll in the
// window); the session locks after LockTimeout without it. Background work
// (sync, sending) must not call it. It is cheap enough for every input
// event.
func (m *Manager) Touch() { m.lastActive.Store(m.now().UnixNano()) }

// armLocked (re)starts the inactivity timer; the caller holds m.mu.
func (m *Manager) armLocked() {
	if m.lockAfter <= 0 || m.closed {
		return
	}
	if m.timer == nil {
		m.timer = time.AfterFunc(m.lockAfter, m.idleCheck)
	} else {
		m.timer.Reset(m.lockAfter)
	}
}

func (m *Manager) stopTimerLocked() {
	if m.timer != nil {
		m.timer.Stop()
	}
}

// idleCheck runs when the timer fires: it locks after LockTimeout without
// activity, otherwise waits for the rest of it.
func (m *Manager) idleCheck() {
	idle := m.now().Sub(time.Unix(0, m.lastActive.Load()))
	if idle >= m.lockAfter {
		m.lock(fmt.Sprintf("no activity for %v", m.lockAfter))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.hasTokens() && !m.closed && m.timer != nil {
		m.timer.Reset(m.lockAfter - idle)
	}
}

// Lock locks the session at once (the OS screen locked, the computer is
// going to sleep, or the clinician chose Lock): tokens are dropped from
// memory and from the keychain item, which then records only that the
// session is locked, so a restart stays locked. The identity is kept in
// Status so the app knows whose data to hide; nothing else is touched. It
// does nothing unless the session is StateNeedsRole or StateActive.
func (m *Manager) Lock() { m.lock("locked by the app") }

func (m *Manager) lock(why string) {
	m.mu.Lock()
	if !m.state.hasTokens() || m.closed {
		m.mu.Unlock()
		return
	}
	m.gen++
	gen := m.gen
	m.state, m.rt, m.src, m.opts, m.message = StateLocked, "", nil, nil, msgLocked
	m.stopTimerLocked()
	st := m.statusLocked()
	m.mu.Unlock()
	m.log.Info("session locked", "why", why)
	_ = m.persist(m.bg, gen)
	m.notify(st)
}

// Unlock is SignIn: a locked session is unlocked by signing in again. The
// same clinician gets their role back (SignInResult.Resumed); another
// clinician replaces the locked session (SignInResult.PreviousUser).
func (m *Manager) Unlock(ctx context.Context, openBrowser func(authURL string) error) (*SignInResult, error) {
	return m.SignIn(ctx, openBrowser)
}

// installLocked starts a session with new tokens; at may be nil (the first
// Token call then redeems rt). The caller holds m.mu. It returns the new
// generation.
func (m *Manager) installLocked(at *oauth2.Token, rt string, rtExp, since time.Time, id triage.Identity, st State) uint64 {
	m.gen++
	m.state, m.id, m.rt, m.rtExp, m.since, m.message, m.opts = st, id, rt, rtExp, since, "", nil
	m.src = oauth2.ReuseTokenSourceWithExpiry(at, &refresher{m: m, gen: m.gen}, m.early)
	if m.noSignIn {
		m.src, m.rt, m.rtExp = nil, "", time.Time{}
	}
	m.armLocked()
	return m.gen
}

// sessionExpiry is when a refresh token issued at now ends: what the server
// said (or, if it said nothing, prev), never beyond since+SessionCap.
func (m *Manager) sessionExpiry(now, since time.Time, resp *TokenResponse, prev time.Time) time.Time {
	limit := since.Add(m.sessionCap)
	exp := prev
	if resp.RefreshExpiresIn > 0 {
		exp = now.Add(resp.RefreshExpiresIn)
	}
	if exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	return exp
}

// persist writes the session of generation gen to the keychain (or deletes
// it when signed out or ended). A newer generation wins: stale writes are
// skipped. Keychain writes are ordered by saveMu.
func (m *Manager) persist(ctx context.Context, gen uint64) error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		return nil
	}
	var rec *record
	switch m.state {
	case StateNeedsRole, StateActive:
		rec = m.newRecord()
		rec.RT, rec.RTExp = m.rt, m.rtExp
	case StateLocked:
		rec = m.newRecord()
		rec.Locked = true
	}
	m.mu.Unlock()
	var err error
	if rec != nil {
		var s string
		if s, err = rec.encode(); err == nil {
			_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Set(KeychainService, m.account, s) })
		}
	} else {
		_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.account) })
		if errors.Is(err, keychain.ErrNotFound) {
			err = nil
		}
		if err == nil && m.legacy != "" {
			_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.legacy) })
			if errors.Is(err, keychain.ErrNotFound) {
				err = nil
			}
		}
	}
	m.mu.Lock()
	if m.gen == gen {
		if err != nil {
			m.warning = msgKeychain
		} else if m.warning == msgKeychain {
			m.warning = ""
		}
	}
	m.mu.Unlock()
	if err != nil {
		m.log.Error("session not saved to the keychain", "err", err)
		return err
	}
	return nil
}

// newRecord is the keychain item for the session without its tokens:
// who, since when, and how it was made. The caller holds m.mu.
func (m *Manager) newRecord() *record {
	return &record{V: recordVersion, Auth: m.authKey, Since: m.since, ID: m.id,
		Client: m.env.ClientID, Token: m.tokenURL, FHIR: m.env.FHIRBaseURL, NoSignIn: m.noSignIn, DevSecret: m.devSecret}
}

// matches reports whether a saved session was made with this Manager's
// sign-in: the same sign-in service (or none) and client id.
func (m *Manager) matches(rec *record) bool {
	if rec.Auth != m.authKey || rec.NoSignIn != m.noSignIn {
		return false
	}
	return m.noSignIn || rec.Client == "" || rec.Client == m.env.ClientID
}

// load reads the saved session, from where sessions were kept before they
// were keyed by server when there is none (legacy true). Errors:
// keychain.ErrNotFound, ErrKeychainUnavailable, or a decoding error.
func (m *Manager) load(ctx context.Context) (rec *record, legacy bool, err error) {
	s, err := keychain.Do(ctx, func() (string, error) { return m.ring.Get(KeychainService, m.account) })
	if errors.Is(err, keychain.ErrNotFound) && m.legacy != "" {
		legacy = true
		s, err = keychain.Do(ctx, func() (string, error) { return m.ring.Get(KeychainService, m.legacy) })
	}
	if err != nil {
		return nil, legacy, err
	}
	rec, err = decodeRecord(s)
	return rec, legacy, err
}

// deleteSaved removes the saved session, wherever it is kept.
func (m *Manager) deleteSaved(ctx context.Context) {
	for _, acc := range []string{m.account, m.legacy} {
		if acc == "" {
			continue
		}
		_, err := keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, acc) })
		if err != nil && !errors.Is(err, keychain.ErrNotFound) {
			m.log.Error("saved session not removed", "err", err)
		}
	}
}

// moveLegacy moves a session found under the legacy account to the
// current one.
func (m *Manager) moveLegacy(ctx context.Context, rec *record) {
	s, err := rec.encode()
	if err == nil {
		_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Set(KeychainService, m.account, s) })
	}
	if err != nil {
		m.log.Warn("saved session not moved to its new keychain item", "err", err)
		return
	}
	_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.legacy) })
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		m.log.Warn("old keychain item of the session not removed", "err", err)
	}
	m.log.Info("saved session moved to its new keychain item")
}

func hasRole(id triage.Identity) bool {
	return id.SDSUserID != "" && id.ODS != "" && id.BusinessFunction != ""
}

func choiceOf(id triage.Identity) config.RoleChoice {
	return config.RoleChoice{ODSCode: id.ODS, BusinessFunction: string(id.BusinessFunction), OnBehalfOfUserID: id.OnBehalfOf}
}

// savedState is the state a saved session restores to.
func (m *Manager) savedState(rec *record, now time.Time) State {
	switch {
	case rec.Locked:
		return StateLocked
	case !m.noSignIn && (rec.RT == "" || (!rec.RTExp.IsZero() && !now.Before(rec.RTExp))):
		// A session without sign-in has no tokens to expire.
		return StateSignInNeeded
	case hasRole(rec.ID) && (m.allowed == nil || m.allowed(rec.ID.ODS)):
		return StateActive
	}
	return StateNeedsRole
}

// SavedStatus reports the session saved in the keychain without changing
// the Manager or calling the network (triagectl whoami). Errors: an
// EUNAVAILABLE *triage.Error wrapping ErrKeychainUnavailable.
func (m *Manager) SavedStatus(ctx context.Context) (Status, error) {
	st := Status{State: StateSignedOut, Environment: m.env.Name, EnvironmentLabel: m.env.Label, Production: m.env.Production, NoSignIn: m.noSignIn}
	rec, _, err := m.load(ctx)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return st, nil
	case errors.Is(err, ErrKeychainUnavailable):
		return st, userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychain)
	case err != nil || !m.matches(rec):
		return st, nil
	}
	st.State, st.Identity = m.savedState(rec, m.now()), rec.ID
	switch st.State {
	case StateLocked:
		st.Message = msgLocked
	case StateSignInNeeded:
		st.Message = msgSessionCap
	case StateActive, StateNeedsRole:
		st.SessionExpires = rec.RTExp
	}
	return st, nil
}

// Restore resumes the session saved in the keychain, at start-up. A locked
// session stays locked (StateLocked: sign in to unlock); an expired one is
// StateSignInNeeded; otherwise the refresh token is redeemed at once (and
// the rotated one saved) and the session is StateActive, or StateNeedsRole
// when no role was chosen. Nothing saved, or a session for another server,
// is StateSignedOut. When the token service cannot be reached the session
// stays StateActive and the token source tries again on first use.
//
// Errors: only an EUNAVAILABLE *triage.Error wrapping
// ErrKeychainUnavailable when the keychain cannot be read (StateSignedOut;
// signing in still works, without being remembered).
func (m *Manager) Restore(ctx context.Context) (Status, error) {
	rec, legacy, err := m.load(ctx)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return m.Status(), nil
	case errors.Is(err, ErrKeychainUnavailable):
		m.mu.Lock()
		m.warning = msgKeychain
		m.mu.Unlock()
		return m.Status(), userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychain)
	case err != nil:
		m.log.Warn("saved session unreadable: removed", "err", err)
		m.deleteSaved(ctx)
		return m.Status(), nil
	case rec.Auth != m.authKey || rec.NoSignIn != m.noSignIn:
		m.log.Info("saved session belongs to another sign-in service: removed")
		m.deleteSaved(ctx)
		return m.Status(), nil
	case !m.matches(rec):
		// Made with another client id for the same server: that client's,
		// kept for it, not resumed with this one.
		m.log.Info("saved session belongs to another client id: not resumed")
		return m.Status(), nil
	case legacy:
		m.moveLegacy(ctx, rec)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return m.Status(), nil
	}
	switch st := m.savedState(rec, m.now()); st {
	case StateLocked, StateSignInNeeded:
		m.gen++
		gen := m.gen
		m.state, m.id, m.since, m.rt, m.src, m.rtExp = st, rec.ID, rec.Since, "", nil, time.Time{}
		m.message = msgLocked
		if st == StateSignInNeeded {
			m.message = msgSessionCap
		}
		status := m.statusLocked()
		m.mu.Unlock()
		m.log.Info("saved session restored", "state", st.String())
		if st == StateSignInNeeded {
			_ = m.persist(ctx, gen)
		}
		m.notify(status)
		return status, nil
	case StateActive:
		m.installLocked(nil, rec.RT, rec.RTExp, rec.Since, rec.ID, StateActive)
	default:
		id := triage.Identity{SDSUserID: rec.ID.SDSUserID}
		m.installLocked(nil, rec.RT, rec.RTExp, rec.Since, id, StateNeedsRole)
	}
	status := m.statusLocked()
	m.mu.Unlock()
	m.Touch()
	m.log.Info("saved session restored", "state", status.State.String())
	m.notify(status)
	if m.noSignIn {
		return status, nil
	}
	if _, err := m.ts.Token(); err != nil && errors.Is(err, ErrTokenServiceUnavailable) {
		m.log.Warn("session not renewed at start-up; will try again when e-RS is called", "err", err)
	}
	return m.Status(), nil
}

// authCodeURL is the authorize request: response_type=code, client_id,
// redirect_uri, scope, state, PKCE S256 and acr_values.
func (m *Manager) authCodeURL(state, verifier string) string {
	conf := oauth2.Config{ClientID: m.env.ClientID, Endpoint: oauth2.Endpoint{AuthURL: m.env.AuthorizeURL()},
		RedirectURL: m.env.RedirectURL(), Scopes: []string{Scope}}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if m.env.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", m.env.ACRValues))
	}
	return conf.AuthCodeURL(state, opts...)
}

// SignIn signs the clinician in: it binds the loopback callback
// (127.0.0.1:RedirectPort), calls openBrowser with the authorize URL (the
// app opens the system browser; if that fails it should show the URL and
// return nil), waits up to CallbackTimeout for the single callback,
// checks its state, exchanges the code with the PKCE verifier, saves the
// session and reads the clinician's roles (A030). The session is then
// StateNeedsRole: call ChooseRole with the clinician's choice (or
// SignInResult.Suggested) — unless the same clinician signed in to unlock,
// when the role is restored and the session is StateActive
// (SignInResult.Resumed).
//
// Errors (*triage.Error values): ErrSignInInProgress, ErrPortInUse,
// openBrowser's error, ErrCallbackTimeout, ErrStateMismatch,
// ErrSignInRefused, ErrCodeRefused, ErrClientRejected, ErrSecretMissing,
// ErrTokenServiceUnavailable, ctx's error; or the A030 call's *ers.Error, in
// which case the session is StateNeedsRole and Roles retries it without a
// new sign-in.
func (m *Manager) SignIn(ctx context.Context, openBrowser func(authURL string) error) (*SignInResult, error) {
	if openBrowser == nil && !m.noSignIn {
		return nil, errors.New("auth: SignIn needs a function that opens the browser")
	}
	if !m.signMu.TryLock() {
		return nil, userErr(triage.EINVALID, ErrSignInInProgress, nil, msgInProgress)
	}
	defer m.signMu.Unlock()
	if m.noSignIn {
		return m.signInWithout(ctx)
	}
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	addr := m.env.RedirectAddr()
	cb := newCallback(state, addr, m.now().Add(m.cbTimeout), m.now, m.log)
	srv, err := listenCallback(addr, cb)
	if err != nil {
		m.log.Warn("sign-in callback not bound", "addr", addr, "err", err)
		return nil, err
	}
	defer srv.close()
	m.log.Info("sign-in started", "callback", addr)
	if err := openBrowser(m.authCodeURL(state, verifier)); err != nil {
		return nil, &triage.Error{Code: triage.EUNAVAILABLE, Err: fmt.Errorf("open the sign-in page: %w", err),
			Message: "The sign-in page could not be opened. Start the sign-in again; if it keeps happening, contact your IT service desk."}
	}
	code, err := srv.wait(ctx, m.cbTimeout)
	srv.close()
	if err != nil {
		m.log.Warn("sign-in not completed", "err", err)
		return nil, err
	}
	resp, err := m.ex.Exchange(ctx, code, verifier, m.env.RedirectURL())
	if err != nil {
		m.log.Warn("authorization code not exchanged", "err", err)
		return nil, err
	}
	if resp.RefreshToken == "" {
		m.log.Warn("no refresh token issued: the session ends with the access token")
	}
	now := m.now()
	at := &oauth2.Token{AccessToken: resp.AccessToken, TokenType: resp.TokenType, Expiry: resp.Expiry}
	prev, prevState, err := m.begin(ctx, at, resp.RefreshToken, m.sessionExpiry(now, now, resp, time.Time{}), now)
	if err != nil {
		return nil, err
	}
	m.log.Info("signed in", "refresh_count", resp.RefreshCount)
	return m.rolesAfterSignIn(ctx, prev, prevState)
}

// signInWithout starts a session in an environment without sign-in: no
// browser, no token; then the roles are read as after any sign-in.
func (m *Manager) signInWithout(ctx context.Context) (*SignInResult, error) {
	prev, prevState, err := m.begin(ctx, nil, "", time.Time{}, m.now())
	if err != nil {
		return nil, err
	}
	m.log.Info("session started without sign-in")
	return m.rolesAfterSignIn(ctx, prev, prevState)
}

// begin starts a new session, still without a role, with its tokens (none
// without sign-in), saves it and tells OnChange. It returns who was signed
// in before, and in which state.
func (m *Manager) begin(ctx context.Context, at *oauth2.Token, rt string, rtExp, now time.Time) (triage.Identity, State, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return triage.Identity{}, 0, userErr(triage.EUNAVAILABLE, ErrNotSignedIn, errors.New("manager closed"), msgNotSignedIn)
	}
	prev, prevState := m.id, m.state
	gen := m.installLocked(at, rt, rtExp, now, triage.Identity{}, StateNeedsRole)
	m.warning = ""
	status := m.statusLocked()
	m.mu.Unlock()
	m.Touch()
	_ = m.persist(ctx, gen)
	m.notify(status)
	return prev, prevState, nil
}

// rolesAfterSignIn reads the roles of whoever just signed in, suggests one
// and, when the same clinician signed in again (to unlock), restores their
// role.
func (m *Manager) rolesAfterSignIn(ctx context.Context, prev triage.Identity, prevState State) (*SignInResult, error) {
	opts, userID, err := m.loadRoles(ctx)
	if err != nil {
		return nil, err
	}
	res := &SignInResult{UserID: userID, Roles: opts}
	var remembered config.RoleChoice
	var ok bool
	if m.roles != nil {
		remembered, ok = m.roles.RememberedRole(userID)
	}
	res.Suggested = suggest(opts, remembered, ok)
	if prev.SDSUserID != "" && prev.SDSUserID != userID {
		res.PreviousUser = prev.SDSUserID
	}
	if prev.SDSUserID == userID && hasRole(prev) && prevState != StateSignedOut {
		id, err := m.ChooseRole(ctx, choiceOf(prev))
		if err == nil {
			res.Resumed, res.Identity = true, id
		} else {
			m.log.Info("previous role not restored", "err", err)
		}
	}
	return res, nil
}

// loadRoles reads A030, learns the clinician's SDS user id from it (the
// combined pattern's token response names nobody) and keeps the options.
func (m *Manager) loadRoles(ctx context.Context) ([]RoleOption, string, error) {
	m.mu.Lock()
	gen, st, msg := m.gen, m.state, m.message
	m.mu.Unlock()
	if !st.hasTokens() {
		return nil, "", stateError(st, msg)
	}
	res, err := m.ers.PractitionerRoles(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("read your e-RS roles: %w", err)
	}
	userID := ""
	for _, r := range res.Roles {
		switch {
		case r.SDSUserID == "":
		case userID == "":
			userID = r.SDSUserID
		case userID != r.SDSUserID:
			return nil, "", &triage.Error{Code: triage.EUNAVAILABLE, Err: errors.New("A030 names more than one practitioner"),
				Message: "e-RS sent roles for more than one person, so Triage Desk cannot tell who you are. Sign in again; if it keeps happening, contact your IT service desk."}
		}
	}
	if userID == "" {
		if len(res.Roles) == 0 {
			return nil, "", userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
				"e-RS lists no roles for you, so you cannot use Triage Desk yet. Ask your registration authority to give you an e-RS role at your organisation.")
		}
		return nil, "", &triage.Error{Code: triage.EUNAVAILABLE, Err: errors.New("A030 names no practitioner"),
			Message: "e-RS did not say who you are, so Triage Desk cannot continue. Sign in again; if it keeps happening, contact your IT service desk."}
	}
	opts := roleOptions(res.Roles, m.allowed)
	m.mu.Lock()
	if m.gen != gen {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, "", stateError(st, msg)
	}
	if m.id.SDSUserID != userID {
		m.id = triage.Identity{SDSUserID: userID}
		m.state = StateNeedsRole
	}
	m.opts = opts
	m.mu.Unlock()
	_ = m.persist(ctx, gen)
	return opts, userID, nil
}

// Roles reads the clinician's e-RS roles again (A030), for example after
// Restore left the session StateNeedsRole, or after SignIn's A030 call
// failed. Errors: ErrLocked, ErrSignInNeeded, ErrNotSignedIn, or the
// A030 call's *ers.Error.
func (m *Manager) Roles(ctx context.Context) ([]RoleOption, error) {
	opts, _, err := m.loadRoles(ctx)
	return opts, err
}

// OnBehalfOfUsers lists the clinicians a clinician admin may act for at
// the organisation (A040, sent as SERVICE_PROVIDER_CLINICIAN_ADMIN at ods).
// Errors as Roles.
func (m *Manager) OnBehalfOfUsers(ctx context.Context, ods string) ([]triage.OnBehalfOfUser, error) {
	m.mu.Lock()
	st, msg, user := m.state, m.message, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() {
		return nil, stateError(st, msg)
	}
	ods = strings.ToUpper(strings.TrimSpace(ods))
	c := m.ers.WithIdentity(triage.Identity{SDSUserID: user, ODS: ods, BusinessFunction: triage.RoleServiceProviderClinicianAdmin})
	res, err := c.OnBehalfOfUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the clinicians you may act for: %w", err)
	}
	return res.Users, nil
}

// ChooseRole sets the organisation and business function the clinician
// works as (and, for SERVICE_PROVIDER_CLINICIAN_ADMIN, the clinician they
// act for, checked with A040), saves it with the session, remembers it for
// next time and makes the session StateActive. It may also be called while
// StateActive to change role; the app must then treat decisions made under
// the old identity as the old identity's.
//
// Errors (*triage.Error): EFORBIDDEN wrapping ErrRoleNotHeld when the
// clinician does not hold the role or may not act for that clinician;
// EFORBIDDEN when the policy does not allow the organisation; EINVALID
// when a clinician admin names nobody to act for; the state errors of
// Roles; the A030 or A040 call's error.
func (m *Manager) ChooseRole(ctx context.Context, c config.RoleChoice) (triage.Identity, error) {
	ods := strings.ToUpper(strings.TrimSpace(c.ODSCode))
	bf := triage.BusinessFunction(strings.TrimSpace(c.BusinessFunction))
	obo := strings.TrimSpace(c.OnBehalfOfUserID)
	m.mu.Lock()
	st, msg, opts, user := m.state, m.message, m.opts, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() {
		return triage.Identity{}, stateError(st, msg)
	}
	if opts == nil || user == "" {
		var err error
		if opts, user, err = m.loadRoles(ctx); err != nil {
			return triage.Identity{}, err
		}
	}
	o, ok := holds(opts, ods, bf)
	if !ok {
		return triage.Identity{}, userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
			fmt.Sprintf("You do not hold the role %s at %s in e-RS. Choose one of the roles listed.", bf.Label(), ods))
	}
	if !o.Allowed {
		return triage.Identity{}, triage.Errorf(triage.EFORBIDDEN,
			"Your organisation has not allowed Triage Desk to be used for %s. Choose another role, or contact your IT service desk.", ods)
	}
	if o.NeedsOnBehalfOf {
		if obo == "" {
			return triage.Identity{}, triage.Errorf(triage.EINVALID, "As a clinician admin, choose the clinician you are acting for.")
		}
		users, err := m.OnBehalfOfUsers(ctx, ods)
		if err != nil {
			return triage.Identity{}, err
		}
		found := false
		for _, u := range users {
			found = found || u.SDSUserID == obo
		}
		if !found {
			return triage.Identity{}, userErr(triage.EFORBIDDEN, ErrRoleNotHeld, nil,
				fmt.Sprintf("e-RS does not let you act for the clinician %s at %s. Choose one of the clinicians listed.", obo, ods))
		}
	} else {
		obo = ""
	}
	id := triage.Identity{SDSUserID: user, ODS: ods, BusinessFunction: bf, OnBehalfOf: obo}
	m.mu.Lock()
	if !m.state.hasTokens() || m.id.SDSUserID != user {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return triage.Identity{}, stateError(st, msg)
	}
	gen := m.gen
	m.id, m.state, m.message = id, StateActive, ""
	status := m.statusLocked()
	m.mu.Unlock()
	_ = m.persist(ctx, gen)
	if m.roles != nil {
		if err := m.roles.RememberRole(user, config.RoleChoice{ODSCode: ods, BusinessFunction: string(bf), OnBehalfOfUserID: obo}); err != nil {
			m.log.Warn("role not remembered", "err", err)
		}
	}
	m.log.Info("role chosen", "ods", ods, "business_function", string(bf), "on_behalf_of", obo != "")
	m.notify(status)
	return id, nil
}

// LogoutOptions control Logout.
type LogoutOptions struct {
	// User is the SDS user id to report as signed out when no session (in
	// memory or saved) names anyone, e.g. a second `triagectl logout
	// --discard-unsent` after the first kept the data.
	User string
}

// LogoutReport says what a sign-out did. Logout fills User; the app, which
// removes the clinician's data after Logout, fills the rest.
type LogoutReport struct {
	// User is the SDS user id signed out ("" if nobody was).
	User string
	// Identity is who was signed out, in the role they had (only the SDS
	// user id when the session no longer said more).
	Identity triage.Identity
	// DataWiped is true when the user's cache and outbox were removed.
	DataWiped bool
	// UnsentKept counts unsent decisions kept on this computer (sealed,
	// for this clinician's next sign-in); the data was then not wiped.
	UnsentKept int
	// Discarded counts unsent decisions discarded at the clinician's
	// explicit request.
	Discarded int
}

// Logout ends the session: tokens leave memory and the keychain at once.
// The report names whose session it was (the saved session's clinician
// when this Manager was never restored, else o.User); removing their data
// is the app's part, done only when Logout succeeds.
//
// Errors: an EUNAVAILABLE *triage.Error wrapping ErrKeychainUnavailable
// when the saved session could not be removed (the session is still ended
// in this process).
func (m *Manager) Logout(ctx context.Context, o LogoutOptions) (LogoutReport, error) {
	m.mu.Lock()
	id := m.id
	m.mu.Unlock()
	if id.SDSUserID == "" {
		// A Manager that was never restored (a command-line logout): the
		// saved session says whose it is.
		if rec, _, err := m.load(ctx); err == nil && m.matches(rec) {
			id = rec.ID
		}
	}
	if id.SDSUserID == "" && o.User != "" {
		id = triage.Identity{SDSUserID: strings.TrimSpace(o.User)}
	}
	m.mu.Lock()
	m.gen++
	gen := m.gen
	m.state, m.id, m.rt, m.rtExp, m.src, m.opts, m.message = StateSignedOut, triage.Identity{}, "", time.Time{}, nil, nil, ""
	m.stopTimerLocked()
	status := m.statusLocked()
	m.mu.Unlock()
	rep := LogoutReport{User: id.SDSUserID, Identity: id}
	err := m.persist(ctx, gen)
	m.log.Info("signed out")
	m.notify(status)
	if err != nil {
		return rep, userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err,
			"You are signed out, but your saved sign-in could not be removed from the keychain, and your data was not removed. Try signing out again; if it keeps happening, contact your IT service desk.")
	}
	return rep, nil
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

// TokenSourceFor returns a bearer-token source like TokenSource that hands
// out tokens only while the session is signed in as the clinician with SDS
// user id userID. The app gives it to the e-RS client of that clinician's
// workspace, so that work queued by one clinician can never be sent with
// another clinician's token, even if someone else signs in while a request
// is being prepared: the check and the choice of token are made together.
//
// Token fails like TokenSource's, and with an EUNAUTHORIZED *triage.Error
// wrapping ErrOtherUser when the session belongs to someone else (or its
// clinician is not known yet, during a sign-in); no network call is made
// then.
func (m *Manager) TokenSourceFor(userID string) oauth2.TokenSource {
	return &sessionTokenSource{m: m, user: userID, bound: true}
}

// sessionTokenSource is the stable token source handed to the e-RS client;
// when bound, it serves only user's session.
type sessionTokenSource struct {
	m     *Manager
	user  string
	bound bool
}

// Token implements oauth2.TokenSource.
func (s *sessionTokenSource) Token() (*oauth2.Token, error) {
	m := s.m
	m.mu.Lock()
	st, src, msg, gen, rtExp, who := m.state, m.src, m.message, m.gen, m.rtExp, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() || src == nil {
		return nil, stateError(st, msg)
	}
	if s.bound && (who == "" || who != s.user) {
		// src belongs to this generation's session, whose clinician is
		// who: its tokens are never handed to another clinician's work.
		return nil, userErr(triage.EUNAUTHORIZED, ErrOtherUser, nil, msgOtherUser)
	}
	if !rtExp.IsZero() && !m.now().Before(rtExp) {
		// The session's absolute end also ends a still-valid access token.
		m.endSession(gen, msgSessionCap, "session time limit reached")
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, nil, msgSessionCap)
	}
	return src.Token()
}

// refresher redeems the session's refresh token. It is wrapped in
// oauth2.ReuseTokenSourceWithExpiry, which calls it from one goroutine at a
// time when the access token is (nearly) expired.
type refresher struct {
	m   *Manager
	gen uint64
}

// Token redeems the refresh token, saves the rotated one to the keychain
// and only then returns the new access token. invalid_grant or an expired
// session ends the session once (StateSignInNeeded).
func (r *refresher) Token() (*oauth2.Token, error) {
	m := r.m
	m.mu.Lock()
	if m.gen != r.gen || !m.state.hasTokens() {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, stateError(st, msg)
	}
	rt, rtExp, since := m.rt, m.rtExp, m.since
	m.mu.Unlock()
	now := m.now()
	if rt == "" || (!rtExp.IsZero() && !now.Before(rtExp)) {
		m.endSession(r.gen, msgSessionCap, "session time limit reached")
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, nil, msgSessionCap)
	}
	ctx, cancel := context.WithTimeout(m.bg, refreshTimeout)
	defer cancel()
	resp, err := m.ex.Refresh(ctx, rt)
	if err != nil {
		if errors.Is(err, ErrSignInNeeded) {
			var oe *OAuthError
			why := "refresh refused"
			if errors.As(err, &oe) {
				why = "refresh refused: " + oe.Code
			}
			m.endSession(r.gen, msgSignInNeeded, why)
		} else {
			m.log.Warn("session not renewed", "err", err)
		}
		return nil, err
	}
	m.mu.Lock()
	if m.gen != r.gen || !m.state.hasTokens() {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, stateError(st, msg)
	}
	m.rt = resp.RefreshToken
	m.rtExp = m.sessionExpiry(m.now(), since, resp, rtExp)
	m.mu.Unlock()
	// Saved before the new access token is used: a crash from here on
	// leaves the new refresh token in the keychain.
	if err := m.persist(ctx, r.gen); err != nil {
		m.log.Warn("rotated refresh token kept in memory only")
	}
	m.log.Debug("session renewed", "refresh_count", resp.RefreshCount)
	return &oauth2.Token{AccessToken: resp.AccessToken, TokenType: resp.TokenType, Expiry: resp.Expiry}, nil
}

// endSession ends generation gen's session once: StateSignInNeeded, tokens
// dropped, the saved session removed, OnChange told. Later calls for the
// same generation do nothing.
func (m *Manager) endSession(gen uint64, message, why string) {
	m.mu.Lock()
	if m.gen != gen || !m.state.hasTokens() {
		m.mu.Unlock()
		return
	}
	m.gen++
	newGen := m.gen
	m.state, m.rt, m.src, m.opts, m.message = StateSignInNeeded, "", nil, nil, message
	m.stopTimerLocked()
	status := m.statusLocked()
	m.mu.Unlock()
	m.log.Warn("session ended: sign-in needed", "why", why)
	_ = m.persist(m.bg, newGen)
	m.notify(status)
}
