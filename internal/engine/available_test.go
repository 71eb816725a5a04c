package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// withoutCRI counts the worklist's referrals whose details or CRI are not
// cached.
func withoutCRI(t *testing.T, env *testEnv) int {
	t.Helper()
	return missing(t, env, func(i store.CacheInfo) bool { return i.HasReferral && i.HasCRI() })
}

// withoutDetails counts the worklist's referrals whose details are not cached.
func withoutDetails(t *testing.T, env *testEnv) int {
	t.Helper()
	return missing(t, env, func(i store.CacheInfo) bool { return i.HasReferral })
}

// missing counts the worklist's referrals whose cache info is not has.
func missing(t *testing.T, env *testEnv, has func(store.CacheInfo) bool) int {
	t.Helper()
	ctx := context.Background()
	snap, err := env.st.Worklist(ctx, triage.ListReferralsForReview)
	if err != nil {
		t.Fatalf("worklist: %v", err)
	}
	infos, err := env.st.CachedReferrals(ctx)
	if err != nil {
		t.Fatalf("cached referrals: %v", err)
	}
	ok := map[string]bool{}
	for _, i := range infos {
		ok[i.UBRN] = has(i)
	}
	n := 0
	for _, it := range snap.Items {
		if !ok[triage.NormalizeUBRN(it.UBRN)] {
			n++
		}
	}
	return n
}

// TestMakeAvailableOfflineFetchesEverythingWithPrefetchOff: with prefetch
// off only the worklist is pulled; "Make all available offline" then
// downloads every referral's details and CRI, reporting progress to the
// end, and a second request finds nothing left to do.
func TestMakeAvailableOfflineFetchesEverythingWithPrefetchOff(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 25, Seed: 31},
		engine: func(c *Config) { c.NoPrefetch = true }})
	ctx := context.Background()
	if _, err := env.eng.MakeAvailableOffline(ctx); !errors.Is(err, store.ErrNotFound) || triage.ErrorMessage(err) == "" {
		t.Fatalf("before any sync: %v, want a plain ENOTFOUND", err)
	}
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	missing := withoutCRI(t, env)
	if missing == 0 {
		t.Fatal("with prefetch off every CRI was downloaded anyway")
	}
	events, unsubscribe := env.eng.Subscribe(4096)
	defer unsubscribe()
	env.run()
	queued, err := env.eng.MakeAvailableOffline(ctx)
	if err != nil || queued < missing {
		t.Fatalf("queued %d downloads (err %v), want at least %d", queued, err, missing)
	}
	var last PrefetchProgress
	deadline := time.After(20 * time.Second)
	for last.Total == 0 || last.Done < last.Total {
		select {
		case ev := <-events:
			if p, ok := ev.(PrefetchProgress); ok {
				if p.Total < last.Total && p.Done != 0 {
					t.Errorf("progress went from %+v to %+v", last, p)
				}
				last = p
			}
		case <-deadline:
			t.Fatalf("progress stopped at %+v", last)
		}
	}
	eventually(t, 10*time.Second, "every CRI cached", func() bool { return withoutCRI(t, env) == 0 })
	if again, err := env.eng.MakeAvailableOffline(ctx); err != nil || again != 0 {
		t.Errorf("second request queued %d (err %v), want 0", again, err)
	}
}

// TestSetPrefetchOnDownloadsWhatWasSkipped: turning prefetch on while the
// engine runs fetches the documents skipped while it was off.
func TestSetPrefetchOnDownloadsWhatWasSkipped(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 15, Seed: 32},
		engine: func(c *Config) { c.NoPrefetch = true; c.PullInterval = time.Hour }})
	env.run()
	eventually(t, 10*time.Second, "first pull", func() bool { return !env.eng.Status().AsOf.IsZero() })
	eventually(t, 10*time.Second, "referral details", func() bool {
		_, err := env.st.Worklist(context.Background(), triage.ListReferralsForReview)
		return err == nil
	})
	// Every referral's details are stored (the engine has done all it does
	// with prefetch off), and still no CRI is.
	eventually(t, 10*time.Second, "every referral's details", func() bool { return withoutDetails(t, env) == 0 })
	if withoutCRI(t, env) == 0 {
		t.Fatal("CRIs downloaded with prefetch off")
	}
	env.eng.SetPrefetch(true)
	eventually(t, 20*time.Second, "every CRI after prefetch was turned on", func() bool { return withoutCRI(t, env) == 0 })
}

// TestSetPullIntervalTakesEffectWhileRunning: a shorter sync interval set
// while running is used from then on. The test waits for pulls (events),
// not for a time: with the hourly interval no second pull could come
// within the minute it allows, however loaded the machine.
func TestSetPullIntervalTakesEffectWhileRunning(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 5, Seed: 33},
		engine: func(c *Config) { c.PullInterval = time.Hour; c.NoPrefetch = true }})
	events, unsubscribe := env.eng.Subscribe(4096)
	defer unsubscribe()
	env.run()
	// waitPulls waits for n pulls and fails after limit.
	waitPulls := func(n int, limit time.Duration) {
		t.Helper()
		deadline := time.After(limit)
		for n > 0 {
			select {
			case ev := <-events:
				if _, ok := ev.(WorklistUpdated); ok {
					n--
				}
			case <-deadline:
				t.Fatalf("%d pulls still to come after %v", n, limit)
			}
		}
	}
	waitPulls(1, time.Minute) // the first pull, at start
	env.eng.SetPullInterval(100 * time.Millisecond)
	waitPulls(4, time.Minute)
}
