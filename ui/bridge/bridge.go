// Package bridge is the only place where Triage Desk's background work meets
// its widgets. Everything that happens off the UI goroutine (engine events,
// the sign-in runtime's status, documents rendered, files read from the
// encrypted store) reaches the screen through a Bridge, which moves it onto
// the UI goroutine with fyne.Do. No other package calls fyne.Do or
// fyne.DoAndWait.
//
// A Bridge owns its goroutines: Go, Run, Watch and AttachEngine start them
// under the Bridge's context, and Close cancels that context and waits for
// every one of them, so a test (whose driver runs fyne.Do inline) can stop
// them before the next test starts.
//
// Engine events are coalesced: however many arrive, listeners receive at most
// one Update per Interval (50 ms by default), carrying everything that
// happened since the last one (which referrals changed, the latest outbox
// counts and sync status), so a burst of a thousand "document stored" events
// costs one screen refresh and each view refreshes only the rows concerned.
package bridge

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/tick"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// DefaultInterval is the shortest time between two Updates delivered to
// engine listeners.
const DefaultInterval = 50 * time.Millisecond

// Do runs fn on the UI goroutine without waiting (fyne.Do). Call it only from
// goroutines you created; on the UI goroutine, call fn directly.
func Do(fn func()) { fyne.Do(fn) }

// DoAndWait runs fn on the UI goroutine and waits for it (fyne.DoAndWait).
// Never call it from the UI goroutine: it would deadlock.
func DoAndWait(fn func()) { fyne.DoAndWait(fn) }

// Options configure a Bridge. The zero value is ready for the real app.
type Options struct {
	// Post runs a function on the UI goroutine. Nil means Do (fyne.Do).
	// Tests pass a Loop's Post so that everything posted runs on the test
	// goroutine when the test pumps it.
	Post func(func())
	// Interval is the coalescing interval for engine events (default
	// DefaultInterval).
	Interval time.Duration
	// Now is the clock (default time.Now); tests may replace it.
	Now func() time.Time
}

// EventSource is where engine events come from: an *app.Workspace, or a fake
// in tests.
type EventSource interface {
	Subscribe(buffer int) (<-chan app.Event, func())
}

// Update is everything the engine reported since the previous Update. A
// listener reads what it needs and ignores the rest. Maps and slices are
// fresh for every Update and may be kept.
type Update struct {
	// Worklist is the latest worklist pull, if one finished.
	Worklist *app.WorklistUpdated
	// Referrals are the UBRNs whose details (A005) were stored.
	Referrals map[string]bool
	// Patients are the UBRNs whose patient details (PDS, the banner) were
	// stored.
	Patients map[string]bool
	// Documents are the documents stored or recorded as unavailable, in
	// order of arrival.
	Documents []app.DocumentReady
	// Decisions maps a UBRN to the latest outbox state of its decision.
	Decisions map[string]triage.OutboxState
	// Outbox is the latest outbox summary, if it changed.
	Outbox *app.OutboxChanged
	// Waiting is the latest "queued decisions are not being sent" notice.
	Waiting *app.OutboxWaiting
	// Progress is the latest prefetch progress.
	Progress *app.PrefetchProgress
	// Sync is the latest connection status, if it changed.
	Sync *app.SyncStatus
	// Errors are failures the user may need to know about, in order.
	Errors []app.ErrorEvent
	// Advice are the Advice and Guidance requests stored (by UBRN); the key
	// "" means the A&G worklist was pulled.
	Advice map[string]bool
	// AdviceActions maps an A&G request's UBRN to the latest outbox state
	// of its reply or conversion.
	AdviceActions map[string]triage.OutboxState
	// Lagged is true when events were dropped: re-read everything.
	Lagged bool
	// Closed is true when the engine's event stream ended (the workspace
	// closed); no more Updates follow from that engine.
	Closed bool
}

// Touches reports whether the update concerns the referral: its details, a
// document cached under it, or its decision.
func (u *Update) Touches(ubrn string) bool {
	if u.Referrals[ubrn] || u.Patients[ubrn] {
		return true
	}
	if _, ok := u.Decisions[ubrn]; ok {
		return true
	}
	for _, d := range u.Documents {
		if d.UBRN == ubrn {
			return true
		}
	}
	return false
}

// Empty reports whether the update carries nothing.
func (u *Update) Empty() bool {
	return u.Worklist == nil && len(u.Referrals) == 0 && len(u.Patients) == 0 && len(u.Documents) == 0 && len(u.Decisions) == 0 &&
		u.Outbox == nil && u.Waiting == nil && u.Progress == nil && u.Sync == nil && len(u.Errors) == 0 &&
		len(u.Advice) == 0 && len(u.AdviceActions) == 0 && !u.Lagged && !u.Closed
}

func (u *Update) add(ev app.Event) {
	switch e := ev.(type) {
	case app.WorklistUpdated:
		u.Worklist = &e
	case app.ReferralUpdated:
		if u.Referrals == nil {
			u.Referrals = map[string]bool{}
		}
		u.Referrals[e.UBRN] = true
	case app.PatientUpdated:
		if u.Patients == nil {
			u.Patients = map[string]bool{}
		}
		u.Patients[e.UBRN] = true
	case app.DocumentReady:
		u.Documents = append(u.Documents, e)
	case app.DecisionChanged:
		if u.Decisions == nil {
			u.Decisions = map[string]triage.OutboxState{}
		}
		u.Decisions[e.UBRN] = e.State
	case app.OutboxChanged:
		u.Outbox = &e
	case app.OutboxWaiting:
		u.Waiting = &e
	case app.PrefetchProgress:
		u.Progress = &e
	case app.SyncStateChanged:
		s := e.Status
		u.Sync = &s
	case app.ErrorEvent:
		u.Errors = append(u.Errors, e)
	case app.AdviceUpdated:
		if u.Advice == nil {
			u.Advice = map[string]bool{}
		}
		u.Advice[e.UBRN] = true
	case app.AdviceActionChanged:
		if u.AdviceActions == nil {
			u.AdviceActions = map[string]triage.OutboxState{}
		}
		u.AdviceActions[e.UBRN] = e.State
	case app.Lagged:
		u.Lagged = true
	}
}

// Bridge carries background results to the UI goroutine. Create it with New
// and Close it when the window closes. Its methods are safe for concurrent
// use.
type Bridge struct {
	post     func(func())
	interval time.Duration
	now      func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	listeners map[int]func(Update)
	nextID    int
}

// New returns a running Bridge.
func New(opts Options) *Bridge {
	if opts.Post == nil {
		opts.Post = Do
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bridge{post: opts.Post, interval: opts.Interval, now: opts.Now, ctx: ctx, cancel: cancel,
		listeners: map[int]func(Update){}}
}

// Context is cancelled when the Bridge closes. Background work started
// elsewhere for the UI should stop with it.
func (b *Bridge) Context() context.Context { return b.ctx }

// Post runs fn on the UI goroutine (fyne.Do), unless the Bridge is closed.
// Use it from goroutines you created.
func (b *Bridge) Post(fn func()) {
	if b.ctx.Err() != nil {
		return
	}
	b.post(func() {
		if b.ctx.Err() == nil {
			fn()
		}
	})
}

// Go runs fn on a new goroutine owned by the Bridge: ctx is cancelled by
// Close, and Close waits for fn to return. After Close, Go does nothing.
func (b *Bridge) Go(fn func(ctx context.Context)) {
	b.spawn(func() { fn(b.ctx) })
}

// SaveTimeout bounds a write started with Save.
const SaveTimeout = 5 * time.Second

// Save runs a write the clinician expects to be kept (a draft kept or
// dropped) on a goroutine owned by the Bridge, like Go, but its ctx is not
// cancelled by Close: it ends only after SaveTimeout, so a window closed
// just after the clinician acted still finishes the write (Close waits for
// it). After Close, Save does nothing.
func (b *Bridge) Save(fn func(ctx context.Context)) {
	b.spawn(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), SaveTimeout)
		defer cancel()
		fn(ctx)
	})
}

// spawn starts fn on an owned goroutine unless the Bridge is closed, and
// reports whether it did.
func (b *Bridge) spawn(fn func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
	return true
}

// Run runs work on a Bridge-owned goroutine with a context that ends when
// ctx (which may be nil) or the Bridge does, then done on the UI goroutine
// with the result, unless that context ended first (the result is then
// dropped: the screen has moved on).
func Run[T any](b *Bridge, ctx context.Context, work func(ctx context.Context) (T, error), done func(T, error)) {
	b.Go(func(bctx context.Context) {
		wctx := bctx
		if ctx != nil {
			var stop func() bool
			var cancel context.CancelFunc
			wctx, cancel = context.WithCancel(ctx)
			stop = context.AfterFunc(bctx, cancel)
			defer stop()
			defer cancel()
		}
		v, err := work(wctx)
		if wctx.Err() != nil {
			return
		}
		b.Post(func() {
			if ctx != nil && ctx.Err() != nil {
				return
			}
			done(v, err)
		})
	})
}

// Watch delivers a value source's changes to apply on the UI goroutine.
// subscribe registers a callback (called on any goroutine) and returns a
// function that cancels it, like app.Runtime.OnStatus. Bursts are coalesced:
// apply always ends up with the latest value but may skip intermediate
// ones. The subscription ends when the Bridge closes.
func Watch[T any](b *Bridge, subscribe func(fn func(T)) (cancel func()), apply func(T)) {
	var mu sync.Mutex
	var latest T
	var have bool
	wake := make(chan struct{}, 1)
	b.spawn(func() {
		unsubscribe := subscribe(func(v T) {
			mu.Lock()
			latest, have = v, true
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		defer unsubscribe()
		for {
			select {
			case <-b.ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			v, ok := latest, have
			have = false
			mu.Unlock()
			if ok {
				b.Post(func() { apply(v) })
			}
		}
	})
}

// OnEngine registers fn to receive coalesced engine Updates on the UI
// goroutine, from every engine attached now or later. It returns a function
// that removes fn.
func (b *Bridge) OnEngine(fn func(Update)) (remove func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	b.nextID++
	b.listeners[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.listeners, id)
	}
}

func (b *Bridge) deliver(u Update) {
	b.Post(func() {
		b.mu.Lock()
		ls := make([]func(Update), 0, len(b.listeners))
		for i := 0; i < b.nextID; i++ {
			if l, ok := b.listeners[i]; ok {
				ls = append(ls, l)
			}
		}
		b.mu.Unlock()
		for _, l := range ls {
			l(u)
		}
	})
}

// AttachEngine subscribes to src's events and delivers them, coalesced, to
// the OnEngine listeners until the returned detach is called, the event
// stream ends (the engine closed) or the Bridge closes. Detach waits for
// the subscription's goroutine to finish. After Close it does nothing.
func (b *Bridge) AttachEngine(src EventSource) (detach func()) {
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan struct{})
	if !b.spawn(func() {
		defer close(done)
		ch, unsubscribe := src.Subscribe(app.DefaultEventBuffer * 4)
		defer unsubscribe()
		b.coalesce(ctx, ch)
	}) {
		cancel()
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// coalesce reads events until ch closes or ctx ends, delivering at most one
// Update per interval: the first event after a quiet spell is delivered at
// once, later ones wait for the interval to pass.
func (b *Bridge) coalesce(ctx context.Context, ch <-chan app.Event) {
	var pending Update
	var last time.Time
	var timer *time.Timer
	var timerC <-chan time.Time
	flush := func() {
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		if pending.Empty() {
			return
		}
		u := pending
		pending = Update{}
		last = b.now()
		b.deliver(u)
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				pending.Closed = true
				flush()
				return
			}
			pending.add(ev)
			if timerC != nil {
				continue
			}
			wait := b.interval - b.now().Sub(last)
			if last.IsZero() || wait <= 0 {
				flush()
				continue
			}
			timer = time.NewTimer(wait)
			timerC = timer.C
		case <-timerC:
			timer, timerC = nil, nil
			flush()
		}
	}
}

// Close cancels the Bridge's context, stops delivering to the UI and waits
// for every goroutine the Bridge started. It is safe to call more than
// once.
func (b *Bridge) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

// After runs fn on the UI goroutine once d has passed, unless stop is
// called first or the Bridge has closed by then.
func (b *Bridge) After(d time.Duration, fn func()) (stop func()) {
	t := time.AfterFunc(d, func() { b.Post(fn) })
	return func() { t.Stop() }
}

// Every runs fn on the UI goroutine every d until the Bridge closes, from
// a goroutine the Bridge owns.
func (b *Bridge) Every(d time.Duration, fn func()) {
	b.Go(func(ctx context.Context) {
		tick.Every(ctx, d, func() { b.Post(fn) })
	})
}

// Writes runs keyed writes the clinician expects to be kept (a referral's
// draft kept, then dropped) with Save, one at a time and in the order
// they were issued for each key: a write that has not started when a
// later one for its key has finished is skipped, so the last one issued is
// what stays, never an earlier one that lost a race.
type Writes struct {
	b      *Bridge
	issue  sync.Mutex
	issued map[string]uint64
	run    sync.Mutex // held while a write runs
	done   map[string]uint64
}

// NewWrites returns an empty set of keyed writes on b.
func NewWrites(b *Bridge) *Writes {
	return &Writes{b: b, issued: map[string]uint64{}, done: map[string]uint64{}}
}

// Save issues fn as the newest write for key.
func (w *Writes) Save(key string, fn func(ctx context.Context)) {
	w.issue.Lock()
	w.issued[key]++
	n := w.issued[key]
	w.issue.Unlock()
	w.b.Save(func(ctx context.Context) {
		w.run.Lock()
		defer w.run.Unlock()
		if w.done[key] > n {
			return // a later write for key has already run
		}
		fn(ctx)
		w.done[key] = n
	})
}
