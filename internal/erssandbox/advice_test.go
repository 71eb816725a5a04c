package erssandbox

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const crPath = "/STU3/CommunicationRequest/"

// includeAll is the A025 query suffix with every _include.
const includeAll = "&_include=" + fhir.IncludeRequesterRole + "&_include=" + fhir.IncludeSenderRole + "&_include=" + fhir.IncludeContent

// freshAdvice returns a request at R69 awaiting the provider's reply whose
// UBRN is not in used, and marks it used.
func freshAdvice(t *testing.T, sb *Sandbox, used map[string]bool, match func(AdviceState) bool) AdviceState {
	t.Helper()
	for _, a := range sb.AdviceList(nil) {
		if !used[a.Request.UBRN] && a.ServiceODS == ProviderODS && a.Request.Category == triage.AdviceResponseRequired && (match == nil || match(a)) {
			used[a.Request.UBRN] = true
			return a
		}
	}
	t.Fatal("no unused advice and guidance request of the kind needed")
	return AdviceState{}
}

func replyBody(t *testing.T, r triage.AdviceReply) []byte {
	t.Helper()
	p, err := fhir.AdviceReplyParameters(r)
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, p)
}

var advice = triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendAdviceOnly,
	Guidance: "Manage in primary care (synthetic).", Priority: triage.PriorityRoutine}

var furtherInfo = triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo, Guidance: "Please send the ECG (synthetic).", Priority: triage.PriorityUrgent}

func TestAdviceSmallSetCoversEveryCase(t *testing.T) {
	sb := start(t, Config{PendingDelay: -1})
	all := sb.AdviceList(nil)
	if len(all) != DefaultAdviceRequests {
		t.Fatalf("%d advice requests, want %d", len(all), DefaultAdviceRequests)
	}
	seen := map[string]bool{}
	for _, a := range all {
		r := a.Request
		seen[string(r.Category)] = true
		seen[string(r.Conversion)] = true
		seen[a.ServiceODS] = true
		if err := triage.ValidateNHSNumber(r.NHSNumber); err != nil || !triage.IsSyntheticNHSNumber(r.NHSNumber) {
			t.Errorf("%s: NHS number %s: %v", r.UBRN, r.NHSNumber, err)
		}
		if len(a.Conversation.Messages) >= 4 {
			seen["several rounds"] = true
		}
		for i, m := range a.Conversation.Messages {
			seen[string(m.SentBy)] = true
			if m.Text == "" || m.Sent.IsZero() || m.RequestUBRN != r.UBRN || (i > 0 && m.Sent.Before(a.Conversation.Messages[i-1].Sent)) {
				t.Errorf("%s: message %+v", r.UBRN, m)
			}
			for _, d := range m.Documents {
				seen[string(d.Availability)] = true
			}
		}
		if r.Version <= len(a.Conversation.Messages) {
			t.Errorf("%s: version %d with %d messages", r.UBRN, r.Version, len(a.Conversation.Messages))
		}
		if r.Category == triage.AdviceConverted {
			ref, err := sb.Referral(a.ReferralUBRN)
			if err != nil || ref.AdviceUBRN != r.UBRN || ref.State.Reason.Code != string(triage.OutcomeProviderConvertedAdvice) {
				t.Errorf("converted %s: %+v %v", r.UBRN, ref, err)
			}
		}
	}
	for _, want := range []string{"PROVIDER_RESPONSE_REQUIRED", "REFERRER_TO_SUBMIT_FURTHER_INFORMATION", "REFERRER_TO_REVIEW_RESPONSE",
		"CONVERSATION_ENDED_CANCELLED", "CONVERSATION_ENDED_CLOSED", "ADVICE_CONVERTED", "AUTHORISED_TO_CONVERT", "NOT_AUTHORISED_TO_CONVERT",
		"REQUESTER", "RESPONDER", "REFERRER_CLINICAL_INFORMATION_UPDATED", "AVAILABLE", "PENDING", "THREATS_FOUND", ProviderODS, SecondProviderODS,
		"several rounds"} {
		if !seen[want] {
			t.Errorf("no advice request shows %s", want)
		}
	}
	// The referral count is unchanged by A&G (conversions are kept apart).
	if n := len(sb.Referrals(nil)); n != DefaultReferrals {
		t.Errorf("%d referrals", n)
	}
	// The same seed gives the same requests.
	other := start(t, Config{PendingDelay: -1})
	for i, a := range other.AdviceList(nil) {
		b := all[i]
		a.Request.Specialty.System, b.Request.Specialty.System = "", ""
		a.Request.ClinicType.System, b.Request.ClinicType.System = "", ""
		if !reflect.DeepEqual(a.Request, b.Request) || !reflect.DeepEqual(a.Conversation, b.Conversation) {
			t.Fatalf("request %d differs between two sandboxes with the same seed", i)
		}
	}
	// A larger set stays within the rules.
	big := start(t, Config{Referrals: 10, AdviceRequests: 400, PendingDelay: -1})
	if got := len(big.AdviceWorklist(ProviderODS)) + len(big.AdviceWorklist(SecondProviderODS)); got != 400 {
		t.Errorf("%d on the worklists of 400", got)
	}
}

func TestAdviceEndpointsShapesAndRefusals(t *testing.T) {
	sb := start(t, Config{})
	a := freshAdvice(t, sb, map[string]bool{}, func(a AdviceState) bool { return len(a.Request.Documents) > 0 })
	u, v := a.Request.UBRN, a.Request.Version
	other := sb.AdviceList(func(a AdviceState) bool { return a.ServiceODS == SecondProviderODS })[0].Request.UBRN
	asRCD := as{ODS: SecondProviderODS, Function: string(triage.RoleServiceProviderClinician)}
	asSPA := as{ODS: ProviderODS, Function: string(triage.RoleServiceProviderAdmin)}
	asRC := as{ODS: ReferrerODSPrefix + "01", Function: string(triage.RoleReferringClinician)}
	list := mustJSON(t, fhir.AdviceWorklistRequest(fhir.WorklistFilter{}))

	// A023: the provider's list; filters as A008.
	rep := do(t, sb, "POST", crPath+"$ers.fetchworklist", asSPC, list)
	items, err := fhir.DecodeAdviceWorklist(rep.Body)
	if rep.Status != 200 || err != nil || len(items) != len(sb.AdviceWorklist(ProviderODS)) || len(items) == 0 {
		t.Fatalf("A023: %d %v, %d items", rep.Status, err, len(items))
	}
	if rep := do(t, sb, "POST", crPath+"$ers.fetchworklist", asSPA, list); rep.Status != 200 {
		t.Errorf("A023 as an admin: %d", rep.Status)
	}
	svc := mustJSON(t, fhir.AdviceWorklistRequest(fhir.WorklistFilter{Service: a.Request.Service.ID}))
	if items, _ := fhir.DecodeAdviceWorklist(do(t, sb, "POST", crPath+"$ers.fetchworklist", asSPC, svc).Body); len(items) == 0 ||
		slices.ContainsFunc(items, func(it triage.AdviceItem) bool { return it.Service.ID != a.Request.Service.ID }) {
		t.Errorf("service filter: %d items", len(items))
	}
	for _, tt := range []struct {
		who  as
		body []byte
		want int
		code string
	}{
		{asRC, list, 403, ""},
		{asSPC, mustJSON(t, fhir.WorklistRequest(triage.ListReferralsForReview, fhir.WorklistFilter{})), 422, "INVALID_CODE"},
		{asSPC, mustJSON(t, fhir.AdviceWorklistRequest(fhir.WorklistFilter{Service: "40001"})), 422, "NO_RELATIONSHIP"},
		{asSPC, []byte(`{"resourceType":"Parameters","parameter":[]}`), 422, "MISSING_VALUE"},
	} {
		if rep := do(t, sb, "POST", crPath+"$ers.fetchworklist", tt.who, tt.body); rep.Status != tt.want || rep.code() != tt.code {
			t.Errorf("A023 %s: %d %s, want %d %s", tt.body, rep.Status, rep.code(), tt.want, tt.code)
		}
	}

	// A024: the summary with its ETag; the current version only.
	rep = do(t, sb, "GET", crPath+u, asSPC, nil)
	req, err := fhir.DecodeAdviceRequest(rep.Body)
	if rep.Status != 200 || err != nil || rep.Header.Get("ETag") != etag(v) || req.Version != v || len(req.Documents) == 0 {
		t.Fatalf("A024: %d %v %q", rep.Status, err, rep.Header.Get("ETag"))
	}
	if rep := do(t, sb, "GET", crPath+u+fmt.Sprintf("/_history/%d", v), asSPC, nil); rep.Status != 200 {
		t.Errorf("A024 current version: %d", rep.Status)
	}
	for _, tt := range []struct {
		path string
		who  as
		want int
		code string
	}{
		{crPath + u + fmt.Sprintf("/_history/%d", v-1), asSPC, 404, "HISTORY_NOT_SUPPORTED"},
		{crPath + "999999999999", asSPC, 404, "REFERENCE_NOT_FOUND"},
		{crPath + other, asSPC, 422, "NO_RELATIONSHIP"},
		{crPath + u, asRCD, 422, "NO_RELATIONSHIP"},
		{crPath + u, asSPA, 403, ""},
	} {
		if rep := do(t, sb, "GET", tt.path, tt.who, nil); rep.Status != tt.want || rep.code() != tt.code {
			t.Errorf("A024 %s: %d %s, want %d %s", tt.path, rep.Status, rep.code(), tt.want, tt.code)
		}
	}

	// A025: the conversation, with what was included.
	based := fmt.Sprintf("/STU3/Communication?based-on=CommunicationRequest/%s/_history/%d", u, v)
	rep = do(t, sb, "GET", based+includeAll, asSPC, nil)
	conv, err := fhir.DecodeAdviceConversation(rep.Body)
	if rep.Status != 200 || err != nil || !reflect.DeepEqual(conv.Messages, a.Conversation.Messages) {
		t.Fatalf("A025: %d %v\n got %+v\nwant %+v", rep.Status, err, conv, a.Conversation)
	}
	if !bytes.Contains(rep.Body, []byte(`"mode":"include"`)) {
		t.Error("A025 included nothing")
	}
	if rep := do(t, sb, "GET", based, asSPC, nil); rep.Status != 200 || bytes.Contains(rep.Body, []byte(`"mode":"include"`)) {
		t.Errorf("A025 without _include: %d, includes %v", rep.Status, bytes.Contains(rep.Body, []byte(`"mode":"include"`)))
	}
	for _, tt := range []struct {
		path string
		want int
		code string
	}{
		{fmt.Sprintf("/STU3/Communication?based-on=CommunicationRequest/%s/_history/%d", u, v-1), 400, "HISTORY_NOT_SUPPORTED"},
		{"/STU3/Communication", 400, "MISSING_PARAMETER"},
		{"/STU3/Communication?based-on=ReferralRequest/" + u, 400, "INVALID_VALUE"},
		{based + "&_include=Communication:recipient", 400, "INVALID_VALUE"},
		{"/STU3/Communication?based-on=CommunicationRequest/999999999999/_history/1", 404, "REFERENCE_NOT_FOUND"},
	} {
		if rep := do(t, sb, "GET", tt.path, asSPC, nil); rep.Status != tt.want || rep.code() != tt.code {
			t.Errorf("A025 %s: %d %s, want %d %s", tt.path, rep.Status, rep.code(), tt.want, tt.code)
		}
	}

	// A043: the overview PDF.
	rep = do(t, sb, "POST", crPath+u+"/$ers.generateCRI", asSPC, nil)
	if rep.Status != 200 || !bytes.HasPrefix(rep.Body, []byte("%PDF")) || rep.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(rep.Header.Get("Content-Disposition"), u+"_Advice_And_Guidance_") {
		t.Errorf("A043: %d %q", rep.Status, rep.Header.Get("Content-Disposition"))
	}

	// A042: the request's files download for the provider, not for another
	// trust.
	doc := a.Request.Documents[0]
	rep = do(t, sb, "GET", "/R4/Binary/"+doc.ID, asSPC, nil)
	if doc.Availability == triage.AvailabilityAvailable && rep.Status != http.StatusTemporaryRedirect {
		t.Errorf("A042 of an A&G file: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+doc.ID, asRCD, nil); rep.Status != http.StatusForbidden {
		t.Errorf("A042 of another trust's A&G file: %d", rep.Status)
	}
}

func TestAdviceReplyRulesAndStatusCodes(t *testing.T) {
	sb := start(t, Config{})
	used := map[string]bool{}
	send := func(u string, version int, body any, who ...as) reply {
		w := asSPC
		if len(who) > 0 {
			w = who[0]
		}
		hdr := []string{}
		if version > 0 {
			hdr = ifm(version)
		}
		return do(t, sb, "POST", crPath+u+"/$ers.sendCommunicationToRequester", w, body, hdr...)
	}
	a := freshAdvice(t, sb, used, nil)
	u, v := a.Request.UBRN, a.Request.Version
	with := func(mutate func(r *triage.AdviceReply)) []byte {
		r := advice
		mutate(&r)
		p, _ := fhir.AdviceReplyParameters(r)
		if p == nil {
			// Bodies the client would not build.
			p, _ = fhir.AdviceReplyParameters(furtherInfo)
			switch {
			case r.Recommendation == "":
				p.Parameter = slices.DeleteFunc(p.Parameter, func(pp fhir.Parameter) bool { return pp.Name == "guidanceIntendedRecommendation" })
				p.Parameter[0].ValueCoding.Code = string(triage.GuidanceReturnWithAdvice)
			case r.Outcome == triage.GuidanceProviderConverted:
				p.Parameter[0].ValueCoding.Code = string(triage.GuidanceProviderConverted)
			}
		}
		return mustJSON(t, p)
	}
	for _, tt := range []struct {
		name    string
		version int
		body    []byte
		who     as
		want    int
		code    string
	}{
		{"no If-Match", 0, replyBody(t, advice), asSPC, 412, "MISSING_HEADER"},
		{"stale version", v - 1, replyBody(t, advice), asSPC, 409, "CONFLICT"},
		{"advice without a recommendation", v, with(func(r *triage.AdviceReply) { r.Recommendation = "" }), asSPC, 422, "VALUE_IS_REQUIRED"},
		{"converted as a reply", v, with(func(r *triage.AdviceReply) { r.Outcome = triage.GuidanceProviderConverted }), asSPC, 422, "INVALID_CODE"},
		{"further information with a recommendation", v, with(func(r *triage.AdviceReply) { r.Outcome = triage.GuidanceRequestFurtherInfo }), asSPC, 422, "FIELD_NOT_PERMITTED"},
		{"8001 characters", v, with(func(r *triage.AdviceReply) { r.Guidance = strings.Repeat("é", triage.MaxGuidanceLength+1) }), asSPC, 422, "INVALID_VALUE"},
		{"blank guidance", v, with(func(r *triage.AdviceReply) { r.Guidance = "  " }), asSPC, 422, "VALUE_IS_REQUIRED"},
		{"a priority that is not a code", v, with(func(r *triage.AdviceReply) { r.Priority = "SOON" }), asSPC, 422, "INVALID_CODE"},
		{"no updatedPriority", v, []byte(`{"resourceType":"Parameters","parameter":[{"name":"guidanceOutcome","valueCoding":{"code":"REQUIRE_FURTHER_INFORMATION"}},{"name":"guidance","valueString":"x"}]}`), asSPC, 422, "MISSING_VALUE"},
		{"an unknown parameter", v, []byte(`{"resourceType":"Parameters","parameter":[{"name":"reviewComments","valueString":"x"}]}`), asSPC, 422, "UNEXPECTED_FIELD"},
		{"a file not uploaded", v, with(func(r *triage.AdviceReply) {
			r.Attachments = []triage.ProviderAttachment{{BinaryID: "00000000-0000-4000-8000-000000000000"}}
		}), asSPC, 422, "REFERENCE_NOT_FOUND"},
		{"an admin", v, replyBody(t, advice), as{ODS: ProviderODS, Function: string(triage.RoleServiceProviderAdmin)}, 403, ""},
		{"another trust", v, replyBody(t, advice), as{ODS: SecondProviderODS, Function: string(triage.RoleServiceProviderClinician)}, 422, "NO_RELATIONSHIP"},
	} {
		if rep := send(u, tt.version, tt.body, tt.who); rep.Status != tt.want || rep.code() != tt.code {
			t.Errorf("%s: %d %s, want %d %s: %s", tt.name, rep.Status, rep.code(), tt.want, tt.code, rep.Body)
		}
	}
	if got, _ := sb.Advice(u); got.Request.Version != v || len(got.Conversation.Messages) != len(a.Conversation.Messages) {
		t.Fatalf("refused replies changed the request: v%d, %d messages", got.Request.Version, len(got.Conversation.Messages))
	}

	// A file uploaded with A020 for this request travels with the reply; one
	// uploaded for another request does not.
	upload := func(ubrn, name string) string {
		rep := do(t, sb, "POST", "/STU3/Binary", asSPC, []byte("%PDF-1.4 synthetic"), "Content-Type", "application/pdf",
			hdrFileName, name, hdrReferralID, ubrn)
		if rep.Status != http.StatusCreated {
			t.Fatalf("A020 for %s: %d %s", ubrn, rep.Status, rep.Body)
		}
		return strings.TrimPrefix(rep.Header.Get("Location"), "Binary/")
	}
	b := freshAdvice(t, sb, used, nil)
	foreign := upload(b.Request.UBRN, "plan.pdf")
	if rep := send(u, v, with(func(r *triage.AdviceReply) {
		r.Attachments = []triage.ProviderAttachment{{BinaryID: foreign, Description: "Plan"}}
	})); rep.Status != 422 || rep.code() != "INAPPROPRIATE_VALUE" {
		t.Errorf("a file uploaded for another request: %d %s", rep.Status, rep.code())
	}
	id := upload(u, "plan.pdf")
	rep := send(u, v, with(func(r *triage.AdviceReply) {
		r.Attachments = []triage.ProviderAttachment{{BinaryID: id, Description: "Plan"}}
	}))
	req, m, err := fhir.DecodeAdviceReplyResponse(rep.Body)
	if rep.Status != 200 || err != nil || req.Version != v+1 || rep.Header.Get("ETag") != etag(v+1) || req.Category != triage.AdviceReferrerReviewing ||
		len(m.Documents) != 1 || m.Documents[0].Type != triage.AttachmentGuidanceResponse || m.Author.SDSUserID == "" {
		t.Fatalf("reply: %d %v %+v %+v", rep.Status, err, req, m)
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+id, asSPC, nil); rep.Status != http.StatusTemporaryRedirect {
		t.Errorf("the reply's file: %d", rep.Status)
	}
	// Now the referrer is reviewing: another reply is not the provider's turn.
	if rep := send(u, v+1, replyBody(t, furtherInfo)); rep.Status != 422 || rep.code() != "INVALID_REQUEST_STATE" {
		t.Errorf("reply while the referrer reviews: %d %s", rep.Status, rep.code())
	}

	// A concurrent reply gets 423 while the first holds the lock.
	c := freshAdvice(t, sb, used, nil)
	gate, err := sb.HoldNextWrite(c.Request.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	var first reply
	var wg sync.WaitGroup
	wg.Go(func() { first = send(c.Request.UBRN, c.Request.Version, replyBody(t, furtherInfo)) })
	<-gate.Entered()
	if second := send(c.Request.UBRN, c.Request.Version, replyBody(t, advice)); second.Status != http.StatusLocked {
		t.Errorf("second reply while the first holds the lock: %d, want 423", second.Status)
	}
	gate.Release()
	wg.Wait()
	if first.Status != 200 {
		t.Errorf("first reply: %d %s", first.Status, first.Body)
	}

	// The write log has every reply, applied or refused, with its message.
	var applied, refused int
	for _, w := range sb.Stats().Writes {
		if w.Op != "A026" {
			continue
		}
		if w.Applied {
			applied++
			if w.MessageID == "" || w.Status != 200 {
				t.Errorf("applied write %+v", w)
			}
		} else {
			refused++
		}
	}
	if applied != 2 || refused != 16 {
		t.Errorf("write log: %d applied, %d refused", applied, refused)
	}
}

// TestPublishedAdviceExampleRequestsAccepted sends the published A023, A026
// and A027 request bodies, unchanged, for requests in a matching state.
func TestPublishedAdviceExampleRequestsAccepted(t *testing.T) {
	testutil.ExamplesDir(t)
	sb := start(t, Config{AdviceRequests: 60})
	const ex = "stu3/"
	rep := do(t, sb, "POST", crPath+"$ers.fetchworklist", asSPC, testutil.Example(t, ex+"retrieveAdviceAndGuidanceWorklist/requests/MinimalAdviceAndGuidanceRequests.json"))
	if _, err := fhir.DecodeAdviceWorklist(rep.Body); rep.Status != 200 || err != nil {
		t.Errorf("A023: %d %v", rep.Status, err)
	}
	used := map[string]bool{}
	for _, name := range []string{"ReturnToReferrerWithAdvice", "RequireFurtherInformation", "AttachmentIncluded"} {
		a := freshAdvice(t, sb, used, nil)
		if name == "AttachmentIncluded" {
			if err := sb.PutUpload("19eb7224-dff3-4730-a5cb-67eac811f1a5", a.Request.UBRN, "TreatmentSpecification.pdf", "application/pdf", []byte("%PDF-1.4 synthetic")); err != nil {
				t.Fatal(err)
			}
		}
		rep := do(t, sb, "POST", crPath+a.Request.UBRN+"/$ers.sendCommunicationToRequester", asSPC,
			testutil.Example(t, ex+"sendAdviceAndGuidanceResponse/requests/"+name+".json"), ifm(a.Request.Version)...)
		if _, _, err := fhir.DecodeAdviceReplyResponse(rep.Body); rep.Status != 200 || err != nil {
			t.Errorf("A026 %s: %d %v %s", name, rep.Status, err, rep.Body)
		}
	}
	// The A027 examples name 000000070000 at version 3: the sandbox's
	// requests have other UBRNs, so the bodies are sent with those
	// swapped in and otherwise unchanged.
	for _, name := range []string{"NoAttachments", "WithAttachments"} {
		a := freshAdvice(t, sb, used, func(a AdviceState) bool { return a.Request.Conversion.Allows() })
		if name == "WithAttachments" {
			for id, f := range map[string]string{"badaf6fc-90f4-411d-999f-04ccd79fa166": "medication.pdf", "38dc19ab-893f-47ca-8db0-2d0a07c0e387": "letter.pdf"} {
				if err := sb.PutUpload(id, a.Request.UBRN, f, "application/pdf", []byte("%PDF-1.4 synthetic")); err != nil {
					t.Fatal(err)
				}
			}
		}
		body := bytes.Replace(testutil.Example(t, ex+"convertAdviceAndGuidanceToReferral/requests/"+name+".json"),
			[]byte("CommunicationRequest/000000070000/_history/3"), fmt.Appendf(nil, "CommunicationRequest/%s/_history/%d", a.Request.UBRN, a.Request.Version), 1)
		rep := do(t, sb, "POST", rrPath+"$ers.createFromCommunicationRequestActionLater", asSPC, body)
		ref, err := fhir.DecodeReferral(rep.Body)
		if rep.Status != http.StatusCreated || err != nil || ref.AdviceUBRN != a.Request.UBRN {
			t.Errorf("A027 %s: %d %v %s", name, rep.Status, err, rep.Body)
		}
	}
}

func TestAdviceControlAPI(t *testing.T) {
	sb := start(t, Config{})
	ctl := sb.ControlURL()
	used := map[string]bool{}
	a := freshAdvice(t, sb, used, nil)
	u := a.Request.UBRN
	if rep := do(t, sb, "GET", ctl+"/advice", as{}, nil); rep.Status != 200 || !strings.Contains(string(rep.Body), u) {
		t.Errorf("list: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", ctl+"/advice/"+u, as{}, nil); rep.Status != 200 || !strings.Contains(string(rep.Body), `"conversation"`) {
		t.Errorf("get: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "GET", ctl+"/advice/999999999999", as{}, nil); rep.Status != 404 {
		t.Errorf("unknown: %d", rep.Status)
	}
	rep := do(t, sb, "POST", ctl+"/advice/"+u+"/reply", as{}, `{"text":"Further information (synthetic).","files":[{"fileName":"bloods.txt","contentType":"text/plain","data":"c3ludGhldGlj"}]}`)
	if rep.Status != 200 {
		t.Fatalf("reply: %d %s", rep.Status, rep.Body)
	}
	got, _ := sb.Advice(u)
	n := len(got.Conversation.Messages)
	last, note := got.Conversation.Messages[n-2], got.Conversation.Messages[n-1]
	if last.Text != "Further information (synthetic)." || len(last.Documents) != 1 || last.Documents[0].Type != triage.AttachmentAdviceRequest ||
		note.SentBy != triage.SentByClinicalInfoUpdated || got.Request.Version != a.Request.Version+1 {
		t.Errorf("after the referrer's reply: %+v %+v v%d", last, note, got.Request.Version)
	}
	if rep := do(t, sb, "GET", "/R4/Binary/"+last.Documents[0].ID, asSPC, nil); rep.Status != http.StatusTemporaryRedirect {
		t.Errorf("the referrer's file: %d", rep.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/advice/"+u+"/conversion", as{}, `{"allowed":false}`); rep.Status != 200 {
		t.Errorf("conversion: %d", rep.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/advice/"+u+"/conversion", as{}, `{}`); rep.Status != 400 {
		t.Errorf("conversion without a value: %d", rep.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/advice/"+u+"/lock", as{}, `{"ms":60000}`); rep.Status != 200 {
		t.Errorf("lock: %d", rep.Status)
	}
	got, _ = sb.Advice(u)
	if rep := do(t, sb, "POST", crPath+u+"/$ers.sendCommunicationToRequester", asSPC, replyBody(t, advice), ifm(got.Request.Version)...); rep.Status != http.StatusLocked {
		t.Errorf("reply while locked: %d", rep.Status)
	}
	b := freshAdvice(t, sb, used, nil)
	if rep := do(t, sb, "POST", ctl+"/advice/"+b.Request.UBRN+"/withdraw", as{}, nil); rep.Status != 200 {
		t.Errorf("withdraw: %d", rep.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/advice/"+b.Request.UBRN+"/close", as{}, nil); rep.Status != 400 || !strings.Contains(string(rep.Body), "ended") {
		t.Errorf("close after withdrawal: %d %s", rep.Status, rep.Body)
	}
	if got, _ := sb.Advice(b.Request.UBRN); got.Request.Category != triage.AdviceEndedCancelled || got.Request.Status != "cancelled" {
		t.Errorf("withdrawn: %s %s", got.Request.Category, got.Request.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/advice", as{}, `{"count":2}`); rep.Status != 200 || len(sb.AdviceList(nil)) != DefaultAdviceRequests+2 {
		t.Errorf("add: %d", rep.Status)
	}
}
