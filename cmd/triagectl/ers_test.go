package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ersFixture reads one of the e-RS client's synthetic fixtures.
func ersFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "ers", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeERSServer answers the e-RS paths with fixtures and records headers.
type fakeERSServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newFakeERSServer(t *testing.T) *fakeERSServer {
	f := &fakeERSServer{}
	routes := map[string]func(w http.ResponseWriter){
		"POST /fhir/STU3/ReferralRequest/$ers.fetchworklist": jsonBody(ersFixture(t, "worklist_referrals_for_review.json")),
		"GET /fhir/STU3/ReferralRequest/100000000001":        jsonBody(ersFixture(t, "referral_booked_dbs.json")),
		"GET /fhir/STU3/CodeSystem/PRIORITY":                 jsonBody(ersFixture(t, "codesystem_priority.json")),
		"GET /fhir/R4/PractitionerRole":                      jsonBody(ersFixture(t, "practitioner_roles.json")),
		"GET /fhir/STU3/Task":                                jsonBody(ersFixture(t, "actions_review_and_cancel.json")),
		"POST /fhir/STU3/ReferralRequest/100000000001/$ers.generateCRI": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `attachment; filename="100000000001_CRI.pdf"`)
			_, _ = w.Write([]byte("%PDF-1.4 synthetic CRI"))
		},
		"GET /fhir/R4/Binary/b0000000-0000-4000-8000-000000090001": func(w http.ResponseWriter) {
			w.Header().Set("Location", "/store/object?sig=1")
			w.WriteHeader(http.StatusTemporaryRedirect)
		},
		"GET /store/object": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `attachment; filename*=UTF-8''..%2F..%2Fevil%20letter.pdf`)
			_, _ = w.Write([]byte("%PDF-1.4 synthetic attachment"))
		},
		"GET /fhir/STU3/ReferralRequest/100000000404": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "User does not have the required Business Function at the specified Organisation.")
		},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		h := routes[r.Method+" "+r.URL.Path]
		if h == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("X-Request-ID", "req-1")
		h(w)
	}))
	t.Cleanup(f.Close)
	return f
}

func jsonBody(b []byte) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(b)
	}
}

func (f *fakeERSServer) lastHeader() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[len(f.headers)-1]
}

func TestERSCommands(t *testing.T) {
	f := newFakeERSServer(t)
	base := f.URL + "/fhir"
	id := []string{"--base-url", base, "--ods", "Y00001", "--business-function", "SERVICE_PROVIDER_CLINICIAN"}
	dir := t.TempDir()
	tests := []struct {
		args []string
		want []string
	}{
		{append([]string{"ers", "worklist"}, id...), []string{"REFERRALS_FOR_REVIEW: 3 referrals", "100000000001", "999 100 0003", "2WW", "RAS", "Priority and letter changed", "A008: HTTP 200"}},
		{append([]string{"ers", "referral", "100000000001"}, id...), []string{"Booked", "999 100 0003", "100000000009", "referral-letter.pdf", "PENDING", "still scanning", "Patient needs", "Interpreter"}},
		{append([]string{"ers", "refdata", "priority"}, id...), []string{"PRIORITY", "TWO_WEEK_WAIT", "triage 1 / deferral 3 working days"}},
		{append([]string{"ers", "actions", "100000000001", "--version", "4"}, id...), []string{"RECORD_REVIEW_OUTCOME", "CANCEL_REFERRAL"}},
		{append([]string{"ers", "actions", "100000000001"}, id...), []string{"RECORD_REVIEW_OUTCOME"}},
		{append([]string{"ers", "roles"}, id...), []string{"Y00001", "SERVICE_PROVIDER_CLINICIAN, SERVICE_PROVIDER_CLINICIAN_ADMIN"}},
		{append([]string{"ers", "cri", "100000000001", "--out", filepath.Join(dir, "cri.pdf")}, id...), []string{"Saved the clinical information (22 bytes"}},
		{append([]string{"ers", "attachment", "Binary/b0000000-0000-4000-8000-000000090001", "--out", dir}, id...), []string{"evil letter.pdf"}},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, tt.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tt.args[:3], code, errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args[:3], w, out)
			}
		}
	}
	cri, err := os.ReadFile(filepath.Join(dir, "cri.pdf"))
	if err != nil || string(cri) != "%PDF-1.4 synthetic CRI" {
		t.Errorf("cri.pdf: %q %v", cri, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "cri.pdf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cri.pdf: %v (mode must be 0600)", err)
	}
	// The hostile file name is kept inside --out.
	if b, err := os.ReadFile(filepath.Join(dir, "evil letter.pdf")); err != nil || string(b) != "%PDF-1.4 synthetic attachment" {
		t.Errorf("attachment: %q %v", b, err)
	}
	// A second download never overwrites (the name gets " (2)", as Save a copy does in the app).
	if code, out, _ := runCLI(t, append([]string{"ers", "attachment", "b0000000-0000-4000-8000-000000090001", "--out", dir}, id...)...); code != 0 || !strings.Contains(out, "evil letter (2).pdf") {
		t.Errorf("second save: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, append([]string{"ers", "cri", "100000000001", "--out", filepath.Join(dir, "cri.pdf")}, id...)...); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("overwrite without --force: %d %s", code, errOut)
	}
}

func TestERSHeadersAndToken(t *testing.T) {
	f := newFakeERSServer(t)
	t.Setenv("ERS_TEST_TOKEN", "token-123")
	code, _, errOut := runCLI(t, "ers", "refdata", "PRIORITY", "--base-url", f.URL+"/fhir", "--ods", "Y00001",
		"--business-function", "SERVICE_PROVIDER_CLINICIAN_ADMIN", "--on-behalf-of", "100000000301", "--token-env", "ERS_TEST_TOKEN")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	h := f.lastHeader()
	if h.Get("Authorization") != "Bearer token-123" || h.Get("NHSD-End-User-Organisation-ODS") != "Y00001" ||
		h.Get("NHSD-eRS-Business-Function") != "SERVICE_PROVIDER_CLINICIAN_ADMIN" || h.Get("NHSD-eRS-On-Behalf-Of-User-ID") != "100000000301" {
		t.Errorf("headers %v", h)
	}
	// Without --token-env no Authorization is sent (the NHS sandbox needs none).
	if code, _, errOut := runCLI(t, "ers", "refdata", "PRIORITY", "--base-url", f.URL+"/fhir"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, ok := f.lastHeader()["Authorization"]; ok {
		t.Error("Authorization sent without --token-env")
	}
}

func TestERSErrors(t *testing.T) {
	f := newFakeERSServer(t)
	base := f.URL + "/fhir"
	tests := []struct {
		args    []string
		code    int
		errWant []string
	}{
		{[]string{"ers", "referral", "100000000404", "--base-url", base, "--ods", "Y00001"}, 1,
			[]string{`"Service provider clinician" at organisation Y00001`, "details: e-RS A005: HTTP 403", "e-RS said: User does not have the required Business Function"}},
		{[]string{"ers", "referral", "100000000999", "--base-url", base}, 1, []string{"could not find this referral"}},
		{[]string{"ers", "referral", "--base-url", base}, 2, []string{"give a UBRN"}},
		{[]string{"ers", "cri", "100000000001", "--base-url", base}, 2, []string{"give --out"}},
		{[]string{"ers", "frobnicate"}, 2, []string{"unknown ers subcommand"}},
		{[]string{"ers", "worklist"}, 2, []string{"give --base-url URL"}},
		{[]string{"ers", "worklist", "--base-url", "http://int.api.service.nhs.uk/referrals/FHIR"}, 1, []string{"plain http"}},
		{[]string{"ers", "worklist", "--env", "prod", "--rate", "50"}, 1, []string{"above e-RS's limit"}},
		{[]string{"ers", "worklist", "--base-url", base, "--token-env", "ERS_TEST_UNSET_VARIABLE"}, 1, []string{"is empty"}},
		{[]string{"ers", "attachment", "x", "--out", "/nonexistent/folder", "--base-url", base}, 1, []string{}},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d: %s", tt.args, code, tt.code, errOut)
		}
		for _, w := range tt.errWant {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, errOut)
			}
		}
	}
}
