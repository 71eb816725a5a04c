// Package app wires Triage Desk's services together for both front ends
// (the GUI in cmd/triagedesk and the CLI in cmd/triagectl): it loads the
// configuration, opens the signed-in user's encrypted store, builds the e-RS
// client and the sync engine, starts the in-process sandbox in demo mode,
// and starts the PDF engine on first use. It holds the operations both front
// ends share: recording a decision with the same validation, reading the
// worklist with local statuses, and building a vetting pack.
//
// # Sign-in seam
//
// The app does not sign anyone in. Its caller passes Options.Session (who is
// signed in and whether the session is live; see engine.Session) and
// Options.TokenSource (the bearer tokens for e-RS). In demo mode, when both
// are nil, the sandbox runs with authentication off and the app acts as
// the sandbox's demo clinician (DemoIdentity). In every other environment
// Open refuses to run without a Session. After a new sign-in, role switch
// or unlock, call App.SessionChanged.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// DemoIdentity is who the app acts as in demo mode until sign-in is wired
// in: the sandbox's synthetic service provider clinician at its main trust.
var DemoIdentity = triage.Identity{
	SDSUserID: erssandbox.UserClinician, Name: "Dr Alex Carter (synthetic)",
	ODS: erssandbox.ProviderODS, BusinessFunction: triage.RoleServiceProviderClinician,
}

// DemoRateLimit is the client's request rate against the in-process demo
// sandbox (requests/s): it is on this machine, so the demo is not held to
// e-RS's per-application limit.
const DemoRateLimit = 50

// Options configure Open.
type Options struct {
	// ProfileDir is the data folder ("" : config.DefaultProfileDir()).
	ProfileDir string
	// PolicyPath is the machine policy file ("": this machine's).
	PolicyPath string
	// Override is a command-line choice of environment (--env, --base-url).
	Override *config.EnvironmentChoice
	// DevInsecureKeyfile keeps the store's master key in this file instead
	// of the OS keychain (development with synthetic data only). KeyWarn
	// receives the warning printed on every use (nil: standard error).
	DevInsecureKeyfile string
	KeyWarn            io.Writer

	// Session says who is signed in (required outside demo mode); nil in
	// demo mode means DemoIdentity with the sandbox's authentication off.
	Session engine.Session
	// TokenSource gives e-RS bearer tokens (nil: none).
	TokenSource oauth2.TokenSource

	// Offline opens only the configuration and the store: no sandbox, e-RS
	// client or engine. For commands that only read what is cached.
	Offline bool

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

// App is the wired application. Close it when done.
type App struct {
	Config   *config.Manager
	Settings *config.Settings
	// Environment is where the app connects, with the demo sandbox's URLs
	// filled in.
	Environment config.Environment
	// Sandbox is the in-process e-RS sandbox (demo mode only).
	Sandbox *erssandbox.Sandbox
	Store   *store.Store
	// Client and Engine are nil when opened Offline.
	Client  *ers.Client
	Engine  *engine.Engine
	Session engine.Session

	log     *slog.Logger
	profile string
	docOnce sync.Once
	docs    *document.Engine
	eng     atomic.Pointer[engine.Engine]
	closers []func() error
}

// Open loads the configuration and builds the services.
//
// Errors: config.Load's (a broken machine policy, an override the policy
// forbids), an EUNAUTHORIZED *triage.Error when no one is signed in outside
// demo mode, store.Open's (keychain unavailable, another Triage Desk
// running, a damaged outbox), and errors starting the demo sandbox or
// building the client from a bad environment.
func Open(ctx context.Context, opts Options) (*App, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := config.Load(config.Options{ProfileDir: opts.ProfileDir, PolicyPath: opts.PolicyPath, Override: opts.Override})
	if err != nil {
		return nil, err
	}
	a := &App{Config: m, Settings: m.Settings(), log: log}
	a.Environment = a.Settings.Environment
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	profile := opts.ProfileDir
	if profile == "" {
		if profile, err = config.DefaultProfileDir(); err != nil {
			return nil, err
		}
	}
	a.profile = profile
	demo := a.Environment.Name == config.EnvDemo

	sess := opts.Session
	if sess == nil {
		if !demo {
			return nil, &triage.Error{Code: triage.EUNAUTHORIZED,
				Message: fmt.Sprintf("Sign in with your NHS Care Identity before using %s. (Sign-in from the command line is not available yet: use --env demo to try Triage Desk with synthetic data.)", a.Environment.Label)}
		}
		sess = engine.NewStaticSession(DemoIdentity)
	}
	a.Session = sess
	id, _ := sess.Identity()
	if id.IsZero() {
		return nil, &triage.Error{Code: triage.EUNAUTHORIZED, Message: "Sign in with your NHS Care Identity first."}
	}

	var keys store.KeyProvider = store.KeychainProvider{}
	if opts.DevInsecureKeyfile != "" {
		keys = store.DevKeyFileProvider{Path: opts.DevInsecureKeyfile, Warn: opts.KeyWarn}
	}
	a.Store, err = store.Open(ctx, store.Options{ProfileDir: profile, UserID: id.SDSUserID, Keys: keys, Logger: log,
		Retention: RetentionFor(a.Settings), OnChange: a.storeChanged})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Store.Close)
	if opts.Offline {
		ok = true
		return a, nil
	}

	if demo {
		sbcfg := erssandbox.Config{Referrals: opts.DemoReferrals, Seed: opts.DemoSeed, Faults: opts.DemoFaults,
			Auth: opts.TokenSource != nil, Logger: log}
		sb, err := erssandbox.Start(context.WithoutCancel(ctx), sbcfg)
		if err != nil {
			return nil, fmt.Errorf("start the demo e-RS: %w", err)
		}
		a.Sandbox = sb
		a.closers = append(a.closers, sb.Close)
		a.Environment = a.Environment.WithURLs(sb.BaseURL(), sb.AuthBaseURL())
	}
	if err := a.Environment.Check(); err != nil {
		return nil, err
	}
	ccfg := ers.Config{BaseURL: a.Environment.FHIRBaseURL, TokenSource: opts.TokenSource, Logger: log}
	if demo {
		ccfg.RateLimit = DemoRateLimit
	}
	a.Client, err = ers.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("e-RS client: %w", err)
	}
	ecfg := EngineConfig(a.Settings)
	ecfg.Store, ecfg.Client, ecfg.Session, ecfg.Logger = a.Store, a.Client, sess, log
	if opts.EngineTuning != nil {
		opts.EngineTuning(&ecfg)
	}
	a.Engine, err = engine.New(ecfg)
	if err != nil {
		return nil, err
	}
	a.eng.Store(a.Engine)
	ok = true
	return a, nil
}

func (a *App) storeChanged(c store.Change) {
	if e := a.eng.Load(); e != nil {
		e.StoreChanged(c)
	}
}

// RetentionFor maps the settings onto the store's retention policy. The
// store's own defaults (purge 7 days after a decision is sent, and after 14
// days without a successful sync) apply unless the user or the machine
// policy chose a value; config's built-in defaults (30 and 7 days) are for
// display and are not applied, so the store's documented policy holds.
func RetentionFor(s *config.Settings) store.Retention {
	var r store.Retention
	if s.Origin(config.KeySentRetentionDays).Source != config.SourceDefault && s.SentRetentionDays > 0 {
		r.AfterSent = time.Duration(s.SentRetentionDays) * 24 * time.Hour
	}
	if s.Origin(config.KeyMaxDaysWithoutSync).Source != config.SourceDefault && s.MaxDaysWithoutSync > 0 {
		r.WithoutSync = time.Duration(s.MaxDaysWithoutSync) * 24 * time.Hour
	}
	return r
}

// EngineConfig maps the settings onto the engine's configuration (without
// the store, client and session).
func EngineConfig(s *config.Settings) engine.Config {
	return engine.Config{PullInterval: s.SyncInterval, NoPrefetch: !s.Prefetch}
}

// Identity returns the signed-in identity.
func (a *App) Identity() triage.Identity {
	id, _ := a.Session.Identity()
	return id
}

// SessionChanged tells the engine about a new sign-in, role switch or
// unlock, so a paused outbox resumes.
func (a *App) SessionChanged() {
	if a.Engine != nil {
		a.Engine.SessionChanged()
	}
}

// Documents returns the PDF engine, starting it on first use (it takes a
// moment; opening a document waits for it). It is closed by Close.
func (a *App) Documents(ctx context.Context) *document.Engine {
	a.docOnce.Do(func() {
		a.docs = document.Start(context.WithoutCancel(ctx), document.Options{CacheDir: document.CompileCacheDir(a.profile), Logger: a.log})
		a.closers = append(a.closers, a.docs.Close)
	})
	return a.docs
}

// Close stops the engine, the PDF engine, the sandbox and closes the store,
// in that order. It returns the first error.
func (a *App) Close() error {
	var first error
	if a.Engine != nil {
		if err := a.Engine.Close(); err != nil {
			first = err
		}
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && first == nil && !errors.Is(err, store.ErrClosed) {
			first = err
		}
	}
	a.closers = nil
	return first
}
