package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// fakeSource is an engine event stream the test feeds.
type fakeSource struct {
	ch chan app.Event
}

func newFakeSource() *fakeSource { return &fakeSource{ch: make(chan app.Event, 4096)} }

func (f *fakeSource) Subscribe(int) (<-chan app.Event, func()) { return f.ch, func() {} }

// recorder collects what was posted to the "UI goroutine" with the time.
type recorder struct {
	mu      sync.Mutex
	updates []Update
	at      []time.Time
}

func (r *recorder) add(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
	r.at = append(r.at, time.Now())
}

func (r *recorder) snapshot() ([]Update, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Update(nil), r.updates...), append([]time.Time(nil), r.at...)
}

// recordedBridge returns a Bridge that runs posts at once, with a recorder
// on its engine updates, and a fake engine to attach.
func recordedBridge() (*Bridge, *recorder, *fakeSource) {
	b := New(Options{Post: func(fn func()) { fn() }})
	rec := &recorder{}
	b.OnEngine(rec.add)
	return b, rec, newFakeSource()
}

func TestBurstsAreCoalescedToOneUpdatePerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, rec, src := recordedBridge()
		defer b.Close()
		detach := b.AttachEngine(src)
		defer detach()

		start := time.Now()
		// 1000 events over one second: a referral and a decision each
		// millisecond.
		for i := range 500 {
			src.ch <- app.ReferralUpdated{UBRN: fmt.Sprintf("%012d", i)}
			src.ch <- app.DecisionChanged{UBRN: fmt.Sprintf("%012d", i), State: triage.OutboxQueued}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		elapsed := time.Since(start)

		updates, at := rec.snapshot()
		if maxN := int(elapsed/DefaultInterval) + 1; len(updates) > maxN || len(updates) < 2 {
			t.Fatalf("%d updates in %v, want between 2 and %d", len(updates), elapsed, maxN)
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < DefaultInterval {
				t.Fatalf("updates %d and %d only %v apart", i-1, i, gap)
			}
		}
		if at[0].Sub(start) > time.Millisecond {
			t.Errorf("the first event waited %v; after a quiet spell it should go at once", at[0].Sub(start))
		}
		seen, decided := map[string]bool{}, map[string]bool{}
		for _, u := range updates {
			for k := range u.Referrals {
				seen[k] = true
			}
			for k, s := range u.Decisions {
				if s != triage.OutboxQueued {
					t.Errorf("decision state %s", s)
				}
				decided[k] = true
			}
		}
		if len(seen) != 500 || len(decided) != 500 {
			t.Errorf("%d referrals and %d decisions delivered, want 500 each", len(seen), len(decided))
		}
	})
}

func TestUpdateKeepsLatestStatusAndEveryDocument(t *testing.T) {
	var u Update
	u.add(app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncOffline}})
	u.add(app.DocumentReady{UBRN: "1", DocumentID: "cri"})
	u.add(app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncOnline}})
	u.add(app.DocumentReady{UBRN: "2", DocumentID: "a1", Availability: triage.AvailabilityPending})
	u.add(app.DecisionChanged{UBRN: "3", State: triage.OutboxQueued})
	u.add(app.DecisionChanged{UBRN: "3", State: triage.OutboxSent})
	u.add(app.Lagged{Dropped: 4})
	if u.Sync == nil || u.Sync.State != app.SyncOnline {
		t.Errorf("sync %+v, want the latest (online)", u.Sync)
	}
	if len(u.Documents) != 2 || !u.Touches("2") || !u.Touches("3") || u.Touches("4") {
		t.Errorf("documents %+v; touches wrong", u.Documents)
	}
	if u.Decisions["3"] != triage.OutboxSent || !u.Lagged {
		t.Errorf("decision %s lagged %v, want sent and lagged", u.Decisions["3"], u.Lagged)
	}
}

func TestEngineClosingEndsTheSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, rec, src := recordedBridge()
		defer b.Close()
		b.AttachEngine(src)
		src.ch <- app.WorklistUpdated{Total: 3}
		close(src.ch)
		synctest.Wait()
		updates, _ := rec.snapshot()
		last := updates[len(updates)-1]
		if !last.Closed {
			t.Fatalf("last update %+v does not say the stream closed", last)
		}
		total := 0
		for _, u := range updates {
			if u.Worklist != nil {
				total = u.Worklist.Total
			}
		}
		if total != 3 {
			t.Errorf("worklist update lost: total %d", total)
		}
	})
}

func TestCloseJoinsEveryGoroutineAndStopsPosting(t *testing.T) {
	var posted atomic.Int32
	b := New(Options{Post: func(fn func()) { posted.Add(1); fn() }})
	var finished atomic.Int32
	for range 5 {
		b.Go(func(ctx context.Context) {
			<-ctx.Done()
			time.Sleep(5 * time.Millisecond)
			finished.Add(1)
		})
	}
	src := newFakeSource()
	b.AttachEngine(src)
	Watch(b, func(fn func(int)) func() { fn(1); return func() {} }, func(int) {})
	b.Close()
	if finished.Load() != 5 {
		t.Fatalf("Close returned with %d of 5 goroutines finished", finished.Load())
	}
	before := posted.Load()
	b.Post(func() { t.Error("posted after Close") })
	b.Go(func(context.Context) { t.Error("started after Close") })
	if posted.Load() != before {
		t.Error("Post after Close reached the UI")
	}
	b.Close() // twice is fine
}

func TestRunDeliversOnlyWhileItsContextLives(t *testing.T) {
	loop := NewLoop()
	b := New(Options{Post: loop.Post})
	defer b.Close()

	var got string
	Run(b, nil, func(context.Context) (string, error) { return "page 1", nil }, func(s string, err error) { got = s })
	if !loop.RunUntil(time.Second, func() bool { return got == "page 1" }) {
		t.Fatalf("result not delivered: %q", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var stale bool
	Run(b, ctx, func(ctx context.Context) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}, func(string, error) { stale = true })
	<-started
	cancel() // the selection moved on
	var failed error
	Run(b, nil, func(context.Context) (int, error) { return 0, errors.New("boom") }, func(_ int, err error) { failed = err })
	loop.RunUntil(time.Second, func() bool { return failed != nil })
	loop.RunFor(50 * time.Millisecond)
	if stale {
		t.Error("a cancelled job's result reached the UI")
	}
	if failed == nil {
		t.Error("an error was not delivered")
	}
}

func TestWatchCoalescesToTheLatestValue(t *testing.T) {
	loop := NewLoop()
	b := New(Options{Post: loop.Post})
	defer b.Close()
	var emit func(int)
	ready := make(chan struct{})
	Watch(b, func(fn func(int)) func() { emit = fn; close(ready); return func() {} }, func(v int) {
		if v < 0 {
			t.Error("negative")
		}
	})
	<-ready
	var last atomic.Int32
	Watch(b, func(fn func(int)) func() {
		go func() {
			for i := 1; i <= 100; i++ {
				fn(i)
			}
		}()
		return func() {}
	}, func(v int) { last.Store(int32(v)) })
	emit(1)
	if !loop.RunUntil(2*time.Second, func() bool { return last.Load() == 100 }) {
		t.Fatalf("latest value %d, want 100", last.Load())
	}
}

// TestSaveOutlivesClose: a write started with Save (a draft kept or
// dropped) still has a live context after Close has cancelled everything
// else, so a window closed just after the clinician acted does not
// abandon the write; Close waits for it, and it is bounded by SaveTimeout.
func TestSaveOutlivesClose(t *testing.T) {
	b := New(Options{Post: func(fn func()) { fn() }})
	cancelled := make(chan struct{})
	b.Go(func(ctx context.Context) {
		<-ctx.Done()
		close(cancelled)
	})
	var saved atomic.Bool
	b.Save(func(ctx context.Context) {
		<-cancelled // Close has begun
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > SaveTimeout {
			t.Errorf("a save has no deadline within %v", SaveTimeout)
		}
		saved.Store(ctx.Err() == nil)
	})
	b.Close()
	if !saved.Load() {
		t.Fatal("a save started before Close saw its context cancelled by Close")
	}
	b.Save(func(context.Context) { t.Error("a save started after Close") })
}

// TestWritesKeepTheLastIssued: a draft kept and then dropped ends dropped
// even when the keep's goroutine runs last; writes for one key never run
// at the same time; another key's writes are not held back by skipping.
func TestWritesKeepTheLastIssued(t *testing.T) {
	b := New(Options{Post: func(fn func()) { fn() }})
	defer b.Close()
	w := NewWrites(b)
	var mu sync.Mutex
	stored := map[string]string{}
	set := func(key, v string) func(context.Context) {
		return func(context.Context) {
			mu.Lock()
			stored[key] = v
			mu.Unlock()
		}
	}
	// Hold the writer so the first three writes queue behind it.
	gate := make(chan struct{})
	w.Save("hold", func(context.Context) { <-gate })
	time.Sleep(10 * time.Millisecond)
	// Many referrals, so that the goroutines run in both orders.
	for i := range 50 {
		k := fmt.Sprint(1000 + i)
		w.Save(k, set(k, "draft: see in clinic"))
		w.Save(k, set(k, ""))
	}
	w.Save("2002", set("2002", "draft: X-ray first"))
	close(gate)
	b.Close()
	for i := range 50 {
		if k := fmt.Sprint(1000 + i); stored[k] != "" {
			t.Errorf("referral %s: the dropped draft came back: %q", k, stored[k])
		}
	}
	if stored["2002"] != "draft: X-ray first" {
		t.Errorf("another referral's draft was not kept: %q", stored["2002"])
	}
}

// TestAfterRunsOnceUnlessStopped: After runs its function once after the
// pause, not when stopped first, and not after Close.
func TestAfterRunsOnceUnlessStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{Post: func(fn func()) { fn() }})
		var ran, stopped, closed atomic.Int32
		b.After(2*time.Second, func() { ran.Add(1) })
		stop := b.After(2*time.Second, func() { stopped.Add(1) })
		time.Sleep(time.Second)
		stop()
		time.Sleep(2 * time.Second)
		b.After(time.Second, func() { closed.Add(1) })
		b.Close()
		time.Sleep(2 * time.Second)
		if ran.Load() != 1 || stopped.Load() != 0 || closed.Load() != 0 {
			t.Errorf("ran %d (want 1), stopped one ran %d, after Close ran %d (want 0)", ran.Load(), stopped.Load(), closed.Load())
		}
	})
}
