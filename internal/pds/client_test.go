package pds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// fakePDS is an httptest PDS on 127.0.0.1 recording every request.
type fakePDS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	h    http.HandlerFunc
}

func newFake(t *testing.T) *fakePDS {
	f := &fakePDS{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Clone(context.Background()))
		h := f.h
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePDS) handle(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h = h
}

func (f *fakePDS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fakePDS) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

func (f *fakePDS) client(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.BaseURL = f.srv.URL
	if cfg.RateLimit == 0 {
		cfg.RateLimit = rate.Inf
	}
	if cfg.RetryBaseDelay == 0 {
		cfg.RetryBaseDelay = time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// patientJSON is a synthetic Patient resource.
func patientJSON(id, security string, extra map[string]any) []byte {
	r := map[string]any{
		"resourceType": "Patient", "id": id,
		"identifier": []any{map[string]any{"system": SystemNHSNumber, "value": id}},
		"meta":       map[string]any{"versionId": "3", "security": []any{map[string]any{"system": SystemConfidentiality, "code": security}}},
		"name":       []any{map[string]any{"use": "usual", "family": "Hollis", "given": []string{"Margaret", "Ann"}, "prefix": []string{"Mrs"}}},
		"gender":     "female", "birthDate": "1950-03-12",
		"generalPractitioner": []any{map[string]any{"type": "Organization", "identifier": map[string]any{"system": SystemODS, "value": "Y12345"}}},
		"address":             []any{map[string]any{"use": "home", "line": []string{"1 Example Road", "Leeds"}, "postalCode": "LS1 6AE"}},
		"telecom":             []any{map[string]any{"system": "phone", "value": "01632960587"}},
	}
	for k, v := range extra {
		r[k] = v
	}
	b, _ := json.Marshal(r)
	return b
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPatientSendsPDSHeadersWithAFreshRequestIDPerRead(t *testing.T) {
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(patientJSON("9434765919", "U", nil))
	})
	c := f.client(t, Config{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok123"})}).
		WithIdentity(Identity{ODS: "R69", RoleID: "555021935107"})
	for range 2 {
		if _, err := c.Patient(context.Background(), "943 476 5919"); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	for _, r := range reqs {
		if r.URL.Path != "/Patient/9434765919" || r.Method != http.MethodGet {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		h := r.Header
		if h.Get("Authorization") != "Bearer tok123" || h.Get("NHSD-End-User-Organisation-ODS") != "R69" ||
			h.Get("NHSD-Session-URID") != "555021935107" || h.Get("Accept") != fhirJSON {
			t.Errorf("headers %v", h)
		}
		if !uuidRE.MatchString(h.Get("X-Request-ID")) || !uuidRE.MatchString(h.Get("X-Correlation-ID")) {
			t.Errorf("X-Request-ID %q, X-Correlation-ID %q: want version 4 UUIDs", h.Get("X-Request-ID"), h.Get("X-Correlation-ID"))
		}
	}
	if reqs[0].Header.Get("X-Request-ID") == reqs[1].Header.Get("X-Request-ID") {
		t.Error("two reads sent the same X-Request-ID")
	}
}

func TestRetriesReuseTheRequestID(t *testing.T) {
	f := newFake(t)
	var n int
	f.handle(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n < 3 {
			w.WriteHeader([]int{http.StatusServiceUnavailable, http.StatusTooManyRequests}[n-1])
			return
		}
		_, _ = w.Write(patientJSON("9434765919", "U", nil))
	})
	if _, err := f.client(t, Config{}).Patient(context.Background(), "9434765919"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.Header.Get("X-Request-ID") != reqs[0].Header.Get("X-Request-ID") {
			t.Error("a retry sent a new X-Request-ID: PDS could not de-duplicate it")
		}
	}
}

func TestTypedErrors(t *testing.T) {
	cases := []struct {
		status int
		code   string
		kind   Kind
	}{
		{400, "INVALID_RESOURCE_ID", InvalidNHSNumber},
		{400, "MISSING_VALUE", BadRequest},
		{401, "ACCESS_DENIED", Unauthorised},
		{403, "ACCESS_DENIED", Forbidden},
		{404, "RESOURCE_NOT_FOUND", NotFound},
		{404, "INVALIDATED_RESOURCE", NotFound},
		{408, "UNABLE_TO_CALL_SERVICE", Unavailable},
		{429, "TOO_MANY_REQUESTS", TooManyRequests},
		{500, "UNKNOWN_ERROR", Unavailable},
		{302, "", BadResponse},
	}
	for _, c := range cases {
		f := newFake(t)
		f.handle(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://elsewhere.example/")
			w.WriteHeader(c.status)
			if c.code != "" {
				_ = json.NewEncoder(w).Encode(NewOperationOutcome("error", "value", c.code, "x", "Invalid value - '9434765919'"))
			}
		})
		_, err := f.client(t, Config{MaxRetries: -1}).Patient(context.Background(), "9434765919")
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.kind || e.Status != c.status || e.Code != c.code || e.Message == "" {
			t.Errorf("HTTP %d %s: %#v", c.status, c.code, err)
			continue
		}
		if strings.Contains(e.Error(), "9434765919") {
			t.Errorf("HTTP %d: the error names the NHS number: %s", c.status, e.Error())
		}
		var te *triage.Error
		if !errors.As(err, &te) || te.Message != e.Message {
			t.Errorf("HTTP %d: no triage.Error", c.status)
		}
		if f.count() != 1 {
			t.Errorf("HTTP %d: %d requests with retries off", c.status, f.count())
		}
	}
}

func TestUnreachablePDS(t *testing.T) {
	f := newFake(t)
	url := f.srv.URL
	f.srv.Close()
	c, err := New(Config{BaseURL: url, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Patient(context.Background(), "9434765919")
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unreachable || !e.Kind.Retryable() || strings.Contains(e.Error(), "9434765919") {
		t.Fatalf("err = %v", err)
	}
	if r := ReadOf("9434765919", nil, err, time.Now()); r.Outcome != triage.PatientUnreachable || r.Message == "" {
		t.Errorf("ReadOf = %+v", r)
	}
}

func TestRestrictedRecordNeverYieldsLocationOrContact(t *testing.T) {
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) {
		// A server that wrongly sends a restricted patient's GP, address
		// and phone number.
		_, _ = w.Write(patientJSON("9434765919", "R", nil))
	})
	res, err := f.client(t, Config{}).Patient(context.Background(), "9434765919")
	if err != nil {
		t.Fatal(err)
	}
	if res.Patient.GPPractice != "" || res.Patient.Restriction != triage.RestrictionRestricted {
		t.Fatalf("restricted patient = %+v", res.Patient)
	}
	js, _ := json.Marshal(res)
	for _, leak := range []string{"Y12345", "Example Road", "LS1", "01632960587"} {
		if bytes.Contains(js, []byte(leak)) {
			t.Errorf("the result carries %q", leak)
		}
	}
	// Unrestricted: the GP practice is kept, never the address or phone.
	f.handle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(patientJSON("9434765919", "U", nil)) })
	res, err = f.client(t, Config{}).Patient(context.Background(), "9434765919")
	if err != nil || res.Patient.GPPractice != "Y12345" {
		t.Fatalf("unrestricted: %+v, %v", res, err)
	}
	js, _ = json.Marshal(res)
	if bytes.Contains(js, []byte("Example Road")) || bytes.Contains(js, []byte("01632960587")) {
		t.Error("an unrestricted result carries the address or phone number")
	}
}

func TestSupersededNumberIsAFlaggedReadNotASilentSwap(t *testing.T) {
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(patientJSON("9732110317", "U", nil)) })
	res, err := f.client(t, Config{}).Patient(context.Background(), "9434765919")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Superseded || res.Requested != "9434765919" || res.Patient.NHSNumber != "9732110317" {
		t.Fatalf("merged record: %+v", res)
	}
	var l triage.PatientLookup
	l.Apply(ReadOf("9434765919", res, nil, time.Now()))
	if !l.Superseded() {
		t.Error("the lookup does not say the number was superseded")
	}
}

func TestBadResponsesAreErrorsNotPanics(t *testing.T) {
	bodies := map[string][]byte{
		"not JSON":            []byte("<html>"),
		"other resource":      []byte(`{"resourceType":"Bundle","id":"9434765919"}`),
		"id not NHS":          patientJSON("12345", "U", nil),
		"bad birth date":      patientJSON("9434765919", "U", map[string]any{"birthDate": "12/03/1950"}),
		"bad gender":          patientJSON("9434765919", "U", map[string]any{"gender": "f"}),
		"two resources":       append(patientJSON("9434765919", "U", nil), patientJSON("9434765919", "U", nil)...),
		"too large":           bytes.Repeat([]byte(" "), 2048),
		"empty":               nil,
		"deceased date wrong": patientJSON("9434765919", "U", map[string]any{"deceasedDateTime": "yesterday"}),
	}
	for name, body := range bodies {
		f := newFake(t)
		f.handle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
		_, err := f.client(t, Config{MaxResponseBytes: 1024}).Patient(context.Background(), "9434765919")
		var e *Error
		if !errors.As(err, &e) || e.Kind != BadResponse {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestEveryReadWaitsForTheSharedLimiter(t *testing.T) {
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(patientJSON("9434765919", "U", nil)) })
	shared := rate.NewLimiter(rate.Every(time.Hour), 1)
	c := f.client(t, Config{Limiter: shared})
	if _, err := c.Patient(context.Background(), "9434765919"); err != nil {
		t.Fatal(err)
	}
	// The one token is spent: the next read must wait for the shared
	// limiter, so with a short deadline it never reaches PDS.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Patient(ctx, "9434765919")
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unreachable || f.count() != 1 {
		t.Fatalf("err = %v, requests = %d", err, f.count())
	}
}

func TestNewRefusesUnsafeConfigurations(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: ""},
		{BaseURL: "http://pds.example.nhs.uk/FHIR/R4"},
		{BaseURL: "https://api.service.nhs.uk/personal-demographics/FHIR/R4", RateLimit: 10},
		{BaseURL: "https://pds.example.com/R4", RateLimit: 50},
		{BaseURL: "https://user:pw@pds.example.com/R4"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{BaseURL: "http://127.0.0.1:9000", RateLimit: 50}); err != nil {
		t.Errorf("loopback: %v", err)
	}
}

func TestLogsCarryIdsNotPatientData(t *testing.T) {
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(t, Config{Logger: log})
	_, _ = c.Patient(context.Background(), "9434765919")
	f.handle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(patientJSON("9434765919", "U", nil)) })
	_, _ = c.Patient(context.Background(), "9434765919")
	out := buf.String()
	if !strings.Contains(out, "request_id=") || strings.Count(out, "PDS call") != 2 {
		t.Fatalf("log:\n%s", out)
	}
	for _, leak := range []string{"9434765919", "943 476 5919", "Hollis", "1950", "Patient/"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log contains %q:\n%s", leak, out)
		}
	}
}
