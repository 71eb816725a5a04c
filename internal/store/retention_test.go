package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

const day = 24 * time.Hour

func TestRetentionRules(t *testing.T) {
	env, s, ctx, rng := openSeeded(t, 50)
	sent, queued, listed, stale, discarded := makeFixture(rng, 0), makeFixture(rng, 1), makeFixture(rng, 2), makeFixture(rng, 3), makeFixture(rng, 4)
	for _, f := range []fixture{sent, queued, listed, stale, discarded} {
		fillReferral(t, s, f)
	}
	e, _ := s.Enqueue(ctx, acceptFor(sent))
	_, _ = s.BeginSend(ctx, e.ID)
	_, err := s.MarkSent(ctx, e.ID, SentResult{NewVersion: sent.Version + 1})
	mustNoErr(t, err, "sent")
	_, err = s.Enqueue(ctx, rejectFor(queued))
	mustNoErr(t, err, "queued")
	d, _ := s.Enqueue(ctx, acceptFor(discarded))
	_, err = s.Cancel(ctx, d.ID, clinician)
	mustNoErr(t, err, "cancel")

	cached := func(f fixture) bool {
		_, err := s.Referral(ctx, f.UBRN)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("referral: %v", err)
		}
		return err == nil
	}
	run := func() PurgeReport {
		t.Helper()
		r, err := s.RunRetention(ctx)
		mustNoErr(t, err, "retention")
		return r
	}

	// Day 6: nothing is due.
	env.clock.Advance(6 * day)
	if r := run(); r.Referrals != 0 || r.Decisions != 0 || r.Compacted {
		t.Errorf("day 6: %+v", r)
	}
	// Day 7: the sent referral and the old outbox entries go; the cancelled
	// referral's data stays (its decision was never sent).
	env.clock.Advance(1*day + time.Minute)
	mustNoErr(t, s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: env.clock.Now(),
		Items: []triage.WorklistItem{worklistItem(listed)}}), "worklist")
	if r := run(); r.Referrals != 1 || r.Decisions != 2 || !r.Compacted {
		t.Errorf("day 7: %+v", r)
	}
	if cached(sent) || !cached(queued) || !cached(listed) || !cached(stale) || !cached(discarded) {
		t.Errorf("day 7: sent=%v queued=%v listed=%v stale=%v discarded=%v", cached(sent), cached(queued), cached(listed), cached(stale), cached(discarded))
	}
	if _, err := s.Entry(ctx, e.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("old sent entry kept: %v", err)
	}
	// Day 15: not synced for 14 days; the listed one was seen on day 7.
	env.clock.Advance(8 * day)
	if r := run(); r.Referrals != 2 {
		t.Errorf("day 15: %+v", r)
	}
	if !cached(queued) || !cached(listed) || cached(stale) || cached(discarded) {
		t.Error("day 15: wrong referrals purged")
	}
	// Day 40: the snapshot is stale too; only the unsent decision's data remains.
	env.clock.Advance(25 * day)
	if r := run(); r.Referrals != 1 || r.Worklists != 1 {
		t.Errorf("day 40: %+v", r)
	}
	if !cached(queued) || cached(listed) {
		t.Error("day 40: unsent referral purged or listed kept")
	}
	if n, _ := s.UnsentCount(ctx); n != 1 {
		t.Errorf("unsent = %d", n)
	}

	// Every purge is in the audit log, with its reason, and the chain holds.
	recs, _ := s.AuditRecords(ctx, 1, 0)
	reasons := map[string]string{}
	for _, r := range recs {
		if r.Event == EventPurge {
			reasons[r.UBRN] = r.Note
		}
	}
	want := map[string]string{sent.UBRN: PurgeAfterSent, stale.UBRN: PurgeWithoutSync, discarded.UBRN: PurgeWithoutSync, listed.UBRN: PurgeWithoutSync}
	for u, w := range want {
		if reasons[u] != w {
			t.Errorf("purge reason for %s = %q, want %q", u[:3], reasons[u], w)
		}
	}
	if len(reasons) != len(want) {
		t.Errorf("%d purge records", len(reasons))
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestPurgeReferralRefusesUnsentAndShredsKey(t *testing.T) {
	_, s, ctx, rng := openSeeded(t, 51)
	a, b := makeFixture(rng, 0), makeFixture(rng, 1)
	fillReferral(t, s, a)
	fillReferral(t, s, b)
	_, _ = s.Enqueue(ctx, acceptFor(a))
	if err := s.PurgeReferral(ctx, a.UBRN); !errors.Is(err, ErrUnsentDecisions) {
		t.Errorf("purge with unsent decision: %v", err)
	}
	var changes []Change
	s.opts.OnChange = func(c Change) { changes = append(changes, c) }
	mustNoErr(t, s.PurgeReferral(ctx, b.UBRN), "purge")
	if len(changes) != 1 || changes[0].Kind != ChangePurge || changes[0].UBRN != b.UBRN {
		t.Errorf("changes %+v", changes)
	}
	// The data key is gone, so the record is unreadable even before
	// compaction; nothing at all is left under its key.
	err := s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		k := refKey(s.keys.index, b.UBRN)
		for _, name := range []string{bRefs, bReferrals} {
			if tx.Bucket([]byte(name)).Get(k) != nil {
				t.Errorf("%s still holds the purged referral", name)
			}
		}
		c := tx.Bucket([]byte(bDocs)).Cursor()
		if dk, _ := c.Seek(k); dk != nil && string(dk[:len(k)]) == string(k) {
			t.Error("documents left behind")
		}
		return nil
	})
	mustNoErr(t, err, "inspect")
	if _, err := s.Referral(ctx, a.UBRN); err != nil {
		t.Errorf("other referral affected: %v", err)
	}
}

func TestMaybeCompactAfterDeletes(t *testing.T) {
	env, s, ctx, rng := openSeeded(t, 52)
	fs := fillReferrals(t, s, rng, 12)
	if did, err := s.MaybeCompact(ctx); err != nil || did {
		t.Errorf("compacted a full file: %v %v", did, err)
	}
	for _, f := range fs[:10] {
		mustNoErr(t, s.DeleteDocument(ctx, f.UBRN, "cri"), "delete")
	}
	before, _ := os.Stat(filepath.Join(env.dir(), CacheFile))
	did, err := s.MaybeCompact(ctx)
	mustNoErr(t, err, "maybe compact")
	after, _ := os.Stat(filepath.Join(env.dir(), CacheFile))
	if !did || after.Size() >= before.Size() {
		t.Errorf("compacted=%v, %d -> %d bytes", did, before.Size(), after.Size())
	}
	// Still usable after compaction.
	_, data, err := s.Document(ctx, fs[11].UBRN, "cri")
	if err != nil || len(data) != len(fs[11].CRI) {
		t.Errorf("document after compaction: %v", err)
	}
	_, err = s.Enqueue(ctx, acceptFor(fs[0]))
	mustNoErr(t, err, "enqueue after compaction")
}

func TestOldSetAsideCachesRemoved(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	s.Close()
	mustNoErr(t, os.WriteFile(filepath.Join(env.dir(), CacheFile), []byte("garbage garbage garbage"), 0o600), "corrupt")
	s = env.open(t)
	aside := s.Report().CacheSetAside
	if _, err := os.Stat(aside); err != nil {
		t.Fatalf("set-aside file: %v", err)
	}
	env.clock.Advance(13 * day)
	r, _ := s.RunRetention(context.Background())
	if r.SetAsideFiles != 0 {
		t.Error("removed too early")
	}
	env.clock.Advance(2 * day)
	r, _ = s.RunRetention(context.Background())
	if r.SetAsideFiles != 1 {
		t.Errorf("report %+v", r)
	}
	if _, err := os.Stat(aside); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("set-aside file still there: %v", err)
	}
}
