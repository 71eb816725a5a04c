package ers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/nhsapi"
	"github.com/triagedesk/triagedesk/internal/triage"
)

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
	corr := nhsapi.NewCorrelationID()
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
		if !nhsapi.Sleep(ctx, delay) {
			return nil, err
		}
	}
}

// backoff is base·2^attempt with ±20% jitter, or Retry-After if longer.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	return max(nhsapi.Backoff(c.c.retryBase, attempt, 16), retryAfter)
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
