package fhir

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// syntheticAdvice is a request awaiting the provider's reply after two
// rounds, with files in both directions.
func syntheticAdvice() (*triage.AdviceRequest, *triage.AdviceConversation) {
	gp := triage.ClinicianRole{SDSUserID: "920000000017", ODS: "Y90001", BusinessFunction: triage.RoleReferringClinician}
	consultant := triage.ClinicianRole{SDSUserID: "910000000101", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician}
	doc := func(id string, typ triage.AttachmentType, av triage.AvailabilityStatus) triage.Document {
		return triage.Document{ID: id, URL: "Binary/" + id, Title: id + ".pdf", Description: "Synthetic " + string(typ), ContentType: "application/pdf",
			Size: 1234, Availability: av, Type: typ, AttachedBy: gp.SDSUserID, AttachedByOrg: gp.ODS,
			Created: ts("2026-02-20T00:00:00Z"), Indexed: ts("2026-02-20T09:00:00.125Z")}
	}
	req := &triage.AdviceRequest{UBRN: "200000000017", RequestID: "a.7f0c2a4e-1d7b-4c55-9a51-0c1c3e5f7a90", NHSNumber: "9990000018",
		Version: 7, Status: "active", Category: triage.AdviceResponseRequired, Priority: triage.PriorityUrgent,
		Specialty:  triage.Coding{System: specialtySystem, Code: "CARDIOLOGY", Display: "Cardiology"},
		ClinicType: triage.Coding{System: "https://sandbox.invalid/STU3/CodeSystem/CLINIC-TYPE", Code: "ARRHYTHMIA", Display: "Arrhythmia"},
		Service:    triage.Service{ID: "30002", Name: "Cardiology Referral Assessment Service"},
		Conversion: triage.ConversionAuthorised, Requester: gp,
		Documents: []triage.Document{doc("a1b2c3d4-0000-4000-8000-000000000001", triage.AttachmentAdviceRequest, triage.AvailabilityAvailable)}}
	conv := &triage.AdviceConversation{UBRN: req.UBRN, Version: 7, Messages: []triage.AdviceMessage{
		{ID: "80001", Sent: ts("2026-02-20T09:00:00.125Z"), SentBy: triage.SentByRequester, Author: gp, Text: "Palpitations for six weeks. Please advise.",
			Documents: []triage.Document{req.Documents[0]}, RequestUBRN: req.UBRN},
		{ID: "80002", Sent: ts("2026-02-21T14:30:00Z"), SentBy: triage.SentByResponder, Author: consultant, Text: "Please send a 12-lead ECG.", RequestUBRN: req.UBRN},
		{ID: "80003", Sent: ts("2026-02-23T08:15:00.5Z"), SentBy: triage.SentByRequester, Author: gp, Text: "ECG attached.\n\nRate 96, sinus.",
			Documents: []triage.Document{doc("a1b2c3d4-0000-4000-8000-000000000002", triage.AttachmentAdviceRequest, triage.AvailabilityPending)}, RequestUBRN: req.UBRN},
		{ID: "80004", Sent: ts("2026-02-23T08:15:03Z"), SentBy: triage.SentByClinicalInfoUpdated, Author: triage.ClinicianRole{SDSUserID: gp.SDSUserID, ODS: gp.ODS},
			Text: "NOTE: Clinical Information has been added/amended", RequestUBRN: req.UBRN},
	}}
	return req, conv
}

func TestAdviceRoundTrips(t *testing.T) {
	req, conv := syntheticAdvice()
	back, err := DecodeAdviceRequest(mustJSON(t, EncodeAdviceRequest(req)))
	if err != nil || !reflect.DeepEqual(back, req) {
		t.Errorf("request:\n got %+v %v\nwant %+v", back, err, req)
	}
	all := ConversationEncoding{IncludeRequesterRoles: true, IncludeSenderRoles: true, IncludeDocuments: true, ServiceID: "30002", ProviderODS: "R69"}
	c, err := DecodeAdviceConversation(mustJSON(t, EncodeAdviceConversation(conv, all)))
	if err != nil || !reflect.DeepEqual(c, conv) {
		t.Errorf("conversation:\n got %+v %v\nwant %+v", c, err, conv)
	}
	m := conv.Messages[2]
	req2, m2, err := DecodeAdviceReplyResponse(mustJSON(t, EncodeAdviceReplyResponse(req, m, "R69")))
	if err != nil || !reflect.DeepEqual(req2, req) || !reflect.DeepEqual(m2, m) {
		t.Errorf("reply response:\n got %+v %v", m2, err)
	}
	items := []triage.AdviceItem{{UBRN: req.UBRN, NHSNumber: req.NHSNumber, Priority: req.Priority, Specialty: req.Specialty,
		ClinicType: req.ClinicType, Service: req.Service, Category: req.Category, FirstRequested: conv.Messages[0].Sent,
		LastUpdated: conv.Messages[3].Sent, Referrer: "920000000017", NamedClinician: "910000000101", Version: 7}}
	gotItems, err := DecodeAdviceWorklist(mustJSON(t, EncodeAdviceWorklist(items)))
	if err != nil || !reflect.DeepEqual(gotItems, items) {
		t.Errorf("worklist:\n got %+v %v", gotItems, err)
	}
}

// Every message is kept, in the order sent, whoever sent it and whatever
// e-RS left out (HAZ-31): a sender code Triage Desk does not know counts as
// the referrer's, a file that was not included keeps its id, an author that
// was not included is read from the reference.
func TestAdviceConversationKeepsEveryMessageInOrder(t *testing.T) {
	req, conv := syntheticAdvice()
	conv.Messages[3].SentBy = "SOME_NEW_KIND_OF_NOTE"
	// Two messages at the same instant, listed newest first.
	conv.Messages = append(conv.Messages,
		triage.AdviceMessage{ID: "80006", Sent: ts("2026-02-24T10:00:00Z"), SentBy: triage.SentByRequester, Text: "Now breathless.", RequestUBRN: req.UBRN},
		triage.AdviceMessage{ID: "80005", Sent: ts("2026-02-24T10:00:00Z"), SentBy: triage.SentByRequester, Text: "Chest pain today.", RequestUBRN: req.UBRN})
	slices.Reverse(conv.Messages)
	bare := EncodeAdviceConversation(conv, ConversationEncoding{}) // no _include
	got, err := DecodeAdviceConversation(mustJSON(t, bare))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range got.Messages {
		ids = append(ids, m.ID)
	}
	if want := []string{"80001", "80002", "80003", "80004", "80005", "80006"}; !slices.Equal(ids, want) {
		t.Fatalf("order %v, want %v", ids, want)
	}
	if got.Messages[3].SentBy.FromProvider() || got.LatestID() != "80006" {
		t.Errorf("unknown sender %q counted as the provider's, latest %s", got.Messages[3].SentBy, got.LatestID())
	}
	if a := got.Messages[1].Author; a.SDSUserID != "910000000101" || a.ODS != "R69" || a.BusinessFunction != triage.RoleServiceProviderClinician {
		t.Errorf("author read from the reference: %+v", a)
	}
	if d := got.Messages[2].Documents; len(d) != 1 || d[0].ID != "a1b2c3d4-0000-4000-8000-000000000002" || d[0].Availability != "" {
		t.Errorf("a file that was not included: %+v", d)
	}
	var unanswered []string
	for _, m := range got.Unanswered() {
		unanswered = append(unanswered, m.ID)
	}
	if !slices.Equal(unanswered, []string{"80003", "80004", "80005", "80006"}) {
		t.Errorf("unanswered %v", unanswered)
	}
}

func TestAdviceDecodersRefuseMalformedWithoutPatientData(t *testing.T) {
	req, conv := syntheticAdvice()
	convJSON := string(mustJSON(t, EncodeAdviceConversation(conv, ConversationEncoding{})))
	reqJSON := string(mustJSON(t, EncodeAdviceRequest(req)))
	worklist := string(mustJSON(t, EncodeAdviceWorklist([]triage.AdviceItem{{UBRN: req.UBRN, NHSNumber: req.NHSNumber, FirstRequested: conv.Messages[0].Sent}})))
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
		want   string
	}{
		{"worklist not JSON", decodeWorklist, `{"resourceType":`, "decode advice worklist"},
		{"worklist of referrals", decodeWorklist, string(mustJSON(t, EncodeWorklist(triage.ListReferralsForReview,
			[]triage.WorklistItem{{UBRN: "1", NHSNumber: req.NHSNumber}}))), "not an advice and guidance worklist item"},
		{"worklist without patient", decodeWorklist, strings.Replace(worklist, `"url":"patient"`, `"url":"patientX"`, 1), "patient missing"},
		{"worklist item without reference", decodeWorklist, strings.Replace(worklist, `CommunicationRequest/`, `ReferralRequest/`, 1), "no CommunicationRequest reference"},
		{"worklist bad date", decodeWorklist, strings.Replace(worklist, `"2026-02-20T09:00:00.125Z"`, `"20 Feb"`, 1), "adviceFirstRequested"},
		{"worklist negative version", decodeWorklist, strings.Replace(worklist, `"valueInteger":0`, `"valueInteger":-3`, 1), "negative"},
		{"request of the wrong type", decodeRequest, `{"resourceType":"ReferralRequest","id":"1"}`, "unexpected resource type"},
		{"request without id", decodeRequest, strings.Replace(reqJSON, `"id":"200000000017",`, ``, 1), "no id"},
		{"request with a bad version", decodeRequest, strings.Replace(reqJSON, `"versionId":"7"`, `"versionId":"seven"`, 1), "versionId"},
		{"request with a bad attachment date", decodeRequest, strings.Replace(reqJSON, `"indexed":"2026-02-20T09:00:00.125Z"`, `"indexed":"x"`, 1), "indexed"},
		{"conversation of the wrong type", decodeConversation, `{"resourceType":"List"}`, "unexpected resource type"},
		{"message without id", decodeConversation, strings.Replace(convJSON, `"id":"80002",`, ``, 1), "no id"},
		{"message of no request", decodeConversation, strings.Replace(convJSON, `CommunicationRequest/200000000017/_history/7"}],"status":"completed","category":[{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationSentBy-1","code":"RESPONDER"`,
			`ReferralRequest/200000000017/_history/7"}],"status":"completed","category":[{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationSentBy-1","code":"RESPONDER"`, 1), "not based on an advice request"},
		{"two messages with one id", decodeConversation, strings.Replace(convJSON, `"id":"80003"`, `"id":"80001"`, 1), "same id"},
		{"message with a bad date", decodeConversation, strings.Replace(convJSON, `"sent":"2026-02-21T14:30:00.000Z"`, `"sent":"yesterday"`, 1), "sent"},
		{"reply response without message", decodeReply, `{"resourceType":"Parameters","parameter":[{"name":"updatedCommunicationRequest","resource":` + reqJSON + `}]}`, "no createdCommunication"},
		{"reply response without request", decodeReply, `{"resourceType":"Parameters","parameter":[]}`, "no updatedCommunicationRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == worklist || tt.body == reqJSON || tt.body == convJSON {
				t.Fatal("the test body was not changed")
			}
			err := tt.decode([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			for _, secret := range []string{req.NHSNumber, "Palpitations", "ECG", "Cardiology Referral"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains patient data %q", err, secret)
				}
			}
		})
	}
	// A reply response whose message belongs to another request.
	m := conv.Messages[1]
	m.RequestUBRN = "200000000030"
	if _, _, err := DecodeAdviceReplyResponse(mustJSON(t, EncodeAdviceReplyResponse(req, m, "R69"))); err == nil || !strings.Contains(err.Error(), "not based on the updated request") {
		t.Errorf("foreign message: %v", err)
	}
}

func decodeWorklist(b []byte) error     { _, err := DecodeAdviceWorklist(b); return err }
func decodeRequest(b []byte) error      { _, err := DecodeAdviceRequest(b); return err }
func decodeConversation(b []byte) error { _, err := DecodeAdviceConversation(b); return err }
func decodeReply(b []byte) error        { _, _, err := DecodeAdviceReplyResponse(b); return err }

func TestAdviceRequestBodiesRefused(t *testing.T) {
	reply := triage.AdviceReply{Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendOther, Guidance: "g", Priority: triage.PriorityRoutine}
	builders := []struct {
		name   string
		mutate func(r *triage.AdviceReply)
		want   string
	}{
		{"converted", func(r *triage.AdviceReply) { r.Outcome = triage.GuidanceProviderConverted }, "not an outcome"},
		{"no recommendation", func(r *triage.AdviceReply) { r.Recommendation = "" }, "recommendation"},
		{"no priority", func(r *triage.AdviceReply) { r.Priority = "" }, "priority"},
		{"not uploaded", func(r *triage.AdviceReply) { r.Attachments = []triage.ProviderAttachment{{FileName: "x.pdf"}} }, "not been uploaded"},
	}
	for _, b := range builders {
		r := reply
		b.mutate(&r)
		if _, err := AdviceReplyParameters(r); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	conv := triage.AdviceConversion{UBRN: "200000000017", BaseVersion: 7, Priority: triage.PriorityUrgent}
	if _, err := AdviceConversionParameters(triage.AdviceConversion{UBRN: "1", Priority: triage.PriorityUrgent}); err == nil {
		t.Error("conversion without a version built")
	}
	c := conv
	c.ReviewAttachments = []triage.ProviderAttachment{{FileName: "x.pdf"}}
	if _, err := AdviceConversionParameters(c); err == nil || !strings.Contains(err.Error(), "review attachment 0 has not been uploaded") {
		t.Errorf("review attachment not uploaded: %v", err)
	}

	param := func(name, value string) string { return `{"name":"` + name + `",` + value + `}` }
	outcome := param("guidanceOutcome", `"valueCoding":{"code":"REQUIRE_FURTHER_INFORMATION"}`)
	priority := param("updatedPriority", `"valueCoding":{"code":"URGENT"}`)
	body := func(ps ...string) []byte {
		return []byte(`{"resourceType":"Parameters","parameter":[` + strings.Join(ps, ",") + `]}`)
	}
	replies := []struct {
		body []byte
		want string
	}{
		{body(outcome), `"updatedPriority" is missing`},
		{body(priority), `"guidanceOutcome" is missing`},
		{body(outcome, priority, param("comments", `"valueString":"x"`)), "unknown parameter"},
		{body(outcome, outcome, priority), "repeated"},
		{body(outcome, priority, param("guidance", `"valueCoding":{"code":"X"}`)), "wrongly typed"},
		{body(outcome, priority, param("guidanceAttachmentFile", `"resource":{"resourceType":"DocumentReference","content":[{"attachment":{"url":"http://elsewhere/x"}}]}`)), "Binary"},
		{[]byte(`{"resourceType":"Bundle"}`), "unexpected resource type"},
	}
	for _, r := range replies {
		if _, err := ParseAdviceReplyParameters(r.body); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("A026 %s: %v, want %q", r.body, err, r.want)
		}
	}
	// Two attachments are allowed.
	att := param("guidanceAttachmentFile", `"resource":{"resourceType":"DocumentReference","indexed":"2026-03-02T10:00:00.000000+00:00","content":[{"attachment":{"url":"Binary/abc"}}]}`)
	if r, err := ParseAdviceReplyParameters(body(outcome, priority, att, att)); err != nil || len(r.Attachments) != 2 || r.Attachments[0].AttachedAt != ts("2026-03-02T10:00:00Z") {
		t.Errorf("two attachments: %+v %v", r, err)
	}

	from := func(ref string) string { return param("createFrom", `"valueReference":{"reference":"`+ref+`"}`) }
	newPriority := param("newReferralPriority", `"valueCoding":{"code":"URGENT"}`)
	conversions := []struct {
		body []byte
		want string
	}{
		{body(from("CommunicationRequest/200000000017"), newPriority), "_history"},
		{body(from("ReferralRequest/200000000017/_history/3"), newPriority), "_history"},
		{body(from("CommunicationRequest/200000000017/_history/0"), newPriority), "_history"},
		{body(newPriority), `"createFrom" is missing`},
		{body(from("CommunicationRequest/200000000017/_history/3")), `"newReferralPriority" is missing`},
		{body(from("CommunicationRequest/200000000017/_history/3"), newPriority, param("guidanceOutcome", `"valueCoding":{"code":"X"}`)), "unknown parameter"},
	}
	for _, c := range conversions {
		if _, err := ParseAdviceConversionParameters(c.body); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("A027 %s: %v, want %q", c.body, err, c.want)
		}
	}
}

func TestRoleFromID(t *testing.T) {
	tests := map[string]triage.ClinicianRole{
		"PractitionerRole/921600556514.R68.REFERRING-CLINICIAN":         {SDSUserID: "921600556514", ODS: "R68", BusinessFunction: triage.RoleReferringClinician},
		"#PractitionerRole.103264994981.R69.SERVICE-PROVIDER-CLINICIAN": {SDSUserID: "103264994981", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician},
		"PractitionerRole/103264992985.R69":                             {SDSUserID: "103264992985", ODS: "R69"},
		"PractitionerRole/abc.R69.X":                                    {},
		"PractitionerRole/123":                                          {},
		"":                                                              {},
		"PractitionerRole/1.2.3.4":                                      {},
	}
	for ref, want := range tests {
		if got := roleFromID(ref); got != want {
			t.Errorf("%q: %+v, want %+v", ref, got, want)
		}
	}
	r := triage.ClinicianRole{SDSUserID: "910000000101", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinicianAdmin}
	if got := roleFromID(roleID(r)); got != r {
		t.Errorf("round trip %+v", got)
	}
}

func TestAdviceWorklistFilterSent(t *testing.T) {
	f := WorklistFilter{Service: "30002", Clinician: "910000000101"}
	b, err := json.Marshal(AdviceWorklistRequest(f))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseAdviceWorklistRequest(b)
	want := f
	want.ClinicianAssigned = IndicatorAssigned
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("filter %+v %v", got, err)
	}
	if _, _, err := ParseWorklistRequest(b); err != nil {
		t.Errorf("the referral parser reads the A023 body too: %v", err)
	}
}
