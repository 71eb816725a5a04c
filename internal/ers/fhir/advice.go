package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	var it triage.AdviceItem
	ext := e.Extension.Find(ExtAdviceWorklistItem)
	if ext == nil {
		return it, ErrNotAdviceWorklist
	}
	ubrn, ok := refID(e.Item.Reference, TypeCommunicationReq)
	if !ok {
		return it, errors.New("no CommunicationRequest reference")
	}
	it.UBRN = ubrn
	sub := ext.Extension
	var err error
	if it.NHSNumber, err = idx.itemPatient(sub); err != nil {
		return it, err
	}
	it.Priority = triage.Priority(codingOf(sub.Find("priority")).Code)
	it.Specialty = toCoding(codingOf(sub.Find("specialty")))
	it.ClinicType = toCoding(codingOf(sub.Find("clinicType")))
	it.Category = triage.AdviceCategory(codingOf(sub.Find("category")).Code)
	it.Service = serviceOf(sub.Find("service"))
	if r := sub.Find("referrer"); r != nil {
		it.Referrer = idx.practitionerID(r.ValueReference)
	}
	if n := sub.Find("namedClinician"); n != nil {
		it.NamedClinician = idx.practitionerID(n.ValueReference)
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
	l := &List{
		ResourceType: TypeList,
		Meta:         &Meta{Profile: []string{ProfileFetchWorklistList}},
		Status:       "current",
		Mode:         "snapshot",
		Entry:        make([]ListEntry, 0, len(items)),
	}
	for i := range items {
		it := &items[i]
		var sub Extensions
		add := func(e Extension) { sub = append(sub, e) }
		addTime := func(url string, t time.Time) {
			if !t.IsZero() {
				add(Extension{URL: url, ValueDateTime: formatDateTime(t)})
			}
		}
		user := func(url, sds string) {
			if sds != "" {
				add(Extension{URL: url, ValueReference: &Reference{Identifier: &Identifier{System: IDSDSUser, Value: sds}}})
			}
		}
		if it.Priority != "" {
			add(Extension{URL: "priority", ValueCodeableConcept: concept(triage.SystemPriority, string(it.Priority), "")})
		}
		if !it.Specialty.IsZero() {
			add(Extension{URL: "specialty", ValueCodeableConcept: &CodeableConcept{Coding: []Coding{fromCoding(it.Specialty)}}})
		}
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
	var cr CommunicationRequest
	if err := decodeAs(b, &cr, &cr.ResourceType, TypeCommunicationReq); err != nil {
		return nil, fmt.Errorf("decode advice request: %w", err)
	}
	r, err := AdviceRequestFromFHIR(&cr)
	if err != nil {
		return nil, fmt.Errorf("decode advice request: %w", err)
	}
	return r, nil
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
	criteria := &Parameters{ResourceType: TypeParameters, ID: idSearchCriteria, Meta: &Meta{Profile: []string{ProfileServiceSearchCriteria}}}
	if r.Priority != "" {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "priority", ValueCoding: &Coding{System: triage.SystemPriority, Code: string(r.Priority)}})
	}
	if !r.Specialty.IsZero() {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "specialty", ValueCoding: &Coding{System: r.Specialty.System, Code: r.Specialty.Code}})
	}
	if !r.ClinicType.IsZero() {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "clinicType", ValueCoding: ptr(fromCoding(r.ClinicType))})
	}
	shortlist := &List{
		ResourceType: TypeList, ID: idShortlist, Meta: &Meta{Profile: []string{ProfileShortlist}},
		Extension: Extensions{{URL: ExtShortlistSearchCriteria, ValueReference: &Reference{Reference: "#" + idSearchCriteria}}},
		Status:    "current", Mode: "snapshot",
	}
	if r.Service.ID != "" {
		shortlist.Entry = []ListEntry{{Item: Reference{Identifier: &Identifier{System: IDService, Value: r.Service.ID}, Display: r.Service.Name}}}
		cr.Recipient = []Reference{{Extension: Extensions{{URL: ExtHealthcareServiceRef,
			ValueReference: &Reference{Identifier: &Identifier{System: IDService, Value: r.Service.ID}}}}}}
	}
	cr.Contained = append(cr.Contained, &Resource{Parameters: criteria}, &Resource{List: shortlist})
	if !r.Requester.IsZero() {
		id := TypePractitionerRole + "." + roleID(r.Requester)
		cr.Contained = append(cr.Contained, &Resource{PractitionerRole: encodeRole(r.Requester, id)})
		cr.Sender = roleReference("#" + id)
		cr.Requester = &CommunicationRequester{Agent: roleReference("#" + id)}
	}
	for i, d := range r.Documents {
		dr := encodeDocument(d)
		dr.ID = docIDPrefix + d.ID
		if d.ID == "" {
			dr.ID = docIDPrefix + strconv.Itoa(i)
		}
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

// messageFromFHIR maps one Communication; rv resolves its references. It
// returns the UBRN and version the message is based on.
func messageFromFHIR(c *Communication, rv resolver) (triage.AdviceMessage, string, int, error) {
	m := triage.AdviceMessage{ID: c.ID}
	if c.ID == "" {
		return m, "", 0, errors.New("message has no id")
	}
	var ubrn string
	var version int
	for _, b := range c.BasedOn {
		if u, v, ok := basedOn(b.Reference); ok {
			ubrn, version = u, v
			break
		}
	}
	if ubrn == "" {
		return m, "", 0, errors.New("message is not based on an advice request")
	}
	var err error
	if m.Sent, err = parseTime(c.Sent); err != nil {
		return m, "", 0, fmt.Errorf("sent: %w", err)
	}
	for _, cat := range c.Category {
		if cd := cat.First(); cd.Code != "" {
			m.SentBy = triage.MessageSender(cd.Code)
			break
		}
	}
	ref := roleRef(c.Sender)
	if ref == "" {
		if e := c.Extension.Find(ExtCommunicationRequester); e != nil && e.ValueReference != nil {
			ref = e.ValueReference.Reference
		}
	}
	m.Author = rv.role(ref)
	var texts []string
	for _, n := range c.Note {
		if strings.TrimSpace(n.Text) != "" {
			texts = append(texts, n.Text)
		}
	}
	for _, p := range c.Payload {
		if strings.TrimSpace(p.ContentString) != "" {
			texts = append(texts, p.ContentString)
		}
	}
	m.Text = strings.Join(texts, "\n\n")
	if m.Documents, err = rv.documents(c.Payload, map[*DocumentReference]bool{}); err != nil {
		return m, "", 0, err
	}
	return m, ubrn, version, nil
}

// DecodeAdviceConversation decodes an A025 response (a searchset Bundle of
// Communications with the included PractitionerRoles and DocumentReferences)
// into the conversation, oldest message first (see triage.SortMessages).
// Every message is kept, whoever sent it; authors and files are resolved
// against the included resources (a role not included is read from its id).
// Each message's RequestUBRN is the request it is based on; the
// conversation's UBRN is the first message's and its version the highest
// any message is based on (both empty without messages). Messages of more
// than one request are decoded as they are: the caller, who knows which
// request it asked for, refuses them with AdviceConversation.BelongsTo.
//
// It returns an error for malformed JSON, a resource other than a Bundle, a
// message without an id or not based on an advice request, two messages
// with the same id, or a bad date.
func DecodeAdviceConversation(b []byte) (*triage.AdviceConversation, error) {
	var bun Bundle
	if err := decodeAs(b, &bun, &bun.ResourceType, TypeBundle); err != nil {
		return nil, fmt.Errorf("decode advice conversation: %w", err)
	}
	rv := resolver{included: map[string]*Resource{}}
	for _, e := range bun.Entry {
		switch {
		case e.Resource == nil:
		case e.Resource.PractitionerRole != nil:
			rv.included[TypePractitionerRole+"/"+e.Resource.PractitionerRole.ID] = e.Resource
		case e.Resource.DocumentReference != nil:
			rv.included[TypeDocumentReference+"/"+e.Resource.DocumentReference.ID] = e.Resource
		}
	}
	conv := &triage.AdviceConversation{Messages: []triage.AdviceMessage{}}
	ids := map[string]bool{}
	for i, e := range bun.Entry {
		if e.Resource == nil || e.Resource.Communication == nil {
			continue
		}
		c := e.Resource.Communication
		rv.contained = indexContained(c.Contained)
		m, ubrn, version, err := messageFromFHIR(c, rv)
		if err != nil {
			return nil, fmt.Errorf("decode advice conversation: entry %d: %w", i, err)
		}
		if conv.UBRN == "" {
			conv.UBRN = ubrn
		}
		m.RequestUBRN = ubrn
		if ids[m.ID] {
			return nil, fmt.Errorf("decode advice conversation: entry %d: two messages with the same id", i)
		}
		ids[m.ID] = true
		conv.Version = max(conv.Version, version)
		conv.Messages = append(conv.Messages, m)
	}
	triage.SortMessages(conv.Messages)
	return conv, nil
}

// ConversationEncoding says how EncodeAdviceConversation writes a
// conversation: which _includes were asked for, and the recipients e-RS
// names (the service for the referrer's messages, the provider organisation
// for the provider's).
type ConversationEncoding struct {
	IncludeRequesterRoles bool
	IncludeSenderRoles    bool
	IncludeDocuments      bool
	ServiceID             string
	ProviderODS           string
	// SelfLink is the Bundle's self link (the request URL).
	SelfLink string
}

// EncodeAdviceConversation builds the A025 response for the conversation:
// one Communication per message (search mode match), then, as asked, the
// authors' PractitionerRoles and the messages' DocumentReferences (search
// mode include). DecodeAdviceConversation of the result gives back the
// conversation (times at millisecond precision).
func EncodeAdviceConversation(conv *triage.AdviceConversation, enc ConversationEncoding) *Bundle {
	bun := &Bundle{ResourceType: TypeBundle, Meta: &Meta{Profile: []string{ProfileBundle}}, Type: "searchset",
		Total: ptr(len(conv.Messages))}
	if enc.SelfLink != "" {
		bun.Link = []BundleLink{{Relation: "self", URL: enc.SelfLink}}
	}
	var roles, docs []BundleEntry
	seen := map[string]bool{}
	for _, m := range conv.Messages {
		c := encodeMessage(m, conv.UBRN, conv.Version, enc, false)
		bun.Entry = append(bun.Entry, BundleEntry{FullURL: TypeCommunication + "/" + m.ID,
			Resource: &Resource{Communication: c}, Search: &BundleSearch{Mode: "match"}})
		if !m.Author.IsZero() && (enc.IncludeSenderRoles || enc.IncludeRequesterRoles) {
			id := roleID(m.Author)
			if !seen["r"+id] {
				seen["r"+id] = true
				roles = append(roles, BundleEntry{FullURL: TypePractitionerRole + "/" + id,
					Resource: &Resource{PractitionerRole: encodeRole(m.Author, id)}, Search: &BundleSearch{Mode: "include"}})
			}
		}
		if enc.IncludeDocuments {
			for _, d := range m.Documents {
				if d.ID == "" || seen["d"+d.ID] {
					continue
				}
				seen["d"+d.ID] = true
				dr := encodeDocument(d)
				dr.ID = d.ID
				docs = append(docs, BundleEntry{FullURL: TypeDocumentReference + "/" + d.ID,
					Resource: &Resource{DocumentReference: dr}, Search: &BundleSearch{Mode: "include"}})
			}
		}
	}
	bun.Entry = append(append(bun.Entry, roles...), docs...)
	return bun
}

// encodeMessage builds a Communication. With contained set (an A026
// response) its author and files are contained and referred to with "#";
// otherwise they are referred to as "PractitionerRole/{id}" and
// "DocumentReference/{id}" for a Bundle to include.
func encodeMessage(m triage.AdviceMessage, ubrn string, version int, enc ConversationEncoding, contained bool) *Communication {
	c := &Communication{
		ResourceType: TypeCommunication,
		ID:           m.ID,
		Meta:         &Meta{VersionID: "0", Profile: []string{ProfileCommunication}},
		Status:       "completed",
		Sent:         formatDateTime(m.Sent),
	}
	if m.RequestUBRN != "" {
		ubrn = m.RequestUBRN
	}
	based := TypeCommunicationReq + "/" + ubrn
	if version > 0 {
		based += "/_history/" + strconv.Itoa(version)
	}
	c.BasedOn = []Reference{{Reference: based}}
	if m.SentBy != "" {
		c.Category = []CodeableConcept{*concept(triage.SystemCommunicationSentBy, string(m.SentBy), "")}
	}
	if !m.Author.IsZero() {
		ref := TypePractitionerRole + "/" + roleID(m.Author)
		if contained {
			id := TypePractitionerRole + "." + roleID(m.Author)
			c.Contained = append(c.Contained, &Resource{PractitionerRole: encodeRole(m.Author, id)})
			ref = "#" + id
		}
		c.Extension = Extensions{{URL: ExtCommunicationRequester, ValueReference: &Reference{Reference: ref}}}
		c.Sender = roleReference(ref)
	}
	switch {
	case m.SentBy.FromProvider() && enc.ProviderODS != "":
		c.Recipient = []Reference{{Identifier: &Identifier{System: IDODS, Value: enc.ProviderODS}}}
	case !m.SentBy.FromProvider() && enc.ServiceID != "":
		c.Recipient = []Reference{{Extension: Extensions{{URL: ExtHealthcareServiceRef,
			ValueReference: &Reference{Identifier: &Identifier{System: IDService, Value: enc.ServiceID}}}}}}
	}
	for _, d := range m.Documents {
		ref := TypeDocumentReference + "/" + d.ID
		if contained {
			dr := encodeDocument(d)
			dr.ID = docIDPrefix + d.ID
			c.Contained = append(c.Contained, &Resource{DocumentReference: dr})
			ref = "#" + dr.ID
		}
		c.Payload = append(c.Payload, CommunicationPayload{ContentReference: &Reference{Reference: ref}})
	}
	if m.Text != "" {
		c.Note = []Annotation{{Text: m.Text}}
	}
	return c
}

// AdviceReplyParameters builds the A026 body that sends the reply, in the
// parameter order of the published examples: guidanceOutcome, the intended
// recommendation (with advice only), guidance, updatedPriority and one
// GUIDANCE_RESPONSE DocumentReference per attachment, indexed at its
// AttachedAt (else the reply's DecidedAt). Codings are sent without display.
//
// It returns an error for an outcome a reply cannot have, advice without a
// recommendation, no priority, or an attachment not yet uploaded (A020). It
// does not apply the other rules; call AdviceReply.Validate for those.
func AdviceReplyParameters(r triage.AdviceReply) (*Parameters, error) {
	if !r.Outcome.Sendable() {
		return nil, fmt.Errorf("A026: %q is not an outcome a reply can have", clip(string(r.Outcome)))
	}
	if r.Outcome == triage.GuidanceReturnWithAdvice && r.Recommendation == "" {
		return nil, errors.New("A026: advice needs an intended recommendation")
	}
	if r.Priority == "" {
		return nil, errors.New("A026: the priority is required")
	}
	p := &Parameters{ResourceType: TypeParameters, Meta: &Meta{Profile: []string{ProfileSendCommunicationRequest}}}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	add(Parameter{Name: paramGuidanceOutcome, ValueCoding: &Coding{System: triage.SystemGuidanceResponseOutcome, Code: string(r.Outcome)}})
	if r.Recommendation != "" {
		add(Parameter{Name: paramGuidanceRecommendation, ValueCoding: &Coding{System: triage.SystemGuidanceIntendedRecommendation, Code: string(r.Recommendation)}})
	}
	add(Parameter{Name: paramGuidance, ValueString: ptr(r.Guidance)})
	add(Parameter{Name: paramUpdatedPriority, ValueCoding: &Coding{System: triage.SystemPriority, Code: string(r.Priority)}})
	if err := addAttachments(p, paramGuidanceAttachment, triage.AttachmentGuidanceResponse, r.Attachments, r.DecidedAt); err != nil {
		return nil, fmt.Errorf("A026: %w", err)
	}
	return p, nil
}

func addAttachments(p *Parameters, name string, typ triage.AttachmentType, as []triage.ProviderAttachment, decided time.Time) error {
	for i, a := range as {
		if a.BinaryID == "" {
			return fmt.Errorf("attachment %d has not been uploaded", i)
		}
		p.Parameter = append(p.Parameter, Parameter{Name: name, Resource: &Resource{DocumentReference: providerAttachment(a, typ, decided)}})
	}
	return nil
}

// paramReader reads the parameters of an operation body: each must be
// allowed, and only the repeatable ones may appear more than once.
type paramReader struct {
	op         string
	allowed    map[string]bool // name: required
	repeatable map[string]bool
	seen       map[string]bool
}

func (pr *paramReader) read(b []byte, each func(pp Parameter) error) error {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return fmt.Errorf("%s: %w", pr.op, err)
	}
	pr.seen = map[string]bool{}
	for _, pp := range p.Parameter {
		if _, ok := pr.allowed[pp.Name]; !ok {
			return fmt.Errorf("%s: parameter %q: %w", pr.op, clip(pp.Name), errUnknownParameter)
		}
		if pr.seen[pp.Name] && !pr.repeatable[pp.Name] {
			return fmt.Errorf("%s: parameter %q: repeated", pr.op, pp.Name)
		}
		pr.seen[pp.Name] = true
		if err := each(pp); err != nil {
			return fmt.Errorf("%s: parameter %q: %w", pr.op, pp.Name, err)
		}
	}
	for name, required := range pr.allowed {
		if required && !pr.seen[name] {
			return fmt.Errorf("%s: parameter %q is missing", pr.op, name)
		}
	}
	return nil
}

func codingValue(pp Parameter) (string, error) {
	if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
		return "", errNoValue
	}
	return pp.ValueCoding.Code, nil
}

func stringValue(pp Parameter) (string, error) {
	if pp.ValueString == nil {
		return "", errNoValue
	}
	return *pp.ValueString, nil
}

func attachmentValue(pp Parameter) (triage.ProviderAttachment, error) {
	a, indexed, err := parseAttachmentParameter(pp)
	a.AttachedAt = indexed
	return a, err
}

// ParseAdviceReplyParameters reads an A026 body back into a reply: Outcome,
// Recommendation, Guidance, Priority and Attachments (BinaryID, Description
// and AttachedAt from each indexed time). UBRN, version and identity come
// from the request's path and headers and are left empty. It returns an
// error, naming the parameter, for malformed JSON, another resource type, a
// parameter A026 does not take, a repeated single parameter, a value of the
// wrong type, an attachment that is not a Binary reference, or a missing
// guidanceOutcome or updatedPriority.
func ParseAdviceReplyParameters(b []byte) (triage.AdviceReply, error) {
	var r triage.AdviceReply
	pr := paramReader{op: "A026",
		allowed: map[string]bool{paramGuidanceOutcome: true, paramGuidanceRecommendation: false, paramGuidance: false,
			paramUpdatedPriority: true, paramGuidanceAttachment: false},
		repeatable: map[string]bool{paramGuidanceAttachment: true}}
	err := pr.read(b, func(pp Parameter) error {
		var err error
		var code string
		switch pp.Name {
		case paramGuidanceOutcome:
			code, err = codingValue(pp)
			r.Outcome = triage.GuidanceOutcome(code)
		case paramGuidanceRecommendation:
			code, err = codingValue(pp)
			r.Recommendation = triage.IntendedRecommendation(code)
		case paramGuidance:
			r.Guidance, err = stringValue(pp)
		case paramUpdatedPriority:
			code, err = codingValue(pp)
			r.Priority = triage.Priority(code)
		case paramGuidanceAttachment:
			var a triage.ProviderAttachment
			if a, err = attachmentValue(pp); err == nil {
				r.Attachments = append(r.Attachments, a)
			}
		}
		return err
	})
	if err != nil {
		return triage.AdviceReply{}, err
	}
	return r, nil
}

// DecodeAdviceReplyResponse decodes an A026 response (Parameters
// eRS-SendCommunicationToRequester-Response-Parameters-1) into the updated
// request and the message the reply created. It returns an error for
// malformed JSON, another resource type, a response without either, a
// message not based on the updated request, or what DecodeAdviceRequest
// refuses.
func DecodeAdviceReplyResponse(b []byte) (*triage.AdviceRequest, triage.AdviceMessage, error) {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	up := p.Get(paramUpdatedRequest)
	if up == nil || up.Resource == nil || up.Resource.CommunicationReq == nil {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: no updatedCommunicationRequest")
	}
	req, err := AdviceRequestFromFHIR(up.Resource.CommunicationReq)
	if err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	cp := p.Get(paramCreatedCommunication)
	if cp == nil || cp.Resource == nil || cp.Resource.Communication == nil {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: no createdCommunication")
	}
	c := cp.Resource.Communication
	m, ubrn, _, err := messageFromFHIR(c, resolver{contained: indexContained(c.Contained)})
	if err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	if ubrn != req.UBRN {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: the message is not based on the updated request")
	}
	m.RequestUBRN = ubrn
	return req, m, nil
}

// EncodeAdviceReplyResponse builds the A026 response: the updated request
// and the created message (its author and files contained).
func EncodeAdviceReplyResponse(r *triage.AdviceRequest, m triage.AdviceMessage, providerODS string) *Parameters {
	return &Parameters{
		ResourceType: TypeParameters,
		Meta:         &Meta{Profile: []string{ProfileSendCommunicationResponse}},
		Parameter: []Parameter{
			{Name: paramUpdatedRequest, Resource: &Resource{CommunicationReq: EncodeAdviceRequest(r)}},
			{Name: paramCreatedCommunication, Resource: &Resource{Communication: encodeMessage(m, r.UBRN, r.Version,
				ConversationEncoding{ProviderODS: providerODS}, true)}},
		},
	}
}

// AdviceConversionParameters builds the A027 body that converts the request
// into a referral, in the parameter order of the published examples:
// createFrom ("CommunicationRequest/{ubrn}/_history/{version}"), guidance,
// newReferralPriority, reviewComments, then one GUIDANCE_RESPONSE
// DocumentReference per guidance attachment and one PROVIDER
// DocumentReference per review attachment, each indexed at its AttachedAt
// (else DecidedAt).
//
// It returns an error for a conversion without a UBRN, version or priority,
// or with an attachment not yet uploaded. It does not apply the other
// rules; call AdviceConversion.Validate for those.
func AdviceConversionParameters(c triage.AdviceConversion) (*Parameters, error) {
	if c.UBRN == "" || c.BaseVersion <= 0 {
		return nil, errors.New("A027: the request's UBRN and version are required")
	}
	if c.Priority == "" {
		return nil, errors.New("A027: the new referral's priority is required")
	}
	p := &Parameters{ResourceType: TypeParameters, Meta: &Meta{Profile: []string{ProfileCreateFromCommunication}}}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	add(Parameter{Name: paramCreateFrom, ValueReference: &Reference{
		Reference: TypeCommunicationReq + "/" + c.UBRN + "/_history/" + strconv.Itoa(c.BaseVersion)}})
	add(Parameter{Name: paramGuidance, ValueString: ptr(c.Guidance)})
	add(Parameter{Name: paramNewReferralPriority, ValueCoding: &Coding{System: triage.SystemPriority, Code: string(c.Priority)}})
	add(Parameter{Name: paramReviewComments, ValueString: ptr(c.ReviewComments)})
	if err := addAttachments(p, paramGuidanceAttachment, triage.AttachmentGuidanceResponse, c.GuidanceAttachments, c.DecidedAt); err != nil {
		return nil, fmt.Errorf("A027: guidance %w", err)
	}
	if err := addAttachments(p, paramReviewAttachment, triage.AttachmentProvider, c.ReviewAttachments, c.DecidedAt); err != nil {
		return nil, fmt.Errorf("A027: review %w", err)
	}
	return p, nil
}

// ParseAdviceConversionParameters reads an A027 body back into a
// conversion: UBRN and BaseVersion from createFrom, Guidance, Priority,
// ReviewComments and both kinds of attachment (BinaryID, Description and
// AttachedAt). Identity comes from the request's headers. It returns an
// error, naming the parameter, for malformed JSON, another resource type, a
// parameter A027 does not take, a repeated single parameter, a value of the
// wrong type, a createFrom that is not a versioned CommunicationRequest
// reference, or a missing createFrom or newReferralPriority.
func ParseAdviceConversionParameters(b []byte) (triage.AdviceConversion, error) {
	var c triage.AdviceConversion
	pr := paramReader{op: "A027",
		allowed: map[string]bool{paramCreateFrom: true, paramGuidance: false, paramNewReferralPriority: true,
			paramReviewComments: false, paramGuidanceAttachment: false, paramReviewAttachment: false},
		repeatable: map[string]bool{paramGuidanceAttachment: true, paramReviewAttachment: true}}
	err := pr.read(b, func(pp Parameter) error {
		var err error
		switch pp.Name {
		case paramCreateFrom:
			if pp.ValueReference == nil {
				return errNoValue
			}
			u, v, ok := basedOn(pp.ValueReference.Reference)
			if !ok || v == 0 {
				return errors.New("not a CommunicationRequest/{ubrn}/_history/{version} reference")
			}
			c.UBRN, c.BaseVersion = u, v
		case paramGuidance:
			c.Guidance, err = stringValue(pp)
		case paramNewReferralPriority:
			var code string
			code, err = codingValue(pp)
			c.Priority = triage.Priority(code)
		case paramReviewComments:
			c.ReviewComments, err = stringValue(pp)
		case paramGuidanceAttachment, paramReviewAttachment:
			var a triage.ProviderAttachment
			if a, err = attachmentValue(pp); err == nil {
				if pp.Name == paramGuidanceAttachment {
					c.GuidanceAttachments = append(c.GuidanceAttachments, a)
				} else {
					c.ReviewAttachments = append(c.ReviewAttachments, a)
				}
			}
		}
		return err
	})
	if err != nil {
		return triage.AdviceConversion{}, err
	}
	return c, nil
}
