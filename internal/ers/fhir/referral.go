package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Contained resource ids e-RS uses inside a ReferralRequest.
const (
	idAppointment    = "appointment"
	idShortlist      = "shortlist"
	idSearchCriteria = "serviceSearchCriteria"
	docIDPrefix      = "DocumentReference-"
)

// DecodeReferral decodes an A005 response (also the body A013, A014, A022
// and A028 return) into the domain referral:
//   - Version from meta.versionId (0 when absent; the caller may fall back to
//     the ETag);
//   - State with its reason and comments from Extension-eRS-ReferralState-1;
//   - RelatedUBRNs from supportingInfo references "ReferralRequest/{ubrn}",
//     and AdviceUBRN from "CommunicationRequest/{ubrn}" (a referral
//     converted from Advice and Guidance);
//   - Documents from the contained DocumentReferences, in supportingInfo
//     order, each with its availability status;
//   - Appointment from the contained appointment (see referralAppointment
//     for how the booking kind is inferred);
//   - Type inferred, because A005 has no referralType (see referralType);
//   - Service from the appointment's service participant, else the first
//     shortlisted service; ClinicType from the service search criteria.
//
// Codes it does not know are kept as given. It returns an error, without
// patient data, for malformed JSON, another resource type, a missing id, a
// version that is not a whole number, or a bad date.
func DecodeReferral(b []byte) (*triage.Referral, error) {
	return decodeMapped(b, TypeReferralRequest, "referral",
		func(rr *ReferralRequest) *string { return &rr.ResourceType }, ReferralFromFHIR)
}

// ReferralFromFHIR maps a decoded ReferralRequest to the domain referral, as
// DecodeReferral does.
func ReferralFromFHIR(rr *ReferralRequest) (*triage.Referral, error) {
	if rr == nil || rr.ID == "" {
		return nil, errors.New("referral has no id (UBRN)")
	}
	r := &triage.Referral{UBRN: rr.ID, Status: rr.Status, RequestID: requestID(rr.Identifier), NHSNumber: subjectNHSNumber(rr.Subject)}
	var err error
	if r.Version, err = metaVersion(rr.Meta); err != nil {
		return nil, err
	}
	r.Specialty = toCoding(rr.Specialty.First())
	ext := rr.Extension
	r.Priority = triage.Priority(codingOf(ext.Find(ExtReferralPriority)).Code)
	if st := ext.Find(ExtReferralState); st != nil {
		r.State.State = triage.ReferralState(codingOf(st.Extension.Find("state")).Code)
		if s, err := triage.ParseReferralState(string(r.State.State)); err == nil {
			r.State.State = s
		}
		r.State.Reason = toCoding(codingOf(st.Extension.Find("reason")))
		if c := st.Extension.Find("comments"); c != nil {
			r.State.Comments = c.ValueString
		}
	}
	if r.PathwayStart, err = timeOf(ext.Find(ExtPathwayStart), "eReferralPathwayStart"); err != nil {
		return nil, err
	}
	if r.ClinicalInfoFirstSubmitted, err = timeOf(ext.Find(ExtClinicalInfoFirstSubmitted), "clinicalInfoFirstSubmitted"); err != nil {
		return nil, err
	}
	if r.ClinicalInfoLastUpdated, err = timeOf(ext.Find(ExtClinicalInfoLastUpdated), "clinicalInfoLastUpdated"); err != nil {
		return nil, err
	}
	// The commissioning rule organisation is taken as the referrer's
	// organisation: an inference, as A005 has no requester.
	if org := ext.Find(ExtCommissioningRuleOrg); org != nil && org.ValueIdentifier != nil {
		r.ReferrerODS = org.ValueIdentifier.Value
	}
	for _, req := range ext.FindAll(ExtPatientAdditionalReq) {
		if c := codingOf(req); c.Code != "" {
			r.AdditionalRequirements = append(r.AdditionalRequirements, toCoding(c))
		}
	}

	idx := indexContained(rr.Contained)
	var appt *Appointment
	if a := ext.Find(ExtAppointment); a != nil && a.ValueReference != nil {
		if res := idx.local(a.ValueReference.Reference); res != nil {
			appt = res.Appointment
		}
	}
	if appt == nil {
		if res := idx[idAppointment]; res != nil {
			appt = res.Appointment
		}
	}
	if appt != nil {
		if r.Appointment, err = referralAppointment(appt); err != nil {
			return nil, err
		}
	}
	if ref := ext.Find(ExtAppointmentReference); ref != nil && ref.ValueReference != nil {
		if id, ok := refID(ref.ValueReference.Reference, TypeAppointment); ok {
			if r.Appointment == nil {
				r.Appointment = &triage.Appointment{}
			}
			r.Appointment.ID = id
		}
	}
	r.Type = referralType(r.State.State, r.Appointment)
	r.Service = referralService(appt, idx)
	r.ClinicType = referralClinicType(idx)

	seen := map[*DocumentReference]bool{}
	addDoc := func(res *Resource) error {
		if res == nil || res.DocumentReference == nil || seen[res.DocumentReference] {
			return nil
		}
		seen[res.DocumentReference] = true
		d, err := documentFromFHIR(res.DocumentReference)
		if err != nil {
			return fmt.Errorf("document %d: %w", len(r.Documents), err)
		}
		r.Documents = append(r.Documents, d)
		return nil
	}
	for _, si := range rr.SupportingInfo {
		if u, ok := refID(si.Reference, TypeReferralRequest); ok {
			r.RelatedUBRNs = append(r.RelatedUBRNs, u)
			continue
		}
		if u, ok := refID(si.Reference, TypeCommunicationReq); ok {
			r.AdviceUBRN = u
			continue
		}
		if err := addDoc(idx.local(si.Reference)); err != nil {
			return nil, err
		}
	}
	for _, res := range rr.Contained {
		if err := addDoc(res); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// metaVersion reads meta.versionId, the e-RS version (0 when absent).
func metaVersion(m *Meta) (int, error) {
	if m == nil || m.VersionID == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(m.VersionID)
	if err != nil || v < 0 {
		return 0, errors.New("meta.versionId is not a whole number")
	}
	return v, nil
}

// requestID is the ers-request-id identifier (r.<uuid> or a.<uuid>).
func requestID(ids []Identifier) string {
	var id string
	for _, i := range ids {
		if i.System == IDRequestID {
			id = i.Value
		}
	}
	return id
}

// subjectNHSNumber is the NHS number of a subject given by identifier.
func subjectNHSNumber(s *Reference) string {
	if s != nil && s.Identifier != nil {
		return s.Identifier.Value
	}
	return ""
}

// referralAppointment maps the contained appointment. The booking kind is an
// inference, as e-RS does not state it: an appointment with a slot reference
// was booked directly in e-RS (DBS); a booked appointment without one was
// booked in the provider's PAS (IBS). A proposed (deferred or triage) or
// cancelled appointment has no booking to infer from, so its kind is unknown.
func referralAppointment(a *Appointment) (*triage.Appointment, error) {
	out := &triage.Appointment{}
	var err error
	if out.Start, err = parseTime(a.Start); err != nil {
		return nil, fmt.Errorf("appointment start: %w", err)
	}
	if out.End, err = parseTime(a.End); err != nil {
		return nil, fmt.Errorf("appointment end: %w", err)
	}
	if out.Created, err = parseTime(a.Created); err != nil {
		return nil, fmt.Errorf("appointment created: %w", err)
	}
	if len(a.Reason) > 0 {
		out.Reason = toCoding(a.Reason[0].First())
	}
	hasSlot := false
	for _, s := range a.Slot {
		hasSlot = hasSlot || s.Reference != ""
	}
	switch {
	case hasSlot:
		out.Booking = triage.BookingDirect
	case a.Status == "proposed" || a.Status == "cancelled" || a.Status == "":
		out.Booking = triage.BookingUnknown
	default:
		out.Booking = triage.BookingIndirect
	}
	return out, nil
}

// referralType infers the referral type, which A005 does not give (the
// worklist's referralType is authoritative when known): a triage deferral
// (RAS, or a referral deferred to the provider, both decided with A028) when
// the appointment's reason is eRS-ReviewReason-1 TRIAGE or the state is one
// of the triage and deferral states; otherwise a booked appointment.
func referralType(state triage.ReferralState, appt *triage.Appointment) triage.ReferralType {
	if appt != nil && appt.Reason.Code == "TRIAGE" && appt.Reason.System == triage.SystemReviewReason {
		return triage.ReferralTypeTriageDeferral
	}
	switch state {
	case triage.StateAwaitingTriage, triage.StateTriagedProviderToAction, triage.StateTriageResponse, triage.StateDeferredToProvider:
		return triage.ReferralTypeTriageDeferral
	}
	return triage.ReferralTypeAppointment
}

// referralService is the appointment's service participant, else the first
// service on the shortlist.
func referralService(appt *Appointment, idx containedIndex) triage.Service {
	if appt != nil {
		for _, p := range appt.Participant {
			if p.Actor != nil && p.Actor.Identifier != nil && p.Actor.Identifier.System == IDService {
				return triage.Service{ID: p.Actor.Identifier.Value, Name: p.Actor.Display}
			}
		}
	}
	if res := idx[idShortlist]; res != nil && res.List != nil {
		for _, e := range res.List.Entry {
			if e.Item.Identifier != nil && e.Item.Identifier.Value != "" {
				return triage.Service{ID: e.Item.Identifier.Value, Name: e.Item.Display}
			}
		}
	}
	return triage.Service{}
}

func referralClinicType(idx containedIndex) triage.Coding {
	if res := idx[idSearchCriteria]; res != nil && res.Parameters != nil {
		if p := res.Parameters.Get("clinicType"); p != nil {
			if p.ValueCoding != nil {
				return toCoding(*p.ValueCoding)
			}
			return toCoding(p.ValueCodeableConcept.First())
		}
	}
	return triage.Coding{}
}

func documentFromFHIR(dr *DocumentReference) (triage.Document, error) {
	d := triage.Document{Description: dr.Description}
	d.Type = triage.AttachmentType(dr.Type.First().Code)
	var err error
	if d.Indexed, err = parseTime(dr.Indexed); err != nil {
		return d, fmt.Errorf("indexed: %w", err)
	}
	if len(dr.Content) == 0 {
		return d, nil
	}
	a := dr.Content[0].Attachment
	d.ID, d.URL, d.Title, d.ContentType, d.Size = a.ID, a.URL, a.Title, a.ContentType, a.Size
	if d.ID == "" {
		d.ID = BinaryID(a.URL)
	}
	if d.Size < 0 {
		return d, errors.New("size: negative")
	}
	if d.Created, err = parseTime(a.Creation); err != nil {
		return d, fmt.Errorf("creation: %w", err)
	}
	if code := codingOf(a.Extension.Find(ExtAvailabilityStatus)).Code; code != "" {
		d.Availability = triage.AvailabilityStatus(code)
		if s, err := triage.ParseAvailabilityStatus(code); err == nil {
			d.Availability = s
		}
	}
	if by := a.Extension.Find(ExtAttachedBy); by != nil && by.ValueReference != nil && by.ValueReference.Identifier != nil {
		d.AttachedBy = by.ValueReference.Identifier.Value
	}
	if org := a.Extension.Find(ExtAttachedByOrganisation); org != nil && org.ValueReference != nil && org.ValueReference.Identifier != nil {
		d.AttachedByOrg = org.ValueReference.Identifier.Value
	}
	return d, nil
}

// priorityDisplay is the display e-RS gives each priority.
var priorityDisplay = map[triage.Priority]string{
	triage.PriorityRoutine:     "Routine",
	triage.PriorityUrgent:      "Urgent",
	triage.PriorityTwoWeekWait: "2 Week Wait",
}

// EncodeReferral builds the A005 ReferralRequest for a domain referral, in
// the shape e-RS uses: the appointment, shortlist, service search criteria
// and DocumentReferences contained, related referrals and documents in
// supportingInfo. DecodeReferral of the result gives back r (times at
// millisecond precision). A DBS appointment gets a slot reference and an IBS
// one does not, so the booking kind survives the round trip; an appointment
// of unknown kind is encoded as proposed.
func EncodeReferral(r *triage.Referral) *ReferralRequest {
	rr := &ReferralRequest{
		ResourceType: TypeReferralRequest,
		ID:           r.UBRN,
		Meta:         &Meta{Profile: []string{ProfileReferralRequest}},
		Status:       r.Status,
		Intent:       "plan",
	}
	if rr.Status == "" {
		rr.Status = "active"
	}
	if r.Version > 0 {
		rr.Meta.VersionID = strconv.Itoa(r.Version)
	}
	var ext Extensions
	add := func(e Extension) { ext = append(ext, e) }
	addTime := func(url string, t time.Time, instant bool) {
		if t.IsZero() {
			return
		}
		if instant {
			add(Extension{URL: url, ValueInstant: formatDateTime(t)})
		} else {
			add(Extension{URL: url, ValueDateTime: formatDateTime(t)})
		}
	}
	if r.Appointment != nil {
		add(Extension{URL: ExtAppointment, ValueReference: &Reference{Reference: "#" + idAppointment}})
		if r.Appointment.ID != "" {
			add(Extension{URL: ExtAppointmentReference, ValueReference: &Reference{Reference: TypeAppointment + "/" + r.Appointment.ID}})
		}
	}
	addTime(ExtClinicalInfoFirstSubmitted, r.ClinicalInfoFirstSubmitted, false)
	addTime(ExtClinicalInfoLastUpdated, r.ClinicalInfoLastUpdated, false)
	addTime(ExtPathwayStart, r.PathwayStart, true)
	if r.Priority != "" {
		add(Extension{URL: ExtReferralPriority, ValueCodeableConcept: concept(triage.SystemPriority, string(r.Priority), priorityDisplay[r.Priority])})
	}
	add(Extension{URL: ExtReferralShortlist, ValueReference: &Reference{Reference: "#" + idShortlist}})
	if r.ReferrerODS != "" {
		add(Extension{URL: ExtCommissioningRuleOrg, ValueIdentifier: &Identifier{System: IDODS, Value: r.ReferrerODS}})
	}
	if r.State.State != "" || !r.State.Reason.IsZero() || r.State.Comments != "" {
		st := Extension{URL: ExtReferralState}
		st.Extension = append(st.Extension, Extension{URL: "state", ValueCoding: &Coding{System: triage.SystemReferralState, Code: string(r.State.State)}})
		if !r.State.Reason.IsZero() {
			st.Extension = append(st.Extension, Extension{URL: "reason", ValueCoding: ptr(fromCoding(r.State.Reason))})
		}
		if r.State.Comments != "" {
			st.Extension = append(st.Extension, Extension{URL: "comments", ValueString: r.State.Comments})
		}
		add(st)
	}
	for _, req := range r.AdditionalRequirements {
		add(Extension{URL: ExtPatientAdditionalReq, ValueCoding: ptr(fromCoding(req))})
	}
	rr.Extension = ext

	rr.Contained = append(rr.Contained, encodeSearch(r.Priority, r.Specialty, r.ClinicType, r.Service)...)
	if r.Appointment != nil {
		rr.Contained = append(rr.Contained, &Resource{Appointment: encodeAppointment(r)})
	}
	for i, d := range r.Documents {
		dr := encodeContainedDocument(i, d)
		rr.Contained = append(rr.Contained, &Resource{DocumentReference: dr})
		rr.SupportingInfo = append(rr.SupportingInfo, Reference{Reference: "#" + dr.ID})
	}
	for _, u := range r.RelatedUBRNs {
		rr.SupportingInfo = append(rr.SupportingInfo, Reference{Reference: TypeReferralRequest + "/" + u})
	}
	if r.AdviceUBRN != "" {
		rr.SupportingInfo = append(rr.SupportingInfo, Reference{Reference: TypeCommunicationReq + "/" + r.AdviceUBRN})
	}
	if !r.Specialty.IsZero() {
		rr.Specialty = &CodeableConcept{Coding: []Coding{fromCoding(r.Specialty)}}
	}
	if r.NHSNumber != "" {
		rr.Subject = &Reference{Identifier: &Identifier{System: IDNHSNumber, Value: r.NHSNumber}}
	}
	if r.RequestID != "" {
		rr.Identifier = []Identifier{{System: IDRequestID, Value: r.RequestID}}
	}
	return rr
}

func encodeAppointment(r *triage.Referral) *Appointment {
	a := r.Appointment
	out := &Appointment{
		ResourceType: TypeAppointment,
		ID:           idAppointment,
		Meta:         &Meta{Profile: []string{ProfileAppointment}},
		Language:     "en",
		Description:  "e-Referral Appointment",
		Start:        formatDateTime(a.Start),
		End:          formatDateTime(a.End),
		Created:      formatDateTime(a.Created),
	}
	switch a.Booking {
	case triage.BookingDirect:
		out.Status = "booked"
		slot := a.ID
		if slot == "" {
			slot = r.UBRN
		}
		out.Slot = []Reference{{Reference: "Slot/" + slot}}
	case triage.BookingIndirect:
		out.Status = "booked"
	default:
		out.Status = "proposed"
	}
	if !a.Reason.IsZero() {
		out.Reason = []CodeableConcept{{Coding: []Coding{fromCoding(a.Reason)}}}
	}
	in := TypeReferralRequest + "/" + r.UBRN
	if r.Version > 0 {
		in += "/_history/" + strconv.Itoa(r.Version)
	}
	out.IncomingReferral = []Reference{{Reference: in}}
	if r.Service.ID != "" {
		out.Participant = append(out.Participant, AppointmentParticipant{
			Actor:  &Reference{Identifier: &Identifier{System: IDService, Value: r.Service.ID}, Display: r.Service.Name},
			Status: "accepted",
		})
	}
	if r.NHSNumber != "" {
		out.Participant = append(out.Participant, AppointmentParticipant{
			Actor:  &Reference{Identifier: &Identifier{System: IDNHSNumber, Value: r.NHSNumber}},
			Status: "accepted",
		})
	}
	return out
}

// formatCreation writes an attachment's creation as a date (as e-RS does)
// when it has no time of day, else as a dateTime.
func formatCreation(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
		return formatDate(u)
	}
	return formatDateTime(u)
}

// encodeSearch builds the service search criteria and the shortlist that a
// referral and an advice request both contain, in that order.
func encodeSearch(priority triage.Priority, specialty, clinicType triage.Coding, service triage.Service) []*Resource {
	criteria := &Parameters{ResourceType: TypeParameters, ID: idSearchCriteria, Meta: &Meta{Profile: []string{ProfileServiceSearchCriteria}}}
	if priority != "" {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "priority", ValueCoding: &Coding{System: triage.SystemPriority, Code: string(priority)}})
	}
	if !specialty.IsZero() {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "specialty", ValueCoding: &Coding{System: specialty.System, Code: specialty.Code}})
	}
	if !clinicType.IsZero() {
		criteria.Parameter = append(criteria.Parameter, Parameter{Name: "clinicType", ValueCoding: ptr(fromCoding(clinicType))})
	}
	shortlist := &List{
		ResourceType: TypeList, ID: idShortlist, Meta: &Meta{Profile: []string{ProfileShortlist}},
		Extension: Extensions{{URL: ExtShortlistSearchCriteria, ValueReference: &Reference{Reference: "#" + idSearchCriteria}}},
		Status:    "current", Mode: "snapshot",
	}
	if service.ID != "" {
		shortlist.Entry = []ListEntry{{Item: Reference{Identifier: &Identifier{System: IDService, Value: service.ID}, Display: service.Name}}}
	}
	return []*Resource{{Parameters: criteria}, {List: shortlist}}
}

// encodeContainedDocument encodes the i'th document of a resource for its
// contained list, with a local id from the document's id (or its position
// where it has none).
func encodeContainedDocument(i int, d triage.Document) *DocumentReference {
	dr := encodeDocument(d)
	dr.ID = docIDPrefix + d.ID
	if d.ID == "" {
		dr.ID = docIDPrefix + strconv.Itoa(i)
	}
	return dr
}

func encodeDocument(d triage.Document) *DocumentReference {
	dr := &DocumentReference{
		ResourceType: TypeDocumentReference,
		Meta:         &Meta{Profile: []string{ProfileDocumentReference}},
		Status:       "current",
		Indexed:      formatDateTime(d.Indexed),
		Description:  d.Description,
	}
	if d.Type != "" {
		dr.Type = concept(triage.SystemAttachmentType, string(d.Type), "")
	}
	a := Attachment{ID: d.ID, ContentType: d.ContentType, URL: d.URL, Size: d.Size, Title: d.Title, Creation: formatCreation(d.Created)}
	if d.Availability != "" {
		a.Extension = append(a.Extension, Extension{URL: ExtAvailabilityStatus, ValueCoding: &Coding{System: triage.SystemAvailabilityStatus, Code: string(d.Availability)}})
	}
	if d.AttachedBy != "" {
		a.Extension = append(a.Extension, Extension{URL: ExtAttachedBy, ValueReference: &Reference{Identifier: &Identifier{System: IDSDSUser, Value: d.AttachedBy}}})
	}
	if d.AttachedByOrg != "" {
		a.Extension = append(a.Extension, Extension{URL: ExtAttachedByOrganisation, ValueReference: &Reference{Identifier: &Identifier{System: IDODS, Value: d.AttachedByOrg}}})
	}
	dr.Content = []DocumentContent{{Attachment: a}}
	return dr
}
