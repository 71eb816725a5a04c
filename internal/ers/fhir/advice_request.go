package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// resolver finds the resources an A&G resource refers to: its own contained
// resources ("#id") and, in a conversation, the resources the Bundle
// included ("PractitionerRole/{id}", "DocumentReference/{id}").
type resolver struct {
	contained containedIndex
	included  map[string]*Resource
}

func (rv resolver) resolve(ref string) *Resource {
	if strings.HasPrefix(ref, "#") {
		return rv.contained.local(ref)
	}
	return rv.included[ref]
}

// role resolves a reference to a PractitionerRole, falling back to reading
// the role from the reference itself.
func (rv resolver) role(ref string) triage.ClinicianRole {
	if ref == "" {
		return triage.ClinicianRole{}
	}
	if res := rv.resolve(ref); res != nil && res.PractitionerRole != nil {
		return roleFromFHIR(res.PractitionerRole)
	}
	return roleFromID(ref)
}

// roleRef returns the PractitionerRole reference carried in a reference's
// Extension-PractitionerRole-Reference-1 (a sender or requester agent).
func roleRef(r *Reference) string {
	if r == nil {
		return ""
	}
	if e := r.Extension.Find(ExtPractitionerRoleReference); e != nil && e.ValueReference != nil {
		return e.ValueReference.Reference
	}
	return r.Reference
}

// documents maps the payload's DocumentReferences, in order. A reference
// that cannot be resolved is kept as a document with its id only, so a file
// is never hidden.
func (rv resolver) documents(payload []CommunicationPayload, seen map[*DocumentReference]bool) ([]triage.Document, error) {
	var out []triage.Document
	for _, p := range payload {
		if p.ContentReference == nil || p.ContentReference.Reference == "" {
			continue
		}
		ref := p.ContentReference.Reference
		res := rv.resolve(ref)
		if res == nil || res.DocumentReference == nil {
			id, ok := refID(ref, TypeDocumentReference)
			if !ok {
				id = strings.TrimPrefix(strings.TrimPrefix(ref, "#"), docIDPrefix)
			}
			out = append(out, triage.Document{ID: id})
			continue
		}
		if seen[res.DocumentReference] {
			continue
		}
		seen[res.DocumentReference] = true
		d, err := documentFromFHIR(res.DocumentReference)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out), err)
		}
		out = append(out, d)
	}
	return out, nil
}

// DecodeAdviceRequest decodes an A024 response (a CommunicationRequest) into
// the request summary: version from meta.versionId (0 when absent; the
// caller may fall back to the ETag), category, priority, specialty, clinic
// type, service (from the shortlist, else the recipient), the referrer's
// conversion authorisation, the requester's role and the attachments (in
// payload order, then any other contained). Codes it does not know are kept
// as given. It returns an error, without patient data, for malformed JSON,
// another resource type, a missing id, a version that is not a whole number,
// or a bad date.
func DecodeAdviceRequest(b []byte) (*triage.AdviceRequest, error) {
	return decodeMapped(b, TypeCommunicationReq, "advice request",
		func(cr *CommunicationRequest) *string { return &cr.ResourceType }, AdviceRequestFromFHIR)
}

// AdviceRequestFromFHIR maps a decoded CommunicationRequest, as
// DecodeAdviceRequest does.
func AdviceRequestFromFHIR(cr *CommunicationRequest) (*triage.AdviceRequest, error) {
	if cr == nil || cr.ID == "" {
		return nil, errors.New("advice request has no id (UBRN)")
	}
	r := &triage.AdviceRequest{UBRN: cr.ID, Status: cr.Status, RequestID: requestID(cr.Identifier), NHSNumber: subjectNHSNumber(cr.Subject)}
	var err error
	if r.Version, err = metaVersion(cr.Meta); err != nil {
		return nil, err
	}
	for _, c := range cr.Category {
		if cd := c.First(); cd.Code != "" {
			r.Category = triage.AdviceCategory(cd.Code)
			break
		}
	}
	ext := cr.Extension
	r.Priority = triage.Priority(codingOf(ext.Find(ExtReferralPriority)).Code)
	r.Specialty = toCoding(codingOf(ext.Find(ExtSpecialty)))
	r.Conversion = triage.ConversionAuthorisation(codingOf(ext.Find(ExtConversionAuthorisation)).Code)
	idx := indexContained(cr.Contained)
	r.Service = referralService(nil, idx)
	if r.Service.ID == "" {
		for _, rc := range cr.Recipient {
			if e := rc.Extension.Find(ExtHealthcareServiceRef); e != nil && e.ValueReference != nil && e.ValueReference.Identifier != nil {
				r.Service = triage.Service{ID: e.ValueReference.Identifier.Value, Name: e.ValueReference.Display}
				break
			}
		}
	}
	r.ClinicType = referralClinicType(idx)
	rv := resolver{contained: idx}
	var agent *Reference
	if cr.Requester != nil {
		agent = cr.Requester.Agent
	}
	if ref := roleRef(agent); ref != "" {
		r.Requester = rv.role(ref)
	} else {
		r.Requester = rv.role(roleRef(cr.Sender))
	}
	seen := map[*DocumentReference]bool{}
	docs, err := rv.documents(cr.Payload, seen)
	if err != nil {
		return nil, err
	}
	r.Documents = docs
	for _, res := range cr.Contained {
		if res == nil || res.DocumentReference == nil || seen[res.DocumentReference] {
			continue
		}
		seen[res.DocumentReference] = true
		d, err := documentFromFHIR(res.DocumentReference)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(r.Documents), err)
		}
		r.Documents = append(r.Documents, d)
	}
	return r, nil
}

// conversionDisplay is the display e-RS gives each conversion authorisation.
var conversionDisplay = map[triage.ConversionAuthorisation]string{
	triage.ConversionAuthorised:    "Referrer has allowed the Service Provider to convert the Advice and Guidance to a Referral",
	triage.ConversionNotAuthorised: "Referrer has NOT allowed the Service Provider to convert the Advice and Guidance to a Referral",
}

// EncodeAdviceRequest builds the A024 CommunicationRequest for a request, in
// the shape of the published examples: the service search criteria,
// shortlist, requester's PractitionerRole and DocumentReferences contained.
// DecodeAdviceRequest of the result gives back r (times at millisecond
// precision).
func EncodeAdviceRequest(r *triage.AdviceRequest) *CommunicationRequest {
	cr := &CommunicationRequest{
		ResourceType: TypeCommunicationReq,
		ID:           r.UBRN,
		Meta:         &Meta{Profile: []string{ProfileCommunicationRequest}},
		Status:       r.Status,
	}
	if cr.Status == "" {
		cr.Status = "active"
	}
	if r.Version > 0 {
		cr.Meta.VersionID = strconv.Itoa(r.Version)
	}
	if r.Priority != "" {
		cr.Extension = append(cr.Extension, Extension{URL: ExtReferralPriority,
			ValueCodeableConcept: concept(triage.SystemPriority, string(r.Priority), priorityDisplay[r.Priority])})
	}
	if r.Conversion != "" {
		cr.Extension = append(cr.Extension, Extension{URL: ExtConversionAuthorisation, ValueCoding: &Coding{
			System: triage.SystemProviderConversionAuthorisation, Code: string(r.Conversion), Display: conversionDisplay[r.Conversion]}})
	}
	cr.Extension = append(cr.Extension, Extension{URL: ExtReferralShortlist, ValueReference: &Reference{Reference: "#" + idShortlist}})
	if !r.Specialty.IsZero() {
		cr.Extension = append(cr.Extension, Extension{URL: ExtSpecialty, ValueCoding: ptr(fromCoding(r.Specialty))})
	}
	if r.Service.ID != "" {
		cr.Recipient = []Reference{{Extension: Extensions{{URL: ExtHealthcareServiceRef,
			ValueReference: &Reference{Identifier: &Identifier{System: IDService, Value: r.Service.ID}}}}}}
	}
	cr.Contained = append(cr.Contained, encodeSearch(r.Priority, r.Specialty, r.ClinicType, r.Service)...)
	if !r.Requester.IsZero() {
		id := TypePractitionerRole + "." + roleID(r.Requester)
		cr.Contained = append(cr.Contained, &Resource{PractitionerRole: encodeRole(r.Requester, id)})
		cr.Sender = roleReference("#" + id)
		cr.Requester = &CommunicationRequester{Agent: roleReference("#" + id)}
	}
	for i, d := range r.Documents {
		dr := encodeContainedDocument(i, d)
		cr.Contained = append(cr.Contained, &Resource{DocumentReference: dr})
		cr.Payload = append(cr.Payload, CommunicationPayload{ContentReference: &Reference{Reference: "#" + dr.ID}})
	}
	if r.Category != "" {
		cr.Category = []CodeableConcept{*concept(triage.SystemAdviceAndGuidanceStatus, string(r.Category), "")}
	}
	if r.NHSNumber != "" {
		cr.Subject = &Reference{Identifier: &Identifier{System: IDNHSNumber, Value: r.NHSNumber}}
	}
	if r.RequestID != "" {
		cr.Identifier = []Identifier{{System: IDRequestID, Value: r.RequestID}}
	}
	return cr
}

// roleReference is a reference carrying a PractitionerRole reference in
// Extension-PractitionerRole-Reference-1, as e-RS writes senders.
func roleReference(ref string) *Reference {
	return &Reference{Extension: Extensions{{URL: ExtPractitionerRoleReference, ValueReference: &Reference{Reference: ref}}}}
}

// basedOn reads "CommunicationRequest/{ubrn}/_history/{version}" (the
// version is optional).
func basedOn(ref string) (ubrn string, version int, ok bool) {
	rest, found := strings.CutPrefix(ref, TypeCommunicationReq+"/")
	if !found {
		return "", 0, false
	}
	ubrn, hist, hasHist := strings.Cut(rest, "/_history/")
	if ubrn == "" || strings.Contains(ubrn, "/") {
		return "", 0, false
	}
	if !hasHist {
		return ubrn, 0, true
	}
	v, err := strconv.Atoi(hist)
	if err != nil || v <= 0 {
		return "", 0, false
	}
	return ubrn, v, true
}
