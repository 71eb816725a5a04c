package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
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
	refs := decidable(t, env.sb)[:2]
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
