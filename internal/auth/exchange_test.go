package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// tokenServer answers every token request with status and body.
func tokenServer(t *testing.T, status int, body string, seen *url.Values) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("client credentials sent in an Authorization header")
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if seen != nil {
			*seen = r.PostForm
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func envFor(srvURL string) config.Environment {
	env := offlineEnv("td-exchange")
	env.AuthBaseURL = srvURL
	return env
}

func TestTokenResponseNumbersAsStrings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		access     time.Duration // 0: no token expected
		refresh    time.Duration
		count      int
		wantErr    error
		refreshTok string
	}{
		{"NHS strings", `{"access_token":"a","expires_in":"599","refresh_token":"r2","refresh_token_expires_in":"43199","refresh_count":"1","token_type":"Bearer","sid":"s"}`,
			599 * time.Second, 43199 * time.Second, 1, nil, "r2"},
		{"numbers", `{"access_token":"a","expires_in":599,"refresh_token":"r2","refresh_token_expires_in":43199,"refresh_count":3}`,
			599 * time.Second, 43199 * time.Second, 3, nil, "r2"},
		{"decreasing refresh lifetime", `{"access_token":"a","expires_in":"599","refresh_token":"r2","refresh_token_expires_in":"40000"}`,
			599 * time.Second, 40000 * time.Second, -1, nil, "r2"},
		{"junk refresh lifetime", `{"access_token":"a","expires_in":"599","refresh_token":"r2","refresh_token_expires_in":"soon"}`,
			599 * time.Second, 0, -1, nil, "r2"},
		{"negative refresh lifetime", `{"access_token":"a","expires_in":"599","refresh_token":"r2","refresh_token_expires_in":"-5"}`,
			599 * time.Second, 0, -1, nil, "r2"},
		{"huge refresh lifetime", `{"access_token":"a","expires_in":"599","refresh_token":"r2","refresh_token_expires_in":"999999999999"}`,
			599 * time.Second, maxReportedLifetime, -1, nil, "r2"},
		{"no expires_in", `{"access_token":"a","refresh_token":"r2"}`, fallbackAccessTTL, 0, -1, nil, "r2"},
		{"no rotation", `{"access_token":"a","expires_in":"599"}`, 599 * time.Second, 0, -1, nil, "r1"},
		{"unreadable expires_in", `{"access_token":"a","expires_in":"ten minutes"}`, 0, 0, 0, ErrTokenServiceUnavailable, ""},
		{"no access token", `{"expires_in":"599"}`, 0, 0, 0, ErrTokenServiceUnavailable, ""},
		{"not JSON", `<html>gateway</html>`, 0, 0, 0, ErrTokenServiceUnavailable, ""},
	} {
		srv := tokenServer(t, http.StatusOK, tc.body, nil)
		before := time.Now()
		resp, err := NewDirectExchanger(envFor(srv.URL), StaticSecret("s"), nil).Refresh(context.Background(), "r1")
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) || triage.ErrorMessage(err) != msgTokenService {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d := resp.Expiry.Sub(before); d < tc.access-2*time.Second || d > tc.access+2*time.Second {
			t.Errorf("%s: access token lasts %v, want %v", tc.name, d, tc.access)
		}
		if resp.RefreshExpiresIn != tc.refresh || resp.RefreshCount != tc.count || resp.RefreshToken != tc.refreshTok {
			t.Errorf("%s: %+v", tc.name, resp)
		}
	}
}

func TestTokenErrorsAreClassified(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		refresh bool
		want    error
		code    triage.ErrorCode
	}{
		{"reused refresh token", 401, `{"error":"invalid_grant","error_description":"refresh_token is invalid"}`, true, ErrSignInNeeded, triage.EUNAUTHORIZED},
		{"session cap", 401, `{"error":"invalid_grant","error_description":"refresh token refresh period has expired"}`, true, ErrSignInNeeded, triage.EUNAUTHORIZED},
		{"expired code", 400, `{"error":"invalid_grant","error_description":"code is invalid or expired"}`, false, ErrCodeRefused, triage.EUNAUTHORIZED},
		{"wrong secret", 401, `{"error":"invalid_client","error_description":"client_id or client_secret is invalid"}`, true, ErrClientRejected, triage.EFORBIDDEN},
		{"secret missing", 401, `{"error":"invalid_request","error_description":"client_secret is missing"}`, false, ErrClientRejected, triage.EFORBIDDEN},
		{"platform down", 503, `{"error":"server_error"}`, true, ErrTokenServiceUnavailable, triage.EUNAVAILABLE},
		{"rate limited", 429, ``, true, ErrTokenServiceUnavailable, triage.EUNAVAILABLE},
		{"gateway page", 502, `<html>bad gateway</html>`, false, ErrTokenServiceUnavailable, triage.EUNAVAILABLE},
	} {
		srv := tokenServer(t, tc.status, tc.body, nil)
		ex := NewDirectExchanger(envFor(srv.URL), StaticSecret("s"), nil)
		var err error
		if tc.refresh {
			_, err = ex.Refresh(context.Background(), "rt-secret-value")
		} else {
			_, err = ex.Exchange(context.Background(), "code-secret-value", "v", "http://127.0.0.1:7654/callback")
		}
		if !errors.Is(err, tc.want) || triage.ErrorCodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %v (%s)", tc.name, err, tc.want, tc.code)
		}
		if err != nil && (strings.Contains(err.Error(), "secret-value") || strings.Contains(err.Error(), srv.URL)) {
			t.Errorf("%s: the error names a token or the endpoint: %v", tc.name, err)
		}
	}
	// No network at all: the message says so, without the address.
	_, err := NewDirectExchanger(envFor("http://127.0.0.1:1"), StaticSecret("s"), nil).Refresh(context.Background(), "rt")
	if !errors.Is(err, ErrTokenServiceUnavailable) || strings.Contains(err.Error(), "127.0.0.1:1/token") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestDirectExchangerSendsSecretAsFormParameters(t *testing.T) {
	var seen url.Values
	srv := tokenServer(t, http.StatusOK, `{"access_token":"a","expires_in":"599","refresh_token":"r2"}`, &seen)
	ex := NewDirectExchanger(envFor(srv.URL), StaticSecret("the-secret"), nil)
	if _, err := ex.Exchange(context.Background(), "c1", "ver", "http://127.0.0.1:7654/callback"); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"grant_type": {"authorization_code"}, "code": {"c1"}, "code_verifier": {"ver"},
		"redirect_uri": {"http://127.0.0.1:7654/callback"}, "client_id": {"td-exchange"}, "client_secret": {"the-secret"}}
	if seen.Encode() != want.Encode() {
		t.Errorf("exchange form %v, want %v", seen, want)
	}
	if _, err := ex.Refresh(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	want = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r1"}, "client_id": {"td-exchange"}, "client_secret": {"the-secret"}}
	if seen.Encode() != want.Encode() {
		t.Errorf("refresh form %v, want %v", seen, want)
	}
}

func TestSecretFromTheKeychainIT(t *testing.T) {
	f := newFixture(t)
	env := f.env
	env.Secret = config.Secret{Kind: config.SecretKeychain, KeychainService: config.DefaultKeychainService}
	m := f.managerFor(t, env)
	// Not provisioned: a clear message for IT.
	_, err := m.SignIn(context.Background(), newBrowser(erssandbox.UserClinician2).open)
	if !errors.Is(err, ErrSecretMissing) || triage.ErrorMessage(err) != msgSecretMissing {
		t.Fatalf("without the secret: %v", err)
	}
	// IT provisions it under the keychain service with the client id as
	// account; sign-in then works.
	if err := keyring.Set(config.DefaultKeychainService, env.ClientID, testSecret); err != nil {
		t.Fatal(err)
	}
	defer keyring.Delete(config.DefaultKeychainService, env.ClientID)
	res := signIn(t, m, erssandbox.UserClinician2)
	if res.UserID != erssandbox.UserClinician2 {
		t.Errorf("user %q", res.UserID)
	}
	// A wrong secret is a set-up problem, not the clinician's.
	keyring.Set(config.DefaultKeychainService, env.ClientID, "wrong")
	_, err = m.SignIn(context.Background(), newBrowser(erssandbox.UserClinician2).open)
	if !errors.Is(err, ErrClientRejected) || triage.ErrorMessage(err) != msgClientRejected {
		t.Errorf("wrong secret: %v", err)
	}
}

// broker implements the broker contract of docs/auth.md: it accepts the
// token request without a secret, adds the secret and forwards it to the
// platform, and passes the answer back unchanged.
func broker(t *testing.T, platformTokenURL, secret string, forms *[]url.Values) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != BrokerTokenPath {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		*forms = append(*forms, r.PostForm)
		f := r.PostForm
		if f.Get("client_secret") != "" {
			t.Error("the app sent a client secret to the broker")
		}
		f.Set("client_secret", secret)
		resp, err := http.PostForm(platformTokenURL, f)
		if err != nil {
			http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSignInAndRefreshThroughTheBroker(t *testing.T) {
	f := newFixture(t, shortLived)
	var forms []url.Values
	b := broker(t, f.env.TokenURL(), testSecret, &forms)
	env := f.env
	env.Secret = config.Secret{Kind: config.SecretBroker, BrokerURL: b.URL}
	m := f.managerFor(t, env)
	id := signInAs(t, m, erssandbox.UserClinician2, "R69", triage.RoleServiceProviderClinician)
	if len(forms) < 2 || forms[0].Get("grant_type") != "authorization_code" || forms[0].Get("code_verifier") == "" ||
		forms[0].Get("redirect_uri") != env.RedirectURL() || forms[0].Get("client_id") != env.ClientID {
		t.Fatalf("broker requests %v", forms)
	}
	if forms[len(forms)-1].Get("grant_type") != "refresh_token" {
		t.Errorf("refresh did not go through the broker: %v", forms[len(forms)-1])
	}
	m.Close()
	// The session saved by a broker sign-in restores through the broker.
	restoreActive(t, Options{Environment: env, LockTimeout: -1, ERS: ersWith(env, ers.Config{RateLimit: 1000, MaxRetries: -1})}, id, "restore through the broker")
	// The same saved session is not used against the platform directly.
	m3 := f.manager(t, func(o *Options) { o.Environment.ClientID = env.ClientID })
	if st, _ := m3.Restore(context.Background()); st.State != StateSignedOut {
		t.Errorf("a broker session restored without the broker: %v", st.State)
	}
}
