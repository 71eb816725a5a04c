//go:build !windows

// The kill test needs Unix SIGKILL semantics.

package engine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const (
	childEnv   = "TRIAGEDESK_ENGINE_CHILD"
	childBase  = "TRIAGEDESK_ENGINE_CHILD_BASE"
	childDir   = "TRIAGEDESK_ENGINE_CHILD_PROFILE"
	childKey   = "TRIAGEDESK_ENGINE_CHILD_KEY"
	childLimit = 2 * time.Minute
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(engineChild())
	}
	os.Exit(m.Run())
}

// engineChild is the process the kill test kills: it opens the store, runs
// the engine until no decision is queued or sending, and exits 0.
func engineChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), childLimit)
	defer cancel()
	st, err := store.Open(ctx, store.Options{ProfileDir: os.Getenv(childDir), UserID: clinician.SDSUserID,
		Keys: store.DevKeyFileProvider{Path: os.Getenv(childKey), Warn: io.Discard}, Logger: discardLogger(), LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open store:", err)
		return 2
	}
	defer st.Close()
	client, err := ers.New(ers.Config{BaseURL: os.Getenv(childBase), RateLimit: rate.Inf, RetryBaseDelay: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: client:", err)
		return 2
	}
	e, err := New(Config{Store: st, Client: client, Session: NewStaticSession(clinician), Logger: discardLogger(),
		NoPrefetch: true, PrefetchWorkers: 1, PushWorkers: 4, RetryBase: 10 * time.Millisecond, RetryCap: 200 * time.Millisecond,
		ProbeMin: 10 * time.Millisecond, ProbeMax: 100 * time.Millisecond, PushCheckInterval: 50 * time.Millisecond,
		RetentionInterval: -1, WriteTimeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: engine:", err)
		return 2
	}
	// The outbox is looked at again whenever the engine says something
	// changed (a quarter of a second at the most between looks, should an event be
	// missed).
	events, unsubscribe := e.Subscribe(256)
	defer unsubscribe()
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	for ctx.Err() == nil {
		es, err := st.Entries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending}})
		if err == nil && len(es) == 0 {
			break
		}
		select {
		case <-events:
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	e.Close()
	<-done
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "child: gave up")
		return 3
	}
	return 0
}

// TestKilledMidPushNeverLosesOrDuplicates kills the engine's process with
// SIGKILL while it is sending, at least 20 times, restarting it each time;
// from the sandbox's log of writes every decision ends applied exactly once
// and sent, or never applied and a conflict or failure; none is lost.
func TestKilledMidPushNeverLosesOrDuplicates(t *testing.T) {
	const kills = 22
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 300, Seed: 31,
		Faults: erssandbox.Faults{Latency: 15 * time.Millisecond, DropAfterApply: 0.15, Ops: []string{"A013", "A014", "A022", "A028"}}},
		noEngine: true})
	refs := firstDecidable(t, env.sb, 100)
	enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	env.st.Close()
	env.sb.ResetStats()

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", childBase+"="+env.sb.BaseURL(), childDir+"="+env.profile,
			childKey+"="+env.keyfile)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		return cmd
	}
	writes := func() int { return len(env.sb.Stats().Writes) }
	rng := rand.New(rand.NewPCG(5, 6))
	killed := 0
	for killed < kills {
		before := writes()
		cmd := child()
		deadline := time.Now().Add(20 * time.Second)
		for writes() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(25)) * time.Millisecond)
		exited := cmd.ProcessState != nil
		if err := cmd.Process.Kill(); err != nil && !exited {
			t.Logf("kill: %v", err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok && !ee.Exited() {
			killed++
			continue
		}
		if err == nil {
			break // it finished everything before it could be killed
		}
		t.Fatalf("child failed: %v", err)
	}
	if killed < 20 {
		t.Fatalf("killed the engine only %d times mid-push", killed)
	}
	cmd := child()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v", err)
	}

	env.openStore()
	counts := checkOutcomes(t, env.st, env.sb)
	if counts[triage.OutboxSent] != len(refs) {
		t.Errorf("outbox %v, want all %d sent (nothing else changed them)", counts, len(refs))
	}
	stats := env.sb.Stats()
	t.Logf("killed %d times; outbox %v; faults %v; requests %v", killed, counts, stats.Faults, stats.Requests)
}
