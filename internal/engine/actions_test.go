package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestAvailableActionsAsksERSAndRefusesWithoutASession(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	var booked, ras *triage.Referral
	for _, r := range decidable(t, env.sb) {
		switch {
		case booked == nil && r.Type == triage.ReferralTypeAppointment:
			booked = &r
		case ras == nil && r.Type == triage.ReferralTypeTriageDeferral:
			ras = &r
		}
	}
	if booked == nil || ras == nil {
		t.Fatal("the sandbox has no booked or no RAS referral")
	}
	acts, err := env.eng.AvailableActions(ctx, ras.UBRN, ras.Version)
	if err != nil || !slices.Contains(acts, triage.ActionRecordReviewOutcome) {
		t.Fatalf("RAS referral: actions %v, %v; want RECORD_REVIEW_OUTCOME", acts, err)
	}
	acts, err = env.eng.AvailableActions(ctx, booked.UBRN, booked.Version)
	if err != nil || slices.Contains(acts, triage.ActionRecordReviewOutcome) {
		t.Fatalf("booked referral: actions %v, %v; want no triage outcome", acts, err)
	}
	// A stale version is refused by e-RS, not answered from a cache.
	if _, err := env.eng.AvailableActions(ctx, ras.UBRN, ras.Version+5); err == nil {
		t.Error("A029 for a version that is not current succeeded")
	}

	env.sess.Set(clinician, false)
	env.eng.SessionChanged()
	before := env.sb.Stats().Requests["A029"]
	_, err = env.eng.AvailableActions(ctx, ras.UBRN, ras.Version)
	if triage.ErrorCodeOf(err) != triage.EUNAVAILABLE {
		t.Fatalf("without a live session: %v, want EUNAVAILABLE", err)
	}
	if after := env.sb.Stats().Requests["A029"]; after != before {
		t.Errorf("without a live session %d requests were made", after-before)
	}
}

func TestDecisionChangedFollowsEachDecision(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	events, stop := env.eng.Subscribe(1024)
	defer stop()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	rd, err := env.st.ReferenceData(ctx)
	if err != nil {
		t.Fatalf("reference data: %v", err)
	}
	ref := decidable(t, env.sb)[0]
	en, err := env.st.Enqueue(ctx, decisionFor(t, ref, &rd, 0))
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	var states []triage.OutboxState
	deadline := time.After(5 * time.Second)
	for !slices.Contains(states, triage.OutboxSent) {
		select {
		case ev := <-events:
			if dc, ok := ev.(DecisionChanged); ok {
				if dc.UBRN != ref.UBRN || dc.DecisionID != en.ID {
					t.Fatalf("DecisionChanged for %s/%s, want %s/%s", dc.UBRN, dc.DecisionID, ref.UBRN, en.ID)
				}
				states = append(states, dc.State)
			}
		case <-deadline:
			t.Fatalf("decision states seen %v, never sent", states)
		}
	}
	if states[0] != triage.OutboxQueued {
		t.Errorf("first state %s, want queued (all: %v)", states[0], states)
	}
}
