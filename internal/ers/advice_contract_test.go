package ers

// End-to-end contract tests of Advice and Guidance: the published e-RS
// example responses served by the fake and read through the client, and the
// bodies the client sends compared with the published example requests
// (skipped when ../shared/ers-examples is absent).

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestContractAdviceThroughClient(t *testing.T) {
	const ex = "stu3/"
	f := newFake(t)
	serve := func(method, path, rel string, status int, headers ...string) {
		f.handle(method, path, respond(status, testutil.Example(t, ex+rel), headers...))
	}
	serve("POST", agPath+"$ers.fetchworklist", "retrieveAdviceAndGuidanceWorklist/responses/AdviceAndGuidanceRequests.json", 200)
	serve("GET", agPath+"000000070001", "retrieveAdviceAndGuidanceRequest/responses/WithAttachmentFileReference.json", 200, "ETag", `W/"5"`)
	serve("GET", "/referrals/FHIR/STU3/Communication", "retrieveAdviceAndGuidanceConversation/MultiWayConversation.json", 200)
	serve("POST", agPath+"000049146177/$ers.generateCRI", "retrieveAdviceAndGuidanceOverviewPdf/responses/000049146177_Advice_And_Guidance_20220610143044.pdf", 200,
		"Content-Type", "application/pdf", "Content-Disposition", "attachment; filename=000049146177_Advice_And_Guidance_20220610143044.pdf")
	c, _ := testClient(t, f, func(cfg *Config) { cfg.TokenSource = nil })
	c = c.WithIdentity(triage.Identity{ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician})
	ctx := context.Background()

	wl := must(c.AdviceWorklist(ctx, triage.WorklistFilter{}))
	jsonEq(t, f.last().Body, testutil.Example(t, ex+"retrieveAdviceAndGuidanceWorklist/requests/MinimalAdviceAndGuidanceRequests.json"))
	if len(wl.Items) != 2 || wl.Items[0].UBRN != "000000070000" || wl.Items[1].Category != triage.AdviceAwaitingInformation {
		t.Errorf("worklist %+v", wl.Items)
	}
	req := must(c.AdviceRequest(ctx, "000000070001"))
	if req.Version != 5 || req.Request.Documents[0].Title != "upload.png" {
		t.Errorf("request %+v", req.Request)
	}
	conv := must(c.AdviceConversation(ctx, "000000070002", 6))
	if n := len(conv.Conversation.Messages); n != 4 || conv.Conversation.LatestID() != "70003" {
		t.Errorf("conversation of %d messages, latest %s", n, conv.Conversation.LatestID())
	}
	pdf := must(c.AdviceOverview(ctx, "000049146177"))
	if !bytes.HasPrefix(pdf.Data, []byte("%PDF")) || pdf.FileName != "000049146177_Advice_And_Guidance_20220610143044.pdf" {
		t.Errorf("overview %q, %d bytes", pdf.FileName, len(pdf.Data))
	}

	// The published UnavailableAttachments conversation has a message based
	// on another request (000000070001); asked for 000000070003, the
	// client refuses it rather than show that message.
	serve("GET", "/referrals/FHIR/STU3/Communication", "retrieveAdviceAndGuidanceConversation/UnavailableAttachments.json", 200)
	if _, err := c.AdviceConversation(ctx, "000000070003", 2); asError(t, err).Class != BadResponse {
		t.Errorf("mixed conversation: %v", err)
	}
}

// TestContractAdviceWritesOnTheWire sends each published A026 and A027
// example's inputs through the client: the body on the wire equals the
// example, and the published response is read.
func TestContractAdviceWritesOnTheWire(t *testing.T) {
	const ex = "stu3/"
	decided := time.Date(2021, 10, 1, 14, 6, 14, 0, time.UTC)
	replies := []struct {
		file        string
		r           triage.AdviceReply
		wantVersion int
	}{
		{"ReturnToReferrerWithAdvice.json", triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendAdviceOnly,
			Guidance: "No evidence of serious problem: patient can be advised to xxx", Priority: triage.PriorityRoutine}, 6},
		{"RequireFurtherInformation.json", triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo,
			Guidance: "Please supply me with xxx test results", Priority: triage.PriorityTwoWeekWait}, 6},
		{"AttachmentIncluded.json", triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendOther,
			Guidance: "Advise treatment as in attached document", Priority: triage.PriorityRoutine, DecidedAt: decided,
			Attachments: []triage.ProviderAttachment{{BinaryID: "19eb7224-dff3-4730-a5cb-67eac811f1a5", Description: "Treatment Specification",
				AttachedAt: time.Date(2021, 9, 29, 13, 22, 35, 335_000_000, time.UTC)}}}, 6},
	}
	for _, tt := range replies {
		t.Run("A026/"+tt.file, func(t *testing.T) {
			f := newFake(t)
			f.handle("POST", agPath+"000000070000/$ers.sendCommunicationToRequester",
				respond(http.StatusOK, testutil.Example(t, ex+"sendAdviceAndGuidanceResponse/responses/"+tt.file)))
			c, _ := testClient(t, f)
			r := tt.r
			r.UBRN, r.BaseVersion = "000000070000", 5
			res := must(c.SendAdviceReply(context.Background(), r))
			jsonEq(t, f.last().Body, testutil.Example(t, ex+"sendAdviceAndGuidanceResponse/requests/"+tt.file))
			if res.Version != tt.wantVersion || res.Message.ID != "70001" || f.last().Header.Get("If-Match") != `W/"5"` {
				t.Errorf("result v%d message %s If-Match %q", res.Version, res.Message.ID, f.last().Header.Get("If-Match"))
			}
		})
	}
	conversions := []struct {
		file string
		c    triage.AdviceConversion
	}{
		{"NoAttachments.json", triage.AdviceConversion{Guidance: "I have converted this to send the patient to one of our services",
			Priority: triage.PriorityRoutine, ReviewComments: "Refer this patient to our 'xxx' service please as soon as possible"}},
		{"WithAttachments.json", triage.AdviceConversion{Guidance: "Patient booked into our service. See attachment for best initial medication",
			Priority: triage.PriorityRoutine, ReviewComments: "Book patient to 'xxx' service to include attached file as referral letter",
			GuidanceAttachments: []triage.ProviderAttachment{{BinaryID: "badaf6fc-90f4-411d-999f-04ccd79fa166", Description: "Initial medication",
				AttachedAt: time.Date(2021, 10, 1, 14, 6, 14, 915_000_000, time.UTC)}},
			ReviewAttachments: []triage.ProviderAttachment{{BinaryID: "38dc19ab-893f-47ca-8db0-2d0a07c0e387", Description: "Referral letter",
				AttachedAt: time.Date(2021, 10, 1, 14, 6, 14, 919_000_000, time.UTC)}}}},
	}
	for _, tt := range conversions {
		t.Run("A027/"+tt.file, func(t *testing.T) {
			f := newFake(t)
			f.handle("POST", agConvert, respond(http.StatusCreated, testutil.Example(t, ex+"convertAdviceAndGuidanceToReferral/responses/"+tt.file)))
			c, _ := testClient(t, f)
			cv := tt.c
			cv.UBRN, cv.BaseVersion, cv.Authorisation = "000000070000", 3, triage.ConversionAuthorised
			res := must(c.ConvertAdviceToReferral(context.Background(), cv))
			jsonEq(t, f.last().Body, testutil.Example(t, ex+"convertAdviceAndGuidanceToReferral/requests/"+tt.file))
			if res.Referral.AdviceUBRN != "000000070000" || res.Version != 4 || res.Meta.Status != http.StatusCreated {
				t.Errorf("result %+v", res)
			}
		})
	}
}
