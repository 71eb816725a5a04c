package ers

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
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
	base, loopback, err := nhsapi.BaseURL("ers", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	r, err := nhsapi.Rate("ers", "e-RS", cfg.RateLimit, DefaultRateLimit, MaxNHSRateLimit, base, loopback, cfg.AllowHighRate)
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

// headerMode says which identity headers a call carries.
type headerMode int

const (
	identityFull  headerMode = iota // ODS, business function, on-behalf-of for SPCA
	identityNoOBO                   // ODS and business function only (A036, A040)
	identityNone                    // no identity headers (A030)
)

// call is one e-RS request.
type call struct {
	op          string
	method      string
	path        string // below the base URL, escaped
	query       string // raw query
	body        []byte
	contentType string
	accept      string
	write       bool
	ifMatch     int // version for If-Match (writes)
	headers     map[string]string
	mode        headerMode
	download    bool // a file download: download timeout and size limit
	redirect    bool // follow a redirect to the object store (A042)
}

// response is a successful (2xx) response, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	meta   Meta
}

// do runs a call: it waits for the rate limiter, sends it, and for reads
// retries network errors, 429 and 5xx with backoff. Every error is an *Error.
func (c *Client) do(ctx context.Context, k call) (*response, error) {
	if err := c.checkIdentity(k); err != nil {
		return nil, err
	}
	corr := newCorrelationID()
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, k, corr, attempt)
		if err == nil {
			return resp, nil
		}
		if k.write || attempt >= c.c.maxRetries || (err.Class != Retryable && err.Class != Unreachable) || ctx.Err() != nil {
			return nil, err
		}
		delay := c.backoff(attempt, err.RetryAfter)
		if delay > c.c.maxWait {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// backoff is base·2^attempt with ±20% jitter, or Retry-After if longer.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := float64(c.c.retryBase) * math.Pow(2, float64(min(attempt, 16)))
	d *= 0.8 + 0.4*mrand.Float64()
	return max(time.Duration(d), retryAfter)
}

func (c *Client) checkIdentity(k call) *Error {
	if k.mode == identityFull && c.id.BusinessFunction == triage.RoleServiceProviderClinicianAdmin && c.id.OnBehalfOf == "" {
		return newLocalError(k.op, Forbidden, "As a clinician admin you must choose the clinician you are acting for before Triage Desk can contact e-RS.", nil)
	}
	return nil
}

func (c *Client) timeout(k call) time.Duration {
	switch {
	case k.write:
		return c.c.writeTO
	case k.download:
		return c.c.downloadTO
	}
	return c.c.readTO
}

// attempt sends a call once.
func (c *Client) attempt(ctx context.Context, k call, corr string, n int) (*response, *Error) {
	start := c.c.now()
	e := &Error{Op: k.op, CorrelationID: corr, write: k.write}
	resp, err := c.send(ctx, k, corr, e)
	if err != nil {
		adviceWording(err)
		c.logAttempt(ctx, k, n, start, err.Status, corr, err.RequestID, err.Class.String(), err.Err)
		return nil, err
	}
	c.logAttempt(ctx, k, n, start, resp.status, resp.meta.CorrelationID, resp.meta.RequestID, "", nil)
	return resp, nil
}

func (c *Client) send(ctx context.Context, k call, corr string, e *Error) (*response, *Error) {
	if err := c.c.limiter.Wait(ctx); err != nil {
		e.Class, e.Err = Unreachable, err
		e.Message = "The request to e-RS was cancelled before it was sent. Nothing was changed."
		return nil, e
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout(k))
	defer cancel()
	u := *c.c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + k.path
	u.RawPath = ""
	u.RawQuery = k.query
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u.String(), body)
	if err != nil {
		e.Class, e.Err = Permanent, errors.New("building the request failed")
		e.Message = "Triage Desk could not build the request to e-RS. Contact your IT service desk."
		return nil, e
	}
	if k.body != nil {
		req.Header.Set("Content-Type", k.contentType)
	}
	req.Header.Set("Accept", k.accept)
	req.Header.Set("User-Agent", c.c.userAgent)
	req.Header.Set("X-Correlation-ID", corr)
	if k.write && k.ifMatch > 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`W/"%d"`, k.ifMatch))
	}
	for h, v := range k.headers {
		req.Header.Set(h, v)
	}
	if k.mode != identityNone {
		if c.id.ODS != "" {
			req.Header.Set("NHSD-End-User-Organisation-ODS", c.id.ODS)
		}
		if c.id.BusinessFunction != "" {
			req.Header.Set("NHSD-eRS-Business-Function", string(c.id.BusinessFunction))
		}
		if k.mode == identityFull && c.id.BusinessFunction == triage.RoleServiceProviderClinicianAdmin {
			req.Header.Set("NHSD-eRS-On-Behalf-Of-User-ID", c.id.OnBehalfOf)
		}
	}
	if c.c.ts != nil {
		tok, err := c.c.ts.Token()
		if err != nil || tok == nil || tok.AccessToken == "" {
			e.Err = tokenError(err)
			if triage.ErrorCodeOf(err) == triage.EUNAVAILABLE {
				// The token service could not be reached: the session may
				// still be good, so this is being offline, not signed out.
				e.Class = Unreachable
				e.Message = "Triage Desk cannot reach the NHS sign-in service just now. It will try again; your work is kept."
				return nil, e
			}
			e.Class = AuthRequired
			e.Message = "You need to sign in with your NHS Care Identity again before Triage Desk can contact e-RS. Your work is kept."
			return nil, e
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}

	e.sent = true
	hr, err := c.c.http.Do(req)
	if err != nil {
		c.networkError(ctx, e, err)
		return nil, e
	}
	defer hr.Body.Close()
	meta := Meta{Op: k.op, Status: hr.StatusCode, CorrelationID: corr, RequestID: hr.Header.Get("X-Request-ID")}
	if echoed := hr.Header.Get("X-Correlation-ID"); echoed != "" {
		meta.CorrelationID = echoed
	}
	meta.Date = c.c.now().UTC()
	if d, err := http.ParseTime(hr.Header.Get("Date")); err == nil {
		meta.Date = d.UTC()
	}
	e.Status, e.RequestID, e.CorrelationID = hr.StatusCode, meta.RequestID, meta.CorrelationID
	e.RetryAfter = parseRetryAfter(hr.Header.Get("Retry-After"), c.c.now())

	if k.redirect && isRedirect(hr.StatusCode) {
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, maxErrorBody))
		return c.followRedirect(ctx, req.URL, hr.Header.Get("Location"), meta, e)
	}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(hr.Body, maxErrorBody))
		c.httpError(e, hr.Header.Get("Content-Type"), b)
		return nil, e
	}
	limit := int64(maxJSONBody)
	if k.download {
		limit = c.c.maxDownload
	}
	b, err := readLimited(hr.Body, limit)
	if err != nil {
		c.readError(ctx, e, err)
		return nil, e
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: b, meta: meta}, nil
}

var errTooLarge = errors.New("response body too large")

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

func (c *Client) readError(ctx context.Context, e *Error, err error) {
	if errors.Is(err, errTooLarge) {
		e.Class, e.Err = BadResponse, err
		e.Message = "e-RS sent more data than Triage Desk accepts for one item. Contact your IT service desk."
		return
	}
	c.networkError(ctx, e, err)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// followRedirect fetches A042's temporary download URL with a bare GET: no
// Authorization, no NHSD headers, no correlation id; the URL is neither kept
// nor logged. Failures are Retryable, so a fresh redirect is asked for.
func (c *Client) followRedirect(ctx context.Context, from *url.URL, location string, meta Meta, e *Error) (*response, *Error) {
	fail := func(class Class, cause error, status int) (*response, *Error) {
		e.Class, e.Err, e.Status = class, cause, status
		e.Code, e.Diagnostics = "", ""
		e.Message = "The attachment could not be downloaded from e-RS's file store. Triage Desk will try again."
		return nil, e
	}
	for hop := 0; hop < maxRedirects; hop++ {
		if location == "" {
			return fail(BadResponse, errors.New("redirect without a Location"), e.Status)
		}
		target, err := from.Parse(location)
		if err != nil || (target.Scheme != "https" && !(target.Scheme == "http" && c.c.base.Scheme == "http")) {
			return fail(BadResponse, errors.New("redirect to an unusable location"), e.Status)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
		if err != nil {
			return fail(BadResponse, errors.New("redirect to an unusable location"), e.Status)
		}
		req.Header.Set("Accept", "*/*")
		req.Header.Set("User-Agent", c.c.userAgent)
		hr, err := c.c.http.Do(req)
		if err != nil {
			c.networkError(ctx, e, err)
			e.Message = "The attachment could not be downloaded from e-RS's file store. Triage Desk will try again."
			return nil, e
		}
		if isRedirect(hr.StatusCode) {
			location = hr.Header.Get("Location")
			from = target
			_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, maxErrorBody))
			hr.Body.Close()
			continue
		}
		if hr.StatusCode < 200 || hr.StatusCode > 299 {
			_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, maxErrorBody))
			hr.Body.Close()
			class := Retryable
			if hr.StatusCode == 400 || hr.StatusCode == 405 {
				class = Permanent
			}
			return fail(class, fmt.Errorf("file store answered HTTP %d", hr.StatusCode), hr.StatusCode)
		}
		b, err := readLimited(hr.Body, c.c.maxDownload)
		hr.Body.Close()
		if err != nil {
			c.readError(ctx, e, err)
			return nil, e
		}
		meta.Status = hr.StatusCode
		return &response{status: hr.StatusCode, header: hr.Header, body: b, meta: meta}, nil
	}
	return fail(BadResponse, errors.New("too many redirects"), e.Status)
}

// httpError fills e from an error response: an STU3 or R4
// OperationOutcome, a plain-text body (e.g. a gateway 403) or none (a 429).
func (c *Client) httpError(e *Error, contentType string, body []byte) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && (strings.Contains(contentType, "json") || trimmed[0] == '{') {
		if o, err := fhir.DecodeOperationOutcome(trimmed); err == nil {
			cd := o.ErrorCoding()
			e.Code, e.Display = cd.Code, cd.Display
			e.IssueType = o.First().Code
			e.Diagnostics = o.Diagnostics()
		}
	} else if len(trimmed) > 0 {
		e.Diagnostics = cleanText(trimmed, 500)
	}
	e.classify(c.c.now(), c.id)
}

// cleanText is printable text from a body, at most n runes.
func cleanText(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}

// networkError classifies a failure to get a response. The cause is kept
// without the URL (a url.Error names it, and URLs carry UBRNs).
func (c *Client) networkError(ctx context.Context, e *Error, err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		e.sent = false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		e.sent = false
		err = errors.New("name lookup failed")
	}
	e.Class, e.Err = Unreachable, err
	timedOut := errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
	switch {
	case errors.Is(err, context.Canceled):
		e.Message = "The request to e-RS was cancelled."
	case timedOut && e.write:
		e.Message = "e-RS did not answer in time, so it is not yet known whether your decision was applied. Triage Desk will check the referral before doing anything else."
	case timedOut:
		e.Message = "e-RS did not answer in time. Triage Desk will try again; nothing has been lost."
	case e.write && e.sent:
		e.Message = "The connection to e-RS failed while sending, so it is not yet known whether your decision was applied. Triage Desk will check the referral before doing anything else."
	case e.write:
		// Never sent (the connection could not be made): the decision
		// waits in the outbox.
		e.Message = "Triage Desk cannot reach e-RS. Check your network connection (and HSCN or VPN if your trust uses one). Your decision is kept and will be sent when the connection returns."
	default:
		e.Message = "Triage Desk cannot reach e-RS. Check your network connection (and HSCN or VPN if your trust uses one), then try again; what is already downloaded can still be read."
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func tokenError(err error) error {
	if err == nil {
		return errors.New("no access token")
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The body may echo request details; keep the OAuth error code only.
		return fmt.Errorf("token refresh refused: %s", re.ErrorCode)
	}
	return fmt.Errorf("token: %w", err)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (c *Client) logAttempt(ctx context.Context, k call, attempt int, start time.Time, status int, corr, reqID, class string, cause error) {
	attrs := []slog.Attr{
		slog.String("op", k.op),
		slog.Int("status", status),
		slog.Duration("duration", c.c.now().Sub(start)),
		slog.Int("attempt", attempt+1),
		slog.String("correlation_id", corr),
	}
	if reqID != "" {
		attrs = append(attrs, slog.String("request_id", reqID))
	}
	level := slog.LevelDebug
	if class != "" {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("class", class))
		if kind := causeKind(cause); kind != "" {
			attrs = append(attrs, slog.String("cause", kind))
		}
	}
	c.c.log.LogAttrs(ctx, level, "e-RS call", attrs...)
}

// causeKind names a failure's kind for logs without its text (which may
// contain addresses).
func causeKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	case errors.Is(err, errTooLarge):
		return "too-large"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "network-" + oe.Op
	}
	return "other"
}

// newCorrelationID returns a random UUID (version 4).
func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
