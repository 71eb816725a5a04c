package triage

import "testing"

func TestParseReferralStateBothSpellings(t *testing.T) {
	tests := map[string]ReferralState{
		"APPT_CANCELLED_BY_PATIENT":  StateApptCancelledByPatient,
		"APP_CANCELLED_BY_PATIENT":   StateApptCancelledByPatient,
		"APPT_CANCELLED_BY_PROVIDER": StateApptCancelledByProvider,
		"APP_CANCELLED_BY_PROVIDER":  StateApptCancelledByProvider,
		"TRIAGED_PROVIDER_TO_ACTION": StateTriagedProviderToAction,
		" BOOKED ":                   StateBooked,
	}
	for in, want := range tests {
		got, err := ParseReferralState(in)
		if err != nil || got != want {
			t.Errorf("ParseReferralState(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, s := range ReferralStates {
		if got, err := ParseReferralState(string(s)); err != nil || got != s {
			t.Errorf("round trip %q = %q, %v", s, got, err)
		}
		if s.Label() == string(s) {
			t.Errorf("state %q has no plain-English label", s)
		}
	}
	if _, err := ParseReferralState("ACCEPTED"); err == nil {
		t.Error("unknown state parsed without error")
	}
}

func TestParsePriorityAndRank(t *testing.T) {
	for i, p := range Priorities {
		got, err := ParsePriority(string(p))
		if err != nil || got != p {
			t.Errorf("ParsePriority(%q) = %q, %v", p, got, err)
		}
		if p.Rank() != i {
			t.Errorf("%s rank %d, want %d", p, p.Rank(), i)
		}
	}
	if _, err := ParsePriority("EMERGENCY"); err == nil {
		t.Error("unknown priority parsed")
	}
	if Priority("X").Rank() <= PriorityRoutine.Rank() {
		t.Error("unknown priority should sort after routine")
	}
}

func TestParseAvailabilityStatus(t *testing.T) {
	for in, want := range map[string]AvailabilityStatus{
		"AVAILABLE":         AvailabilityAvailable,
		"PENDING":           AvailabilityPending,
		"THREATS_FOUND":     AvailabilityThreatsFound,
		"THREATS FOUND":     AvailabilityThreatsFound,
		"VALIDATION_FAILED": AvailabilityValidationFailed,
	} {
		got, err := ParseAvailabilityStatus(in)
		if err != nil || got != want {
			t.Errorf("ParseAvailabilityStatus(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAvailabilityStatus("SCANNING"); err == nil {
		t.Error("unknown availability parsed")
	}
	if AvailabilityPending.Meaning() == AvailabilityThreatsFound.Meaning() {
		t.Error("pending and threats found must be explained differently")
	}
}

func TestRequestContextStatus(t *testing.T) {
	tests := []struct {
		s                         RequestContextStatus
		letter, priority, changed bool
	}{
		{ContextNeverReviewed, false, false, false},
		{ContextLetterChanged, true, false, true},
		{ContextPriorityChanged, false, true, true},
		{ContextPriorityAndLetterChanged, true, true, true},
	}
	for _, tt := range tests {
		if tt.s.LetterChanged() != tt.letter || tt.s.PriorityChanged() != tt.priority || tt.s.ChangedSinceReview() != tt.changed {
			t.Errorf("%s: letter %v priority %v changed %v", tt.s, tt.s.LetterChanged(), tt.s.PriorityChanged(), tt.s.ChangedSinceReview())
		}
		if got, err := ParseRequestContextStatus(string(tt.s)); err != nil || got != tt.s {
			t.Errorf("parse %s: %v", tt.s, err)
		}
	}
	if _, err := ParseRequestContextStatus("REVIEWED"); err == nil {
		t.Error("unknown status parsed")
	}
}

func TestParseReferralType(t *testing.T) {
	for _, ty := range []ReferralType{ReferralTypeAppointment, ReferralTypeTriageDeferral} {
		if got, err := ParseReferralType(string(ty)); err != nil || got != ty {
			t.Errorf("ParseReferralType(%q) = %q, %v", ty, got, err)
		}
	}
	if _, err := ParseReferralType("ADVICE"); err == nil {
		t.Error("unknown type parsed")
	}
}

func TestIdentitySameUser(t *testing.T) {
	a := Identity{SDSUserID: "555032006106", ODS: "RCD", BusinessFunction: RoleServiceProviderClinician}
	if !a.SameUser(a) {
		t.Error("identity not the same as itself")
	}
	b := a
	b.SDSUserID = "555032006103"
	c := a
	c.ODS = "R69"
	d := a
	d.BusinessFunction = RoleServiceProviderClinicianAdmin
	for _, o := range []Identity{b, c, d, {}} {
		if a.SameUser(o) {
			t.Errorf("%+v treated as the same user as %+v", o, a)
		}
	}
	if (Identity{}).SameUser(Identity{}) {
		t.Error("two empty identities must not match")
	}
}
