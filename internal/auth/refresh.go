package auth

import (
	"context"
	"errors"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TokenSourceFor returns a bearer-token source like TokenSource that hands
// out tokens only while the session is signed in as the clinician with SDS
// user id userID. The app gives it to the e-RS client of that clinician's
// workspace, so that work queued by one clinician can never be sent with
// another clinician's token, even if someone else signs in while a request
// is being prepared: the check and the choice of token are made together.
//
// Token fails like TokenSource's, and with an EUNAUTHORIZED *triage.Error
// wrapping ErrOtherUser when the session belongs to someone else (or its
// clinician is not known yet, during a sign-in); no network call is made
// then.
func (m *Manager) TokenSourceFor(userID string) oauth2.TokenSource {
	return &sessionTokenSource{m: m, user: userID, bound: true}
}

// sessionTokenSource is the stable token source handed to the e-RS client;
// when bound, it serves only user's session.
type sessionTokenSource struct {
	m     *Manager
	user  string
	bound bool
}

// Token implements oauth2.TokenSource.
func (s *sessionTokenSource) Token() (*oauth2.Token, error) {
	m := s.m
	m.mu.Lock()
	st, src, msg, gen, rtExp, who := m.state, m.src, m.message, m.gen, m.rtExp, m.id.SDSUserID
	m.mu.Unlock()
	if !st.hasTokens() || src == nil {
		return nil, stateError(st, msg)
	}
	if s.bound && (who == "" || who != s.user) {
		// src belongs to this generation's session, whose clinician is
		// who: its tokens are never handed to another clinician's work.
		return nil, userErr(triage.EUNAUTHORIZED, ErrOtherUser, nil, msgOtherUser)
	}
	if !rtExp.IsZero() && !m.now().Before(rtExp) {
		// The session's absolute end also ends a still-valid access token.
		m.endSession(gen, msgSessionCap, "session time limit reached")
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, nil, msgSessionCap)
	}
	return src.Token()
}

// refresher redeems the session's refresh token. It is wrapped in
// oauth2.ReuseTokenSourceWithExpiry, which calls it from one goroutine at a
// time when the access token is (nearly) expired.
type refresher struct {
	m   *Manager
	gen uint64
}

// Token redeems the refresh token, saves the rotated one to the keychain
// and only then returns the new access token. invalid_grant or an expired
// session ends the session once (StateSignInNeeded).
func (r *refresher) Token() (*oauth2.Token, error) {
	m := r.m
	m.mu.Lock()
	if m.gen != r.gen || !m.state.hasTokens() {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, stateError(st, msg)
	}
	rt, rtExp, since := m.rt, m.rtExp, m.since
	m.mu.Unlock()
	now := m.now()
	if rt == "" || (!rtExp.IsZero() && !now.Before(rtExp)) {
		m.endSession(r.gen, msgSessionCap, "session time limit reached")
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, nil, msgSessionCap)
	}
	ctx, cancel := context.WithTimeout(m.bg, refreshTimeout)
	defer cancel()
	resp, err := m.ex.Refresh(ctx, rt)
	if err != nil {
		if errors.Is(err, ErrSignInNeeded) {
			var oe *OAuthError
			why := "refresh refused"
			if errors.As(err, &oe) {
				why = "refresh refused: " + oe.Code
			}
			m.endSession(r.gen, msgSignInNeeded, why)
		} else {
			m.log.Warn("session not renewed", "err", err)
		}
		return nil, err
	}
	m.mu.Lock()
	if m.gen != r.gen || !m.state.hasTokens() {
		st, msg := m.state, m.message
		m.mu.Unlock()
		return nil, stateError(st, msg)
	}
	m.rt = resp.RefreshToken
	m.rtExp = m.sessionExpiry(m.now(), since, resp, rtExp)
	m.mu.Unlock()
	// Saved before the new access token is used: a crash from here on
	// leaves the new refresh token in the keychain.
	if err := m.persist(ctx, r.gen); err != nil {
		m.log.Warn("rotated refresh token kept in memory only")
	}
	m.log.Debug("session renewed", "refresh_count", resp.RefreshCount)
	return &oauth2.Token{AccessToken: resp.AccessToken, TokenType: resp.TokenType, Expiry: resp.Expiry}, nil
}
