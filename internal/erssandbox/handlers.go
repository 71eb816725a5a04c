package erssandbox

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// maxBodyBytes bounds the Parameters bodies the sandbox reads.
const maxBodyBytes = 1 << 20

// maxFileBytes is e-RS's file size limit (A006 and A020): 5 MB.
const maxFileBytes = 5 * 1024 * 1024

// classifyParseError maps a request-body parse error from internal/ers/fhir
// to the e-RS 422 code.
func classifyParseError(err error) *apiError {
	msg := err.Error()
	code := "INVALID_FHIR_STRUCTURE"
	switch {
	case strings.Contains(msg, "unknown parameter"), strings.Contains(msg, "repeated"), strings.Contains(msg, "takes no body"):
		code = "UNEXPECTED_FIELD"
	case strings.Contains(msg, "is missing"):
		code = "MISSING_VALUE"
	case strings.Contains(msg, "worklist filter"), strings.Contains(msg, "wrongly typed"), strings.Contains(msg, "Binary"):
		code = "INVALID_VALUE"
	}
	return unprocessable(code, "%v", err)
}

func readBody(r *http.Request, limit int64) ([]byte, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "The request body could not be read.")
	}
	if int64(len(b)) > limit {
		return nil, unprocessable("FILE_SIZE_ERROR", "The request body is larger than %d bytes.", limit)
	}
	return b, nil
}

// checkParamsContentType refuses a body that is not FHIR JSON.
func checkParamsContentType(r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == fhirJSON || mt == "application/json") {
		return nil
	}
	return plain(http.StatusUnsupportedMediaType, "Unsupported Media Type")
}

// checkReferral returns 404 for an unknown UBRN and 422 NO_RELATIONSHIP when
// the actor's organisation has nothing to do with the referral.
func (s *Sandbox) checkReferral(a actor, ubrn string) *apiError {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	rec, ok := s.store.recs[ubrn]
	if !ok {
		return errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The referral was not found.")
	}
	if !a.related(rec) {
		return unprocessable("NO_RELATIONSHIP", "The user's organisation has no relationship with the referral.")
	}
	return nil
}

func etag(v int) string { return fmt.Sprintf("W/\"%d\"", v) }

var ifMatchRE = regexp.MustCompile(`^W/"([0-9]+)"$`)

// A004: GET /STU3/CodeSystem/{type}.
func (s *Sandbox) getCodeSystem(w http.ResponseWriter, r *http.Request, _ actor) {
	cs, ok := s.store.refdata[triage.CodeSystemType(r.PathValue("type"))]
	if !ok {
		s.fail(w, stu3, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "Unknown code system type."))
		return
	}
	writeFHIR(w, http.StatusOK, fhir.EncodeCodeSystem(cs))
}

// A005: GET /STU3/ReferralRequest/{ubrn} and …/_history/{version}.
func (s *Sandbox) getReferral(w http.ResponseWriter, r *http.Request, a actor) {
	ubrn := r.PathValue("ubrn")
	if e := s.checkReferral(a, ubrn); e != nil {
		s.fail(w, stu3, e)
		return
	}
	ref, _, err := s.store.snapshot(ubrn)
	if err != nil {
		s.fail(w, stu3, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "The referral could not be read."))
		return
	}
	s.answerRead(w, r, "referral", ref.Version, func() any { return fhir.EncodeReferral(&ref) })
}

// answerRead answers a read of a referral or an A&G request (A005, A024)
// at its current version, with the version as ETag, or 404
// HISTORY_NOT_SUPPORTED when the path asks for another version. what names
// the resource in that answer.
func (s *Sandbox) answerRead(w http.ResponseWriter, r *http.Request, what string, version int, encode func() any) {
	if v := r.PathValue("version"); v != "" && v != strconv.Itoa(version) {
		s.fail(w, stu3, errf(http.StatusNotFound, "HISTORY_NOT_SUPPORTED", "not-supported", "Only the current version of the %s can be retrieved.", what))
		return
	}
	w.Header().Set("ETag", etag(version))
	writeFHIR(w, http.StatusOK, encode())
}

func serviceByID(id string) (Service, bool) {
	for _, s := range DefaultServices() {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// A008: POST /STU3/ReferralRequest/$ers.fetchworklist.
func (s *Sandbox) fetchWorklist(w http.ResponseWriter, r *http.Request, a actor) {
	var f fhir.WorklistFilter
	list, e := parseBody(r, func(b []byte) (list triage.ListType, err error) {
		list, f, err = fhir.ParseWorklistRequest(b)
		return list, err
	})
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	switch list {
	case triage.ListReferralsForReview, triage.ListAppointmentSlotIssues:
		if !a.provider() {
			s.fail(w, stu3, unprocessable("INVALID_VALUE", "The %s worklist is for service providers.", list))
			return
		}
	case "REJECTED_TRIAGE_RESPONSE", "ASSESSMENT_RETURNED_CANCELLED_DNA", "AWAITING_BOOKING", "LETTERS_OUTSTANDING":
		s.fail(w, stu3, unprocessable("INVALID_VALUE", "The referrer worklists are not provided by this sandbox."))
		return
	default:
		s.fail(w, stu3, unprocessable("INVALID_CODE", "listType is not an eRS-ReferralListSelector-1 code."))
		return
	}
	q, e := s.worklistQuery(a, list, f)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	s.writeWorklist(w, fhir.EncodeWorklist(list, s.store.worklist(q)))
}

// worklistQuery checks an A008 or A023 filter against the actor and the
// reference data and returns the query it asks for.
func (s *Sandbox) worklistQuery(a actor, list triage.ListType, f fhir.WorklistFilter) (worklistQuery, *apiError) {
	q := worklistQuery{List: list, ODS: a.ODS, Service: f.Service, Location: f.Location,
		SpecialtyAssigned: string(f.SpecialtyAssigned), ClinicianAssigned: string(f.ClinicianAssigned), Clinician: f.Clinician}
	if f.Service != "" {
		// A service the sandbox does not know has no referrals: the list is
		// empty. Another organisation's service is refused.
		if svc, ok := serviceByID(f.Service); ok && svc.ODS != a.ODS {
			return q, unprocessable("NO_RELATIONSHIP", "The service does not belong to the user's organisation.")
		}
	}
	if !f.Specialty.IsZero() {
		if !codingIn(f.Specialty, triage.CodeSystemSpecialty) {
			return q, unprocessable("INVALID_CODE", "specialty must be a code from the SPECIALTY code system.")
		}
		if _, ok := s.store.refdata[triage.CodeSystemSpecialty].Lookup(f.Specialty.Code); !ok {
			return q, unprocessable("INVALID_CODE", "specialty is not a SPECIALTY code.")
		}
		q.Specialty = f.Specialty.Code
		if q.SpecialtyAssigned == "" {
			q.SpecialtyAssigned = "ASSIGNED"
		}
	}
	if q.Clinician != "" && q.ClinicianAssigned == "" {
		q.ClinicianAssigned = "ASSIGNED"
	}
	return q, nil
}

// writeWorklist answers an A008 or A023 request with the List, or with 422
// when it is larger than e-RS allows (Config.MaxWorklistBytes).
func (s *Sandbox) writeWorklist(w http.ResponseWriter, l *fhir.List) {
	b, err := fhirJSONBytes(l)
	if err != nil {
		s.fail(w, stu3, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "The worklist could not be encoded."))
		return
	}
	if s.cfg.MaxWorklistBytes > 0 && len(b) > s.cfg.MaxWorklistBytes {
		s.fail(w, stu3, unprocessable("INVALID_VALUE", "The worklist response would exceed %d bytes. Filter it by service, specialty, location or clinician.", s.cfg.MaxWorklistBytes))
		return
	}
	w.Header().Set("Content-Type", fhirJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// ifMatch reads the If-Match version of a write: 412 when it is missing or
// not a weak ETag W/"n".
func ifMatch(r *http.Request) (int, *apiError) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, errf(http.StatusPreconditionFailed, "MISSING_HEADER", "required", "The If-Match header is required. Send the referral's version as W/\"<version>\".")
	}
	m := ifMatchRE.FindStringSubmatch(h)
	if m == nil {
		return 0, errf(http.StatusPreconditionFailed, "INVALID_VALUE", "invalid", "If-Match must be a weak ETag such as W/\"4\".")
	}
	v, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, errf(http.StatusPreconditionFailed, "INVALID_VALUE", "invalid", "If-Match must be a weak ETag such as W/\"4\".")
	}
	return v, nil
}

// decide serves A013, A014, A022 and A028.
func (s *Sandbox) decide(kind triage.DecisionKind) opHandler {
	return func(w http.ResponseWriter, r *http.Request, a actor) {
		ubrn := r.PathValue("ubrn")
		version, e := ifMatch(r)
		if e != nil {
			s.fail(w, stu3, e)
			return
		}
		read := parseBody[triage.Decision]
		if kind == triage.DecisionAccept {
			// An accept has no Parameters, so its media type is not checked.
			read = parseAnyBody[triage.Decision]
		}
		d, e := read(r, func(b []byte) (triage.Decision, error) { return fhir.ParseDecisionParameters(kind, b) })
		if e != nil {
			s.fail(w, stu3, e)
			return
		}
		s.answerWrite(w, r, a, ubrn, version, func(rec *record, now time.Time) *apiError {
			switch kind {
			case triage.DecisionAccept:
				return s.store.applyAccept(rec, now)
			case triage.DecisionReject:
				return s.store.applyReject(rec, d, now)
			case triage.DecisionRedirect:
				return s.store.applyRedirect(rec, a, d, now)
			default:
				return s.store.applyReviewOutcome(rec, a, d, now)
			}
		}, func(ref *triage.Referral) any { return fhir.EncodeReferral(ref) })
	}
}

// answerWrite checks that the actor may act on the referral, applies a
// write to it at the version the client saw and answers with its new
// version (ETag) and encode's body, or the check's or the write's error.
func (s *Sandbox) answerWrite(w http.ResponseWriter, r *http.Request, a actor, ubrn string, version int,
	apply func(rec *record, now time.Time) *apiError, encode func(*triage.Referral) any) {
	if e := s.checkReferral(a, ubrn); e != nil {
		s.fail(w, stu3, e)
		return
	}
	info := infoOf(r)
	ref, res, e := s.store.write(r.Context(), ubrn, version, apply)
	info.version, info.applied = res.Version, res.Applied
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	w.Header().Set("ETag", etag(ref.Version))
	writeFHIR(w, http.StatusOK, encode(&ref))
}

// A036: POST /STU3/ReferralRequest/{ubrn}/$ers.cancelReferral.
func (s *Sandbox) cancelReferral(w http.ResponseWriter, r *http.Request, a actor) {
	ubrn := r.PathValue("ubrn")
	version, e := ifMatch(r)
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	var comments string
	reason, e := parseBody(r, func(b []byte) (reason triage.Coding, err error) {
		reason, comments, err = fhir.ParseCancelReferralParameters(b)
		return reason, err
	})
	if e != nil {
		s.fail(w, stu3, e)
		return
	}
	s.answerWrite(w, r, a, ubrn, version, func(rec *record, now time.Time) *apiError {
		return s.store.applyCancel(rec, a, reason, comments, now)
	}, func(ref *triage.Referral) any { return fhir.EncodeCancelReferralResponse(ref) })
}

// A029: GET /STU3/Task?focus=ReferralRequest/{ubrn}/_history/{version}&intent=proposal&status=ready.
func (s *Sandbox) availableActions(w http.ResponseWriter, r *http.Request, a actor) {
	q := r.URL.Query()
	focus := q.Get("focus")
	switch {
	case focus == "" || q.Get("intent") == "" || q.Get("status") == "":
		s.fail(w, stu3, errf(http.StatusBadRequest, "MISSING_PARAMETER", "required", "focus, intent and status are required."))
		return
	case q.Get("intent") != "proposal" || q.Get("status") != "ready":
		s.fail(w, stu3, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "intent must be proposal and status must be ready."))
		return
	}
	parts := strings.Split(focus, "/")
	if len(parts) != 4 || parts[0] != "ReferralRequest" || parts[2] != "_history" {
		s.fail(w, stu3, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "focus must be ReferralRequest/{ubrn}/_history/{version}."))
		return
	}
	ubrn := parts[1]
	version, err := strconv.Atoi(parts[3])
	if err != nil {
		s.fail(w, stu3, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "The focus version is not a number."))
		return
	}
	st := s.store
	st.mu.Lock()
	rec, ok := st.get(ubrn)
	var current int
	var actions []triage.Action
	related := false
	if ok {
		current, related = rec.ref.Version, a.related(rec)
		actions = availableActions(rec, a)
	}
	st.mu.Unlock()
	switch {
	case !ok:
		s.fail(w, stu3, errf(http.StatusBadRequest, "REFERENCE_NOT_FOUND", "not-found", "The referral in focus was not found."))
	case !related:
		s.fail(w, stu3, unprocessable("NO_RELATIONSHIP", "The user's organisation has no relationship with the referral."))
	case version != current:
		s.fail(w, stu3, errf(http.StatusBadRequest, "HISTORY_NOT_SUPPORTED", "not-supported", "Only the current version of the referral can be in focus."))
	default:
		writeFHIR(w, http.StatusOK, fhir.EncodeAvailableActions(ubrn, current, actions))
	}
}

// A030: GET /R4/PractitionerRole.
func (s *Sandbox) practitionerRoles(w http.ResponseWriter, _ *http.Request, a actor) {
	var roles []fhir.Role
	for _, ro := range a.User.Roles {
		roles = append(roles, fhir.Role{SDSUserID: a.User.ID, ODS: ro.ODS, BusinessFunctions: slices.Clone(ro.BusinessFunctions)})
	}
	writeFHIR(w, http.StatusOK, fhir.EncodePractitionerRoles(roles))
}

// A040: GET /R4/Practitioner?_query=onBehalfOf.
func (s *Sandbox) onBehalfOfUsers(w http.ResponseWriter, r *http.Request, a actor) {
	if r.URL.Query().Get("_query") != "onBehalfOf" {
		s.fail(w, r4, errf(http.StatusBadRequest, "REC_BAD_REQUEST", "invalid", "_query must be onBehalfOf."))
		return
	}
	var users []fhir.OnBehalfOfUser
	for _, id := range a.User.ActsFor {
		u, _ := s.oauth.user(id)
		users = append(users, fhir.OnBehalfOfUser{SDSUserID: id, Name: u.Name})
	}
	writeFHIR(w, http.StatusOK, fhir.EncodeOnBehalfOfUsers(users))
}
