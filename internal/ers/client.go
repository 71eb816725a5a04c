package ers

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/internal/version"
)

// Limits and defaults.
const (
	// DefaultRateLimit is the default request rate, well under e-RS's
	// documented 10 requests per second per application.
	DefaultRateLimit rate.Limit = 5
	// MaxNHSRateLimit is e-RS's documented limit; NHS hosts are never called
	// faster.
	MaxNHSRateLimit rate.Limit = 10
	// MinWriteTimeout is the e-RS backend timeout: a write abandoned sooner
	// may still succeed.
	MinWriteTimeout = 180 * time.Second

	defaultReadTimeout     = 60 * time.Second
	defaultWriteTimeout    = 185 * time.Second
	defaultDownloadTimeout = 5 * time.Minute
	defaultMaxRetries      = 3
	defaultRetryBase       = time.Second
	defaultMaxRetryWait    = 60 * time.Second
	defaultMaxDownload     = 64 << 20
	maxJSONBody            = 32 << 20 // e-RS fails responses over 10 MB
	maxErrorBody           = 64 << 10
	maxRedirects           = 3
)

// The NHS API Platform environments' e-RS base URLs.
const (
	SandboxBaseURL     = "https://sandbox.api.service.nhs.uk/referrals/FHIR"
	IntegrationBaseURL = "https://int.api.service.nhs.uk/referrals/FHIR"
	ProductionBaseURL  = "https://api.service.nhs.uk/referrals/FHIR"
)

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the e-RS FHIR base, e.g. IntegrationBaseURL or a local
	// sandbox; paths /STU3/… and /R4/… are added to it. It must be https,
	// except on a loopback host.
	BaseURL string
	// TokenSource gives the bearer token sent as Authorization. Nil sends
	// none (the NHS sandbox environment needs none). Pass the token source
	// itself, never an oauth2.Transport in HTTPClient: that would send the
	// token to the attachment store on A042's redirect.
	TokenSource oauth2.TokenSource
	// RateLimit is the most requests per second (0: DefaultRateLimit). Above
	// MaxNHSRateLimit it is refused for NHS hosts, and otherwise allowed only
	// for a loopback base URL or with AllowHighRate (test peers and
	// benchmarks). rate.Inf removes the limit on those terms.
	RateLimit rate.Limit
	// AllowHighRate permits RateLimit above MaxNHSRateLimit for a non-NHS
	// base URL.
	AllowHighRate bool
	// ReadTimeout bounds one attempt of a read (0: 60 s).
	ReadTimeout time.Duration
	// WriteTimeout bounds a write (0: 185 s); it may not be below
	// MinWriteTimeout.
	WriteTimeout time.Duration
	// DownloadTimeout bounds one attempt of a CRI or attachment download
	// (0: 5 min).
	DownloadTimeout time.Duration
	// MaxRetries is how often a read is retried after a network error, 429
	// or 5xx (0: 3; negative: never). Writes are never retried.
	MaxRetries int
	// RetryBaseDelay is the first backoff (0: 1 s); it doubles per retry,
	// with ±20% jitter, and Retry-After is honoured when longer.
	RetryBaseDelay time.Duration
	// MaxRetryWait is the longest the client waits before a retry itself
	// (0: 60 s); a longer Retry-After is returned to the caller as a
	// Retryable error with NotBefore.
	MaxRetryWait time.Duration
	// MaxDownloadBytes bounds a CRI or attachment (0: 64 MiB).
	MaxDownloadBytes int64
	// HTTPClient sends the requests (nil: a client with its own
	// transport). Its redirect policy is replaced: the client follows
	// A042's redirect itself, without credentials. Its Timeout must be 0
	// or at least the write timeout.
	HTTPClient *http.Client
	// Logger receives one line per attempt: operation id, status, duration,
	// attempt, class, correlation and request ids; never URLs, bodies or
	// patient data. Nil discards.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent (default "TriageDesk/<version>").
	UserAgent string
}

// core is the state shared by a client and its WithIdentity copies.
type core struct {
	base        *url.URL
	ts          oauth2.TokenSource
	http        *http.Client
	limiter     *rate.Limiter
	log         *slog.Logger
	userAgent   string
	readTO      time.Duration
	writeTO     time.Duration
	downloadTO  time.Duration
	maxRetries  int
	retryBase   time.Duration
	maxWait     time.Duration
	maxDownload int64
	now         func() time.Time
}

// Client calls the e-RS API. It is safe for concurrent use. All copies made
// with WithIdentity share one rate limiter and one transport.
type Client struct {
	c  *core
	id triage.Identity
}

// New returns a client for the configuration. It returns an error for a
// missing or malformed base URL, plain http to a non-loopback host, a rate
// above what the host allows, a write timeout below MinWriteTimeout, or an
// HTTPClient whose transport adds OAuth2 credentials itself.
func New(cfg Config) (*Client, error) {
	base, r, err := nhsapi.Endpoint("ers", "e-RS", cfg.BaseURL, cfg.RateLimit, DefaultRateLimit, MaxNHSRateLimit, cfg.AllowHighRate)
	if err != nil {
		return nil, err
	}
	c := &core{
		base:        base,
		ts:          cfg.TokenSource,
		limiter:     rate.NewLimiter(r, 1),
		log:         cfg.Logger,
		userAgent:   cfg.UserAgent,
		readTO:      orDefault(cfg.ReadTimeout, defaultReadTimeout),
		writeTO:     orDefault(cfg.WriteTimeout, defaultWriteTimeout),
		downloadTO:  orDefault(cfg.DownloadTimeout, defaultDownloadTimeout),
		maxRetries:  cfg.MaxRetries,
		retryBase:   orDefault(cfg.RetryBaseDelay, defaultRetryBase),
		maxWait:     orDefault(cfg.MaxRetryWait, defaultMaxRetryWait),
		maxDownload: cfg.MaxDownloadBytes,
		now:         time.Now,
	}
	if c.writeTO < MinWriteTimeout {
		return nil, fmt.Errorf("ers: the write timeout must be at least %v (the e-RS backend timeout)", MinWriteTimeout)
	}
	if c.maxRetries == 0 {
		c.maxRetries = defaultMaxRetries
	}
	if c.maxDownload <= 0 {
		c.maxDownload = defaultMaxDownload
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.userAgent == "" {
		c.userAgent = "TriageDesk/" + version.Version
	}
	if c.http, err = nhsapi.HTTPClient("ers", cfg.HTTPClient, c.writeTO); err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// WithIdentity returns a copy of the client whose calls are made as id:
// NHSD-End-User-Organisation-ODS and NHSD-eRS-Business-Function carry its
// ODS code and business function, and NHSD-eRS-On-Behalf-Of-User-ID its
// OnBehalfOf for a clinician admin (SERVICE_PROVIDER_CLINICIAN_ADMIN) only.
// The copy shares the rate limiter and transport; it is cheap.
func (c *Client) WithIdentity(id triage.Identity) *Client {
	return &Client{c: c.c, id: id}
}

// Identity returns the identity the client's calls are made as.
func (c *Client) Identity() triage.Identity { return c.id }

// BaseURL returns the base URL the client calls.
func (c *Client) BaseURL() string { return c.c.base.String() }

// Limiter returns the rate limiter every call waits for, so other NHS API
// Platform clients of the same application (PDS) can share its budget.
func (c *Client) Limiter() *rate.Limiter { return c.c.limiter }

// Meta describes one completed call.
type Meta struct {
	// Op is the e-RS operation id, e.g. "A008".
	Op string
	// Status is the HTTP status of the final response.
	Status int
	// CorrelationID is the X-Correlation-ID sent (or echoed); RequestID is
	// the e-RS transaction id from X-Request-ID.
	CorrelationID string
	RequestID     string
	// Date is the server's Date header, or when the response arrived if it
	// had none.
	Date time.Time
}
