package erssandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// OpPDS is the operation name of a PDS read in Stats and FailNext.
const OpPDS = "PDS"

// PDSPath is where the sandbox serves PDS, as the NHS API Platform does:
// GET {PDSPath}/Patient/{nhsNumber}.
const PDSPath = "/personal-demographics/FHIR/R4"

// PDSBaseURL is the sandbox's PDS FHIR R4 base URL.
func (s *Sandbox) PDSBaseURL() string { return s.base + PDSPath }

func (s *Sandbox) pdsRoutes(mux interface {
	HandleFunc(string, func(http.ResponseWriter, *http.Request))
}) {
	mux.HandleFunc("GET "+PDSPath+"/Patient/{id}", s.getPatient)
}

// pdsFail writes a PDS OperationOutcome.
func pdsFail(w http.ResponseWriter, status int, severity, issue, code, display, diagnostics string) {
	writeFHIR(w, status, pds.NewOperationOutcome(severity, issue, code, display, diagnostics))
}

// getPatient serves GET /Patient/{id} the way the PDS sandbox does: checks
// in PDS's order (X-Request-ID present and a UUID, then the token, then the
// check digit, then existence), the request ids mirrored, ETag W/"version".
// A superseded number is answered with the surviving record; a restricted
// record without address, telecom, contacts or GP.
func (s *Sandbox) getPatient(w http.ResponseWriter, r *http.Request) {
	info := infoOf(r)
	info.op, info.route = OpPDS, r.Pattern
	s.stats.request(OpPDS)
	d := s.faults.decide(OpPDS, false)
	if d.latency > 0 && !s.sleep(r.Context(), d.latency) {
		return
	}
	if d.kind != "" {
		info.fault = d.kind
		s.stats.fault(d.kind)
	}
	reqID := r.Header.Get(hdrRequestID)
	switch d.kind {
	case FaultRateLimit:
		pdsFail(w, http.StatusTooManyRequests, "error", "throttled", "TOO_MANY_REQUESTS", "Too many requests", "")
		return
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case FaultReset, FaultDropAfterApply:
		resetConn(w)
		return
	case FaultServerError, FaultUnavailable, FaultPASTimeout:
		pdsFail(w, http.StatusInternalServerError, "error", "exception", "UNKNOWN_ERROR", "Unknown error", "")
		return
	}
	switch {
	case reqID == "":
		pdsFail(w, http.StatusBadRequest, "error", "required", "MISSING_VALUE", "Required value is missing", "Invalid request with error - X-Request-ID header must be supplied to access this resource")
		return
	case uuid.Validate(reqID) != nil || len(reqID) != 36:
		pdsFail(w, http.StatusBadRequest, "error", "value", "INVALID_VALUE", "Provided value is invalid", "Invalid value - '"+clipID(reqID)+"' in header 'X-Request-ID'")
		return
	}
	// PDS mirrors the client's ids.
	w.Header().Set(hdrRequestID, reqID)
	if s.cfg.Auth {
		if _, why := s.oauth.authenticate(r.Header.Get("Authorization")); why != "" {
			pdsFail(w, http.StatusUnauthorized, "error", "forbidden", "ACCESS_DENIED", "Access Denied - Unauthorised", "Invalid Access Token")
			return
		}
	}
	id := r.PathValue("id")
	if triage.ValidateNHSNumber(id) != nil || len(id) != 10 {
		pdsFail(w, http.StatusBadRequest, "error", "value", "INVALID_RESOURCE_ID", "Resource Id is invalid", "")
		return
	}
	p, ok := s.store.patients.get(id)
	if ok && p.MergedInto != "" {
		p, ok = s.store.patients.get(p.MergedInto)
	}
	if !ok || p.NotInPDS {
		pdsFail(w, http.StatusNotFound, "information", "not-found", "RESOURCE_NOT_FOUND", "Resource not found", "")
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, p.Version))
	writeFHIR(w, http.StatusOK, patientResource(p))
}

// patientResource is the PDS Patient resource of a synthetic patient.
func patientResource(p SyntheticPatient) *pds.Resource {
	r := &pds.Resource{ResourceType: "Patient", ID: p.NHSNumber,
		Identifier: []pds.Identifier{{System: pds.SystemNHSNumber, Value: p.NHSNumber, Extension: []pds.Extension{{
			URL: pds.ExtNHSNumberVerified, ValueCodeableConcept: &pds.CodeableConcept{Coding: []pds.Coding{{
				System: pds.SystemNHSNumberVerified, Version: "1.0.0", Code: "01", Display: "Number present and verified"}}}}}}},
		Meta: &pds.ResourceMeta{VersionID: strconv.Itoa(p.Version), Security: []pds.Coding{{System: pds.SystemConfidentiality,
			Code: string(p.Restriction), Display: map[triage.Restriction]string{triage.RestrictionRestricted: "restricted"}[p.Restriction]}}},
		Name: []pds.HumanName{{ID: "1", Use: "usual", Period: &pds.Period{Start: p.BirthDate.Format(time.DateOnly)},
			Given: []string{p.Given}, Family: p.Family, Prefix: []string{p.Title}}},
		Gender:    string(p.Gender),
		BirthDate: p.BirthDate.Format(time.DateOnly),
	}
	if r.Meta.Security[0].Display == "" {
		r.Meta.Security[0].Display = "unrestricted"
	}
	if !p.Deceased.IsZero() {
		r.DeceasedDateTime = p.Deceased.UTC().Format("2006-01-02T15:04:05+00:00")
		r.Extension = append(r.Extension, pds.Extension{URL: pds.ExtDeathNotification, Extension: []pds.Extension{
			{URL: "deathNotificationStatus", ValueCodeableConcept: &pds.CodeableConcept{Coding: []pds.Coding{{
				System: pds.SystemDeathNotification, Version: "1.0.0", Code: "2", Display: "Formal - death notice received from Registrar of Deaths"}}}},
			{URL: "systemEffectiveDate", ValueDateTime: r.DeceasedDateTime},
		}})
	}
	if !p.Restriction.Restricted() {
		r.GeneralPractitioner = []pds.Reference{{Type: "Organization", Identifier: &pds.Identifier{System: pds.SystemODS, Value: p.PracticeODS}}}
		r.Address = rawJSON([]map[string]any{{"use": "home", "line": []string{p.AddressLine}, "postalCode": p.Postcode}})
		r.Telecom = rawJSON([]map[string]any{{"system": "phone", "value": p.Phone, "use": "home"}})
	}
	return r
}

// rawJSON encodes v, which is always encodable.
func rawJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
