package fhir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Concept property codes of the A004 code systems.
const (
	propEffectiveFrom          = "effectiveFrom"
	propEffectiveTo            = "effectiveTo"
	propBookingReasonType      = "appointmentBookingCancellationReasonType"
	propRequestReasonType      = "appointmentRequestCancellationReasonType"
	propWillCancelWholeRequest = "willCancelWholeRequest"
	propCommentIsMandatory     = "commentIsMandatory"
	propCanCancelAppointment   = "canCancelAppointment"
	propBusinessFunction       = "businessFunction"
	propUsage                  = "usage"
	propReferrerUsage          = "referrerUsage"
	propSpecialty              = "specialty"
	propDeferContactDays       = "deferToProviderContactDays"
	propTriageContactDays      = "triageContactDays"
)

// Systems of the codings in concept properties.
const (
	systemBookingReasonType = cs + "eRS-AppointmentBookingCancellationReasonType-1"
	systemRequestReasonType = cs + "eRS-AppointmentRequestCancellationReasonType-1"
	systemApptUsage         = cs + "eRS-AppointmentCancellationReasonUsage-1"
	systemReferrerUsage     = cs + "eRS-ReferralRequestCancellationReasonUsage-1"
)

// Extensions on SPECIALTY concepts that repeat the effective dates.
const (
	extEffectiveFromDate = sd + "Extension-eRS-EffectivefromDate-1"
	extEffectiveToDate   = sd + "Extension-eRS-EffectivetoDate-1"
)

// DecodeCodeSystem decodes an A004 response into a domain code system. It
// reads the properties of all six code systems: effective dates, the
// cancellation reason type (PROVIDER_REJECT, PROVIDER_TRIAGE, …),
// commentIsMandatory, canCancelAppointment, willCancelWholeRequest, the
// business functions, usage and referrerUsage, a clinic type's specialty and
// a priority's contact days. The type is the resource id, or the last path
// segment of its URL. It returns an error for malformed JSON, another
// resource type, a concept without a code or a bad date.
func DecodeCodeSystem(b []byte) (triage.CodeSystem, error) {
	var c CodeSystem
	if err := decodeAs(b, &c, &c.ResourceType, TypeCodeSystem); err != nil {
		return triage.CodeSystem{}, fmt.Errorf("decode code system: %w", err)
	}
	out := triage.CodeSystem{Type: triage.CodeSystemType(c.ID), URL: c.URL, Name: c.Name}
	if out.Type == "" {
		if i := strings.LastIndex(c.URL, "/CodeSystem/"); i >= 0 {
			out.Type = triage.CodeSystemType(c.URL[i+len("/CodeSystem/"):])
		}
	}
	out.Concepts = make([]triage.Concept, 0, len(c.Concept))
	for i := range c.Concept {
		con, err := conceptFromFHIR(&c.Concept[i])
		if err != nil {
			return triage.CodeSystem{}, fmt.Errorf("decode code system: concept %d: %w", i, err)
		}
		out.Concepts = append(out.Concepts, con)
	}
	return out, nil
}

func conceptFromFHIR(c *Concept) (triage.Concept, error) {
	out := triage.Concept{Code: c.Code, Display: c.Display}
	if c.Code == "" {
		return out, errors.New("no code")
	}
	var err error
	for _, p := range c.Property {
		b := p.ValueBoolean != nil && *p.ValueBoolean
		code := ""
		if p.ValueCoding != nil {
			code = p.ValueCoding.Code
		}
		switch p.Code {
		case propEffectiveFrom:
			out.EffectiveFrom, err = parseTime(p.ValueDateTime)
		case propEffectiveTo:
			out.EffectiveTo, err = parseTime(p.ValueDateTime)
		case propBookingReasonType, propRequestReasonType:
			out.ReasonType = code
		case propCommentIsMandatory:
			out.CommentIsMandatory = b
		case propCanCancelAppointment:
			out.CanCancelAppointment = b
		case propWillCancelWholeRequest:
			out.WillCancelWholeRequest = b
		case propBusinessFunction:
			if code != "" {
				out.BusinessFunctions = append(out.BusinessFunctions, code)
			}
		case propUsage, propReferrerUsage:
			if code != "" {
				out.Usage = append(out.Usage, code)
			}
		case propSpecialty:
			if p.ValueCoding != nil {
				out.Specialty = toCoding(*p.ValueCoding)
			}
		case propTriageContactDays:
			if p.ValueInteger != nil {
				out.TriageContactDays = *p.ValueInteger
			}
		case propDeferContactDays:
			if p.ValueInteger != nil {
				out.DeferToProviderContactDays = *p.ValueInteger
			}
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", p.Code, err)
		}
	}
	// SPECIALTY repeats the dates as extensions; use them when the
	// properties are absent.
	if out.EffectiveFrom.IsZero() {
		if out.EffectiveFrom, err = timeOf(c.Extension.Find(extEffectiveFromDate), "effectiveFrom"); err != nil {
			return out, err
		}
	}
	if out.EffectiveTo.IsZero() {
		if out.EffectiveTo, err = timeOf(c.Extension.Find(extEffectiveToDate), "effectiveTo"); err != nil {
			return out, err
		}
	}
	return out, nil
}

// EncodeCodeSystem builds the A004 CodeSystem for a domain code system, with
// the property declarations and concept properties of its type, as e-RS
// does: booleans of the cancellation-reason systems are always written,
// other properties only when set. DecodeCodeSystem of the result gives back
// cs, provided each concept only uses properties of its code system's type.
func EncodeCodeSystem(c triage.CodeSystem) *CodeSystem {
	out := &CodeSystem{
		ResourceType:  TypeCodeSystem,
		ID:            string(c.Type),
		Meta:          &Meta{Profile: []string{"http://hl7.org/fhir/StructureDefinition/shareablecodesystem"}},
		URL:           c.URL,
		Version:       "1",
		Name:          c.Name,
		Status:        "active",
		Experimental:  ptr(false),
		Publisher:     "e-Referral Service",
		Description:   c.Name,
		CaseSensitive: ptr(true),
		Content:       "complete",
	}
	declare := func(code, typ string) {
		out.Property = append(out.Property, CodeSystemProperty{Code: code, URI: SystemConceptProperties + "#" + code, Type: typ})
	}
	declare(propEffectiveFrom, "dateTime")
	declare(propEffectiveTo, "dateTime")
	switch c.Type {
	case triage.CodeSystemAppointmentCancellationReason:
		declare(propBookingReasonType, "Coding")
		declare(propWillCancelWholeRequest, "boolean")
		declare(propCommentIsMandatory, "boolean")
		declare(propBusinessFunction, "Coding")
		declare(propUsage, "Coding")
	case triage.CodeSystemReferralCancellationReason:
		declare(propRequestReasonType, "Coding")
		declare(propCommentIsMandatory, "boolean")
		declare(propCanCancelAppointment, "boolean")
		declare(propBusinessFunction, "Coding")
		declare(propReferrerUsage, "Coding")
	case triage.CodeSystemClinicType:
		declare(propSpecialty, "Coding")
	case triage.CodeSystemPriority:
		declare(propDeferContactDays, "integer")
		declare(propTriageContactDays, "integer")
	}
	out.Concept = make([]Concept, 0, len(c.Concepts))
	for _, con := range c.Concepts {
		out.Concept = append(out.Concept, encodeConcept(c.Type, con))
	}
	return out
}

func encodeConcept(t triage.CodeSystemType, c triage.Concept) Concept {
	out := Concept{Code: c.Code, Display: c.Display}
	add := func(p ConceptProperty) { out.Property = append(out.Property, p) }
	coding := func(code, system, value string) {
		add(ConceptProperty{Code: code, ValueCoding: &Coding{System: system, Code: value}})
	}
	if !c.EffectiveFrom.IsZero() {
		add(ConceptProperty{Code: propEffectiveFrom, ValueDateTime: formatDateTime(c.EffectiveFrom)})
	}
	if !c.EffectiveTo.IsZero() {
		add(ConceptProperty{Code: propEffectiveTo, ValueDateTime: formatDateTime(c.EffectiveTo)})
	}
	businessFunctions := func() {
		for _, bf := range c.BusinessFunctions {
			coding(propBusinessFunction, SystemBusinessFunctionSTU3, bf)
		}
	}
	switch t {
	case triage.CodeSystemAppointmentCancellationReason:
		if c.ReasonType != "" {
			coding(propBookingReasonType, systemBookingReasonType, c.ReasonType)
		}
		add(ConceptProperty{Code: propWillCancelWholeRequest, ValueBoolean: ptr(c.WillCancelWholeRequest)})
		add(ConceptProperty{Code: propCommentIsMandatory, ValueBoolean: ptr(c.CommentIsMandatory)})
		businessFunctions()
		for _, u := range c.Usage {
			coding(propUsage, systemApptUsage, u)
		}
	case triage.CodeSystemReferralCancellationReason:
		if c.ReasonType != "" {
			coding(propRequestReasonType, systemRequestReasonType, c.ReasonType)
		}
		add(ConceptProperty{Code: propCommentIsMandatory, ValueBoolean: ptr(c.CommentIsMandatory)})
		add(ConceptProperty{Code: propCanCancelAppointment, ValueBoolean: ptr(c.CanCancelAppointment)})
		businessFunctions()
		for _, u := range c.Usage {
			coding(propReferrerUsage, systemReferrerUsage, u)
		}
	case triage.CodeSystemClinicType:
		if !c.Specialty.IsZero() {
			add(ConceptProperty{Code: propSpecialty, ValueCoding: ptr(fromCoding(c.Specialty))})
		}
	case triage.CodeSystemPriority:
		add(ConceptProperty{Code: propDeferContactDays, ValueInteger: ptr(c.DeferToProviderContactDays)})
		add(ConceptProperty{Code: propTriageContactDays, ValueInteger: ptr(c.TriageContactDays)})
	}
	return out
}
