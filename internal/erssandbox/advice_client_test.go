package erssandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// openAdvice reads a request and its conversation through the client, as
// the app does before the clinician replies.
func openAdvice(t *testing.T, c *ers.Client, ubrn string) (*triage.AdviceRequest, *triage.AdviceConversation) {
	t.Helper()
	ctx := context.Background()
	req, err := c.AdviceRequest(ctx, ubrn)
	if err != nil {
		t.Fatalf("A024: %v", err)
	}
	conv, err := c.AdviceConversation(ctx, ubrn, req.Version)
	if err != nil {
		t.Fatalf("A025: %v", err)
	}
	return req.Request, conv.Conversation
}

// replyTo builds a reply to what the clinician has open.
func replyTo(req *triage.AdviceRequest, conv *triage.AdviceConversation, r triage.AdviceReply) triage.AdviceReply {
	r.UBRN, r.BaseVersion, r.LastMessageID, r.By, r.DecidedAt = req.UBRN, req.Version, conv.LatestID(), clinician, time.Now()
	if r.Priority == "" {
		r.Priority = req.Priority
	}
	return r
}

// startAdvice starts a sandbox with no pending delay and opens, as the demo
// clinician, the A&G request pickAdvice finds with match (nil: any).
func startAdvice(t *testing.T, match func(erssandbox.AdviceState) bool) (*erssandbox.Sandbox, *ers.Client, string, *triage.AdviceRequest, *triage.AdviceConversation) {
	t.Helper()
	sb := startSandbox(t, erssandbox.Config{Referrals: 20, PendingDelay: -1})
	c := newClient(t, sb, nil, clinician)
	ubrn := pickAdvice(t, sb, match)
	req, conv := openAdvice(t, c, ubrn)
	return sb, c, ubrn, req, conv
}

func pickAdvice(t *testing.T, sb *erssandbox.Sandbox, match func(erssandbox.AdviceState) bool) string {
	t.Helper()
	for _, a := range sb.AdviceList(match) {
		if a.ServiceODS == erssandbox.ProviderODS && a.Request.Category == triage.AdviceResponseRequired {
			return a.Request.UBRN
		}
	}
	t.Fatal("no advice request matches")
	return ""
}

// TestAdviceConversationRounds runs a whole conversation through the client
// and the control API: advice requested, further information asked for,
// the referrer replies, advice returned, the referrer closes it.
func TestAdviceConversationRounds(t *testing.T) {
	sb := startSandbox(t, erssandbox.Config{Auth: true, Referrals: 20, PendingDelay: -1})
	ctx := context.Background()
	c := newClient(t, sb, signIn(t, sb, erssandbox.UserClinician), clinician)
	ubrn := pickAdvice(t, sb, func(a erssandbox.AdviceState) bool { return len(a.Conversation.Messages) == 1 })

	wl, err := c.AdviceWorklist(ctx, triage.WorklistFilter{})
	if err != nil || len(wl.Items) != len(sb.AdviceWorklist(erssandbox.ProviderODS)) {
		t.Fatalf("A023: %v", err)
	}
	req, conv := openAdvice(t, c, ubrn)
	if len(conv.Messages) != 1 || conv.Messages[0].SentBy != triage.SentByRequester {
		t.Fatalf("conversation %+v", conv)
	}

	// Round 1: ask for further information.
	rfi := replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "Please send a 12-lead ECG (synthetic)."})
	if err := rfi.Validate(triage.AdviceContext{Request: req, Conversation: conv}); err != nil {
		t.Fatal(err)
	}
	res, err := c.SendAdviceReply(ctx, rfi)
	if err != nil {
		t.Fatalf("A026 further information: %v", err)
	}
	if res.Request.Category != triage.AdviceAwaitingInformation || res.Version != req.Version+1 || res.Message.Text != rfi.Guidance {
		t.Errorf("after asking: %s v%d %+v", res.Request.Category, res.Version, res.Message)
	}
	// Not the provider's turn now: e-RS refuses a second reply.
	again := replyTo(res.Request, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "And bloods."})
	again.BaseVersion = res.Version
	if _, err := c.SendAdviceReply(ctx, again); errOf(t, err).Code != "INVALID_REQUEST_STATE" || errOf(t, err).MayHaveApplied() {
		t.Errorf("second reply while waiting: %v", err)
	}

	// The referrer answers, with a file.
	v, err := sb.ReferrerReplies(ubrn, "ECG attached (synthetic).", erssandbox.AttachmentFile{FileName: "ecg.pdf", ContentType: "application/pdf",
		Data: []byte("%PDF-1.4 synthetic ECG")})
	if err != nil || v != res.Version+1 {
		t.Fatalf("referrer replies: v%d %v", v, err)
	}
	req, conv = openAdvice(t, c, ubrn)
	if req.Category != triage.AdviceResponseRequired || req.Version != v || len(conv.Messages) != 4 {
		t.Fatalf("after the referrer's reply: %s v%d, %d messages", req.Category, req.Version, len(conv.Messages))
	}
	if un := conv.Unanswered(); len(un) != 2 || un[0].Documents[0].Title != "ecg.pdf" || un[1].SentBy != triage.SentByClinicalInfoUpdated {
		t.Errorf("unanswered %+v", un)
	}
	file, err := c.Attachment(ctx, conv.Unanswered()[0].Documents[0].URL)
	if err != nil || string(file.Data) != "%PDF-1.4 synthetic ECG" {
		t.Errorf("the referrer's file: %v", err)
	}

	// Round 2: advice.
	adv := replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendReferralIfRequired,
		Guidance: "Start a beta blocker; refer if symptoms persist (synthetic)."})
	res, err = c.SendAdviceReply(ctx, adv)
	if err != nil || res.Request.Category != triage.AdviceReferrerReviewing {
		t.Fatalf("A026 advice: %v", err)
	}
	pdf, err := c.AdviceOverview(ctx, ubrn)
	if err != nil || !bytes.HasPrefix(pdf.Data, []byte("%PDF")) || !strings.HasPrefix(pdf.FileName, ubrn+"_Advice_And_Guidance_") {
		t.Errorf("A043: %v", err)
	}
	if _, err := sb.CloseAdvice(ubrn); err != nil {
		t.Fatal(err)
	}
	req, conv = openAdvice(t, c, ubrn)
	if req.Category != triage.AdviceEndedClosed || len(conv.Messages) != 5 {
		t.Errorf("closed: %s, %d messages", req.Category, len(conv.Messages))
	}
	var applied []string
	for _, w := range sb.Stats().Writes {
		if w.Op == "A026" && w.UBRN == ubrn && w.Applied {
			applied = append(applied, w.MessageID)
		}
	}
	if len(applied) != 2 || applied[1] != conv.Messages[4].ID {
		t.Errorf("applied replies %v", applied)
	}
}

// A reply written before the referrer wrote again is not applied: the
// version moved on, so e-RS answers 409 and the referrer's message is there
// to read (HAZ-31); the same goes for a withdrawal meanwhile.
func TestReferrerWroteMeanwhileReplyConflicts(t *testing.T) {
	sb, c, ubrn, req, conv := startAdvice(t, nil)
	ctx := context.Background()
	draft := replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendAdviceOnly,
		Guidance: "Reassure (synthetic)."})

	if _, err := sb.ReferrerReplies(ubrn, "Now has chest pain at rest (synthetic)."); err != nil {
		t.Fatal(err)
	}
	_, err := c.SendAdviceReply(ctx, draft)
	e := errOf(t, err)
	if e.Class != ers.Conflict || e.Status != http.StatusConflict || e.MayHaveApplied() || !strings.Contains(e.Message, "your reply was not sent") {
		t.Fatalf("stale reply: %v %q", e, e.Message)
	}
	req, conv = openAdvice(t, c, ubrn)
	if m, _ := conv.Latest(); m.Text != "Now has chest pain at rest (synthetic)." {
		t.Errorf("latest message %+v", m)
	}
	if err := draft.Validate(triage.AdviceContext{Request: req, Conversation: conv}); err == nil {
		t.Error("the stale draft still validates against the new conversation")
	}
	for _, w := range sb.Stats().Writes {
		if w.UBRN == ubrn && w.Applied {
			t.Errorf("a write was applied: %+v", w)
		}
	}
	// Read again, the clinician can reply.
	if _, err := c.SendAdviceReply(ctx, replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "Please call 999 (synthetic)."})); err != nil {
		t.Errorf("after reading: %v", err)
	}

	// Withdrawn while the clinician wrote.
	other := pickAdvice(t, sb, func(a erssandbox.AdviceState) bool { return a.Request.UBRN != ubrn })
	req, conv = openAdvice(t, c, other)
	if _, err := sb.WithdrawAdvice(other); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendAdviceReply(ctx, replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "x"})); errOf(t, err).Class != ers.Conflict {
		t.Errorf("reply to a withdrawn request: %v", err)
	}
	req, conv = openAdvice(t, c, other)
	if _, err := c.SendAdviceReply(ctx, replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "x"})); errOf(t, err).Code != "INVALID_REQUEST_STATE" {
		t.Errorf("reply to a withdrawn request at its new version: %v", err)
	}
}

// Conversion happens only where the referrer allowed it (HAZ-32): the
// client refuses it before sending, and the sandbox refuses the body sent
// anyway, changing nothing.
func TestConversionOnlyWhenAuthorised(t *testing.T) {
	sb, c, ubrn, req, conv := startAdvice(t, func(a erssandbox.AdviceState) bool { return !a.Request.Conversion.Allows() })
	ctx := context.Background()
	cv := triage.AdviceConversion{UBRN: ubrn, BaseVersion: req.Version, By: clinician, DecidedAt: time.Now(), LastMessageID: conv.LatestID(),
		Authorisation: req.Conversion, Guidance: "Converted (synthetic).", Priority: triage.PriorityUrgent, ReviewComments: "Book urgently (synthetic)."}
	if err := cv.Validate(triage.AdviceContext{Request: req, Conversation: conv}); err == nil {
		t.Fatal("a conversion the referrer did not allow validates")
	}
	sb.ResetStats()
	if _, err := c.ConvertAdviceToReferral(ctx, cv); errOf(t, err).Class != ers.Permanent {
		t.Errorf("client: %v", err)
	}
	if n := sb.Stats().Requests["A027"]; n != 0 {
		t.Fatalf("%d conversions reached e-RS", n)
	}

	// Sent anyway, bypassing the client's check: e-RS refuses it.
	cv.Authorisation = triage.ConversionAuthorised
	body, _ := fhir.AdviceConversionParameters(cv)
	b, _ := json.Marshal(body)
	hreq, _ := http.NewRequest("POST", sb.BaseURL()+"/STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater", bytes.NewReader(b))
	hreq.Header.Set("Content-Type", "application/fhir+json")
	hreq.Header.Set("NHSD-End-User-Organisation-ODS", erssandbox.ProviderODS)
	hreq.Header.Set("NHSD-eRS-Business-Function", string(triage.RoleServiceProviderClinician))
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("raw conversion: %d", resp.StatusCode)
	}
	if _, err := sb.Referral(ubrn); err == nil {
		t.Error("a referral was created")
	}
	if a, _ := sb.Advice(ubrn); a.Request.Version != req.Version || a.Request.Category != triage.AdviceResponseRequired {
		t.Errorf("the request changed: v%d %s", a.Request.Version, a.Request.Category)
	}
	if w := sb.Stats().Writes; len(w) != 1 || w[0].Applied || w[0].UBRN != ubrn || w[0].Status != 422 {
		t.Errorf("write log %+v", w)
	}

	// The referrer allows it: the clinician reads it again and converts.
	if _, err := sb.SetConversionAuthorisation(ubrn, true); err != nil {
		t.Fatal(err)
	}
	req, conv = openAdvice(t, c, ubrn)
	cv.BaseVersion, cv.Authorisation, cv.LastMessageID = req.Version, req.Conversion, conv.LatestID()
	if err := cv.Validate(triage.AdviceContext{Request: req, Conversation: conv}); err != nil {
		t.Fatal(err)
	}
	ref, err := c.ConvertAdviceToReferral(ctx, cv)
	if err != nil {
		t.Fatalf("conversion: %v", err)
	}
	if ref.Meta.Status != http.StatusCreated || ref.Referral.AdviceUBRN != ubrn || ref.Referral.Priority != triage.PriorityUrgent ||
		ref.Referral.State.State != triage.StateTriagedProviderToAction || ref.Referral.State.Comments != cv.ReviewComments {
		t.Errorf("new referral %+v", ref.Referral)
	}
	if r, err := c.Referral(ctx, ubrn); err != nil || r.Referral.AdviceUBRN != ubrn {
		t.Errorf("A005 of the new referral: %v", err)
	}
	req, conv = openAdvice(t, c, ubrn)
	if req.Category != triage.AdviceConverted || conv.Messages[len(conv.Messages)-1].Text != cv.Guidance {
		t.Errorf("after conversion: %s", req.Category)
	}
	// Once converted, it cannot be converted again.
	cv.BaseVersion = req.Version
	if _, err := c.ConvertAdviceToReferral(ctx, cv); errOf(t, err).Code != "INVALID_REQUEST_STATE" {
		t.Errorf("second conversion: %v", err)
	}
	// A stale version is a conflict.
	other := pickAdvice(t, sb, func(a erssandbox.AdviceState) bool { return a.Request.Conversion.Allows() })
	req, conv = openAdvice(t, c, other)
	stale := cv
	stale.UBRN, stale.BaseVersion, stale.LastMessageID = other, req.Version-1, conv.LatestID()
	if _, err := c.ConvertAdviceToReferral(ctx, stale); errOf(t, err).Status != http.StatusConflict {
		t.Errorf("stale conversion: %v", err)
	}
}

// A reply applied but whose answer was lost is found by reading the
// conversation again; refused faults apply nothing.
func TestAdviceReplyUnderFaults(t *testing.T) {
	sb, c, ubrn, req, conv := startAdvice(t, nil)
	ctx := context.Background()
	r := replyTo(req, conv, triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "Please send bloods (synthetic)."})

	for _, k := range []erssandbox.FaultKind{erssandbox.FaultServerError, erssandbox.FaultUnavailable, erssandbox.FaultReset} {
		sb.FailNext("A026", k)
		if _, err := c.SendAdviceReply(ctx, r); !errOf(t, err).MayHaveApplied() {
			t.Errorf("%s: %v", k, err)
		}
		if a, _ := sb.Advice(ubrn); a.Request.Version != req.Version {
			t.Fatalf("%s applied the reply", k)
		}
	}
	sb.FailNext("A026", erssandbox.FaultDropAfterApply)
	_, err := c.SendAdviceReply(ctx, r)
	if e := errOf(t, err); e.Class != ers.Unreachable || !e.MayHaveApplied() || !strings.Contains(e.Message, "reply") {
		t.Errorf("dropped: %v %q", e, e.Message)
	}
	req2, conv2 := openAdvice(t, c, ubrn)
	if req2.Version != req.Version+1 || conv2.LatestID() == conv.LatestID() || conv2.Messages[len(conv2.Messages)-1].Text != r.Guidance {
		t.Errorf("the applied reply is not visible on reading again: v%d", req2.Version)
	}
	// A reset write is logged when its handler ends, which may be after the
	// client has moved on: count the records rather than rely on their order.
	var logged, applied []erssandbox.WriteRecord
	for _, w := range sb.Stats().Writes {
		if w.UBRN == ubrn {
			logged = append(logged, w)
			if w.Applied {
				applied = append(applied, w)
			}
		}
	}
	if len(logged) != 4 || len(applied) != 1 || !applied[0].Dropped || applied[0].MessageID != conv2.LatestID() {
		t.Errorf("write log %+v", logged)
	}
	// Sending the same reply again is refused: the version moved on.
	if _, err := c.SendAdviceReply(ctx, r); errOf(t, err).Class != ers.Conflict {
		t.Errorf("resend: %v", err)
	}
}
