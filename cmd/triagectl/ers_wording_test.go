package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
)

// triagectl ers names e-RS's own refusal (its status, code and words) and
// says what to do, and keeps "a fault in Triage Desk" for an answer it
// could not read; on a read, nothing is said to "be sent".
func TestERSCommandErrorWording(t *testing.T) {
	refused := testutil.Testdata(t, "fhir/outcome-422-invalid-value.json")
	garbled := testutil.Testdata(t, "fhir/worklist-truncated.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Path {
		case "/refused/STU3/ReferralRequest/$ers.fetchworklist":
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(refused)
		case "/garbled/STU3/ReferralRequest/$ers.fetchworklist":
			_, _ = w.Write(garbled)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/FHIR"
	ln.Close()

	for _, tc := range []struct {
		name, base string
		want       []string
		notWant    []string
	}{
		{"a 422 from the server", srv.URL + "/refused",
			[]string{"HTTP 422 INVALID_VALUE: Invalid value", "e-RS said: Triage Desk test fixture", "try again"},
			[]string{"fault in Triage Desk", "will be sent"}},
		{"a reply Triage Desk cannot read", srv.URL + "/garbled",
			[]string{"This is a fault in Triage Desk", "correlation id"},
			[]string{"will be sent"}},
		{"e-RS out of reach", closed,
			[]string{"cannot reach e-RS"},
			[]string{"will be sent", "fault in Triage Desk"}},
	} {
		code, _, errOut := runCLI(t, "ers", "worklist", "--base-url", tc.base, "--ods", "Y00001", "--timeout", "20s")
		if code != 1 {
			t.Errorf("%s: exit %d\n%s", tc.name, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errOut)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(errOut, w) {
				t.Errorf("%s: stderr says %q:\n%s", tc.name, w, errOut)
			}
		}
	}
}
