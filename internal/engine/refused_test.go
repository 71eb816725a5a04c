package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A decision e-RS refuses for the referral's state (422
// INVALID_REQUEST_STATE on a referral nobody changed since the decision's
// version, as after a conflict was acknowledged and the decision amended)
// ends as failed with a plain-English reason after one attempt: retrying
// cannot change e-RS's answer, so it is never retried for ever.
func TestDecisionERSWillNeverTakeEndsFailed(t *testing.T) {
	env := newSendEnv(t, erssandbox.Config{Referrals: 30, Seed: 22})
	ctx := context.Background()
	ref := bookedReferrals(t, env.sb, 1)[0]
	// Someone else rejected it; the amended decision is an accept made on
	// the version e-RS has now.
	v, err := env.sb.SetState(ref.UBRN, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "OTHER", Display: "Other"}, Comments: "Seen elsewhere."})
	if err != nil {
		t.Fatal(err)
	}
	en, err := env.st.Enqueue(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: ref.UBRN, BaseVersion: v, By: clinician, DecidedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	env.sb.ResetStats()
	env.run()
	waitSettled(t, env.st, 10*time.Second)

	got, _ := env.st.Entry(ctx, en.ID)
	if got.State != triage.OutboxFailed || got.LastError == nil || got.LastError.HTTPStatus != 422 || got.LastError.ERSCode != "INVALID_REQUEST_STATE" {
		t.Fatalf("decision %s after %d attempts, error %+v; want failed with e-RS's 422 INVALID_REQUEST_STATE", got.State, got.Attempts, got.LastError)
	}
	if msg := got.LastError.Message; !strings.Contains(msg, "Rejected") || !strings.Contains(msg, "discard it in the outbox") {
		t.Errorf("reason %q does not say the referral's state and what to do", msg)
	}
	sends := 0
	for _, w := range env.sb.Stats().Writes {
		if w.UBRN == ref.UBRN {
			sends++
		}
	}
	if got.Attempts != 1 || sends != 1 {
		t.Errorf("sent %d times (%d attempts), want once", sends, got.Attempts)
	}
	checkOutcomes(t, env.st, env.sb)
}
