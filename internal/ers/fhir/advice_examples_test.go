package fhir

// Contract tests of Advice and Guidance against the published e-RS example
// payloads in ../shared/ers-examples (read in place; skipped with a message
// when absent): every example decodes, and the A023, A026 and A027 bodies
// built for the same inputs equal the examples.

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestContractAdviceWorklist(t *testing.T) {
	example := testutil.Example(t, "stu3/retrieveAdviceAndGuidanceWorklist/requests/MinimalAdviceAndGuidanceRequests.json")
	if ok, g, w := jsonEqual(t, mustMarshal(t, AdviceWorklistRequest(WorklistFilter{})), example); !ok {
		t.Errorf("A023 body differs from the example:\n got %s\nwant %s", g, w)
	}
	if f, err := ParseAdviceWorklistRequest(example); err != nil || !reflect.DeepEqual(f, WorklistFilter{}) {
		t.Errorf("parsed %+v %v", f, err)
	}
	// The referral worklist request is not an A&G worklist request.
	if _, err := ParseAdviceWorklistRequest(testutil.Example(t, "stu3/retrieveWorklist/requests/MinimalReferralsForReview.json")); err == nil {
		t.Error("a Referrals for Review request parsed as A023")
	}

	items, err := DecodeAdviceWorklist(testutil.Example(t, "stu3/retrieveAdviceAndGuidanceWorklist/responses/AdviceAndGuidanceRequests.json"))
	if err != nil {
		t.Fatal(err)
	}
	service := triage.Service{ID: "11014", Name: "Advice Only"}
	clinic := triage.Coding{System: "_baseUrl_/STU3/CodeSystem/CLINIC-TYPE", Code: "HEART_FAILURE"}
	cardio := triage.Coding{System: exampleSpecialtySystem, Code: "CARDIOLOGY"}
	want := []triage.AdviceItem{
		{UBRN: "000000070000", NHSNumber: "1000000001", Priority: triage.PriorityRoutine, Specialty: cardio, ClinicType: clinic,
			Service: service, Category: triage.AdviceResponseRequired, FirstRequested: ts("2021-09-08T13:17:27.655Z"),
			LastUpdated: ts("2021-09-08T13:17:27.655Z"), Referrer: "021600556514", Version: 10},
		{UBRN: "000000070002", NHSNumber: "9462979626", Priority: triage.PriorityTwoWeekWait, Specialty: cardio, ClinicType: clinic,
			Service: service, Category: triage.AdviceAwaitingInformation, FirstRequested: ts("2021-09-08T13:17:29.248Z"),
			LastUpdated: ts("2021-09-08T13:17:29.860Z"), Referrer: "921600556514", Version: 10},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n got %+v\nwant %+v", items, want)
	}
	// The sandbox's encoding of the same items decodes to the same items.
	back, err := DecodeAdviceWorklist(mustMarshal(t, EncodeAdviceWorklist(items)))
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip:\n got %+v %v", back, err)
	}
}

func TestContractAdviceRequests(t *testing.T) {
	requester := func(sds string) triage.ClinicianRole {
		ods := "R69"
		if sds == "921600556514" {
			ods = "R68"
		}
		return triage.ClinicianRole{SDSUserID: sds, ODS: ods, BusinessFunction: triage.RoleReferringClinician}
	}
	tests := []struct {
		file      string
		ubrn      string
		requestID string
		requester triage.ClinicianRole
		docs      []triage.AvailabilityStatus
	}{
		{"MinimalExample.json", "000000070000", "a.c18c4ec4-7d0a-480e-8506-347e0ec228b0", requester("921600556514"), nil},
		{"WithAttachmentFileReference.json", "000000070001", "a.c18c4ec4-7d0a-480e-8506-347e0ec228b1", requester("103264992985"),
			[]triage.AvailabilityStatus{triage.AvailabilityAvailable}},
		{"WithUnavailableAttachments.json", "000000070002", "a.c18c4ec4-7d0a-480e-8506-347e0ec228b2", requester("103264992985"),
			[]triage.AvailabilityStatus{triage.AvailabilityThreatsFound, triage.AvailabilityValidationFailed, triage.AvailabilityPending}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := DecodeAdviceRequest(testutil.Example(t, "stu3/retrieveAdviceAndGuidanceRequest/responses/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.UBRN != tt.ubrn || r.RequestID != tt.requestID || r.Version != 5 || r.Status != "active" ||
				r.Category != triage.AdviceResponseRequired || r.Conversion != triage.ConversionAuthorised || !r.Conversion.Allows() {
				t.Errorf("request %+v", r)
			}
			if r.NHSNumber != "9912003888" || r.Priority != triage.PriorityRoutine || r.Specialty.Code != "CARDIOLOGY" ||
				r.Specialty.Display != "Cardiology" || r.ClinicType.Code != "HEART_FAILURE" || r.Service.ID != "11014" {
				t.Errorf("request %+v", r)
			}
			if r.Requester != tt.requester {
				t.Errorf("requester %+v, want %+v", r.Requester, tt.requester)
			}
			var av []triage.AvailabilityStatus
			for _, d := range r.Documents {
				av = append(av, d.Availability)
				if BinaryID(d.URL) == "" || d.Type != triage.AttachmentReferrer {
					t.Errorf("document %+v", d)
				}
			}
			if !slices.Equal(av, tt.docs) {
				t.Errorf("availability %v, want %v", av, tt.docs)
			}
			// The sandbox's encoding of the request decodes to the same.
			back, err := DecodeAdviceRequest(mustMarshal(t, EncodeAdviceRequest(r)))
			if err != nil || !reflect.DeepEqual(back, r) {
				t.Errorf("round trip:\n got %+v %v\nwant %+v", back, err, r)
			}
		})
	}
	// The referrer side's create responses carry the same resources.
	for _, f := range []string{"ExampleRCWithoutAttachments.json", "ExampleRCAWithAttachments.json"} {
		p := mustParameters(t, testutil.Example(t, "stu3/createAdviceAndGuidance/responses/"+f))
		r, err := AdviceRequestFromFHIR(p.Get("createdCommunicationRequest").Resource.CommunicationReq)
		if err != nil || r.Version != 1 || r.Category != triage.AdviceResponseRequired || r.Conversion == "" {
			t.Errorf("%s: %+v %v", f, r, err)
		}
		m, ubrn, v, err := messageFromFHIR(p.Get("createdCommunication").Resource.Communication, resolver{})
		if err != nil || ubrn != r.UBRN || v != 1 || m.SentBy != triage.SentByRequester || m.Text == "" {
			t.Errorf("%s: message %+v %s %d %v", f, m, ubrn, v, err)
		}
	}
}

func mustParameters(t *testing.T, b []byte) *Parameters {
	t.Helper()
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestContractAdviceConversations(t *testing.T) {
	referrer := triage.ClinicianRole{SDSUserID: "921600556514", ODS: "R68", BusinessFunction: triage.RoleReferringClinician}
	provider := triage.ClinicianRole{SDSUserID: "103264994981", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician}
	req, resp := triage.SentByRequester, triage.SentByResponder
	type msg struct {
		id     string
		by     triage.MessageSender
		author triage.ClinicianRole
		text   string
		docs   []string // id:type:availability
	}
	tests := []struct {
		file    string
		ubrn    string
		version int
		msgs    []msg
		foreign bool // a message is based on another request
	}{
		{"SingleMessageFromReferrer.json", "000000070000", 1, []msg{
			{"70000", req, triage.ClinicianRole{SDSUserID: "103264992985", ODS: "R69", BusinessFunction: triage.RoleReferringClinician},
				"Please advise me on this patient who ...(information about patient)", nil}}, false},
		{"OneMessageEachWay.json", "000000070000", 2, []msg{
			{"70000", req, triage.ClinicianRole{SDSUserID: "021600556514", ODS: "R68", BusinessFunction: triage.RoleReferringClinician},
				"Please advise me on this patient who ...(information about patient)", nil},
			{"70001", resp, triage.ClinicianRole{SDSUserID: "021600556514", ODS: "R68", BusinessFunction: triage.RoleServiceProviderClinician},
				"Please perform xxx test and send me the results", nil}}, false},
		// Listed 70000, 70003, 70001, 70002; 70002 and 70003 were sent at
		// the same instant.
		{"MultiWayConversation.json", "000000070002", 6, []msg{
			{"70000", req, referrer, "Please advise me on this patient who ...(information about patient)", nil},
			{"70001", req, referrer, "Patient is complaining of breathing difficulties", nil},
			{"70002", resp, provider, "Request xxx test results", nil},
			{"70003", resp, provider, "Also request yyy test results", nil}}, false},
		{"AttachmentPresentInEachDirection.json", "000000070001", 6, []msg{
			{"70000", req, referrer, "Please advise me on this patient who ...(information about patient)", []string{"70000:ADVICE_REQUEST:AVAILABLE"}},
			{"70001", resp, provider, "Please perform xxx test and send me the results", []string{"70001:GUIDANCE_RESPONSE:AVAILABLE"}}}, false},
		{"AttachmentUploadedFromRCS.json", "000000070007", 7, []msg{
			{"70000", req, triage.ClinicianRole{SDSUserID: "103264992985", ODS: "R69", BusinessFunction: triage.RoleReferringClinicianAdmin},
				"some notes", []string{"70000:ADVICE_REQUEST:AVAILABLE"}},
			{"70001", triage.SentByClinicalInfoUpdated, triage.ClinicianRole{SDSUserID: "103264992985", ODS: "R69"},
				"NOTE: Clinical Information has been added/amended", nil}}, false},
		// The published example's second message is based on another
		// request (000000070001): it decodes, and BelongsTo refuses it.
		{"UnavailableAttachments.json", "000000070003", 6, []msg{
			{"70000", req, referrer, "Please advise me on this patient who ...(information about patient)", []string{"70000:ADVICE_REQUEST:PENDING"}},
			{"70003", resp, provider, "Please perform xxx test and send me the results",
				[]string{"70001:GUIDANCE_RESPONSE:THREATS_FOUND", "70002:GUIDANCE_RESPONSE:VALIDATION_FAILED"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			conv, err := DecodeAdviceConversation(testutil.Example(t, "stu3/retrieveAdviceAndGuidanceConversation/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if conv.UBRN != tt.ubrn || conv.Version != tt.version || len(conv.Messages) != len(tt.msgs) {
				t.Fatalf("conversation %s v%d with %d messages", conv.UBRN, conv.Version, len(conv.Messages))
			}
			if err := conv.BelongsTo(tt.ubrn); (err != nil) != tt.foreign {
				t.Errorf("BelongsTo(%s) = %v", tt.ubrn, err)
			}
			for i, w := range tt.msgs {
				m := conv.Messages[i]
				var docs []string
				for _, d := range m.Documents {
					docs = append(docs, d.ID+":"+string(d.Type)+":"+string(d.Availability))
					if BinaryID(d.URL) == "" || d.Title == "" {
						t.Errorf("message %s: document %+v", m.ID, d)
					}
				}
				if m.ID != w.id || m.SentBy != w.by || m.Author != w.author || m.Text != w.text || !slices.Equal(docs, w.docs) || m.Sent.IsZero() {
					t.Errorf("message %d:\n got %+v %v\nwant %+v", i, m, docs, w)
				}
			}
			if tt.foreign {
				return
			}
			// The sandbox's encoding of the conversation decodes to the same.
			back, err := DecodeAdviceConversation(mustMarshal(t, EncodeAdviceConversation(conv,
				ConversationEncoding{IncludeRequesterRoles: true, IncludeSenderRoles: true, IncludeDocuments: true, ServiceID: "11014", ProviderODS: "R69"})))
			if err != nil || !reflect.DeepEqual(back, conv) {
				t.Errorf("round trip:\n got %+v %v\nwant %+v", back, err, conv)
			}
		})
	}
}

// adviceReplyExamples are the published A026 request examples, with the
// reply that must produce each.
var adviceReplyExamples = []struct {
	file string
	r    triage.AdviceReply
}{
	{"ReturnToReferrerWithAdvice.json", triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice,
		Recommendation: triage.RecommendAdviceOnly, Guidance: "No evidence of serious problem: patient can be advised to xxx",
		Priority: triage.PriorityRoutine}},
	{"RequireFurtherInformation.json", triage.AdviceReply{Outcome: triage.GuidanceRequestFurtherInfo,
		Guidance: "Please supply me with xxx test results", Priority: triage.PriorityTwoWeekWait}},
	{"AttachmentIncluded.json", triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendOther,
		Guidance: "Advise treatment as in attached document", Priority: triage.PriorityRoutine,
		Attachments: []triage.ProviderAttachment{{BinaryID: "19eb7224-dff3-4730-a5cb-67eac811f1a5", Description: "Treatment Specification",
			AttachedAt: ts("2021-09-29T13:22:35.335Z")}}}},
}

func TestContractAdviceReplyRequests(t *testing.T) {
	for _, tt := range adviceReplyExamples {
		t.Run(tt.file, func(t *testing.T) {
			example := testutil.Example(t, "stu3/sendAdviceAndGuidanceResponse/requests/"+tt.file)
			p, err := AdviceReplyParameters(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if ok, g, w := jsonEqual(t, mustMarshal(t, p), example); !ok {
				t.Errorf("A026 body differs from the example:\n got %s\nwant %s", g, w)
			}
			back, err := ParseAdviceReplyParameters(example)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.r) {
				t.Errorf("parsed back:\n got %+v\nwant %+v", back, tt.r)
			}
		})
	}
	// Without its own time, an attachment is indexed at the reply's time.
	r := adviceReplyExamples[2].r
	r.DecidedAt, r.Attachments = ts("2021-09-29T13:22:35.335Z"), []triage.ProviderAttachment{{BinaryID: r.Attachments[0].BinaryID, Description: r.Attachments[0].Description}}
	if ok, g, w := jsonEqual(t, mustMarshal(t, must(AdviceReplyParameters(r))), testutil.Example(t, "stu3/sendAdviceAndGuidanceResponse/requests/AttachmentIncluded.json")); !ok {
		t.Errorf("indexed at the reply time:\n got %s\nwant %s", g, w)
	}
}

func TestContractAdviceReplyResponses(t *testing.T) {
	tests := []struct {
		file     string
		category triage.AdviceCategory
		text     string
		docs     int
	}{
		{"ReturnToReferrerWithAdvice.json", triage.AdviceReferrerReviewing, "No evidence of serious problem: patient can be advised to xxx", 0},
		{"RequireFurtherInformation.json", triage.AdviceAwaitingInformation, "Please supply me with xxx test results", 0},
		{"AttachmentIncluded.json", triage.AdviceReferrerReviewing, "Advise treatment as in attached document", 1},
	}
	provider := triage.ClinicianRole{SDSUserID: "103264994981", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			req, m, err := DecodeAdviceReplyResponse(testutil.Example(t, "stu3/sendAdviceAndGuidanceResponse/responses/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if req.UBRN != "000000070000" || req.Version != 6 || req.Category != tt.category {
				t.Errorf("request %s v%d %s", req.UBRN, req.Version, req.Category)
			}
			if m.ID != "70001" || m.SentBy != triage.SentByResponder || m.Text != tt.text || m.Author != provider ||
				len(m.Documents) != tt.docs || m.RequestUBRN != "000000070000" {
				t.Errorf("message %+v", m)
			}
			for _, d := range m.Documents {
				if d.Type != triage.AttachmentGuidanceResponse || d.URL != "Binary/19eb7224-dff3-4730-a5cb-67eac811f1a5" {
					t.Errorf("document %+v", d)
				}
			}
			// The sandbox's encoding decodes to the same.
			req2, m2, err := DecodeAdviceReplyResponse(mustMarshal(t, EncodeAdviceReplyResponse(req, m, "R69")))
			if err != nil || !reflect.DeepEqual(req2, req) || !reflect.DeepEqual(m2, m) {
				t.Errorf("round trip:\n got %+v %+v %v", req2, m2, err)
			}
		})
	}
}

// adviceConversionExamples are the published A027 request examples, with
// the conversion that must produce each.
var adviceConversionExamples = []struct {
	file string
	c    triage.AdviceConversion
}{
	{"NoAttachments.json", triage.AdviceConversion{UBRN: "000000070000", BaseVersion: 3,
		Guidance: "I have converted this to send the patient to one of our services", Priority: triage.PriorityRoutine,
		ReviewComments: "Refer this patient to our 'xxx' service please as soon as possible"}},
	{"WithAttachments.json", triage.AdviceConversion{UBRN: "000000070000", BaseVersion: 3,
		Guidance: "Patient booked into our service. See attachment for best initial medication", Priority: triage.PriorityRoutine,
		ReviewComments: "Book patient to 'xxx' service to include attached file as referral letter",
		GuidanceAttachments: []triage.ProviderAttachment{{BinaryID: "badaf6fc-90f4-411d-999f-04ccd79fa166", Description: "Initial medication",
			AttachedAt: ts("2021-10-01T14:06:14.915Z")}},
		ReviewAttachments: []triage.ProviderAttachment{{BinaryID: "38dc19ab-893f-47ca-8db0-2d0a07c0e387", Description: "Referral letter",
			AttachedAt: ts("2021-10-01T14:06:14.919Z")}}}},
}

func TestContractAdviceConversionRequests(t *testing.T) {
	for _, tt := range adviceConversionExamples {
		t.Run(tt.file, func(t *testing.T) {
			example := testutil.Example(t, "stu3/convertAdviceAndGuidanceToReferral/requests/"+tt.file)
			p, err := AdviceConversionParameters(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if ok, g, w := jsonEqual(t, mustMarshal(t, p), example); !ok {
				t.Errorf("A027 body differs from the example:\n got %s\nwant %s", g, w)
			}
			back, err := ParseAdviceConversionParameters(example)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.c) {
				t.Errorf("parsed back:\n got %+v\nwant %+v", back, tt.c)
			}
		})
	}
}

func TestContractAdviceConversionResponses(t *testing.T) {
	dir := filepath.Join(testutil.ExamplesDir(t), "stu3", "convertAdviceAndGuidanceToReferral", "responses")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d conversion responses", len(files))
	}
	for _, f := range files {
		r, err := DecodeReferral(testutil.Example(t, "stu3/convertAdviceAndGuidanceToReferral/responses/"+filepath.Base(f)))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if r.UBRN != "000000070000" || r.Version != 4 || r.AdviceUBRN != "000000070000" || r.State.State != triage.StateTriagedProviderToAction ||
			r.State.Reason.Code != string(triage.OutcomeProviderConvertedAdvice) || r.Type != triage.ReferralTypeTriageDeferral || len(r.RelatedUBRNs) != 0 {
			t.Errorf("%s: %+v", filepath.Base(f), r)
		}
		if back, err := DecodeReferral(mustMarshal(t, EncodeReferral(r))); err != nil || back.AdviceUBRN != r.AdviceUBRN {
			t.Errorf("%s: round trip %+v %v", filepath.Base(f), back, err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
