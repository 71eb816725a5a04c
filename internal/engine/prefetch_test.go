package engine

import (
	"context"
	"testing"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// criOrder returns the UBRNs whose CRI was stored, in the order stored.
func criOrder(changes []store.Change) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range changes {
		if c.Kind == store.ChangeDocument && c.DocumentID == CRIDocumentID && !seen[c.UBRN] {
			seen[c.UBRN] = true
			out = append(out, c.UBRN)
		}
	}
	return out
}

func TestPrefetchStoresEvery2WWCRIBeforeAnyRoutineOne(t *testing.T) {
	env := newTestEnv(t, envOptions{
		sandbox: erssandbox.Config{Referrals: 90, Seed: 21},
		client:  ers.Config{RateLimit: 40}, // slowed: the order matters
	})
	items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	priority := map[string]triage.Priority{}
	relatedToHigher := map[string]bool{}
	for _, it := range items {
		priority[it.UBRN] = it.Priority
	}
	for _, it := range items {
		if it.Priority == triage.PriorityRoutine {
			continue
		}
		r, _ := env.sb.Referral(it.UBRN)
		for _, u := range r.UBRNsToRead()[1:] {
			relatedToHigher[u] = true // read as part of a more urgent referral
		}
	}
	if _, err := env.eng.SyncOnce(context.Background(), nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	order := criOrder(env.storeChanges())
	last := map[triage.Priority]int{}
	first := map[triage.Priority]int{}
	for i, u := range order {
		p, onList := priority[u]
		if !onList || relatedToHigher[u] {
			continue
		}
		if _, ok := first[p]; !ok {
			first[p] = i
		}
		last[p] = i
	}
	if _, ok := first[triage.PriorityTwoWeekWait]; !ok {
		t.Fatal("no 2WW referral in the data")
	}
	if last[triage.PriorityTwoWeekWait] > first[triage.PriorityRoutine] {
		t.Errorf("a routine CRI (position %d) was stored before the last 2WW CRI (position %d)",
			first[triage.PriorityRoutine], last[triage.PriorityTwoWeekWait])
	}
	if last[triage.PriorityUrgent] > first[triage.PriorityRoutine] {
		t.Errorf("a routine CRI (position %d) was stored before the last urgent CRI (position %d)",
			first[triage.PriorityRoutine], last[triage.PriorityUrgent])
	}
}

func TestFocusedReferralJumpsTheQueue(t *testing.T) {
	// One prefetch worker: with several, the focused referral is started
	// first but another worker's smaller download may still land first.
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 60, Seed: 22}, client: ers.Config{RateLimit: 60},
		engine: func(c *Config) { c.PrefetchWorkers = 1 }})
	var routine string
	for _, it := range env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		if it.Priority == triage.PriorityRoutine {
			routine = it.UBRN
		}
	}
	env.eng.Focus(routine)
	if _, err := env.eng.SyncOnce(context.Background(), nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	order := criOrder(env.storeChanges())
	if len(order) == 0 || order[0] != routine {
		t.Errorf("the open (routine) referral's CRI was not the first stored")
	}
}
