package erssandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The request and response headers e-RS uses.
const (
	hdrODS           = "NHSD-End-User-Organisation-ODS"
	hdrFunction      = "NHSD-eRS-Business-Function"
	hdrOnBehalfOf    = "NHSD-eRS-On-Behalf-Of-User-ID"
	hdrCorrelationID = "X-Correlation-ID"
	hdrRequestID     = "X-Request-ID"
	hdrFileName      = "NHSD-eRS-File-Name"
	hdrReferralID    = "NHSD-eRS-Referral-ID"
	fhirJSON         = "application/fhir+json"
)

// fhirVersion says which error shapes an endpoint uses.
type fhirVersion int

const (
	stu3 fhirVersion = iota
	r4
)

// opSpec describes one e-RS operation.
type opSpec struct {
	id      string
	version fhirVersion
	// allowed are the business functions the endpoint accepts; nil means
	// the endpoint takes no ODS or business-function headers (A030).
	allowed []triage.BusinessFunction
	write   bool
	// listsOBO marks A040, which a clinician admin calls to learn whom they
	// may act for, so it needs no On-Behalf-Of header.
	listsOBO bool
}

var (
	spc  = triage.RoleServiceProviderClinician
	spca = triage.RoleServiceProviderClinicianAdmin
	spa  = triage.RoleServiceProviderAdmin
	rc   = triage.RoleReferringClinician
	rca  = triage.RoleReferringClinicianAdmin
	ra   = triage.RoleReferringAdmin
)

// reqInfo is what the handlers tell the request log and the stats about a
// request.
type reqInfo struct {
	op, route string
	fault     FaultKind
	status    int
	bytes     int
	version   int
	applied   bool
	// ubrn names the request a write is about when its path does not
	// (A027); message is the id of the message a write created (A026, A027).
	ubrn    string
	message string
}

type infoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// recorder captures the status and size of a response.
type recorder struct {
	http.ResponseWriter
	info *reqInfo
}

func (w *recorder) WriteHeader(code int) {
	if w.info.status == 0 {
		w.info.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.info.status == 0 {
		w.info.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.info.bytes += n
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outer gives every response an X-Request-ID (as the e-RS proxy does,
// ignoring any sent by the client), echoes X-Correlation-ID, and logs one
// line per request without patient data: the route pattern, never the path.
func (s *Sandbox) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		reqID := uuid.NewString()
		w.Header().Set(hdrRequestID, reqID)
		// The Date header comes from the sandbox's own clock, as e-RS's comes
		// from e-RS's, so tests can give the server a different time from
		// the client's.
		w.Header().Set("Date", s.cfg.Now().UTC().Format(http.TimeFormat))
		corr := r.Header.Get(hdrCorrelationID)
		if corr != "" {
			w.Header().Set(hdrCorrelationID, corr)
		}
		rw := &recorder{ResponseWriter: w, info: info}
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		route := info.route
		if route == "" {
			route = r.Pattern
		}
		attrs := []any{"op", info.op, "method", r.Method, "route", route, "status", info.status,
			"ms", time.Since(start).Milliseconds(), "bytes", info.bytes, "request_id", reqID}
		if corr != "" {
			attrs = append(attrs, "correlation_id", clipID(corr))
		}
		if info.fault != "" {
			attrs = append(attrs, "fault", string(info.fault))
		}
		s.log.Info("request", attrs...)
	})
}

// clipID keeps a client-sent id short and printable for the log.
func clipID(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func (s *Sandbox) routes() *http.ServeMux {
	mux := http.NewServeMux()
	ops := map[string]opSpec{
		"A004": {id: "A004", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A005": {id: "A005", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A006": {id: "A006", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A007": {id: "A007", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A008": {id: "A008", allowed: []triage.BusinessFunction{spc, spa, spca, rc, rca, ra}},
		"A013": {id: "A013", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A014": {id: "A014", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A020": {id: "A020", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A022": {id: "A022", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A028": {id: "A028", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A029": {id: "A029", allowed: []triage.BusinessFunction{spc, spca, rc, rca}},
		"A030": {id: "A030", version: r4},
		"A036": {id: "A036", allowed: []triage.BusinessFunction{rc, rca, spc}, write: true},
		"A040": {id: "A040", version: r4, allowed: []triage.BusinessFunction{spca}, listsOBO: true},
		"A042": {id: "A042", version: r4, allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		// Advice and Guidance. The roles are an inference: the provider's
		// worklist for provider roles, reads as for referrals (A005), and
		// replies and conversions for clinicians.
		"A023": {id: "A023", allowed: []triage.BusinessFunction{spc, spa, spca}},
		"A024": {id: "A024", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A025": {id: "A025", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
		"A026": {id: "A026", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A027": {id: "A027", allowed: []triage.BusinessFunction{spc, spca}, write: true},
		"A043": {id: "A043", allowed: []triage.BusinessFunction{rc, rca, spc, spca}},
	}
	const rr = "/FHIR/STU3/ReferralRequest/"
	handle := func(pattern, op string, h opHandler) { mux.Handle(pattern, s.op(ops[op], h)) }
	handle("GET /FHIR/STU3/CodeSystem/{type}", "A004", s.getCodeSystem)
	handle("GET "+rr+"{ubrn}", "A005", s.getReferral)
	handle("GET "+rr+"{ubrn}/_history/{version}", "A005", s.getReferral)
	handle("POST "+rr+"{ubrn}/$ers.generateCRI", "A007", s.generateCRI)
	handle("POST "+rr+"$ers.fetchworklist", "A008", s.fetchWorklist)
	handle("POST "+rr+"{ubrn}/$ers.acceptReferral", "A013", s.decide(triage.DecisionAccept))
	handle("POST "+rr+"{ubrn}/$ers.rejectReferral", "A014", s.decide(triage.DecisionReject))
	handle("POST /FHIR/STU3/Binary", "A020", s.uploadFile)
	handle("POST "+rr+"{ubrn}/$ers.cancelAppointmentActionLater", "A022", s.decide(triage.DecisionRedirect))
	handle("POST "+rr+"{ubrn}/$ers.recordReviewOutcome", "A028", s.decide(triage.DecisionReviewOutcome))
	handle("GET /FHIR/STU3/Task", "A029", s.availableActions)
	handle("GET /FHIR/R4/PractitionerRole", "A030", s.practitionerRoles)
	handle("POST "+rr+"{ubrn}/$ers.cancelReferral", "A036", s.cancelReferral)
	handle("GET /FHIR/R4/Practitioner", "A040", s.onBehalfOfUsers)
	handle("GET /FHIR/R4/Binary/{id}", "A042", s.retrieveAttachmentR4)
	handle("GET /FHIR/STU3/Binary/{id}", "A006", s.retrieveAttachmentSTU3)
	const cr = "/FHIR/STU3/CommunicationRequest/"
	handle("POST "+cr+"$ers.fetchworklist", "A023", s.fetchAdviceWorklist)
	handle("GET "+cr+"{ubrn}", "A024", s.getAdviceRequest)
	handle("GET "+cr+"{ubrn}/_history/{version}", "A024", s.getAdviceRequest)
	handle("GET /FHIR/STU3/Communication", "A025", s.getAdviceConversation)
	handle("POST "+cr+"{ubrn}/$ers.sendCommunicationToRequester", "A026", s.sendAdviceReply)
	handle("POST "+rr+"$ers.createFromCommunicationRequestActionLater", "A027", s.convertAdvice)
	handle("POST "+cr+"{ubrn}/$ers.generateCRI", "A043", s.adviceOverview)
	mux.HandleFunc("/FHIR/", func(w http.ResponseWriter, r *http.Request) {
		infoOf(r).op = "unknown"
		s.stats.request("unknown")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("Not Found"))
	})
	mux.HandleFunc("GET /FHIR/_ping", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "pass"})
	})
	s.oauth.routes(mux, func(r *http.Request, op string) {
		infoOf(r).op = op
		s.stats.request(op)
	})
	s.pdsRoutes(mux)
	s.controlRoutes(mux)
	return mux
}

// opHandler serves one operation for an authorised actor.
type opHandler func(w http.ResponseWriter, r *http.Request, a actor)

// op wraps an operation's handler with what happens before e-RS itself
// answers: counting, injected faults, authentication and the header rules.
// For writes it also records the outcome in the stats.
func (s *Sandbox) op(spec opSpec, h opHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		info.op, info.route = spec.id, r.Pattern
		s.stats.request(spec.id)
		logWrite := func() {}
		if spec.write {
			// The write is logged when its answer starts, before the client
			// can see it; a reset or hang is logged before the connection is
			// dropped or left hanging, so the log never lags the client.
			var once sync.Once
			logWrite = func() { once.Do(func() { s.recordWrite(r, spec, info) }) }
			defer logWrite()
			w = &onFirstWrite{ResponseWriter: w, info: info, fn: logWrite}
		}
		d := s.faults.decide(spec.id, spec.write)
		if d.latency > 0 && !s.sleep(r.Context(), d.latency) {
			return
		}
		if d.kind != "" {
			info.fault = d.kind
			s.stats.fault(d.kind)
		}
		switch d.kind {
		case FaultRateLimit:
			s.fail(w, spec.version, errf(http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "throttled", "Your app has exceeded its rate limit."))
			return
		case FaultHang:
			logWrite()
			select {
			case <-r.Context().Done():
			case <-s.done:
			}
			return
		case FaultReset:
			logWrite()
			resetConn(w)
			return
		case FaultServerError:
			s.fail(w, spec.version, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "An unexpected error occurred."))
			return
		case FaultUnavailable:
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(d.retry/time.Second))))
			s.fail(w, spec.version, errf(http.StatusServiceUnavailable, "SYSTEM_UNAVAILABLE", "transient", "The service is unavailable. Try again later."))
			return
		}
		a, e := s.authorise(r, spec)
		if e != nil {
			s.fail(w, spec.version, e)
			return
		}
		if d.kind == FaultPASTimeout {
			s.fail(w, spec.version, errf(http.StatusGatewayTimeout, "PAS_NOT_RESPONDING", "timeout", "PAS unable to cancel the appointment. PAS Request Status: TIMED_OUT"))
			return
		}
		if d.kind == FaultDropAfterApply {
			var dw http.ResponseWriter = &discard{header: http.Header{}, info: info}
			if ow, ok := w.(*onFirstWrite); ok {
				dw = &onFirstWrite{ResponseWriter: dw, info: info, fn: ow.fn}
			}
			h(dw, r, a)
			resetConn(w)
			return
		}
		if d.kind == FaultOtherReferral {
			s.answerForAnother(w, r, a, h)
			return
		}
		h(w, r, a)
	})
}

// answerForAnother applies a write as h would, then, if it succeeded,
// answers with another referral's resource and ETag instead of the written
// one (FaultOtherReferral).
func (s *Sandbox) answerForAnother(w http.ResponseWriter, r *http.Request, a actor, h opHandler) {
	info := infoOf(r)
	rec := &captured{header: http.Header{}}
	h(rec, r, a)
	other, ok := s.store.otherThan(r.PathValue("ubrn"))
	if rec.status != http.StatusOK || !ok {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
		return
	}
	info.fault = FaultOtherReferral
	w.Header().Set("ETag", etag(other.Version))
	writeFHIR(w, http.StatusOK, fhir.EncodeReferral(&other))
}

// captured is a ResponseWriter that keeps the answer for answerForAnother.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

// onFirstWrite calls fn when the answer starts, with info.status set.
type onFirstWrite struct {
	http.ResponseWriter
	info *reqInfo
	fn   func()
}

func (w *onFirstWrite) WriteHeader(code int) {
	if w.info.status == 0 {
		w.info.status = code
	}
	w.fn()
	w.ResponseWriter.WriteHeader(code)
}

func (w *onFirstWrite) Write(b []byte) (int, error) {
	if w.info.status == 0 {
		w.info.status = http.StatusOK
	}
	w.fn()
	return w.ResponseWriter.Write(b)
}

func (w *onFirstWrite) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discard is a ResponseWriter that throws the answer away (the write was
// applied; the connection is then dropped).
type discard struct {
	header http.Header
	info   *reqInfo
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) Write(b []byte) (int, error) {
	if d.info.status == 0 {
		d.info.status = http.StatusOK
	}
	return len(b), nil
}
func (d *discard) WriteHeader(code int) {
	if d.info.status == 0 {
		d.info.status = code
	}
}

// resetConn closes the client's connection abruptly, without an answer.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Sandbox) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

func (s *Sandbox) recordWrite(r *http.Request, spec opSpec, info *reqInfo) {
	rec := WriteRecord{Op: spec.id, UBRN: r.PathValue("ubrn"), Version: info.version, Status: info.status,
		Applied: info.applied, Fault: info.fault, MessageID: info.message}
	if info.ubrn != "" {
		rec.UBRN = info.ubrn
	}
	switch info.fault {
	case FaultDropAfterApply:
		rec.Dropped = info.applied
	case FaultReset, FaultHang:
		rec.Status = 0
	}
	if !rec.Applied && rec.Version == 0 {
		s.store.mu.Lock()
		rec.Version = s.store.versionOf(rec.UBRN)
		s.store.mu.Unlock()
	}
	s.stats.write(rec)
}

// authorise applies authentication and e-RS's header rules and returns who
// is acting.
func (s *Sandbox) authorise(r *http.Request, spec opSpec) (actor, *apiError) {
	var user TestUser
	authz := r.Header.Get("Authorization")
	if s.cfg.Auth {
		u, why := s.oauth.authenticate(authz)
		if why != "" {
			return actor{}, errf(http.StatusUnauthorized, "NO_ACCESS", "login", "Access token is %s. Sign in again.", why)
		}
		user = u
	} else if u, why := s.oauth.authenticate(authz); why == "" {
		user = u
	}
	if spec.allowed == nil { // A030: only the token matters
		if user.ID == "" {
			user, _ = s.oauth.user(s.cfg.DefaultUser)
		}
		return actor{User: user}, nil
	}
	ods := strings.TrimSpace(r.Header.Get(hdrODS))
	bf := triage.BusinessFunction(strings.TrimSpace(r.Header.Get(hdrFunction)))
	obo := strings.TrimSpace(r.Header.Get(hdrOnBehalfOf))
	switch {
	case ods == "":
		return actor{}, errf(http.StatusBadRequest, "MISSING_HEADER", "required", "The %s header is required.", hdrODS)
	case bf == "":
		return actor{}, errf(http.StatusBadRequest, "MISSING_HEADER", "required", "The %s header is required.", hdrFunction)
	case strings.HasSuffix(string(bf), "AUTHORISED_APPLICATION"):
		return actor{}, errf(http.StatusForbidden, "NO_ACCESS", "forbidden", "User does not have the required Business Function at the specified Organisation.")
	}
	if user.ID == "" { // authentication off: any test user who holds the role
		for _, u := range s.cfg.Users {
			if u.Holds(ods, bf) && (obo == "" || slices.Contains(u.ActsFor, obo)) {
				user = u
				break
			}
		}
	}
	if !user.Holds(ods, bf) {
		return actor{}, errf(http.StatusForbidden, "NO_ACCESS", "forbidden", "User does not have the required Business Function at the specified Organisation.")
	}
	if !slices.Contains(spec.allowed, bf) {
		return actor{}, plain(http.StatusForbidden, fmt.Sprintf("This endpoint cannot be accessed using the e-RS Business Function provided. Allowed values: %s", joinFunctions(spec.allowed)))
	}
	if bf == spca && obo == "" && !spec.listsOBO {
		return actor{}, plain(http.StatusForbidden, "When this endpoint is accessed using the e-RS SERVICE_PROVIDER_CLINICIAN_ADMIN Business Function then an On-Behalf-Of User ID must be provided")
	}
	if bf != spca && obo != "" {
		return actor{}, plain(http.StatusForbidden, "An On-Behalf-Of User ID must only be provided if this endpoint is accessed using the e-RS SERVICE_PROVIDER_CLINICIAN_ADMIN Business Function")
	}
	if obo != "" && !slices.Contains(user.ActsFor, obo) {
		return actor{}, errf(http.StatusForbidden, "NO_ACCESS", "forbidden", "The user is not authorised to act on behalf of the On-Behalf-Of user.")
	}
	return actor{User: user, ODS: ods, Function: bf, OnBehalfOf: obo}, nil
}

func joinFunctions(bfs []triage.BusinessFunction) string {
	parts := make([]string, len(bfs))
	for i, b := range bfs {
		parts[i] = string(b)
	}
	return strings.Join(parts, ",")
}

// plain is an error answered with a text/plain body, as the e-RS proxy does
// for some header-rule failures.
func plain(status int, text string) *apiError {
	return &apiError{Status: status, Diagnostics: text, plain: true}
}

// r4Code maps an error to the code an R4 endpoint gives.
func r4Code(e *apiError) (code, issue string) {
	switch e.Status {
	case http.StatusBadRequest:
		return "REC_BAD_REQUEST", "invalid"
	case http.StatusUnauthorized:
		return "ACCESS_DENIED", "login"
	case http.StatusForbidden:
		if e.Code == "NO_RELATIONSHIP" {
			return e.Code, "forbidden"
		}
		return "ACCESS_DENIED", "forbidden"
	case http.StatusNotFound:
		return "REC_NOT_FOUND", "not-found"
	case http.StatusNotAcceptable:
		return "REC_NOT_ACCEPTABLE", "not-supported"
	case http.StatusUnsupportedMediaType:
		return "REC_UNSUPPORTED_MEDIA_TYPE", "not-supported"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS", "throttled"
	case http.StatusServiceUnavailable:
		return "REC_UNAVAILABLE", "transient"
	case http.StatusInternalServerError, http.StatusGatewayTimeout:
		return "REC_SERVER_ERROR", "exception"
	}
	return e.Code, e.IssueType
}

// fail writes an error the way e-RS does on the endpoint's FHIR version:
// an STU3 eRS-OperationOutcome-1 or an R4 NHSDigital-OperationOutcome, a
// text/plain body for the proxy's plain-text answers, and an empty body for
// 429 on STU3 paths.
func (s *Sandbox) fail(w http.ResponseWriter, v fhirVersion, e *apiError) {
	if e.plain {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = w.Write([]byte(e.Diagnostics))
		return
	}
	if v == stu3 && e.Status == http.StatusTooManyRequests {
		w.WriteHeader(e.Status)
		return
	}
	var body *fhir.OperationOutcome
	if v == stu3 {
		body = fhir.STU3OperationOutcome(e.Code, e.Display, e.Diagnostics, e.IssueType)
	} else {
		code, issue := r4Code(e)
		body = fhir.R4OperationOutcome(code, codeDisplay(code), e.Diagnostics, issue)
		body.Meta = &fhir.Meta{LastUpdated: s.cfg.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	}
	writeFHIR(w, e.Status, body)
}

// writeFHIR writes a FHIR resource as application/fhir+json.
func writeFHIR(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", fhirJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSON writes a control-API answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
