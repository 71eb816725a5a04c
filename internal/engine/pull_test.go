package engine

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// expectedFetches is what a full sync of the worklist must download: each
// referral's details once, the CRI of every UBRN it or a related referral
// names once, and every AVAILABLE attachment once.
type expectedFetches struct {
	referrals   map[string]bool
	cris        map[string]bool
	attachments int
	pending     int
	blocked     int
}

func expectFor(t *testing.T, sb *erssandbox.Sandbox) expectedFetches {
	t.Helper()
	x := expectedFetches{referrals: map[string]bool{}, cris: map[string]bool{}}
	for _, it := range sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		ref, err := sb.Referral(it.UBRN)
		if err != nil {
			t.Fatalf("sandbox referral: %v", err)
		}
		x.referrals[it.UBRN] = true
		for _, u := range ref.UBRNsToRead() {
			x.cris[u] = true
		}
		for _, d := range ref.Documents {
			switch d.Availability {
			case triage.AvailabilityAvailable:
				x.attachments++
			case triage.AvailabilityPending:
				x.pending++
			default:
				x.blocked++
			}
		}
	}
	return x
}

func TestFullSyncFetchesEachThingOnceAndResyncIsOneRequest(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 200, Seed: 11}})
	ctx := context.Background()
	x := expectFor(t, env.sb)
	if len(x.referrals) < 100 || x.attachments == 0 || x.pending == 0 || x.blocked == 0 || len(x.cris) <= len(x.referrals) {
		t.Fatalf("sandbox data does not exercise the sync: %d referrals, %d CRIs, %d attachments, %d pending, %d blocked",
			len(x.referrals), len(x.cris), x.attachments, x.pending, x.blocked)
	}
	env.sb.ResetStats()

	rep, err := env.eng.SyncOnce(ctx, nil)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	stats := env.sb.Stats()
	req := stats.Requests
	if req["A008"] != 1 {
		t.Errorf("A008 requests = %d, want 1", req["A008"])
	}
	if req["A005"] > len(x.referrals) || req["A005"] != len(x.referrals) {
		t.Errorf("A005 requests = %d, want one per referral (%d)", req["A005"], len(x.referrals))
	}
	if req["A007"] != len(x.cris) {
		t.Errorf("A007 requests = %d, want one per UBRN including related ones (%d)", req["A007"], len(x.cris))
	}
	if req["A042"] != x.attachments+x.pending+x.blocked {
		// PENDING and blocked attachments are not downloaded; A042 is asked
		// only for AVAILABLE ones.
		if req["A042"] != x.attachments {
			t.Errorf("A042 requests = %d, want one per AVAILABLE attachment (%d)", req["A042"], x.attachments)
		}
	}
	if req["A006"] != 0 || req["A042"] != x.attachments {
		t.Errorf("attachment downloads: A042 %d, A006 %d; want A042 = %d AVAILABLE attachments, no A006", req["A042"], req["A006"], x.attachments)
	}
	if rep.Remaining != 0 {
		t.Errorf("%d downloads left queued", rep.Remaining)
	}

	// Everything is readable from the store, offline.
	for u := range x.referrals {
		cr, err := env.st.Referral(ctx, u)
		if err != nil {
			t.Fatalf("cached referral: %v", err)
		}
		for _, d := range cr.Referral.Documents {
			m, data, err := env.st.Document(ctx, u, d.ID)
			if err != nil {
				t.Fatalf("attachment %s of a referral not cached: %v", d.Availability, err)
			}
			if m.Availability != d.Availability {
				t.Errorf("cached availability %s, e-RS says %s", m.Availability, d.Availability)
			}
			if (d.Availability == triage.AvailabilityAvailable) != (len(data) > 0) {
				t.Errorf("attachment %s cached with %d bytes", d.Availability, len(data))
			}
		}
	}
	for u := range x.cris {
		if _, data, err := env.st.Document(ctx, u, CRIDocumentID); err != nil || len(data) == 0 {
			t.Errorf("CRI not cached (%v)", err)
		}
	}
	snap, err := env.st.Worklist(ctx, triage.ListReferralsForReview)
	if err != nil || len(snap.Items) != len(x.referrals) || snap.AsOf.IsZero() {
		t.Fatalf("stored worklist: %d items, as of %v, err %v", len(snap.Items), snap.AsOf, err)
	}

	// Nothing changed: exactly one request, on this engine and on a new one
	// (a restart), which checks the cache instead of e-RS.
	for _, restart := range []bool{false, true} {
		eng := env.eng
		if restart {
			eng = env.newEngine(nil)
		}
		env.sb.ResetStats()
		if _, err := eng.SyncOnce(ctx, nil); err != nil {
			t.Fatalf("re-sync: %v", err)
		}
		if got := env.sb.Stats().Requests; !maps.Equal(got, map[string]int{"A008": 1}) {
			t.Errorf("re-sync (restart %v) with nothing changed made requests %v, want exactly one A008", restart, got)
		}
	}

	// Three letters change: exactly those three are fetched again.
	changed := slices.Sorted(maps.Keys(x.referrals))[:3]
	for _, u := range changed {
		if _, err := env.sb.ChangeLetter(u, ""); err != nil {
			t.Fatalf("change letter: %v", err)
		}
	}
	env.sb.ResetStats()
	before := len(env.storeChanges())
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync after letter changes: %v", err)
	}
	got := env.sb.Stats().Requests
	want := map[string]int{"A008": 1, "A005": 3, "A007": 3}
	if !maps.Equal(got, want) {
		t.Errorf("after 3 letter changes requests = %v, want %v", got, want)
	}
	refetched := map[string]bool{}
	for _, c := range env.storeChanges()[before:] {
		if c.Kind == store.ChangeDocument && c.DocumentID == CRIDocumentID {
			refetched[c.UBRN] = true
		}
	}
	if !maps.Equal(refetched, map[string]bool{changed[0]: true, changed[1]: true, changed[2]: true}) {
		t.Errorf("CRIs stored again for %d referrals, want exactly the 3 whose letters changed", len(refetched))
	}
}

func TestPullMarksReferralsThatLeftTheWorklist(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 30, Seed: 5}})
	ctx := context.Background()
	var events []WorklistUpdated
	ch, cancel := env.eng.Subscribe(8192)
	defer cancel()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	gone := items[0].UBRN
	if _, err := env.sb.SetState(gone, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS"}, Comments: "Rejected in the e-RS web app."}); err != nil {
		t.Fatalf("set state: %v", err)
	}
	res, err := env.eng.Pull(ctx)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if res.Left != 1 || res.Total != len(items)-1 {
		t.Errorf("pull result %+v, want 1 left of %d", res, len(items))
	}
	ls, err := env.st.LocalState(ctx, gone)
	if err != nil || !ls.LeftWorklist {
		t.Fatalf("local state of the referral that left: %+v, %v; want LeftWorklist", ls, err)
	}
	if _, err := env.st.Referral(ctx, gone); err != nil {
		t.Errorf("a referral that left the worklist must stay cached until retention: %v", err)
	}
	for len(ch) > 0 {
		if ev, ok := (<-ch).(WorklistUpdated); ok {
			events = append(events, ev)
		}
	}
	if len(events) != 2 || events[1].Left != 1 || events[1].AsOf.IsZero() || events[0].New != len(items) {
		t.Errorf("worklist events %+v, want a first pull with all new and a second with one left", events)
	}
}

// TestAsOfAndAgeUseTheServersClock: the worklist's "as of" is e-RS's Date,
// and the engine measures e-RS's clock against this computer's, so a local
// clock that runs behind cannot make data look fresh (and one that runs
// ahead cannot make it look old).
func TestAsOfAndAgeUseTheServersClock(t *testing.T) {
	for _, skew := range []time.Duration{-2 * time.Hour, 3 * time.Hour} {
		serverNow := func() time.Time { return time.Now().Add(skew) }
		env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 10, Seed: 3, Now: serverNow},
			engine: func(c *Config) { c.NoPrefetch = true }})
		if _, err := env.eng.Pull(context.Background()); err != nil {
			t.Fatalf("pull: %v", err)
		}
		st := env.eng.Status()
		if d := st.AsOf.Sub(serverNow()); d > 5*time.Second || d < -5*time.Second {
			t.Errorf("skew %v: as of %v is not e-RS's time %v", skew, st.AsOf, serverNow())
		}
		if d := st.ServerOffset - skew; d > 2*time.Second || d < -2*time.Second {
			t.Errorf("skew %v: measured offset %v", skew, st.ServerOffset)
		}
		snap, err := env.st.Worklist(context.Background(), triage.ListReferralsForReview)
		if err != nil || !snap.AsOf.Equal(st.AsOf) {
			t.Fatalf("stored as-of %v, status %v, err %v", snap.AsOf, st.AsOf, err)
		}
		now := time.Now()
		if f := triage.FreshnessOf(st.AsOf, now, st.ServerOffset, 5*time.Minute); f != triage.Fresh {
			t.Errorf("skew %v: just-pulled data is %d, want fresh", skew, f)
		}
		// Two hours later on this computer's clock the data is stale, whatever
		// the skew; without the offset a slow local clock would call it fresh.
		later := now.Add(2 * time.Hour)
		if f := triage.FreshnessOf(st.AsOf, later, st.ServerOffset, 5*time.Minute); f != triage.Stale {
			t.Errorf("skew %v: two-hour-old data is %d, want stale", skew, f)
		}
	}
}
