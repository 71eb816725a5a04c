package app

import (
	"errors"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The types the front ends see, named here so that they need no package
// behind the façade. Each is the service's own type (an alias), so values
// pass through unchanged.

// Outbox and cache records (the store's).
type (
	// Entry is one decision in the outbox with its state and history.
	Entry = store.Entry
	// EntryFilter selects outbox entries.
	EntryFilter = store.EntryFilter
	// SendError is why an outbox entry was not sent.
	SendError = store.SendError
	// OutboxDamage describes outbox records that could not be read.
	OutboxDamage = store.OutboxDamage
	// LocalState is what the clinician keeps against a referral on this
	// computer (draft decision, notes).
	LocalState = store.LocalState
	// CacheInfo says what of a referral is cached for offline reading.
	CacheInfo = store.CacheInfo
	// CachedReferral is a referral's cached details.
	CachedReferral = store.CachedReferral
	// DocumentMeta describes a cached document.
	DocumentMeta = store.DocumentMeta
	// DocumentKind is where a cached document came from.
	DocumentKind = store.DocumentKind
	// AuditRecord is one line of the audit log.
	AuditRecord = store.AuditRecord
	// AuditEvent is what an audit record records.
	AuditEvent = store.AuditEvent
	// AuditSummary is the audit log's verification result.
	AuditSummary = store.AuditSummary
	// AuditError is an audit log that failed verification.
	AuditError = store.AuditError
)

// The kinds of cached document.
const (
	DocumentProvider   = store.DocumentProvider
	DocumentCRI        = store.DocumentCRI
	DocumentAttachment = store.DocumentAttachment
)

// The audit events.
const (
	EventDecisionCreated      = store.EventDecisionCreated
	EventDecisionAmended      = store.EventDecisionAmended
	EventDecisionCancelled    = store.EventDecisionCancelled
	EventDecisionDiscarded    = store.EventDecisionDiscarded
	EventSendResult           = store.EventSendResult
	EventRetryRequested       = store.EventRetryRequested
	EventConflictShown        = store.EventConflictShown
	EventConflictAcknowledged = store.EventConflictAcknowledged
	EventPurge                = store.EventPurge
	EventWipe                 = store.EventWipe
)

// ErrNotFound: the store has no such record.
var ErrNotFound = store.ErrNotFound

// Engine events and status (the sync engine's).
type (
	// Event is something the sync engine reports.
	Event = engine.Event
	// SyncStatus is the engine's connection state as published.
	SyncStatus = engine.SyncStatus
	// SyncState is the engine's connection state.
	SyncState = engine.SyncState
	// SyncReport is what one synchronous sync did.
	SyncReport = engine.SyncReport
	// WorklistUpdated: a worklist pull finished.
	WorklistUpdated = engine.WorklistUpdated
	// ReferralUpdated: a referral's details were stored.
	ReferralUpdated = engine.ReferralUpdated
	// PatientUpdated: a referral's patient details from PDS were stored.
	PatientUpdated = engine.PatientUpdated
	// DocumentReady: a document was stored or recorded as unavailable.
	DocumentReady = engine.DocumentReady
	// DecisionChanged: a decision's outbox state changed.
	DecisionChanged = engine.DecisionChanged
	// OutboxChanged: the outbox summary changed.
	OutboxChanged = engine.OutboxChanged
	// OutboxWaiting: the outbox waits (offline, sign-in needed).
	OutboxWaiting = engine.OutboxWaiting
	// PrefetchProgress: progress of making referrals available offline.
	PrefetchProgress = engine.PrefetchProgress
	// SyncStateChanged: the connection state changed.
	SyncStateChanged = engine.SyncStateChanged
	// ErrorEvent: a background operation failed.
	ErrorEvent = engine.ErrorEvent
	// Lagged: a subscriber missed events.
	Lagged = engine.Lagged
	// AdviceUpdated: the A&G worklist was pulled (UBRN "") or one request
	// was stored.
	AdviceUpdated = engine.AdviceUpdated
	// AdviceActionChanged: an A&G reply or conversion changed state.
	AdviceActionChanged = engine.AdviceActionChanged
)

// Advice and Guidance outbox types (the store's).
type (
	// AdviceEntry is an A&G reply or conversion in the outbox.
	AdviceEntry = store.AdviceEntry
	// AdviceConflict is why an A&G action was not sent.
	AdviceConflict = store.AdviceConflict
)

// AdviceOverviewID is the cached document id of an A&G request's overview
// PDF (A043).
const AdviceOverviewID = store.AdviceOverviewID

// The sync states.
const (
	SyncOnline       = engine.StateOnline
	SyncOffline      = engine.StateOffline
	SyncSignInNeeded = engine.StateSignInNeeded
)

// Engine constants the front ends use.
const (
	// CRIDocumentID is the cached document id of a referral's CRI.
	CRIDocumentID = engine.CRIDocumentID
	// DefaultPullInterval is how often the worklist is pulled by default.
	DefaultPullInterval = engine.DefaultPullInterval
	// DefaultEventBuffer is the engine's default subscription buffer.
	DefaultEventBuffer = engine.DefaultEventBuffer
)

// ErrActionsUnknown: e-RS could not say which actions are available.
var ErrActionsUnknown = engine.ErrActionsUnknown

// Sign-in types (the sign-in manager's).
type (
	// SessionState is the sign-in state.
	SessionState = auth.State
	// SessionStatus is the sign-in state with identity and messages.
	SessionStatus = auth.Status
	// RoleOption is a role the clinician may work as.
	RoleOption = auth.RoleOption
	// SignInResult is the outcome of an interactive sign-in.
	SignInResult = auth.SignInResult
	// LogoutReport is what a logout removed and kept.
	LogoutReport = auth.LogoutReport
	// OnBehalfOfUser is a clinician an administrator may act for.
	OnBehalfOfUser = triage.OnBehalfOfUser
)

// The sign-in states.
const (
	SessionSignedOut    = auth.StateSignedOut
	SessionActive       = auth.StateActive
	SessionLocked       = auth.StateLocked
	SessionNeedsRole    = auth.StateNeedsRole
	SessionSignInNeeded = auth.StateSignInNeeded
)

// Sign-in errors the front ends explain.
var (
	ErrTokenServiceUnavailable = auth.ErrTokenServiceUnavailable
	ErrStateMismatch           = auth.ErrStateMismatch
	ErrSignInRefused           = auth.ErrSignInRefused
	ErrSignInInProgress        = auth.ErrSignInInProgress
	ErrSecretMissing           = auth.ErrSecretMissing
	ErrRoleNotHeld             = auth.ErrRoleNotHeld
	ErrPortInUse               = auth.ErrPortInUse
	ErrKeychainUnavailable     = auth.ErrKeychainUnavailable
	ErrCodeRefused             = auth.ErrCodeRefused
	ErrClientRejected          = auth.ErrClientRejected
	ErrCallbackTimeout         = auth.ErrCallbackTimeout
)

// IsVersionConflict reports whether err is e-RS refusing a request because
// the referral changed since the version it names.
func IsVersionConflict(err error) bool {
	var ee *ers.Error
	return errors.As(err, &ee) && ee.Class == ers.Conflict
}
