package engine

import (
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Event is something the engine did or found. The concrete types are the
// ones in this file. Events may carry UBRNs: keep them in memory, never log
// them.
type Event interface{ isEvent() }

// WorklistUpdated: a worklist was pulled and stored.
type WorklistUpdated struct {
	List triage.ListType
	// AsOf is e-RS's Date on the A008 response.
	AsOf time.Time
	// Total items; New since the last pull; Changed (version or request
	// context status); Left the list since the last pull.
	Total, New, Changed, Left int
	// TwoWeek and Urgent count items by priority.
	TwoWeek, Urgent int
}

// ReferralUpdated: a referral's details (A005) were stored.
type ReferralUpdated struct {
	UBRN    string
	Version int
}

// PatientUpdated: a referral's patient details from PDS (the banner) were
// stored; Outcome is PDS's answer (found, not found, unreachable, ...).
type PatientUpdated struct {
	UBRN    string
	Outcome triage.PatientOutcome
}

// DocumentReady: a document was stored, or an attachment that cannot be
// downloaded (PENDING, THREATS_FOUND, VALIDATION_FAILED) was recorded.
type DocumentReady struct {
	// UBRN is the referral the document is cached under (for a CRI, the
	// UBRN whose CRI it is).
	UBRN         string
	DocumentID   string
	Kind         store.DocumentKind
	Availability triage.AvailabilityStatus
}

// PrefetchProgress: Done of Total queued downloads have finished since the
// queue was last empty. Done == Total means the prefetch is complete.
type PrefetchProgress struct {
	Done, Total int
}

// OutboxChanged: the outbox changed; Counts has every readable decision's
// state. Damage lists the outbox's damaged records (they are not in
// Counts): show Damage.Summary() wherever the counts are shown.
type OutboxChanged struct {
	Counts map[triage.OutboxState]int
	Damage store.OutboxDamage
}

// DecisionChanged: one decision's outbox entry changed state (queued,
// sending, sent, conflict, failed, discarded), so a worklist row can show
// it without re-reading the whole outbox. OutboxChanged follows with the
// new totals.
type DecisionChanged struct {
	UBRN       string
	DecisionID string
	State      triage.OutboxState
}

// OutboxWaiting: queued decisions are not being sent, and why, in plain
// English (for example no live sign-in, or made under another role).
// Count 0 means nothing is waiting any more.
type OutboxWaiting struct {
	Count  int
	Reason string
}

// SyncState is the engine's connection state.
type SyncState string

// The sync states.
const (
	// StateOnline: the last call to e-RS got an answer.
	StateOnline SyncState = "online"
	// StateOffline: e-RS cannot be reached; the engine probes with
	// exponential backoff and works from the cache meanwhile.
	StateOffline SyncState = "offline"
	// StateSignInNeeded: there is no live session, or e-RS refused the
	// token. The outbox is paused until SessionChanged.
	StateSignInNeeded SyncState = "sign-in-needed"
)

// SyncStatus is the engine's state as published: SyncStateChanged events
// carry it and Engine.Status returns it.
type SyncStatus struct {
	State SyncState
	// LastSuccess is when a worklist was last pulled successfully (local
	// time; zero if never).
	LastSuccess time.Time
	// AsOf is e-RS's time of the last worklist pulled.
	AsOf time.Time
	// ServerOffset is e-RS's clock minus this computer's, measured when
	// the last worklist arrived. Age cached data with triage.DataAge /
	// FreshnessOf(AsOf, now, ServerOffset, ...) so a wrong local clock
	// never makes old data look fresh.
	ServerOffset time.Duration
	// Reason explains a state other than online in plain English.
	Reason string
}

// SyncStateChanged: the connection state changed.
type SyncStateChanged struct{ Status SyncStatus }

// ErrorEvent: something failed that the user may need to know about. Message
// is plain English and holds no patient data; UBRN says which referral, if
// any.
type ErrorEvent struct {
	Op      string
	UBRN    string
	Message string
	Err     error
}

// Lagged: Dropped events were not delivered because the subscriber's buffer
// was full. Re-read the store.
type Lagged struct{ Dropped int }

func (WorklistUpdated) isEvent()  {}
func (ReferralUpdated) isEvent()  {}
func (DocumentReady) isEvent()    {}
func (PatientUpdated) isEvent()   {}
func (PrefetchProgress) isEvent() {}
func (OutboxChanged) isEvent()    {}
func (DecisionChanged) isEvent()  {}
func (OutboxWaiting) isEvent()    {}
func (SyncStateChanged) isEvent() {}
func (ErrorEvent) isEvent()       {}
func (Lagged) isEvent()           {}

// DefaultEventBuffer is a subscription's buffer when none is given.
const DefaultEventBuffer = 256

// bus fans events out to subscribers without ever blocking the publisher.
type bus struct {
	mu     sync.Mutex
	next   int
	subs   map[int]*subscriber
	closed bool
}

type subscriber struct {
	ch      chan Event
	dropped int
}

func newBus() *bus { return &bus{subs: map[int]*subscriber{}} }

func (b *bus) subscribe(buffer int) (<-chan Event, func()) {
	if buffer <= 0 {
		buffer = DefaultEventBuffer
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan Event, buffer)
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	id := b.next
	b.next++
	b.subs[id] = &subscriber{ch: ch}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if s, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(s.ch)
		}
	}
}

func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		if s.dropped > 0 {
			select {
			case s.ch <- Lagged{Dropped: s.dropped}:
				s.dropped = 0
			default:
				s.dropped++
				continue
			}
		}
		select {
		case s.ch <- ev:
		default:
			s.dropped++
		}
	}
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for id, s := range b.subs {
		close(s.ch)
		delete(b.subs, id)
	}
}
