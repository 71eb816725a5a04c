package fhir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance (A023–A027, A043): the worklist, the request
// (CommunicationRequest), the conversation (a Bundle of Communications) and
// the reply and conversion bodies, mapped to the A&G types of
// internal/triage.

// Extension, profile and code system URLs of Advice and Guidance.
const (
	ExtAdviceWorklistItem        = sd + "Extension-eRS-AdviceAndGuidanceRequests-WorkListItem-1"
	ExtConversionAuthorisation   = sd + "Extension-eRS-ProviderConversionAuthorisation-1"
	ExtSpecialty                 = sd + "Extension-eRS-Specialty-1"
	ExtHealthcareServiceRef      = sd + "Extension-HealthcareService-Reference-1"
	ExtPractitionerRoleReference = sd + "Extension-PractitionerRole-Reference-1"
	ExtCommunicationRequester    = sd + "Extension-Communication-Requester-1"

	ProfileCommunicationRequest      = sd + "eRS-CommunicationRequest-1"
	ProfileCommunication             = sd + "eRS-Communication-1"
	ProfileSendCommunicationRequest  = sd + "eRS-SendCommunicationToRequester-Request-Parameters-1"
	ProfileSendCommunicationResponse = sd + "eRS-SendCommunicationToRequester-Response-Parameters-1"
	ProfileCreateFromCommunication   = sd + "eRS-CreateFromCommunicationRequestActionLater-Request-Parameters-1"
	ProfileCareConnectRole           = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-PractitionerRole-1"

	SystemCommunicationListSelector = cs + "eRS-CommunicationListSelector-1"
	// AdviceListSelector is the A023 listType code.
	AdviceListSelector = "ADVICE_AND_GUIDANCE_REQUESTS"
)

// The A025 _include values: the PractitionerRoles of requester and sender,
// and the DocumentReferences of the messages' files. e-RS spells the sender
// include's type "PractionerRole".
const (
	IncludeRequesterRole = "Communication:requester-practitionerrole:PractitionerRole"
	IncludeSenderRole    = "Communication:sender-practitionerrole:PractionerRole"
	IncludeContent       = "Communication:content-reference:DocumentReference"
)

// Parameter names of A026 and A027.
const (
	paramGuidanceOutcome        = "guidanceOutcome"
	paramGuidanceRecommendation = "guidanceIntendedRecommendation"
	paramGuidance               = "guidance"
	paramUpdatedPriority        = "updatedPriority"
	paramGuidanceAttachment     = "guidanceAttachmentFile"
	paramCreateFrom             = "createFrom"
	paramNewReferralPriority    = "newReferralPriority"
	paramUpdatedRequest         = "updatedCommunicationRequest"
	paramCreatedCommunication   = "createdCommunication"
)

// ErrNotAdviceWorklist is wrapped when a worklist entry is not an Advice and
// Guidance item.
var ErrNotAdviceWorklist = errors.New("not an advice and guidance worklist item")

// AdviceWorklistRequest builds the A023 request body: listType
// ADVICE_AND_GUIDANCE_REQUESTS (eRS-CommunicationListSelector-1) and the
// filter, as for A008. Call f.Validate first.
func AdviceWorklistRequest(f WorklistFilter) *Parameters {
	return worklistParameters(SystemCommunicationListSelector, AdviceListSelector, f)
}

// ParseAdviceWorklistRequest reads an A023 body back into its filter. It
// returns an error for what ParseWorklistRequest refuses, and for a listType
// other than ADVICE_AND_GUIDANCE_REQUESTS of eRS-CommunicationListSelector-1.
func ParseAdviceWorklistRequest(b []byte) (WorklistFilter, error) {
	system, code, f, err := parseWorklistParameters(b)
	if err != nil {
		return WorklistFilter{}, err
	}
	if system != SystemCommunicationListSelector || code != AdviceListSelector {
		return WorklistFilter{}, fmt.Errorf("parse advice worklist request: listType %q is not %s", clip(code), AdviceListSelector)
	}
	return f, nil
}

// DecodeAdviceWorklist decodes an A023 response (a List) into its items, in
// the order given. Codes it does not know (category, priority) are kept as
// given, so no item is dropped. It returns an error, naming the entry's
// position but no patient data, for malformed JSON, a resource other than a
// List, an entry that is not an A&G item, without a CommunicationRequest
// reference or patient, or with a bad date or a negative version.
func DecodeAdviceWorklist(b []byte) ([]triage.AdviceItem, error) {
	return decodeList(b, "decode advice worklist", decodeAdviceEntry)
}

func decodeAdviceEntry(e *ListEntry, idx containedIndex) (triage.AdviceItem, error) {
	h, err := readWorklistEntry(e, idx, TypeCommunicationReq, ErrNotAdviceWorklist, ExtAdviceWorklistItem)
	if err != nil {
		return triage.AdviceItem{}, err
	}
	it := triage.AdviceItem{UBRN: h.ubrn, NHSNumber: h.nhsNumber, Priority: h.priority, Specialty: h.specialty, Service: h.service, NamedClinician: h.namedClinician}
	sub := h.sub
	it.ClinicType = toCoding(codingOf(sub.Find("clinicType")))
	it.Category = triage.AdviceCategory(codingOf(sub.Find("category")).Code)
	if r := sub.Find("referrer"); r != nil {
		it.Referrer = idx.practitionerID(r.ValueReference)
	}
	if it.Version, err = versionOf(sub.Find("communicationRequestVersion"), "communicationRequestVersion"); err != nil {
		return it, err
	}
	if it.FirstRequested, err = timeOf(sub.Find("adviceFirstRequested"), "adviceFirstRequested"); err != nil {
		return it, err
	}
	if it.LastUpdated, err = timeOf(sub.Find("adviceLastUpdated"), "adviceLastUpdated"); err != nil {
		return it, err
	}
	return it, nil
}

// EncodeAdviceWorklist builds the A023 response for the items, in the shape
// of the published example: patient, referrer and named clinician by
// identifier, nothing contained.
func EncodeAdviceWorklist(items []triage.AdviceItem) *List {
	l := newWorklistList(len(items))
	for i := range items {
		it := &items[i]
		var sub Extensions
		add, addTime := sub.add, sub.addTime
		user := func(url, sds string) {
			if sds != "" {
				add(Extension{URL: url, ValueReference: &Reference{Identifier: &Identifier{System: IDSDSUser, Value: sds}}})
			}
		}
		sub.addPriorityAndSpecialty(it.Priority, it.Specialty)
		add(Extension{URL: "patient", ValueReference: &Reference{Identifier: &Identifier{System: IDNHSNumber, Value: it.NHSNumber}}})
		user("namedClinician", it.NamedClinician)
		if it.Category != "" {
			add(Extension{URL: "category", ValueCodeableConcept: concept(triage.SystemAdviceAndGuidanceStatus, string(it.Category), "")})
		}
		addTime("adviceFirstRequested", it.FirstRequested)
		addTime("adviceLastUpdated", it.LastUpdated)
		user("referrer", it.Referrer)
		add(Extension{URL: "service", ValueReference: &Reference{
			Identifier: &Identifier{System: IDService, Value: it.Service.ID}, Display: it.Service.Name}})
		if !it.ClinicType.IsZero() {
			add(Extension{URL: "clinicType", ValueCodeableConcept: &CodeableConcept{Coding: []Coding{fromCoding(it.ClinicType)}}})
		}
		add(Extension{URL: "communicationRequestVersion", ValueInteger: ptr(it.Version)})
		l.Entry = append(l.Entry, ListEntry{
			Extension: Extensions{{URL: ExtAdviceWorklistItem, Extension: sub}},
			Item:      Reference{Reference: TypeCommunicationReq + "/" + it.UBRN},
		})
	}
	return l
}

// roleID is the id e-RS gives a PractitionerRole: "{sds}.{ods}.{FUNCTION}"
// with the business function's underscores written as hyphens.
func roleID(r triage.ClinicianRole) string {
	id := r.SDSUserID + "." + r.ODS
	if r.BusinessFunction != "" {
		id += "." + strings.ReplaceAll(string(r.BusinessFunction), "_", "-")
	}
	return id
}

// roleFromID reads a role from a PractitionerRole id or reference when the
// resource itself was not included: "{sds}.{ods}[.{FUNCTION}]", optionally
// prefixed "PractitionerRole/", "#" or "PractitionerRole.". It is an
// inference from the ids e-RS uses; an id of another form gives nothing.
func roleFromID(ref string) triage.ClinicianRole {
	id := strings.TrimPrefix(ref, "#")
	id = strings.TrimPrefix(id, TypePractitionerRole+"/")
	id = strings.TrimPrefix(id, TypePractitionerRole+".")
	parts := strings.Split(id, ".")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return triage.ClinicianRole{}
	}
	for _, r := range parts[0] {
		if r < '0' || r > '9' {
			return triage.ClinicianRole{}
		}
	}
	role := triage.ClinicianRole{SDSUserID: parts[0], ODS: parts[1]}
	if len(parts) == 3 {
		role.BusinessFunction = triage.BusinessFunction(strings.ReplaceAll(parts[2], "-", "_"))
	}
	return role
}

func roleFromFHIR(pr *PractitionerRole) triage.ClinicianRole {
	var r triage.ClinicianRole
	if pr.Practitioner != nil && pr.Practitioner.Identifier != nil {
		r.SDSUserID = pr.Practitioner.Identifier.Value
	}
	if pr.Organization != nil && pr.Organization.Identifier != nil {
		r.ODS = pr.Organization.Identifier.Value
	}
	for _, c := range pr.Code {
		if cd := c.First(); cd.Code != "" {
			r.BusinessFunction = triage.BusinessFunction(cd.Code)
			break
		}
	}
	return r
}

func encodeRole(r triage.ClinicianRole, id string) *PractitionerRole {
	pr := &PractitionerRole{ResourceType: TypePractitionerRole, ID: id, Meta: &Meta{Profile: []string{ProfileCareConnectRole}},
		Practitioner: &Reference{Identifier: &Identifier{System: IDSDSUser, Value: r.SDSUserID}},
		Organization: &Reference{Identifier: &Identifier{System: IDODS, Value: r.ODS}}}
	if r.BusinessFunction != "" {
		pr.Code = []CodeableConcept{*concept(SystemBusinessFunctionSTU3, string(r.BusinessFunction), "")}
	}
	return pr
}
