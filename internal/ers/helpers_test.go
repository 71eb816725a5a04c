package ers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const testToken = "SECRET-ACCESS-TOKEN"

// recorded is one request the fake e-RS received.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// fakeERS is an httptest e-RS on 127.0.0.1: handlers by "METHOD /path", and
// a record of every request.
type fakeERS struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	reqs     []recorded
	handlers map[string]http.HandlerFunc
}

func newFake(t *testing.T) *fakeERS {
	f := &fakeERS{t: t, handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		h := f.handlers[r.Method+" "+r.URL.Path]
		f.mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeERS) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[method+" "+path] = h
}

func (f *fakeERS) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeERS) count() int { return len(f.requests()) }

func (f *fakeERS) last() recorded {
	rs := f.requests()
	if len(rs) == 0 {
		f.t.Fatal("no request received")
	}
	return rs[len(rs)-1]
}

// base is the fake's FHIR base URL.
func (f *fakeERS) base() string { return f.srv.URL + "/referrals/FHIR" }

// respond answers with a status, headers and body.
func respond(status int, body []byte, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" && len(body) > 0 && body[0] == '{' {
			w.Header().Set("Content-Type", "application/fhir+json")
		}
		w.Header().Set("X-Request-ID", "req-"+r.Method)
		if c := r.Header.Get("X-Correlation-ID"); c != "" {
			w.Header().Set("X-Correlation-ID", c)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// sequence answers with each handler in turn, repeating the last.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(n, len(hs)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter, _ *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logBuffer collects log output for inspection.
type logBuffer = testutil.SyncBuffer

// spcIdentity is a service provider clinician at a synthetic organisation.
var spcIdentity = triage.Identity{SDSUserID: "100000000101", ODS: "Y00001", BusinessFunction: triage.RoleServiceProviderClinician}

// spcaIdentity is a clinician admin acting for another clinician.
var spcaIdentity = triage.Identity{SDSUserID: "100000000102", ODS: "Y00001",
	BusinessFunction: triage.RoleServiceProviderClinicianAdmin, OnBehalfOf: "100000000301"}

// testClient is a client for the fake with a static token, no rate limit,
// fast retries and a captured log.
func testClient(t *testing.T, f *fakeERS, mutate ...func(*Config)) (*Client, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := Config{
		BaseURL:        f.base(),
		TokenSource:    oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}),
		RateLimit:      rate.Inf,
		RetryBaseDelay: 5 * time.Millisecond,
		Logger:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c.WithIdentity(spcIdentity), logs
}
