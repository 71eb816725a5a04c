package erssandbox

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

var worklistBody = `{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1","code":"REFERRALS_FOR_REVIEW"}]}}]}`

func TestHeaderRules(t *testing.T) {
	sb := start(t, Config{Auth: true})
	spcTok, _ := sb.Token(UserClinician)
	spcaTok, _ := sb.Token(UserClinicianAdmin)
	spaTok, _ := sb.Token(UserAdmin)
	rcdTok, _ := sb.Token(UserClinicianRCD)
	r := sb.Referrals(func(r triage.Referral) bool { return true })[0]
	read := rrPath + r.UBRN
	wl := rrPath + "$ers.fetchworklist"
	spcAt := func(ods string) as {
		return as{ODS: ods, Function: string(triage.RoleServiceProviderClinician), Token: spcTok}
	}
	cases := []struct {
		name, method, path string
		who                as
		body               any
		status             int
		plain              bool
		code               string
	}{
		{"no token", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN"}, nil, 401, false, "NO_ACCESS"},
		{"unknown token", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN", Token: "not-a-token"}, nil, 401, false, "NO_ACCESS"},
		{"R4 without a token", "GET", "/R4/PractitionerRole", as{}, nil, 401, false, "ACCESS_DENIED"},
		{"no ODS", "GET", read, as{Function: "SERVICE_PROVIDER_CLINICIAN", Token: spcTok}, nil, 400, false, "MISSING_HEADER"},
		{"no business function", "GET", read, as{ODS: ProviderODS, Token: spcTok}, nil, 400, false, "MISSING_HEADER"},
		{"authorised-application function", "GET", read, as{ODS: ProviderODS, Function: "PROVIDER_AUTHORISED_APPLICATION", Token: spcTok}, nil, 403, false, "NO_ACCESS"},
		{"role not held at the organisation", "GET", read, spcAt("RXX"), nil, 403, false, "NO_ACCESS"},
		{"role not held by the user", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_ADMIN", Token: spcTok}, nil, 403, false, "NO_ACCESS"},
		{"admin may not read a referral", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_ADMIN", Token: spaTok}, nil, 403, true, ""},
		{"admin may read the worklist", "POST", wl, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_ADMIN", Token: spaTok}, worklistBody, 200, false, ""},
		{"admin may not accept", "POST", rrPath + r.UBRN + "/$ers.acceptReferral", as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_ADMIN", Token: spaTok}, nil, 403, true, ""},
		{"clinician admin without On-Behalf-Of", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", Token: spcaTok}, nil, 403, true, ""},
		{"On-Behalf-Of with another role", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN", OnBehalfOf: UserClinician2, Token: spcTok}, nil, 403, true, ""},
		{"On-Behalf-Of someone not represented", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", OnBehalfOf: UserClinicianRCD, Token: spcaTok}, nil, 403, false, "NO_ACCESS"},
		{"clinician admin acting for a clinician", "GET", read, as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", OnBehalfOf: UserClinician2, Token: spcaTok}, nil, 200, false, ""},
		{"clinician at the second organisation", "POST", wl, spcAt(SecondProviderODS), worklistBody, 200, false, ""},
		{"referral of another organisation", "GET", read, as{ODS: SecondProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN", Token: rcdTok}, nil, 422, false, "NO_RELATIONSHIP"},
		{"A040 is for clinician admins only", "GET", "/R4/Practitioner?_query=onBehalfOf", spcAt(ProviderODS), nil, 403, true, ""},
		{"A036 takes no On-Behalf-Of", "POST", rrPath + r.UBRN + "/$ers.cancelReferral", as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", OnBehalfOf: UserClinician, Token: spcaTok}, "{}", 403, true, ""},
		{"A030 needs only the token", "GET", "/R4/PractitionerRole", as{Token: spcTok}, nil, 200, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := do(t, sb, tc.method, tc.path, tc.who, tc.body, "X-Correlation-ID", "corr-"+strconv.Itoa(len(tc.name)))
			if rep.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", rep.Status, tc.status, rep.Body)
			}
			ct, _, _ := mime.ParseMediaType(rep.Header.Get("Content-Type"))
			if tc.plain && ct != "text/plain" {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if tc.code != "" && rep.code() != tc.code {
				t.Errorf("code %q, want %q", rep.code(), tc.code)
			}
			if rep.Header.Get(hdrRequestID) == "" || rep.Header.Get(hdrCorrelationID) != "corr-"+strconv.Itoa(len(tc.name)) {
				t.Errorf("X-Request-ID %q, X-Correlation-ID %q", rep.Header.Get(hdrRequestID), rep.Header.Get(hdrCorrelationID))
			}
		})
	}
}

func TestAuthOffPicksTheUserFromTheHeaders(t *testing.T) {
	sb := start(t, Config{})
	r := sb.Referrals(nil)[0]
	if rep := do(t, sb, "GET", rrPath+r.UBRN, asSPC, nil, "Authorization", "Bearer anything"); rep.Status != 200 {
		t.Errorf("auth off, any token: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", rrPath+r.UBRN, asSPCA, nil); rep.Status != 200 {
		t.Errorf("auth off, clinician admin: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", rrPath+r.UBRN, as{ODS: "RXX", Function: "SERVICE_PROVIDER_CLINICIAN"}, nil); rep.Status != 403 {
		t.Errorf("auth off, a role nobody holds: %d, want 403", rep.Status)
	}
}

func TestRolesAndOnBehalfOf(t *testing.T) {
	sb := start(t, Config{Auth: true})
	tok, _ := sb.Token(UserClinician)
	rep := do(t, sb, "GET", "/R4/PractitionerRole", as{Token: tok}, nil)
	roles, err := fhir.DecodePractitionerRoles(rep.Body)
	if err != nil || len(roles) != 2 {
		t.Fatalf("A030: %v %d roles", err, len(roles))
	}
	orgs := map[string]bool{}
	for _, ro := range roles {
		orgs[ro.ODS] = ro.SDSUserID == UserClinician && ro.CanVet()
	}
	if !orgs[ProviderODS] || !orgs[SecondProviderODS] {
		t.Errorf("A030 roles %+v", roles)
	}
	tok, _ = sb.Token(UserClinicianAdmin)
	rep = do(t, sb, "GET", "/R4/Practitioner?_query=onBehalfOf", as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", OnBehalfOf: UserClinician, Token: tok}, nil)
	users, err := fhir.DecodeOnBehalfOfUsers(rep.Body)
	if err != nil || len(users) != 2 || users[0].SDSUserID != UserClinician || users[1].SDSUserID != UserClinician2 {
		t.Errorf("A040: %v %+v", err, users)
	}
	rep = do(t, sb, "GET", "/R4/Practitioner", as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN_ADMIN", OnBehalfOf: UserClinician, Token: tok}, nil)
	if rep.Status != 400 || rep.code() != "REC_BAD_REQUEST" {
		t.Errorf("A040 without _query: %d %s", rep.Status, rep.code())
	}
}

func TestWorklists(t *testing.T) {
	sb := start(t, Config{Referrals: 300})
	fetch := func(body string) (triage.ListType, []triage.WorklistItem, reply) {
		rep := do(t, sb, "POST", rrPath+"$ers.fetchworklist", asSPC, body)
		if rep.Status != 200 {
			return "", nil, rep
		}
		l, items, err := fhir.DecodeWorklist(rep.Body)
		if err != nil {
			t.Fatalf("decode worklist: %v", err)
		}
		return l, items, rep
	}
	req := func(list triage.ListType, f fhir.WorklistFilter) string {
		return string(mustJSON(t, fhir.WorklistRequest(list, f)))
	}
	_, all, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{}))
	want := sb.Worklist(triage.ListReferralsForReview, ProviderODS)
	if len(all) != len(want) || len(all) == 0 {
		t.Fatalf("Referrals for Review: %d items, want %d", len(all), len(want))
	}
	for i := range all {
		if all[i].UBRN != want[i].UBRN || all[i].Version != want[i].Version || all[i].Type != want[i].Type || all[i].Priority != want[i].Priority {
			t.Fatalf("item %d: %+v, want %+v", i, all[i], want[i])
		}
	}
	list, asi, _ := fetch(req(triage.ListAppointmentSlotIssues, fhir.WorklistFilter{}))
	if list != triage.ListAppointmentSlotIssues || len(asi) == 0 {
		t.Fatalf("Appointment Slot Issues: %s, %d items", list, len(asi))
	}
	for _, it := range asi {
		if it.Version != 0 || it.ReviewReason == "" || it.PatientContactExpected.IsZero() {
			t.Errorf("slot issues item %+v", it)
		}
	}

	svc := all[0].Service.ID
	_, bySvc, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{Service: svc}))
	spec := all[0].Specialty
	_, bySpec, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{Specialty: triage.Coding{System: "_baseUrl_/STU3/CodeSystem/SPECIALTY", Code: spec.Code}}))
	_, byClin, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{Clinician: UserClinician}))
	_, unassigned, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{ClinicianAssigned: fhir.IndicatorNotAssigned}))
	loc := ""
	for _, s := range DefaultServices() {
		if s.ID == svc {
			loc = s.Location
		}
	}
	_, byLoc, _ := fetch(req(triage.ListReferralsForReview, fhir.WorklistFilter{Location: loc}))
	check := func(name string, got []triage.WorklistItem, ok func(triage.WorklistItem) bool) {
		n := 0
		for _, it := range all {
			if ok(it) {
				n++
			}
		}
		if len(got) != n || n == 0 || n == len(all) {
			t.Errorf("%s: %d items, want %d of %d", name, len(got), n, len(all))
		}
		for _, it := range got {
			if !ok(it) {
				t.Errorf("%s: item %s does not match", name, it.UBRN)
			}
		}
	}
	check("service", bySvc, func(it triage.WorklistItem) bool { return it.Service.ID == svc })
	check("specialty", bySpec, func(it triage.WorklistItem) bool { return it.Specialty.Code == spec.Code })
	check("clinician", byClin, func(it triage.WorklistItem) bool {
		return it.NamedClinician == UserClinician || it.AllocatedClinician == UserClinician
	})
	check("not assigned", unassigned, func(it triage.WorklistItem) bool { return it.NamedClinician == "" && it.AllocatedClinician == "" })
	locs := map[string]string{}
	for _, s := range DefaultServices() {
		locs[s.ID] = s.Location
	}
	check("location", byLoc, func(it triage.WorklistItem) bool { return locs[it.Service.ID] == loc })

	for _, tc := range []struct{ name, body, code string }{
		{"another organisation's service", req(triage.ListReferralsForReview, fhir.WorklistFilter{Service: "40001"}), "NO_RELATIONSHIP"},
		{"unknown specialty", req(triage.ListReferralsForReview, fhir.WorklistFilter{Specialty: triage.Coding{System: "x/STU3/CodeSystem/SPECIALTY", Code: "ASTROLOGY"}}), "INVALID_CODE"},
		{"unknown list", strings.Replace(worklistBody, "REFERRALS_FOR_REVIEW", "EVERYTHING", 1), "INVALID_CODE"},
		{"unknown parameter", strings.Replace(worklistBody, `"listType"`, `"listKind"`, 1), "UNEXPECTED_FIELD"},
		{"not JSON", "<Parameters/>", "INVALID_FHIR_STRUCTURE"},
	} {
		if _, _, rep := fetch(tc.body); rep.Status != 422 || rep.code() != tc.code {
			t.Errorf("%s: %d %s, want 422 %s", tc.name, rep.Status, rep.code(), tc.code)
		}
	}
}

func TestWorklistSizeLimit(t *testing.T) {
	sb := start(t, Config{Referrals: 200, MaxWorklistBytes: 100_000})
	rep := do(t, sb, "POST", rrPath+"$ers.fetchworklist", asSPC, worklistBody)
	if rep.Status != 422 || !strings.Contains(string(rep.Body), "Filter") {
		t.Errorf("oversized worklist: %d %s", rep.Status, rep.Body)
	}
	rep = do(t, sb, "POST", rrPath+"$ers.fetchworklist", asSPC, string(mustJSON(t, fhir.WorklistRequest(triage.ListReferralsForReview, fhir.WorklistFilter{Service: "30012"}))))
	if rep.Status != 200 {
		t.Errorf("filtered worklist: %d", rep.Status)
	}
}

func TestAvailableActions(t *testing.T) {
	sb := start(t, Config{Referrals: 200})
	ras := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeTriageDeferral, ""))
	booked := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, ""))
	triaged := pickReferral(t, sb, func(r triage.Referral) bool {
		return r.State.State == triage.StateTriagedProviderToAction && r.Service.ID[0] == '3'
	})
	task := func(r triage.Referral, v int, who as) reply {
		return do(t, sb, "GET", fmt.Sprintf("/STU3/Task?focus=ReferralRequest/%s/_history/%d&intent=proposal&status=ready", r.UBRN, v), who, nil)
	}
	for _, tc := range []struct {
		r    triage.Referral
		who  as
		want []triage.Action
	}{
		{ras, asSPC, []triage.Action{triage.ActionRecordReviewOutcome}},
		{booked, asSPC, nil},
		{triaged, asSPC, []triage.Action{triage.ActionCancelReferral}},
		{triaged, asSPCA, nil},
	} {
		rep := task(tc.r, tc.r.Version, tc.who)
		got, err := fhir.DecodeAvailableActions(rep.Body)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s in %s as %s: %v %v, want %v", tc.r.UBRN, tc.r.State.State, tc.who.Function, got, err, tc.want)
		}
	}
	if rep := task(ras, ras.Version-1, asSPC); rep.Status != 400 || rep.code() != "HISTORY_NOT_SUPPORTED" {
		t.Errorf("old version in focus: %d %s", rep.Status, rep.code())
	}
	if rep := do(t, sb, "GET", "/STU3/Task?intent=proposal&status=ready", asSPC, nil); rep.Status != 400 || rep.code() != "MISSING_PARAMETER" {
		t.Errorf("no focus: %d %s", rep.Status, rep.code())
	}
	if rep := do(t, sb, "GET", "/STU3/Task?focus=ReferralRequest/"+ras.UBRN+"/_history/x&intent=proposal&status=ready", asSPC, nil); rep.Status != 400 {
		t.Errorf("bad focus: %d", rep.Status)
	}
}

func TestCancelReferralEndsTriage(t *testing.T) {
	sb := start(t, Config{Referrals: 200})
	r := pickReferral(t, sb, func(r triage.Referral) bool {
		return r.State.State == triage.StateTriagedProviderToAction && r.Service.ID[0] == '3'
	})
	body := func(code, comments string) string {
		return string(mustJSON(t, fhir.CancelReferralParameters(triage.Coding{System: "_baseurl_/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON", Code: code}, comments)))
	}
	path := rrPath + r.UBRN + "/$ers.cancelReferral"
	for _, tc := range []struct{ name, body, code string }{
		{"patient reason from a provider", body("INTEND_PRIVATE", "x"), "INAPPROPRIATE_VALUE"},
		{"expired reason", body(ExpiredEndTriageReason, "x"), "INVALID_CODE"},
		{"mandatory comment missing", body("STRAIGHT_TO_TEST", ""), "VALUE_IS_REQUIRED"},
	} {
		if rep := do(t, sb, "POST", path, asSPC, tc.body, ifm(r.Version)...); rep.Status != 422 || rep.code() != tc.code {
			t.Errorf("%s: %d %s, want 422 %s", tc.name, rep.Status, rep.code(), tc.code)
		}
	}
	if rep := do(t, sb, "POST", path, asSPC, body("TRIAGE_ENDED", "")); rep.Status != 412 {
		t.Errorf("no If-Match: %d", rep.Status)
	}
	rep := do(t, sb, "POST", path, asSPC, body("STRAIGHT_TO_TEST", "Sent for a CT scan."), ifm(r.Version)...)
	if rep.Status != 200 {
		t.Fatalf("end triage: %d %s", rep.Status, rep.Body)
	}
	got, err := fhir.DecodeCancelReferralResponse(rep.Body)
	if err != nil || got.State.State != triage.StateCancelledReferral || got.Status != "cancelled" || got.Version != r.Version+1 {
		t.Fatalf("after end triage: %v %+v", err, got)
	}
	if rep := do(t, sb, "POST", path, asSPC, body("TRIAGE_ENDED", ""), ifm(got.Version)...); rep.Status != 422 || rep.code() != "INVALID_REQUEST_STATE" {
		t.Errorf("cancel twice: %d %s", rep.Status, rep.code())
	}
	ras := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeTriageDeferral, ""))
	if rep := do(t, sb, "POST", rrPath+ras.UBRN+"/$ers.cancelReferral", asSPC, body("TRIAGE_ENDED", ""), ifm(ras.Version)...); rep.Status != 422 || rep.code() != "INVALID_REQUEST_STATE" {
		t.Errorf("end triage before triage: %d %s", rep.Status, rep.code())
	}
}

func TestAttachmentsCrossHost(t *testing.T) {
	sb := start(t, Config{Referrals: 100, Auth: true, PendingDelay: -1})
	tok, _ := sb.Token(UserClinician)
	who := as{ODS: ProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN", Token: tok}
	byStatus := map[triage.AvailabilityStatus]triage.Document{}
	var star triage.Document
	for _, r := range sb.Referrals(func(r triage.Referral) bool { return r.Service.ID[0] == '3' }) {
		for _, d := range r.Documents {
			byStatus[d.Availability] = d
			if strings.ContainsAny(d.Title, "éÉÜ–") {
				star = d
			}
		}
	}
	d := byStatus[triage.AvailabilityAvailable]
	rep := do(t, sb, "GET", "/R4/Binary/"+d.ID, who, nil)
	loc := rep.Header.Get("Location")
	if rep.Status != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, sb.DownloadBaseURL()+"/") || strings.HasPrefix(loc, sb.BaseURL()) {
		t.Fatalf("A042: %d Location %q, want 307 to %s", rep.Status, loc, sb.DownloadBaseURL())
	}
	// The download host refuses a request carrying the bearer token...
	leak, _ := http.NewRequest("GET", loc, nil)
	leak.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(leak)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || sb.Stats().DownloadAuthRejected != 1 {
		t.Errorf("download with Authorization: %d, rejected count %d", resp.StatusCode, sb.Stats().DownloadAuthRejected)
	}
	// ...and serves a plain GET once.
	resp, err = http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || int64(len(data)) != d.Size || resp.Header.Get("Content-Type") != d.ContentType {
		t.Errorf("download: %d, %d bytes (want %d), %s", resp.StatusCode, len(data), d.Size, resp.Header.Get("Content-Type"))
	}
	if _, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); params["filename"] != d.Title {
		t.Errorf("download file name %q, want %q", params["filename"], d.Title)
	}
	resp, _ = http.Get(loc)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("second use of the download URL: %d, want 403", resp.StatusCode)
	}
	// The deprecated A006 gives the same bytes directly.
	if rep := do(t, sb, "GET", "/STU3/Binary/"+d.ID, who, nil); rep.Status != 200 || !bytes.Equal(rep.Body, data) {
		t.Errorf("A006: %d, %d bytes", rep.Status, len(rep.Body))
	}
	// A non-ASCII file name comes in the RFC 5987 form too.
	if star.ID != "" {
		rep := do(t, sb, "GET", "/STU3/Binary/"+star.ID, who, nil)
		cd := rep.Header.Get("Content-Disposition")
		_, params, err := mime.ParseMediaType(cd)
		if err != nil || params["filename"] != star.Title || !strings.Contains(cd, "filename*=UTF-8''") {
			t.Errorf("Content-Disposition %q gives %q (%v), want %q", cd, params["filename"], err, star.Title)
		}
	}
	for status, code := range map[triage.AvailabilityStatus]string{triage.AvailabilityPending: "PENDING", triage.AvailabilityThreatsFound: "THREATS_FOUND"} {
		d := byStatus[status]
		rep := do(t, sb, "GET", "/R4/Binary/"+d.ID, who, nil)
		oo, err := fhir.DecodeOperationOutcome(rep.Body)
		if rep.Status != 422 || err != nil || oo.ErrorCoding().Code != code || oo.ErrorCoding().System != fhir.SystemR4ERSErrorCodes {
			t.Errorf("A042 of a %s file: %d %+v", status, rep.Status, oo.ErrorCoding())
		}
		if rep := do(t, sb, "GET", "/STU3/Binary/"+d.ID, who, nil); rep.Status != 422 || rep.code() != code {
			t.Errorf("A006 of a %s file: %d %s", status, rep.Status, rep.code())
		}
	}
	pend := byStatus[triage.AvailabilityPending]
	if _, err := sb.MakeAvailable(pend.ID); err != nil {
		t.Fatal(err)
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+pend.ID, who, nil); rep.Status != 307 {
		t.Errorf("after the scan finished: %d, want 307", rep.Status)
	}
	if rep := do(t, sb, "GET", "/R4/Binary/not-an-id", who, nil); rep.Status != 400 || rep.code() != "REC_BAD_REQUEST" {
		t.Errorf("bad id: %d %s", rep.Status, rep.code())
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+uuid.NewString(), who, nil); rep.Status != 404 || rep.code() != "REC_NOT_FOUND" {
		t.Errorf("unknown id: %d %s", rep.Status, rep.code())
	}
	rcdTok, _ := sb.Token(UserClinicianRCD)
	if rep := do(t, sb, "GET", "/R4/Binary/"+d.ID, as{ODS: SecondProviderODS, Function: "SERVICE_PROVIDER_CLINICIAN", Token: rcdTok}, nil); rep.Status != 403 || rep.code() != "NO_RELATIONSHIP" {
		t.Errorf("another organisation's attachment: %d %s", rep.Status, rep.code())
	}
	// Over 5 MB: A006 refuses, A042 serves it.
	r := sb.Referrals(func(r triage.Referral) bool { return r.Service.ID[0] == '3' })[0]
	big, _, err := sb.AddAttachment(r.UBRN, AttachmentFile{FileName: "scan.tif", ContentType: "image/tiff", Data: make([]byte, maxFileBytes+1)})
	if err != nil {
		t.Fatal(err)
	}
	if rep := do(t, sb, "GET", "/STU3/Binary/"+big, who, nil); rep.Status != 422 || rep.code() != "FILE_SIZE_ERROR" {
		t.Errorf("A006 over 5 MB: %d %s", rep.Status, rep.code())
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+big, who, nil); rep.Status != 307 {
		t.Errorf("A042 over 5 MB: %d", rep.Status)
	}
}

func TestPendingBecomesAvailableAfterDelay(t *testing.T) {
	clock := newClock()
	sb := start(t, Config{Now: clock.Now, PendingDelay: 5 * 60e9})
	var ubrn, id string
	var version int
	for _, r := range sb.Referrals(nil) {
		for _, d := range r.Documents {
			if d.Availability == triage.AvailabilityPending && id == "" {
				ubrn, id, version = r.UBRN, d.ID, r.Version
			}
		}
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+id, asSPC, nil); rep.Status != 422 {
		t.Fatalf("before the delay: %d", rep.Status)
	}
	clock.Advance(6 * 60e9)
	if rep := do(t, sb, "GET", "/R4/Binary/"+id, asSPC, nil); rep.Status != 307 {
		t.Errorf("after the delay: %d, want 307", rep.Status)
	}
	if r, _ := sb.Referral(ubrn); r.Version != version+1 {
		t.Errorf("version %d after the scan, want %d (e-RS bumps it)", r.Version, version+1)
	}
}

func TestUploadAndAttach(t *testing.T) {
	sb := start(t, Config{Referrals: 100})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeTriageDeferral, ""))
	upload := func(name, ct, ubrn string, data []byte) reply {
		h := []string{"Content-Type", ct}
		if name != "" {
			h = append(h, hdrFileName, name)
		}
		if ubrn != "" {
			h = append(h, hdrReferralID, ubrn)
		}
		return do(t, sb, "POST", "/STU3/Binary", asSPC, data, h...)
	}
	pdf := []byte("%PDF-1.4 synthetic")
	rep := upload("advice.pdf", "application/pdf", r.UBRN, pdf)
	loc := rep.Header.Get("Location")
	if rep.Status != 201 || !strings.HasPrefix(loc, "Binary/") || !uuidRE.MatchString(strings.TrimPrefix(loc, "Binary/")) {
		t.Fatalf("A020: %d Location %q", rep.Status, loc)
	}
	for _, tc := range []struct {
		name, file, ct string
		data           []byte
		status         int
		code           string
	}{
		{"no file name", "", "application/pdf", pdf, 400, "MISSING_HEADER"},
		{"extension not allowed", "run.exe", "application/pdf", pdf, 422, "INVALID_VALUE"},
		{"content type not allowed", "a.pdf", "application/x-msdownload", pdf, 415, ""},
		{"over 5 MB", "big.pdf", "application/pdf", make([]byte, maxFileBytes+1), 422, "FILE_SIZE_ERROR"},
		{"empty", "e.txt", "text/plain", nil, 422, "MISSING_VALUE"},
	} {
		rep := upload(tc.file, tc.ct, r.UBRN, tc.data)
		if rep.Status != tc.status || (tc.code != "" && rep.code() != tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, rep.Status, rep.code(), tc.status, tc.code)
		}
	}
	noRef := upload("other.pdf", "application/pdf", "", pdf).Header.Get("Location")
	d := triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice, Comments: "See the attached advice.",
		Attachments: []triage.ProviderAttachment{{BinaryID: fhir.BinaryID(noRef), FileName: "other.pdf", Description: "Advice"}}}
	if rep := send(t, sb, r.UBRN, r.Version, d); rep.Status != 422 || rep.code() != "INAPPROPRIATE_VALUE" {
		t.Errorf("attaching an upload without NHSD-eRS-Referral-ID: %d %s", rep.Status, rep.code())
	}
	d.Attachments[0].BinaryID = fhir.BinaryID(loc)
	rep = send(t, sb, r.UBRN, r.Version, d)
	if rep.Status != 200 {
		t.Fatalf("attach: %d %s", rep.Status, rep.Body)
	}
	got := mustDecode(t, rep)
	var att *triage.Document
	for i := range got.Documents {
		if got.Documents[i].ID == fhir.BinaryID(loc) {
			att = &got.Documents[i]
		}
	}
	if att == nil || att.Type != triage.AttachmentProvider || att.Title != "advice.pdf" || att.Size != int64(len(pdf)) || att.Availability != triage.AvailabilityAvailable {
		t.Fatalf("provider attachment %+v", att)
	}
	if rep := do(t, sb, "GET", "/STU3/Binary/"+att.ID, asSPC, nil); rep.Status != 200 || !bytes.Equal(rep.Body, pdf) {
		t.Errorf("download the provider attachment: %d", rep.Status)
	}
}

func TestCRIDownloadAndUnknownPaths(t *testing.T) {
	sb := start(t, Config{})
	var plainName, starName bool
	for _, r := range sb.Referrals(func(r triage.Referral) bool { return r.Service.ID[0] == '3' })[:12] {
		rep := do(t, sb, "POST", rrPath+r.UBRN+"/$ers.generateCRI", asSPC, nil)
		cd := rep.Header.Get("Content-Disposition")
		_, params, err := mime.ParseMediaType(cd)
		if rep.Status != 200 || rep.Header.Get("Content-Type") != "application/pdf" || err != nil ||
			!strings.HasPrefix(params["filename"], r.UBRN+"_Clinical_Information_Summary_") ||
			rep.Header.Get("Content-Length") != strconv.Itoa(len(rep.Body)) || !bytes.HasPrefix(rep.Body, []byte("%PDF-")) {
			t.Fatalf("A007: %d %q %q", rep.Status, rep.Header.Get("Content-Type"), cd)
		}
		if strings.Contains(cd, "filename*=UTF-8''") {
			starName = true
		} else {
			plainName = true
		}
	}
	if !plainName || !starName {
		t.Errorf("CRI names: plain form seen %v, RFC 5987 form seen %v; want both", plainName, starName)
	}
	rep := do(t, sb, "GET", "/STU3/Nothing/here", asSPC, nil)
	if rep.Status != 404 || string(rep.Body) != "Not Found" || rep.Header.Get(hdrRequestID) == "" {
		t.Errorf("unknown path: %d %q", rep.Status, rep.Body)
	}
}
