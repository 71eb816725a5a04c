package erssandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AuthPath is where the mock OAuth2 server is mounted, as on the NHS API
// Platform's mock CIS2 service.
const AuthPath = "/oauth2-mock"

// authCodeTTL is how long an authorization code may be exchanged.
const authCodeTTL = 60 * time.Second

// oauthConfig is the registered client and the token lifetimes.
type oauthConfig struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	SessionCap   time.Duration
}

type authCode struct {
	user      string
	redirect  string
	challenge string
	expires   time.Time
}

type session struct {
	id       string
	user     string
	started  time.Time
	refreshN int
}

type accessToken struct {
	user    string
	expires time.Time
	session *session
}

type refreshToken struct {
	session *session
	expires time.Time
	used    bool
}

// oauthServer is a mock of the NHS API Platform's /oauth2-mock: an authorize
// page listing test users and a token endpoint with the platform's rules
// (client secret as a form parameter, exact redirect URI, PKCE S256 when a
// challenge was sent, numbers as strings, refresh-token rotation with reuse
// detection and an absolute session cap).
type oauthServer struct {
	cfg   oauthConfig
	now   func() time.Time
	users []TestUser

	mu      sync.Mutex
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*refreshToken
}

func newOAuthServer(cfg oauthConfig, users []TestUser, now func() time.Time) *oauthServer {
	return &oauthServer{cfg: cfg, now: now, users: users, codes: map[string]*authCode{},
		access: map[string]*accessToken{}, refresh: map[string]*refreshToken{}}
}

func (o *oauthServer) user(id string) (TestUser, bool) {
	for _, u := range o.users {
		if u.ID == id {
			return u, true
		}
	}
	return TestUser{}, false
}

// routes mounts the endpoints; seen is called with "authorize" or "token"
// for every request.
func (o *oauthServer) routes(mux *http.ServeMux, seen func(r *http.Request, op string)) {
	count := func(op string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			seen(r, op)
			h(w, r)
		}
	}
	mux.HandleFunc("GET "+AuthPath+"/authorize", count("authorize", o.authorize))
	mux.HandleFunc("POST "+AuthPath+"/authorize", count("authorize", o.authorize))
	mux.HandleFunc("POST "+AuthPath+"/token", count("token", o.token))
	mux.HandleFunc(AuthPath+"/token", count("token", func(w http.ResponseWriter, _ *http.Request) {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "the token endpoint accepts POST only")
	}))
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mock NHS CIS2 login (Triage Desk sandbox)</title>
<style>body{font-family:Arial,sans-serif;margin:2em;max-width:40em;color:#212b32}h1{color:#005eb8}li{margin:.6em 0}.note{background:#fff9c4;padding:.6em}</style></head>
<body><h1>Mock NHS CIS2 login</h1>
<p class="note">This is the Triage Desk sandbox. Every user and patient here is synthetic.</p>
{{if .Error}}<p role="alert"><strong>{{.Error}}</strong></p>{{end}}
<p>Choose a test user to sign in as:</p>
<ul>{{range .Users}}<li><a href="{{.Link}}">{{.Name}}</a> ({{.ID}}): {{.Roles}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>User ID <input name="username" autocomplete="off"></label> <button type="submit">Sign in</button></form>
</body></html>`))

// authorize is GET/POST {auth}/authorize. It validates the client, redirect
// URI, state and PKCE parameters; with login_hint (or the form's username)
// naming a test user it completes the sign-in at once with a 302 to the
// redirect URI, otherwise it shows the test users to choose from.
func (o *oauthServer) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the request could not be parsed")
		return
	}
	q := r.Form
	switch {
	case q.Get("client_id") == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_id is missing")
		return
	case q.Get("client_id") != o.cfg.ClientID:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id is invalid")
		return
	case q.Get("redirect_uri") != o.cfg.RedirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is invalid")
		return
	case q.Get("response_type") != "code":
		oauthError(w, http.StatusBadRequest, "invalid_request", "response_type is invalid")
		return
	case q.Get("state") == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "state is missing")
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code_challenge_method is invalid: only S256 is supported")
		return
	}
	who := q.Get("login_hint")
	if who == "" {
		who = q.Get("username")
	}
	if who != "" {
		if _, ok := o.user(who); ok {
			code := rand.Text()
			o.mu.Lock()
			o.codes[code] = &authCode{user: who, redirect: q.Get("redirect_uri"), challenge: challenge, expires: o.now().Add(authCodeTTL)}
			o.mu.Unlock()
			to, _ := url.Parse(o.cfg.RedirectURI)
			v := to.Query()
			v.Set("code", code)
			v.Set("state", q.Get("state"))
			to.RawQuery = v.Encode()
			http.Redirect(w, r, to.String(), http.StatusFound)
			return
		}
	}
	o.loginPage(w, r, q, who)
}

func (o *oauthServer) loginPage(w http.ResponseWriter, r *http.Request, q url.Values, unknown string) {
	type row struct{ ID, Name, Roles, Link string }
	hidden := map[string]string{}
	for k := range q {
		if k != "login_hint" && k != "username" {
			hidden[k] = q.Get(k)
		}
	}
	var rows []row
	for _, u := range o.users {
		v := url.Values{}
		for k, val := range hidden {
			v.Set(k, val)
		}
		v.Set("login_hint", u.ID)
		var roles []string
		for _, ro := range u.Roles {
			for _, bf := range ro.BusinessFunctions {
				roles = append(roles, bf.Label()+" at "+ro.ODS)
			}
		}
		rows = append(rows, row{ID: u.ID, Name: u.Name, Roles: strings.Join(roles, "; "), Link: AuthPath + "/authorize?" + v.Encode()})
	}
	data := map[string]any{"Users": rows, "Hidden": hidden, "Action": AuthPath + "/authorize"}
	if unknown != "" {
		data["Error"] = "There is no test user with that ID. Choose one from the list."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if unknown != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	_ = loginPage.Execute(w, data)
}

// s256 is the PKCE S256 transform of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// token is POST {auth}/token for the authorization_code and refresh_token
// grants.
func (o *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	if _, _, basic := r.BasicAuth(); basic && r.PostFormValue("client_secret") == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_request", "client_secret is missing")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the request could not be parsed")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("client_id") == "":
		oauthError(w, http.StatusUnauthorized, "invalid_request", "client_id is missing")
		return
	case f.Get("client_secret") == "":
		oauthError(w, http.StatusUnauthorized, "invalid_request", "client_secret is missing")
		return
	case f.Get("client_id") != o.cfg.ClientID || subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(o.cfg.ClientSecret)) != 1:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id or client_secret is invalid")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		o.exchangeCode(w, f)
	case "refresh_token":
		o.refreshGrant(w, f)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is missing")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type is invalid")
	}
}

func (o *oauthServer) exchangeCode(w http.ResponseWriter, f url.Values) {
	if f.Get("redirect_uri") != o.cfg.RedirectURI {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is invalid")
		return
	}
	code := f.Get("code")
	if code == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code is missing")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.codes[code]
	delete(o.codes, code) // single use, whatever the outcome
	now := o.now()
	switch {
	case !ok || now.After(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code is invalid or expired")
		return
	case c.redirect != f.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is invalid")
		return
	case c.challenge != "" && f.Get("code_verifier") == "":
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier is missing")
		return
	case c.challenge != "" && subtle.ConstantTimeCompare([]byte(s256(f.Get("code_verifier"))), []byte(c.challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier is invalid")
		return
	}
	sess := &session{id: rand.Text(), user: c.user, started: now}
	o.issue(w, sess, now)
}

func (o *oauthServer) refreshGrant(w http.ResponseWriter, f url.Values) {
	rt := f.Get("refresh_token")
	if rt == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is missing")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	t, ok := o.refresh[rt]
	switch {
	case !ok || t.used || !now.Before(t.expires):
		oauthError(w, http.StatusUnauthorized, "invalid_grant", "refresh_token is invalid")
		return
	case !now.Before(t.session.started.Add(o.cfg.SessionCap)):
		oauthError(w, http.StatusUnauthorized, "invalid_grant", "refresh token refresh period has expired")
		return
	}
	t.used = true
	t.session.refreshN++
	o.issue(w, t.session, now)
}

// issue writes a token response for the session with a new access token and
// a new refresh token. The caller holds o.mu.
func (o *oauthServer) issue(w http.ResponseWriter, sess *session, now time.Time) {
	at, rt := rand.Text(), rand.Text()
	rtTTL := o.cfg.RefreshTTL
	if capLeft := sess.started.Add(o.cfg.SessionCap).Sub(now); capLeft < rtTTL {
		rtTTL = capLeft
	}
	o.access[at] = &accessToken{user: sess.user, expires: now.Add(o.cfg.AccessTTL), session: sess}
	o.refresh[rt] = &refreshToken{session: sess, expires: now.Add(rtTTL)}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"access_token":             at,
		"expires_in":               strconv.Itoa(int(o.cfg.AccessTTL / time.Second)),
		"refresh_token":            rt,
		"refresh_token_expires_in": strconv.Itoa(int(rtTTL / time.Second)),
		"refresh_count":            strconv.Itoa(sess.refreshN),
		"token_type":               "Bearer",
		"sid":                      sess.id,
	})
}

// authenticate returns the user of a bearer access token, or why it is not
// accepted: missing, unknown or expired.
func (o *oauthServer) authenticate(header string) (TestUser, string) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return TestUser{}, "missing"
	}
	o.mu.Lock()
	at, found := o.access[strings.TrimSpace(tok)]
	o.mu.Unlock()
	if !found {
		return TestUser{}, "unknown"
	}
	if !o.now().Before(at.expires) {
		return TestUser{}, "expired"
	}
	u, ok := o.user(at.user)
	if !ok {
		return TestUser{}, "unknown"
	}
	return u, ""
}

// mint issues an access token for a user directly (for tests and demo mode),
// as if they had signed in.
func (o *oauthServer) mint(userID string) (string, bool) {
	if _, ok := o.user(userID); !ok {
		return "", false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	at := rand.Text()
	o.access[at] = &accessToken{user: userID, expires: now.Add(o.cfg.AccessTTL), session: &session{id: rand.Text(), user: userID, started: now}}
	return at, true
}
