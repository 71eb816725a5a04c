package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Touch records user activity (a key press, click or scroll in the
// window); the session locks after LockTimeout without it. Background work
// (sync, sending) must not call it. It is cheap enough for every input
// event.
func (m *Manager) Touch() { m.lastActive.Store(m.now().UnixNano()) }

// armLocked (re)starts the inactivity timer; the caller holds m.mu.
func (m *Manager) armLocked() {
	if m.lockAfter <= 0 || m.closed {
		return
	}
	if m.timer == nil {
		m.timer = time.AfterFunc(m.lockAfter, m.idleCheck)
	} else {
		m.timer.Reset(m.lockAfter)
	}
}

func (m *Manager) stopTimerLocked() {
	if m.timer != nil {
		m.timer.Stop()
	}
}

// idleCheck runs when the timer fires: it locks after LockTimeout without
// activity, otherwise waits for the rest of it.
func (m *Manager) idleCheck() {
	idle := m.now().Sub(time.Unix(0, m.lastActive.Load()))
	if idle >= m.lockAfter {
		m.lock(fmt.Sprintf("no activity for %v", m.lockAfter), m.lockAfter)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.hasTokens() && !m.closed && m.timer != nil {
		m.timer.Reset(m.lockAfter - idle)
	}
}

// Lock locks the session at once (the OS screen locked, the computer is
// going to sleep, or the clinician chose Lock): tokens are dropped from
// memory and from the keychain item, which then records only that the
// session is locked, so a restart stays locked. The identity is kept in
// Status so the app knows whose data to hide; nothing else is touched. It
// does nothing unless the session is StateNeedsRole or StateActive.
func (m *Manager) Lock() { m.lock("locked by the app", 0) }

// dropTokensLocked moves the session to state to in a new generation,
// dropping its tokens from memory and stopping the inactivity timer. It
// returns the generation to persist and the status to notify. The caller
// holds m.mu.
func (m *Manager) dropTokensLocked(to State, message string) (uint64, Status) {
	m.gen++
	m.state, m.rt, m.src, m.opts, m.message = to, "", nil, nil, message
	m.stopTimerLocked()
	return m.gen, m.statusLocked()
}

// lock locks the session; idle is the inactivity timeout when it locks
// itself for inactivity, zero when asked to (Lock).
func (m *Manager) lock(why string, idle time.Duration) {
	m.endTokens(func() bool {
		ok := m.state.hasTokens() && !m.closed
		if ok {
			m.idleLock = idle
		}
		return ok
	}, StateLocked, msgLocked, slog.LevelInfo, "session locked", why)
}

// endTokens moves the session to state to (dropTokensLocked) when ok,
// checked under m.mu, holds; then it logs event, saves the session and
// tells the app.
func (m *Manager) endTokens(ok func() bool, to State, message string, level slog.Level, event, why string) {
	m.mu.Lock()
	if !ok() {
		m.mu.Unlock()
		return
	}
	gen, st := m.dropTokensLocked(to, message)
	m.mu.Unlock()
	m.log.Log(context.Background(), level, event, "why", why)
	_ = m.persist(m.bg, gen)
	m.notify(st)
}

// Unlock is SignIn: a locked session is unlocked by signing in again. The
// same clinician gets their role back (SignInResult.Resumed); another
// clinician replaces the locked session (SignInResult.PreviousUser).
func (m *Manager) Unlock(ctx context.Context, openBrowser func(authURL string) error) (*SignInResult, error) {
	return m.SignIn(ctx, openBrowser)
}

// installLocked starts a session with new tokens; at may be nil (the first
// Token call then redeems rt). The caller holds m.mu. It returns the new
// generation.
func (m *Manager) installLocked(at *oauth2.Token, rt string, rtExp, since time.Time, id triage.Identity, st State) uint64 {
	m.gen++
	m.state, m.id, m.rt, m.rtExp, m.since, m.message, m.opts = st, id, rt, rtExp, since, "", nil
	m.idleLock = 0
	m.src = oauth2.ReuseTokenSourceWithExpiry(at, &refresher{m: m, gen: m.gen}, m.early)
	if m.noSignIn {
		m.src, m.rt, m.rtExp = nil, "", time.Time{}
	}
	m.armLocked()
	return m.gen
}

// sessionExpiry is when a refresh token issued at now ends: what the server
// said (or, if it said nothing, prev), never beyond since+SessionCap.
func (m *Manager) sessionExpiry(now, since time.Time, resp *TokenResponse, prev time.Time) time.Time {
	limit := since.Add(m.sessionCap)
	exp := prev
	if resp.RefreshExpiresIn > 0 {
		exp = now.Add(resp.RefreshExpiresIn)
	}
	if exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	return exp
}

// persist writes the session of generation gen to the keychain (or deletes
// it when signed out or ended). A newer generation wins: stale writes are
// skipped. Keychain writes are ordered by saveMu.
func (m *Manager) persist(ctx context.Context, gen uint64) error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock()
		return nil
	}
	var rec *record
	switch m.state {
	case StateNeedsRole, StateActive:
		rec = m.newRecord()
		rec.RT, rec.RTExp = m.rt, m.rtExp
	case StateLocked:
		rec = m.newRecord()
		rec.Locked = true
	}
	m.mu.Unlock()
	var err error
	if rec != nil {
		var s string
		if s, err = rec.encode(); err == nil {
			_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Set(KeychainService, m.account, s) })
		}
	} else {
		_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.account) })
		if errors.Is(err, keychain.ErrNotFound) {
			err = nil
		}
		if err == nil && m.legacy != "" {
			_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.legacy) })
			if errors.Is(err, keychain.ErrNotFound) {
				err = nil
			}
		}
	}
	m.mu.Lock()
	if m.gen == gen {
		if err != nil {
			m.warning = msgKeychain
		} else if m.warning == msgKeychain {
			m.warning = ""
		}
	}
	m.mu.Unlock()
	if err != nil {
		m.log.Error("session not saved to the keychain", "err", err)
		return err
	}
	return nil
}

// newRecord is the keychain item for the session without its tokens:
// who, since when, and how it was made. The caller holds m.mu.
func (m *Manager) newRecord() *record {
	return &record{V: recordVersion, Auth: m.authKey, Since: m.since, ID: m.id,
		Client: m.env.ClientID, Token: m.tokenURL, FHIR: m.env.FHIRBaseURL, NoSignIn: m.noSignIn, DevSecret: m.devSecret}
}

// matches reports whether a saved session was made with this Manager's
// sign-in: the same sign-in service (or none) and client id.
func (m *Manager) matches(rec *record) bool {
	if rec.Auth != m.authKey || rec.NoSignIn != m.noSignIn {
		return false
	}
	return m.noSignIn || rec.Client == "" || rec.Client == m.env.ClientID
}

// load reads the saved session, from where sessions were kept before they
// were keyed by server when there is none (legacy true). Errors:
// keychain.ErrNotFound, ErrKeychainUnavailable, or a decoding error.
func (m *Manager) load(ctx context.Context) (rec *record, legacy bool, err error) {
	s, err := keychain.Do(ctx, func() (string, error) { return m.ring.Get(KeychainService, m.account) })
	if errors.Is(err, keychain.ErrNotFound) && m.legacy != "" {
		legacy = true
		s, err = keychain.Do(ctx, func() (string, error) { return m.ring.Get(KeychainService, m.legacy) })
	}
	if err != nil {
		return nil, legacy, err
	}
	rec, err = decodeRecord(s)
	return rec, legacy, err
}

// deleteSaved removes the saved session, wherever it is kept.
func (m *Manager) deleteSaved(ctx context.Context) {
	for _, acc := range []string{m.account, m.legacy} {
		if acc == "" {
			continue
		}
		_, err := keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, acc) })
		if err != nil && !errors.Is(err, keychain.ErrNotFound) {
			m.log.Error("saved session not removed", "err", err)
		}
	}
}

// moveLegacy moves a session found under the legacy account to the
// current one.
func (m *Manager) moveLegacy(ctx context.Context, rec *record) {
	s, err := rec.encode()
	if err == nil {
		_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Set(KeychainService, m.account, s) })
	}
	if err != nil {
		m.log.Warn("saved session not moved to its new keychain item", "err", err)
		return
	}
	_, err = keychain.Do(ctx, func() (struct{}, error) { return struct{}{}, m.ring.Delete(KeychainService, m.legacy) })
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		m.log.Warn("old keychain item of the session not removed", "err", err)
	}
	m.log.Info("saved session moved to its new keychain item")
}

// savedState is the state a saved session restores to.
func (m *Manager) savedState(rec *record, now time.Time) State {
	switch {
	case rec.Locked:
		return StateLocked
	case !m.noSignIn && (rec.RT == "" || (!rec.RTExp.IsZero() && !now.Before(rec.RTExp))):
		// A session without sign-in has no tokens to expire.
		return StateSignInNeeded
	case hasRole(rec.ID) && (m.allowed == nil || m.allowed(rec.ID.ODS)):
		return StateActive
	}
	return StateNeedsRole
}

// SavedStatus reports the session saved in the keychain without changing
// the Manager or calling the network (triagectl whoami). Errors: an
// EUNAVAILABLE *triage.Error wrapping ErrKeychainUnavailable.
func (m *Manager) SavedStatus(ctx context.Context) (Status, error) {
	st := Status{State: StateSignedOut, Environment: m.env.Name, EnvironmentLabel: m.env.Label, Production: m.env.Production, NoSignIn: m.noSignIn}
	rec, _, err := m.load(ctx)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return st, nil
	case errors.Is(err, ErrKeychainUnavailable):
		return st, userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychain)
	case err != nil || !m.matches(rec):
		return st, nil
	}
	st.State, st.Identity = m.savedState(rec, m.now()), rec.ID
	switch st.State {
	case StateLocked:
		st.Message = msgLocked
	case StateSignInNeeded:
		st.Message = msgSessionCap
	case StateActive, StateNeedsRole:
		st.SessionExpires = rec.RTExp
	}
	return st, nil
}

// Restore resumes the session saved in the keychain, at start-up. A locked
// session stays locked (StateLocked: sign in to unlock); an expired one is
// StateSignInNeeded; otherwise the refresh token is redeemed at once (and
// the rotated one saved) and the session is StateActive, or StateNeedsRole
// when no role was chosen. Nothing saved, or a session for another server,
// is StateSignedOut. When the token service cannot be reached the session
// stays StateActive and the token source tries again on first use.
//
// Errors: only an EUNAVAILABLE *triage.Error wrapping
// ErrKeychainUnavailable when the keychain cannot be read (StateSignedOut;
// signing in still works, without being remembered).
func (m *Manager) Restore(ctx context.Context) (Status, error) {
	rec, legacy, err := m.load(ctx)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return m.Status(), nil
	case errors.Is(err, ErrKeychainUnavailable):
		m.mu.Lock()
		m.warning = msgKeychain
		m.mu.Unlock()
		return m.Status(), userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychain)
	case err != nil:
		m.log.Warn("saved session unreadable: removed", "err", err)
		m.deleteSaved(ctx)
		return m.Status(), nil
	case rec.Auth != m.authKey || rec.NoSignIn != m.noSignIn:
		m.log.Info("saved session belongs to another sign-in service: removed")
		m.deleteSaved(ctx)
		return m.Status(), nil
	case !m.matches(rec):
		// Made with another client id for the same server: that client's,
		// kept for it, not resumed with this one.
		m.log.Info("saved session belongs to another client id: not resumed")
		return m.Status(), nil
	case legacy:
		m.moveLegacy(ctx, rec)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return m.Status(), nil
	}
	switch st := m.savedState(rec, m.now()); st {
	case StateLocked, StateSignInNeeded:
		m.gen++
		gen := m.gen
		m.state, m.id, m.since, m.rt, m.src, m.rtExp = st, rec.ID, rec.Since, "", nil, time.Time{}
		m.message = msgLocked
		if st == StateSignInNeeded {
			m.message = msgSessionCap
		}
		status := m.statusLocked()
		m.mu.Unlock()
		m.log.Info("saved session restored", "state", st.String())
		if st == StateSignInNeeded {
			_ = m.persist(ctx, gen)
		}
		m.notify(status)
		return status, nil
	case StateActive:
		m.installLocked(nil, rec.RT, rec.RTExp, rec.Since, rec.ID, StateActive)
	default:
		id := triage.Identity{SDSUserID: rec.ID.SDSUserID}
		m.installLocked(nil, rec.RT, rec.RTExp, rec.Since, id, StateNeedsRole)
	}
	status := m.statusLocked()
	m.mu.Unlock()
	m.Touch()
	m.log.Info("saved session restored", "state", status.State.String())
	m.notify(status)
	if m.noSignIn {
		return status, nil
	}
	if _, err := m.ts.Token(); err != nil && errors.Is(err, ErrTokenServiceUnavailable) {
		m.log.Warn("session not renewed at start-up; will try again when e-RS is called", "err", err)
	}
	return m.Status(), nil
}

// LogoutOptions control Logout.
type LogoutOptions struct {
	// User is the SDS user id to report as signed out when no session (in
	// memory or saved) names anyone, e.g. a second `triagectl logout
	// --discard-unsent` after the first kept the data.
	User string
}

// LogoutReport says what a sign-out did. Logout fills User; the app, which
// removes the clinician's data after Logout, fills the rest.
type LogoutReport struct {
	// User is the SDS user id signed out ("" if nobody was).
	User string
	// Identity is who was signed out, in the role they had (only the SDS
	// user id when the session no longer said more).
	Identity triage.Identity
	// DataWiped is true when the user's cache and outbox were removed.
	DataWiped bool
	// UnsentKept counts unsent decisions kept on this computer (sealed,
	// for this clinician's next sign-in); the data was then not wiped.
	UnsentKept int
	// Discarded counts unsent decisions discarded at the clinician's
	// explicit request.
	Discarded int
}

// Logout ends the session: tokens leave memory and the keychain at once.
// The report names whose session it was (the saved session's clinician
// when this Manager was never restored, else o.User); removing their data
// is the app's part, done only when Logout succeeds.
//
// Errors: an EUNAVAILABLE *triage.Error wrapping ErrKeychainUnavailable
// when the saved session could not be removed (the session is still ended
// in this process).
func (m *Manager) Logout(ctx context.Context, o LogoutOptions) (LogoutReport, error) {
	m.mu.Lock()
	id := m.id
	m.mu.Unlock()
	if id.SDSUserID == "" {
		// A Manager that was never restored (a command-line logout): the
		// saved session says whose it is.
		if rec, _, err := m.load(ctx); err == nil && m.matches(rec) {
			id = rec.ID
		}
	}
	if id.SDSUserID == "" && o.User != "" {
		id = triage.Identity{SDSUserID: strings.TrimSpace(o.User)}
	}
	m.mu.Lock()
	m.id, m.rtExp = triage.Identity{}, time.Time{}
	gen, status := m.dropTokensLocked(StateSignedOut, "")
	m.mu.Unlock()
	rep := LogoutReport{User: id.SDSUserID, Identity: id}
	err := m.persist(ctx, gen)
	m.log.Info("signed out")
	m.notify(status)
	if err != nil {
		return rep, userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err,
			"You are signed out, but your saved sign-in could not be removed from the keychain, and your data was not removed. Try signing out again; if it keeps happening, contact your IT service desk.")
	}
	return rep, nil
}

// endSession ends generation gen's session once: StateSignInNeeded, tokens
// dropped, the saved session removed, OnChange told. Later calls for the
// same generation do nothing.
func (m *Manager) endSession(gen uint64, message, why string) {
	m.endTokens(func() bool { return m.gen == gen && m.state.hasTokens() }, StateSignInNeeded, message, slog.LevelWarn, "session ended: sign-in needed", why)
}
