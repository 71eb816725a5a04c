package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Session is the sign-in seam: who is signed in, in which role, and whether
// their session can call e-RS now. internal/app adapts internal/auth's
// session to it; tests use StaticSession. Identity must be cheap and safe for
// concurrent use. When the identity or liveness changes (a new sign-in, a
// role switch, a session unlocked), call Engine.SessionChanged.
type Session interface {
	// Identity returns the signed-in identity and whether the session is
	// live (a token can be had without user interaction). A zero identity
	// means nobody is signed in.
	Identity() (id triage.Identity, live bool)
}

// StaticSession is a Session whose identity and liveness are set by the
// caller, for tests and tools that drive the engine directly. It is safe
// for concurrent use.
type StaticSession struct {
	mu   sync.Mutex
	id   triage.Identity
	live bool
}

// NewStaticSession returns a live session for id.
func NewStaticSession(id triage.Identity) *StaticSession {
	return &StaticSession{id: id, live: !id.IsZero()}
}

// Identity returns the identity and whether it is live.
func (s *StaticSession) Identity() (triage.Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, s.live && !s.id.IsZero()
}

// Set changes the identity and liveness. Call Engine.SessionChanged after.
func (s *StaticSession) Set(id triage.Identity, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id, s.live = id, live
}

// CRIDocumentID is the document id under which a referral's clinical
// referral information PDF is cached (under the referral's own UBRN).
const CRIDocumentID = "cri"

// Defaults of Config.
const (
	DefaultPullInterval        = 5 * time.Minute
	DefaultRefDataInterval     = 24 * time.Hour
	DefaultPendingRecheck      = 5 * time.Minute
	DefaultPrefetchWorkers     = 4
	DefaultPushWorkers         = 2
	DefaultRetryBase           = 2 * time.Second
	DefaultRetryCap            = 10 * time.Minute
	DefaultProbeMin            = 2 * time.Second
	DefaultProbeMax            = 2 * time.Minute
	DefaultRetentionInterval   = 6 * time.Hour
	DefaultPushCheckInterval   = 30 * time.Second
	defaultOutboxCountDebounce = 100 * time.Millisecond
)

// Config configures an Engine. Store, Client and Session are required.
type Config struct {
	// Store is the signed-in user's store.
	Store *store.Store
	// Client calls e-RS. It carries the token source; the engine gives it
	// the session's identity (WithIdentity) for every call. All its copies
	// share one rate limiter.
	Client *ers.Client
	// Session says who is signed in and whether the session is live.
	Session Session
	// PDS reads each referral's patient from the Personal Demographics
	// Service for the banner (nil: no patient details). It should share
	// Client's rate limiter (pds.Config.Limiter).
	PDS *pds.Client
	// PatientRefresh is how old the cached patient details of the referral
	// the user opens (Focus) may be before they are read again (default
	// PullInterval).
	PatientRefresh time.Duration

	// List is the worklist to pull (default Referrals for Review) and
	// Filter narrows it (e.g. a service).
	List   triage.ListType
	Filter triage.WorklistFilter
	// Services are the organisation's e-RS service ids. A worklist too
	// large for one answer is split by these and by the services of the
	// last worklist (see split.go); they need not be complete.
	Services []string

	// PullInterval is how often the worklist is pulled (default 5 min).
	PullInterval time.Duration
	// RefDataInterval is how often reference data is refreshed (default
	// daily).
	RefDataInterval time.Duration
	// PendingRecheck is how long to wait before asking again for an
	// attachment e-RS is still scanning (default and minimum 5 minutes,
	// as e-RS asks; tests may set less).
	PendingRecheck time.Duration
	// AdviceAndGuidance adds the Advice and Guidance worklist to every
	// sync cycle (PullAdvice, after the referral worklist) and sends
	// queued A&G replies and conversions (see advice_push.go). Queued A&G
	// actions are sent whether or not it is set.
	AdviceAndGuidance bool
	// NoPrefetch turns off downloading documents ahead of time: only the
	// referral the user has open (Focus) gets its documents.
	NoPrefetch bool
	// PrefetchWorkers bounds concurrent downloads (default 4); PushWorkers
	// bounds decisions sent at once, each for a different referral
	// (default 2).
	PrefetchWorkers int
	PushWorkers     int

	// RetryBase and RetryCap shape the outbox's full-jitter backoff:
	// a retry waits rand(0, min(RetryCap, RetryBase·2^attempts)), and at
	// least e-RS's Retry-After (defaults 2 s and 10 min).
	RetryBase, RetryCap time.Duration
	// ProbeMin and ProbeMax bound the offline probe's exponential backoff
	// (defaults 2 s and 2 min).
	ProbeMin, ProbeMax time.Duration
	// WriteTimeout, if set, bounds each decision send below the client's
	// own write timeout (tests only: e-RS may take 180 s to answer).
	WriteTimeout time.Duration
	// RetentionInterval is how often store.RunRetention runs (default 6 h;
	// negative: never).
	RetentionInterval time.Duration
	// PushCheckInterval is the longest the pusher sleeps without a reason
	// (default 30 s).
	PushCheckInterval time.Duration

	// Logger receives operational logs: counts, ids, states; never patient
	// data. Nil discards.
	Logger *slog.Logger
	// Clock is the time source (default time.Now).
	Clock func() time.Time
}

// def sets *p to v when *p is not positive (unset or out of range).
func def[T int | time.Duration](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

func (c *Config) defaults() error {
	if c.Store == nil || c.Client == nil || c.Session == nil {
		return errors.New("engine: Store, Client and Session are required")
	}
	if c.List == "" {
		c.List = triage.ListReferralsForReview
	}
	if err := c.Filter.Validate(); err != nil {
		return fmt.Errorf("engine: worklist filter: %w", err)
	}
	def(&c.PullInterval, DefaultPullInterval)
	def(&c.RefDataInterval, DefaultRefDataInterval)
	def(&c.PendingRecheck, DefaultPendingRecheck)
	def(&c.RetryBase, DefaultRetryBase)
	def(&c.RetryCap, DefaultRetryCap)
	def(&c.ProbeMin, DefaultProbeMin)
	def(&c.ProbeMax, DefaultProbeMax)
	def(&c.PushCheckInterval, DefaultPushCheckInterval)
	def(&c.PatientRefresh, c.PullInterval)
	if c.RetentionInterval == 0 {
		c.RetentionInterval = DefaultRetentionInterval
	}
	def(&c.PrefetchWorkers, DefaultPrefetchWorkers)
	def(&c.PushWorkers, DefaultPushWorkers)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return nil
}

// Engine keeps the store in step with e-RS. Create it with New, start it
// with Run (or use SyncOnce), stop it with Close. Its methods are safe for
// concurrent use.
type Engine struct {
	cfg  Config
	st   *store.Store
	log  *slog.Logger
	now  func() time.Time
	bus  *bus
	q    *jobQueue
	push *pusher
	book *patientBook

	mu         sync.Mutex
	status     SyncStatus
	stateCh    chan struct{} // closed and replaced on every status change
	authPaused bool
	probeDelay time.Duration
	complete   map[string]int                 // UBRN -> version whose documents are all cached
	prevItems  map[string]triage.WorklistItem // the last pulled worklist
	prevLoaded bool
	// cacheChecked: every cached record was authenticated this run.
	cacheChecked bool
	// split: the worklist is asked for in parts (split.go).
	split       splitState
	pending     map[string]pendingDoc // attachment id -> re-poll
	pendingWake chan struct{}

	pullReq    chan struct{}
	outboxWake chan struct{}

	tune tuning // settings changed while running (available.go)

	runMu   sync.Mutex
	running bool
	cancel  context.CancelFunc
	done    chan struct{}
	closed  bool
}

// pendingDoc is an attachment e-RS is still scanning.
type pendingDoc struct {
	ubrn string
	doc  triage.Document
	due  time.Time
	rank rank
}

// New returns an engine for the configuration. It returns an error when
// Store, Client or Session is missing or the worklist filter is invalid.
func New(cfg Config) (*Engine, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, st: cfg.Store, log: cfg.Logger, now: cfg.Clock, bus: newBus(), book: newPatientBook(),
		stateCh:     make(chan struct{}),
		complete:    map[string]int{},
		pending:     map[string]pendingDoc{},
		pendingWake: make(chan struct{}, 1),
		pullReq:     make(chan struct{}, 1),
		outboxWake:  make(chan struct{}, 1),
		probeDelay:  cfg.ProbeMin,
	}
	e.status.State = StateOnline
	// The worklist already cached is as old as its last pull: said so
	// from the start, so a laptop opened offline shows how old its
	// worklist is rather than "not downloaded yet".
	if asOf, stored, err := cfg.Store.WorklistTimes(context.Background(), cfg.List); err == nil {
		e.status.AsOf, e.status.LastSuccess = asOf, stored
	}
	if _, live := cfg.Session.Identity(); !live {
		e.status.State = StateSignInNeeded
		e.status.Reason = msgSignIn
	}
	e.q = newJobQueue(e)
	e.push = newPusher(e)
	return e, nil
}

const (
	msgSignIn      = "Sign in with your NHS Care Identity to sync. Everything already downloaded can still be read."
	msgSignInAgain = "Your NHS Care Identity session has ended. Sign in again: your decisions are kept and will be sent afterwards."
	msgOffline     = "Triage Desk cannot reach e-RS. Everything already downloaded can still be read, and your decisions will be sent when the connection returns."
)

// Subscribe returns a channel of events with the given buffer (0:
// DefaultEventBuffer) and a function that ends the subscription and closes
// the channel. The channel is also closed when the engine is closed.
// Publishing never waits for a subscriber: see Lagged.
func (e *Engine) Subscribe(buffer int) (<-chan Event, func()) { return e.bus.subscribe(buffer) }

func (e *Engine) emit(ev Event) { e.bus.publish(ev) }

// Status returns the connection state, the last successful pull and why
// the engine is not online, if it is not.
func (e *Engine) Status() SyncStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// SyncNow asks the puller to pull the worklist now (when running).
func (e *Engine) SyncNow() { signal(e.pullReq) }

// SessionChanged tells the engine the sign-in changed: a new sign-in ends a
// "sign-in needed" pause, and the outbox and a pull are retried at once.
func (e *Engine) SessionChanged() {
	_, live := e.cfg.Session.Identity()
	e.mu.Lock()
	e.authPaused = false
	if live {
		if e.status.State == StateSignInNeeded {
			e.setStateLocked(StateOnline, "")
		}
	} else {
		e.setStateLocked(StateSignInNeeded, msgSignIn)
	}
	e.mu.Unlock()
	signal(e.pullReq)
	signal(e.outboxWake)
}

// StoreChanged tells the engine about a change to its store. Wire it to
// store.Options.OnChange: a new decision wakes the pusher at once, each
// decision's change of state is published as a DecisionChanged event,
// outbox changes are summarised as OutboxChanged events, and a cache that
// was rebuilt, or lost damaged records, is downloaded again.
func (e *Engine) StoreChanged(c store.Change) {
	switch c.Kind {
	case store.ChangeOutbox:
		if c.UBRN != "" && c.State != "" {
			e.emit(DecisionChanged{UBRN: c.UBRN, DecisionID: c.DecisionID, State: c.State})
		}
		signal(e.outboxWake)
		e.push.countDirty()
	case store.ChangeAdviceOutbox:
		if c.UBRN != "" && c.State != "" {
			e.emit(AdviceActionChanged{UBRN: c.UBRN, ID: c.DecisionID, State: c.State})
		}
		signal(e.outboxWake)
	case store.ChangeCacheRebuilt:
		// The cache was set aside and started empty: forget what was
		// cached and download everything again.
		e.mu.Lock()
		e.complete = map[string]int{}
		e.prevItems, e.prevLoaded = nil, false
		e.mu.Unlock()
		signal(e.pullReq)
	case store.ChangeCacheRecordsDropped:
		// Damaged records were removed: the next pull downloads them again.
		if c.UBRN != "" {
			e.forget(c.UBRN)
		} else {
			e.mu.Lock()
			e.complete = map[string]int{}
			e.mu.Unlock()
		}
		signal(e.pullReq)
	}
}

// Focus moves the referral the user has open to the front of the prefetch
// queue, and fetches it (with its documents, even with NoPrefetch) if it is
// not fully cached. "" clears the focus.
func (e *Engine) Focus(ubrn string) { e.q.setFocus(triage.NormalizeUBRN(ubrn)) }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// setStateLocked changes the status and publishes it. Call with e.mu held.
func (e *Engine) setStateLocked(s SyncState, reason string) {
	if e.status.State == s && e.status.Reason == reason {
		return
	}
	e.status.State, e.status.Reason = s, reason
	close(e.stateCh)
	e.stateCh = make(chan struct{})
	st := e.status
	e.log.Info("sync state", "state", string(s))
	e.emit(SyncStateChanged{Status: st}) // the bus never blocks or calls back
}

// usable reports whether requests may be made now, and a channel closed at
// the next state change.
func (e *Engine) usable() (bool, chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status.State == StateOnline && !e.authPaused, e.stateCh
}

// waitUsable blocks until requests may be made or ctx ends.
func (e *Engine) waitUsable(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, ch := e.usable()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errNoSession is returned when there is no live session to call e-RS with;
// errAuthPaused while e-RS's last answer was 401 and no new sign-in was
// reported.
var (
	errNoSession  = &triage.Error{Code: triage.EUNAUTHORIZED, Message: msgSignIn}
	errAuthPaused = &triage.Error{Code: triage.EUNAUTHORIZED, Message: msgSignInAgain}
)

// flag reads one of the engine's flags (authPaused, prevLoaded,
// cacheChecked) under e.mu.
func (e *Engine) flag(f *bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return *f
}

// client returns the e-RS client for the live session's identity.
func (e *Engine) client() (*ers.Client, triage.Identity, error) {
	if e.flag(&e.authPaused) {
		return nil, triage.Identity{}, errAuthPaused
	}
	id, live := e.cfg.Session.Identity()
	if !live {
		e.mu.Lock()
		e.setStateLocked(StateSignInNeeded, msgSignIn)
		e.mu.Unlock()
		return nil, id, errNoSession
	}
	return e.cfg.Client.WithIdentity(id), id, nil
}

// noteSuccess records that e-RS answered. Coming back online triggers a
// pull and wakes the outbox.
func (e *Engine) noteSuccess() {
	e.mu.Lock()
	wasOffline := e.status.State == StateOffline
	if wasOffline {
		e.setStateLocked(StateOnline, "")
	}
	e.probeDelay = e.cfg.ProbeMin
	e.mu.Unlock()
	if wasOffline {
		signal(e.pullReq)
		signal(e.outboxWake)
	}
}

// noteFailure records a failed call: no answer moves the engine offline;
// a refused or missing token pauses everything until SessionChanged.
// It returns the error's class (0 if not an *ers.Error).
func (e *Engine) noteFailure(err error) ers.Class {
	if errors.Is(err, errNoSession) || errors.Is(err, errAuthPaused) {
		return ers.AuthRequired
	}
	var ee *ers.Error
	if !errors.As(err, &ee) {
		return 0
	}
	switch ee.Class {
	case ers.Unreachable:
		if errors.Is(err, context.Canceled) {
			return ee.Class
		}
		e.mu.Lock()
		if e.status.State == StateOnline {
			e.setStateLocked(StateOffline, msgOffline)
		}
		e.mu.Unlock()
	case ers.AuthRequired:
		e.mu.Lock()
		e.authPaused = true
		e.setStateLocked(StateSignInNeeded, msgSignInAgain)
		e.mu.Unlock()
	}
	return ee.Class
}

// nextProbe returns how long to wait before the next offline probe and
// doubles the wait (with jitter) for the one after.
func (e *Engine) nextProbe() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.probeDelay
	e.probeDelay = min(e.cfg.ProbeMax, e.probeDelay*2)
	return d/2 + rand.N(d/2+1)
}

// Run runs the engine's services until ctx is cancelled or Close is
// called, and returns only when every goroutine it started has finished.
// A service that panics is logged and restarted. Run returns an error if
// the engine is already running or closed; otherwise nil.
func (e *Engine) Run(ctx context.Context) error {
	e.runMu.Lock()
	if e.running || e.closed {
		e.runMu.Unlock()
		return errors.New("engine: already running or closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	e.running, e.cancel, e.done = true, cancel, make(chan struct{})
	done := e.done
	e.runMu.Unlock()
	defer func() {
		cancel()
		e.runMu.Lock()
		e.running = false
		close(done)
		e.runMu.Unlock()
	}()

	var wg sync.WaitGroup
	svc := func(name string, fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.supervise(ctx, name, fn)
		}()
	}
	svc("puller", e.runPuller)
	for i := 0; i < e.cfg.PrefetchWorkers; i++ {
		svc("prefetch", e.runPrefetchWorker)
	}
	svc("pusher", e.push.run)
	svc("outbox-counter", e.push.runCounter)
	svc("refdata", e.runRefData)
	svc("pending", e.runPendingPoller)
	if e.cfg.RetentionInterval > 0 {
		svc("retention", e.runRetention)
	}
	wg.Wait()
	return nil
}

// supervise runs fn until ctx ends, restarting it after a panic.
func (e *Engine) supervise(ctx context.Context, name string, fn func(context.Context)) {
	for ctx.Err() == nil {
		panicked := func() (p bool) {
			defer func() {
				if r := recover(); r != nil {
					p = true
					e.log.Error("engine service panicked; restarting", "service", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				}
			}()
			fn(ctx)
			return false
		}()
		if !panicked {
			return
		}
		if !sleep(ctx, time.Second) {
			return
		}
	}
}

// Close stops Run, waits for every service to finish and closes the
// subscribers' channels. It does not close the store. It is safe to call
// more than once.
func (e *Engine) Close() error {
	e.runMu.Lock()
	e.closed = true
	cancel, done, running := e.cancel, e.done, e.running
	e.runMu.Unlock()
	if running {
		cancel()
		<-done
	}
	e.bus.close()
	return nil
}

// sleep waits for d or ctx; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	return sleepOrWake(ctx, d, nil)
}

// sleepOrWake waits for d, for ctx to end or for a signal on wake (a nil
// wake never signals); it reports whether d passed.
func sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-wake:
	}
	return false
}
