package erssandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance in the sandbox: stateful conversations between a
// referrer and the provider. The provider replies (A026) with advice or a
// request for further information, or converts the request into a referral
// (A027) when the referrer allowed it; the control API plays the referrer
// (further information, withdrawal, closing, changing the authorisation).
// Every change bumps the request's version, as in e-RS.

// DefaultAdviceRequests is how many synthetic A&G requests the sandbox
// generates by default; MaxAdviceRequests is the most.
const (
	DefaultAdviceRequests = 24
	MaxAdviceRequests     = 5_000
)

// ErrUnknownAdvice is returned by the control methods for a UBRN that is not
// an Advice and Guidance request in the sandbox.
var ErrUnknownAdvice = errors.New("no advice and guidance request with that UBRN in the sandbox")

// adviceRecord is one A&G request held by the sandbox.
type adviceRecord struct {
	req      triage.AdviceRequest
	messages []triage.AdviceMessage
	// replies records what each provider message was (outcome and
	// recommendation), by message id, for the overview PDF.
	replies        map[string]triage.AdviceReply
	serviceODS     string
	referrerODS    string
	referrer       string // SDS user id of the referring clinician
	namedClinician string
	firstRequested time.Time
	lastUpdated    time.Time
	index          int
	// converted is the UBRN of the referral it was converted to.
	converted string
	locking
}

// adviceStore holds the A&G requests; it is guarded by store.mu.
type adviceStore struct {
	recs        map[string]*adviceRecord
	order       []string
	next        int // index of the next generated request
	nextMessage int // id of the next message
	// converted lists the referrals made by conversion (A027), which are
	// kept apart from the generated referrals of store.order.
	converted []string
}

// relatedAdvice reports whether the actor's organisation has a relationship
// with the request: the provider organisation of its service, or for referrer
// roles the referring practice.
func (a actor) relatedAdvice(ar *adviceRecord) bool {
	if a.provider() {
		return ar.serviceODS == a.ODS
	}
	return ar.referrerODS == a.ODS
}

// adviceFirstIndex offsets the generation index of A&G requests so their
// UBRNs and random streams never meet the referrals'.
const adviceFirstIndex = 20_000

// newMessageID returns the id of a new message. The caller holds s.mu.
func (s *store) newMessageID() string {
	s.advice.nextMessage++
	return fmt.Sprint(700_000 + s.advice.nextMessage)
}

// snapshot returns copies of a request and its conversation. The caller
// holds s.mu.
func (ar *adviceRecord) snapshot() (triage.AdviceRequest, triage.AdviceConversation) {
	req := ar.req
	req.Documents = slices.Clone(ar.req.Documents)
	conv := triage.AdviceConversation{UBRN: ar.req.UBRN, Version: ar.req.Version, Messages: make([]triage.AdviceMessage, len(ar.messages))}
	for i, m := range ar.messages {
		m.Documents = slices.Clone(m.Documents)
		conv.Messages[i] = m
	}
	return req, conv
}

func (ar *adviceRecord) item() triage.AdviceItem {
	r := ar.req
	return triage.AdviceItem{UBRN: r.UBRN, NHSNumber: r.NHSNumber, Priority: r.Priority, Specialty: r.Specialty, ClinicType: r.ClinicType,
		Service: r.Service, Category: r.Category, FirstRequested: ar.firstRequested, LastUpdated: ar.lastUpdated,
		Referrer: ar.referrer, NamedClinician: ar.namedClinician, Version: r.Version}
}

// documents returns every file of the request: those sent with it and those
// of its messages.
func (ar *adviceRecord) documents() []triage.Document {
	docs := slices.Clone(ar.req.Documents)
	for _, m := range ar.messages {
		docs = append(docs, m.Documents...)
	}
	return docs
}

// refreshAdvice makes PENDING attachments whose scan has finished
// AVAILABLE, bumping the version, as refresh does for referrals. The caller
// holds s.mu.
func (s *store) refreshAdvice(ar *adviceRecord) {
	now := s.now()
	changed := false
	ready := func(d *triage.Document) {
		if d.Availability != triage.AvailabilityPending {
			return
		}
		if a := s.atts[d.ID]; a != nil && !a.PendingUntil.IsZero() && !now.Before(a.PendingUntil) {
			d.Availability = triage.AvailabilityAvailable
			changed = true
		}
	}
	for i := range ar.req.Documents {
		ready(&ar.req.Documents[i])
	}
	for i := range ar.messages {
		for j := range ar.messages[i].Documents {
			ready(&ar.messages[i].Documents[j])
		}
	}
	if changed {
		ar.req.Version++
	}
}

// getAdvice returns a request, brought up to date. The caller holds s.mu.
func (s *store) getAdvice(ubrn string) (*adviceRecord, bool) {
	ar, ok := s.advice.recs[ubrn]
	if ok {
		s.refreshAdvice(ar)
		_ = s.fillAdviceSizes(ar)
	}
	return ar, ok
}

// fillAdviceSizes sets the size of every synthetic attachment. The caller
// holds s.mu.
func (s *store) fillAdviceSizes(ar *adviceRecord) error {
	fill := func(d *triage.Document) error {
		if d.Size > 0 {
			return nil
		}
		a := s.atts[d.ID]
		if a == nil {
			return nil
		}
		b, err := s.attachmentData(a)
		if err != nil {
			return err
		}
		d.Size = int64(len(b))
		return nil
	}
	for i := range ar.req.Documents {
		if err := fill(&ar.req.Documents[i]); err != nil {
			return err
		}
	}
	for i := range ar.messages {
		for j := range ar.messages[i].Documents {
			if err := fill(&ar.messages[i].Documents[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAdvice returns 404 for an unknown request and 422 NO_RELATIONSHIP
// when the actor's organisation has nothing to do with it.
func (s *store) checkAdvice(a actor, ubrn string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.advice.recs[ubrn]
	if !ok {
		return errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The advice and guidance request was not found.")
	}
	if !a.relatedAdvice(ar) {
		return unprocessable("NO_RELATIONSHIP", "The user's organisation has no relationship with the advice and guidance request.")
	}
	return nil
}

// adviceWorklist returns the A&G worklist items matching the query (its
// list type is ignored), in a stable order.
func (s *store) adviceWorklist(q worklistQuery) []triage.AdviceItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []triage.AdviceItem
	for _, u := range s.advice.order {
		ar, _ := s.getAdvice(u)
		if q.matchAdvice(ar) {
			out = append(out, ar.item())
		}
	}
	return out
}

func (q worklistQuery) matchAdvice(ar *adviceRecord) bool {
	if ar.serviceODS != q.ODS {
		return false
	}
	if q.Service != "" && ar.req.Service.ID != q.Service {
		return false
	}
	if q.Location != "" {
		if svc, ok := serviceByID(ar.req.Service.ID); !ok || svc.Location != q.Location {
			return false
		}
	}
	if q.SpecialtyAssigned == "ASSIGNED" && q.Specialty != "" && ar.req.Specialty.Code != q.Specialty {
		return false
	}
	if q.SpecialtyAssigned == "NOT_ASSIGNED" && ar.req.Specialty.Code != "" {
		return false
	}
	switch q.ClinicianAssigned {
	case "ASSIGNED":
		if ar.namedClinician == "" || (q.Clinician != "" && ar.namedClinician != q.Clinician) {
			return false
		}
	case "NOT_ASSIGNED":
		if ar.namedClinician != "" {
			return false
		}
	}
	return true
}

// adviceWrite runs one update of an A&G request as write does for a
// referral: the request's lock is taken (or 423), held for the lock window,
// the version compared with ifMatch (409 if stale), and apply validates and
// changes it (a 422 leaves it untouched). A successful update bumps the
// version, then then (if not nil) reads the result under the same lock.
func (s *store) adviceWrite(ctx context.Context, ubrn string, ifMatch int, apply func(ar *adviceRecord, now time.Time) *apiError,
	then func(ar *adviceRecord)) (writeResult, *apiError) {
	s.mu.Lock()
	ar, ok := s.getAdvice(ubrn)
	var current int
	if ok {
		current = ar.req.Version
	}
	s.mu.Unlock()
	if !ok {
		return writeResult{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The advice and guidance request was not found.")
	}
	if !s.lockForWrite(ctx, &ar.locking) {
		return writeResult{Version: current}, errf(http.StatusLocked, "LOCKED", "lock-error",
			"The advice and guidance request is being updated by another request. Retrieve it again and retry later.")
	}
	defer ar.write.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshAdvice(ar)
	if ifMatch != ar.req.Version {
		return writeResult{Version: ar.req.Version}, errf(http.StatusConflict, "CONFLICT", "conflict",
			"The version given is not the advice and guidance request's current version. Retrieve it again.")
	}
	// e-RS keeps times to the millisecond.
	now := s.now().Truncate(time.Millisecond)
	if e := apply(ar, now); e != nil {
		return writeResult{Version: ar.req.Version}, e
	}
	ar.req.Version++
	ar.lastUpdated = now
	if then != nil {
		then(ar)
	}
	return writeResult{Version: ar.req.Version, Applied: true}, nil
}

// changeAdvice applies a change made by the referrer or e-RS (the control
// API): it waits for the request's lock, applies fn and bumps the version.
func (s *store) changeAdvice(ubrn string, fn func(ar *adviceRecord, now time.Time) error) (int, error) {
	s.mu.Lock()
	ar, ok := s.advice.recs[ubrn]
	s.mu.Unlock()
	if !ok {
		return 0, ErrUnknownAdvice
	}
	ar.write.Lock()
	defer ar.write.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshAdvice(ar)
	now := s.now().Truncate(time.Millisecond)
	if err := fn(ar, now); err != nil {
		return ar.req.Version, err
	}
	ar.req.Version++
	ar.lastUpdated = now
	return ar.req.Version, nil
}

// turnError is the 422 for a reply or conversion when it is not the
// provider's turn.
func turnError(op string, ar *adviceRecord) *apiError {
	if ar.req.Category == triage.AdviceResponseRequired {
		return nil
	}
	return unprocessable("INVALID_REQUEST_STATE", "%s is not allowed: the advice and guidance request is %s.", op, ar.req.Category)
}

func checkGuidance(g string) *apiError {
	if blank(g) {
		return unprocessable("VALUE_IS_REQUIRED", "guidance is required.")
	}
	if n := len([]rune(g)); n > triage.MaxGuidanceLength {
		return unprocessable("INVALID_VALUE", "guidance is %d characters; at most %d are allowed.", n, triage.MaxGuidanceLength)
	}
	return nil
}

func authorOf(a actor) triage.ClinicianRole {
	return triage.ClinicianRole{SDSUserID: a.User.ID, ODS: a.ODS, BusinessFunction: a.Function}
}

// applyAdviceReply is A026: the provider returns advice (the referrer then
// reviews it) or asks for further information (the referrer then has to
// send it). It adds the provider's message and returns it.
func (s *store) applyAdviceReply(ar *adviceRecord, a actor, r triage.AdviceReply, now time.Time) (triage.AdviceMessage, *apiError) {
	if e := turnError("A026", ar); e != nil {
		return triage.AdviceMessage{}, e
	}
	switch {
	case r.Outcome == triage.GuidanceProviderConverted:
		return triage.AdviceMessage{}, unprocessable("INVALID_CODE", "PROVIDER_CONVERTED cannot be sent as a response: convert the request with $ers.createFromCommunicationRequestActionLater.")
	case !r.Outcome.Sendable():
		return triage.AdviceMessage{}, unprocessable("INVALID_CODE", "guidanceOutcome is not an eRS-GuidanceResponseOutcome-1 code.")
	case r.Outcome == triage.GuidanceReturnWithAdvice && r.Recommendation == "":
		return triage.AdviceMessage{}, unprocessable("VALUE_IS_REQUIRED", "guidanceIntendedRecommendation is required when returning advice.")
	case r.Outcome == triage.GuidanceReturnWithAdvice && !r.Recommendation.Valid():
		return triage.AdviceMessage{}, unprocessable("INVALID_CODE", "guidanceIntendedRecommendation is not an eRS-GuidanceIntendedRecommendation-1 code.")
	case r.Outcome == triage.GuidanceRequestFurtherInfo && r.Recommendation != "":
		return triage.AdviceMessage{}, unprocessable("FIELD_NOT_PERMITTED", "guidanceIntendedRecommendation is only permitted when returning advice.")
	}
	if e := checkGuidance(r.Guidance); e != nil {
		return triage.AdviceMessage{}, e
	}
	if r.Priority == "" {
		return triage.AdviceMessage{}, unprocessable("MISSING_VALUE", "updatedPriority is required.")
	}
	if e := checkPriority(r.Priority); e != nil {
		return triage.AdviceMessage{}, e
	}
	ups, e := s.uploadedFiles(ar.req.UBRN, ar.documents(), triage.AttachmentGuidanceResponse, r.Attachments)
	if e != nil {
		return triage.AdviceMessage{}, e
	}
	m := triage.AdviceMessage{ID: s.newMessageID(), Sent: now, SentBy: triage.SentByResponder, Author: authorOf(a), Text: r.Guidance,
		Documents: s.useUploads(ar.req.UBRN, a, ups, r.Attachments, triage.AttachmentGuidanceResponse, now), RequestUBRN: ar.req.UBRN}
	ar.messages = append(ar.messages, m)
	ar.replies[m.ID] = triage.AdviceReply{Outcome: r.Outcome, Recommendation: r.Recommendation}
	ar.req.Priority = r.Priority
	if r.Outcome == triage.GuidanceReturnWithAdvice {
		ar.req.Category = triage.AdviceReferrerReviewing
	} else {
		ar.req.Category = triage.AdviceAwaitingInformation
	}
	return m, nil
}

// applyConversion is A027: when the referrer authorised it, the request
// becomes a referral with the same UBRN, triaged "provider to action" with
// the review comments for the provider's booking team, carrying the
// request's files and the new ones; the referrer gets the guidance as a
// message and the request ends as ADVICE_CONVERTED. It returns the new
// referral.
func (s *store) applyConversion(ar *adviceRecord, a actor, c triage.AdviceConversion, now time.Time) (*record, *apiError) {
	if !ar.req.Conversion.Allows() {
		return nil, unprocessable("INVALID_REQUEST_STATE", "The referrer has not authorised the provider to convert this advice and guidance request to a referral.")
	}
	if e := turnError("A027", ar); e != nil {
		return nil, e
	}
	if e := checkGuidance(c.Guidance); e != nil {
		return nil, e
	}
	if e := checkComments("reviewComments", c.ReviewComments, true); e != nil {
		return nil, e
	}
	if e := checkPriority(c.Priority); e != nil {
		return nil, e
	}
	if _, taken := s.recs[ar.req.UBRN]; taken {
		return nil, unprocessable("INVALID_REQUEST_STATE", "The advice and guidance request has already been converted.")
	}
	all := slices.Concat(c.GuidanceAttachments, c.ReviewAttachments)
	ups, e := s.uploadedFiles(ar.req.UBRN, ar.documents(), triage.AttachmentGuidanceResponse, all)
	if e != nil {
		return nil, e
	}
	ng := len(c.GuidanceAttachments)
	guidanceDocs := s.useUploads(ar.req.UBRN, a, ups[:ng], c.GuidanceAttachments, triage.AttachmentGuidanceResponse, now)
	reviewDocs := s.useUploads(ar.req.UBRN, a, ups[ng:], c.ReviewAttachments, triage.AttachmentProvider, now)

	m := triage.AdviceMessage{ID: s.newMessageID(), Sent: now, SentBy: triage.SentByResponder, Author: authorOf(a), Text: c.Guidance,
		Documents: guidanceDocs, RequestUBRN: ar.req.UBRN}
	ar.messages = append(ar.messages, m)
	ar.replies[m.ID] = triage.AdviceReply{Outcome: triage.GuidanceProviderConverted}

	svc, _ := serviceByID(ar.req.Service.ID)
	ref := triage.Referral{UBRN: ar.req.UBRN, RequestID: "r." + uuidFrom(rngFor(s.gen.Seed, adviceFirstIndex+ar.index, 7)), NHSNumber: ar.req.NHSNumber, Version: 1, Status: "active",
		Priority: c.Priority, Specialty: ar.req.Specialty, ClinicType: ar.req.ClinicType, Service: ar.req.Service,
		Type: triage.ReferralTypeTriageDeferral, PathwayStart: now, ClinicalInfoFirstSubmitted: ar.firstRequested, ClinicalInfoLastUpdated: now,
		State: triage.ReferralStatus{State: triage.StateTriagedProviderToAction,
			Reason:   triage.Coding{System: triage.SystemReviewOutcome, Code: string(triage.OutcomeProviderConvertedAdvice), Display: "Provider Converted Advice And Guidance Admin To Refer"},
			Comments: c.ReviewComments},
		Documents:   slices.Concat(ar.documents(), reviewDocs),
		ReferrerODS: ar.referrerODS, AdviceUBRN: ar.req.UBRN}
	rec := &record{ref: ref, extra: itemExtra{Index: adviceFirstIndex + ar.index, ContextStatus: triage.ContextNeverReviewed,
		ServiceODS: ar.serviceODS, Location: svc.Location, NamedClinician: ar.namedClinician}}
	// The files keep the UBRN, which is now the referral's too, so A042
	// finds them through the referral.
	s.recs[ref.UBRN] = rec
	s.advice.converted = append(s.advice.converted, ref.UBRN)
	ar.converted = ref.UBRN
	ar.req.Category = triage.AdviceConverted
	ar.req.Status = "completed"
	return rec, nil
}

// referrerWrites adds the referrer's message (with its files, whose ids
// come from newID, and e-RS's note that clinical information changed when
// there are files) and gives the provider the turn. The caller holds s.mu.
func (s *store) referrerWrites(ar *adviceRecord, text string, files []AttachmentFile, newID func() string, now time.Time) {
	author := triage.ClinicianRole{SDSUserID: ar.referrer, ODS: ar.referrerODS, BusinessFunction: triage.RoleReferringClinician}
	m := triage.AdviceMessage{ID: s.newMessageID(), Sent: now, SentBy: triage.SentByRequester, Author: author, Text: text, RequestUBRN: ar.req.UBRN}
	for _, f := range files {
		av := f.Availability
		if av == "" {
			av = triage.AvailabilityAvailable
		}
		id := newID()
		m.Documents = append(m.Documents, triage.Document{ID: id, URL: "Binary/" + id, Title: f.FileName, Description: f.Description,
			ContentType: f.ContentType, Size: int64(len(f.Data)), Availability: av, Type: triage.AttachmentAdviceRequest,
			AttachedBy: ar.referrer, AttachedByOrg: ar.referrerODS, Created: now, Indexed: now})
		s.atts[id] = &attachment{ID: id, UBRN: ar.req.UBRN, Data: f.Data}
	}
	ar.messages = append(ar.messages, m)
	if len(files) > 0 {
		ar.messages = append(ar.messages, triage.AdviceMessage{ID: s.newMessageID(), Sent: now,
			SentBy: triage.SentByClinicalInfoUpdated, Author: triage.ClinicianRole{SDSUserID: ar.referrer, ODS: ar.referrerODS},
			Text: "NOTE: Clinical Information has been added/amended", RequestUBRN: ar.req.UBRN})
	}
	ar.req.Category = triage.AdviceResponseRequired
}

// versionOf returns the current version of a referral or A&G request
// (0 if unknown). The caller holds s.mu.
func (s *store) versionOf(ubrn string) int {
	if rec, ok := s.recs[ubrn]; ok {
		return rec.ref.Version
	}
	if ar, ok := s.advice.recs[ubrn]; ok {
		return ar.req.Version
	}
	return 0
}

// adviceAttachment finds an attachment of an A&G request and checks the
// actor's relationship with it. The caller holds s.mu.
func (s *store) adviceAttachment(a actor, att *attachment) (triage.Document, *apiError) {
	ar, ok := s.getAdvice(att.UBRN)
	if !ok {
		return triage.Document{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The attachment was not found.")
	}
	if !a.relatedAdvice(ar) {
		return triage.Document{}, &apiError{Status: http.StatusForbidden, Code: "NO_RELATIONSHIP", Display: codeDisplay("NO_RELATIONSHIP"),
			IssueType: "forbidden", Diagnostics: "The user's organisation has no relationship with the advice and guidance request."}
	}
	for _, d := range ar.documents() {
		if d.ID == att.ID {
			return d, nil
		}
	}
	return triage.Document{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The attachment was not found.")
}

// adviceLabel is a plain description of a provider message for the
// overview PDF.
func adviceLabel(r triage.AdviceReply) string {
	switch r.Outcome {
	case triage.GuidanceReturnWithAdvice:
		return "Advice returned: " + strings.ToLower(r.Recommendation.Label())
	case "":
		return ""
	}
	return r.Outcome.Label()
}
