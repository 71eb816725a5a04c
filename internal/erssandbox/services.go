package erssandbox

import "github.com/triagedesk/triagedesk/internal/triage"

// Service is a synthetic e-RS service (a clinic) that receives referrals.
type Service struct {
	triage.Service
	// Specialty and ClinicType are codes from the SPECIALTY and CLINIC-TYPE
	// code systems.
	Specialty  string `json:"specialty"`
	ClinicType string `json:"clinicType"`
	// Booking is DBS or IBS for bookable services, and BookingUnknown for a
	// Referral Assessment Service (RAS), whose referrals wait for triage.
	Booking triage.BookingKind `json:"booking,omitempty"`
	// ODS is the provider organisation; Location is the site (the A008
	// location filter).
	ODS      string `json:"ods"`
	Location string `json:"location"`
}

// RAS reports whether the service is a Referral Assessment Service.
func (s Service) RAS() bool { return s.Booking == triage.BookingUnknown }

func svc(id, name, specialty, clinic string, b triage.BookingKind, ods, loc string) Service {
	return Service{Service: triage.Service{ID: id, Name: name}, Specialty: specialty, ClinicType: clinic, Booking: b, ODS: ods, Location: loc}
}

// DefaultServices returns the sandbox's services: sixteen services in ten
// specialties at two provider organisations, a mix of directly bookable
// (DBS), indirectly bookable (IBS) and referral assessment (RAS) services.
func DefaultServices() []Service {
	const dbs, ibs, ras = triage.BookingDirect, triage.BookingIndirect, triage.BookingUnknown
	return []Service{
		svc("30001", "Rapid Access Chest Pain Clinic", "CARDIOLOGY", "CHEST_PAIN", dbs, ProviderODS, "R6901"),
		svc("30002", "Cardiology Referral Assessment Service", "CARDIOLOGY", "ARRHYTHMIA", ras, ProviderODS, "R6901"),
		svc("30003", "General Dermatology", "DERMATOLOGY", "DERMATOLOGY_GENERAL", ibs, ProviderODS, "R6902"),
		svc("30004", "Suspected Skin Cancer 2WW Clinic", "DERMATOLOGY", "SKIN_LESION", dbs, ProviderODS, "R6902"),
		svc("30005", "Gastroenterology Referral Assessment Service", "GASTROENTEROLOGY", "GASTRO_GENERAL", ras, ProviderODS, "R6901"),
		svc("30006", "Lower GI Suspected Cancer 2WW Clinic", "GASTROENTEROLOGY", "LOWER_GI", dbs, ProviderODS, "R6901"),
		svc("30007", "General Neurology", "NEUROLOGY", "NEUROLOGY_GENERAL", ibs, ProviderODS, "R6901"),
		svc("30008", "Headache Referral Assessment Service", "NEUROLOGY", "HEADACHE", ras, ProviderODS, "R6902"),
		svc("30009", "Knee and Hip Clinic", "TRAUMA_AND_ORTHOPAEDICS", "KNEE", dbs, ProviderODS, "R6902"),
		svc("30010", "Breathlessness Clinic", "RESPIRATORY_MEDICINE", "BREATHLESSNESS", ibs, ProviderODS, "R6901"),
		svc("30011", "ENT Referral Assessment Service", "ENT", "ENT_GENERAL", ras, ProviderODS, "R6902"),
		svc("30012", "Haematuria Clinic", "UROLOGY", "HAEMATURIA", dbs, ProviderODS, "R6901"),
		svc("40001", "Gynaecology Referral Assessment Service", "GYNAECOLOGY", "GYNAECOLOGY_GENERAL", ras, SecondProviderODS, "RCD01"),
		svc("40002", "General Ophthalmology", "OPHTHALMOLOGY", "OPHTHALMOLOGY_GENERAL", ibs, SecondProviderODS, "RCD01"),
		svc("40003", "Heart Failure Clinic", "CARDIOLOGY", "HEART_FAILURE", dbs, SecondProviderODS, "RCD01"),
		svc("40004", "Dermatology Referral Assessment Service", "DERMATOLOGY", "DERMATOLOGY_GENERAL", ras, SecondProviderODS, "RCD02"),
	}
}
