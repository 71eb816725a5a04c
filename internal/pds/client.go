package pds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/defaults"
	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/internal/version"
)

// The NHS API Platform's PDS FHIR R4 base URLs.
const (
	SandboxBaseURL     = "https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4"
	IntegrationBaseURL = "https://int.api.service.nhs.uk/personal-demographics/FHIR/R4"
	ProductionBaseURL  = "https://api.service.nhs.uk/personal-demographics/FHIR/R4"
)

// Limits and defaults.
const (
	// DefaultRateLimit is PDS's documented default for an application:
	// 5 requests per second. NHS hosts are never called faster.
	DefaultRateLimit rate.Limit = 5
	// DefaultMaxResponseBytes bounds a Patient response (the largest
	// published example is about 10 KB).
	DefaultMaxResponseBytes = 1 << 20

	defaultTimeout   = 30 * time.Second
	defaultRetries   = 2
	defaultRetryBase = time.Second
	maxRetryWait     = 30 * time.Second
	maxErrorBody     = 64 << 10
	fhirJSON         = "application/fhir+json"
)

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the PDS FHIR R4 base, e.g. IntegrationBaseURL; /Patient/
	// {id} is added to it. It must be https, except to a loopback host.
	BaseURL string
	// TokenSource gives the CIS2 bearer token (the same as e-RS's). Nil
	// sends none (the NHS sandbox needs none).
	TokenSource oauth2.TokenSource
	// Limiter, when set, is the application's shared rate limiter (the
	// e-RS client's): every PDS request also waits for it, so PDS calls
	// count against the same budget as e-RS calls.
	Limiter *rate.Limiter
	// RateLimit is PDS's own limit in requests per second (0:
	// DefaultRateLimit). Above DefaultRateLimit it is refused for NHS hosts
	// and allowed only for loopback or with AllowHighRate.
	RateLimit     rate.Limit
	AllowHighRate bool
	// Timeout bounds one attempt (0: 30 s).
	Timeout time.Duration
	// MaxRetries is how often a read is retried after a network error,
	// 408, 429 or 5xx (0: 2; negative: never). Retries reuse the
	// X-Request-ID, as PDS asks.
	MaxRetries int
	// RetryBaseDelay is the first backoff (0: 1 s), doubling each retry
	// with ±20% jitter; a Retry-After is honoured up to 30 s.
	RetryBaseDelay time.Duration
	// MaxResponseBytes bounds a response (0: DefaultMaxResponseBytes).
	MaxResponseBytes int64
	// HTTPClient sends the requests (nil: a client with its own
	// transport). Redirects are never followed.
	HTTPClient *http.Client
	// Logger receives one line per attempt: status, duration, attempt,
	// kind and the request and correlation ids; never the NHS number,
	// URLs or bodies. Nil discards.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent (default "TriageDesk/<version>").
	UserAgent string
}

// Identity is who the calls are made as: the user's organisation
// (NHSD-End-User-Organisation-ODS) and, when known, the role they chose for
// the session (NHSD-Session-URID).
type Identity struct {
	ODS    string
	RoleID string
}

type core struct {
	base       *url.URL
	ts         oauth2.TokenSource
	shared     *rate.Limiter
	own        *rate.Limiter
	http       *http.Client
	log        *slog.Logger
	userAgent  string
	timeout    time.Duration
	maxRetries int
	retryBase  time.Duration
	maxBytes   int64
	now        func() time.Time
}

// Client reads patients from PDS. It is safe for concurrent use; copies
// made with WithIdentity share the rate limiters and transport.
type Client struct {
	c  *core
	id Identity
}

// New returns a client. It returns an error for a missing or malformed
// base URL, plain http to a non-loopback host, or a rate above what the
// host allows.
func New(cfg Config) (*Client, error) {
	base, r, err := nhsapi.Endpoint("pds", "PDS", cfg.BaseURL, cfg.RateLimit, DefaultRateLimit, DefaultRateLimit, cfg.AllowHighRate)
	if err != nil {
		return nil, err
	}
	c := &core{base: base, ts: cfg.TokenSource, shared: cfg.Limiter, own: rate.NewLimiter(r, 1), log: cfg.Logger,
		userAgent: cfg.UserAgent, timeout: cfg.Timeout, maxRetries: cfg.MaxRetries, retryBase: cfg.RetryBaseDelay,
		maxBytes: cfg.MaxResponseBytes, now: time.Now}
	defaults.Positive(&c.timeout, defaultTimeout)
	defaults.Zero(&c.maxRetries, defaultRetries)
	defaults.Positive(&c.retryBase, defaultRetryBase)
	defaults.Positive(&c.maxBytes, DefaultMaxResponseBytes)
	defaults.Zero(&c.log, slog.New(slog.DiscardHandler))
	defaults.Zero(&c.userAgent, "TriageDesk/"+version.Version)
	if c.http, err = nhsapi.HTTPClient("pds", cfg.HTTPClient, 0); err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// WithIdentity returns a copy whose calls carry id's headers.
func (c *Client) WithIdentity(id Identity) *Client { return &Client{c: c.c, id: id} }

// BaseURL returns the base URL the client calls.
func (c *Client) BaseURL() string { return c.c.base.String() }

// Meta describes a completed call.
type Meta struct {
	Status int
	// RequestID is the X-Request-ID sent (PDS mirrors it); CorrelationID
	// the X-Correlation-ID.
	RequestID     string
	CorrelationID string
	// Date is PDS's Date header, or when the answer arrived.
	Date time.Time
}

// Result is a patient read.
type Result struct {
	// Requested is the NHS number asked for.
	Requested string
	// Patient is the record PDS returned, sanitized (no GP practice for a
	// restricted record; never an address or contact details).
	Patient triage.Patient
	// Superseded is set when PDS returned the record under another NHS
	// number: the requested one was merged into Patient.NHSNumber. This is
	// a normal read for PDS, so it is not an error; show the current
	// number with a warning, never substitute it silently.
	Superseded bool
	// ETag is PDS's ETag, W/"<versionId>".
	ETag string
	Meta Meta
}

// Patient reads a patient by NHS number (GET /Patient/{nhsNumber}). The
// number is checked (10 digits, Modulus 11) before anything is sent. Reads
// are retried after network errors, 408, 429 and 5xx with backoff, reusing
// the X-Request-ID. Errors are *Error.
func (c *Client) Patient(ctx context.Context, nhsNumber string) (*Result, error) {
	nhs := triage.NormalizeNHSNumber(nhsNumber)
	if err := triage.ValidateNHSNumber(nhs); err != nil {
		return nil, &Error{Kind: InvalidNHSNumber, Err: err,
			Message: "This is not a valid NHS number (" + err.Error() + "), so it was not looked up in PDS."}
	}
	reqID, corr := uuid.NewString(), nhsapi.NewCorrelationID()
	for attempt := 0; ; attempt++ {
		res, err := c.attempt(ctx, nhs, reqID, corr, attempt)
		if err == nil {
			return res, nil
		}
		if !err.Kind.Retryable() || attempt >= c.c.maxRetries || ctx.Err() != nil {
			return nil, err
		}
		if !nhsapi.Sleep(ctx, c.backoff(attempt)) {
			return nil, err
		}
	}
}

// backoff is base·2^attempt with ±20% jitter, at most 30 s (PDS sends no
// Retry-After on reads).
func (c *Client) backoff(attempt int) time.Duration {
	return min(nhsapi.Backoff(c.c.retryBase, attempt, 10), maxRetryWait)
}

func (c *Client) attempt(ctx context.Context, nhs, reqID, corr string, n int) (*Result, *Error) {
	start := c.c.now()
	res, err := c.send(ctx, nhs, reqID, corr)
	attrs := []slog.Attr{slog.String("op", "PDS read"), slog.Int("attempt", n+1), slog.Duration("duration", c.c.now().Sub(start)),
		slog.String("request_id", reqID), slog.String("correlation_id", corr)}
	if err != nil {
		attrs = append(attrs, slog.Int("status", err.Status), slog.String("kind", err.Kind.String()))
		if err.Code != "" {
			attrs = append(attrs, slog.String("code", err.Code))
		}
		c.c.log.LogAttrs(ctx, slog.LevelWarn, "PDS call", attrs...)
		return nil, err
	}
	attrs = append(attrs, slog.Int("status", res.Meta.Status), slog.Bool("superseded", res.Superseded))
	c.c.log.LogAttrs(ctx, slog.LevelDebug, "PDS call", attrs...)
	return res, nil
}

func (c *Client) send(ctx context.Context, nhs, reqID, corr string) (*Result, *Error) {
	e := &Error{RequestID: reqID, CorrelationID: corr}
	for _, l := range []*rate.Limiter{c.c.shared, c.c.own} {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			e.Kind, e.Err = Unreachable, err
			e.Message = "The request to PDS was cancelled before it was sent."
			return nil, e
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.c.timeout)
	defer cancel()
	u := *c.c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/Patient/" + nhs
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		e.Kind, e.Err = BadRequest, errors.New("building the request failed")
		e.Message = "Triage Desk could not build the request to PDS. Contact your IT service desk."
		return nil, e
	}
	req.Header.Set("Accept", fhirJSON)
	req.Header.Set("User-Agent", c.c.userAgent)
	req.Header.Set("X-Request-ID", reqID)
	req.Header.Set("X-Correlation-ID", corr)
	if c.id.ODS != "" {
		req.Header.Set("NHSD-End-User-Organisation-ODS", c.id.ODS)
	}
	if c.id.RoleID != "" {
		req.Header.Set("NHSD-Session-URID", c.id.RoleID)
	}
	if c.c.ts != nil {
		tok, err := c.c.ts.Token()
		if err != nil || tok == nil || tok.AccessToken == "" {
			e.Kind, e.Err = Unauthorised, errors.New("no access token")
			if triage.ErrorCodeOf(err) == triage.EUNAVAILABLE {
				e.Kind = Unreachable
				e.Message = "Triage Desk cannot reach the NHS sign-in service just now, so patient details could not be checked. It will try again."
				return nil, e
			}
			e.Message = "Sign in with your NHS Care Identity again so Triage Desk can check patient details with PDS."
			return nil, e
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	hr, err := c.c.http.Do(req)
	if err != nil {
		networkError(e, err)
		return nil, e
	}
	defer hr.Body.Close()
	e.Status = hr.StatusCode
	meta := Meta{Status: hr.StatusCode, RequestID: reqID, CorrelationID: corr, Date: c.c.now().UTC()}
	if d, err := http.ParseTime(hr.Header.Get("Date")); err == nil {
		meta.Date = d.UTC()
	}
	if hr.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(hr.Body, maxErrorBody))
		if o, err := DecodeOperationOutcome(bytes.TrimSpace(b)); err == nil {
			e.Code, _ = o.ErrorCode()
			e.Diagnostics = clip(o.Issue[0].Diagnostics, 500)
		}
		e.classify()
		return nil, e
	}
	b, err := io.ReadAll(io.LimitReader(hr.Body, c.c.maxBytes+1))
	if err != nil {
		networkError(e, err)
		return nil, e
	}
	bad := func(cause error) (*Result, *Error) {
		e.Kind, e.Err = BadResponse, cause
		e.Message = fmt.Sprintf("PDS sent patient details Triage Desk could not read. Try again later; if it keeps happening, contact your IT service desk and quote request id %s.", reqID)
		return nil, e
	}
	if int64(len(b)) > c.c.maxBytes {
		return bad(fmt.Errorf("response larger than %d bytes", c.c.maxBytes))
	}
	r, err := DecodePatient(b)
	if err != nil {
		return bad(err)
	}
	p, err := r.ToPatient()
	if err != nil {
		return bad(err)
	}
	res := &Result{Requested: nhs, Patient: p, Superseded: p.NHSNumber != nhs, ETag: hr.Header.Get("ETag"), Meta: meta}
	return res, nil
}

// networkError classifies a failure to get an answer, keeping the cause
// without the URL (which holds the NHS number).
func networkError(e *Error, err error) {
	err, _ = nhsapi.NetworkCause(err)
	e.Kind, e.Err = Unreachable, err
	switch {
	case errors.Is(err, context.Canceled):
		e.Message = "The request to PDS was cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = "PDS did not answer in time. Triage Desk will try again later."
	default:
		e.Message = "Triage Desk cannot reach PDS, so patient details could not be checked. Check your network connection; Triage Desk will try again."
	}
}

// ReadOf turns the result of Patient into what the cache records: the
// patient found, or the error's outcome and message. at is when the answer
// arrived (this computer's clock).
func ReadOf(requested string, res *Result, err error, at time.Time) triage.PatientRead {
	r := triage.PatientRead{Requested: triage.NormalizeNHSNumber(requested), At: at}
	if err == nil && res != nil {
		p := res.Patient
		r.Outcome, r.Patient, r.ServerTime = triage.PatientFound, &p, res.Meta.Date
		return r
	}
	var e *Error
	if errors.As(err, &e) {
		r.Outcome, r.Message = e.Kind.Outcome(), e.Message
		return r
	}
	r.Outcome, r.Message = triage.PatientUnreachable, "PDS could not be reached."
	return r
}
