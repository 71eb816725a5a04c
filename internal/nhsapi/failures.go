package nhsapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ErrorLine is what a service client's Error() says of a failed call, for
// logs: what was called ("e-RS A014", "PDS read"), the HTTP status and the
// service's error code when there was an answer, the client's class of the
// failure, the ids to quote (an empty one is left out) and the cause. It
// never includes diagnostics, URLs or patient data.
type ErrorLine struct {
	What          string
	Status        int
	Code          string
	Class         string
	CorrelationID string
	RequestID     string
	Err           error
}

// String formats the line: `e-RS A014: HTTP 409 CONFLICT (conflict,
// correlation …, request …): cause`.
func (l ErrorLine) String() string {
	var b strings.Builder
	b.WriteString(l.What)
	if l.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", l.Status)
	}
	if l.Code != "" {
		fmt.Fprintf(&b, " %s", l.Code)
	}
	fmt.Fprintf(&b, " (%s", l.Class)
	if l.CorrelationID != "" {
		fmt.Fprintf(&b, ", correlation %s", l.CorrelationID)
	}
	if l.RequestID != "" {
		fmt.Fprintf(&b, ", request %s", l.RequestID)
	}
	b.WriteString(")")
	if l.Err != nil {
		fmt.Fprintf(&b, ": %v", l.Err)
	}
	return b.String()
}

// AsUserError is the body of a service error's As method: when target is
// a **triage.Error it is set to user() and As reports true, so
// triage.ErrorMessage and triage.ErrorCodeOf work on the service's errors.
func AsUserError(target any, user func() *triage.Error) bool {
	if t, ok := target.(**triage.Error); ok {
		*t = user()
		return true
	}
	return false
}

// NetworkCause is the cause of a failure to get an answer as a service
// error keeps it: without the url.Error around it (its URL may carry a
// UBRN or an NHS number), and a failed name lookup as a plain "name lookup
// failed" (the lookup error names the host). lookup reports the latter:
// nothing was sent.
func NetworkCause(err error) (cause error, lookup bool) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return errors.New("name lookup failed"), true
	}
	return err, false
}

// Backoff is the wait before retry number attempt+1: base·2^attempt (the
// exponent at most maxExp) with ±20% jitter.
func Backoff(base time.Duration, attempt, maxExp int) time.Duration {
	d := float64(base) * math.Pow(2, float64(min(attempt, maxExp)))
	d *= 0.8 + 0.4*mrand.Float64()
	return time.Duration(d)
}

// Sleep waits for d, or until ctx ends; it reports whether it waited the
// whole time.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
