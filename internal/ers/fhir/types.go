package fhir

import (
	"bytes"
	"encoding/json"
)

// Resource type names, the value of each resource's "resourceType".
const (
	TypeAppointment       = "Appointment"
	TypeBundle            = "Bundle"
	TypeCodeSystem        = "CodeSystem"
	TypeCommunication     = "Communication"
	TypeCommunicationReq  = "CommunicationRequest"
	TypeDocumentReference = "DocumentReference"
	TypeList              = "List"
	TypeOperationOutcome  = "OperationOutcome"
	TypeParameters        = "Parameters"
	TypePatient           = "Patient"
	TypePractitioner      = "Practitioner"
	TypePractitionerRole  = "PractitionerRole"
	TypeReferralRequest   = "ReferralRequest"
	TypeTask              = "Task"
)

// Meta is a resource's metadata. VersionID carries the e-RS referral version.
type Meta struct {
	VersionID   string   `json:"versionId,omitempty"`
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Coding is a FHIR Coding: a code in a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept: one or more codings.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// First returns the first coding, or the zero Coding when there is none
// (including when c is nil).
func (c *CodeableConcept) First() Coding {
	if c == nil || len(c.Coding) == 0 {
		return Coding{}
	}
	return c.Coding[0]
}

// Identifier is a FHIR Identifier: a value within an identifier system.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Identifiers is a list of identifiers. e-RS R4 Practitioner resources give
// a single identifier object where FHIR expects an array, so a lone object
// decodes as a list of one.
type Identifiers []Identifier

// UnmarshalJSON accepts an array of identifiers or a single identifier.
func (ids *Identifiers) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one Identifier
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*ids = Identifiers{one}
		return nil
	}
	var many []Identifier
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*ids = many
	return nil
}

// Value returns the value of the first identifier in system, or "".
func (ids Identifiers) Value(system string) string {
	for _, id := range ids {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

// CodeableConcepts is a list of codeable concepts. e-RS writes some of them
// (an appointment participant's type) as a single object where FHIR expects
// an array, so a lone object decodes as a list of one.
type CodeableConcepts []CodeableConcept

// UnmarshalJSON accepts an array of codeable concepts or a single one.
func (cs *CodeableConcepts) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one CodeableConcept
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*cs = CodeableConcepts{one}
		return nil
	}
	var many []CodeableConcept
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*cs = many
	return nil
}

// Reference is a FHIR Reference: a literal reference ("ReferralRequest/…",
// "#Patient-…"), a logical reference by identifier, or both. e-RS puts some
// references in extensions of an otherwise empty Reference (an A&G request's
// recipient service and sender role).
type Reference struct {
	Extension  Extensions  `json:"extension,omitempty"`
	Reference  string      `json:"reference,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Extension is a FHIR extension: a URL and either a value or nested
// extensions. Only the value types e-RS uses are represented.
type Extension struct {
	URL                  string           `json:"url"`
	Extension            Extensions       `json:"extension,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueIdentifier      *Identifier      `json:"valueIdentifier,omitempty"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueDateTime        string           `json:"valueDateTime,omitempty"`
	ValueDate            string           `json:"valueDate,omitempty"`
	ValueInstant         string           `json:"valueInstant,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueInteger         *int             `json:"valueInteger,omitempty"`
}

// Extensions is a list of extensions, searched by URL.
type Extensions []Extension

// Find returns the first extension with the URL, or nil.
func (es Extensions) Find(url string) *Extension {
	for i := range es {
		if es[i].URL == url {
			return &es[i]
		}
	}
	return nil
}

// FindAll returns every extension with the URL.
func (es Extensions) FindAll(url string) []*Extension {
	var out []*Extension
	for i := range es {
		if es[i].URL == url {
			out = append(out, &es[i])
		}
	}
	return out
}

// Patient is the minimal Patient e-RS contains: only the NHS number.
type Patient struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         *Meta       `json:"meta,omitempty"`
	Identifier   Identifiers `json:"identifier,omitempty"`
}

// HumanName is a FHIR HumanName.
type HumanName struct {
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
}

// Practitioner is a Practitioner identified by SDS user id, with an optional
// name (A040 may give one).
type Practitioner struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         *Meta       `json:"meta,omitempty"`
	Identifier   Identifiers `json:"identifier,omitempty"`
	Name         []HumanName `json:"name,omitempty"`
}

// PractitionerRole is an R4 PractitionerRole from A030: the organisation and
// the business functions a user holds there.
type PractitionerRole struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Practitioner *Reference        `json:"practitioner,omitempty"`
	Organization *Reference        `json:"organization,omitempty"`
	Code         []CodeableConcept `json:"code,omitempty"`
}

// AppointmentParticipant is one participant of an Appointment.
type AppointmentParticipant struct {
	Type   CodeableConcepts `json:"type,omitempty"`
	Actor  *Reference       `json:"actor,omitempty"`
	Status string           `json:"status,omitempty"`
}

// Appointment is the appointment contained in a referral.
type Appointment struct {
	ResourceType     string                   `json:"resourceType"`
	ID               string                   `json:"id,omitempty"`
	Meta             *Meta                    `json:"meta,omitempty"`
	Language         string                   `json:"language,omitempty"`
	Status           string                   `json:"status,omitempty"`
	Reason           []CodeableConcept        `json:"reason,omitempty"`
	Description      string                   `json:"description,omitempty"`
	Start            string                   `json:"start,omitempty"`
	End              string                   `json:"end,omitempty"`
	Slot             []Reference              `json:"slot,omitempty"`
	Created          string                   `json:"created,omitempty"`
	Comment          string                   `json:"comment,omitempty"`
	IncomingReferral []Reference              `json:"incomingReferral,omitempty"`
	Participant      []AppointmentParticipant `json:"participant,omitempty"`
}

// Attachment is a FHIR Attachment; URL is "Binary/{id}".
type Attachment struct {
	ID          string     `json:"id,omitempty"`
	Extension   Extensions `json:"extension,omitempty"`
	ContentType string     `json:"contentType,omitempty"`
	URL         string     `json:"url,omitempty"`
	Size        int64      `json:"size,omitempty"`
	Title       string     `json:"title,omitempty"`
	Creation    string     `json:"creation,omitempty"`
}

// DocumentContent is one content element of a DocumentReference.
type DocumentContent struct {
	Attachment Attachment `json:"attachment"`
}

// DocumentReference is an attachment on a referral (eRS-DocumentReference-1),
// or a provider attachment sent with A022/A028.
type DocumentReference struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Type         *CodeableConcept  `json:"type,omitempty"`
	Status       string            `json:"status,omitempty"`
	Indexed      string            `json:"indexed,omitempty"`
	Description  string            `json:"description,omitempty"`
	Content      []DocumentContent `json:"content,omitempty"`
}

// ListEntry is one entry of a List.
type ListEntry struct {
	Extension Extensions `json:"extension,omitempty"`
	Item      Reference  `json:"item"`
}

// List is a FHIR List: the A008 worklist, or a referral's shortlist.
type List struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         *Meta       `json:"meta,omitempty"`
	Contained    []*Resource `json:"contained,omitempty"`
	Extension    Extensions  `json:"extension,omitempty"`
	Status       string      `json:"status,omitempty"`
	Mode         string      `json:"mode,omitempty"`
	Entry        []ListEntry `json:"entry,omitempty"`
}

// ReferralRequest is an e-RS referral (eRS-ReferralRequest-1, A005).
type ReferralRequest struct {
	ResourceType   string           `json:"resourceType"`
	ID             string           `json:"id,omitempty"`
	Meta           *Meta            `json:"meta,omitempty"`
	Extension      Extensions       `json:"extension,omitempty"`
	Contained      []*Resource      `json:"contained,omitempty"`
	Status         string           `json:"status,omitempty"`
	Intent         string           `json:"intent,omitempty"`
	Specialty      *CodeableConcept `json:"specialty,omitempty"`
	Subject        *Reference       `json:"subject,omitempty"`
	SupportingInfo []Reference      `json:"supportingInfo,omitempty"`
	Identifier     []Identifier     `json:"identifier,omitempty"`
}

// Task is a CareConnect Task from A029: one action the user may take.
type Task struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id,omitempty"`
	Meta         *Meta            `json:"meta,omitempty"`
	Status       string           `json:"status,omitempty"`
	Intent       string           `json:"intent,omitempty"`
	Focus        *Reference       `json:"focus,omitempty"`
	Code         *CodeableConcept `json:"code,omitempty"`
}

// BundleLink is a link of a Bundle (e.g. "self").
type BundleLink struct {
	Relation string `json:"relation,omitempty"`
	URL      string `json:"url,omitempty"`
}

// BundleSearch is the search information of a Bundle entry.
type BundleSearch struct {
	Mode string `json:"mode,omitempty"`
}

// BundleEntry is one entry of a Bundle.
type BundleEntry struct {
	FullURL  string        `json:"fullUrl,omitempty"`
	Resource *Resource     `json:"resource,omitempty"`
	Search   *BundleSearch `json:"search,omitempty"`
}

// Bundle is a FHIR searchset Bundle (A029 tasks, A030 roles, A040 users).
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *Meta         `json:"meta,omitempty"`
	Type         string        `json:"type,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// CodeSystemProperty declares a property that concepts of a CodeSystem carry.
type CodeSystemProperty struct {
	Code string `json:"code"`
	URI  string `json:"uri,omitempty"`
	Type string `json:"type,omitempty"`
}

// ConceptProperty is the value of one property on a concept.
type ConceptProperty struct {
	Code          string  `json:"code"`
	ValueCoding   *Coding `json:"valueCoding,omitempty"`
	ValueString   string  `json:"valueString,omitempty"`
	ValueDateTime string  `json:"valueDateTime,omitempty"`
	ValueBoolean  *bool   `json:"valueBoolean,omitempty"`
	ValueInteger  *int    `json:"valueInteger,omitempty"`
}

// Concept is one code of a CodeSystem.
type Concept struct {
	Extension Extensions        `json:"extension,omitempty"`
	Code      string            `json:"code"`
	Display   string            `json:"display,omitempty"`
	Property  []ConceptProperty `json:"property,omitempty"`
}

// CodeSystem is an A004 reference-data code system.
type CodeSystem struct {
	ResourceType  string               `json:"resourceType"`
	ID            string               `json:"id,omitempty"`
	Meta          *Meta                `json:"meta,omitempty"`
	URL           string               `json:"url,omitempty"`
	Version       string               `json:"version,omitempty"`
	Name          string               `json:"name,omitempty"`
	Status        string               `json:"status,omitempty"`
	Experimental  *bool                `json:"experimental,omitempty"`
	Date          string               `json:"date,omitempty"`
	Publisher     string               `json:"publisher,omitempty"`
	Description   string               `json:"description,omitempty"`
	CaseSensitive *bool                `json:"caseSensitive,omitempty"`
	Content       string               `json:"content,omitempty"`
	Property      []CodeSystemProperty `json:"property,omitempty"`
	Concept       []Concept            `json:"concept,omitempty"`
}

// Parameter is one parameter of a Parameters resource. Exactly one value (or
// Resource) is set.
type Parameter struct {
	Name                 string           `json:"name"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueIdentifier      *Identifier      `json:"valueIdentifier,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueInteger         *int             `json:"valueInteger,omitempty"`
	ValueUnsignedInt     *int             `json:"valueUnsignedInt,omitempty"`
	Resource             *Resource        `json:"resource,omitempty"`
}

// Parameters is a FHIR Parameters resource: the body of e-RS operations.
type Parameters struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         *Meta       `json:"meta,omitempty"`
	Parameter    []Parameter `json:"parameter,omitempty"`
}

// Get returns the first parameter with the name, or nil.
func (p *Parameters) Get(name string) *Parameter {
	if p == nil {
		return nil
	}
	for i := range p.Parameter {
		if p.Parameter[i].Name == name {
			return &p.Parameter[i]
		}
	}
	return nil
}

// Issue is one issue of an OperationOutcome.
type Issue struct {
	Severity    string           `json:"severity,omitempty"`
	Code        string           `json:"code,omitempty"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
}

// OperationOutcome is an e-RS error body, in the STU3 (eRS-OperationOutcome-1)
// or R4 (NHSDigital-OperationOutcome) shape; both decode into this type.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	Meta         *Meta   `json:"meta,omitempty"`
	Issue        []Issue `json:"issue,omitempty"`
}

// Annotation is a FHIR Annotation: a note's text.
type Annotation struct {
	Text string `json:"text,omitempty"`
}

// CommunicationPayload is one payload of a Communication or
// CommunicationRequest: e-RS sends files as references to DocumentReferences.
type CommunicationPayload struct {
	ContentReference *Reference `json:"contentReference,omitempty"`
	ContentString    string     `json:"contentString,omitempty"`
}

// CommunicationRequester is the requester of a CommunicationRequest.
type CommunicationRequester struct {
	Agent *Reference `json:"agent,omitempty"`
}

// CommunicationRequest is an Advice and Guidance request
// (eRS-CommunicationRequest-1, A024); its id is the UBRN.
type CommunicationRequest struct {
	ResourceType string                  `json:"resourceType"`
	ID           string                  `json:"id,omitempty"`
	Meta         *Meta                   `json:"meta,omitempty"`
	Extension    Extensions              `json:"extension,omitempty"`
	Contained    []*Resource             `json:"contained,omitempty"`
	Identifier   []Identifier            `json:"identifier,omitempty"`
	Status       string                  `json:"status,omitempty"`
	Category     []CodeableConcept       `json:"category,omitempty"`
	Subject      *Reference              `json:"subject,omitempty"`
	Recipient    []Reference             `json:"recipient,omitempty"`
	Sender       *Reference              `json:"sender,omitempty"`
	Requester    *CommunicationRequester `json:"requester,omitempty"`
	Payload      []CommunicationPayload  `json:"payload,omitempty"`
}

// Communication is one message of an Advice and Guidance conversation
// (eRS-Communication-1, A025 and A026).
type Communication struct {
	ResourceType string                 `json:"resourceType"`
	ID           string                 `json:"id,omitempty"`
	Meta         *Meta                  `json:"meta,omitempty"`
	Extension    Extensions             `json:"extension,omitempty"`
	Contained    []*Resource            `json:"contained,omitempty"`
	BasedOn      []Reference            `json:"basedOn,omitempty"`
	Status       string                 `json:"status,omitempty"`
	Category     []CodeableConcept      `json:"category,omitempty"`
	Recipient    []Reference            `json:"recipient,omitempty"`
	Sent         string                 `json:"sent,omitempty"`
	Sender       *Reference             `json:"sender,omitempty"`
	Payload      []CommunicationPayload `json:"payload,omitempty"`
	Note         []Annotation           `json:"note,omitempty"`
}
