package nhsapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestBaseURLAndRate(t *testing.T) {
	for _, bad := range []string{"", "ftp://x", "http://example.nhs.uk/x", "https://u:p@h/x", "https://h/x?q=1", "/relative"} {
		if _, _, err := BaseURL("t", bad); err == nil {
			t.Errorf("BaseURL(%q) accepted", bad)
		}
	}
	b, loop, err := BaseURL("t", "http://127.0.0.1:9/FHIR/")
	if err != nil || !loop || b.Path != "/FHIR" {
		t.Fatalf("loopback: %v %v %v", b, loop, err)
	}
	if r, err := Rate("t", "S", 0, 5, 10, b, loop, false); err != nil || r != 5 {
		t.Errorf("default rate: %v %v", r, err)
	}
	if _, err := Rate("t", "S", 50, 5, 10, b, loop, false); err != nil {
		t.Errorf("loopback may go faster: %v", err)
	}
	nhs, _, _ := BaseURL("t", "https://api.service.nhs.uk/x")
	if _, err := Rate("t", "S", 11, 5, 10, nhs, false, true); err == nil {
		t.Error("an NHS host was allowed above its limit")
	}
	other, _, _ := BaseURL("t", "https://test.example.com/x")
	if _, err := Rate("t", "S", rate.Inf, 5, 10, other, false, false); err == nil {
		t.Error("a non-NHS host was allowed above the limit without AllowHighRate")
	}
	if _, err := Rate("t", "S", -1, 5, 10, other, false, false); err == nil {
		t.Error("a negative rate was allowed")
	}
}

func TestHTTPClientNeverFollowsRedirectsOrCarriesCredentials(t *testing.T) {
	hc, err := HTTPClient("t", nil, 0)
	if err != nil || hc.CheckRedirect == nil || hc.Transport == nil {
		t.Fatalf("default client: %+v, %v", hc, err)
	}
	if hc.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("redirects are followed")
	}
	if _, err := HTTPClient("t", &http.Client{Transport: &oauth2.Transport{}}, 0); err == nil {
		t.Error("an oauth2.Transport was accepted")
	}
	if _, err := HTTPClient("t", &http.Client{Timeout: time.Second}, time.Minute); err == nil {
		t.Error("a timeout below the minimum was accepted")
	}
	mine := &http.Client{Timeout: 2 * time.Minute}
	got, err := HTTPClient("t", mine, time.Minute)
	if err != nil || got == mine || mine.CheckRedirect != nil {
		t.Error("the caller's client was changed or not copied")
	}
}

func TestNewCorrelationIDIsAFreshVersion4UUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewCorrelationID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("correlation id %q", id)
		}
		seen[id] = true
	}
}

func TestErrorLineLeavesOutWhatIsNotKnown(t *testing.T) {
	for _, tc := range []struct {
		l    ErrorLine
		want string
	}{
		{ErrorLine{What: "PDS read", Class: "unreachable"}, "PDS read (unreachable)"},
		{ErrorLine{What: "e-RS A014", Status: 409, Code: "CONFLICT", Class: "conflict", CorrelationID: "c", RequestID: "r", Err: errors.New("x")},
			"e-RS A014: HTTP 409 CONFLICT (conflict, correlation c, request r): x"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestAsUserErrorSetsOnlyATriageErrorTarget(t *testing.T) {
	user := func() *triage.Error { return &triage.Error{Code: triage.ENOTFOUND} }
	var te *triage.Error
	if !AsUserError(&te, user) || te.Code != triage.ENOTFOUND {
		t.Errorf("triage target: %v", te)
	}
	var other *url.Error
	if AsUserError(&other, user) {
		t.Error("another target was set")
	}
}

func TestNetworkCauseDropsTheURLAndTheHostName(t *testing.T) {
	cause := errors.New("connection refused")
	got, lookup := NetworkCause(&url.Error{Op: "Get", URL: "https://h/Patient/9000000009", Err: cause})
	if got != cause || lookup {
		t.Errorf("got %v, %v", got, lookup)
	}
	got, lookup = NetworkCause(&url.Error{Op: "Get", URL: "https://h/x", Err: &net.DNSError{Name: "h"}})
	if got.Error() != "name lookup failed" || !lookup {
		t.Errorf("lookup: got %v, %v", got, lookup)
	}
}

func TestBackoffDoublesWithinTheJitterAndSleepStopsWithTheContext(t *testing.T) {
	for attempt, want := range []time.Duration{100, 200, 400, 400} {
		d := Backoff(100*time.Millisecond, attempt, 2)
		if lo, hi := want*8/10*time.Millisecond, want*12/10*time.Millisecond; d < lo || d > hi {
			t.Errorf("attempt %d: %v, want %v..%v", attempt, d, lo, hi)
		}
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("a whole short wait reported cut short")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("a cancelled wait reported whole")
	}
}

func TestEndpointChecksTheURLThenTheRate(t *testing.T) {
	if _, _, err := Endpoint("t", "S", "ftp://x", 0, 5, 10, false); err == nil {
		t.Error("a bad URL was accepted")
	}
	if _, _, err := Endpoint("t", "S", "https://api.service.nhs.uk/x", 11, 5, 10, true); err == nil {
		t.Error("a rate over an NHS host's limit was accepted")
	}
	b, r, err := Endpoint("t", "S", "http://127.0.0.1:9/FHIR/", 0, 5, 10, false)
	if err != nil || b.Path != "/FHIR" || r != 5 {
		t.Errorf("loopback: %v %v %v", b, r, err)
	}
}
