package triage

import (
	"slices"
	"testing"
)

func TestReconcile(t *testing.T) {
	it := WorklistItem{UBRN: "000000070000", NHSNumber: "9990000018", Priority: PriorityRoutine, Type: ReferralTypeTriageDeferral}
	r := Referral{UBRN: "000000070000", NHSNumber: "999 000 0018", Priority: PriorityRoutine, Type: ReferralTypeAppointment}

	got, ms := Reconcile(it, r)
	if got.Type != ReferralTypeTriageDeferral {
		t.Errorf("type %s, want the worklist's", got.Type)
	}
	if len(ms) != 1 || ms[0] != (Mismatch{Field: MismatchType, Worklist: "RAS", Referral: "Booked"}) || PatientMismatch(ms) {
		t.Errorf("mismatches %+v", ms)
	}

	r.NHSNumber, r.Priority = "9990000026", PriorityUrgent
	_, ms = Reconcile(it, r)
	fields := []MismatchField{}
	for _, m := range ms {
		fields = append(fields, m.Field)
	}
	if !slices.Equal(fields, []MismatchField{MismatchType, MismatchNHSNumber, MismatchPriority}) || !PatientMismatch(ms) {
		t.Errorf("mismatches %+v", ms)
	}

	// A worklist entry without a type keeps the inferred one, silently.
	it.Type = ""
	r = Referral{UBRN: it.UBRN, NHSNumber: it.NHSNumber, Priority: it.Priority, Type: ReferralTypeAppointment}
	if got, ms := Reconcile(it, r); got.Type != ReferralTypeAppointment || len(ms) != 0 {
		t.Errorf("no worklist type: %s %+v", got.Type, ms)
	}
}
