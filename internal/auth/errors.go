package auth

import (
	"errors"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Sentinel errors. The errors returned to callers are *triage.Error values
// with a plain-English message; these sit in their chains for errors.Is.
var (
	// ErrSignInNeeded means the session has ended (the platform refused the
	// refresh token, or the session reached its absolute expiry): the
	// clinician must sign in again. Queued work is unaffected.
	ErrSignInNeeded = errors.New("sign-in needed")
	// ErrLocked means the session is locked after inactivity (or by the
	// app); signing in again unlocks it.
	ErrLocked = errors.New("session locked")
	// ErrNotSignedIn means there is no session.
	ErrNotSignedIn = errors.New("not signed in")
	// ErrStateMismatch means the sign-in callback carried a state other than
	// the one sent: the response was not for this sign-in and was refused.
	ErrStateMismatch = errors.New("sign-in state mismatch")
	// ErrCallbackTimeout means the browser did not return to Triage Desk in
	// time (five minutes by default).
	ErrCallbackTimeout = errors.New("sign-in timed out")
	// ErrPortInUse means the loopback callback port could not be bound.
	ErrPortInUse = errors.New("sign-in callback port unavailable")
	// ErrSignInRefused means the sign-in service returned an error to the
	// callback (the clinician cancelled, or CIS2 refused).
	ErrSignInRefused = errors.New("sign-in refused")
	// ErrCodeRefused means the token endpoint refused the authorization code
	// (expired, already used, wrong redirect URI or PKCE verifier).
	ErrCodeRefused = errors.New("authorization code refused")
	// ErrClientRejected means the platform (or broker) refused Triage
	// Desk's client credentials: a set-up problem for IT.
	ErrClientRejected = errors.New("client credentials refused")
	// ErrTokenServiceUnavailable means the token endpoint could not be
	// reached or failed (network, 5xx, unreadable answer); try again later.
	ErrTokenServiceUnavailable = errors.New("token service unavailable")
	// ErrSecretMissing means the client secret IT provisions in the
	// keychain is not there.
	ErrSecretMissing = errors.New("client secret not provisioned")
	// ErrKeychainUnavailable means the OS keychain could not be used.
	ErrKeychainUnavailable = keychain.ErrUnavailable
	// ErrRoleNotHeld means a chosen organisation, business function or
	// on-behalf-of clinician is not among the clinician's e-RS roles.
	ErrRoleNotHeld = errors.New("role not held")
	// ErrSignInInProgress means another sign-in is waiting for the browser.
	ErrSignInInProgress = errors.New("sign-in already in progress")
	// ErrOtherUser means the session belongs to another clinician than the
	// one a token was asked for (Manager.TokenSourceFor).
	ErrOtherUser = errors.New("another clinician is signed in")
)

// OAuthError is an OAuth2 error answer from a token endpoint or broker. It
// sits in the chain of the *triage.Error returned, for logs and tests; its
// fields never contain tokens.
type OAuthError struct {
	// Status is the HTTP status.
	Status int
	// Code is the OAuth2 error code, e.g. "invalid_grant".
	Code string
	// Description is the server's error_description, trimmed to printable
	// text (the platform's are fixed phrases such as "refresh_token is
	// invalid").
	Description string
}

// Error describes the answer: status, code and description.
func (e *OAuthError) Error() string {
	s := fmt.Sprintf("oauth2: HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// userErr returns a *triage.Error with msg whose chain holds sentinel and
// cause.
func userErr(code triage.ErrorCode, sentinel, cause error, msg string) *triage.Error {
	err := sentinel
	if cause != nil {
		err = fmt.Errorf("%w: %w", sentinel, cause)
	}
	return &triage.Error{Code: code, Message: msg, Err: err}
}

// Plain-English messages, each with a next step.
const (
	msgSignInNeeded  = "Your NHS sign-in has ended. Sign in again with your NHS Care Identity to continue; your work is kept."
	msgSessionCap    = "Your NHS sign-in has reached its time limit. Sign in again with your NHS Care Identity to continue; your work is kept."
	msgLocked        = "Triage Desk is locked. Sign in again with your NHS Care Identity to unlock it; your work is kept."
	msgNotSignedIn   = "You are not signed in. Sign in with your NHS Care Identity to continue."
	msgChooseRole    = "Choose the organisation and role you are working as before Triage Desk contacts e-RS."
	msgStateMismatch = "The sign-in could not be completed because the answer from the sign-in page did not belong to this sign-in. " +
		"Nothing was changed. Start the sign-in again from Triage Desk."
	msgCallbackTimeout = "The sign-in was not completed within %s. Start the sign-in again from Triage Desk and finish it in your browser."
	msgSignInRefused   = "The sign-in did not complete (%s). Start the sign-in again from Triage Desk; if it keeps happening, contact your IT service desk."
	msgCodeRefused     = "The NHS sign-in service did not accept the sign-in. Start the sign-in again from Triage Desk; if it keeps happening, contact your IT service desk."
	msgClientRejected  = "The NHS sign-in service refused Triage Desk's registration on this computer, so nobody can sign in here. Contact your IT service desk: the client id or client secret needs checking."
	msgTokenService    = "Triage Desk cannot reach the NHS sign-in service. Check your network connection (and HSCN or VPN if your trust uses one), then try again. Your work is kept."
	msgSecretMissing   = "Sign-in is not set up on this computer: the client secret your IT team installs in the keychain is missing. Contact your IT service desk."
	msgKeychain        = "Triage Desk cannot use this computer's secure keychain, so your sign-in cannot be remembered. You can still sign in; ask your IT service desk to check the keychain (Credential Manager, Keychain Access or the desktop keyring)."
	msgOtherUser       = "Another clinician is signed in to Triage Desk on this computer, so nothing is sent to e-RS for you. Sign in again with your NHS Care Identity to continue; your work is kept."
	msgInProgress      = "A sign-in is already waiting for your browser. Finish it there, or wait a few minutes and start again."
)
