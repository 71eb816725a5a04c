package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// DemoRateLimit is the client's request rate against the in-process demo
// sandbox (requests/s): it is on this machine, so the demo is not held to
// e-RS's per-application limit.
const DemoRateLimit = 50

// DemoStorageNotice is Status().StorageNotice when the demo runs without a
// keychain: its data is kept under a throwaway key, in memory only.
const DemoStorageNotice = "This computer has no keychain, so demo data will not be kept after Triage Desk closes."

// demoPlaceholderURL stands in for the demo sandbox's address when Start
// runs Offline: nothing is then sent to it.
const demoPlaceholderURL = "http://127.0.0.1"

// Options configure Start and Open.
type Options struct {
	// ProfileDir is the data folder ("" : config.DefaultProfileDir()).
	ProfileDir string
	// PolicyPath is the machine policy file ("": this machine's).
	PolicyPath string
	// Override is a command-line choice of environment (--env, --base-url).
	Override *config.EnvironmentChoice
	// DevInsecureKeyfile keeps the store's master keys in this file, and
	// the sign-in session in auth.DevSessionFile(DevInsecureKeyfile),
	// instead of the OS keychain (development with synthetic data only;
	// refused for live e-RS). KeyWarn receives the warnings printed on
	// every use (nil: standard error).
	DevInsecureKeyfile string
	KeyWarn            io.Writer

	// Offline starts without the network: no demo sandbox, and the saved
	// session is read rather than resumed (no token request). Status
	// reports the saved session; SavedStatus, UnsentCount and Logout work;
	// sign-in does not. OpenWorkspace opens only the store (no e-RS client
	// or engine), for commands that read what is cached or queue a
	// decision.
	Offline bool

	// RedirectPort, ClientID and ClientSecret replace the environment's
	// sign-in registration, for the demo and local environments only
	// (refused elsewhere, where IT sets them in the machine policy).
	// RedirectPort 0 in demo picks a free loopback port at Start.
	// ClientSecret is a local development server's secret.
	RedirectPort int
	ClientID     string
	ClientSecret string
	// NoSignIn says the local development server has no sign-in (for
	// example `triagectl sandbox --auth off`): sessions then hold a role
	// and no tokens. Refused for any environment but local; the NHS
	// sandbox never has a sign-in. A session saved this way is found again
	// by later starts for the same server without it.
	NoSignIn bool
	// LockTimeout overrides the policy's inactivity lock (0: the policy's;
	// negative: never, for command-line tools).
	LockTimeout time.Duration
	// CallbackTimeout is how long SignIn waits for the browser (0: auth's
	// default).
	CallbackTimeout time.Duration
	// LoginCommand is the command line that signs in to this environment,
	// quoted in Open's "not signed in" messages (default "triagectl
	// login").
	LoginCommand string
	// HTTPClient sends every request Triage Desk makes (e-RS, token
	// requests, the demo's mock browser); nil gives each its own client.
	// Tests use it to observe traffic. It must not add credentials.
	HTTPClient *http.Client
	// AuthClock is the sign-in's clock (nil: time.Now), for tests of the
	// session's time limit.
	AuthClock func() time.Time

	// DemoReferrals and DemoSeed shape the demo sandbox's data (defaults
	// erssandbox.DefaultReferrals and DefaultSeed). DemoFaults are injected
	// faults (demonstrations and tests).
	DemoReferrals int
	DemoSeed      uint64
	DemoFaults    erssandbox.Faults

	// Logger receives operational logs (never patient data); nil discards.
	Logger *slog.Logger
	// EngineTuning, if set, adjusts the engine's configuration before it
	// is built (tests).
	EngineTuning func(*engine.Config)
}

// Status is the session as the front ends show it.
type Status struct {
	// Status is the sign-in state, identity, environment, session end,
	// and plain-English Message and Warning (see auth.Status).
	auth.Status
	// Demo is true in the demo environment (synthetic data).
	Demo bool
	// WorkspaceUser is the SDS user id whose workspace is open ("" for
	// none).
	WorkspaceUser string
	// ShowPatientData is true when the open workspace belongs to the
	// signed-in clinician and the session is active or only waiting for a
	// new sign-in. While it is false (locked, signed out, another
	// clinician, no role) the GUI must not show patient data.
	ShowPatientData bool
	// StorageNotice is DemoStorageNotice when the demo keeps its data in
	// memory only; "" otherwise.
	StorageNotice string
}

// Runtime is the process-lifetime part of Triage Desk: configuration, the
// demo sandbox, sign-in and the PDF engine. Its methods are safe for
// concurrent use. Close it at exit.
type Runtime struct {
	Config   *config.Manager
	Settings *config.Settings
	// Environment is where Triage Desk connects, with the demo sandbox's
	// URLs and the chosen callback port filled in.
	Environment config.Environment
	// sandbox is the in-process e-RS sandbox (demo mode only, not Offline).
	sandbox *erssandbox.Sandbox
	// auth is the sign-in Manager. In an environment without sign-in (the
	// NHS sandbox, or a local server with NoSignIn) its sessions hold a
	// role and no tokens (Status().NoSignIn).
	auth *auth.Manager
	// Logger receives operational logs.
	Logger *slog.Logger
	// Profile is the data folder.
	Profile string

	opts      Options
	demo      bool
	offline   bool // no network: saved session only
	storeOnly bool // workspaces without client and engine

	savedMu sync.Mutex
	saved   auth.Status // Offline: the saved session

	openMu sync.Mutex // orders OpenWorkspace and Logout

	mu      sync.Mutex
	closed  bool
	ws      *Workspace
	eph     *ephemeralStore
	subs    map[int]func(Status)
	nextSub int

	docMu sync.Mutex
	docs  *document.Engine

	changed  chan struct{}
	stop     chan struct{}
	loopDone chan struct{}
}

// Start loads the configuration and starts the process-lifetime services:
// in demo mode the in-process sandbox with its mock CIS2 sign-in (the
// demo's client id, and a redirect URI on a free loopback port), the
// sign-in Manager (keychain or development session file), and Restore of
// the saved session. A saved session that cannot be resumed is not an
// error: Status says what to do next.
//
// For the local environment, the session saved for the same server says
// which client id, sign-in service and (for a development server) client
// secret to use, or that the server has no sign-in, unless ClientID,
// ClientSecret or NoSignIn choose afresh: every command that names the same
// server finds the session it made.
//
// Errors: config.Load's (a broken machine policy, an override the policy
// forbids); EINVALID *triage.Error for --dev-insecure-keyfile with live
// e-RS, a sign-in override outside demo and local, NoSignIn outside local,
// or an environment whose sign-in is not set up (auth.New's, telling whom
// to ask); errors starting the demo sandbox.
func Start(ctx context.Context, opts Options) (*Runtime, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cm, err := config.Load(config.Options{ProfileDir: opts.ProfileDir, PolicyPath: opts.PolicyPath, Override: opts.Override})
	if err != nil {
		return nil, err
	}
	profile := opts.ProfileDir
	if profile == "" {
		if profile, err = config.DefaultProfileDir(); err != nil {
			return nil, err
		}
	}
	rt := &Runtime{Config: cm, Settings: cm.Settings(), Logger: log, Profile: profile, opts: opts,
		offline: opts.Offline, storeOnly: opts.Offline, subs: map[int]func(Status){},
		changed: make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{})}
	go rt.loop()
	ok := false
	defer func() {
		if !ok {
			rt.Close()
		}
	}()
	env := rt.Settings.Environment
	rt.Environment = env
	rt.demo = env.Name == config.EnvDemo
	if opts.NoSignIn && env.Name != config.EnvLocal {
		return nil, triage.Errorf(triage.EINVALID, "Only a local development server can be used without sign-in (%s was chosen). The NHS sandbox never needs one; INT and live e-RS always do.", env.Label)
	}
	if opts.DevInsecureKeyfile != "" && env.Production {
		return nil, triage.Errorf(triage.EINVALID, "--dev-insecure-keyfile cannot be used with live e-RS: your sign-in and data keys must stay in the OS keychain.")
	}
	dev := env.Name == config.EnvDemo || env.Name == config.EnvLocal
	if !dev && (opts.RedirectPort != 0 || opts.ClientID != "" || opts.ClientSecret != "") {
		return nil, triage.Errorf(triage.EINVALID, "The sign-in callback port, client id and client secret can be changed for the demo and local environments only; for %s your IT team sets them in the machine policy.", env.Label)
	}
	devSecret := opts.ClientSecret
	if env.Name == config.EnvLocal {
		if env, devSecret, err = rt.localRegistration(ctx, env); err != nil {
			return nil, err
		}
	}
	if opts.ClientID != "" {
		env.ClientID = opts.ClientID
	}
	switch {
	case opts.RedirectPort != 0:
		env.RedirectPort = opts.RedirectPort
	case rt.demo:
		// The demo registers its callback on a port free now, never
		// assuming the default is.
		if env.RedirectPort, err = freeLoopbackPort(); err != nil {
			return nil, &triage.Error{Code: triage.EUNAVAILABLE, Err: err,
				Message: "The demo could not find a free local port for its sign-in. Close other programs and try again."}
		}
	}
	var ex auth.TokenExchanger
	switch {
	case rt.demo && rt.offline:
		env = env.WithURLs(demoPlaceholderURL+"/FHIR", demoPlaceholderURL+erssandbox.AuthPath).WithPDS(demoPlaceholderURL + erssandbox.PDSPath)
		// Offline: the session is only read or removed, never redeemed.
		ex = auth.NewDirectExchanger(env, nil, opts.HTTPClient)
	case rt.demo:
		sb, err := erssandbox.Start(context.WithoutCancel(ctx), erssandbox.Config{
			Referrals: opts.DemoReferrals, Seed: opts.DemoSeed, Faults: opts.DemoFaults,
			Auth: true, ClientID: env.ClientID, RedirectURI: env.RedirectURL(), Logger: log})
		if err != nil {
			return nil, &triage.Error{Code: triage.EUNAVAILABLE, Err: fmt.Errorf("start the demo e-RS: %w", err),
				Message: "The demo could not start its built-in e-RS. Try again; if it keeps happening, restart the computer."}
		}
		rt.sandbox = sb
		env = env.WithURLs(sb.BaseURL(), sb.AuthBaseURL()).WithPDS(sb.PDSBaseURL())
		_, secret, _ := sb.OAuthClient()
		ex = auth.NewDirectExchanger(env, auth.StaticSecret(secret), opts.HTTPClient)
	}
	rt.Environment = env

	ao := auth.FromConfig(cm)
	ao.Environment, ao.Exchanger, ao.HTTPClient, ao.Keyring = env, ex, opts.HTTPClient, rt.sessionKeyring()
	if ex == nil && env.NeedsToken {
		ao.DevSecret = devSecret
	}
	ao.Logger, ao.Clock, ao.CallbackTimeout, ao.OnChange = log, opts.AuthClock, opts.CallbackTimeout, rt.authChanged
	ao.ERS = rt.sessionERS(env, log)
	if opts.LockTimeout != 0 {
		ao.LockTimeout = opts.LockTimeout
	}
	if rt.auth, err = auth.New(ao); err != nil {
		return nil, err
	}
	if rt.offline {
		if rt.saved, err = rt.auth.SavedStatus(ctx); err != nil {
			rt.saved.Warning = triage.ErrorMessage(err)
		}
	} else if _, err := rt.auth.Restore(ctx); err != nil {
		// Only the keychain: Status().Warning says so and sign-in works.
		log.Warn("saved session not restored", "err", err)
	}
	ok = true
	return rt, nil
}

// localRegistration is the local environment as the session saved for its
// server was made (client id, sign-in service and development secret, or
// no sign-in), where the command line does not choose them afresh, and the
// development secret to use. A sign-in address set by the user or the
// policy is kept: a session made with another is then not resumed.
func (rt *Runtime) localRegistration(ctx context.Context, env config.Environment) (config.Environment, string, error) {
	o := rt.opts
	if o.NoSignIn {
		env.NeedsToken, env.AuthBaseURL = false, ""
		return env, "", nil
	}
	if o.ClientID != "" || o.ClientSecret != "" || env.FHIRBaseURL == "" {
		return env, o.ClientSecret, nil
	}
	reg, found, err := auth.SavedRegistration(ctx, rt.sessionKeyring(), env)
	if err != nil {
		// Sign-in still works; the session is not remembered.
		rt.Logger.Warn("saved session not read", "err", err)
		return env, "", nil
	}
	if !found {
		return env, "", nil
	}
	if reg.NoSignIn {
		return reg.Apply(env), "", nil
	}
	if rt.Settings.Origin(config.KeyAuthBaseURL).Source != config.SourceDefault {
		reg.AuthBaseURL = ""
	}
	return reg.Apply(env), reg.DevSecret, nil
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp4", config.RedirectHost+":0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sessionKeyring is where the sign-in session is kept.
func (rt *Runtime) sessionKeyring() auth.Keyring {
	if rt.opts.DevInsecureKeyfile != "" {
		return auth.DevFileKeyring{Path: auth.DevSessionFile(rt.opts.DevInsecureKeyfile), Warn: rt.opts.KeyWarn}
	}
	return auth.OSKeyring{}
}

// storeKeys is where the stores' master keys are kept.
func (rt *Runtime) storeKeys() store.KeyProvider {
	if rt.opts.DevInsecureKeyfile != "" {
		return store.DevKeyFileProvider{Path: rt.opts.DevInsecureKeyfile, Warn: rt.opts.KeyWarn}
	}
	return store.KeychainProvider{}
}

// KeyStore says where the keys that encrypt the clinician's data are kept.
type KeyStore string

// Where keys are kept.
const (
	// KeysKeychain: the OS keychain (the normal case).
	KeysKeychain KeyStore = "keychain"
	// KeysFile: a development key file (--dev-insecure-keyfile).
	KeysFile KeyStore = "file"
	// KeysMemory: in memory only (the demo on a computer without a
	// keychain): the data cannot be read once Triage Desk closes.
	KeysMemory KeyStore = "memory"
)

// Storage is where the clinician's data lives and whether it survives
// Triage Desk closing, for the About screen, the status bar and the
// warning before quitting.
type Storage struct {
	// Dir is the folder holding the encrypted data.
	Dir string
	// Keys is where the keys are; KeyFile names the file for KeysFile.
	Keys    KeyStore
	KeyFile string
	// Kept is false when everything stored, unsent decisions included, is
	// gone when Triage Desk closes.
	Kept bool
}

// Storage says where the clinician's data is kept now. Before a workspace
// has opened it describes where it will be kept unless the keychain turns
// out to be unusable (then Storage changes and OnStatus reports it).
func (rt *Runtime) Storage() Storage {
	rt.mu.Lock()
	eph := rt.eph
	rt.mu.Unlock()
	switch {
	case eph != nil:
		return Storage{Dir: eph.dir, Keys: KeysMemory}
	case rt.opts.DevInsecureKeyfile != "":
		return Storage{Dir: rt.Profile, Keys: KeysFile, KeyFile: rt.opts.DevInsecureKeyfile, Kept: true}
	}
	return Storage{Dir: rt.Profile, Keys: KeysKeychain, Kept: true}
}

// Demo reports whether the Runtime runs the demo environment.
func (rt *Runtime) Demo() bool { return rt.demo }

// manager returns the sign-in Manager for an operation that needs the
// network, or why there is none.
func (rt *Runtime) manager() (*auth.Manager, error) {
	if rt.offline {
		return nil, errors.New("app: the runtime was started offline and cannot sign in")
	}
	return rt.auth, nil
}

// NoSignIn reports whether the environment has no sign-in (the NHS
// sandbox, or a local server started with NoSignIn or found so).
func (rt *Runtime) NoSignIn() bool { return rt.auth != nil && rt.auth.NoSignIn() }

// authStatus is the sign-in status without the workspace's part.
func (rt *Runtime) authStatus() auth.Status {
	switch {
	case rt.offline:
		rt.savedMu.Lock()
		defer rt.savedMu.Unlock()
		return rt.saved
	}
	return rt.auth.Status()
}

// Status returns the session's current status.
func (rt *Runtime) Status() Status {
	st := rt.authStatus()
	rt.mu.Lock()
	ws, eph := rt.ws, rt.eph
	rt.mu.Unlock()
	s := Status{Status: st, Demo: rt.demo}
	if eph != nil {
		s.StorageNotice = DemoStorageNotice
	}
	if ws != nil {
		s.WorkspaceUser = ws.user
		s.ShowPatientData = ws.user == st.Identity.SDSUserID &&
			(st.State == auth.StateActive || st.State == auth.StateSignInNeeded)
	}
	return s
}

// OnStatus calls fn with the current Status after every change: sign-in,
// role choice, lock, a session ended by the platform, logout, a workspace
// opened or closed. Calls come one at a time on a goroutine of the
// Runtime's; bursts are coalesced, so fn always ends up with the latest
// Status but may not see every step. fn must not block for long (the GUI
// hands the value to its UI bridge). It returns a function that ends the
// subscription.
func (rt *Runtime) OnStatus(fn func(Status)) (cancel func()) {
	rt.mu.Lock()
	id := rt.nextSub
	rt.nextSub++
	rt.subs[id] = fn
	rt.mu.Unlock()
	return func() {
		rt.mu.Lock()
		delete(rt.subs, id)
		rt.mu.Unlock()
	}
}

// signal schedules a status delivery.
func (rt *Runtime) signal() {
	select {
	case rt.changed <- struct{}{}:
	default:
	}
}

func (rt *Runtime) loop() {
	defer close(rt.loopDone)
	for {
		select {
		case <-rt.stop:
			return
		case <-rt.changed:
		}
		st := rt.Status()
		rt.mu.Lock()
		fns := make([]func(Status), 0, len(rt.subs))
		for _, f := range rt.subs {
			fns = append(fns, f)
		}
		rt.mu.Unlock()
		for _, f := range fns {
			f(st)
		}
	}
}

// authChanged is the Manager's OnChange. It runs on the goroutine that
// changed the session. A session now naming another clinician closes the
// open workspace at once; otherwise the workspace's engine is told, so it
// pauses (locked, sign-in needed) or resumes (signed in again).
func (rt *Runtime) authChanged(st auth.Status) {
	if user := st.Identity.SDSUserID; user != "" {
		rt.closeUnless(user)
	}
	rt.mu.Lock()
	ws := rt.ws
	rt.mu.Unlock()
	if ws != nil {
		ws.sessionChanged()
	}
	rt.signal()
}

// closeUnless closes the open workspace if it is not user's.
func (rt *Runtime) closeUnless(user string) {
	if user == "" {
		return
	}
	rt.mu.Lock()
	ws := rt.ws
	if ws == nil || ws.user == user {
		rt.mu.Unlock()
		return
	}
	rt.ws = nil
	rt.mu.Unlock()
	rt.Logger.Info("another clinician signed in: the previous clinician's workspace is closed")
	if err := ws.shutdown(); err != nil {
		rt.Logger.Warn("previous workspace not closed cleanly", "err", err)
	}
	rt.signal()
}

// Documents returns the PDF engine, starting it on first use in the
// background (document.Start with the profile's compile cache); opening a
// document waits until it is ready. Close stops it.
func (rt *Runtime) Documents(ctx context.Context) *document.Engine {
	rt.docMu.Lock()
	defer rt.docMu.Unlock()
	if rt.docs == nil {
		rt.docs = document.Start(context.WithoutCancel(ctx), document.Options{CacheDir: document.CompileCacheDir(rt.Profile), Logger: rt.Logger})
	}
	return rt.docs
}

// Close closes the open workspace, the PDF engine, the sign-in Manager (the
// saved session stays for the next start) and the demo sandbox, and removes
// the demo's throwaway data folder, if any. It returns the first error.
func (rt *Runtime) Close() error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	ws, eph := rt.ws, rt.eph
	rt.ws = nil
	rt.mu.Unlock()
	var first error
	if ws != nil {
		first = ws.shutdown()
	}
	rt.docMu.Lock()
	if rt.docs != nil {
		if err := rt.docs.Close(); err != nil && first == nil {
			first = err
		}
	}
	rt.docMu.Unlock()
	if rt.auth != nil {
		rt.auth.Close()
	}
	if rt.sandbox != nil {
		if err := rt.sandbox.Close(); err != nil && first == nil {
			first = err
		}
	}
	close(rt.stop)
	<-rt.loopDone
	if eph != nil {
		if err := eph.remove(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// RetentionFor maps the settings onto the store's retention policy: sent
// decisions' data purged after SentRetentionDays, and cached data after
// MaxDaysWithoutSync days without a successful sync. The configuration's
// defaults (7 and 14 days) are the store's, so they apply whether the user
// or the machine policy chose a value or not.
func RetentionFor(s *config.Settings) store.Retention {
	days := func(n int) time.Duration { return time.Duration(max(n, 0)) * 24 * time.Hour }
	return store.Retention{AfterSent: days(s.SentRetentionDays), WithoutSync: days(s.MaxDaysWithoutSync)}
}

// EngineConfig maps the settings onto the engine's configuration (without
// the store, client and session).
func EngineConfig(s *config.Settings) engine.Config {
	return engine.Config{PullInterval: s.SyncInterval, NoPrefetch: !s.Prefetch, AdviceAndGuidance: true}
}
