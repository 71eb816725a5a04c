package engine

import (
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A 401 in the middle of the queue pauses all of it, drops nothing, and the
// queue resumes after a new sign-in.
func TestUnauthorizedMidQueuePausesAndResumesAfterSignIn(t *testing.T) {
	tokens := &swapTokens{}
	env := newTestEnv(t, envOptions{
		sandbox: erssandbox.Config{Referrals: 120, Seed: 8, Auth: true, Faults: erssandbox.Faults{Latency: 5 * time.Millisecond, Ops: []string{"A013", "A014", "A022", "A028"}}},
		tokens:  tokens,
		engine:  func(c *Config) { c.NoPrefetch = true; c.PushWorkers = 1 },
	})
	good, err := env.sb.Token(erssandbox.UserClinician)
	if err != nil {
		t.Fatal(err)
	}
	tokens.set(good)
	refs := firstDecidable(t, env.sb, 40)
	enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	env.sb.ResetStats()
	events, cancel := env.eng.Subscribe(8192)
	defer cancel()
	env.run()

	applied := func() int {
		n := 0
		for _, w := range env.sb.Stats().Writes {
			if w.Applied {
				n++
			}
		}
		return n
	}
	// The session ends (revoked at the platform) once five decisions are in
	// e-RS: the token source itself turns, so the next call after the fifth
	// write, whatever the machine's load, carries a revoked token and gets
	// 401. No sleeping and hoping the test goroutine looks in time.
	const paused = 5
	tokens.revokeWhen(func() bool { return applied() >= paused })
	eventually(t, 30*time.Second, "the engine to ask for sign-in", func() bool {
		return env.eng.Status().State == StateSignInNeeded
	})
	if got := applied(); got != paused {
		t.Fatalf("%d decisions applied before the 401, want exactly %d", got, paused)
	}
	// Nothing is sent while sign-in is needed: the dispatcher reports the
	// queue as waiting (an event, not a pause of some length).
	sawSignIn := false
	eventually(t, 10*time.Second, "the queue to wait for sign-in", func() bool {
		for len(events) > 0 {
			switch ev := (<-events).(type) {
			case SyncStateChanged:
				sawSignIn = sawSignIn || ev.Status.State == StateSignInNeeded
			case OutboxWaiting:
				if ev.Count == len(refs)-paused {
					return true
				}
			}
		}
		return false
	})
	if n := applied(); n != paused {
		t.Errorf("%d writes sent while sign-in was needed", n-paused)
	}
	counts, err := env.eng.OutboxCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts[triage.OutboxQueued]+counts[triage.OutboxSending] != len(refs)-paused || counts[triage.OutboxSent] != paused ||
		counts[triage.OutboxFailed]+counts[triage.OutboxConflict] != 0 {
		t.Errorf("outbox while paused %v, want %d sent and %d still queued", counts, paused, len(refs)-paused)
	}
	if !sawSignIn {
		t.Error("no sign-in-needed event")
	}

	// A new sign-in: the queue resumes.
	fresh, err := env.sb.Token(erssandbox.UserClinician)
	if err != nil {
		t.Fatal(err)
	}
	tokens.set(fresh)
	env.eng.SessionChanged()
	waitSettled(t, env.st, 3*time.Minute)
	if c := checkOutcomes(t, env.st, env.sb); c[triage.OutboxSent] != len(refs) {
		t.Errorf("outbox after sign-in %v, want all %d sent", c, len(refs))
	}
	if st := env.eng.Status(); st.State != StateOnline {
		t.Errorf("state after sign-in %s, want online", st.State)
	}
}
