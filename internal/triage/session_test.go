package triage

import "testing"

func TestWorklistFilterValidate(t *testing.T) {
	spec := Coding{System: "https://example.nhs.uk/STU3/CodeSystem/SPECIALTY", Code: "CARDIOLOGY"}
	for name, c := range map[string]struct {
		f  WorklistFilter
		ok bool
	}{
		"empty":                        {WorklistFilter{}, true},
		"service and clinician":        {WorklistFilter{Service: "30012", Clinician: "910000000101"}, true},
		"specialty assigned":           {WorklistFilter{Specialty: spec, SpecialtyAssigned: AssignedYes}, true},
		"nothing assigned":             {WorklistFilter{ClinicianAssigned: AssignedNo}, true},
		"clinician with not assigned":  {WorklistFilter{ClinicianAssigned: AssignedNo, Clinician: "1"}, false},
		"specialty with not assigned":  {WorklistFilter{SpecialtyAssigned: AssignedNo, Specialty: spec}, false},
		"unknown indicator":            {WorklistFilter{SpecialtyAssigned: "SOMETIMES"}, false},
		"specialty without its system": {WorklistFilter{Specialty: Coding{Code: "CARDIOLOGY"}}, false},
	} {
		if err := c.f.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}
