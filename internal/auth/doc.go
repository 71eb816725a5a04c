// Package auth signs a clinician in to e-RS with NHS CIS2 through the NHS API
// Platform's OAuth2 service (the "combined authentication and authorisation"
// pattern), keeps the session alive across restarts, locks it after
// inactivity and ends it on logout.
//
// # Sign-in
//
// Manager.SignIn opens the system browser on {auth}/authorize with
// response_type=code, a random state, PKCE S256 and acr_values, and receives
// the redirect on a one-shot loopback listener bound to 127.0.0.1 on the
// fixed port registered with NHS England (the platform compares redirect_uri
// exactly, so the port cannot be chosen at run time). The listener answers
// only GET /callback from a loopback peer with the expected Host, accepts one
// callback, and closes after it or after five minutes. The code is exchanged
// by a TokenExchanger: directly at {auth}/token with client_secret as a form
// parameter (the secret comes from the keychain item IT provisioned, never
// from the binary), or through the organisation's token broker, which holds
// the secret (docs/auth.md describes its HTTP contract).
//
// After the exchange, A030 (PractitionerRole) gives the clinician's SDS user
// id, organisations and business functions. The token response of the
// combined pattern carries no identity claim, so the SDS user id is the
// practitioner identifier of the A030 roles, which e-RS itself takes from the
// token. The clinician then picks an organisation and business function
// (Manager.ChooseRole), and a clinician admin also picks the clinician they
// act for (A040, Manager.OnBehalfOfUsers). The choice is remembered per user.
//
// # Tokens
//
// The access token lives in memory only. The refresh token, its absolute
// expiry and the chosen identity are kept in one small keychain item (well
// under Windows' 2560-byte limit). The platform rotates refresh tokens and
// rejects reuse, and golang.org/x/oauth2 never reports a refresh, so the
// Manager's own refresher redeems the refresh token, saves the new one to the
// keychain and only then hands out the new access token; that refresher is
// wrapped in oauth2.ReuseTokenSourceWithExpiry. invalid_grant, or reaching
// the session's absolute expiry, ends the session once: the state becomes
// StateSignInNeeded, the keychain item is removed and every later Token call
// fails at once with ErrSignInNeeded, without calling the platform again.
//
// # Lock and logout
//
// After LockTimeout without Touch (user activity) the session locks: tokens
// are dropped from memory and from the keychain item (which then records
// only that the session is locked, so a restart does not unlock it). Only
// tokens are dropped; drafts and other state belong to the app. Unlocking is
// a new sign-in; the same clinician gets their role back at once. Logout
// removes the keychain item and reports whose session it was; removing
// that clinician's data (by the store's rules: unsent decisions are kept
// unless the clinician explicitly chose to discard them) is the app's
// part (internal/app, logout.go). The keychain itself, with its one lock
// and timeout, is internal/keychain; the e-RS client used for roles is
// built by the app (Options.ERS).
//
// # Errors
//
// Errors a user may see are *triage.Error values with plain-English messages;
// the sentinel errors of this package sit in their chains for errors.Is.
// Tokens, codes, secrets and patient data never appear in errors or logs.
package auth
