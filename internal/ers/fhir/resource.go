package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Resource holds any one resource: a contained resource, a Parameters
// "resource" value or a Bundle entry. Exactly one field is set after
// decoding; resources of types this package does not model are kept
// undecoded in Other, with their type in Type.
type Resource struct {
	Appointment       *Appointment
	CodeSystem        *CodeSystem
	Communication     *Communication
	CommunicationReq  *CommunicationRequest
	DocumentReference *DocumentReference
	List              *List
	OperationOutcome  *OperationOutcome
	Parameters        *Parameters
	Patient           *Patient
	Practitioner      *Practitioner
	PractitionerRole  *PractitionerRole
	ReferralRequest   *ReferralRequest
	Task              *Task
	// Type is the resourceType of a resource kept in Other.
	Type  string
	Other json.RawMessage
}

// ErrNoResource is returned when marshalling a Resource with nothing set.
var ErrNoResource = errors.New("fhir: empty resource")

// MarshalJSON encodes whichever resource is set.
func (r *Resource) MarshalJSON() ([]byte, error) {
	if v := r.value(); v != nil {
		return json.Marshal(v)
	}
	if len(r.Other) > 0 {
		return r.Other, nil
	}
	return nil, ErrNoResource
}

func (r *Resource) value() any {
	switch {
	case r.Appointment != nil:
		return r.Appointment
	case r.CodeSystem != nil:
		return r.CodeSystem
	case r.Communication != nil:
		return r.Communication
	case r.CommunicationReq != nil:
		return r.CommunicationReq
	case r.DocumentReference != nil:
		return r.DocumentReference
	case r.List != nil:
		return r.List
	case r.OperationOutcome != nil:
		return r.OperationOutcome
	case r.Parameters != nil:
		return r.Parameters
	case r.Patient != nil:
		return r.Patient
	case r.Practitioner != nil:
		return r.Practitioner
	case r.PractitionerRole != nil:
		return r.PractitionerRole
	case r.ReferralRequest != nil:
		return r.ReferralRequest
	case r.Task != nil:
		return r.Task
	}
	return nil
}

// UnmarshalJSON decodes a resource by its resourceType.
func (r *Resource) UnmarshalJSON(b []byte) error {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	*r = Resource{}
	var target any
	switch head.ResourceType {
	case TypeAppointment:
		r.Appointment = new(Appointment)
		target = r.Appointment
	case TypeCodeSystem:
		r.CodeSystem = new(CodeSystem)
		target = r.CodeSystem
	case TypeCommunication:
		r.Communication = new(Communication)
		target = r.Communication
	case TypeCommunicationReq:
		r.CommunicationReq = new(CommunicationRequest)
		target = r.CommunicationReq
	case TypeDocumentReference:
		r.DocumentReference = new(DocumentReference)
		target = r.DocumentReference
	case TypeList:
		r.List = new(List)
		target = r.List
	case TypeOperationOutcome:
		r.OperationOutcome = new(OperationOutcome)
		target = r.OperationOutcome
	case TypeParameters:
		r.Parameters = new(Parameters)
		target = r.Parameters
	case TypePatient:
		r.Patient = new(Patient)
		target = r.Patient
	case TypePractitioner:
		r.Practitioner = new(Practitioner)
		target = r.Practitioner
	case TypePractitionerRole:
		r.PractitionerRole = new(PractitionerRole)
		target = r.PractitionerRole
	case TypeReferralRequest:
		r.ReferralRequest = new(ReferralRequest)
		target = r.ReferralRequest
	case TypeTask:
		r.Task = new(Task)
		target = r.Task
	default:
		r.Type = head.ResourceType
		r.Other = append(json.RawMessage(nil), b...)
		return nil
	}
	if err := json.Unmarshal(b, target); err != nil {
		return fmt.Errorf("%s: %w", head.ResourceType, err)
	}
	return nil
}

// ResourceType returns the resourceType of whichever resource is set.
func (r *Resource) ResourceType() string {
	if r == nil {
		return ""
	}
	switch r.value().(type) {
	case *Appointment:
		return TypeAppointment
	case *CodeSystem:
		return TypeCodeSystem
	case *Communication:
		return TypeCommunication
	case *CommunicationRequest:
		return TypeCommunicationReq
	case *DocumentReference:
		return TypeDocumentReference
	case *List:
		return TypeList
	case *OperationOutcome:
		return TypeOperationOutcome
	case *Parameters:
		return TypeParameters
	case *Patient:
		return TypePatient
	case *Practitioner:
		return TypePractitioner
	case *PractitionerRole:
		return TypePractitionerRole
	case *ReferralRequest:
		return TypeReferralRequest
	case *Task:
		return TypeTask
	}
	return r.Type
}
