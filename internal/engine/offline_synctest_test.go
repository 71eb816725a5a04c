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

// bubbleEngine is an engine, with its store, whose e-RS never answers,
// for tests inside a synctest bubble: the engine's timers run on the
// bubble's clock. Run it with go eng.Run; Close it before the bubble ends.
func bubbleEngine(t *testing.T) (*Engine, *store.Store, *unreachable) {
	t.Helper()
	tr := &unreachable{}
	client, err := ers.New(ers.Config{BaseURL: "https://ers.invalid/FHIR", HTTPClient: &http.Client{Transport: tr},
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
		eng, _, tr := bubbleEngine(t)
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
		eng, st, tr := bubbleEngine(t)
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
		client, err := ers.New(ers.Config{BaseURL: sb.BaseURL(), HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
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
		defer st.Close()
		eng, err := New(Config{Store: st, Client: client, Session: NewStaticSession(clinician), Logger: discardLogger(),
			RetryBase: 20 * time.Millisecond, RetryCap: 500 * time.Millisecond, PushCheckInterval: 200 * time.Millisecond,
			PullInterval: time.Hour, RetentionInterval: -1, NoPrefetch: true})
		if err != nil {
			t.Fatal(err)
		}
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
