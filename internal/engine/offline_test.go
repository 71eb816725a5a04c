package engine

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Network failures move the engine offline; it probes with backoff, the
// cache stays readable and decisions keep queueing; when e-RS answers again
// it pulls and sends. Close joins every service.
func TestOfflineProbesThenReconnectPullsAndSends(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 20, Seed: 12},
		client: ers.Config{MaxRetries: -1}, // one request per probe
		engine: func(c *Config) { c.ProbeMin, c.ProbeMax = 50*time.Millisecond, 400*time.Millisecond }})
	ctx := context.Background()
	events, cancel := env.eng.Subscribe(8192)
	defer cancel()
	env.run()
	eventually(t, 10*time.Second, "the first pull", func() bool { return !env.eng.Status().LastSuccess.IsZero() })

	if err := env.sb.SetFaults(erssandbox.Faults{Reset: 1}); err != nil {
		t.Fatal(err)
	}
	env.eng.SyncNow()
	eventually(t, 10*time.Second, "the engine to go offline", func() bool { return env.eng.Status().State == StateOffline })
	refs := firstDecidable(t, env.sb, 2)
	enq := enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	env.sb.ResetStats()
	// How often it probes is TestOfflineProbeBacksOff's, on a synctest
	// clock; here it is enough that it keeps probing.
	eventually(t, 10*time.Second, "the engine to probe while offline", func() bool { return env.sb.Stats().Requests["A008"] >= 2 })
	if _, err := env.st.Worklist(ctx, triage.ListReferralsForReview); err != nil {
		t.Errorf("cached worklist unreadable offline: %v", err)
	}
	if c, _ := env.eng.OutboxCounts(ctx); c[triage.OutboxQueued] != 2 {
		t.Errorf("offline outbox %v, want 2 queued", c)
	}

	if err := env.sb.SetFaults(erssandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, env.st, 10*time.Second)
	checkOutcomes(t, env.st, env.sb)
	for _, en := range enq {
		if got, _ := env.st.Entry(ctx, en.ID); got.State != triage.OutboxSent {
			t.Errorf("after reconnecting the decision is %s", got.State)
		}
	}
	var states []SyncState
	pulls := 0
	for len(events) > 0 {
		switch ev := (<-events).(type) {
		case SyncStateChanged:
			states = append(states, ev.Status.State)
		case WorklistUpdated:
			pulls++
		}
	}
	if len(states) < 2 || states[len(states)-2] != StateOffline || states[len(states)-1] != StateOnline || pulls < 2 {
		t.Errorf("states %v, %d pulls; want offline then online and a pull on reconnecting", states, pulls)
	}

	env.eng.Close()
	select {
	case <-env.runDone:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

// A PENDING attachment is asked for again once PendingRecheck has passed,
// without waiting for the next pull.
func TestPendingAttachmentIsRepolled(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 30, Seed: 13},
		engine: func(c *Config) { c.PendingRecheck = 300 * time.Millisecond; c.PullInterval = time.Hour }})
	ctx := context.Background()
	var owner string
	var doc triage.Document
	for _, it := range env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		r, _ := env.sb.Referral(it.UBRN)
		for _, d := range r.Documents {
			if d.Availability == triage.AvailabilityPending && owner == "" {
				owner, doc = it.UBRN, d
			}
		}
	}
	if owner == "" {
		t.Fatal("no PENDING attachment in the data")
	}
	env.run()
	eventually(t, 10*time.Second, "the pending attachment to be recorded", func() bool {
		m, _, err := env.st.Document(ctx, owner, doc.ID)
		return err == nil && m.Availability == triage.AvailabilityPending
	})
	if _, err := env.sb.MakeAvailable(doc.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the attachment to be downloaded", func() bool {
		m, data, err := env.st.Document(ctx, owner, doc.ID)
		return err == nil && m.Availability == triage.AvailabilityAvailable && len(data) > 0
	})
	if n := env.sb.Stats().Requests["A008"]; n != 1 {
		t.Errorf("%d pulls; the attachment should come from the re-poller, not a pull", n)
	}
}

// A subscriber that never reads does not hold the engine up; it is told
// how many events it missed.
func TestSlowSubscriberNeverBlocksTheEngine(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 30, Seed: 14}})
	stuck, cancel := env.eng.Subscribe(1)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := env.eng.SyncOnce(context.Background(), nil); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sync blocked on a subscriber that does not read")
	}
	<-stuck // the one buffered event
	env.eng.emit(ReferralUpdated{UBRN: "x"})
	if lag, ok := (<-stuck).(Lagged); !ok || lag.Dropped == 0 {
		t.Errorf("first event after room was made: %#v, want Lagged with the count dropped", lag)
	}
}

// unreachable is a transport that never reaches e-RS, counting the
// worklist requests (A008), other reads and writes it is asked to send.
type unreachable struct{ worklist, reads, writes atomic.Int64 }

func (u *unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case strings.HasSuffix(r.URL.Path, "ReferralRequest/$ers.fetchworklist"):
		u.worklist.Add(1)
	case r.Method == http.MethodGet:
		u.reads.Add(1)
	default:
		u.writes.Add(1)
	}
	return nil, errors.New("connect: connection refused")
}

// bubbleEngine is an engine, with its store, that reaches e-RS at baseURL
// through tr, for tests inside a synctest bubble: the engine's timers run
// on the bubble's clock. Run it with runBubbleEngine.
func bubbleEngine(t *testing.T, baseURL string, tr http.RoundTripper) (*Engine, *store.Store) {
	t.Helper()
	client, err := ers.New(ers.Config{BaseURL: baseURL, HTTPClient: &http.Client{Transport: tr},
		MaxRetries: -1, RateLimit: rate.Inf, AllowHighRate: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Options{ProfileDir: dir, UserID: clinician.SDSUserID,
		Keys: store.DevKeyFileProvider{Path: filepath.Join(dir, "dev.key"), Warn: io.Discard}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := New(Config{Store: st, Client: client, Session: NewStaticSession(clinician), Logger: discardLogger(),
		ProbeMin: 50 * time.Millisecond, ProbeMax: 400 * time.Millisecond, PullInterval: time.Hour,
		RetryBase: 20 * time.Millisecond, RetryCap: 500 * time.Millisecond, PushCheckInterval: 200 * time.Millisecond,
		RetentionInterval: -1, NoPrefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	return eng, st
}

// unreachableEngine is a bubbleEngine whose e-RS never answers.
func unreachableEngine(t *testing.T) (*Engine, *store.Store, *unreachable) {
	tr := &unreachable{}
	eng, st := bubbleEngine(t, "https://ers.invalid/FHIR", tr)
	return eng, st, tr
}

// runBubbleEngine runs eng until the returned stop is called.
func runBubbleEngine(t *testing.T, eng *Engine) (stop func()) {
	done := make(chan error, 1)
	go func() { done <- eng.Run(context.Background()) }()
	return func() {
		eng.Close()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

// TestOfflineProbeBacksOff runs the engine in a synctest bubble against an
// e-RS that never answers: it goes offline at the first pull and probes
// with a backoff that doubles from ProbeMin to ProbeMax, on the bubble's
// clock, so no test waits in real time.
func TestOfflineProbeBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, _, tr := unreachableEngine(t)
		stop := runBubbleEngine(t, eng)
		defer stop()
		synctest.Wait()
		if st := eng.Status().State; st != StateOffline || tr.worklist.Load() != 1 {
			t.Fatalf("state %s after %d pulls e-RS did not answer, want offline after 1", st, tr.worklist.Load())
		}
		for _, tc := range []struct {
			wait     time.Duration
			min, max int64
		}{
			// Waits of 25-50, 50-100, 100-200, then 200-400 ms.
			{time.Second, 3, 6},
			// At ProbeMax the waits are 200-400 ms.
			{10 * time.Second, 25, 50},
		} {
			before := tr.worklist.Load()
			time.Sleep(tc.wait)
			synctest.Wait()
			if probes := tr.worklist.Load() - before; probes < tc.min || probes > tc.max {
				t.Errorf("%d probes in %v, want %d to %d", probes, tc.wait, tc.min, tc.max)
			}
			if st := eng.Status().State; st != StateOffline {
				t.Errorf("state %s while e-RS does not answer, want offline", st)
			}
		}
	})
}

// TestQueuedDecisionWaitsOutAnOutage: while e-RS does not answer, a queued
// decision is never sent or counted as an attempt, however long the outage
// (ten minutes on the bubble's clock): it stays queued, neither lost nor
// failed, for when e-RS answers again.
func TestQueuedDecisionWaitsOutAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, st, tr := unreachableEngine(t)
		ctx := context.Background()
		en, err := st.Enqueue(ctx, triage.Decision{UBRN: "100000000001", Kind: triage.DecisionAccept, BaseVersion: 1,
			By: clinician, DecidedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		stop := runBubbleEngine(t, eng)
		defer stop()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got, err := st.Entry(ctx, en.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != triage.OutboxQueued || got.Attempts != 0 || tr.writes.Load() != 0 {
			t.Errorf("after ten minutes offline the decision is %s after %d attempts, %d writes; want queued, none", got.State, got.Attempts, tr.writes.Load())
		}
		if n := tr.worklist.Load(); n < 100 {
			t.Errorf("%d probes in ten minutes offline; the engine stopped trying to reach e-RS", n)
		}
	})
}

// TestRetriedDecisionBacksOffThenSends: e-RS answers every decision with
// 503 for a minute; the decision is re-read after each answer (a 503 may
// have been applied), stays queued with its attempts counted and is never
// applied; once e-RS takes it, it is sent exactly once. The sandbox runs
// outside the bubble; the engine's clock is the bubble's, so the backoff
// costs no real time. Connections are not kept alive: an idle connection
// would keep the bubble from ever being idle.
func TestRetriedDecisionBacksOffThenSends(t *testing.T) {
	sb, err := erssandbox.Start(context.Background(), erssandbox.Config{Referrals: 20, Seed: 21, PendingDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ref := decidable(t, sb)[0]
	if err := sb.SetFaults(erssandbox.Faults{Unavailable: 1, Ops: []string{"A013", "A014", "A022", "A028"}}); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		eng, st := bubbleEngine(t, sb.BaseURL(), &http.Transport{DisableKeepAlives: true})
		ctx := context.Background()
		en := enqueueAll(t, st, []triage.Referral{ref}, sb.ReferenceData())[ref.UBRN]
		stop := runBubbleEngine(t, eng)
		defer stop()
		time.Sleep(time.Minute)
		synctest.Wait()
		got, err := st.Entry(ctx, en.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != triage.OutboxQueued || got.Attempts < 5 || got.LastError == nil || got.LastError.HTTPStatus != 503 {
			t.Fatalf("after a minute of 503s: %s, %d attempts, last error %+v; want queued, retried with backoff", got.State, got.Attempts, got.LastError)
		}
		for _, w := range sb.Stats().Writes {
			if w.Applied && decisionOps[w.Op] {
				t.Fatalf("a decision was applied while every answer was 503: %+v", w)
			}
		}
		if err := sb.SetFaults(erssandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got, _ := st.Entry(ctx, en.ID); got.State != triage.OutboxSent {
			t.Errorf("after e-RS recovered the decision is %s, want sent", got.State)
		}
		applied := 0
		for _, w := range sb.Stats().Writes {
			if w.Applied && decisionOps[w.Op] {
				applied++
			}
		}
		if applied != 1 {
			t.Errorf("decision applied %d times, want once", applied)
		}
	})
}
