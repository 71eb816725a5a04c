package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestSignInFullFlowOverHTTP(t *testing.T) {
	f := newFixture(t)
	var log statusLog
	m := f.manager(t, func(o *Options) { o.OnChange = log.add })
	b := newBrowser(erssandbox.UserClinicianRCD)
	before := time.Now()
	res, err := m.SignIn(context.Background(), b.open)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.result(t); err != nil {
		t.Fatalf("browser: %v", err)
	}

	// The authorize request.
	u, err := url.Parse(b.lastURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	wantParams := map[string]string{
		"response_type": "code", "client_id": f.env.ClientID, "redirect_uri": fmt.Sprintf("http://127.0.0.1:%d/callback", f.port),
		"code_challenge_method": "S256", "acr_values": config.DefaultACRValues, "scope": Scope,
	}
	for k, v := range wantParams {
		if q.Get(k) != v {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < 20 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q or code_challenge %q too short", q.Get("state"), q.Get("code_challenge"))
	}
	if u.Scheme+"://"+u.Host+u.Path != f.env.AuthorizeURL() {
		t.Errorf("authorize URL %s", u.Redacted())
	}

	// Who signed in, and what they may choose.
	if res.UserID != erssandbox.UserClinicianRCD {
		t.Errorf("UserID %q", res.UserID)
	}
	want := RoleOption{ODS: erssandbox.SecondProviderODS, BusinessFunction: triage.RoleServiceProviderClinician,
		Label: "Service provider clinician at RCD", CanVet: true, Allowed: true}
	if len(res.Roles) != 1 || res.Roles[0] != want {
		t.Errorf("roles %+v, want [%+v]", res.Roles, want)
	}
	if res.Suggested == nil || *res.Suggested != want.Choice() {
		t.Errorf("suggested %+v", res.Suggested)
	}
	if st := m.Status(); st.State != StateNeedsRole || st.Identity.SDSUserID != erssandbox.UserClinicianRCD {
		t.Errorf("after sign-in: %+v", st)
	}
	if !m.Identity().IsZero() {
		t.Error("Identity before a role is chosen")
	}

	id, err := m.ChooseRole(context.Background(), *res.Suggested)
	if err != nil {
		t.Fatal(err)
	}
	wantID := triage.Identity{SDSUserID: erssandbox.UserClinicianRCD, ODS: "RCD", BusinessFunction: triage.RoleServiceProviderClinician}
	if id != wantID || m.Identity() != wantID || m.Status().State != StateActive {
		t.Errorf("identity %+v / %+v, state %v", id, m.Identity(), m.Status().State)
	}

	// The token works against the sandbox's e-RS.
	if _, err := m.ERS().WithIdentity(id).PractitionerRoles(context.Background()); err != nil {
		t.Errorf("A030 with the session's token: %v", err)
	}
	tok := tokenOf(t, m)
	// expires_in "599" and refresh_token_expires_in "43199" arrived as strings.
	if d := tok.Expiry.Sub(before); d < 590*time.Second || d > 610*time.Second {
		t.Errorf("access token expiry %v after sign-in, want about 599s", d)
	}
	rec, ok := saved(t, f.env)
	if !ok {
		t.Fatal("no session in the keychain")
	}
	if d := rec.RTExp.Sub(before); d < 43190*time.Second || d > 43210*time.Second {
		t.Errorf("refresh expiry %v after sign-in, want about 43199s", d)
	}
	if rec.RT == "" || rec.ID != wantID || rec.Locked {
		t.Errorf("saved %+v", rec)
	}
	raw := mustJSON(rec)
	if strings.Contains(raw, tok.AccessToken) {
		t.Error("the access token was saved to the keychain")
	}
	if f.calls.count("authorization_code") != 1 || f.calls.count("refresh_token") != 0 {
		t.Errorf("token calls %v", f.calls.grants)
	}
	form := f.calls.lastForm()
	if form.Get("client_secret") != testSecret || form.Get("client_id") != f.env.ClientID || form.Get("code_verifier") == "" ||
		form.Get("redirect_uri") != wantParams["redirect_uri"] {
		t.Errorf("token request form lacks the client credentials, verifier or redirect URI: keys %v", keys(form))
	}
	if sum := sha256.Sum256([]byte(form.Get("code_verifier"))); base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
		t.Error("code_challenge is not S256 of the verifier sent")
	}
	if log.count(StateNeedsRole) == 0 || log.count(StateActive) != 1 {
		t.Errorf("OnChange calls %+v", log.st)
	}
}

func keys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}

func TestBrowserIsToldToReturnToTriageDesk(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	pages := make(chan string, 1)
	open := func(authURL string) error {
		go func() {
			page := "no answer"
			defer func() { pages <- page }()
			u, _ := url.Parse(authURL)
			q := u.Query()
			q.Set("login_hint", erssandbox.UserClinician2)
			u.RawQuery = q.Encode()
			resp, err := http.Get(u.String())
			if err != nil {
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			page = fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Cache-Control"), b)
		}()
		return nil
	}
	if _, err := m.SignIn(context.Background(), open); err != nil {
		t.Fatal(err)
	}
	page := <-pages
	for _, want := range []string{"200 no-store", "You are signed in", "Return to Triage Desk"} {
		if !strings.Contains(page, want) {
			t.Errorf("callback page lacks %q: %s", want, page)
		}
	}
}

func TestSignInRejectsStateMismatch(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	b := newBrowser(erssandbox.UserClinician2)
	b.tamper = func(q url.Values) { q.Set("state", "forged-by-someone-else") }
	_, err := m.SignIn(context.Background(), b.open)
	if !errors.Is(err, ErrStateMismatch) || triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED {
		t.Fatalf("err %v, want ErrStateMismatch", err)
	}
	if err := b.result(t); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("browser: %v, want the callback's 400", err)
	}
	if n := f.calls.count("authorization_code"); n != 0 {
		t.Errorf("the code of a mismatched callback was exchanged (%d)", n)
	}
	if _, ok := saved(t, f.env); ok || m.Status().State != StateSignedOut {
		t.Errorf("state %v after a refused callback", m.Status().State)
	}
}

func TestSignInWithWrongRedirectURIIsRejected(t *testing.T) {
	f := newFixture(t)
	// The app's port differs from the one registered with the platform.
	m := f.manager(t, func(o *Options) {
		o.Environment.RedirectPort = testutil.FreeLoopbackPort(t)
		o.CallbackTimeout = time.Second
	})
	b := newBrowser(erssandbox.UserClinician2)
	_, err := m.SignIn(context.Background(), b.open)
	if !errors.Is(err, ErrCallbackTimeout) {
		t.Fatalf("err %v, want a timeout: the platform never redirects to an unregistered URI", err)
	}
	if err := b.result(t); err == nil || !strings.Contains(err.Error(), "redirect_uri is invalid") {
		t.Errorf("browser: %v, want the platform's redirect_uri refusal", err)
	}

	// The token endpoint checks it too: a code issued for the registered
	// URI is refused with another.
	code, verifier := authorizeDirect(t, f, erssandbox.UserClinician2, oauth2.GenerateVerifier())
	ex := NewDirectExchanger(f.env, StaticSecret(testSecret), nil)
	_, err = ex.Exchange(context.Background(), code, verifier, "http://127.0.0.1:1/callback")
	var oe *OAuthError
	if !errors.Is(err, ErrCodeRefused) || !errors.As(err, &oe) || oe.Description != "redirect_uri is invalid" {
		t.Errorf("exchange with another redirect URI: %v", err)
	}
}

// authorizeDirect gets an authorization code from the sandbox for the
// registered redirect URI with the S256 challenge of verifier, without a
// callback listener.
func authorizeDirect(t *testing.T, f *fixture, user, verifier string) (code, ver string) {
	t.Helper()
	conf := oauth2.Config{ClientID: f.env.ClientID, Endpoint: oauth2.Endpoint{AuthURL: f.env.AuthorizeURL()}, RedirectURL: f.env.RedirectURL()}
	u := conf.AuthCodeURL("s-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", user))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	return loc.Query().Get("code"), verifier
}

func TestPKCEVerifierIsChecked(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	// A code obtained with a challenge the app did not make (an intercepted
	// authorize request) cannot be redeemed with the app's verifier.
	other := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	b := newBrowser(erssandbox.UserClinician2)
	b.tamper = func(q url.Values) { q.Set("code_challenge", other) }
	_, err := m.SignIn(context.Background(), b.open)
	var oe *OAuthError
	if !errors.Is(err, ErrCodeRefused) || !errors.As(err, &oe) || oe.Code != "invalid_grant" || oe.Description != "code_verifier is invalid" {
		t.Fatalf("err %v, want the verifier refused", err)
	}
	if triage.ErrorMessage(err) != msgCodeRefused {
		t.Errorf("message %q", triage.ErrorMessage(err))
	}
	b.result(t)
	if m.Status().State != StateSignedOut {
		t.Errorf("state %v", m.Status().State)
	}

	// And directly: the right verifier works, a wrong or missing one not.
	ex := NewDirectExchanger(f.env, StaticSecret(testSecret), nil)
	for _, tc := range []struct {
		name     string
		verifier func(v string) string
		want     string
	}{
		{"wrong", func(string) string { return oauth2.GenerateVerifier() }, "code_verifier is invalid"},
		{"missing", func(string) string { return "" }, "code_verifier is missing"},
		{"right", func(v string) string { return v }, ""},
	} {
		code, v := authorizeDirect(t, f, erssandbox.UserClinician2, oauth2.GenerateVerifier())
		_, err := ex.Exchange(context.Background(), code, tc.verifier(v), f.env.RedirectURL())
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s verifier: %v", tc.name, err)
		case tc.want != "" && (!errors.As(err, &oe) || oe.Description != tc.want):
			t.Errorf("%s verifier: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSecondCallbackIsRefused(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	signIn(t, m, erssandbox.UserClinician2)
	// The listener is closed after the single callback.
	_, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?code=again&state=again", f.port))
	if err == nil {
		t.Fatal("a second callback was answered after sign-in")
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("second callback: %v, want connection refused", err)
	}

	// While the listener is still open, the handler refuses a second
	// callback itself.
	cb := newCallback("st", "127.0.0.1:7654", time.Now().Add(time.Minute), time.Now, slog.New(slog.DiscardHandler))
	if w := serve(cb, "127.0.0.1:50000", "/callback?code=c1&state=st"); w.Code != http.StatusOK {
		t.Fatalf("first callback %d", w.Code)
	}
	if w := serve(cb, "127.0.0.1:50001", "/callback?code=c2&state=st"); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "already been used") {
		t.Errorf("second callback %d %s", w.Code, w.Body)
	}
	if r := <-cb.result; r.code != "c1" || r.err != nil || len(cb.result) != 0 {
		t.Errorf("result %+v", r)
	}
}

// serve sends one request to the callback handler as if from remote.
func serve(cb *callback, remote, target string, mod ...func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:7654"+target, nil)
	r.RemoteAddr = remote
	for _, fn := range mod {
		fn(r)
	}
	w := httptest.NewRecorder()
	cb.ServeHTTP(w, r)
	return w
}

func TestNonLoopbackCallbackIsRefused(t *testing.T) {
	cb := newCallback("st", "127.0.0.1:7654", time.Now().Add(time.Minute), time.Now, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		name   string
		remote string
		mod    func(*http.Request)
		status int
	}{
		{"another computer", "192.0.2.7:40000", nil, http.StatusForbidden},
		{"IPv6 peer elsewhere", "[2001:db8::1]:40000", nil, http.StatusForbidden},
		{"malformed peer", "nonsense", nil, http.StatusForbidden},
		{"rebinding Host", "127.0.0.1:40000", func(r *http.Request) { r.Host = "evil.example:7654" }, http.StatusMisdirectedRequest},
		{"other path", "127.0.0.1:40000", func(r *http.Request) { r.URL.Path = "/other" }, http.StatusNotFound},
		{"POST", "127.0.0.1:40000", func(r *http.Request) { r.Method = http.MethodPost }, http.StatusMethodNotAllowed},
	} {
		w := serve(cb, tc.remote, "/callback?code=stolen&state=st", func(r *http.Request) {
			if tc.mod != nil {
				tc.mod(r)
			}
		})
		if w.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.status)
		}
	}
	if len(cb.result) != 0 {
		t.Fatal("a refused callback was accepted")
	}
	// None of them used up the sign-in: the real callback still works.
	if w := serve(cb, "127.0.0.1:40001", "/callback?code=good&state=st"); w.Code != http.StatusOK {
		t.Fatalf("loopback callback %d", w.Code)
	}
	if r := <-cb.result; r.code != "good" {
		t.Errorf("code %q", r.code)
	}

	// The listener itself is bound to 127.0.0.1 only.
	port := testutil.FreeLoopbackPort(t)
	srv, err := listenCallback(fmt.Sprintf("127.0.0.1:%d", port), newCallback("st", "", time.Now().Add(time.Minute), time.Now, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	if ip := srv.ln.Addr().(*net.TCPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("listening on %v", ip)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
				continue
			}
			if c, err := net.DialTimeout("tcp4", net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)), time.Second); err == nil {
				c.Close()
				t.Errorf("the callback port answers on %v", ipn.IP)
			}
		}
	}
	if _, err := listenCallback("0.0.0.0:7654", cb); err == nil {
		t.Error("a callback address other than 127.0.0.1 was accepted")
	}
}

func TestLateCallbackIsRefused(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t, func(o *Options) { o.CallbackTimeout = 300 * time.Millisecond })
	var authURL string
	_, err := m.SignIn(context.Background(), func(u string) error { authURL = u; return nil })
	if !errors.Is(err, ErrCallbackTimeout) {
		t.Fatalf("err %v, want ErrCallbackTimeout", err)
	}
	if msg := triage.ErrorMessage(err); msg != "The sign-in was not completed within 1 second. Start the sign-in again from Triage Desk and finish it in your browser." {
		t.Errorf("message %q", triage.ErrorMessage(err))
	}
	// The browser comes back after the wait ended: nobody is listening.
	u, _ := url.Parse(authURL)
	state := u.Query().Get("state")
	if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?code=late&state=%s", f.port, state)); err == nil {
		t.Error("a late callback was answered")
	}
	if f.calls.count("authorization_code") != 0 || m.Status().State != StateSignedOut {
		t.Error("a late callback signed in")
	}

	// A callback reaching the handler after the deadline (before the
	// listener closes) is refused as expired.
	now := time.Now()
	clock := func() time.Time { return now }
	cb := newCallback("st", "127.0.0.1:7654", now.Add(5*time.Minute), clock, slog.New(slog.DiscardHandler))
	now = now.Add(5*time.Minute + time.Second)
	if w := serve(cb, "127.0.0.1:40000", "/callback?code=c&state=st"); w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "expired") {
		t.Errorf("late callback %d %s", w.Code, w.Body)
	}
	if r := <-cb.result; !errors.Is(r.err, ErrCallbackTimeout) || r.code != "" {
		t.Errorf("result %+v", r)
	}
	// And once the wait has expired, even an in-time clock does not help.
	cb2 := newCallback("st", "127.0.0.1:7654", time.Now().Add(time.Minute), time.Now, slog.New(slog.DiscardHandler))
	cb2.expire()
	if w := serve(cb2, "127.0.0.1:40000", "/callback?code=c&state=st"); w.Code != http.StatusGone {
		t.Errorf("callback after the wait ended: %d", w.Code)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5 minutes", time.Minute: "1 minute", 90 * time.Second: "2 minutes",
		30 * time.Second: "30 seconds", 300 * time.Millisecond: "1 second",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestCallbackErrorsEndTheSignIn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		query  string
		want   error
		status int
	}{
		{"cancelled", "error=access_denied&error_description=user+cancelled&state=st", ErrSignInRefused, http.StatusOK},
		{"error without state", "error=access_denied", ErrStateMismatch, http.StatusBadRequest},
		{"no code", "state=st", ErrCodeRefused, http.StatusBadRequest},
		{"two codes", "code=a&code=b&state=st", ErrCodeRefused, http.StatusBadRequest},
		{"two states", "code=a&state=st&state=st", ErrStateMismatch, http.StatusBadRequest},
		{"state prefix", "code=a&state=s", ErrStateMismatch, http.StatusBadRequest},
	} {
		cb := newCallback("st", "127.0.0.1:7654", time.Now().Add(time.Minute), time.Now, slog.New(slog.DiscardHandler))
		w := serve(cb, "127.0.0.1:40000", "/callback?"+tc.query)
		r := <-cb.result
		if w.Code != tc.status || !errors.Is(r.err, tc.want) {
			t.Errorf("%s: %d %v, want %d %v", tc.name, w.Code, r.err, tc.status, tc.want)
		}
		if !strings.Contains(w.Body.String(), "Return to Triage Desk") {
			t.Errorf("%s: page %s", tc.name, w.Body)
		}
	}
}

func TestSignInReportsPortInUse(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", f.port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := f.manager(t)
	opened := false
	_, err = m.SignIn(context.Background(), func(string) error { opened = true; return nil })
	if !errors.Is(err, ErrPortInUse) || triage.ErrorCodeOf(err) != triage.EUNAVAILABLE {
		t.Fatalf("err %v, want ErrPortInUse", err)
	}
	msg := triage.ErrorMessage(err)
	if !strings.Contains(msg, "port "+strconv.Itoa(f.port)) || !strings.Contains(msg, "in use") {
		t.Errorf("message %q does not name the port", msg)
	}
	if opened {
		t.Error("the browser was opened although the callback could not be received")
	}
}

func TestOnlyOneSignInAtATime(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := m.SignIn(ctx, func(string) error { close(started); return nil })
		done <- err
	}()
	<-started
	_, err := m.SignIn(context.Background(), func(string) error { t.Error("second browser opened"); return nil })
	if !errors.Is(err, ErrSignInInProgress) {
		t.Errorf("second sign-in: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sign-in: %v", err)
	}
	// The port is free again.
	signIn(t, m, erssandbox.UserClinician2)
}

func TestBrowserFailureEndsTheSignIn(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	_, err := m.SignIn(context.Background(), func(string) error { return errors.New("no browser") })
	if err == nil || triage.ErrorCodeOf(err) != triage.EUNAVAILABLE {
		t.Fatalf("err %v", err)
	}
	// An unknown test user: the mock shows its login page, not a redirect.
	_, err = m.SignIn(context.Background(), LoginHintBrowser(nil, "999999999999"))
	if err == nil || !strings.Contains(err.Error(), "no test user") {
		t.Errorf("unknown user: %v", err)
	}
}
