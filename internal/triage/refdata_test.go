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
	want := map[string]string{
		"FURTHER_INFORMATION_REQUIRED": "Further information required",
		"PATIENT_DIED":                 "Patient has died",
		"OLD_REASON":                   "An old reason",
		"NO_DISPLAY":                   "No display",
		"UNKNOWN_TO_REFDATA":           "Unknown to refdata",
		"CLINICAL-REVIEW":              "Clinical review",
		"":                             "",
		"Already words":                "Already words",
		"___":                          "___",
	}
	for code, w := range want {
		if got := rd.ReasonLabel(code); got != w {
			t.Errorf("ReasonLabel(%q) = %q, want %q", code, got, w)
		}
	}
	// Without reference data (before the first sync) the code reads in words.
	var none *ReferenceData
	if got := none.ReasonLabel("FURTHER_INFORMATION_REQUIRED"); got != "Further information required" {
		t.Errorf("without reference data: %q", got)
	}
}
