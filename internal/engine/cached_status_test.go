package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestStatusStartsWithTheCachedWorklistsTime: an engine opened on a cache
// that already holds the worklist reports, before any pull (a laptop
// opened offline), the time e-RS gave that worklist and when it was
// pulled, so the status bar says how old the worklist on screen is instead
// of "Worklist not downloaded yet". A cache without one reports neither.
func TestStatusStartsWithTheCachedWorklistsTime(t *testing.T) {
	env := newTestEnv(t, envOptions{noEngine: true})
	if st := env.newEngine(nil).Status(); !st.AsOf.IsZero() || !st.LastSuccess.IsZero() {
		t.Fatalf("an empty cache reports a worklist as of %v, pulled %v", st.AsOf, st.LastSuccess)
	}
	asOf := time.Date(2026, 12, 3, 16, 45, 0, 0, time.UTC)
	if err := env.st.PutWorklist(context.Background(), store.WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: asOf,
		Items: []triage.WorklistItem{{UBRN: "000000000001"}}}); err != nil {
		t.Fatal(err)
	}
	st := env.newEngine(nil).Status()
	if !st.AsOf.Equal(asOf) {
		t.Errorf("the engine reports the worklist as of %v, want the cached %v", st.AsOf, asOf)
	}
	if st.LastSuccess.IsZero() || time.Since(st.LastSuccess) > time.Minute {
		t.Errorf("the engine reports the last pull at %v, want when the cached worklist was stored", st.LastSuccess)
	}
}
