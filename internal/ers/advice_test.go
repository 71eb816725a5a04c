package ers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const (
	agPath    = "/referrals/FHIR/STU3/CommunicationRequest/"
	agUBRN    = "200000000017"
	agReplyAt = agPath + agUBRN + "/$ers.sendCommunicationToRequester"
	agConvert = "/referrals/FHIR/STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater"
)

func agReply() triage.AdviceReply {
	return triage.AdviceReply{UBRN: agUBRN, BaseVersion: 7, By: spcIdentity, DecidedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		LastMessageID: "80004", Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendReferralIfRequired,
		Guidance: "Start bisoprolol 1.25 mg daily; refer if symptoms persist.", Priority: triage.PriorityUrgent}
}

func agConversion() triage.AdviceConversion {
	return triage.AdviceConversion{UBRN: agUBRN, BaseVersion: 7, By: spcIdentity, DecidedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Authorisation: triage.ConversionAuthorised, Guidance: "Converted: we will see the patient.", Priority: triage.PriorityUrgent,
		ReviewComments: "Book into the next rapid access clinic."}
}

func TestAdviceCallsAndHeaders(t *testing.T) {
	f := newFake(t)
	f.handle("POST", agPath+"$ers.fetchworklist", respond(200, fixture(t, "advice_worklist.json")))
	f.handle("GET", agPath+agUBRN, respond(200, fixture(t, "advice_request.json"), "ETag", `W/"7"`))
	f.handle("GET", agPath+agUBRN+"/_history/7", respond(200, fixture(t, "advice_request.json"), "ETag", `W/"7"`))
	f.handle("GET", "/referrals/FHIR/STU3/Communication", respond(200, fixture(t, "advice_conversation.json")))
	f.handle("POST", agPath+agUBRN+"/$ers.generateCRI", respond(200, []byte("%PDF-1.4 synthetic overview"),
		"Content-Type", "application/pdf", "Content-Disposition", `attachment; filename="200000000017_Advice_And_Guidance_20260302100000.pdf"`))
	f.handle("POST", agReplyAt, respond(200, fixture(t, "advice_reply_response.json"), "ETag", `W/"8"`))
	f.handle("POST", agConvert, respond(201, fixture(t, "advice_conversion_response.json"), "ETag", `W/"1"`))
	c, _ := testClient(t, f)
	ctx := context.Background()

	wl := must(c.AdviceWorklist(ctx, triage.WorklistFilter{Service: "30002"}))
	if len(wl.Items) != 3 || wl.Items[0].Category != triage.AdviceResponseRequired || wl.Items[1].Version != 4 || wl.Meta.Op != "A023" {
		t.Errorf("worklist %+v", wl.Items)
	}
	last := f.last()
	if filter, err := fhir.ParseAdviceWorklistRequest(last.Body); err != nil || filter.Service != "30002" {
		t.Errorf("A023 body: %+v %v", filter, err)
	}
	if last.Header.Get("Content-Type") != fhirJSON {
		t.Errorf("A023 content type %q", last.Header.Get("Content-Type"))
	}

	req := must(c.AdviceRequest(ctx, agUBRN))
	if req.Version != 7 || req.ETag != `W/"7"` || req.Request.Category != triage.AdviceResponseRequired || !req.Request.Conversion.Allows() ||
		len(req.Request.Documents) != 1 || len(req.Raw) == 0 {
		t.Errorf("request %+v", req)
	}
	if at := must(c.AdviceRequestAtVersion(ctx, agUBRN, 7)); at.Version != 7 || f.last().Path != agPath+agUBRN+"/_history/7" {
		t.Errorf("versioned read %d %s", at.Version, f.last().Path)
	}

	conv := must(c.AdviceConversation(ctx, agUBRN, 7))
	if conv.Conversation.UBRN != agUBRN || len(conv.Conversation.Messages) != 4 || conv.Conversation.LatestID() != "80004" {
		t.Errorf("conversation %+v", conv.Conversation)
	}
	q, err := url.ParseQuery(f.last().Query)
	if err != nil || q.Get("based-on") != "CommunicationRequest/200000000017/_history/7" || len(q["_include"]) != 3 ||
		q["_include"][1] != "Communication:sender-practitionerrole:PractionerRole" {
		t.Errorf("A025 query %q", f.last().Query)
	}

	pdf := must(c.AdviceOverview(ctx, agUBRN))
	if !bytes.HasPrefix(pdf.Data, []byte("%PDF")) || pdf.FileName != "200000000017_Advice_And_Guidance_20260302100000.pdf" || pdf.Meta.Op != "A043" {
		t.Errorf("overview %q %s", pdf.FileName, pdf.Meta.Op)
	}
	if b := f.last().Body; len(b) != 0 {
		t.Errorf("A043 sent a body: %s", b)
	}

	rep := must(c.SendAdviceReply(ctx, agReply()))
	if rep.Version != 8 || rep.Request.Category != triage.AdviceReferrerReviewing || rep.Message.ID != "80005" || !rep.Message.SentBy.FromProvider() {
		t.Errorf("reply result %+v", rep)
	}
	last = f.last()
	if last.Header.Get("If-Match") != `W/"7"` || last.Header.Get("Content-Type") != fhirJSON {
		t.Errorf("A026 headers %v", last.Header)
	}
	if r, err := fhir.ParseAdviceReplyParameters(last.Body); err != nil || r.Recommendation != triage.RecommendReferralIfRequired || r.Priority != triage.PriorityUrgent {
		t.Errorf("A026 body %+v %v", r, err)
	}

	ref := must(c.ConvertAdviceToReferral(ctx, agConversion()))
	if ref.Referral.UBRN != agUBRN || ref.Referral.AdviceUBRN != agUBRN || ref.Meta.Status != 201 || ref.Version != 1 {
		t.Errorf("conversion result %+v", ref)
	}
	last = f.last()
	if last.Header.Get("If-Match") != "" {
		t.Errorf("A027 sent If-Match %q", last.Header.Get("If-Match"))
	}
	if cv, err := fhir.ParseAdviceConversionParameters(last.Body); err != nil || cv.UBRN != agUBRN || cv.BaseVersion != 7 {
		t.Errorf("A027 body %+v %v", cv, err)
	}

	for _, r := range f.requests() {
		if r.Header.Get("Authorization") != "Bearer "+testToken || r.Header.Get("NHSD-End-User-Organisation-ODS") != "Y00001" ||
			r.Header.Get("NHSD-eRS-Business-Function") != string(triage.RoleServiceProviderClinician) || r.Header.Get("X-Correlation-ID") == "" ||
			r.Header.Get("NHSD-eRS-On-Behalf-Of-User-ID") != "" {
			t.Errorf("%s %s headers %v", r.Method, r.Path, r.Header)
		}
		if (r.Method == "POST") != (r.Header.Get("Content-Type") != "" || strings.HasSuffix(r.Path, "generateCRI")) {
			t.Errorf("%s %s content type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
		}
	}
	// A clinician admin's calls carry the clinician acted for.
	admin := must(New(Config{BaseURL: f.base(), RetryBaseDelay: time.Millisecond})).WithIdentity(spcaIdentity)
	must(admin.AdviceRequest(ctx, agUBRN))
	if f.last().Header.Get("NHSD-eRS-On-Behalf-Of-User-ID") != spcaIdentity.OnBehalfOf {
		t.Errorf("on-behalf-of header %v", f.last().Header)
	}
}

// A reply goes to its own request at the version the clinician saw, once;
// an answer about another request, or a conversation with another request's
// messages, is refused (HAZ-30).
func TestAdviceReplyGoesToItsOwnConversation(t *testing.T) {
	f := newFake(t)
	f.handle("POST", agReplyAt, respond(200, fixture(t, "advice_reply_response.json")))
	other := strings.ReplaceAll(string(fixture(t, "advice_reply_response.json")), agUBRN, "200000000025")
	f.handle("POST", agPath+"200000000025/$ers.sendCommunicationToRequester", respond(200, []byte(other)))
	c, _ := testClient(t, f)
	ctx := context.Background()

	must(c.SendAdviceReply(ctx, agReply()))
	if last := f.last(); last.Path != agReplyAt || last.Header.Get("If-Match") != `W/"7"` {
		t.Errorf("sent to %s with If-Match %q", last.Path, last.Header.Get("If-Match"))
	}

	// e-RS (or something pretending to be it) answers about another request.
	f.handle("POST", agReplyAt, respond(200, []byte(other)))
	_, err := c.SendAdviceReply(ctx, agReply())
	e := asError(t, err)
	if e.Class != BadResponse || !e.MayHaveApplied() || !strings.Contains(e.Message, "read the request again") {
		t.Errorf("answer about another request: %v %q", e, e.Message)
	}

	// Writes are never retried, whatever happens.
	for _, h := range []http.HandlerFunc{respond(503, nil, "Retry-After", "1"), dropConnection, respond(500, nil)} {
		f.handle("POST", agReplyAt, h)
		n := f.count()
		_, err := c.SendAdviceReply(ctx, agReply())
		if e := asError(t, err); !e.MayHaveApplied() || f.count() != n+1 {
			t.Errorf("%v: %d requests, may have applied %v", e, f.count()-n, e.MayHaveApplied())
		}
	}

	// A conversation carrying another request's message is not shown.
	conv := string(fixture(t, "advice_conversation.json"))
	conv = strings.Replace(conv, `"reference": "CommunicationRequest/200000000017/_history/7"`, `"reference": "CommunicationRequest/200000000025/_history/7"`, 1)
	f.handle("GET", "/referrals/FHIR/STU3/Communication", respond(200, []byte(conv)))
	_, err = c.AdviceConversation(ctx, agUBRN, 7)
	if e := asError(t, err); e.Class != BadResponse || e.MayHaveApplied() || strings.Contains(e.Error(), "200000000025") {
		t.Errorf("foreign message: %v", e)
	}
	// Nor is another request's summary.
	f.handle("GET", agPath+agUBRN, respond(200, []byte(strings.ReplaceAll(string(fixture(t, "advice_request.json")), agUBRN, "200000000025"))))
	if _, err = c.AdviceRequest(ctx, agUBRN); asError(t, err).Class != BadResponse {
		t.Errorf("another request's summary: %v", err)
	}
	// A converted referral naming another request as its origin.
	f.handle("POST", agConvert, respond(201, []byte(strings.Replace(string(fixture(t, "advice_conversion_response.json")),
		"CommunicationRequest/200000000017", "CommunicationRequest/200000000025", 1))))
	if _, err = c.ConvertAdviceToReferral(ctx, agConversion()); !asError(t, err).MayHaveApplied() || asError(t, err).Class != BadResponse {
		t.Errorf("conversion from another request: %v", err)
	}
}

// A reply or conversion that breaks the rules is refused before anything
// is sent: advice without a recommendation, guidance over 8000 characters,
// a conversion the referrer had not allowed (HAZ-32), another clinician's
// reply.
func TestAdviceWritesRefusedBeforeSending(t *testing.T) {
	f := newFake(t)
	c, _ := testClient(t, f)
	ctx := context.Background()
	noRecommendation := agReply()
	noRecommendation.Recommendation = ""
	tooLong := agReply()
	tooLong.Guidance = strings.Repeat("a", triage.MaxGuidanceLength+1)
	someoneElse := agReply()
	someoneElse.By = spcaIdentity
	noVersion := agReply()
	noVersion.BaseVersion = 0
	badUBRN := agReply()
	badUBRN.UBRN = "../ReferralRequest/1"
	for name, r := range map[string]triage.AdviceReply{"no recommendation": noRecommendation, "too long": tooLong,
		"someone else": someoneElse, "no version": noVersion, "bad UBRN": badUBRN} {
		_, err := c.SendAdviceReply(ctx, r)
		e := asError(t, err)
		if e.Class != Permanent && e.Class != Forbidden || e.MayHaveApplied() || e.Message == "" {
			t.Errorf("%s: %v", name, e)
		}
	}
	if _, err := c.SendAdviceReply(ctx, noRecommendation); !strings.Contains(triage.ErrorMessage(err), "recommend") {
		t.Errorf("message %q", triage.ErrorMessage(err))
	}
	for _, auth := range []triage.ConversionAuthorisation{triage.ConversionNotAuthorised, ""} {
		cv := agConversion()
		cv.Authorisation = auth
		_, err := c.ConvertAdviceToReferral(ctx, cv)
		if e := asError(t, err); e.Class != Permanent || !strings.Contains(e.Message, "not allowed") {
			t.Errorf("conversion with %q: %v %q", auth, e, e.Message)
		}
	}
	if n := f.count(); n != 0 {
		t.Errorf("%d requests reached e-RS", n)
	}
}

func TestAdviceErrorsSpeakOfAdvice(t *testing.T) {
	outcome := func(code string) []byte {
		b, _ := json.Marshal(fhir.STU3OperationOutcome(code, "", "diagnostics", "business-rule"))
		return b
	}
	tests := []struct {
		name    string
		method  string
		path    string
		handler http.HandlerFunc
		call    func(c *Client) error
		class   Class
		want    string
	}{
		{"409 reply", "POST", agReplyAt, respond(409, outcome("CONFLICT")), func(c *Client) error { _, err := c.SendAdviceReply(context.Background(), agReply()); return err },
			Conflict, "your reply was not sent"},
		{"423 reply", "POST", agReplyAt, respond(423, outcome("LOCKED")), func(c *Client) error { _, err := c.SendAdviceReply(context.Background(), agReply()); return err },
			Conflict, "in progress"},
		{"not allowed now", "POST", agConvert, respond(422, outcome("INVALID_REQUEST_STATE")),
			func(c *Client) error {
				_, err := c.ConvertAdviceToReferral(context.Background(), agConversion())
				return err
			},
			Conflict, "did not accept the conversion"},
		{"other 422", "POST", agReplyAt, respond(422, outcome("INVALID_VALUE")), func(c *Client) error { _, err := c.SendAdviceReply(context.Background(), agReply()); return err },
			Permanent, "did not accept the reply"},
		{"old version", "GET", agPath + agUBRN + "/_history/6", respond(404, outcome("HISTORY_NOT_SUPPORTED")),
			func(c *Client) error { _, err := c.AdviceRequestAtVersion(context.Background(), agUBRN, 6); return err }, Conflict, "Read the conversation again"},
		{"unknown request", "GET", agPath + agUBRN, respond(404, outcome("REFERENCE_NOT_FOUND")),
			func(c *Client) error { _, err := c.AdviceRequest(context.Background(), agUBRN); return err }, Permanent, "advice and guidance request"},
		{"no relationship", "GET", "/referrals/FHIR/STU3/Communication", respond(403, outcome("NO_RELATIONSHIP")),
			func(c *Client) error { _, err := c.AdviceConversation(context.Background(), agUBRN, 7); return err }, Forbidden, "advice and guidance request"},
		{"connection dropped", "POST", agReplyAt, dropConnection, func(c *Client) error { _, err := c.SendAdviceReply(context.Background(), agReply()); return err },
			Unreachable, "whether your reply was received"},
		{"unreadable answer", "POST", agReplyAt, respond(200, []byte(`{"resourceType":"Parameters"}`)),
			func(c *Client) error { _, err := c.SendAdviceReply(context.Background(), agReply()); return err }, BadResponse, "accepted the reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.handle(tt.method, tt.path, tt.handler)
			c, logs := testClient(t, f, func(cfg *Config) { cfg.MaxRetries = -1 })
			e := asError(t, tt.call(c))
			if e.Class != tt.class || !strings.Contains(e.Message, tt.want) {
				t.Errorf("class %s message %q, want %s %q", e.Class, e.Message, tt.class, tt.want)
			}
			for _, word := range []string{"referral", "decision"} {
				if strings.Contains(e.Message, word) {
					t.Errorf("message speaks of a %s: %q", word, e.Message)
				}
			}
			if strings.Contains(logs.String(), agUBRN) || strings.Contains(e.Error(), agUBRN) {
				t.Error("the UBRN reached a log line or the error text")
			}
		})
	}
}

func TestAdviceOverviewSizeLimit(t *testing.T) {
	f := newFake(t)
	f.handle("POST", agPath+agUBRN+"/$ers.generateCRI", respond(200, bytes.Repeat([]byte("x"), 2048), "Content-Type", "application/pdf"))
	c, _ := testClient(t, f, func(cfg *Config) { cfg.MaxDownloadBytes = 1024; cfg.MaxRetries = -1 })
	_, err := c.AdviceOverview(context.Background(), agUBRN)
	if e := asError(t, err); e.Class != BadResponse || !errors.Is(e, errTooLarge) {
		t.Errorf("oversized overview: %v", e)
	}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	return e
}
