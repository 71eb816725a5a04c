package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// reopen closes the engine and store, lets damage do its work on the
// files, and opens them again as a new start of the app would.
func (env *testEnv) reopen(damage func(dir string)) {
	env.t.Helper()
	env.eng.Close()
	if err := env.st.Close(); err != nil {
		env.t.Fatal(err)
	}
	damage(store.UserDir(env.profile, clinician.SDSUserID))
	env.openStore()
	env.newEngine(nil)
}

// A pull that fails does not keep queued decisions from being sent: the
// one-shot sync sends them all the same and says why the pull failed.
func TestSyncOncePushesWhenThePullFails(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	refs := firstDecidable(t, env.sb, 2)
	entries := enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	if err := env.sb.SetFaults(erssandbox.Faults{ServerError: 1, Ops: []string{"A008"}}); err != nil {
		t.Fatal(err)
	}
	rep, err := env.eng.SyncOnce(ctx, nil)
	if err == nil || rep.PullError == nil {
		t.Fatalf("the pull was expected to fail: %v", err)
	}
	for _, en := range entries {
		got, err := env.st.Entry(ctx, en.ID)
		if err != nil || got.State != triage.OutboxSent {
			t.Errorf("decision %s is %s (%v), want sent although the pull failed", en.ID, got.State, err)
		}
	}
	if rep.Outbox[triage.OutboxSent] != len(entries) {
		t.Errorf("report counts %v", rep.Outbox)
	}
}

// A damaged referral record in the cache is downloaded again by the next
// sync, which succeeds: nothing stays stale and no sync fails for it.
func TestDamagedCacheRecordIsDownloadedAgainByTheNextSync(t *testing.T) {
	for _, bucket := range []string{"refs", "docs"} { // every bucket: TestRecordDamageInEveryCacheBucket, TestCLIRecordDamageInEveryCacheBucket
		t.Run(bucket, func(t *testing.T) {
			env := newTestEnv(t, envOptions{})
			ctx := context.Background()
			if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
				t.Fatalf("first sync: %v", err)
			}
			env.reopen(func(dir string) {
				testutil.FlipStoredValue(t, filepath.Join(dir, store.CacheFile), bucket, nil)
				if r := store.Diagnose(ctx, dir, store.DevKeyFileProvider{Path: env.keyfile}); r.Cache.State != store.FileRecordsDamaged {
					t.Fatalf("doctor before the sync: cache %s", r.Cache.State)
				}
			})
			if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
				t.Fatalf("sync after the damage: %v", err)
			}
			want := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
			infos, err := env.st.CachedReferrals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cached := map[string]store.CacheInfo{}
			for _, i := range infos {
				cached[i.UBRN] = i
			}
			for _, it := range want {
				i, ok := cached[triage.NormalizeUBRN(it.UBRN)]
				if !ok || !i.HasReferral || !i.HasCRI() {
					t.Errorf("referral %s not cached again after the sync: %+v", it.UBRN, i)
				}
			}
			if _, err := env.st.Worklist(ctx, triage.ListReferralsForReview); err != nil {
				t.Errorf("worklist after the sync: %v", err)
			}
			env.eng.Close()
			env.st.Close()
			if r := store.Diagnose(ctx, store.UserDir(env.profile, clinician.SDSUserID), store.DevKeyFileProvider{Path: env.keyfile}); r.Cache.State != store.FileOK {
				t.Errorf("doctor after the sync: cache %s: %s", r.Cache.State, r.Cache.Problem)
			}
		})
	}
}

// A decision left sending by a stopped process, and not applied, is sent
// again: that is its second attempt, and the outbox says so.
func TestResumedSendCountsAsAnotherAttempt(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ref := decidable(t, env.sb)[0]
	en, err := env.st.Enqueue(ctx, decisionFor(t, ref, env.sb.ReferenceData(), 0))
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt began, and the process was killed before the
	// request reached e-RS.
	if _, err := env.st.BeginSend(ctx, en.ID); err != nil {
		t.Fatal(err)
	}
	env.reopen(func(string) {})
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := env.st.Entry(ctx, en.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != triage.OutboxSent || got.Attempts != 2 {
		t.Errorf("decision %s after %d attempts, want sent after 2", got.State, got.Attempts)
	}
}

// With the audit log's head damaged nothing can be audited, so nothing is
// sent: the decisions stay queued, and the sync says the outbox is held.
func TestHeldOutboxSendsNothing(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	refs := firstDecidable(t, env.sb, 2)
	entries := enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	env.reopen(func(dir string) {
		testutil.FlipStoredValue(t, filepath.Join(dir, store.OutboxFile), "meta", []byte("audithead"))
	})
	env.sb.ResetStats()
	rep, err := env.eng.SyncOnce(ctx, nil)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !rep.Damage.Held || rep.Damage.Summary() == "" {
		t.Errorf("report damage %+v", rep.Damage)
	}
	for _, w := range env.sb.Stats().Writes {
		if decisionOps[w.Op] {
			t.Errorf("a held outbox sent %s", w.Op)
		}
	}
	for _, en := range entries {
		got, err := env.st.Entry(ctx, en.ID)
		if err != nil || got.State != triage.OutboxQueued || got.Attempts != 0 {
			t.Errorf("decision %s: %s after %d attempts (%v), want still queued", en.ID, got.State, got.Attempts, err)
		}
	}
	if _, err := env.st.Enqueue(ctx, decisionFor(t, decidable(t, env.sb)[2], env.sb.ReferenceData(), 2)); !errors.Is(err, store.ErrOutboxDamaged) {
		t.Errorf("a held outbox saved a decision: %v", err)
	}
}
