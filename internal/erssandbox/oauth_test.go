package erssandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

var noRedirect = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize follows the mock login with a login hint and returns the code.
func authorize(t *testing.T, sb *Sandbox, q url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.Get(sb.AuthBaseURL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp, ""
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return resp, loc.Query().Get("code")
}

func authQuery(sb *Sandbox, extra ...string) url.Values {
	id, _, redirect := sb.OAuthClient()
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirect}, "state": {"st-123"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func tokenPost(t *testing.T, sb *Sandbox, form url.Values, basic bool) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", sb.AuthBaseURL()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		id, secret, _ := sb.OAuthClient()
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("token response is not a JSON object of strings: %s", b)
	}
	return resp.StatusCode, out
}

func TestAuthorizePage(t *testing.T) {
	sb := start(t, Config{Auth: true})
	resp, err := http.Get(sb.LoginURL())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, u := range sb.Users() {
		if !strings.Contains(string(b), u.ID) || !strings.Contains(string(b), "login_hint="+u.ID) {
			t.Errorf("login page does not list %s with a link", u.ID)
		}
	}
	// The page's form posts a username, as the NHS mock does.
	form := authQuery(sb)
	form.Set("username", UserClinician2)
	resp, err = noRedirect.PostForm(sb.AuthBaseURL()+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st-123" {
		t.Errorf("form login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, tc := range []struct {
		name   string
		q      url.Values
		status int
	}{
		{"wrong redirect URI", authQuery(sb, "redirect_uri", "http://127.0.0.1:7655/callback", "login_hint", UserClinician), 400},
		{"no state", authQuery(sb, "state", "", "login_hint", UserClinician), 400},
		{"unknown client", authQuery(sb, "client_id", "someone-else", "login_hint", UserClinician), 401},
		{"plain PKCE method", authQuery(sb, "code_challenge", "abc", "code_challenge_method", "plain", "login_hint", UserClinician), 400},
		{"unknown user", authQuery(sb, "login_hint", "000000000000"), 401},
	} {
		resp, code := authorize(t, sb, tc.q)
		if resp.StatusCode != tc.status || code != "" {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

func TestTokenExchangeWithPKCE(t *testing.T) {
	sb := start(t, Config{Auth: true})
	id, secret, redirect := sb.OAuthClient()
	verifier := oauth2.GenerateVerifier()
	form := func(code string, extra ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {id}, "client_secret": {secret}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	newCode := func() string {
		_, c := authorize(t, sb, authQuery(sb, "login_hint", UserClinician, "code_challenge", oauth2.S256ChallengeFromVerifier(verifier), "code_challenge_method", "S256"))
		if c == "" {
			t.Fatal("no code")
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  bool
		status int
		err    string
	}{
		{"no verifier", form(newCode()), false, 400, "invalid_grant"},
		{"wrong verifier", form(newCode(), "code_verifier", oauth2.GenerateVerifier()), false, 400, "invalid_grant"},
		{"secret in a Basic header", func() url.Values { f := form(newCode(), "code_verifier", verifier); f.Del("client_secret"); return f }(), true, 401, "invalid_request"},
		{"wrong secret", form(newCode(), "code_verifier", verifier, "client_secret", "guess"), false, 401, "invalid_client"},
		{"redirect URI differs", form(newCode(), "code_verifier", verifier, "redirect_uri", redirect+"/"), false, 400, "invalid_request"},
		{"unknown code", form("nope", "code_verifier", verifier), false, 400, "invalid_grant"},
	} {
		status, body := tokenPost(t, sb, tc.form, tc.basic)
		if status != tc.status || body["error"] != tc.err {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.err)
		}
	}
	code := newCode()
	status, tok := tokenPost(t, sb, form(code, "code_verifier", verifier), false)
	if status != 200 || tok["access_token"] == "" || tok["expires_in"] != "599" || tok["refresh_token_expires_in"] != "43199" ||
		tok["refresh_count"] != "0" || tok["token_type"] != "Bearer" || tok["sid"] == "" {
		t.Fatalf("token response %d %v", status, tok)
	}
	if status, body := tokenPost(t, sb, form(code, "code_verifier", verifier), false); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("code used twice: %d %v", status, body)
	}
	if st := sb.Stats(); st.Requests["authorize"] != 6 || st.Requests["token"] != 8 {
		t.Errorf("OAuth2 requests counted %v, want 6 authorize and 8 token", st.Requests)
	}
	// The access token works on the FHIR API and names the user.
	rep := do(t, sb, "GET", "/R4/PractitionerRole", as{Token: tok["access_token"]}, nil)
	if rep.Status != 200 || !strings.Contains(string(rep.Body), UserClinician) {
		t.Errorf("A030 with the new token: %d", rep.Status)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	clock := newClock()
	sb := start(t, Config{Auth: true, Now: clock.Now, SessionCap: 2 * time.Hour, RefreshTokenTTL: 90 * time.Minute, AccessTokenTTL: 10 * time.Minute})
	id, secret, redirect := sb.OAuthClient()
	_, code := authorize(t, sb, authQuery(sb, "login_hint", UserClinician))
	_, tok := tokenPost(t, sb, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {id}, "client_secret": {secret}}, false)
	if tok["expires_in"] != "600" || tok["refresh_token_expires_in"] != "5400" {
		t.Errorf("configured lifetimes: %v", tok)
	}
	refresh := func(rt string) (int, map[string]string) {
		return tokenPost(t, sb, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id}, "client_secret": {secret}}, false)
	}
	who := func(at string) int {
		return do(t, sb, "GET", "/R4/PractitionerRole", as{Token: at}, nil).Status
	}

	clock.Advance(11 * time.Minute)
	if s := who(tok["access_token"]); s != 401 {
		t.Errorf("expired access token: %d, want 401", s)
	}
	status, tok2 := refresh(tok["refresh_token"])
	if status != 200 || tok2["refresh_token"] == tok["refresh_token"] || tok2["access_token"] == tok["access_token"] || tok2["refresh_count"] != "1" {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	if s := who(tok2["access_token"]); s != 200 {
		t.Errorf("refreshed access token: %d", s)
	}
	// Replaying the old refresh token fails.
	if status, body := refresh(tok["refresh_token"]); status != 401 || body["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v, want 401 invalid_grant", status, body)
	}
	// The refresh lifetime shrinks towards the absolute session cap.
	clock.Advance(50 * time.Minute)
	_, tok3 := refresh(tok2["refresh_token"])
	if tok3["refresh_token_expires_in"] != "3540" { // 2h cap - 61 min
		t.Errorf("refresh_token_expires_in %q near the cap, want 3540", tok3["refresh_token_expires_in"])
	}
	clock.Advance(60 * time.Minute)
	if status, body := refresh(tok3["refresh_token"]); status != 401 || body["error"] != "invalid_grant" {
		t.Errorf("beyond the session cap: %d %v", status, body)
	}
}

// TestGoOAuth2Client signs in with golang.org/x/oauth2, as Triage Desk does:
// numbers given as strings are parsed and rotation is visible.
func TestGoOAuth2Client(t *testing.T) {
	sb := start(t, Config{Auth: true})
	id, secret, redirect := sb.OAuthClient()
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: sb.AuthBaseURL() + "/authorize", TokenURL: sb.AuthBaseURL() + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	u := conf.AuthCodeURL("state-9", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", UserClinician))
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "state-9" {
		t.Fatalf("state %q", loc.Query().Get("state"))
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.Expiry); d < 590*time.Second || d > 600*time.Second {
		t.Errorf("expiry in %v, want about 599 s", d)
	}
	if tok.Extra("refresh_token_expires_in") != "43199" {
		t.Errorf("refresh_token_expires_in %v", tok.Extra("refresh_token_expires_in"))
	}
	old := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil || fresh.RefreshToken == old {
		t.Fatalf("refresh: %v, rotated %v", err, fresh != nil && fresh.RefreshToken != old)
	}
	_, err = conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: old}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 401 {
		t.Errorf("reused refresh token: %v", err)
	}
}
