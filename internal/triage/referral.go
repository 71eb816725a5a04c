package triage

import (
	"strings"
	"time"
)

// Service identifies an e-RS service (clinic) that receives referrals.
type Service struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Label is the service name, or its id when e-RS gave no name.
func (s Service) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// WorklistItem is one entry of a provider worklist (A008). e-RS gives no
// patient demographics here: only the NHS number.
type WorklistItem struct {
	List                       ListType             `json:"list"`
	UBRN                       string               `json:"ubrn"`
	NHSNumber                  string               `json:"nhsNumber"`
	Priority                   Priority             `json:"priority"`
	Specialty                  Coding               `json:"specialty"`
	Service                    Service              `json:"service"`
	Type                       ReferralType         `json:"type,omitempty"`
	ContextStatus              RequestContextStatus `json:"contextStatus,omitempty"`
	PathwayStart               time.Time            `json:"pathwayStart"`
	ClinicalInfoFirstSubmitted time.Time            `json:"clinicalInfoFirstSubmitted,omitzero"`
	ClinicalInfoLastUpdated    time.Time            `json:"clinicalInfoLastUpdated,omitzero"`
	ClinicalInfoPrinted        bool                 `json:"clinicalInfoPrinted,omitempty"`
	AppointmentStart           time.Time            `json:"appointmentStart,omitzero"`
	NamedClinician             string               `json:"namedClinician,omitempty"`
	AllocatedClinician         string               `json:"allocatedClinician,omitempty"`
	// Version is referralRequestVersion: a hint only, because e-RS also bumps
	// it for internal processes. Zero on Appointment Slot Issues items.
	Version int `json:"version,omitempty"`

	// Appointment Slot Issues only.
	ReviewReason              string    `json:"reviewReason,omitempty"`
	UBRNReceived              time.Time `json:"ubrnReceived,omitzero"`
	PatientContactExpected    time.Time `json:"patientContactExpected,omitzero"`
	ClinicalInformationStatus string    `json:"clinicalInformationStatus,omitempty"`
}

// Received is when the clinical information was first submitted, falling back
// to the pathway start when e-RS did not say.
func (w WorklistItem) Received() time.Time {
	if !w.ClinicalInfoFirstSubmitted.IsZero() {
		return w.ClinicalInfoFirstSubmitted
	}
	return w.PathwayStart
}

// DaysWaiting is the number of whole days since the pathway (RTT clock)
// started, as of now. It is never negative.
func (w WorklistItem) DaysWaiting(now time.Time) int {
	if w.PathwayStart.IsZero() || now.Before(w.PathwayStart) {
		return 0
	}
	return int(now.Sub(w.PathwayStart).Hours() / 24)
}

// ReferralStatus is a referral's e-RS state with its reason and comments.
type ReferralStatus struct {
	State    ReferralState `json:"state"`
	Reason   Coding        `json:"reason,omitzero"`
	Comments string        `json:"comments,omitempty"`
}

// Appointment is the booked or deferred appointment on a referral.
type Appointment struct {
	ID      string      `json:"id,omitempty"`
	Start   time.Time   `json:"start,omitzero"`
	End     time.Time   `json:"end,omitzero"`
	Created time.Time   `json:"created,omitzero"`
	Booking BookingKind `json:"booking,omitempty"`
	// Reason is why the appointment exists, e.g. eRS-ReviewReason-1 TRIAGE
	// for a triage deferral.
	Reason Coding `json:"reason,omitzero"`
}

// Document is an attachment on a referral (a DocumentReference in A005). The
// clinical referral information (CRI) PDF is not a Document: it is generated
// by A007.
type Document struct {
	ID            string             `json:"id"`
	URL           string             `json:"url,omitempty"` // Binary/{id}
	Title         string             `json:"title,omitempty"`
	Description   string             `json:"description,omitempty"`
	ContentType   string             `json:"contentType,omitempty"`
	Size          int64              `json:"size,omitempty"`
	Availability  AvailabilityStatus `json:"availability,omitempty"`
	Type          AttachmentType     `json:"type,omitempty"`
	AttachedBy    string             `json:"attachedBy,omitempty"`
	AttachedByOrg string             `json:"attachedByOrg,omitempty"`
	Created       time.Time          `json:"created,omitzero"`
	Indexed       time.Time          `json:"indexed,omitzero"`
}

// Downloadable reports whether e-RS will serve the file now.
func (d Document) Downloadable() bool { return d.Availability == AvailabilityAvailable }

// Referral is the detail of one referral (A005), as the clinician sees it.
type Referral struct {
	UBRN      string `json:"ubrn"`
	RequestID string `json:"requestId,omitempty"` // r.<uuid>
	NHSNumber string `json:"nhsNumber"`
	// Version is meta.versionId, the version decisions are based on.
	Version      int            `json:"version"`
	Status       string         `json:"status,omitempty"` // active, cancelled, completed
	Priority     Priority       `json:"priority"`
	Specialty    Coding         `json:"specialty"`
	ClinicType   Coding         `json:"clinicType,omitzero"`
	Service      Service        `json:"service"`
	Type         ReferralType   `json:"type,omitempty"`
	State        ReferralStatus `json:"state"`
	PathwayStart time.Time      `json:"pathwayStart,omitzero"`
	// ClinicalInfoFirstSubmitted and ClinicalInfoLastUpdated say when the
	// letter was first sent and last changed.
	ClinicalInfoFirstSubmitted time.Time    `json:"clinicalInfoFirstSubmitted,omitzero"`
	ClinicalInfoLastUpdated    time.Time    `json:"clinicalInfoLastUpdated,omitzero"`
	Appointment                *Appointment `json:"appointment,omitempty"`
	// RelatedUBRNs are other referrals on the same pathway; their clinical
	// information must be read too.
	RelatedUBRNs           []string   `json:"relatedUbrns,omitempty"`
	Documents              []Document `json:"documents,omitempty"`
	AdditionalRequirements []Coding   `json:"additionalRequirements,omitempty"`
	ReferrerODS            string     `json:"referrerOds,omitempty"`
	// AdviceUBRN is the Advice and Guidance request the referral was
	// converted from (A027), if any.
	AdviceUBRN string `json:"adviceUbrn,omitempty"`
}

// Needs is the patient's additional requirements (interpreter, transport,
// advocacy…) as a clinician reads them, joined with commas; "" when there
// are none.
func (r *Referral) Needs() string {
	out := make([]string, 0, len(r.AdditionalRequirements))
	for _, c := range r.AdditionalRequirements {
		l := c.Display
		if l == "" {
			l = additionalRequirementLabels[c.Code]
		}
		if l == "" {
			l = c.Code
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, ", ")
}

// additionalRequirementLabels names the codes of
// eRS-AdditionalRequirementType-1 that e-RS may send without a display.
var additionalRequirementLabels = map[string]string{
	"INTERPRETER": "Interpreter",
	"TRANSPORT":   "Transport",
	"ADVOCACY":    "Advocacy",
}

// Booking is how the referral's appointment was booked, if it has one.
func (r *Referral) Booking() BookingKind {
	if r.Appointment == nil {
		return BookingUnknown
	}
	return r.Appointment.Booking
}

// Unavailable returns the attachments that cannot be downloaded now, so the
// UI can say so instead of hiding them.
func (r *Referral) Unavailable() []Document {
	var out []Document
	for _, d := range r.Documents {
		if !d.Downloadable() {
			out = append(out, d)
		}
	}
	return out
}

// UBRNsToRead is the referral's own UBRN followed by every related UBRN,
// without duplicates: the clinical information to read is spread across all.
func (r *Referral) UBRNsToRead() []string {
	out := []string{r.UBRN}
	seen := map[string]bool{r.UBRN: true}
	for _, u := range r.RelatedUBRNs {
		u = strings.TrimSpace(u)
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// Identity is who a decision is made by and in which role: the CIS2 user
// (SDS user id), the organisation (ODS code) and business function chosen at
// sign-in, and for a clinician admin, the clinician they act for.
type Identity struct {
	SDSUserID        string           `json:"sdsUserId"`
	Name             string           `json:"name,omitempty"`
	ODS              string           `json:"ods"`
	BusinessFunction BusinessFunction `json:"businessFunction"`
	OnBehalfOf       string           `json:"onBehalfOf,omitempty"`
}

// IsZero reports whether no one is identified.
func (i Identity) IsZero() bool { return i.SDSUserID == "" }

// SameUser reports whether o is the same CIS2 user acting in the same role,
// organisation and on behalf of the same clinician. Decisions are sent only
// under the identity that made them.
func (i Identity) SameUser(o Identity) bool {
	return i.SDSUserID != "" && i.SDSUserID == o.SDSUserID && i.ODS == o.ODS &&
		i.BusinessFunction == o.BusinessFunction && i.OnBehalfOf == o.OnBehalfOf
}
