package vetting

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// refuseA029 plays an e-RS that answers A029 for no version (400), and
// passes every other request on.
type refuseA029 struct {
	refusal []byte
	next    http.RoundTripper
}

func (r refuseA029) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/STU3/Task") {
		return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: req,
			Header: http.Header{"Content-Type": {"application/fhir+json"}},
			Body:   io.NopCloser(strings.NewReader(string(r.refusal)))}, nil
	}
	return r.next.RoundTrip(req)
}

// When e-RS will not say which actions are allowed, the decision panel
// offers every decision that fits the referral and says so.
func TestA029UnknownOffersEveryFittingDecision(t *testing.T) {
	// One transport for every request: keep enough idle connections for the
	// prefetch workers, as each component's own client would.
	next := http.DefaultTransport.(*http.Transport).Clone()
	next.MaxIdleConnsPerHost = 32
	hc := &http.Client{Transport: refuseA029{refusal: testutil.Testdata(t, "fhir/outcome-400-history-not-supported.json"), next: next}}
	h := newHarness(t, harnessOptions{httpClient: hc, referrals: 10})
	row := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone
	})
	h.open(row.UBRN)
	dp := h.v.panel.decision
	h.waitFor("the note that the actions are unknown", func() bool { return strings.Contains(dp.a029Note, "every decision that fits") })
	if dp.triageRefused {
		t.Fatal("the triage outcome is refused although e-RS did not say")
	}
	if !strings.Contains(dp.StatusText(), "did not say which actions are allowed") {
		t.Errorf("panel: %s", dp.StatusText())
	}
	h.typeKeys("t")
	if dp.form == nil || dp.form.kind != triage.DecisionReviewOutcome {
		t.Fatal("the triage outcome form did not open")
	}
}
