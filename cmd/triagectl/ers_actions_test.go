package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
)

// triagectl ers actions against an e-RS that answers A029 only without a
// version (as the NHS sandbox does for the version A005 gives): it re-reads
// the referral, asks without a version and says so; when e-RS answers
// neither, it says the actions are unknown instead of failing.
func TestERSActionsFallBackWithoutAVersion(t *testing.T) {
	refused := testutil.Testdata(t, "fhir/outcome-400-history-not-supported.json")
	tasks := testutil.Testdata(t, "fhir/tasks-record-review-outcome.json")
	var answerBare atomic.Bool
	answerBare.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch {
		case r.URL.Path == "/fhir/STU3/ReferralRequest/100000000002":
			_, _ = w.Write(ersFixture(t, "referral_awaiting_triage.json"))
		case r.URL.Path == "/fhir/STU3/Task" && !strings.Contains(r.URL.Query().Get("focus"), "/_history/") && answerBare.Load():
			_, _ = w.Write(tasks)
		case r.URL.Path == "/fhir/STU3/Task":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(refused)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	args := []string{"ers", "actions", "100000000002", "--base-url", srv.URL + "/fhir", "--ods", "Y00001"}
	code, out, errOut := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "RECORD_REVIEW_OUTCOME") || !strings.Contains(out, "only when asked without a version") {
		t.Errorf("answered without a version: %d\n%s\n%s", code, out, errOut)
	}
	answerBare.Store(false)
	code, out, errOut = runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "did not say which actions are allowed") {
		t.Errorf("answered for no version: %d\n%s\n%s", code, out, errOut)
	}
}
