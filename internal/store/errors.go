package store

import (
	"errors"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Sentinel errors. Every error a user may see is a *triage.Error with a
// plain-English message; these sit in its chain so callers can tell the
// cases apart with errors.Is.
var (
	// ErrKeychainUnavailable means the OS keychain could not be used, so no
	// patient data may be stored on this computer: the app works online-only.
	ErrKeychainUnavailable = keychain.ErrUnavailable
	// ErrKeyFileUnusable means a development key file (DevKeyFileProvider)
	// cannot be used as it is: other users can read it, or it is not a key
	// file. It is never mistaken for a missing keychain, so nothing falls
	// back to a throwaway store; the message names the file and the fix.
	ErrKeyFileUnusable = keychain.ErrFileUnusable
	// ErrKeyNotFound is returned by a KeyProvider that holds no key for the
	// account.
	ErrKeyNotFound = errors.New("master key not found")
	// ErrKeyMismatch means the key in the keychain does not open this user's
	// saved decisions (the keychain was reset or replaced).
	ErrKeyMismatch = errors.New("master key does not open the saved decisions")
	// ErrAlreadyRunning means another Triage Desk process holds this user's
	// files open.
	ErrAlreadyRunning = errors.New("triage desk is already running")
	// ErrOutboxDamaged means outbox.db could not be read safely. The file is
	// left exactly as it was.
	ErrOutboxDamaged = errors.New("outbox file damaged")
	// ErrCacheDamaged means cache.db failed while in use; RebuildCache sets
	// it aside and starts an empty cache.
	ErrCacheDamaged = errors.New("cache file damaged")
	// ErrNewerSchema means a file was written by a newer Triage Desk.
	ErrNewerSchema = errors.New("file written by a newer version")
	// ErrNotFound means the requested record is not stored.
	ErrNotFound = errors.New("not stored")
	// ErrClosed means the Store was closed (or wiped).
	ErrClosed = errors.New("store closed")
	// ErrIllegalTransition means an outbox state change is not allowed from
	// the entry's current state.
	ErrIllegalTransition = errors.New("illegal outbox transition")
	// ErrUnsentDecisions means a wipe was refused because decisions have not
	// reached e-RS yet.
	ErrUnsentDecisions = errors.New("unsent decisions exist")
	// ErrWrongUser means a decision or action names a different clinician
	// from the one whose store this is.
	ErrWrongUser = errors.New("decision belongs to another user")
	// ErrDecisionPending means the referral already has an unsent decision.
	ErrDecisionPending = errors.New("referral already has an unsent decision")
	// ErrAuditBroken means the audit log failed verification.
	ErrAuditBroken = errors.New("audit log verification failed")
)

// userError wraps cause (and sentinel, for errors.Is) in a *triage.Error with
// a plain-English message.
func userError(code triage.ErrorCode, sentinel error, cause error, msg string) error {
	var err error
	switch {
	case cause != nil && sentinel != nil && !errors.Is(cause, sentinel):
		err = fmt.Errorf("%w: %w", sentinel, cause)
	case cause != nil:
		err = cause
	default:
		err = sentinel
	}
	return &triage.Error{Code: code, Message: msg, Err: err}
}

// Plain-English messages, each with a next step.
const (
	msgKeychainUnavailable = "Patient data cannot be stored on this computer because the secure keychain is not available. " +
		"Triage Desk will work online-only: referrals are read from e-RS while you are connected and nothing is kept for offline use. " +
		"Ask your IT service desk to check the keychain (Credential Manager, Keychain Access or the desktop keyring)."
	msgAlreadyRunning = "Triage Desk is already running for you on this computer. " +
		"Switch to the open Triage Desk window, or close it and try again."
	msgOutboxDamaged = "Triage Desk cannot start because the file holding your saved decisions is damaged. " +
		"Nothing has been changed or deleted. Decisions that were not yet sent to e-RS may be in it, so do not delete it. " +
		"Run 'triagectl doctor' to see what can be recovered and export it, then contact your IT service desk."
	msgKeyMismatch = "Triage Desk cannot open your saved decisions because the key for them is missing from this computer's keychain or has changed. " +
		"Nothing has been deleted. Run 'triagectl doctor' for the next steps, and contact your IT service desk."
	msgOutboxNewer = "Your saved decisions were written by a newer version of Triage Desk. " +
		"Nothing has been changed. Install the newer version again to send them."
	msgCacheDamaged = "The offline copy of your referrals is damaged. Triage Desk will set it aside and download the referrals from e-RS again. Your saved decisions are not affected."
	msgCacheRebuilt = "The offline copy of your referrals was damaged, so it was set aside and is being downloaded again from e-RS. Your saved decisions are not affected. Try again in a moment."
	msgNotFound     = "This item is not stored on this computer. Go online and refresh to download it."
	msgClosed       = "Triage Desk's local store is closed. Restart Triage Desk."
	msgWrongUser    = "This decision was made by a different clinician. It can only be changed or sent while they are signed in."
	msgPending      = "A decision for this referral is already waiting to be sent. Amend or cancel that decision instead of making a new one."
)

func errClosed() error { return userError(triage.EINTERNAL, ErrClosed, nil, msgClosed) }

func errEntryNotFound() error {
	return userError(triage.ENOTFOUND, ErrNotFound, errors.New("outbox entry"),
		"This decision is no longer in the outbox. Refresh the outbox to see the current list.")
}

func errNotFound(what string) error {
	return userError(triage.ENOTFOUND, ErrNotFound, fmt.Errorf("%s", what), msgNotFound)
}
