package erssandbox

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// parseBody reads an operation's Parameters body (415 for another media
// type, 422 when too large) and parses it, answering what parse refuses
// with e-RS's 422 code (or with the *apiError parse returns).
func parseBody[T any](r *http.Request, parse func([]byte) (T, error)) (T, *apiError) {
	if e := checkParamsContentType(r); e != nil {
		var zero T
		return zero, e
	}
	return parseAnyBody(r, parse)
}

// parseAnyBody is parseBody for a body whose media type is not checked.
func parseAnyBody[T any](r *http.Request, parse func([]byte) (T, error)) (T, *apiError) {
	var zero T
	body, e := readBody(r, maxBodyBytes)
	if e != nil {
		return zero, e
	}
	v, err := parse(body)
	if e, ok := errors.AsType[*apiError](err); ok {
		return zero, e
	}
	if err != nil {
		return zero, classifyParseError(err)
	}
	return v, nil
}

// A023: POST /STU3/CommunicationRequest/$ers.fetchworklist.
func (s *Sandbox) fetchAdviceWorklist(w http.ResponseWriter, r *http.Request, a actor) {
	f, e := parseBody(r, func(b []byte) (fhir.WorklistFilter, error) {
		f, err := fhir.ParseAdviceWorklistRequest(b)
		if err != nil && strings.Contains(err.Error(), "listType") && !strings.Contains(err.Error(), "missing") {
			return f, unprocessable("INVALID_CODE", "listType must be ADVICE_AND_GUIDANCE_REQUESTS from eRS-CommunicationListSelector-1.")
		}
		return f, err
	})
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	q, e := s.worklistQuery(a, "", f)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	s.writeWorklist(w, fhir.EncodeAdviceWorklist(s.store.adviceWorklist(q)))
}

// adviceRead returns a snapshot of a request the actor may read: 404 for an
// unknown request, 422 NO_RELATIONSHIP for another organisation's.
func (s *Sandbox) adviceRead(a actor, ubrn string) (triage.AdviceRequest, triage.AdviceConversation, *adviceRecord, *apiError) {
	if e := s.store.checkAdvice(a, ubrn); e != nil {
		return triage.AdviceRequest{}, triage.AdviceConversation{}, nil, e
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ar, _ := s.store.getAdvice(ubrn)
	req, conv := ar.snapshot()
	return req, conv, ar, nil
}

// A024: GET /STU3/CommunicationRequest/{ubrn} and …/_history/{version}.
func (s *Sandbox) getAdviceRequest(w http.ResponseWriter, r *http.Request, a actor) {
	req, _, _, e := s.adviceRead(a, r.PathValue("ubrn"))
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	s.answerRead(w, r, "advice and guidance request", req.Version, func() any { return fhir.EncodeAdviceRequest(&req) })
}

// A025: GET /STU3/Communication?based-on=CommunicationRequest/{ubrn}/_history/{version}[&_include=…].
func (s *Sandbox) getAdviceConversation(w http.ResponseWriter, r *http.Request, a actor) {
	q := r.URL.Query()
	based := q.Get("based-on")
	if based == "" {
		s.fail(w, stu3, errf(http.StatusBadRequest, "MISSING_PARAMETER", "required", "based-on is required."))
		return
	}
	ubrn, hist, ok := strings.Cut(strings.TrimPrefix(based, "CommunicationRequest/"), "/_history/")
	version, err := strconv.Atoi(hist)
	if !strings.HasPrefix(based, "CommunicationRequest/") || !ok || err != nil || ubrn == "" {
		s.fail(w, stu3, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "based-on must be CommunicationRequest/{ubrn}/_history/{version}."))
		return
	}
	enc := fhir.ConversationEncoding{SelfLink: "Communication?" + r.URL.RawQuery}
	for _, inc := range q["_include"] {
		switch inc {
		case fhir.IncludeRequesterRole:
			enc.IncludeRequesterRoles = true
		case fhir.IncludeSenderRole:
			enc.IncludeSenderRoles = true
		case fhir.IncludeContent:
			enc.IncludeDocuments = true
		default:
			s.fail(w, stu3, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "_include %q is not supported.", clipID(inc)))
			return
		}
	}
	req, conv, ar, e := s.adviceRead(a, ubrn)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	if version != req.Version {
		s.fail(w, stu3, errf(http.StatusBadRequest, "HISTORY_NOT_SUPPORTED", "not-supported", "Only the current version of the advice and guidance request can be searched."))
		return
	}
	enc.ServiceID, enc.ProviderODS = req.Service.ID, ar.serviceODS
	writeFHIR(w, http.StatusOK, fhir.EncodeAdviceConversation(&conv, enc))
}

// A026: POST /STU3/CommunicationRequest/{ubrn}/$ers.sendCommunicationToRequester.
func (s *Sandbox) sendAdviceReply(w http.ResponseWriter, r *http.Request, a actor) {
	info := infoOf(r)
	ubrn := r.PathValue("ubrn")
	version, e := ifMatch(r)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	reply, e := parseBody(r, fhir.ParseAdviceReplyParameters)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	if e := s.store.checkAdvice(a, ubrn); e != nil {
		s.fail(w, stu3, e)
		return
	}
	var req triage.AdviceRequest
	var msg triage.AdviceMessage
	var odsOf string
	res, e := s.store.adviceWrite(r.Context(), ubrn, version, func(ar *adviceRecord, now time.Time) *apiError {
		m, e := s.store.applyAdviceReply(ar, a, reply, now)
		msg = m
		return e
	}, func(ar *adviceRecord) {
		req, _ = ar.snapshot()
		odsOf = ar.serviceODS
	})
	info.version, info.applied, info.message = res.Version, res.Applied, msg.ID
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	w.Header().Set("ETag", etag(req.Version))
	writeFHIR(w, http.StatusOK, fhir.EncodeAdviceReplyResponse(&req, msg, odsOf))
}

// A027: POST /STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater.
func (s *Sandbox) convertAdvice(w http.ResponseWriter, r *http.Request, a actor) {
	info := infoOf(r)
	c, e := parseBody(r, fhir.ParseAdviceConversionParameters)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	info.ubrn = c.UBRN
	if e := s.store.checkAdvice(a, c.UBRN); e != nil {
		if e.Status == http.StatusNotFound {
			// The request is named in the body, not the path.
			e = unprocessable("REFERENCE_NOT_FOUND", "createFrom does not name an advice and guidance request.")
		}
		s.fail(w, stu3, e)
		return
	}
	var ref triage.Referral
	res, e := s.store.adviceWrite(r.Context(), c.UBRN, c.BaseVersion, func(ar *adviceRecord, now time.Time) *apiError {
		rec, e := s.store.applyConversion(ar, a, c, now)
		if e != nil {
			return e
		}
		_ = s.store.fillSizes(rec)
		ref = cloneReferral(rec.ref)
		info.message = ar.messages[len(ar.messages)-1].ID
		return nil
	}, nil)
	info.version, info.applied = res.Version, res.Applied
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	w.Header().Set("ETag", etag(ref.Version))
	w.Header().Set("Location", "ReferralRequest/"+ref.UBRN)
	writeFHIR(w, http.StatusCreated, fhir.EncodeReferral(&ref))
}

// A043: POST /STU3/CommunicationRequest/{ubrn}/$ers.generateCRI.
func (s *Sandbox) adviceOverview(w http.ResponseWriter, r *http.Request, a actor) {
	req, conv, ar, e := s.adviceRead(a, r.PathValue("ubrn"))
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	s.store.mu.Lock()
	replies := make(map[string]triage.AdviceReply, len(ar.replies))
	for k, v := range ar.replies {
		replies[k] = v
	}
	converted := ar.converted
	s.store.mu.Unlock()
	now := s.cfg.Now()
	pdf, err := buildAdviceOverview(req, conv, replies, converted, now)
	if err != nil {
		s.log.Error("generate advice overview", "op", "A043", "err", err)
		s.fail(w, stu3, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "The overview could not be generated."))
		return
	}
	name := fmt.Sprintf("%s_Advice_And_Guidance_%s.pdf", req.UBRN, now.UTC().Format("20060102150405"))
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", contentDisposition(name, false))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

// buildAdviceOverview generates the A&G overview PDF: the request's details
// and every message in order, with who wrote it, when, what the provider's
// replies were and the files sent. Files themselves are not included.
func buildAdviceOverview(req triage.AdviceRequest, conv triage.AdviceConversation, replies map[string]triage.AdviceReply, converted string, at time.Time) ([]byte, error) {
	d := newPDFDoc("Advice and Guidance",
		fmt.Sprintf("UBRN %s   NHS Number %s   Generated %s", formatUBRN(req.UBRN), triage.FormatNHSNumber(req.NHSNumber), fmtDateTime(at)),
		syntheticFooter)
	d.heading("Request details")
	fields := [][2]string{
		{"UBRN", formatUBRN(req.UBRN)},
		{"NHS number", triage.FormatNHSNumber(req.NHSNumber)},
		{"Priority", priorityLabel(req.Priority)},
		{"Specialty", req.Specialty.Label()},
		{"Clinic type", req.ClinicType.Label()},
		{"Service", fmt.Sprintf("%s (%s)", req.Service.Name, req.Service.ID)},
		{"Status", req.Category.Label()},
		{"Conversion to a referral", req.Conversion.Label()},
		{"Requested by", req.Requester.Label()},
	}
	if converted != "" {
		fields = append(fields, [2]string{"Converted to referral", formatUBRN(converted)})
	}
	d.fields(fields)
	d.heading("Conversation")
	for _, m := range conv.Messages {
		head := fmt.Sprintf("%s – %s (%s)", fmtDateTime(m.Sent), m.SentBy.Label(), m.Author.Label())
		if l := adviceLabel(replies[m.ID]); l != "" {
			head += ": " + l
		}
		d.para(head)
		d.para(m.Text)
		if len(m.Documents) > 0 {
			var items []string
			for _, doc := range m.Documents {
				items = append(items, fmt.Sprintf("%s – %s (%s)", doc.Title, doc.Description, strings.ToLower(strings.ReplaceAll(string(doc.Availability), "_", " "))))
			}
			d.bullets(items)
		}
	}
	if len(conv.Messages) == 0 {
		d.para("No messages.")
	}
	if slices.ContainsFunc(conv.Messages, func(m triage.AdviceMessage) bool { return len(m.Documents) > 0 }) {
		d.para("Attachments are not included in this overview. Retrieve each one separately.")
	}
	return d.render(at)
}
