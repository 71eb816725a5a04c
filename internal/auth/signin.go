package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// authCodeURL is the authorize request: response_type=code, client_id,
// redirect_uri, scope, state, PKCE S256 and acr_values.
func (m *Manager) authCodeURL(state, verifier string) string {
	conf := oauth2.Config{ClientID: m.env.ClientID, Endpoint: oauth2.Endpoint{AuthURL: m.env.AuthorizeURL()},
		RedirectURL: m.env.RedirectURL(), Scopes: []string{Scope}}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if m.env.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", m.env.ACRValues))
	}
	return conf.AuthCodeURL(state, opts...)
}

// SignIn signs the clinician in: it binds the loopback callback
// (127.0.0.1:RedirectPort), calls openBrowser with the authorize URL (the
// app opens the system browser; if that fails it should show the URL and
// return nil), waits up to CallbackTimeout for the single callback,
// checks its state, exchanges the code with the PKCE verifier, saves the
// session and reads the clinician's roles (A030). The session is then
// StateNeedsRole: call ChooseRole with the clinician's choice (or
// SignInResult.Suggested) — unless the same clinician signed in to unlock,
// when the role is restored and the session is StateActive
// (SignInResult.Resumed).
//
// Errors (*triage.Error values): ErrSignInInProgress, ErrPortInUse,
// openBrowser's error, ErrCallbackTimeout, ErrStateMismatch,
// ErrSignInRefused, ErrCodeRefused, ErrClientRejected, ErrSecretMissing,
// ErrTokenServiceUnavailable, ctx's error; or the A030 call's *ers.Error, in
// which case the session is StateNeedsRole and Roles retries it without a
// new sign-in.
func (m *Manager) SignIn(ctx context.Context, openBrowser func(authURL string) error) (*SignInResult, error) {
	if openBrowser == nil && !m.noSignIn {
		return nil, errors.New("auth: SignIn needs a function that opens the browser")
	}
	if !m.signMu.TryLock() {
		return nil, userErr(triage.EINVALID, ErrSignInInProgress, nil, msgInProgress)
	}
	defer m.signMu.Unlock()
	if m.noSignIn {
		return m.signInWithout(ctx)
	}
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	addr := m.env.RedirectAddr()
	cb := newCallback(state, addr, m.now().Add(m.cbTimeout), m.now, m.log)
	srv, err := listenCallback(addr, cb)
	if err != nil {
		m.log.Warn("sign-in callback not bound", "addr", addr, "err", err)
		return nil, err
	}
	defer srv.close()
	m.log.Info("sign-in started", "callback", addr)
	if err := openBrowser(m.authCodeURL(state, verifier)); err != nil {
		return nil, &triage.Error{Code: triage.EUNAVAILABLE, Err: fmt.Errorf("open the sign-in page: %w", err),
			Message: "The sign-in page could not be opened. Start the sign-in again; if it keeps happening, contact your IT service desk."}
	}
	code, err := srv.wait(ctx, m.cbTimeout)
	srv.close()
	if err != nil {
		m.log.Warn("sign-in not completed", "err", err)
		return nil, err
	}
	resp, err := m.ex.Exchange(ctx, code, verifier, m.env.RedirectURL())
	if err != nil {
		m.log.Warn("authorization code not exchanged", "err", err)
		return nil, err
	}
	if resp.RefreshToken == "" {
		m.log.Warn("no refresh token issued: the session ends with the access token")
	}
	now := m.now()
	at := &oauth2.Token{AccessToken: resp.AccessToken, TokenType: resp.TokenType, Expiry: resp.Expiry}
	prev, prevState, err := m.begin(ctx, at, resp.RefreshToken, m.sessionExpiry(now, now, resp, time.Time{}), now)
	if err != nil {
		return nil, err
	}
	m.log.Info("signed in", "refresh_count", resp.RefreshCount)
	return m.rolesAfterSignIn(ctx, prev, prevState)
}

// signInWithout starts a session in an environment without sign-in: no
// browser, no token; then the roles are read as after any sign-in.
func (m *Manager) signInWithout(ctx context.Context) (*SignInResult, error) {
	prev, prevState, err := m.begin(ctx, nil, "", time.Time{}, m.now())
	if err != nil {
		return nil, err
	}
	m.log.Info("session started without sign-in")
	return m.rolesAfterSignIn(ctx, prev, prevState)
}

// begin starts a new session, still without a role, with its tokens (none
// without sign-in), saves it and tells OnChange. It returns who was signed
// in before, and in which state.
func (m *Manager) begin(ctx context.Context, at *oauth2.Token, rt string, rtExp, now time.Time) (triage.Identity, State, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return triage.Identity{}, 0, userErr(triage.EUNAVAILABLE, ErrNotSignedIn, errors.New("manager closed"), msgNotSignedIn)
	}
	prev, prevState := m.id, m.state
	gen := m.installLocked(at, rt, rtExp, now, triage.Identity{}, StateNeedsRole)
	m.warning = ""
	status := m.statusLocked()
	m.mu.Unlock()
	m.Touch()
	_ = m.persist(ctx, gen)
	m.notify(status)
	return prev, prevState, nil
}
