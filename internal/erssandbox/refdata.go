package erssandbox

import (
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// codeSystemURL is the URL e-RS gives a reference-data code system: the API's
// own base URL followed by /STU3/CodeSystem/{TYPE}.
func codeSystemURL(base string, t triage.CodeSystemType) string {
	return strings.TrimSuffix(base, "/") + "/STU3/CodeSystem/" + string(t)
}

// codingIn reports whether a coding sent by a client belongs to the code
// system: e-RS examples use a placeholder base URL ("_baseurl_"), so only the
// /STU3/CodeSystem/{TYPE} suffix is compared.
func codingIn(c triage.Coding, t triage.CodeSystemType) bool {
	return strings.HasSuffix(c.System, "/STU3/CodeSystem/"+string(t))
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var (
	since2004 = day(2004, time.June, 1)
	since2019 = day(2019, time.July, 23)
)

// specialtyDef is a specialty with its clinic types.
type specialtyDef struct {
	Code, Display string
	ClinicTypes   [][2]string // code, display
}

// specialties are the specialties of the synthetic services, with their
// clinic types.
var specialties = []specialtyDef{
	{"CARDIOLOGY", "Cardiology", [][2]string{{"HEART_FAILURE", "Heart Failure"}, {"CHEST_PAIN", "Chest Pain"}, {"ARRHYTHMIA", "Arrhythmia"}}},
	{"DERMATOLOGY", "Dermatology", [][2]string{{"DERMATOLOGY_GENERAL", "General Dermatology"}, {"SKIN_LESION", "Skin Lesion"}}},
	{"GASTROENTEROLOGY", "Gastroenterology", [][2]string{{"GASTRO_GENERAL", "General Gastroenterology"}, {"LOWER_GI", "Lower GI"}}},
	{"NEUROLOGY", "Neurology", [][2]string{{"NEUROLOGY_GENERAL", "General Neurology"}, {"HEADACHE", "Headache"}}},
	{"TRAUMA_AND_ORTHOPAEDICS", "Trauma and Orthopaedics", [][2]string{{"KNEE", "Knee"}, {"HIP", "Hip"}}},
	{"RESPIRATORY_MEDICINE", "Respiratory Medicine", [][2]string{{"RESPIRATORY_GENERAL", "General Respiratory"}, {"BREATHLESSNESS", "Breathlessness"}}},
	{"ENT", "Ear, Nose and Throat", [][2]string{{"ENT_GENERAL", "General ENT"}, {"HEAD_AND_NECK", "Head and Neck"}}},
	{"UROLOGY", "Urology", [][2]string{{"UROLOGY_GENERAL", "General Urology"}, {"HAEMATURIA", "Haematuria"}}},
	{"GYNAECOLOGY", "Gynaecology", [][2]string{{"GYNAECOLOGY_GENERAL", "General Gynaecology"}, {"MENSTRUAL_DISORDERS", "Menstrual Disorders"}}},
	{"OPHTHALMOLOGY", "Ophthalmology", [][2]string{{"OPHTHALMOLOGY_GENERAL", "General Ophthalmology"}, {"CATARACT", "Cataract"}}},
}

func specialtyByCode(code string) (specialtyDef, bool) {
	for _, s := range specialties {
		if s.Code == code {
			return s, true
		}
	}
	return specialtyDef{}, false
}

// Reference-data codes the sandbox's rules and tests rely on.
const (
	// ExpiredRejectReason is a PROVIDER_REJECT reason whose effectiveTo is
	// in the past: A004 still returns it, clients must filter it out, and
	// A014 refuses it.
	ExpiredRejectReason = "CLINICAL_CRITERIA_NOT_MET"
	// ExpiredEndTriageReason is a PROVIDER_TRIAGE reason that has expired.
	ExpiredEndTriageReason = "TRIAGE_NOT_APPROPRIATE"
)

func reason(code, display, typ string, from, to time.Time, commentMandatory bool, bfs, usage []string) triage.Concept {
	return triage.Concept{Code: code, Display: display, ReasonType: typ, EffectiveFrom: from, EffectiveTo: to,
		CommentIsMandatory: commentMandatory, BusinessFunctions: bfs, Usage: usage}
}

// CodeSystems returns the sandbox's reference data (A004) for all six code
// systems, with URLs under base (the FHIR base URL). The data is synthetic
// but shaped like e-RS's: it includes expired codes that clients must filter
// out, PROVIDER_REJECT reasons with and without commentIsMandatory, and the
// PRIORITY contact days.
func CodeSystems(base string) []triage.CodeSystem {
	var out []triage.CodeSystem
	add := func(t triage.CodeSystemType, name string, cs []triage.Concept) {
		out = append(out, triage.CodeSystem{Type: t, URL: codeSystemURL(base, t), Name: name, Concepts: cs})
	}

	var spec, clinic []triage.Concept
	for _, s := range specialties {
		spec = append(spec, triage.Concept{Code: s.Code, Display: s.Display, EffectiveFrom: since2004})
		for _, ct := range s.ClinicTypes {
			clinic = append(clinic, triage.Concept{Code: ct[0], Display: ct[1], EffectiveFrom: since2004,
				Specialty: triage.Coding{System: codeSystemURL(base, triage.CodeSystemSpecialty), Code: s.Code}})
		}
	}
	spec = append(spec, triage.Concept{Code: "ADULT_MENTAL_ILLNESS", Display: "Adult Mental Illness", EffectiveFrom: since2004, EffectiveTo: day(2008, time.May, 9)})
	clinic = append(clinic, triage.Concept{Code: "GENERAL_ADULT_MENTAL_ILLNESS", Display: "General Adult Mental Illness",
		EffectiveFrom: since2004, EffectiveTo: day(2008, time.May, 9),
		Specialty: triage.Coding{System: codeSystemURL(base, triage.CodeSystemSpecialty), Code: "ADULT_MENTAL_ILLNESS"}})
	add(triage.CodeSystemSpecialty, "e-RS Specialty", spec)
	add(triage.CodeSystemClinicType, "e-RS Clinic Type", clinic)

	spcOnly := []string{string(triage.RoleServiceProviderClinician)}
	reject := []string{"REJECT"}
	rc := []string{string(triage.RoleReferringClinician)}
	add(triage.CodeSystemAppointmentCancellationReason, "e-RS Appointment Cancellation Reason", []triage.Concept{
		reason("FURTHER_INFORMATION_REQUIRED", "Further information required", triage.ReasonTypeProviderReject, since2004, time.Time{}, true, spcOnly, reject),
		reason("OTHER", "Other reason", triage.ReasonTypeProviderReject, since2004, time.Time{}, false, spcOnly, reject),
		reason("OUTPATIENT_APPT_NOT_REQUIRED", "Outpatient appointment not required", triage.ReasonTypeProviderReject, since2004, time.Time{}, false, spcOnly, reject),
		reason("SERVICE_INAPPROPRIATE", "Inappropriate service", triage.ReasonTypeProviderReject, since2004, time.Time{}, false, spcOnly, reject),
		reason("SERVICE_PREREQUISITES_NOT_COMPLETE", "Pre-requisites for service not complete", triage.ReasonTypeProviderReject, since2004, time.Time{}, true, spcOnly, reject),
		reason(ExpiredRejectReason, "Clinical referral criteria not met", triage.ReasonTypeProviderReject, since2004, day(2019, time.March, 31), false, spcOnly, reject),
		reason("CLINIC_CANCELLED", "Clinic cancelled", "PROVIDER", since2004, time.Time{}, false, nil, nil),
		reason("CLINIC_OVERRUN", "Clinic overrun", "PROVIDER", since2004, time.Time{}, false, nil, nil),
		reason("PRIORITY_INAPPROPRIATE", "Inappropriate priority", "PROVIDER", since2004, time.Time{}, true, nil, nil),
		reason("PROVIDER_CANCELLATION", "Other - Provider cancellation", "PROVIDER", since2004, time.Time{}, true, nil, nil),
		reason("SLOT_CANCELLED", "Slot cancelled", "PROVIDER", since2004, time.Time{}, false, nil, nil),
		reason("REDIRECTED_APPROPRIATE_CLINIC", "Redirected to more appropriate clinic", "UNKNOWN", since2004, time.Time{}, true, nil, nil),
		reason("REDIRECTED_APPROPRIATE_SPECIALTY", "Redirected to more appropriate specialty", "UNKNOWN", since2004, time.Time{}, true, nil, nil),
		reason("REDIRECTED_OTHER", "Redirected due to other reason", "UNKNOWN", since2004, time.Time{}, true, nil, nil),
		reason("PATIENT_HOLIDAY", "Patient on holiday", "PATIENT", since2004, time.Time{}, false, rc, []string{"CANCEL"}),
		reason("PATIENT_ILL", "Patient is sick", "PATIENT", since2004, time.Time{}, false, rc, []string{"CANCEL"}),
		reason("PATIENT_OTHER_ENGAGEMENT", "Patient - Other more pressing engagement", "PATIENT", since2004, time.Time{}, true, rc, []string{"CANCEL"}),
		reason("WRONG_PROVIDER", "Appt. made with wrong provider", "UNKNOWN", day(2004, time.February, 13), day(2004, time.June, 13), false, nil, nil),
	})

	paa := []string{"PROVIDER_AUTHORISED_APPLICATION"}
	rcu := []string{"CANCEL_REFERRAL"}
	add(triage.CodeSystemReferralCancellationReason, "e-RS ReferralRequest Cancellation Reason", []triage.Concept{
		reason("BOOKED_CLINICAL_NEED", "Booked more urgently due to clinical need", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("COMMUNITY_SERVICE_NA", "Sent to community service not available in this system", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("COMPLEX_PATHWAY", "Complex pathway, multiple appointments needed", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("NO_LONGER_REQUIRED", "Referral is no longer required", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("OTHER_OTHER", "Other reason", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("OUTPATIENT_CLINICIAN_NA", "Sent to outpatient service as named clinician is not available in this system", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("OUTPATIENT_SERVICE_NA", "Sent to outpatient service not available in this system", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("STRAIGHT_TO_TEST", "Sent straight to test / procedure", triage.ReasonTypeProviderTriage, since2019, time.Time{}, true, paa, nil),
		reason("TRIAGE_ENDED", "Triage ended", triage.ReasonTypeProviderTriage, since2019, time.Time{}, false, paa, nil),
		reason(ExpiredEndTriageReason, "Triage not appropriate for this service", triage.ReasonTypeProviderTriage, since2019, day(2021, time.March, 31), false, paa, nil),
		reason("BOOKED_OUTSIDE_CAB", "Patient booked outside NHS e-Referral Service", "PROVIDER", day(2007, time.September, 14), time.Time{}, false, rc, rcu),
		reason("INTEND_PRIVATE", "Patient will go to a private clinic", "PATIENT", since2004, time.Time{}, false, rc, rcu),
		reason("PATIENT_DIED", "Patient died", "PATIENT", since2004, time.Time{}, false, rc, rcu),
		reason("PATIENT_REQUEST_CANCELLATION_OTHER", "Other", "PATIENT", since2004, time.Time{}, true, rc, rcu),
		reason("TREATMENT_NO_LONGER_REQUIRED", "Referral no longer needed", "PATIENT", since2004, time.Time{}, false, rc, rcu),
		reason("RAISED_IN_ERROR", "Referral created by mistake", "UNKNOWN", day(2007, time.September, 14), time.Time{}, false, rc, rcu),
		reason("REFERRER_CANCELLATION", "Other - Referrer request cancellation", "UNKNOWN", day(2007, time.September, 14), time.Time{}, false, rc, rcu),
		reason("PROVIDER_CANCELLATION", "Other - Provider Cancellation", "UNKNOWN", since2004, time.Time{}, false, nil, nil),
	})

	add(triage.CodeSystemAppointmentNonAttendanceReason, "e-RS Appointment Non-attendance Reason", []triage.Concept{
		{Code: "CANCELLED_TOO_LATE", Display: "Cancelled too late", EffectiveFrom: since2004},
		{Code: "ARRIVED_TOO_LATE", Display: "Patient arrived too late to be seen", EffectiveFrom: since2004},
		{Code: "PATIENT_FORGOT", Display: "Patient forgot about appointment", EffectiveFrom: since2004},
		{Code: "PATIENT_ILL", Display: "Patient ill", EffectiveFrom: since2004},
		{Code: "UNKNOWN", Display: "Reason not known", EffectiveFrom: since2004},
		{Code: "NOT_SPECIFIED", Display: "Not specified", EffectiveFrom: since2004},
		{Code: "OTHER_MIGRATION_FROM_CAB", Display: "Other (Migration from CAB)", EffectiveFrom: since2004, EffectiveTo: day(2012, time.January, 31)},
	})

	add(triage.CodeSystemPriority, "e-RS Priority", []triage.Concept{
		{Code: string(triage.PriorityRoutine), Display: "Routine", EffectiveFrom: since2004, DeferToProviderContactDays: 40, TriageContactDays: 40},
		{Code: string(triage.PriorityUrgent), Display: "Urgent", EffectiveFrom: since2004, DeferToProviderContactDays: 10, TriageContactDays: 5},
		{Code: string(triage.PriorityTwoWeekWait), Display: "Two Week Wait", EffectiveFrom: since2004, DeferToProviderContactDays: 5, TriageContactDays: 2},
	})
	return out
}
