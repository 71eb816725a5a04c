package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Ambiguous and contended answers are settled by re-reading the referral:
// an accept applied before the connection dropped is found by its leaving
// the worklist; a referral locked by another update (423) is retried and
// sent once; a 422 for a bad code fails with e-RS's reason.
func TestSettlingAmbiguousAndRefusedSends(t *testing.T) {
	env := newSendEnv(t, erssandbox.Config{Referrals: 40, Seed: 15})
	ctx := context.Background()
	booked := bookedReferrals(t, env.sb, 3)
	accept := triage.Decision{Kind: triage.DecisionAccept, UBRN: booked[0].UBRN, BaseVersion: booked[0].Version, By: clinician}
	locked := triage.Decision{Kind: triage.DecisionAccept, UBRN: booked[1].UBRN, BaseVersion: booked[1].Version, By: clinician}
	bad := triage.Decision{Kind: triage.DecisionReject, UBRN: booked[2].UBRN, BaseVersion: booked[2].Version, By: clinician,
		Comments: "Not appropriate."}
	cs, _ := env.sb.ReferenceData().System(triage.CodeSystemAppointmentCancellationReason)
	bad.Reason = triage.Coding{System: cs.URL, Code: "NOT_AN_E_RS_REASON"}
	if booked[2].Booking() == triage.BookingIndirect {
		no := false
		bad.AppointmentCancelledInPAS = &no
	}
	ids := map[string]string{}
	for _, d := range []triage.Decision{accept, locked, bad} {
		en, err := env.st.Enqueue(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.UBRN] = en.ID
	}
	env.sb.FailNext("A013", erssandbox.FaultDropAfterApply)
	release, err := env.sb.LockReferral(locked.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	env.sb.ResetStats()
	env.run()
	eventually(t, 10*time.Second, "the locked referral's send to be refused", func() bool {
		for _, w := range env.sb.Stats().Writes {
			if w.UBRN == locked.UBRN && w.Status == 423 {
				return true
			}
		}
		return false
	})
	// The lock is released only once the engine has recorded the refused
	// attempt and put the decision back to wait for its retry.
	eventually(t, 10*time.Second, "the refused send to be recorded", func() bool {
		l, err := env.st.Entry(ctx, ids[locked.UBRN])
		return err == nil && l.Attempts >= 1 && l.State == triage.OutboxQueued
	})
	release()
	waitSettled(t, env.st, 15*time.Second)
	checkOutcomes(t, env.st, env.sb)

	a, _ := env.st.Entry(ctx, ids[accept.UBRN])
	if a.State != triage.OutboxSent || a.Sent == nil || !a.Sent.Settled {
		t.Errorf("accept applied then dropped: %s %+v, want sent, settled by re-reading", a.State, a.Sent)
	}
	l, _ := env.st.Entry(ctx, ids[locked.UBRN])
	if l.State != triage.OutboxSent || l.Attempts < 2 {
		t.Errorf("locked referral: %s after %d attempts, want sent after a retry", l.State, l.Attempts)
	}
	b, _ := env.st.Entry(ctx, ids[bad.UBRN])
	if b.State != triage.OutboxFailed || b.LastError == nil || b.LastError.HTTPStatus != 422 || b.LastError.Message == "" {
		t.Errorf("bad reason: %s %+v, want failed with e-RS's 422 reason", b.State, b.LastError)
	}
	if n := env.sb.Stats().Requests["A008"]; n < 2 {
		t.Errorf("the dropped accept was not settled from the worklist (%d A008 requests)", n)
	}
}
