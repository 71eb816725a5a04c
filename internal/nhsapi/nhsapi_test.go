package nhsapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
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
