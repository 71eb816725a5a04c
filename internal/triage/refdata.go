package triage

import (
	"slices"
	"strings"
	"time"
)

// CodeSystemType names an e-RS reference-data code system served by A004.
type CodeSystemType string

// The six A004 code systems.
const (
	CodeSystemSpecialty                      CodeSystemType = "SPECIALTY"
	CodeSystemClinicType                     CodeSystemType = "CLINIC-TYPE"
	CodeSystemAppointmentCancellationReason  CodeSystemType = "APPOINTMENT-CANCELLATION-REASON"
	CodeSystemReferralCancellationReason     CodeSystemType = "REFERRAL-CANCELLATION-REASON"
	CodeSystemAppointmentNonAttendanceReason CodeSystemType = "APPOINTMENT-NON-ATTENDANCE-REASON"
	CodeSystemPriority                       CodeSystemType = "PRIORITY"
)

// CodeSystemTypes lists every A004 code system.
var CodeSystemTypes = []CodeSystemType{
	CodeSystemSpecialty, CodeSystemClinicType, CodeSystemAppointmentCancellationReason,
	CodeSystemReferralCancellationReason, CodeSystemAppointmentNonAttendanceReason, CodeSystemPriority,
}

// Reason categories from the cancellation-reason code systems.
const (
	// ReasonTypeProviderReject marks an APPOINTMENT-CANCELLATION-REASON a
	// provider may use to reject a referral (A014).
	ReasonTypeProviderReject = "PROVIDER_REJECT"
	// ReasonTypeProviderTriage marks a REFERRAL-CANCELLATION-REASON a provider
	// may use to end triage (A036).
	ReasonTypeProviderTriage = "PROVIDER_TRIAGE"
)

// Concept is one code in a reference-data code system, with the properties
// e-RS attaches to it. Properties that do not apply to the code system are
// left empty.
type Concept struct {
	Code          string    `json:"code"`
	Display       string    `json:"display,omitempty"`
	EffectiveFrom time.Time `json:"effectiveFrom,omitzero"`
	EffectiveTo   time.Time `json:"effectiveTo,omitzero"`
	// ReasonType is appointmentBookingCancellationReasonType or
	// appointmentRequestCancellationReasonType (e.g. PROVIDER_REJECT).
	ReasonType         string   `json:"reasonType,omitempty"`
	CommentIsMandatory bool     `json:"commentIsMandatory,omitempty"`
	BusinessFunctions  []string `json:"businessFunctions,omitempty"`
	Usage              []string `json:"usage,omitempty"`
	// Specialty is the specialty of a CLINIC-TYPE code.
	Specialty Coding `json:"specialty,omitzero"`
	// TriageContactDays and DeferToProviderContactDays are PRIORITY
	// properties, in working days.
	TriageContactDays          int `json:"triageContactDays,omitempty"`
	DeferToProviderContactDays int `json:"deferToProviderContactDays,omitempty"`
	// CanCancelAppointment is a REFERRAL-CANCELLATION-REASON property: using
	// the reason also cancels a booked appointment.
	CanCancelAppointment bool `json:"canCancelAppointment,omitempty"`
	// WillCancelWholeRequest is a deprecated APPOINTMENT-CANCELLATION-REASON
	// property, kept so the reference data is complete.
	WillCancelWholeRequest bool `json:"willCancelWholeRequest,omitempty"`
}

// EffectiveAt reports whether the code may be used at t: effectiveFrom is not
// in the future and effectiveTo is not in the past.
func (c Concept) EffectiveAt(t time.Time) bool {
	if !c.EffectiveFrom.IsZero() && c.EffectiveFrom.After(t) {
		return false
	}
	if !c.EffectiveTo.IsZero() && c.EffectiveTo.Before(t) {
		return false
	}
	return true
}

// CodeSystem is one A004 reference-data code system.
type CodeSystem struct {
	Type CodeSystemType `json:"type"`
	// URL is the code system URL e-RS uses; codes are sent back with it.
	URL      string    `json:"url"`
	Name     string    `json:"name,omitempty"`
	Concepts []Concept `json:"concepts"`
}

// Lookup returns the concept with the given code.
func (cs CodeSystem) Lookup(code string) (Concept, bool) {
	for _, c := range cs.Concepts {
		if c.Code == code {
			return c, true
		}
	}
	return Concept{}, false
}

// Current returns the concepts effective at now, sorted by display text.
func (cs CodeSystem) Current(now time.Time) []Concept {
	var out []Concept
	for _, c := range cs.Concepts {
		if c.EffectiveAt(now) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Concept) int {
		return strings.Compare(strings.ToLower(a.Display), strings.ToLower(b.Display))
	})
	return out
}

// ReferenceData holds the A004 code systems the app has loaded, with when
// each was fetched.
type ReferenceData struct {
	Systems   map[CodeSystemType]CodeSystem `json:"systems"`
	FetchedAt time.Time                     `json:"fetchedAt,omitzero"`
}

// System returns the code system of the given type.
func (rd *ReferenceData) System(t CodeSystemType) (CodeSystem, bool) {
	if rd == nil || rd.Systems == nil {
		return CodeSystem{}, false
	}
	cs, ok := rd.Systems[t]
	return cs, ok
}

// RejectReasons returns the reasons a provider may use to reject a referral
// now: APPOINTMENT-CANCELLATION-REASON codes of type PROVIDER_REJECT whose
// effective dates include now. Expired codes are never offered.
func (rd *ReferenceData) RejectReasons(now time.Time) []Concept {
	return rd.reasons(CodeSystemAppointmentCancellationReason, ReasonTypeProviderReject, now)
}

// EndTriageReasons returns the REFERRAL-CANCELLATION-REASON codes of type
// PROVIDER_TRIAGE effective now, used to end triage (A036).
func (rd *ReferenceData) EndTriageReasons(now time.Time) []Concept {
	return rd.reasons(CodeSystemReferralCancellationReason, ReasonTypeProviderTriage, now)
}

func (rd *ReferenceData) reasons(t CodeSystemType, reasonType string, now time.Time) []Concept {
	cs, ok := rd.System(t)
	if !ok {
		return nil
	}
	var out []Concept
	for _, c := range cs.Current(now) {
		if c.ReasonType == reasonType {
			out = append(out, c)
		}
	}
	return out
}

// ContactDays returns the working days within which a patient can expect
// contact for the priority: triageContactDays for referrals awaiting triage,
// deferToProviderContactDays for referrals deferred to the provider. ok is
// false when the reference data has no figure for the priority.
func (rd *ReferenceData) ContactDays(p Priority, deferred bool) (days int, ok bool) {
	cs, found := rd.System(CodeSystemPriority)
	if !found {
		return 0, false
	}
	c, found := cs.Lookup(string(p))
	if !found {
		return 0, false
	}
	if deferred {
		return c.DeferToProviderContactDays, c.DeferToProviderContactDays > 0
	}
	return c.TriageContactDays, c.TriageContactDays > 0
}

// ReasonLabel is a reject or end-triage reason code in words: its display
// text from the reference data (either cancellation-reason code system,
// expired codes included so old decisions still read), or, when the
// reference data does not have it, the code itself in sentence case
// ("FURTHER_INFORMATION_REQUIRED" reads "Further information required").
func (rd *ReferenceData) ReasonLabel(code string) string {
	if code == "" {
		return ""
	}
	for _, t := range []CodeSystemType{CodeSystemAppointmentCancellationReason, CodeSystemReferralCancellationReason} {
		if cs, ok := rd.System(t); ok {
			if c, ok := cs.Lookup(code); ok && strings.TrimSpace(c.Display) != "" {
				return c.Display
			}
		}
	}
	return CodeWords(code)
}

// CodeWords writes an upper-case e-RS code in sentence case, underscores
// and hyphens as spaces ("FURTHER_INFORMATION_REQUIRED" reads "Further
// information required"). A code with lower-case letters is returned as it
// is.
func CodeWords(code string) string {
	if code == "" || strings.ToUpper(code) != code {
		return code
	}
	words := strings.Fields(strings.NewReplacer("_", " ", "-", " ").Replace(code))
	if len(words) == 0 {
		return code
	}
	s := strings.ToLower(strings.Join(words, " "))
	return strings.ToUpper(s[:1]) + s[1:]
}
