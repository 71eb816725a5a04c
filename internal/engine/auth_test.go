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
	refs := decidable(t, env.sb)
	if len(refs) < 40 {
		t.Fatalf("only %d decidable referrals", len(refs))
	}
	refs = refs[:40]
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
	eventually(t, 20*time.Second, "some decisions to be sent", func() bool { return applied() >= 5 })
	// The session ends (revoked at the platform): every call now gets 401.
	tokens.set("revoked-token")
	eventually(t, 10*time.Second, "the engine to ask for sign-in", func() bool {
		return env.eng.Status().State == StateSignInNeeded
	})
	paused := applied()
	if paused >= len(refs) {
		t.Fatalf("all decisions were sent before the 401; the test proves nothing")
	}
	writes := len(env.sb.Stats().Writes)
	time.Sleep(500 * time.Millisecond)
	if n := len(env.sb.Stats().Writes); n != writes {
		t.Errorf("%d writes sent while sign-in was needed", n-writes)
	}
	counts, err := env.eng.OutboxCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts[triage.OutboxQueued]+counts[triage.OutboxSending] != len(refs)-paused || counts[triage.OutboxSent] != paused ||
		counts[triage.OutboxFailed]+counts[triage.OutboxConflict] != 0 {
		t.Errorf("outbox while paused %v, want %d sent and %d still queued", counts, paused, len(refs)-paused)
	}
	sawSignIn := false
	for len(events) > 0 {
		if s, ok := (<-events).(SyncStateChanged); ok && s.Status.State == StateSignInNeeded {
			sawSignIn = true
		}
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
	waitSettled(t, env.st, 30*time.Second)
	if c := checkOutcomes(t, env.st, env.sb); c[triage.OutboxSent] != len(refs) {
		t.Errorf("outbox after sign-in %v, want all %d sent", c, len(refs))
	}
	if st := env.eng.Status(); st.State != StateOnline {
		t.Errorf("state after sign-in %s, want online", st.State)
	}
}
