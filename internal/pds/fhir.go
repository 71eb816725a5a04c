package pds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// FHIR systems and extension URLs PDS uses.
const (
	SystemNHSNumber         = "https://fhir.nhs.uk/Id/nhs-number"
	SystemODS               = "https://fhir.nhs.uk/Id/ods-organization-code"
	SystemConfidentiality   = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	SystemSpineErrorCode    = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
	ExtDeathNotification    = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus"
	ExtNHSNumberVerified    = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	SystemDeathNotification = "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus"
	SystemNHSNumberVerified = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
)

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Version string `json:"version,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Period is a FHIR Period.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Extension is a FHIR extension, with the value types PDS uses on Patient.
type Extension struct {
	URL                  string           `json:"url"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueDateTime        string           `json:"valueDateTime,omitempty"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueAddress         json.RawMessage  `json:"valueAddress,omitempty"`
	ValuePeriod          *Period          `json:"valuePeriod,omitempty"`
	Extension            []Extension      `json:"extension,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	System    string      `json:"system,omitempty"`
	Value     string      `json:"value,omitempty"`
	Period    *Period     `json:"period,omitempty"`
	Extension []Extension `json:"extension,omitempty"`
}

// Reference is a FHIR Reference by identifier.
type Reference struct {
	ID         string      `json:"id,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
}

// HumanName is a FHIR HumanName.
type HumanName struct {
	ID     string   `json:"id,omitempty"`
	Use    string   `json:"use,omitempty"`
	Period *Period  `json:"period,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

// ResourceMeta is a FHIR Meta with PDS's confidentiality label.
type ResourceMeta struct {
	VersionID string   `json:"versionId,omitempty"`
	Security  []Coding `json:"security,omitempty"`
}

// Resource is the part of a PDS Patient resource Triage Desk reads, plus
// the location and contact elements the sandbox serves. Triage Desk maps
// only the banner's items to triage.Patient: address, telecom and contacts
// are never mapped or kept.
type Resource struct {
	ResourceType         string          `json:"resourceType"`
	ID                   string          `json:"id"`
	Identifier           []Identifier    `json:"identifier,omitempty"`
	Meta                 *ResourceMeta   `json:"meta,omitempty"`
	Name                 []HumanName     `json:"name,omitempty"`
	Gender               string          `json:"gender,omitempty"`
	BirthDate            string          `json:"birthDate,omitempty"`
	DeceasedDateTime     string          `json:"deceasedDateTime,omitempty"`
	MultipleBirthInteger *int            `json:"multipleBirthInteger,omitempty"`
	GeneralPractitioner  []Reference     `json:"generalPractitioner,omitempty"`
	Extension            []Extension     `json:"extension,omitempty"`
	Address              json.RawMessage `json:"address,omitempty"`
	Telecom              json.RawMessage `json:"telecom,omitempty"`
	Contact              json.RawMessage `json:"contact,omitempty"`
}

// DecodePatient parses a Patient resource. It returns an error for JSON
// that is not a single Patient.
func DecodePatient(b []byte) (*Resource, error) {
	var r Resource
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode Patient: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode Patient: data after the resource")
	}
	if r.ResourceType != "Patient" {
		return nil, fmt.Errorf("decode Patient: got a %q resource", clip(r.ResourceType, 40))
	}
	return &r, nil
}

// Restriction is the record's confidentiality from meta.security.
func (r *Resource) Restriction() triage.Restriction {
	if r.Meta != nil {
		for _, s := range r.Meta.Security {
			if s.System == "" || s.System == SystemConfidentiality {
				return triage.ParseRestriction(s.Code)
			}
		}
	}
	return triage.RestrictionUnknown
}

// UsualName is the name whose use is "usual" (every PDS patient has one;
// its period is not checked: sandbox usual names have ended periods), or
// nil.
func (r *Resource) UsualName() *HumanName {
	for i := range r.Name {
		if r.Name[i].Use == "usual" {
			return &r.Name[i]
		}
	}
	return nil
}

// maxNamePart bounds a name part: PDS allows 35 characters for a family
// name; anything far longer is not a name.
const maxNamePart = 200

// ToPatient maps the resource to the banner's demographics. The NHS number
// is the resource's id, which must be a valid NHS number. For a restricted
// record the GP practice is not mapped, whatever the server sent; address,
// telecom and contacts are never mapped. A malformed birth or death date is
// an error (a wrong date on the banner is worse than none).
func (r *Resource) ToPatient() (triage.Patient, error) {
	var p triage.Patient
	id := strings.TrimSpace(r.ID)
	if err := triage.ValidateNHSNumber(id); err != nil || len(id) != 10 {
		return p, errors.New("the Patient's id is not a valid NHS number")
	}
	p.NHSNumber = id
	p.Restriction = r.Restriction()
	if r.Meta != nil {
		p.VersionID = clip(r.Meta.VersionID, 20)
	}
	if n := r.UsualName(); n != nil {
		p.Family = clip(strings.TrimSpace(n.Family), maxNamePart)
		for _, g := range n.Given {
			if g = clip(strings.TrimSpace(g), maxNamePart); g != "" && len(p.Given) < 5 {
				p.Given = append(p.Given, g)
			}
		}
		for _, t := range n.Prefix {
			if t = clip(strings.TrimSpace(t), 40); t != "" && len(p.Titles) < 3 {
				p.Titles = append(p.Titles, t)
			}
		}
	}
	switch g := triage.Gender(strings.ToLower(strings.TrimSpace(r.Gender))); g {
	case triage.GenderMale, triage.GenderFemale, triage.GenderOther, triage.GenderUnknown:
		p.Gender = g
	case "":
	default:
		return p, fmt.Errorf("gender %q is not a FHIR administrative gender", clip(r.Gender, 20))
	}
	if r.BirthDate != "" {
		d, err := triage.ParsePartialDate(r.BirthDate)
		if err != nil {
			return p, fmt.Errorf("birthDate: %w", err)
		}
		p.BirthDate = d
	}
	if r.DeceasedDateTime != "" {
		d, err := triage.ParsePartialDate(r.DeceasedDateTime)
		if err != nil {
			return p, fmt.Errorf("deceasedDateTime: %w", err)
		}
		p.Deceased, p.DeceasedDate = true, d
	}
	for _, e := range r.Extension {
		if e.URL != ExtDeathNotification {
			continue
		}
		for _, sub := range e.Extension {
			if sub.URL == "deathNotificationStatus" && sub.ValueCodeableConcept != nil && len(sub.ValueCodeableConcept.Coding) > 0 {
				p.DeathNotification = clip(sub.ValueCodeableConcept.Coding[0].Code, 4)
			}
		}
	}
	if p.DeathNotification == "U" && r.DeceasedDateTime == "" {
		// "U": the death notification was removed in error.
		p.Deceased = false
	} else if p.DeathNotification != "" && p.DeathNotification != "U" {
		p.Deceased = true
	}
	if !p.Restriction.Restricted() {
		for _, gp := range r.GeneralPractitioner {
			if gp.Identifier != nil && gp.Identifier.Value != "" {
				p.GPPractice = clip(strings.TrimSpace(gp.Identifier.Value), 12)
				break
			}
		}
	}
	return p.Sanitized(), nil
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string           `json:"severity,omitempty"`
	Code        string           `json:"code,omitempty"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
}

// OperationOutcome is PDS's error body.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// NewOperationOutcome builds a PDS error body with one issue whose
// details carry code (Spine-ErrorOrWarningCode).
func NewOperationOutcome(severity, issueCode, code, display, diagnostics string) *OperationOutcome {
	return &OperationOutcome{ResourceType: "OperationOutcome", Issue: []Issue{{
		Severity: severity, Code: issueCode, Diagnostics: diagnostics,
		Details: &CodeableConcept{Coding: []Coding{{System: SystemSpineErrorCode, Version: "1", Code: code, Display: display}}},
	}}}
}

// DecodeOperationOutcome parses an error body.
func DecodeOperationOutcome(b []byte) (*OperationOutcome, error) {
	var o OperationOutcome
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("decode OperationOutcome: %w", err)
	}
	if o.ResourceType != "OperationOutcome" || len(o.Issue) == 0 {
		return nil, errors.New("decode OperationOutcome: not an OperationOutcome with an issue")
	}
	return &o, nil
}

// ErrorCode is the first issue's details code, e.g. RESOURCE_NOT_FOUND.
func (o *OperationOutcome) ErrorCode() (code, display string) {
	if len(o.Issue) == 0 || o.Issue[0].Details == nil || len(o.Issue[0].Details.Coding) == 0 {
		return "", ""
	}
	c := o.Issue[0].Details.Coding[0]
	return clip(c.Code, 64), clip(c.Display, 200)
}

// clip keeps at most n bytes of s, dropping a rune cut in half.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
