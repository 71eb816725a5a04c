package triage

import (
	"testing"
	"time"
)

// TestReasonLabel: a reason code reads as the reference data's words, from
// either cancellation-reason system and even once expired, and as the code
// in sentence case when the reference data does not know it.
func TestReasonLabel(t *testing.T) {
	expired := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	rd := &ReferenceData{Systems: map[CodeSystemType]CodeSystem{
		CodeSystemAppointmentCancellationReason: {Type: CodeSystemAppointmentCancellationReason, Concepts: []Concept{
			{Code: "FURTHER_INFORMATION_REQUIRED", Display: "Further information required", ReasonType: ReasonTypeProviderReject},
			{Code: "OLD_REASON", Display: "An old reason", EffectiveTo: expired},
			{Code: "NO_DISPLAY"},
		}},
		CodeSystemReferralCancellationReason: {Type: CodeSystemReferralCancellationReason, Concepts: []Concept{
			{Code: "PATIENT_DIED", Display: "Patient has died", ReasonType: ReasonTypeProviderTriage},
		}},
	}}
	for _, tc := range []struct {
		rd   *ReferenceData
		code string
		want string
	}{
		{rd, "FURTHER_INFORMATION_REQUIRED", "Further information required"},
		{rd, "PATIENT_DIED", "Patient has died"},
		{rd, "OLD_REASON", "An old reason"},
		{rd, "NO_DISPLAY", "No display"},
		{rd, "UNKNOWN_TO_REFDATA", "Unknown to refdata"},
		{nil, "FURTHER_INFORMATION_REQUIRED", "Further information required"},
		{&ReferenceData{}, "CLINICAL-REVIEW", "Clinical review"},
		{rd, "", ""},
		{rd, "Already words", "Already words"},
		{rd, "___", "___"},
	} {
		if got := tc.rd.ReasonLabel(tc.code); got != tc.want {
			t.Errorf("ReasonLabel(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
