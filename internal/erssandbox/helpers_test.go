package erssandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// testAsOf is "today" for test data, so dates do not depend on the day the
// tests run.
var testAsOf = time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC)

// start runs a sandbox for the test, closed at cleanup.
func start(t testing.TB, cfg Config) *Sandbox {
	t.Helper()
	if cfg.AsOf.IsZero() {
		cfg.AsOf = testAsOf
	}
	sb, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// as is who a request is sent as.
type as struct {
	ODS, Function, OnBehalfOf, Token string
}

var (
	asSPC  = as{ODS: ProviderODS, Function: string(triage.RoleServiceProviderClinician)}
	asSPCA = as{ODS: ProviderODS, Function: string(triage.RoleServiceProviderClinicianAdmin), OnBehalfOf: UserClinician}
)

// reply is a response with its body read.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// code returns the e-RS error code of an OperationOutcome body.
func (r reply) code() string {
	oo, err := fhir.DecodeOperationOutcome(r.Body)
	if err != nil {
		return ""
	}
	return oo.ErrorCoding().Code
}

// do sends a request to the sandbox (path relative to the FHIR base URL
// unless it starts with http).
func do(t testing.TB, sb *Sandbox, method, path string, who as, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = sb.BaseURL() + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if who.ODS != "" {
		req.Header.Set(hdrODS, who.ODS)
	}
	if who.Function != "" {
		req.Header.Set(hdrFunction, who.Function)
	}
	if who.OnBehalfOf != "" {
		req.Header.Set(hdrOnBehalfOf, who.OnBehalfOf)
	}
	if who.Token != "" {
		req.Header.Set("Authorization", "Bearer "+who.Token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", fhirJSON)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// pickReferral returns the first referral matching, failing the test if
// there is none.
func pickReferral(t testing.TB, sb *Sandbox, match func(triage.Referral) bool) triage.Referral {
	t.Helper()
	rs := sb.Referrals(match)
	if len(rs) == 0 {
		t.Fatal("no referral in the sandbox matches")
	}
	return rs[0]
}

// reviewable returns referrals on Referrals for Review at R69 of the kind.
func reviewable(sb *Sandbox, typ triage.ReferralType, booking triage.BookingKind) func(triage.Referral) bool {
	on := map[string]bool{}
	for _, it := range sb.Worklist(triage.ListReferralsForReview, ProviderODS) {
		on[it.UBRN] = true
	}
	return func(r triage.Referral) bool {
		if !on[r.UBRN] || r.Type != typ {
			return false
		}
		return booking == "" || r.Booking() == booking
	}
}

func ifm(v int) []string { return []string{"If-Match", etag(v)} }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
