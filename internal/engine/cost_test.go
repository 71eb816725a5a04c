package engine

import (
	"context"
	"maps"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// unchangedSyncCost is what a sync of an unchanged worklist may cost: one
// request per worklist pulled: A008 for Referrals for Review and A023 for
// Advice and Guidance (the A&G reads a new request costs are its own).
var unchangedSyncCost = map[string]int{"A008": 1, "A023": 1}

// newReferralCost is what a sync must cost for referrals new to the
// worklist: one A005 each, one A007 per UBRN to read not already cached
// (its own and related ones), one A042 per AVAILABLE attachment, one PDS
// read per patient (shared by that patient's referrals), plus
// unchangedSyncCost.
func newReferralCost(t *testing.T, sb *erssandbox.Sandbox, ubrns []string, cachedCRIs map[string]bool) map[string]int {
	t.Helper()
	want := maps.Clone(unchangedSyncCost)
	patients := map[string]bool{}
	for _, u := range ubrns {
		ref, err := sb.Referral(u)
		if err != nil {
			t.Fatalf("sandbox referral: %v", err)
		}
		want["A005"]++
		patients[ref.NHSNumber] = true
		for _, r := range ref.UBRNsToRead() {
			if !cachedCRIs[r] {
				cachedCRIs[r] = true
				want["A007"]++
			}
		}
		for _, d := range ref.Documents {
			if d.Availability == triage.AvailabilityAvailable {
				// A042 answers with a redirect to the object store,
				// followed at once: one download each.
				want["A042"]++
				want["download"]++
			}
		}
	}
	if len(patients) > 0 {
		want[erssandbox.OpPDS] = len(patients)
	}
	return want
}

// TestSyncCostPerNewReferral counts every request a sync makes (e-RS and
// PDS): new referrals cost exactly what they must, and an unchanged
// worklist exactly one request per worklist (A008, A023).
func TestSyncCostPerNewReferral(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 120, Seed: 13, AdviceRequests: -1}, pds: true,
		engine: func(c *Config) { c.AdviceAndGuidance = true }})
	ctx := context.Background()
	onList := func() map[string]bool {
		m := map[string]bool{}
		for _, it := range env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
			m[it.UBRN] = true
		}
		return m
	}
	first := onList()
	cris := map[string]bool{}
	want := newReferralCost(t, env.sb, sortedKeys(first), cris)
	env.sb.ResetStats()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	got := env.sb.Stats().Requests
	delete(got, "A004") // reference data: daily, not per referral
	if !maps.Equal(got, want) {
		t.Errorf("first sync of %d referrals made requests %v, want %v", len(first), got, want)
	}

	added, err := env.sb.AddReferrals(40)
	if err != nil {
		t.Fatalf("add referrals: %v", err)
	}
	now := onList()
	var fresh []string
	for _, u := range added {
		if now[u] {
			fresh = append(fresh, u)
		}
	}
	if len(fresh) < 10 {
		t.Fatalf("only %d of the new referrals are on the worklist: the test proves little", len(fresh))
	}
	want = newReferralCost(t, env.sb, fresh, cris)
	env.sb.ResetStats()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync of new referrals: %v", err)
	}
	if got := env.sb.Stats().Requests; !maps.Equal(got, want) {
		t.Errorf("sync of %d new referrals made requests %v, want %v", len(fresh), got, want)
	}

	env.sb.ResetStats()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("unchanged sync: %v", err)
	}
	if got := env.sb.Stats().Requests; !maps.Equal(got, unchangedSyncCost) {
		t.Errorf("sync of an unchanged worklist made requests %v, want %v", got, unchangedSyncCost)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
