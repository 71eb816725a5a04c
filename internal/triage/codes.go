package triage

import (
	"fmt"
	"strings"
)

// Coding is a coded value: a code within a code system, with an optional
// human-readable display. It mirrors a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// IsZero reports whether the coding carries no code.
func (c Coding) IsZero() bool { return c.Code == "" }

// Label returns the display text if there is one, otherwise the code.
func (c Coding) Label() string {
	if c.Display != "" {
		return c.Display
	}
	return c.Code
}

// Code system URLs used by e-RS for fixed value sets.
const (
	SystemPriority             = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1"
	SystemReferralType         = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralType-1"
	SystemReferralState        = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralState-1"
	SystemRequestContextStatus = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-RequestContextStatus-1"
	SystemAvailabilityStatus   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AvailabilityStatus-1"
	SystemAttachmentType       = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AttachmentType-1"
	SystemReviewOutcome        = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewOutcome-1"
	SystemReviewReason         = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewReason-1"
	SystemBusinessFunction     = "https://fhir.nhs.uk/CodeSystem/eRS-BusinessFunction-1"
	SystemAvailableActions     = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AvailableActionsForUser-1"
)

// Priority is the clinical priority of a referral (eRS-Priority-1).
type Priority string

// The e-RS priorities.
const (
	PriorityRoutine     Priority = "ROUTINE"
	PriorityUrgent      Priority = "URGENT"
	PriorityTwoWeekWait Priority = "TWO_WEEK_WAIT"
)

// Priorities lists every priority in clinical order, most urgent first.
var Priorities = []Priority{PriorityTwoWeekWait, PriorityUrgent, PriorityRoutine}

// ParsePriority parses an eRS-Priority-1 code.
func ParsePriority(code string) (Priority, error) {
	switch p := Priority(strings.TrimSpace(code)); p {
	case PriorityRoutine, PriorityUrgent, PriorityTwoWeekWait:
		return p, nil
	}
	return "", fmt.Errorf("unknown priority %q", code)
}

// Rank orders priorities clinically: 0 for 2WW, 1 for urgent, 2 for routine
// and 3 for anything unknown (which sorts last but is never hidden).
func (p Priority) Rank() int {
	switch p {
	case PriorityTwoWeekWait:
		return 0
	case PriorityUrgent:
		return 1
	case PriorityRoutine:
		return 2
	}
	return 3
}

// Label is the short name clinicians use for the priority.
func (p Priority) Label() string {
	switch p {
	case PriorityTwoWeekWait:
		return "2WW"
	case PriorityUrgent:
		return "Urgent"
	case PriorityRoutine:
		return "Routine"
	}
	if p == "" {
		return "Unknown"
	}
	return string(p)
}

// ReferralType says whether a referral on Referrals for Review is booked into
// a bookable service or waiting for triage in a Referral Assessment Service
// (eRS-ReferralType-1).
type ReferralType string

// The referral types on the Referrals for Review worklist.
const (
	ReferralTypeAppointment    ReferralType = "APPOINTMENT"
	ReferralTypeTriageDeferral ReferralType = "TRIAGE_DEFERRAL"
)

// ParseReferralType parses an eRS-ReferralType-1 code.
func ParseReferralType(code string) (ReferralType, error) {
	switch t := ReferralType(strings.TrimSpace(code)); t {
	case ReferralTypeAppointment, ReferralTypeTriageDeferral:
		return t, nil
	}
	return "", fmt.Errorf("unknown referral type %q", code)
}

// Label is the short name clinicians use for the referral type.
func (t ReferralType) Label() string {
	switch t {
	case ReferralTypeAppointment:
		return "Booked"
	case ReferralTypeTriageDeferral:
		return "RAS"
	}
	return "Unknown"
}

// BookingKind says how a booked referral's appointment was made: directly
// bookable services (DBS) book a slot in e-RS; indirectly bookable services
// (IBS) book in the provider's PAS, so cancelling needs to say whether the PAS
// appointment was cancelled too.
type BookingKind string

// The booking kinds.
const (
	BookingUnknown  BookingKind = ""
	BookingDirect   BookingKind = "DBS"
	BookingIndirect BookingKind = "IBS"
)

// ReferralState is the "at a glance" e-RS state of a referral
// (eRS-ReferralState-1).
type ReferralState string

// The e-RS referral states.
const (
	StateApptCancelledByPatient  ReferralState = "APPT_CANCELLED_BY_PATIENT"
	StateApptCancelledByProvider ReferralState = "APPT_CANCELLED_BY_PROVIDER"
	StateAssessmentResult        ReferralState = "ASSESSMENT_RESULT"
	StateAwaitingTriage          ReferralState = "AWAITING_TRIAGE"
	StateBooked                  ReferralState = "BOOKED"
	StateCancelledReferral       ReferralState = "CANCELLED_REFERRAL"
	StateDeferredToProvider      ReferralState = "DEFERRED_TO_PROVIDER"
	StateDidNotAttend            ReferralState = "DID_NOT_ATTEND"
	StateNotBooked               ReferralState = "NOT_BOOKED"
	StateRejected                ReferralState = "REJECTED"
	StateTriageResponse          ReferralState = "TRIAGE_RESPONSE"
	StateTriagedProviderToAction ReferralState = "TRIAGED_PROVIDER_TO_ACTION"
)

// ReferralStates lists every e-RS referral state.
var ReferralStates = []ReferralState{
	StateApptCancelledByPatient, StateApptCancelledByProvider, StateAssessmentResult,
	StateAwaitingTriage, StateBooked, StateCancelledReferral, StateDeferredToProvider,
	StateDidNotAttend, StateNotBooked, StateRejected, StateTriageResponse,
	StateTriagedProviderToAction,
}

// ParseReferralState parses an eRS-ReferralState-1 code. The referrer
// worklists spell two states without the T (APP_CANCELLED_BY_PATIENT,
// APP_CANCELLED_BY_PROVIDER); both spellings are accepted.
func ParseReferralState(code string) (ReferralState, error) {
	c := strings.TrimSpace(code)
	switch c {
	case "APP_CANCELLED_BY_PATIENT":
		return StateApptCancelledByPatient, nil
	case "APP_CANCELLED_BY_PROVIDER":
		return StateApptCancelledByProvider, nil
	}
	for _, s := range ReferralStates {
		if string(s) == c {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown referral state %q", code)
}

// Label is a plain-English description of the state.
func (s ReferralState) Label() string {
	switch s {
	case StateApptCancelledByPatient:
		return "Appointment cancelled by patient"
	case StateApptCancelledByProvider:
		return "Appointment cancelled by provider"
	case StateAssessmentResult:
		return "Assessment result"
	case StateAwaitingTriage:
		return "Awaiting triage"
	case StateBooked:
		return "Booked"
	case StateCancelledReferral:
		return "Referral cancelled"
	case StateDeferredToProvider:
		return "Deferred to provider"
	case StateDidNotAttend:
		return "Did not attend"
	case StateNotBooked:
		return "Not booked"
	case StateRejected:
		return "Rejected (returned to referrer)"
	case StateTriageResponse:
		return "Returned to referrer with advice"
	case StateTriagedProviderToAction:
		return "Triaged: provider to action"
	}
	if s == "" {
		return "Unknown"
	}
	return string(s)
}

// RequestContextStatus tells whether a referral on Referrals for Review has
// changed since a clinician last reviewed it (eRS-RequestContextStatus-1).
type RequestContextStatus string

// The request context statuses.
const (
	ContextNeverReviewed            RequestContextStatus = "NEVER_REVIEWED"
	ContextLetterChanged            RequestContextStatus = "LETTER_CHANGED"
	ContextPriorityChanged          RequestContextStatus = "PRIORITY_CHANGED"
	ContextPriorityAndLetterChanged RequestContextStatus = "PRIORITY_AND_LETTER_CHANGED"
)

// RequestContextStatuses lists every request context status.
var RequestContextStatuses = []RequestContextStatus{
	ContextNeverReviewed, ContextLetterChanged, ContextPriorityChanged, ContextPriorityAndLetterChanged,
}

// ParseRequestContextStatus parses an eRS-RequestContextStatus-1 code.
func ParseRequestContextStatus(code string) (RequestContextStatus, error) {
	for _, s := range RequestContextStatuses {
		if string(s) == strings.TrimSpace(code) {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown request context status %q", code)
}

// LetterChanged reports whether the referral letter (clinical information)
// changed since the last review.
func (s RequestContextStatus) LetterChanged() bool {
	return s == ContextLetterChanged || s == ContextPriorityAndLetterChanged
}

// PriorityChanged reports whether the priority changed since the last review.
func (s RequestContextStatus) PriorityChanged() bool {
	return s == ContextPriorityChanged || s == ContextPriorityAndLetterChanged
}

// ChangedSinceReview reports whether the letter or the priority changed since
// a clinician last reviewed the referral.
func (s RequestContextStatus) ChangedSinceReview() bool {
	return s.LetterChanged() || s.PriorityChanged()
}

// Label is a plain-English description of the status.
func (s RequestContextStatus) Label() string {
	switch s {
	case ContextNeverReviewed:
		return "Never reviewed"
	case ContextLetterChanged:
		return "Letter changed"
	case ContextPriorityChanged:
		return "Priority changed"
	case ContextPriorityAndLetterChanged:
		return "Priority and letter changed"
	}
	return "Unknown"
}

// AvailabilityStatus is whether an attachment can be downloaded yet
// (eRS-AvailabilityStatus-1). Attachments are scanned for malware before they
// become available.
type AvailabilityStatus string

// The attachment availability statuses.
const (
	AvailabilityAvailable        AvailabilityStatus = "AVAILABLE"
	AvailabilityPending          AvailabilityStatus = "PENDING"
	AvailabilityThreatsFound     AvailabilityStatus = "THREATS_FOUND"
	AvailabilityValidationFailed AvailabilityStatus = "VALIDATION_FAILED"
)

// ParseAvailabilityStatus parses an eRS-AvailabilityStatus-1 code. The e-RS
// prose writes "THREATS FOUND" with a space; both spellings are accepted.
func ParseAvailabilityStatus(code string) (AvailabilityStatus, error) {
	c := strings.ReplaceAll(strings.TrimSpace(code), " ", "_")
	switch s := AvailabilityStatus(c); s {
	case AvailabilityAvailable, AvailabilityPending, AvailabilityThreatsFound, AvailabilityValidationFailed:
		return s, nil
	}
	return "", fmt.Errorf("unknown availability status %q", code)
}

// Meaning explains the status to a clinician, including what to do next.
func (s AvailabilityStatus) Meaning() string {
	switch s {
	case AvailabilityAvailable:
		return "Available"
	case AvailabilityPending:
		return "Not yet available: e-RS is still scanning this file for viruses. Triage Desk will try again in a few minutes."
	case AvailabilityThreatsFound:
		return "Blocked: e-RS found a threat in this file, so it cannot be opened. Ask the referrer to send it again."
	case AvailabilityValidationFailed:
		return "Blocked: e-RS could not validate this file, so it cannot be opened. Ask the referrer to send it again."
	}
	return "Availability unknown: the file may not be viewable. Check it in e-RS."
}

// AttachmentType says who attached a document (eRS-AttachmentType-1).
type AttachmentType string

// The attachment types.
const (
	AttachmentReferrer         AttachmentType = "REFERRER"
	AttachmentProvider         AttachmentType = "PROVIDER"
	AttachmentAdviceRequest    AttachmentType = "ADVICE_REQUEST"
	AttachmentGuidanceResponse AttachmentType = "GUIDANCE_RESPONSE"
)

// ReviewOutcome is a triage outcome recorded with A028 (eRS-ReviewOutcome-1).
// A028 accepts only the first two; the others appear as state reasons set by
// other operations.
type ReviewOutcome string

// The review outcomes.
const (
	OutcomeReturnToReferrerWithAdvice   ReviewOutcome = "RETURN_TO_REFERRER_WITH_ADVICE"
	OutcomeAcceptReferBookLater         ReviewOutcome = "ACCEPT_REFER_BOOK_LATER"
	OutcomeCancelAppointmentActionLater ReviewOutcome = "CANCEL_APPOINTMENT_ACTION_LATER"
	OutcomeProviderConvertedAdvice      ReviewOutcome = "PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER"
)

// Label is the plain-English name of the outcome.
func (o ReviewOutcome) Label() string {
	switch o {
	case OutcomeReturnToReferrerWithAdvice:
		return "Return to referrer with advice"
	case OutcomeAcceptReferBookLater:
		return "Accept – book later"
	case OutcomeCancelAppointmentActionLater:
		return "Appointment cancelled, action later"
	case OutcomeProviderConvertedAdvice:
		return "Converted from advice and guidance"
	}
	return string(o)
}

// Recordable reports whether A028 accepts the outcome.
func (o ReviewOutcome) Recordable() bool {
	return o == OutcomeReturnToReferrerWithAdvice || o == OutcomeAcceptReferBookLater
}

// BusinessFunction is an e-RS role (eRS-BusinessFunction-1), sent in the
// NHSD-eRS-Business-Function header.
type BusinessFunction string

// The business functions a provider-side vetting app uses, plus the others
// e-RS defines so they can be shown if a user holds them.
const (
	RoleServiceProviderClinician      BusinessFunction = "SERVICE_PROVIDER_CLINICIAN"
	RoleServiceProviderClinicianAdmin BusinessFunction = "SERVICE_PROVIDER_CLINICIAN_ADMIN"
	RoleServiceProviderAdmin          BusinessFunction = "SERVICE_PROVIDER_ADMIN"
	RoleReferringClinician            BusinessFunction = "REFERRING_CLINICIAN"
	RoleReferringClinicianAdmin       BusinessFunction = "REFERRING_CLINICIAN_ADMIN"
	RoleReferringAdmin                BusinessFunction = "REFERRING_ADMIN"
)

// CanVet reports whether the role may read referral details and record
// clinical decisions (SPC, or SPCA acting on behalf of an SPC).
func (b BusinessFunction) CanVet() bool {
	return b == RoleServiceProviderClinician || b == RoleServiceProviderClinicianAdmin
}

// Label is the plain-English name of the role.
func (b BusinessFunction) Label() string {
	switch b {
	case RoleServiceProviderClinician:
		return "Service provider clinician"
	case RoleServiceProviderClinicianAdmin:
		return "Service provider clinician admin"
	case RoleServiceProviderAdmin:
		return "Service provider admin"
	case RoleReferringClinician:
		return "Referring clinician"
	case RoleReferringClinicianAdmin:
		return "Referring clinician admin"
	case RoleReferringAdmin:
		return "Referring admin"
	}
	return string(b)
}

// ListType selects a provider worklist (eRS-ReferralListSelector-1).
type ListType string

// The provider worklists.
const (
	ListReferralsForReview    ListType = "REFERRALS_FOR_REVIEW"
	ListAppointmentSlotIssues ListType = "APPOINTMENT_SLOT_ISSUES"
)

// Action is an action e-RS says the user may take on a referral now
// (eRS-AvailableActionsForUser-1, from A029). Never cache these.
type Action string

// The available actions.
const (
	ActionRecordReviewOutcome   Action = "RECORD_REVIEW_OUTCOME"
	ActionCancelReferral        Action = "CANCEL_REFERRAL"
	ActionCreateAppointment     Action = "CREATE_APPOINTMENT"
	ActionChangeShortlist       Action = "CHANGE_SHORTLIST"
	ActionChangeShortlistTriage Action = "CHANGE_SHORTLIST_AND_SEND_FOR_TRIAGE"
	ActionCancelDBAppointment   Action = "CANCEL_DIRECTLY_BOOKED_APPOINTMENT"
)
