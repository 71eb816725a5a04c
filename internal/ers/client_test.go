package ers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

const refPath = "/referrals/FHIR/STU3/ReferralRequest/100000000001"

func jsonEq(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("sent body is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
}

// TestEveryEndpoint calls each endpoint once against the fake and checks the
// request line, the e-RS headers, If-Match, the body and the decoded result.
func TestEveryEndpoint(t *testing.T) {
	f := newFake(t)
	c, _ := testClient(t, f)
	ctx := context.Background()
	referral := fixture(t, "referral_booked_dbs.json")
	etag := []string{"ETag", `W/"5"`}
	f.handle("GET", "/referrals/FHIR/R4/PractitionerRole", respond(200, fixture(t, "practitioner_roles.json")))
	f.handle("GET", "/referrals/FHIR/R4/Practitioner", respond(200, fixture(t, "obo_users.json")))
	f.handle("POST", "/referrals/FHIR/STU3/ReferralRequest/$ers.fetchworklist", respond(200, fixture(t, "worklist_referrals_for_review.json"),
		"Date", "Tue, 10 Mar 2026 09:00:00 GMT"))
	f.handle("GET", refPath, respond(200, referral, etag...))
	f.handle("GET", refPath+"/_history/4", respond(200, referral, etag...))
	f.handle("POST", refPath+"/$ers.generateCRI", respond(200, []byte("%PDF-1.4 cri"), "Content-Type", "application/pdf",
		"Content-Disposition", `attachment; filename="100000000001_Clinical_Information.pdf"`))
	f.handle("GET", "/referrals/FHIR/STU3/Binary/att-1", respond(200, []byte("old attachment"), "Content-Type", "text/plain"))
	f.handle("GET", "/referrals/FHIR/STU3/Task", respond(200, fixture(t, "actions_review_and_cancel.json")))
	for _, op := range []string{"acceptReferral", "rejectReferral", "cancelAppointmentActionLater", "recordReviewOutcome"} {
		f.handle("POST", refPath+"/$ers."+op, respond(200, referral, etag...))
	}
	cancelResp, _ := json.Marshal(fhir.EncodeCancelReferralResponse(&triage.Referral{UBRN: "100000000001", Version: 6,
		State: triage.ReferralStatus{State: triage.StateCancelledReferral}}))
	f.handle("POST", refPath+"/$ers.cancelReferral", respond(200, cancelResp))
	f.handle("POST", "/referrals/FHIR/STU3/Binary", respond(201, nil, "Location", "Binary/0f0e0d0c-0000-4000-8000-000000000001"))
	f.handle("GET", "/referrals/FHIR/STU3/CodeSystem/PRIORITY", respond(200, fixture(t, "codesystem_priority.json")))

	decision := func(kind triage.DecisionKind) triage.Decision {
		return triage.Decision{Kind: kind, UBRN: "100000000001", BaseVersion: 4, By: spcIdentity}
	}
	reject := decision(triage.DecisionReject)
	reject.Reason = triage.Coding{System: "https://example.test/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", Code: "OTHER"}
	reject.Comments = "Please refer to the community clinic."
	redirect := decision(triage.DecisionRedirect)
	redirect.Comments = "Rebook into the nurse-led clinic"
	redirect.NewPriority = triage.PriorityUrgent
	outcome := decision(triage.DecisionReviewOutcome)
	outcome.Outcome = triage.OutcomeAcceptReferBookLater
	outcome.Comments = "Book within 2 weeks"
	body := func(d triage.Decision) []byte {
		p, err := fhir.DecisionParameters(d, "")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		return b
	}
	worklistBody, _ := json.Marshal(fhir.WorklistRequest(triage.ListReferralsForReview, fhir.WorklistFilter{Service: "30001"}))
	cancelBody, _ := json.Marshal(fhir.CancelReferralParameters(triage.Coding{System: "https://example.test/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON", Code: "TRIAGE_ENDED"}, ""))

	tests := []struct {
		op, method, path, query string
		ifMatch                 string
		body                    []byte
		contentType             string
		noIdentity              bool
		run                     func(t *testing.T) any
		check                   func(t *testing.T, res any)
	}{
		{op: "A030", method: "GET", path: "/referrals/FHIR/R4/PractitionerRole", noIdentity: true,
			run: func(t *testing.T) any { return must(c.PractitionerRoles(ctx)) },
			check: func(t *testing.T, res any) {
				if r := res.(*PractitionerRolesResult); len(r.Roles) != 2 || r.Roles[0].ODS != "Y00001" {
					t.Errorf("roles %+v", r.Roles)
				}
			}},
		{op: "A040", method: "GET", path: "/referrals/FHIR/R4/Practitioner", query: "_query=onBehalfOf",
			run: func(t *testing.T) any { return must(c.OnBehalfOfUsers(ctx)) },
			check: func(t *testing.T, res any) {
				if r := res.(*OnBehalfOfUsersResult); len(r.Users) != 2 {
					t.Errorf("users %+v", r.Users)
				}
			}},
		{op: "A008", method: "POST", path: "/referrals/FHIR/STU3/ReferralRequest/$ers.fetchworklist", body: worklistBody, contentType: "application/fhir+json",
			run: func(t *testing.T) any {
				return must(c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{Service: "30001"}))
			},
			check: func(t *testing.T, res any) {
				r := res.(*WorklistResult)
				if len(r.Items) != 3 || r.Items[0].Version != 4 || !r.AsOf.Equal(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)) {
					t.Errorf("worklist %d items, as of %v", len(r.Items), r.AsOf)
				}
			}},
		{op: "A005", method: "GET", path: refPath,
			run: func(t *testing.T) any { return must(c.Referral(ctx, "100000000001")) },
			check: func(t *testing.T, res any) {
				r := res.(*ReferralResult)
				if r.Referral.UBRN != "100000000001" || r.Version != 4 || r.ETag != `W/"5"` || string(r.Raw) != string(referral) {
					t.Errorf("referral v%d etag %s", r.Version, r.ETag)
				}
			}},
		{op: "A005 history", method: "GET", path: refPath + "/_history/4",
			run: func(t *testing.T) any { return must(c.ReferralAtVersion(ctx, "100000000001", 4)) }},
		{op: "A007", method: "POST", path: refPath + "/$ers.generateCRI",
			run: func(t *testing.T) any { return must(c.ClinicalInformation(ctx, "100000000001")) },
			check: func(t *testing.T, res any) {
				r := res.(*File)
				if string(r.Data) != "%PDF-1.4 cri" || r.ContentType != "application/pdf" || r.FileName != "100000000001_Clinical_Information.pdf" {
					t.Errorf("CRI %q %s %s", r.Data, r.ContentType, r.FileName)
				}
			}},
		{op: "A006", method: "GET", path: "/referrals/FHIR/STU3/Binary/att-1",
			run: func(t *testing.T) any { return must(c.AttachmentSTU3(ctx, "Binary/att-1")) },
			check: func(t *testing.T, res any) {
				if r := res.(*File); string(r.Data) != "old attachment" || r.FileName != "attachment-att-1.txt" {
					t.Errorf("A006 %q %q", r.Data, r.FileName)
				}
			}},
		{op: "A029", method: "GET", path: "/referrals/FHIR/STU3/Task", query: "focus=ReferralRequest/100000000001/_history/4&intent=proposal&status=ready",
			run: func(t *testing.T) any { return must(c.AvailableActions(ctx, "100000000001", 4)) },
			check: func(t *testing.T, res any) {
				if r := res.(*ActionsResult); !slices.Equal(r.Actions, []triage.Action{triage.ActionRecordReviewOutcome, triage.ActionCancelReferral}) {
					t.Errorf("actions %v", r.Actions)
				}
			}},
		{op: "A013", method: "POST", path: refPath + "/$ers.acceptReferral", ifMatch: `W/"4"`,
			run: func(t *testing.T) any { return must(c.AcceptReferral(ctx, "100000000001", 4)) }},
		{op: "A013 via Decide", method: "POST", path: refPath + "/$ers.acceptReferral", ifMatch: `W/"4"`,
			run: func(t *testing.T) any { return must(c.Decide(ctx, decision(triage.DecisionAccept))) }},
		{op: "A014", method: "POST", path: refPath + "/$ers.rejectReferral", ifMatch: `W/"4"`, body: body(reject), contentType: "application/fhir+json",
			run: func(t *testing.T) any { return must(c.RejectReferral(ctx, reject)) }},
		{op: "A022", method: "POST", path: refPath + "/$ers.cancelAppointmentActionLater", ifMatch: `W/"4"`, body: body(redirect), contentType: "application/fhir+json",
			run: func(t *testing.T) any { return must(c.CancelAppointmentActionLater(ctx, redirect)) }},
		{op: "A028", method: "POST", path: refPath + "/$ers.recordReviewOutcome", ifMatch: `W/"4"`, body: body(outcome), contentType: "application/fhir+json",
			run: func(t *testing.T) any { return must(c.RecordReviewOutcome(ctx, outcome)) },
			check: func(t *testing.T, res any) {
				if r := res.(*ReferralResult); r.Referral == nil || r.ETag != `W/"5"` {
					t.Errorf("write result %+v", r)
				}
			}},
		{op: "A036", method: "POST", path: refPath + "/$ers.cancelReferral", ifMatch: `W/"4"`, body: cancelBody, contentType: "application/fhir+json",
			run: func(t *testing.T) any {
				return must(c.CancelReferral(ctx, "100000000001", 4, triage.Coding{System: "https://example.test/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON", Code: "TRIAGE_ENDED"}, ""))
			},
			check: func(t *testing.T, res any) {
				if r := res.(*ReferralResult); r.Version != 6 || r.Referral.State.State != triage.StateCancelledReferral {
					t.Errorf("cancel result v%d %s", r.Version, r.Referral.State.State)
				}
			}},
		{op: "A020", method: "POST", path: "/referrals/FHIR/STU3/Binary", body: []byte("%PDF-1.4 letter"), contentType: "application/pdf",
			run: func(t *testing.T) any {
				return must(c.UploadAttachment(ctx, "100000000001", triage.ProviderAttachment{FileName: "../clinic letter.pdf", ContentType: "application/pdf"}, []byte("%PDF-1.4 letter")))
			},
			check: func(t *testing.T, res any) {
				if r := res.(*UploadResult); r.BinaryID != "0f0e0d0c-0000-4000-8000-000000000001" {
					t.Errorf("binary id %q", r.BinaryID)
				}
				h := f.last().Header
				if h.Get("NHSD-eRS-File-Name") != "clinic letter.pdf" || h.Get("NHSD-eRS-Referral-ID") != "100000000001" {
					t.Errorf("A020 headers %v", h)
				}
			}},
		{op: "A004", method: "GET", path: "/referrals/FHIR/STU3/CodeSystem/PRIORITY",
			run: func(t *testing.T) any { return must(c.CodeSystem(ctx, triage.CodeSystemPriority)) },
			check: func(t *testing.T, res any) {
				if r := res.(*CodeSystemResult); r.CodeSystem.Type != triage.CodeSystemPriority || len(r.CodeSystem.Concepts) != 3 {
					t.Errorf("code system %+v", r.CodeSystem)
				}
			}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			res := tt.run(t)
			req := f.last()
			if req.Method != tt.method || req.Path != tt.path || req.Query != tt.query {
				t.Errorf("request %s %s?%s", req.Method, req.Path, req.Query)
			}
			h := req.Header
			if h.Get("Authorization") != "Bearer "+testToken {
				t.Errorf("Authorization %q", h.Get("Authorization"))
			}
			corr := h.Get("X-Correlation-ID")
			if !uuidRE.MatchString(corr) || seen[corr] {
				t.Errorf("X-Correlation-ID %q is not a fresh UUID", corr)
			}
			seen[corr] = true
			wantODS, wantBF := "Y00001", "SERVICE_PROVIDER_CLINICIAN"
			if tt.noIdentity {
				wantODS, wantBF = "", ""
			}
			if h.Get("NHSD-End-User-Organisation-ODS") != wantODS || h.Get("NHSD-eRS-Business-Function") != wantBF {
				t.Errorf("identity headers %q %q", h.Get("NHSD-End-User-Organisation-ODS"), h.Get("NHSD-eRS-Business-Function"))
			}
			if _, ok := h["Nhsd-Ers-On-Behalf-Of-User-Id"]; ok {
				t.Error("on-behalf-of sent for a clinician")
			}
			if h.Get("If-Match") != tt.ifMatch {
				t.Errorf("If-Match %q, want %q", h.Get("If-Match"), tt.ifMatch)
			}
			if tt.body != nil {
				if h.Get("Content-Type") != tt.contentType {
					t.Errorf("Content-Type %q", h.Get("Content-Type"))
				}
				if strings.HasPrefix(tt.contentType, "application/fhir") {
					jsonEq(t, req.Body, tt.body)
				} else if string(req.Body) != string(tt.body) {
					t.Errorf("body %q", req.Body)
				}
			} else if len(req.Body) != 0 {
				t.Errorf("unexpected body %s", req.Body)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

func TestOnBehalfOfHeaderRules(t *testing.T) {
	f := newFake(t)
	referral := fixture(t, "referral_booked_dbs.json")
	f.handle("GET", refPath, respond(200, referral))
	f.handle("POST", refPath+"/$ers.acceptReferral", respond(200, referral))
	f.handle("POST", refPath+"/$ers.cancelReferral", respond(200, []byte(`{"resourceType":"Parameters","parameter":[{"name":"updatedReferralRequest","resource":{"resourceType":"ReferralRequest","id":"100000000001"}}]}`)))
	f.handle("GET", "/referrals/FHIR/R4/Practitioner", respond(200, fixture(t, "obo_users.json")))
	f.handle("GET", "/referrals/FHIR/R4/PractitionerRole", respond(200, fixture(t, "practitioner_roles.json")))
	base, _ := testClient(t, f)
	spca := base.WithIdentity(spcaIdentity)
	ctx := context.Background()
	reason := triage.Coding{System: "s", Code: "TRIAGE_ENDED"}

	calls := []struct {
		name    string
		run     func() error
		wantOBO string
		wantBF  string
	}{
		{"A005 as SPCA", func() error { _, err := spca.Referral(ctx, "100000000001"); return err }, "100000000301", "SERVICE_PROVIDER_CLINICIAN_ADMIN"},
		{"A013 as SPCA", func() error { _, err := spca.AcceptReferral(ctx, "100000000001", 3); return err }, "100000000301", "SERVICE_PROVIDER_CLINICIAN_ADMIN"},
		{"A036 as SPCA: never", func() error { _, err := spca.CancelReferral(ctx, "100000000001", 3, reason, ""); return err }, "", "SERVICE_PROVIDER_CLINICIAN_ADMIN"},
		{"A040 as SPCA: never", func() error { _, err := spca.OnBehalfOfUsers(ctx); return err }, "", "SERVICE_PROVIDER_CLINICIAN_ADMIN"},
		{"A030: no identity", func() error { _, err := spca.PractitionerRoles(ctx); return err }, "", ""},
		{"A005 as SPC with a stray OnBehalfOf: never", func() error {
			id := spcIdentity
			id.OnBehalfOf = "100000000301"
			_, err := base.WithIdentity(id).Referral(ctx, "100000000001")
			return err
		}, "", "SERVICE_PROVIDER_CLINICIAN"},
	}
	for _, tt := range calls {
		if err := tt.run(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		h := f.last().Header
		obo, present := h["Nhsd-Ers-On-Behalf-Of-User-Id"]
		if (tt.wantOBO == "") == present || (present && obo[0] != tt.wantOBO) {
			t.Errorf("%s: on-behalf-of %v", tt.name, obo)
		}
		if h.Get("NHSD-eRS-Business-Function") != tt.wantBF {
			t.Errorf("%s: business function %q", tt.name, h.Get("NHSD-eRS-Business-Function"))
		}
	}

	// A clinician admin who has not chosen whom they act for sends nothing.
	n := f.count()
	noOBO := spcaIdentity
	noOBO.OnBehalfOf = ""
	_, err := base.WithIdentity(noOBO).Referral(ctx, "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != Forbidden || f.count() != n {
		t.Errorf("SPCA without on-behalf-of: %v (sent %d)", err, f.count()-n)
	}
	if !strings.Contains(triage.ErrorMessage(err), "clinician you are acting for") {
		t.Errorf("message %q", triage.ErrorMessage(err))
	}
}

func TestNoTokenSourceSendsNoAuthorization(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/referrals/FHIR/STU3/CodeSystem/PRIORITY", respond(200, fixture(t, "codesystem_priority.json")))
	c, _ := testClient(t, f, func(cfg *Config) { cfg.TokenSource = nil })
	if _, err := c.CodeSystem(context.Background(), triage.CodeSystemPriority); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.last().Header["Authorization"]; ok {
		t.Error("Authorization sent without a token source")
	}
}

type failingTokenSource struct{}

func (failingTokenSource) Token() (*oauth2.Token, error) {
	return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant", Response: &http.Response{StatusCode: 400}}
}

func TestTokenFailureIsAuthRequiredAndSendsNothing(t *testing.T) {
	f := newFake(t)
	c, _ := testClient(t, f, func(cfg *Config) { cfg.TokenSource = failingTokenSource{} })
	_, err := c.Referral(context.Background(), "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != AuthRequired || f.count() != 0 {
		t.Fatalf("err %v, %d requests", err, f.count())
	}
	if triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED || !strings.Contains(e.Error(), "invalid_grant") {
		t.Errorf("code %s, error %q", triage.ErrorCodeOf(err), e.Error())
	}
}

type unreachableTokenSource struct{}

func (unreachableTokenSource) Token() (*oauth2.Token, error) {
	return nil, &triage.Error{Code: triage.EUNAVAILABLE, Message: "The NHS sign-in service cannot be reached.", Err: errors.New("dial tcp: connection refused")}
}

// TestUnreachableTokenServiceIsOfflineNotSignedOut: when the token service
// cannot be reached the session may still be valid, so the engine must
// treat it as being offline (probe and carry on), not pause for sign-in.
func TestUnreachableTokenServiceIsOfflineNotSignedOut(t *testing.T) {
	f := newFake(t)
	c, _ := testClient(t, f, func(cfg *Config) { cfg.TokenSource = unreachableTokenSource{} })
	_, err := c.Referral(context.Background(), "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != Unreachable || f.count() != 0 {
		t.Fatalf("err %v (class %v), %d requests", err, e, f.count())
	}
	if triage.ErrorCodeOf(err) == triage.EUNAUTHORIZED {
		t.Errorf("an unreachable token service reported as sign-in needed: %q", triage.ErrorMessage(err))
	}
}

// TestAttachmentRedirectCarriesNoCredentials proves the bearer token and
// the e-RS headers never reach the object store A042 redirects to, that
// the Location is not reused, and that neither the URL nor the UBRN is
// logged.
func TestAttachmentRedirectCarriesNoCredentials(t *testing.T) {
	var store []recorded
	pdf := []byte("%PDF-1.7 synthetic attachment")
	objectStore := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store = append(store, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
		if r.URL.Query().Get("X-Amz-Signature") == "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="fallback.pdf"; filename*=UTF-8''The%20filenam%C3%A9.pdf`)
		_, _ = w.Write(pdf)
	}))
	defer objectStore.Close()
	// A different host name (localhost, not 127.0.0.1) and port.
	storeURL := strings.Replace(objectStore.URL, "127.0.0.1", "localhost", 1)

	f := newFake(t)
	redirects := 0
	f.handle("GET", "/referrals/FHIR/R4/Binary/b0000000-0000-4000-8000-000000090001", func(w http.ResponseWriter, r *http.Request) {
		redirects++
		w.Header().Set("Location", fmt.Sprintf("%s/bucket/obj-%d?X-Amz-Signature=presigned%d", storeURL, redirects, redirects))
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	c, logs := testClient(t, f)
	for i := 0; i < 2; i++ {
		file, err := c.Attachment(context.Background(), "Binary/b0000000-0000-4000-8000-000000090001")
		if err != nil {
			t.Fatal(err)
		}
		if string(file.Data) != string(pdf) || file.FileName != "The filenamé.pdf" || file.ContentType != "application/pdf" {
			t.Errorf("file %q %q %q", file.Data, file.FileName, file.ContentType)
		}
	}
	if redirects != 2 || len(store) != 2 {
		t.Fatalf("redirects %d, store requests %d: every download must ask e-RS for a fresh redirect", redirects, len(store))
	}
	if f.last().Header.Get("Authorization") != "Bearer "+testToken {
		t.Error("e-RS itself must get the token")
	}
	for _, r := range store {
		for name := range r.Header {
			if name == "Authorization" || strings.HasPrefix(strings.ToLower(name), "nhsd-") || name == "X-Correlation-Id" || name == "Cookie" {
				t.Errorf("object store received %s: %v", name, r.Header[name])
			}
		}
	}
	if store[1].Path != "/bucket/obj-2" {
		t.Errorf("second download used %s, not the fresh Location", store[1].Path)
	}
	out := logs.String()
	for _, secret := range []string{"presigned", "bucket", "localhost", "b0000000-0000-4000-8000-000000090001", testToken, "filenam"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"op":"A042"`) {
		t.Errorf("log lacks the operation id:\n%s", out)
	}
}

func TestOAuth2TransportIsRefused(t *testing.T) {
	hc := &http.Client{Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})}}
	if _, err := New(Config{BaseURL: IntegrationBaseURL, HTTPClient: hc}); err == nil {
		t.Error("an oauth2.Transport would leak the token on A042's redirect; New must refuse it")
	}
}

func TestAttachmentFallsBackToA006(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/referrals/FHIR/R4/Binary/att-123", respond(404, mustJSON(fhir.R4OperationOutcome("REC_NOT_FOUND", "", "", "not-found"))))
	f.handle("GET", "/referrals/FHIR/STU3/Binary/att-123", respond(200, []byte("legacy"), "Content-Type", "image/png",
		"Content-Disposition", `attachment; filename="=?UTF-8?B?w6ljaG8ucG5n?="`))
	c, _ := testClient(t, f)
	file, err := c.Attachment(context.Background(), "att-123")
	if err != nil {
		t.Fatal(err)
	}
	if string(file.Data) != "legacy" || file.Meta.Op != "A006" || file.FileName != "écho.png" {
		t.Errorf("fallback %q %s %q", file.Data, file.Meta.Op, file.FileName)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestPendingAttachment(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/referrals/FHIR/R4/Binary/b1", respond(422, fixture(t, "outcome_r4_pending.json")))
	c, _ := testClient(t, f)
	before := time.Now()
	_, err := c.Attachment(context.Background(), "b1")
	var e *Error
	if !errors.As(err, &e) || e.Class != Pending || e.Code != "PENDING" {
		t.Fatalf("err %v", err)
	}
	if e.NotBefore.Before(before.Add(5*time.Minute)) || f.count() != 1 {
		t.Errorf("not before %v (in %v), %d requests", e.NotBefore, e.NotBefore.Sub(before), f.count())
	}
}

// TestErrorClasses runs one call per e-RS error shape and checks the class,
// what was retried, and the user's message.
func TestErrorClasses(t *testing.T) {
	stu3 := func(code, issue, diag string) []byte {
		return mustJSON(fhir.STU3OperationOutcome(code, "", diag, issue))
	}
	ok := respond(200, fixture(t, "referral_booked_dbs.json"))
	tests := []struct {
		name        string
		write       bool
		handler     http.HandlerFunc
		class       Class
		code        string
		requests    int
		mayApplied  bool
		appCode     triage.ErrorCode
		messageHas  string
		diagnostics string
	}{
		{name: "409 version conflict", write: true, handler: respond(409, stu3("CONFLICT", "conflict", "version mismatch")),
			class: Conflict, requests: 1, appCode: triage.ECONFLICT, messageHas: "Someone else changed"},
		{name: "423 locked", write: true, handler: respond(423, nil), class: Conflict, requests: 1, appCode: triage.ECONFLICT, messageHas: "in progress"},
		{name: "422 INVALID_REQUEST_STATE", write: true, handler: respond(422, fixture(t, "outcome_stu3_invalid_request_state.json")),
			class: Conflict, code: "INVALID_REQUEST_STATE", requests: 1, appCode: triage.ECONFLICT, messageHas: "no longer in a state"},
		{name: "422 PATIENT_ERROR", write: true, handler: respond(422, stu3("PATIENT_ERROR", "business-rule", "")),
			class: Permanent, code: "PATIENT_ERROR", requests: 1, appCode: triage.EINVALID, messageHas: "Do not try again"},
		{name: "422 other business rule", write: true, handler: respond(422, mustJSON(fhir.STU3OperationOutcome("INAPPROPRIATE_VALUE", "Inappropriate value", "", "business-rule"))),
			class: Permanent, code: "INAPPROPRIATE_VALUE", requests: 1, appCode: triage.EINVALID, messageHas: "did not accept the decision (HTTP 422 INAPPROPRIATE_VALUE: Inappropriate value)"},
		{name: "401", handler: respond(401, stu3("NO_ACCESS", "login", "")), class: AuthRequired, code: "NO_ACCESS", requests: 1,
			appCode: triage.EUNAUTHORIZED, messageHas: "Sign in again"},
		{name: "403 plain text from the gateway", handler: respond(403, []byte("User does not have the required Business Function at the specified Organisation.\n"), "Content-Type", "text/plain"),
			class: Forbidden, requests: 1, appCode: triage.EFORBIDDEN, messageHas: `"Service provider clinician" at organisation Y00001`,
			diagnostics: "User does not have the required Business Function at the specified Organisation."},
		{name: "403 NO_RELATIONSHIP", handler: respond(403, fixture(t, "outcome_r4_no_relationship.json")), class: Forbidden, code: "NO_RELATIONSHIP",
			requests: 1, appCode: triage.EFORBIDDEN, messageHas: "no legitimate relationship"},
		{name: "404", handler: respond(404, stu3("REFERENCE_NOT_FOUND", "not-found", "")), class: Permanent, requests: 1,
			appCode: triage.ENOTFOUND, messageHas: "could not find"},
		{name: "400 HISTORY_NOT_SUPPORTED", handler: respond(400, stu3("HISTORY_NOT_SUPPORTED", "invalid", "")), class: Conflict,
			requests: 1, appCode: triage.ECONFLICT, messageHas: "has changed"},
		{name: "400", handler: respond(400, stu3("INVALID_FHIR_STRUCTURE", "invalid", "")), class: Permanent, requests: 1,
			appCode: triage.EINVALID, messageHas: "e-RS refused the request (HTTP 400 INVALID_FHIR_STRUCTURE)"},
		{name: "empty 429 then success (read)", handler: sequence(respond(429, nil), ok), requests: 2},
		{name: "503 then success (read)", handler: sequence(respond(503, fixture(t, "outcome_stu3_pas_not_responding.json")), ok), requests: 2},
		{name: "500 on every try (read)", handler: respond(500, stu3("SERVER_ERROR", "exception", "")), class: Retryable, requests: 4,
			appCode: triage.EUNAVAILABLE, messageHas: "try again later"},
		{name: "dropped connection then success (read)", handler: sequence(dropConnection, ok), requests: 2},
		{name: "429 on a write is not retried", write: true, handler: respond(429, nil), class: Retryable, requests: 1, appCode: triage.EUNAVAILABLE},
		{name: "503 on a write is not retried", write: true, handler: sequence(respond(503, nil), ok), class: Retryable, requests: 1, mayApplied: true},
		{name: "504 PAS_NOT_RESPONDING on a write", write: true, handler: respond(504, fixture(t, "outcome_stu3_pas_not_responding.json")),
			class: Retryable, code: "PAS_NOT_RESPONDING", requests: 1, mayApplied: true, messageHas: "patient administration system"},
		{name: "dropped connection on a write", write: true, handler: dropConnection, class: Unreachable, requests: 1, mayApplied: true,
			messageHas: "not yet known whether your decision was applied"},
		{name: "unreadable 200 on a read", handler: respond(200, []byte(`{"resourceType":"ReferralRequest","id":`)), class: BadResponse, requests: 1},
		{name: "unreadable 200 on a write", write: true, handler: respond(200, []byte(`<html>ok</html>`)), class: BadResponse, requests: 1,
			mayApplied: true, messageHas: "accepted the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			path := refPath
			method := "GET"
			if tt.write {
				path, method = refPath+"/$ers.acceptReferral", "POST"
			}
			f.handle(method, path, tt.handler)
			c, logs := testClient(t, f)
			var err error
			if tt.write {
				_, err = c.AcceptReferral(context.Background(), "100000000001", 4)
			} else {
				_, err = c.Referral(context.Background(), "100000000001")
			}
			if f.count() != tt.requests {
				t.Errorf("%d requests, want %d", f.count(), tt.requests)
			}
			if tt.class == 0 {
				if err != nil {
					t.Fatalf("want success after retry, got %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T %v", err, err)
			}
			if e.Class != tt.class || (tt.code != "" && e.Code != tt.code) {
				t.Errorf("class %s code %q, want %s %q", e.Class, e.Code, tt.class, tt.code)
			}
			if e.MayHaveApplied() != tt.mayApplied {
				t.Errorf("MayHaveApplied %v", e.MayHaveApplied())
			}
			if tt.appCode != "" && triage.ErrorCodeOf(err) != tt.appCode {
				t.Errorf("app code %s, want %s", triage.ErrorCodeOf(err), tt.appCode)
			}
			if msg := triage.ErrorMessage(err); msg != e.Message || !strings.Contains(msg, tt.messageHas) {
				t.Errorf("message %q, want it to contain %q", msg, tt.messageHas)
			}
			if tt.diagnostics != "" && e.Diagnostics != tt.diagnostics {
				t.Errorf("diagnostics %q", e.Diagnostics)
			}
			if e.Status != 0 && (e.CorrelationID == "" || e.RequestID == "") {
				t.Errorf("ids %q %q", e.CorrelationID, e.RequestID)
			}
			// Neither the error text nor the log carries diagnostics or the UBRN.
			for _, s := range []string{e.Error(), logs.String()} {
				if strings.Contains(s, "100000000001") || (e.Diagnostics != "" && strings.Contains(s, e.Diagnostics)) {
					t.Errorf("patient data or diagnostics leaked into %q", s)
				}
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFake(t)
	f.handle("GET", refPath, sequence(respond(503, nil, "Retry-After", "1"), respond(200, fixture(t, "referral_booked_dbs.json"))))
	c, _ := testClient(t, f)
	start := time.Now()
	if _, err := c.Referral(context.Background(), "100000000001"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After's 1 s", d)
	}

	// A Retry-After longer than the client will wait itself is handed back.
	f2 := newFake(t)
	f2.handle("GET", refPath, respond(503, mustJSON(fhir.STU3OperationOutcome("SYSTEM_UNAVAILABLE", "", "", "transient")), "Retry-After", "600"))
	c2, _ := testClient(t, f2)
	before := time.Now()
	_, err := c2.Referral(context.Background(), "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != Retryable || f2.count() != 1 || e.RetryAfter != 600*time.Second ||
		e.NotBefore.Before(before.Add(599*time.Second)) {
		t.Errorf("err %v, %d requests, not before %v", err, f2.count(), e.NotBefore)
	}
}

func TestContextCancellationStopsRetries(t *testing.T) {
	f := newFake(t)
	f.handle("GET", refPath, respond(503, nil, "Retry-After", "30"))
	c, _ := testClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Referral(ctx, "100000000001")
	if err == nil || time.Since(start) > 5*time.Second || f.count() != 1 {
		t.Errorf("err %v after %v, %d requests", err, time.Since(start), f.count())
	}
}

func TestRateLimiterSpacesRequests(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/referrals/FHIR/STU3/CodeSystem/PRIORITY", respond(200, fixture(t, "codesystem_priority.json")))
	c, _ := testClient(t, f, func(cfg *Config) { cfg.RateLimit = 20 })
	// Copies made with WithIdentity share the limiter.
	other := c.WithIdentity(spcaIdentity)
	start := time.Now()
	for i := 0; i < 6; i++ {
		cl := c
		if i%2 == 1 {
			cl = other
		}
		if _, err := cl.CodeSystem(context.Background(), triage.CodeSystemPriority); err != nil {
			t.Fatal(err)
		}
	}
	// Six requests at 20/s with a burst of one take at least 5 intervals.
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Errorf("6 requests took %v, faster than 20/s", d)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{BaseURL: IntegrationBaseURL}, true},
		{"sandbox, no token", Config{BaseURL: SandboxBaseURL}, true},
		{"10/s on NHS", Config{BaseURL: ProductionBaseURL, RateLimit: 10}, true},
		{"20/s on NHS", Config{BaseURL: ProductionBaseURL, RateLimit: 20}, false},
		{"20/s on NHS even with AllowHighRate", Config{BaseURL: IntegrationBaseURL, RateLimit: 20, AllowHighRate: true}, false},
		{"20/s on loopback", Config{BaseURL: "http://127.0.0.1:8080/referrals/FHIR", RateLimit: 20}, true},
		{"20/s elsewhere", Config{BaseURL: "https://ers.test.example/referrals/FHIR", RateLimit: 20}, false},
		{"20/s elsewhere with AllowHighRate", Config{BaseURL: "https://ers.test.example/referrals/FHIR", RateLimit: 20, AllowHighRate: true}, true},
		{"unlimited on loopback", Config{BaseURL: "http://localhost:1/x", RateLimit: rate.Inf}, true},
		{"negative rate", Config{BaseURL: IntegrationBaseURL, RateLimit: -1}, false},
		{"plain http off loopback", Config{BaseURL: "http://int.api.service.nhs.uk/referrals/FHIR"}, false},
		{"relative URL", Config{BaseURL: "/referrals/FHIR"}, false},
		{"ftp", Config{BaseURL: "ftp://example.test/x"}, false},
		{"query in base", Config{BaseURL: "https://example.test/x?a=b"}, false},
		{"short write timeout", Config{BaseURL: IntegrationBaseURL, WriteTimeout: 30 * time.Second}, false},
		{"short client timeout", Config{BaseURL: IntegrationBaseURL, HTTPClient: &http.Client{Timeout: time.Minute}}, false},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestWritesAreRefusedWhenUnsafe(t *testing.T) {
	f := newFake(t)
	c, _ := testClient(t, f)
	ctx := context.Background()
	other := spcIdentity
	other.SDSUserID = "100000000999"
	tests := map[string]func() error{
		"no version": func() error { _, err := c.AcceptReferral(ctx, "100000000001", 0); return err },
		"bad UBRN":   func() error { _, err := c.AcceptReferral(ctx, "../../R4/PractitionerRole", 3); return err },
		"another user's decision": func() error {
			_, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: "100000000001", BaseVersion: 3, By: other})
			return err
		},
		"wrong kind for the method": func() error {
			_, err := c.RejectReferral(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: "100000000001", BaseVersion: 3})
			return err
		},
		"incomplete reject": func() error {
			_, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionReject, UBRN: "100000000001", BaseVersion: 3})
			return err
		},
		"unknown kind": func() error {
			_, err := c.Decide(ctx, triage.Decision{Kind: "MAYBE", UBRN: "100000000001", BaseVersion: 3})
			return err
		},
		"upload too large": func() error {
			_, err := c.UploadAttachment(ctx, "100000000001", triage.ProviderAttachment{FileName: "a.pdf"}, make([]byte, triage.MaxAttachmentSize+1))
			return err
		},
		"cancel without reason": func() error { _, err := c.CancelReferral(ctx, "100000000001", 3, triage.Coding{}, ""); return err },
		"bad code system":       func() error { _, err := c.CodeSystem(ctx, "../x"); return err },
		"bad worklist filter": func() error {
			_, err := c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{ClinicianAssigned: triage.AssignedNo, Clinician: "1"})
			return err
		},
		"bad attachment id": func() error { _, err := c.Attachment(ctx, "https://elsewhere.example/x"); return err },
	}
	for name, run := range tests {
		err := run()
		var e *Error
		if !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests sent; none should be", f.count())
	}
}

func TestETagFallsBackWhenBodyHasNoVersion(t *testing.T) {
	f := newFake(t)
	f.handle("GET", refPath, respond(200, []byte(`{"resourceType":"ReferralRequest","id":"100000000001"}`), "ETag", `W/"7"`))
	c, _ := testClient(t, f)
	r, err := c.Referral(context.Background(), "100000000001")
	if err != nil || r.Version != 7 || r.Referral.Version != 7 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestWorklistRefusesAnotherList(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/referrals/FHIR/STU3/ReferralRequest/$ers.fetchworklist", respond(200, fixture(t, "worklist_appointment_slot_issues.json")))
	c, _ := testClient(t, f)
	_, err := c.Worklist(context.Background(), triage.ListReferralsForReview, triage.WorklistFilter{})
	var e *Error
	if !errors.As(err, &e) || e.Class != BadResponse {
		t.Errorf("err %v", err)
	}
}

func TestOversizedDownloadIsRefused(t *testing.T) {
	f := newFake(t)
	f.handle("POST", refPath+"/$ers.generateCRI", respond(200, make([]byte, 2048), "Content-Type", "application/pdf"))
	c, _ := testClient(t, f, func(cfg *Config) { cfg.MaxDownloadBytes = 1024 })
	_, err := c.ClinicalInformation(context.Background(), "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != BadResponse {
		t.Errorf("err %v", err)
	}
}

func TestReadTimeout(t *testing.T) {
	f := newFake(t)
	release := make(chan struct{})
	defer close(release)
	f.handle("GET", refPath, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c, _ := testClient(t, f, func(cfg *Config) { cfg.ReadTimeout = 100 * time.Millisecond; cfg.MaxRetries = -1 })
	_, err := c.Referral(context.Background(), "100000000001")
	var e *Error
	if !errors.As(err, &e) || e.Class != Unreachable || !strings.Contains(e.Message, "did not answer in time") {
		t.Errorf("err %v", err)
	}
}

func TestErrorStringAndUserError(t *testing.T) {
	e := &Error{Op: "A014", Status: 504, Code: "PAS_NOT_RESPONDING", Diagnostics: "PAS unable for UBRN: 100000000001",
		CorrelationID: "corr-1", RequestID: "req-1", Class: Retryable, Message: "try later"}
	s := e.Error()
	if s != "e-RS A014: HTTP 504 PAS_NOT_RESPONDING (retryable, correlation corr-1, request req-1)" {
		t.Errorf("Error() = %q", s)
	}
	wrapped := fmt.Errorf("send decision: %w", e)
	var te *triage.Error
	if !errors.As(wrapped, &te) || te.Message != "try later" || te.Code != triage.EUNAVAILABLE {
		t.Errorf("triage error %+v", te)
	}
	var back *Error
	if !errors.As(wrapped, &back) || back != e {
		t.Error("errors.As to *Error")
	}
}

// A reply that is another referral's resource is never a result: a read
// fails as a bad response, and a write is a bad response that may have been
// applied (the caller re-reads the referral it asked about to settle it).
func TestReplyForAnotherReferralIsABadResponse(t *testing.T) {
	f := newFake(t)
	other := fixture(t, "referral_awaiting_triage.json") // UBRN 100000000002
	f.handle("GET", refPath, respond(200, other, "ETag", `W/"5"`))
	f.handle("POST", refPath+"/$ers.acceptReferral", respond(200, other, "ETag", `W/"5"`))
	c, _ := testClient(t, f)
	ctx := context.Background()

	_, err := c.Referral(ctx, "100000000001")
	var ee *Error
	if !errors.As(err, &ee) || ee.Class != BadResponse || ee.MayHaveApplied() || ee.Message == "" {
		t.Errorf("A005 answered with another referral: %v, want a bad response", err)
	}
	res, err := c.AcceptReferral(ctx, "100000000001", 4)
	if res != nil || !errors.As(err, &ee) || ee.Class != BadResponse || !ee.MayHaveApplied() {
		t.Errorf("A013 answered with another referral: %v %v, want a bad response that may have been applied", res, err)
	}
	if strings.Contains(err.Error(), "100000000002") || strings.Contains(err.Error(), "100000000001") {
		t.Errorf("the error names a UBRN: %v", err)
	}
}
