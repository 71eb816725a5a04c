package ers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/nhsapi"
)

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
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		e.sent = false
	}
	err, lookup := nhsapi.NetworkCause(err)
	if lookup {
		e.sent = false
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
