package fhir

import (
	"errors"
	"strings"
	"time"
)

const (
	sd = "https://fhir.nhs.uk/STU3/StructureDefinition/"
	cs = "https://fhir.nhs.uk/STU3/CodeSystem/"
)

// Extension URLs e-RS uses.
const (
	ExtReferralsForReviewItem     = sd + "Extension-eRS-ReferralsforReview-WorkListItem-1"
	ExtAppointmentSlotIssuesItem  = sd + "Extension-eRS-AppointmentSlotIssues-WorkListItem-1"
	ExtAppointment                = sd + "Extension-eRS-Appointment-1"
	ExtAppointmentReference       = sd + "Extension-eRS-Appointment-Reference-1"
	ExtClinicalInfoFirstSubmitted = sd + "Extension-eRS-ClinicalInfoFirstSubmitted-1"
	ExtClinicalInfoLastUpdated    = sd + "Extension-eRS-ClinicalInfoLastUpdated-1"
	ExtPathwayStart               = sd + "Extension-eRS-eReferralPathwayStart-1"
	ExtReferralPriority           = sd + "Extension-eRS-ReferralPriority-1"
	ExtReferralShortlist          = sd + "Extension-eRS-ReferralShortlist-1"
	ExtCommissioningRuleOrg       = sd + "Extension-eRS-Commissioning-Rule-Org-1"
	ExtReferralState              = sd + "Extension-eRS-ReferralState-1"
	ExtPatientAdditionalReq       = sd + "Extension-eRS-PatientAdditionalRequirement-1"
	ExtAvailabilityStatus         = sd + "Extension-eRS-AvailabilityStatus-1"
	ExtAttachedBy                 = sd + "Extension-eRS-AttachedBy-1"
	ExtAttachedByOrganisation     = sd + "Extension-eRS-AttachedByOrganisation-1"
	ExtShortlistSearchCriteria    = sd + "Extension-eRS-Shortlist-SearchCriteria-1"
)

// Profile URLs e-RS puts in meta.profile.
const (
	ProfileFetchWorklistParameters      = sd + "eRS-FetchWorklist-Parameters-1"
	ProfileFetchWorklistList            = sd + "eRS-FetchWorklist-List-1"
	ProfileReferralRequest              = sd + "eRS-ReferralRequest-1"
	ProfileDocumentReference            = sd + "eRS-DocumentReference-1"
	ProfileAppointment                  = sd + "eRS-Appointment-1"
	ProfilePatient                      = sd + "eRS-Patient-1"
	ProfilePractitioner                 = sd + "eRS-Practitioner-1"
	ProfileShortlist                    = sd + "eRS-Shortlist-List-1"
	ProfileServiceSearchCriteria        = sd + "eRS-ServiceSearchCriteria-Parameters-1"
	ProfileRejectReferral               = sd + "eRS-RejectReferral-Parameters-1"
	ProfileCancelAppointmentActionLater = sd + "eRS-cancelAppointmentActionLater-Parameters-1"
	ProfileRecordReviewOutcome          = sd + "eRS-RecordReviewOutcome-Parameters-1"
	ProfileCancelReferralRequest        = sd + "eRS-CancelReferral-Request-Parameters-1"
	ProfileCancelReferralResponse       = sd + "eRS-CancelReferral-Response-Parameters-1"
	ProfileOperationOutcome             = sd + "eRS-OperationOutcome-1"
	ProfileTask                         = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Task-1"
	ProfileBundle                       = "http://hl7.org/fhir/STU3/StructureDefinition/Bundle"
)

// Code system URLs used here besides those in internal/triage.
const (
	SystemReferralListSelector      = cs + "eRS-ReferralListSelector-1"
	SystemAssignedIndicator         = cs + "eRS-AssignedIndicator-1"
	SystemClinicalInformationStatus = cs + "eRS-ClinicalInformationStatus-1"
	SystemAPIErrorCode              = cs + "eRS-APIErrorCode-1"
	SystemConceptProperties         = cs + "eRS-Concept-Properties-1"
	SystemBusinessFunctionSTU3      = cs + "eRS-BusinessFunction-1"
	SystemClinicType                = cs + "eRS-ClinicType-1"
	SystemR4HTTPErrorCodes          = "https://fhir.nhs.uk/CodeSystem/http-error-codes"
	SystemR4APIErrorOrWarning       = "https://fhir.nhs.uk/CodeSystem/NHSD-API-ErrorOrWarningCode"
	SystemR4ERSErrorCodes           = "https://fhir.nhs.uk/CodeSystem/ers-error-codes"
)

// Identifier systems.
const (
	IDNHSNumber   = "http://fhir.nhs.net/Id/nhs-number"
	IDSDSUser     = "http://fhir.nhs.net/Id/sds-user-id"
	IDSDSUserR4   = "https://fhir.nhs.uk/Id/sds-user-id"
	IDService     = "http://fhir.nhs.net/Id/ers-service"
	IDODS         = "https://fhir.nhs.uk/Id/ods-organization-code"
	IDODSLocation = "https://directory.spineservices.nhs.uk/STU3/Organization"
	IDRequestID   = "https://fhir.nhs.uk/Id/ers-request-id"
	IDUBRN        = "https://fhir.nhs.uk/Id/UBRN"
)

// ErrNotResource is wrapped by decoders given JSON of the wrong resource type.
var ErrNotResource = errors.New("unexpected resource type")

// refID returns the id of a literal reference "Type/{id}" (or
// "Type/{id}/_history/{v}"), and whether the reference has that type.
func refID(ref, typ string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, typ+"/")
	if !ok || rest == "" {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, id != ""
}

// BinaryID returns the attachment id of a DocumentReference URL
// ("Binary/{id}"), the {id} of A042 and A006. A bare id is returned as is.
func BinaryID(url string) string {
	if id, ok := refID(url, "Binary"); ok {
		return id
	}
	if strings.Contains(url, "/") {
		return ""
	}
	return url
}

// Time layouts e-RS uses.
const (
	layoutDateTime = "2006-01-02T15:04:05.000Z07:00"
	layoutDate     = "2006-01-02"
	// layoutIndexed is how e-RS examples write a provider attachment's
	// indexed time (microseconds, numeric zone).
	layoutIndexed = "2006-01-02T15:04:05.000000-07:00"
)

var errBadTime = errors.New("invalid date-time")

// parseTime parses a FHIR dateTime, instant or date (also partial dates
// "2006-01" and "2006"). The empty string gives the zero time. Results are in
// UTC; a date without a time is midnight UTC.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", layoutDate, "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, errBadTime
			}
			return t, nil
		}
	}
	return time.Time{}, errBadTime
}

// formatDateTime writes a FHIR dateTime in UTC at millisecond precision, as
// e-RS does; the zero time gives "".
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layoutDateTime)
}

// formatDate writes a FHIR date (the UTC calendar date); the zero time gives "".
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layoutDate)
}

func ptr[T any](v T) *T { return &v }
