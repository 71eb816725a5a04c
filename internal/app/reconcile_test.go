package app

import (
	"context"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// A referral whose worklist entry says it is a RAS referral is one, however
// its details (A005) look; where the worklist and the details name
// different patients, the disagreement is reported and no decision can be
// recorded on it.
func TestWorklistTypeWinsAndAPatientMismatchRefusesDecisions(t *testing.T) {
	_, a, _ := syncedDemo(t)
	ctx := context.Background()
	ubrn := booked(t, a)[0]
	cr, err := a.store.Referral(ctx, ubrn)
	if err != nil {
		t.Fatal(err)
	}
	cr.Referral.NHSNumber = "9990000026" // another synthetic patient
	if err := a.store.PutReferral(ctx, cr); err != nil {
		t.Fatal(err)
	}
	v, err := a.Referral(ctx, ubrn)
	if err != nil {
		t.Fatal(err)
	}
	if !triage.PatientMismatch(v.Mismatches) {
		t.Errorf("mismatches %+v, want the NHS number", v.Mismatches)
	}
	if _, err := a.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: ubrn}); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("decision on a referral naming two patients: %v, want refused", err)
	}
}

// The worklist a referral is reconciled with is the one stored last: a new
// worklist that names another type is used at once.
func TestReconcileFollowsTheLatestWorklist(t *testing.T) {
	_, a, _ := syncedDemo(t)
	ctx := context.Background()
	ubrn := booked(t, a)[0]
	if v, err := a.Referral(ctx, ubrn); err != nil || v.Referral.Referral.Type != triage.ReferralTypeAppointment || len(v.Mismatches) != 0 {
		t.Fatalf("before: %v %+v", err, v.Mismatches)
	}
	snap, err := a.store.Worklist(ctx, triage.ListReferralsForReview)
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.Items {
		if snap.Items[i].UBRN == ubrn {
			snap.Items[i].Type = triage.ReferralTypeTriageDeferral
		}
	}
	if err := a.store.PutWorklist(ctx, snap); err != nil {
		t.Fatal(err)
	}
	v, err := a.Referral(ctx, ubrn)
	if err != nil || v.Referral.Referral.Type != triage.ReferralTypeTriageDeferral || len(v.Mismatches) != 1 {
		t.Errorf("after a new worklist: type %s, mismatches %+v, %v", v.Referral.Referral.Type, v.Mismatches, err)
	}
}
