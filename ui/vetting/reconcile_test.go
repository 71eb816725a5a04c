package vetting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestRASReferralIsNeverShownAsBooked: when e-RS's worklist says a referral
// is a RAS (TRIAGE_DEFERRAL) referral but its details (A005) look booked,
// the worklist's type is used: the header says RAS, only triage outcomes
// are offered, and the disagreement (type, and here also the priority) is
// shown in the header rather than guessed.
func TestRASReferralIsNeverShownAsBooked(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	row := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone && r.Priority == triage.PriorityRoutine
	})
	cr, err := apptest.Store(h.ws).Referral(ctx, row.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	// A005 as a booked referral: state BOOKED with an appointment slot.
	r := cr.Referral
	r.State = triage.ReferralStatus{State: triage.StateBooked}
	r.Type = triage.ReferralTypeAppointment
	r.Priority = triage.PriorityUrgent
	r.Appointment = &triage.Appointment{ID: "appt-1", Start: time.Now().Add(72 * time.Hour), Booking: triage.BookingDirect}
	cr.Referral = r
	if err := apptest.Store(h.ws).PutReferral(ctx, cr); err != nil {
		t.Fatal(err)
	}
	p := h.open(row.UBRN)
	head := strings.Join(texts(p.header), "|")
	if strings.Contains(head, "Booked (directly bookable)") || !strings.Contains(head, "RAS") {
		t.Errorf("header shows the inferred type: %s", head)
	}
	for _, want := range []string{"referral type", "worklist: RAS", "referral details: Booked", "priority", "worklist: Routine", "referral details: Urgent"} {
		if !strings.Contains(head, want) {
			t.Errorf("header does not show the disagreement (%q): %s", want, head)
		}
	}
	panel := p.decision.StatusText()
	if strings.Contains(panel, "Reject…") || strings.Contains(panel, "Redirect…") || !strings.Contains(panel, "Return to referrer with advice") {
		t.Errorf("decisions offered for a RAS referral: %s", panel)
	}
	if _, err := h.ws.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: row.UBRN}); err == nil {
		t.Error("a booked accept was queued on a RAS referral")
	}
}

// TestPatientNeedsAreShownInTheHeader: interpreter, transport and advocacy
// needs (Extension-eRS-PatientAdditionalRequirement-1) are in the header
// card, where they cannot be missed.
func TestPatientNeedsAreShownInTheHeader(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	row := h.booked(false)
	cr, err := apptest.Store(h.ws).Referral(ctx, row.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	cr.Referral.AdditionalRequirements = []triage.Coding{
		{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdditionalRequirementType-1", Code: "INTERPRETER", Display: "Interpreter"},
		{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdditionalRequirementType-1", Code: "ADVOCACY"},
	}
	if err := apptest.Store(h.ws).PutReferral(ctx, cr); err != nil {
		t.Fatal(err)
	}
	p := h.open(row.UBRN)
	if head := strings.Join(texts(p.header), "|"); !strings.Contains(head, "Patient needs: Interpreter, Advocacy") {
		t.Errorf("header does not show the patient's needs: %s", head)
	}
}
