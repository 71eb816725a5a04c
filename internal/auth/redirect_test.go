package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// headerLog keeps the headers of each request a server received.
type headerLog struct {
	mu sync.Mutex
	h  []http.Header
}

func (l *headerLog) add(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h = append(l.h, h.Clone())
}

func (l *headerLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.h...)
}

func TestERSRedirectToAnotherHostCarriesNoAuthorization(t *testing.T) {
	var store headerLog
	blob := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store.add(r.Header)
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4 synthetic"))
	}))
	defer blob.Close()
	// The same server under another host name: localhost instead of 127.0.0.1.
	blobURL, _ := url.Parse(blob.URL)
	other := "http://localhost:" + blobURL.Port() + "/object-store/att-1?sig=abc"
	var fhirLog headerLog
	fhirSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fhirLog.add(r.Header)
		if r.URL.Path == "/FHIR/R4/Binary/att-1" {
			http.Redirect(w, r, other, http.StatusTemporaryRedirect)
			return
		}
		http.NotFound(w, r)
	}))
	defer fhirSrv.Close()

	env := offlineEnv("td-redirect")
	env.FHIRBaseURL = fhirSrv.URL + "/FHIR"
	seedSession(t, env, "rt-1", clinician)
	for _, tc := range []struct {
		name string
		hc   *http.Client
	}{
		{"own transport", nil},
		// A client that would follow redirects by itself, as http.Client
		// does by default.
		{"caller's client", &http.Client{}},
	} {
		m, err := New(Options{Environment: env, Exchanger: newFakeExchanger("rt-1", "rt-2", "rt-3"), LockTimeout: -1,
			ERS: ersWith(env, ers.Config{HTTPClient: tc.hc, RateLimit: 1000})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Restore(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok := tokenOf(t, m)
		file, err := m.ERS().WithIdentity(m.Identity()).AttachmentR4(context.Background(), "att-1")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.HasPrefix(string(file.Data), "%PDF") {
			t.Errorf("%s: downloaded %q", tc.name, file.Data)
		}
		fh := fhirLog.all()
		if got := fh[len(fh)-1].Get("Authorization"); got != "Bearer "+tok.AccessToken {
			t.Errorf("%s: e-RS got Authorization %q", tc.name, got)
		}
		sh := store.all()
		last := sh[len(sh)-1]
		for name := range last {
			if strings.EqualFold(name, "Authorization") || strings.HasPrefix(strings.ToLower(name), "nhsd-") {
				t.Errorf("%s: the other host received %s", tc.name, name)
			}
		}
		m.Close()
		seedSession(t, env, "rt-1", clinician)
	}
}

func TestTokenRequestIsNotRedirected(t *testing.T) {
	var elsewhere headerLog
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.add(r.Header)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"stolen","expires_in":"599"}`))
	}))
	defer other.Close()
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer tokenSrv.Close()
	env := offlineEnv("td-token-redirect")
	env.AuthBaseURL = tokenSrv.URL
	ex := NewDirectExchanger(env, StaticSecret(testSecret), &http.Client{})
	_, err := ex.Refresh(context.Background(), "rt-secret")
	if !errors.Is(err, ErrTokenServiceUnavailable) || triage.ErrorCodeOf(err) != triage.EUNAVAILABLE {
		t.Errorf("err %v", err)
	}
	if n := len(elsewhere.all()); n != 0 {
		t.Errorf("the refresh token and secret were re-posted to another server (%d requests)", n)
	}
}
