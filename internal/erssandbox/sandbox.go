package erssandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Defaults of Config.
const (
	DefaultReferrals    = 60
	DefaultSeed         = 1
	DefaultClientID     = "triagedesk-sandbox"
	DefaultClientSecret = "sandbox-secret-not-for-production"
	DefaultRedirectURI  = "http://127.0.0.1:7654/callback"
	DefaultAccessTTL    = 599 * time.Second
	DefaultRefreshTTL   = 43199 * time.Second
	DefaultSessionCap   = 12 * time.Hour
	DefaultPendingDelay = 2 * time.Minute
	DefaultDownloadTTL  = 60 * time.Second
	// DefaultMaxWorklistBytes is the response size over which A008 fails,
	// as e-RS's does (10 MB).
	DefaultMaxWorklistBytes = 10 << 20
)

// Config configures a sandbox. The zero value is usable: 60 referrals and 24
// Advice and Guidance requests from seed 1 on free loopback ports, with
// authentication off.
type Config struct {
	// Addr is the loopback address of the FHIR API, mock login and control
	// API (default "127.0.0.1:0", a free port). DownloadAddr is the second
	// listener, the object store A042 redirects to (default another free
	// port). Both must be loopback addresses.
	Addr         string
	DownloadAddr string

	// Referrals is how many synthetic referrals to generate (default 60,
	// at most MaxReferrals). Seed makes the data deterministic (default 1).
	// AsOf is "today" for generated dates (default: today, midnight UTC).
	Referrals int
	Seed      uint64
	AsOf      time.Time
	// AdviceRequests is how many synthetic Advice and Guidance requests to
	// generate (default DefaultAdviceRequests, at most MaxAdviceRequests;
	// negative for none).
	AdviceRequests int

	// Auth requires a bearer token from the mock OAuth2 server on every
	// FHIR request (401 otherwise). With Auth off, any token is ignored and
	// the user is a test user holding the requested business function at
	// the requested organisation.
	Auth bool
	// ClientID, ClientSecret and RedirectURI are the registered OAuth2
	// client (defaults DefaultClientID, DefaultClientSecret,
	// DefaultRedirectURI). The redirect URI must match exactly.
	ClientID     string
	ClientSecret string
	RedirectURI  string
	// AccessTokenTTL and RefreshTokenTTL are the token lifetimes (defaults
	// 599 s and 43199 s, as the NHS API Platform); SessionCap is the
	// absolute limit on refreshing, counted from sign-in (default 12 h).
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	SessionCap      time.Duration
	// Users are the test users (default DefaultUsers()). DefaultUser is the
	// user of A030/A040 when Auth is off and no token is sent (default
	// UserClinician).
	Users       []TestUser
	DefaultUser string

	// PendingDelay is how long PENDING attachments take to become
	// AVAILABLE after start (default 2 minutes; negative: only when made
	// available through the control API).
	PendingDelay time.Duration
	// WriteLockHold is how long every write holds the referral's lock
	// before it is applied (default 0). A concurrent write meanwhile gets
	// 423. Sandbox.HoldNextWrite holds a single write deterministically.
	WriteLockHold time.Duration
	// DownloadTTL is how long an A042 download URL stays valid (default
	// 60 s); each URL can be used once.
	DownloadTTL time.Duration
	// MaxWorklistBytes is the A008 response size over which the request
	// fails with 422 (default 10 MB, as e-RS; negative: no limit).
	MaxWorklistBytes int

	// Faults are the injected failures at start; change them with
	// Sandbox.SetFaults or POST /_sandbox/faults.
	Faults Faults

	// Logger receives one line per request (operation, route, status,
	// duration, correlation and request ids; never patient data). Nil
	// discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now), for tests of token expiry and
	// pending attachments.
	Now func() time.Time
}

func (c *Config) defaults() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.DownloadAddr == "" {
		c.DownloadAddr = "127.0.0.1:0"
	}
	for _, a := range []string{c.Addr, c.DownloadAddr} {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("sandbox address %q: %w", a, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("sandbox address %q: the sandbox listens on loopback addresses only", a)
		}
	}
	if c.Referrals == 0 {
		c.Referrals = DefaultReferrals
	}
	if c.Referrals < 0 || c.Referrals > MaxReferrals {
		return fmt.Errorf("sandbox: %d referrals requested; choose between 1 and %d", c.Referrals, MaxReferrals)
	}
	if c.AdviceRequests == 0 {
		c.AdviceRequests = DefaultAdviceRequests
	}
	if c.AdviceRequests > MaxAdviceRequests {
		return fmt.Errorf("sandbox: %d advice and guidance requests requested; choose at most %d", c.AdviceRequests, MaxAdviceRequests)
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AsOf.IsZero() {
		c.AsOf = c.Now().UTC().Truncate(24 * time.Hour)
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ClientSecret == "" {
		c.ClientSecret = DefaultClientSecret
	}
	if c.RedirectURI == "" {
		c.RedirectURI = DefaultRedirectURI
	}
	if c.AccessTokenTTL <= 0 {
		c.AccessTokenTTL = DefaultAccessTTL
	}
	if c.RefreshTokenTTL <= 0 {
		c.RefreshTokenTTL = DefaultRefreshTTL
	}
	if c.SessionCap <= 0 {
		c.SessionCap = DefaultSessionCap
	}
	if c.Users == nil {
		c.Users = DefaultUsers()
	}
	if c.DefaultUser == "" {
		c.DefaultUser = UserClinician
	}
	if c.PendingDelay == 0 {
		c.PendingDelay = DefaultPendingDelay
	}
	if c.DownloadTTL <= 0 {
		c.DownloadTTL = DefaultDownloadTTL
	}
	if c.MaxWorklistBytes == 0 {
		c.MaxWorklistBytes = DefaultMaxWorklistBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Faults.Validate()
}

// Sandbox is a running fake e-RS. Its methods are safe for concurrent use.
type Sandbox struct {
	cfg       Config
	store     *store
	oauth     *oauthServer
	faults    *faultInjector
	stats     *statsRecorder
	downloads *downloadStore
	log       *slog.Logger

	srv, dlSrv   *http.Server
	base, dlBase string
	done         chan struct{}
	closeOnce    sync.Once
	closeErr     error
	wg           sync.WaitGroup
}

// Start generates the synthetic data and starts the sandbox on its two
// loopback listeners. It returns once both accept connections. The sandbox
// stops when ctx is cancelled or Close is called. Start returns an error for
// an invalid Config or an address that cannot be bound. CRI PDFs and
// attachments are generated on first request, so Start takes milliseconds
// even for MaxReferrals.
func Start(ctx context.Context, cfg Config) (*Sandbox, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	dl, err := net.Listen("tcp", cfg.DownloadAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start sandbox download host: %w", err)
	}
	s := &Sandbox{cfg: cfg, log: cfg.Logger, done: make(chan struct{}), stats: newStats()}
	s.base = "http://" + ln.Addr().String()
	s.dlBase = "http://" + dl.Addr().String()

	fhirBase := s.BaseURL()
	refdata := CodeSystems(fhirBase)
	s.store = newStore(genOptions{
		Seed: cfg.Seed, Count: cfg.Referrals, AsOf: cfg.AsOf, SystemBase: fhirBase, Services: DefaultServices(),
		PendingDelay: cfg.PendingDelay, Started: cfg.Now(),
	}, refdata, cfg.Now, cfg.WriteLockHold, s.done)
	s.store.mu.Lock()
	s.store.addAdvice(max(0, cfg.AdviceRequests))
	s.store.mu.Unlock()
	s.oauth = newOAuthServer(oauthConfig{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURI: cfg.RedirectURI,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, SessionCap: cfg.SessionCap}, cfg.Users, cfg.Now)
	s.faults = newFaultInjector(cfg.Seed, cfg.Faults)
	s.downloads = newDownloadStore(cfg.Now, cfg.DownloadTTL)

	s.srv = &http.Server{Handler: s.outer(s.routes()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.dlSrv = &http.Server{Handler: s.outer(s.downloadRoutes()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	for _, p := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.srv, ln}, {s.dlSrv, dl}} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := p.srv.Serve(p.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("sandbox listener stopped", "err", err)
			}
		}()
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	s.log.Info("sandbox started", "fhir", fhirBase, "login", s.AuthBaseURL(), "download", s.dlBase,
		"referrals", cfg.Referrals, "advice", max(0, cfg.AdviceRequests), "seed", cfg.Seed, "auth", cfg.Auth)
	return s, nil
}

// Close stops the sandbox: hung requests are released, open connections
// closed. It is safe to call more than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err1 := s.srv.Shutdown(ctx)
		err2 := s.dlSrv.Shutdown(ctx)
		if err1 != nil || err2 != nil {
			_ = s.srv.Close()
			_ = s.dlSrv.Close()
		}
		s.wg.Wait()
		s.log.Info("sandbox stopped")
	})
	return s.closeErr
}

// Done is closed when the sandbox has been closed.
func (s *Sandbox) Done() <-chan struct{} { return s.done }

// BaseURL is the e-RS FHIR base URL, e.g. http://127.0.0.1:9100/FHIR; the
// endpoints are under /STU3/ and /R4/ of it.
func (s *Sandbox) BaseURL() string { return s.base + "/FHIR" }

// AuthBaseURL is the mock OAuth2 base URL (…/oauth2-mock), with /authorize
// and /token under it.
func (s *Sandbox) AuthBaseURL() string { return s.base + AuthPath }

// DownloadBaseURL is the base URL of the second listener, the object store
// that A042 redirects to (another port, so the redirect is cross-host).
func (s *Sandbox) DownloadBaseURL() string { return s.dlBase }

// ControlURL is the base URL of the control API (…/_sandbox).
func (s *Sandbox) ControlURL() string { return s.base + ControlPath }

// OAuthClient returns the registered OAuth2 client: id, secret and redirect
// URI.
func (s *Sandbox) OAuthClient() (clientID, clientSecret, redirectURI string) {
	return s.cfg.ClientID, s.cfg.ClientSecret, s.cfg.RedirectURI
}

// LoginURL is a browser URL of the mock login page for the registered
// client, listing the test users.
func (s *Sandbox) LoginURL() string {
	v := url.Values{"response_type": {"code"}, "client_id": {s.cfg.ClientID}, "redirect_uri": {s.cfg.RedirectURI},
		"state": {rand.Text()}, "scope": {"nhs-cis2"}}
	return s.AuthBaseURL() + "/authorize?" + v.Encode()
}

// Users returns the test users.
func (s *Sandbox) Users() []TestUser { return s.cfg.Users }

// Token issues an access token for a test user directly, as if they had
// signed in (for tests and tools that skip the browser). It returns an
// error for an unknown user.
func (s *Sandbox) Token(userID string) (string, error) {
	t, ok := s.oauth.mint(userID)
	if !ok {
		return "", fmt.Errorf("no test user %q", userID)
	}
	return t, nil
}

// ReferenceData returns the sandbox's A004 code systems.
func (s *Sandbox) ReferenceData() *triage.ReferenceData {
	rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{}, FetchedAt: s.cfg.Now()}
	for t, cs := range s.store.refdata {
		rd.Systems[t] = cs
	}
	return rd
}
