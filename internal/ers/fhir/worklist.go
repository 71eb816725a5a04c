package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ErrNotProviderWorklist is wrapped when a worklist entry is neither a
// Referrals for Review nor an Appointment Slot Issues item.
var ErrNotProviderWorklist = errors.New("not a provider worklist item")

// DecodeWorklist decodes an A008 response (a List) into the list type and its
// items. It reads both item shapes: Referrals for Review (patient and
// clinicians as references to contained resources) and Appointment Slot
// Issues (patient by identifier, no version). Codes it does not know
// (priority, referral type, context status) are kept as given, so an item is
// never dropped or hidden. The list type is "" for an empty list.
//
// It returns an error, naming the entry's position but no patient data, for
// malformed JSON, a resource other than a List, an entry without a referral
// reference or patient, an entry of another worklist, or a bad date.
func DecodeWorklist(b []byte) (triage.ListType, []triage.WorklistItem, error) {
	items, err := decodeList(b, "decode worklist", decodeWorklistEntry)
	if err != nil || len(items) == 0 {
		return "", items, err
	}
	return items[0].List, items, nil
}

// decodeList decodes an A008 or A023 List, mapping each entry with decode.
// Errors start with what and name the entry's position.
func decodeList[T any](b []byte, what string, decode func(*ListEntry, containedIndex) (T, error)) ([]T, error) {
	var l List
	if err := decodeAs(b, &l, &l.ResourceType, TypeList); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	idx := indexContained(l.Contained)
	items := make([]T, 0, len(l.Entry))
	for i := range l.Entry {
		item, err := decode(&l.Entry[i], idx)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", what, i, err)
		}
		items = append(items, item)
	}
	return items, nil
}

// itemPatient resolves a worklist item's patient to the NHS number.
func (idx containedIndex) itemPatient(sub Extensions) (string, error) {
	if p := sub.Find("patient"); p != nil {
		if nhs, ok := idx.patientNHSNumber(p.ValueReference); ok {
			return nhs, nil
		}
	}
	return "", errors.New("patient missing or not resolvable")
}

// serviceOf reads a worklist item's service reference: id and name.
func serviceOf(e *Extension) triage.Service {
	var svc triage.Service
	if e != nil && e.ValueReference != nil {
		if e.ValueReference.Identifier != nil {
			svc.ID = e.ValueReference.Identifier.Value
		}
		svc.Name = e.ValueReference.Display
	}
	return svc
}

// versionOf reads a worklist item's version (0 when absent); a negative one
// is an error.
func versionOf(e *Extension, field string) (int, error) {
	if e == nil || e.ValueInteger == nil {
		return 0, nil
	}
	if *e.ValueInteger < 0 {
		return 0, fmt.Errorf("%s: negative", field)
	}
	return *e.ValueInteger, nil
}

// worklistEntry is what the entries of both worklists (A008's referrals,
// A023's advice and guidance requests) carry alike in their item
// extension.
type worklistEntry struct {
	url            string     // the item extension's URL
	sub            Extensions // the item extension's own extensions
	ubrn           string
	nhsNumber      string
	priority       triage.Priority
	specialty      triage.Coding
	service        triage.Service
	namedClinician string
}

// add appends e; addTime appends a dateTime extension unless t is zero;
// addPriorityAndSpecialty appends what both worklists' items start with.
// They build a worklist item's extensions.
func (es *Extensions) add(e Extension) { *es = append(*es, e) }

func (es *Extensions) addTime(url string, t time.Time) {
	if !t.IsZero() {
		es.add(Extension{URL: url, ValueDateTime: formatDateTime(t)})
	}
}

func (es *Extensions) addPriorityAndSpecialty(p triage.Priority, specialty triage.Coding) {
	if p != "" {
		es.add(Extension{URL: "priority", ValueCodeableConcept: concept(triage.SystemPriority, string(p), "")})
	}
	if !specialty.IsZero() {
		es.add(Extension{URL: "specialty", ValueCodeableConcept: &CodeableConcept{Coding: []Coding{fromCoding(specialty)}}})
	}
}

// readWorklistEntry reads an entry's item extension, the first of urls the
// entry has (notItem when it has none): the UBRN from the entry's reference
// to a refType, the patient, priority, specialty, service and named
// clinician.
func readWorklistEntry(e *ListEntry, idx containedIndex, refType string, notItem error, urls ...string) (worklistEntry, error) {
	var ext *Extension
	for _, u := range urls {
		if ext = e.Extension.Find(u); ext != nil {
			break
		}
	}
	if ext == nil {
		return worklistEntry{}, notItem
	}
	ubrn, ok := refID(e.Item.Reference, refType)
	if !ok {
		return worklistEntry{}, fmt.Errorf("no %s reference", refType)
	}
	sub := ext.Extension
	h := worklistEntry{url: ext.URL, sub: sub, ubrn: ubrn}
	var err error
	if h.nhsNumber, err = idx.itemPatient(sub); err != nil {
		return worklistEntry{}, err
	}
	h.priority = triage.Priority(codingOf(sub.Find("priority")).Code)
	h.specialty = toCoding(codingOf(sub.Find("specialty")))
	h.service = serviceOf(sub.Find("service"))
	if n := sub.Find("namedClinician"); n != nil {
		h.namedClinician = idx.practitionerID(n.ValueReference)
	}
	return h, nil
}

func decodeWorklistEntry(e *ListEntry, idx containedIndex) (triage.WorklistItem, error) {
	h, err := readWorklistEntry(e, idx, TypeReferralRequest, ErrNotProviderWorklist, ExtReferralsForReviewItem, ExtAppointmentSlotIssuesItem)
	if err != nil {
		return triage.WorklistItem{}, err
	}
	item := triage.WorklistItem{List: triage.ListReferralsForReview, UBRN: h.ubrn, NHSNumber: h.nhsNumber, Priority: h.priority, Specialty: h.specialty, Service: h.service, NamedClinician: h.namedClinician}
	if h.url == ExtAppointmentSlotIssuesItem {
		item.List = triage.ListAppointmentSlotIssues
	}
	sub := h.sub
	if t := codingOf(sub.Find("referralType")).Code; t != "" {
		item.Type = triage.ReferralType(t)
	}
	if c := codingOf(sub.Find("requestContextStatus")).Code; c != "" {
		item.ContextStatus = triage.RequestContextStatus(c)
	}
	if a := sub.Find("allocatedClinician"); a != nil {
		item.AllocatedClinician = idx.practitionerID(a.ValueReference)
	}
	if p := sub.Find("clinicalInfoPrinted"); p != nil && p.ValueBoolean != nil {
		item.ClinicalInfoPrinted = *p.ValueBoolean
	}
	if item.Version, err = versionOf(sub.Find("referralRequestVersion"), "referralRequestVersion"); err != nil {
		return item, err
	}
	item.ReviewReason = codingOf(sub.Find("reason")).Code
	item.ClinicalInformationStatus = codingOf(sub.Find("clinicalInformationStatus")).Code
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{
		{"eReferralPathwayStart", &item.PathwayStart},
		{"clinicalInfoFirstSubmitted", &item.ClinicalInfoFirstSubmitted},
		{"clinicalInfoLastUpdated", &item.ClinicalInfoLastUpdated},
		{"appointmentStart", &item.AppointmentStart},
		{"ubrnReceived", &item.UBRNReceived},
		{"patientContactExpected", &item.PatientContactExpected},
	} {
		t, err := timeOf(sub.Find(f.name), f.name)
		if err != nil {
			return item, err
		}
		*f.dst = t
	}
	return item, nil
}

// requestContextDisplay is the display e-RS gives each request context status.
var requestContextDisplay = map[triage.RequestContextStatus]string{
	triage.ContextNeverReviewed:            "Never Reviewed",
	triage.ContextLetterChanged:            "Letter Changed",
	triage.ContextPriorityChanged:          "Priority Changed",
	triage.ContextPriorityAndLetterChanged: "Priority and Letter Changed",
}

// newWorklistList is an empty A008 or A023 response (eRS-FetchWorklist-List-1)
// with room for n entries.
func newWorklistList(n int) *List {
	return &List{
		ResourceType: TypeList,
		Meta:         &Meta{Profile: []string{ProfileFetchWorklistList}},
		Status:       "current",
		Mode:         "snapshot",
		Entry:        make([]ListEntry, 0, n),
	}
}

// EncodeWorklist builds the A008 response for the items, in the shape of the
// list type: Referrals for Review items refer to contained Patient and
// Practitioner resources (one per distinct NHS number or SDS id) and carry
// the referral version; Appointment Slot Issues items give the patient by
// identifier. Fields the list's shape does not carry are left out.
func EncodeWorklist(list triage.ListType, items []triage.WorklistItem) *List {
	l := newWorklistList(len(items))
	asi := list == triage.ListAppointmentSlotIssues
	var practitioners, patients []*Resource
	seen := map[string]bool{}
	// ref refers to a practitioner or patient by identifier (system,
	// value): as such on Appointment Slot Issues, else to the contained
	// resource id, which contained makes into *into the first time.
	ref := func(system, value, id string, into *[]*Resource, contained func() *Resource) *Reference {
		if asi {
			return &Reference{Identifier: &Identifier{System: system, Value: value}}
		}
		if !seen[id] {
			seen[id] = true
			*into = append(*into, contained())
		}
		return &Reference{Reference: "#" + id}
	}
	practitionerRef := func(sds string) *Reference {
		id := "Practitioner-" + sds
		return ref(IDSDSUser, sds, id, &practitioners, func() *Resource {
			return &Resource{Practitioner: &Practitioner{ResourceType: TypePractitioner, ID: id,
				Meta: &Meta{Profile: []string{ProfilePractitioner}}, Identifier: Identifiers{{System: IDSDSUser, Value: sds}}}}
		})
	}
	patientRef := func(nhs string) *Reference {
		id := "Patient-" + nhs
		return ref(IDNHSNumber, nhs, id, &patients, func() *Resource {
			return &Resource{Patient: &Patient{ResourceType: TypePatient, ID: id,
				Meta: &Meta{Profile: []string{ProfilePatient}}, Identifier: Identifiers{{System: IDNHSNumber, Value: nhs}}}}
		})
	}
	for i := range items {
		it := &items[i]
		var sub Extensions
		add, addTime := sub.add, sub.addTime
		sub.addPriorityAndSpecialty(it.Priority, it.Specialty)
		add(Extension{URL: "patient", ValueReference: patientRef(it.NHSNumber)})
		if it.NamedClinician != "" {
			add(Extension{URL: "namedClinician", ValueReference: practitionerRef(it.NamedClinician)})
		}
		if it.AllocatedClinician != "" && !asi {
			add(Extension{URL: "allocatedClinician", ValueReference: practitionerRef(it.AllocatedClinician)})
		}
		addTime("eReferralPathwayStart", it.PathwayStart)
		add(Extension{URL: "clinicalInfoPrinted", ValueBoolean: ptr(it.ClinicalInfoPrinted)})
		service := Extension{URL: "service", ValueReference: &Reference{
			Identifier: &Identifier{System: IDService, Value: it.Service.ID}, Display: it.Service.Name}}
		if asi {
			addTime("ubrnReceived", it.UBRNReceived)
			if !it.PatientContactExpected.IsZero() {
				add(Extension{URL: "patientContactExpected", ValueDate: formatDate(it.PatientContactExpected)})
			}
			if it.ClinicalInformationStatus != "" {
				add(Extension{URL: "clinicalInformationStatus", ValueCodeableConcept: concept(SystemClinicalInformationStatus, it.ClinicalInformationStatus, "")})
			}
			if it.ReviewReason != "" {
				add(Extension{URL: "reason", ValueCodeableConcept: concept(triage.SystemReviewReason, it.ReviewReason, "")})
			}
			add(service)
		} else {
			if it.ContextStatus != "" {
				add(Extension{URL: "requestContextStatus", ValueCodeableConcept: concept(triage.SystemRequestContextStatus, string(it.ContextStatus), requestContextDisplay[it.ContextStatus])})
			}
			addTime("clinicalInfoFirstSubmitted", it.ClinicalInfoFirstSubmitted)
			addTime("clinicalInfoLastUpdated", it.ClinicalInfoLastUpdated)
			addTime("appointmentStart", it.AppointmentStart)
			if it.Type != "" {
				add(Extension{URL: "referralType", ValueCodeableConcept: concept(triage.SystemReferralType, string(it.Type), "")})
			}
			add(service)
			add(Extension{URL: "referralRequestVersion", ValueInteger: ptr(it.Version)})
		}
		url := ExtReferralsForReviewItem
		if asi {
			url = ExtAppointmentSlotIssuesItem
		}
		l.Entry = append(l.Entry, ListEntry{
			Extension: Extensions{{URL: url, Extension: sub}},
			Item:      Reference{Reference: TypeReferralRequest + "/" + it.UBRN},
		})
	}
	l.Contained = append(practitioners, patients...)
	return l
}

// AssignedIndicator filters a worklist by whether a specialty or clinician
// is assigned (eRS-AssignedIndicator-1).
type AssignedIndicator string

// The assigned indicators. IndicatorAny leaves the filter out.
const (
	IndicatorAny         AssignedIndicator = ""
	IndicatorAssigned    AssignedIndicator = "ASSIGNED"
	IndicatorNotAssigned AssignedIndicator = "NOT_ASSIGNED"
)

// WorklistFilter narrows an A008 worklist. e-RS fails responses over 10 MB, so
// large providers filter by service, specialty, location or clinician. Empty
// fields are not sent.
type WorklistFilter struct {
	// Service is an e-RS service id.
	Service string
	// SpecialtyAssigned filters on whether a specialty is assigned. With a
	// Specialty and no indicator, ASSIGNED is sent.
	SpecialtyAssigned AssignedIndicator
	// Specialty is a SPECIALTY code, with the code system URL from A004.
	Specialty triage.Coding
	// Location is an ODS code.
	Location string
	// ClinicianAssigned filters on whether a clinician is assigned. With a
	// Clinician and no indicator, ASSIGNED is sent.
	ClinicianAssigned AssignedIndicator
	// Clinician is an SDS user id; e-RS requires ClinicianAssigned ASSIGNED.
	Clinician string
}

// Validate reports a filter e-RS would refuse, as
// triage.WorklistFilter.Validate does.
func (f WorklistFilter) Validate() error { return f.Neutral().Validate() }

// NewWorklistFilter is the wire form of a protocol-neutral filter.
func NewWorklistFilter(f triage.WorklistFilter) WorklistFilter {
	return WorklistFilter{Service: f.Service, SpecialtyAssigned: AssignedIndicator(f.SpecialtyAssigned), Specialty: f.Specialty,
		Location: f.Location, ClinicianAssigned: AssignedIndicator(f.ClinicianAssigned), Clinician: f.Clinician}
}

// Neutral is the protocol-neutral form of the filter.
func (f WorklistFilter) Neutral() triage.WorklistFilter {
	return triage.WorklistFilter{Service: f.Service, SpecialtyAssigned: triage.Assigned(f.SpecialtyAssigned), Specialty: f.Specialty,
		Location: f.Location, ClinicianAssigned: triage.Assigned(f.ClinicianAssigned), Clinician: f.Clinician}
}

// WorklistRequest builds the A008 request body for the list and filter.
// Parameters are in the order listType, service, specialtyAssignedIndicator,
// specialty, location, clinicianAssignedIndicator, clinician. Call
// f.Validate first; this function does not check the filter.
func WorklistRequest(list triage.ListType, f WorklistFilter) *Parameters {
	return worklistParameters(SystemReferralListSelector, string(list), f)
}

// worklistParameters builds an A008 or A023 request body: the listType from
// the selector code system, then the filter.
func worklistParameters(system, code string, f WorklistFilter) *Parameters {
	p := &Parameters{
		ResourceType: TypeParameters,
		Meta:         &Meta{Profile: []string{ProfileFetchWorklistParameters}},
		Parameter: []Parameter{{
			Name:                 "listType",
			ValueCodeableConcept: concept(system, code, ""),
		}},
	}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	indicator := func(name string, ind AssignedIndicator, implied bool) {
		if ind == IndicatorAny && implied {
			ind = IndicatorAssigned
		}
		if ind != IndicatorAny {
			add(Parameter{Name: name, ValueCodeableConcept: concept(SystemAssignedIndicator, string(ind), "")})
		}
	}
	if f.Service != "" {
		add(Parameter{Name: "service", ValueIdentifier: &Identifier{System: IDService, Value: f.Service}})
	}
	indicator("specialtyAssignedIndicator", f.SpecialtyAssigned, !f.Specialty.IsZero())
	if !f.Specialty.IsZero() {
		add(Parameter{Name: "specialty", ValueCodeableConcept: &CodeableConcept{Coding: []Coding{{System: f.Specialty.System, Code: f.Specialty.Code}}}})
	}
	if f.Location != "" {
		add(Parameter{Name: "location", ValueIdentifier: &Identifier{System: IDODSLocation, Value: f.Location}})
	}
	indicator("clinicianAssignedIndicator", f.ClinicianAssigned, f.Clinician != "")
	if f.Clinician != "" {
		add(Parameter{Name: "clinician", ValueIdentifier: &Identifier{System: IDSDSUser, Value: f.Clinician}})
	}
	return p
}

// ParseWorklistRequest reads an A008 request body back into the list type
// and filter. It returns an error for malformed JSON, a resource other than
// Parameters, a missing listType, a parameter it does not know, a parameter
// without the expected value type, or a filter that fails Validate.
func ParseWorklistRequest(b []byte) (triage.ListType, WorklistFilter, error) {
	_, code, f, err := parseWorklistParameters(b)
	return triage.ListType(code), f, err
}

// parseWorklistParameters reads an A008 or A023 body into the listType's
// code system and code, and the filter.
func parseWorklistParameters(b []byte) (system, code string, f WorklistFilter, err error) {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return "", "", f, fmt.Errorf("parse worklist request: %w", err)
	}
	for _, pp := range p.Parameter {
		var err error
		switch pp.Name {
		case "listType":
			if pp.ValueCodeableConcept == nil {
				err = errNoValue
			}
			list := pp.ValueCodeableConcept.First()
			system, code = list.System, list.Code
		case "service":
			f.Service, err = identifierValue(pp)
		case "location":
			f.Location, err = identifierValue(pp)
		case "clinician":
			f.Clinician, err = identifierValue(pp)
		case "specialty":
			if pp.ValueCodeableConcept == nil {
				err = errNoValue
			}
			c := pp.ValueCodeableConcept.First()
			f.Specialty = triage.Coding{System: c.System, Code: c.Code}
		case "specialtyAssignedIndicator":
			if pp.ValueCodeableConcept == nil {
				err = errNoValue
			}
			f.SpecialtyAssigned = AssignedIndicator(pp.ValueCodeableConcept.First().Code)
		case "clinicianAssignedIndicator":
			if pp.ValueCodeableConcept == nil {
				err = errNoValue
			}
			f.ClinicianAssigned = AssignedIndicator(pp.ValueCodeableConcept.First().Code)
		default:
			err = errUnknownParameter
		}
		if err != nil {
			return "", "", WorklistFilter{}, fmt.Errorf("parse worklist request: parameter %q: %w", clip(pp.Name), err)
		}
	}
	if code == "" {
		return "", "", WorklistFilter{}, errors.New("parse worklist request: listType is missing")
	}
	if err := f.Validate(); err != nil {
		return "", "", WorklistFilter{}, fmt.Errorf("parse worklist request: %w", err)
	}
	return system, code, f, nil
}

var (
	errNoValue          = errors.New("missing or wrongly typed value")
	errUnknownParameter = errors.New("unknown parameter")
)

func identifierValue(p Parameter) (string, error) {
	if p.ValueIdentifier == nil || p.ValueIdentifier.Value == "" {
		return "", errNoValue
	}
	return p.ValueIdentifier.Value, nil
}

// MarshalIndent is json.MarshalIndent for any FHIR value, for tools that
// print resources.
func MarshalIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
