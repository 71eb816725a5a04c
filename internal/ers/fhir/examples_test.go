package fhir

// Contract tests against the published e-RS example payloads in
// ../shared/ers-examples (read in place; skipped with a message when absent).

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// jsonEqual reports whether two JSON documents are equal as JSON values
// (object key order aside), and the canonical forms for a failure message.
func jsonEqual(t *testing.T, got, want []byte) (bool, string, string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("built body is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	return reflect.DeepEqual(g, w), string(gs), string(ws)
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const exampleSpecialtySystem = "_baseUrl_/STU3/CodeSystem/SPECIALTY"

func TestContractWorklistRequests(t *testing.T) {
	tests := []struct {
		file   string
		list   triage.ListType
		filter WorklistFilter
	}{
		{"MinimalReferralsForReview.json", triage.ListReferralsForReview, WorklistFilter{}},
		{"MinimalAppointmentSlotIssues.json", triage.ListAppointmentSlotIssues, WorklistFilter{}},
		{"FilteringByService.json", triage.ListReferralsForReview, WorklistFilter{Service: "21012"}},
		{"FilteringBySpecialty.json", triage.ListReferralsForReview, WorklistFilter{
			SpecialtyAssigned: IndicatorAssigned, Specialty: triage.Coding{System: exampleSpecialtySystem, Code: "CARDIOLOGY"}}},
		{"FilteringByClinician.json", triage.ListReferralsForReview, WorklistFilter{ClinicianAssigned: IndicatorAssigned, Clinician: "021600556514"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			example := testutil.Example(t, "stu3/retrieveWorklist/requests/"+tt.file)
			if ok, g, w := jsonEqual(t, mustMarshal(t, WorklistRequest(tt.list, tt.filter)), example); !ok {
				t.Errorf("body differs from the example:\n got %s\nwant %s", g, w)
			}
			list, f, err := ParseWorklistRequest(example)
			if err != nil {
				t.Fatal(err)
			}
			if list != tt.list || !reflect.DeepEqual(f, tt.filter) {
				t.Errorf("parsed %q %+v, want %q %+v", list, f, tt.list, tt.filter)
			}
		})
	}
}

func TestContractWorklistResponses(t *testing.T) {
	t.Run("ReferralsForReview", func(t *testing.T) {
		list, items, err := DecodeWorklist(testutil.Example(t, "stu3/retrieveWorklist/responses/ReferralsForReview.json"))
		if err != nil {
			t.Fatal(err)
		}
		if list != triage.ListReferralsForReview || len(items) != 2 {
			t.Fatalf("list %q with %d items", list, len(items))
		}
		want := []triage.WorklistItem{
			{List: list, UBRN: "000000070002", NHSNumber: "9462979626", Priority: triage.PriorityRoutine,
				Specialty: triage.Coding{System: exampleSpecialtySystem, Code: "CARDIOLOGY"},
				Service:   triage.Service{ID: "11012", Name: "Excellent Cardiology Business Service 12"},
				Type:      triage.ReferralTypeTriageDeferral, ContextStatus: triage.ContextNeverReviewed,
				PathwayStart: ts("2021-09-03T14:09:15.297Z"), ClinicalInfoFirstSubmitted: ts("2021-09-03T14:09:15.297Z"), Version: 7},
			{List: list, UBRN: "000000070001", NHSNumber: "1000000001", Priority: triage.PriorityRoutine,
				Specialty: triage.Coding{System: exampleSpecialtySystem, Code: "CARDIOLOGY"},
				Service:   triage.Service{ID: "21012", Name: "Another Excellent Cardiology Business Service 13"},
				Type:      triage.ReferralTypeAppointment, ContextStatus: triage.ContextNeverReviewed,
				PathwayStart: ts("2021-09-03T14:09:11.381Z"), ClinicalInfoFirstSubmitted: ts("2021-09-03T14:09:11.022Z"),
				ClinicalInfoLastUpdated: ts("2021-09-03T14:09:12.573Z"), AppointmentStart: ts("2021-09-05T15:09:03.971Z"),
				AllocatedClinician: "021600556514", Version: 12},
		}
		if !reflect.DeepEqual(items, want) {
			t.Errorf("items:\n got %+v\nwant %+v", items, want)
		}
	})
	t.Run("AppointmentSlotIssues", func(t *testing.T) {
		list, items, err := DecodeWorklist(testutil.Example(t, "stu3/retrieveWorklist/responses/AppointmentSlotIssues.json"))
		if err != nil {
			t.Fatal(err)
		}
		if list != triage.ListAppointmentSlotIssues || len(items) != 2 {
			t.Fatalf("list %q with %d items", list, len(items))
		}
		want := triage.WorklistItem{List: list, UBRN: "000000070001", NHSNumber: "1000000001", Priority: triage.PriorityRoutine,
			Specialty:    triage.Coding{System: exampleSpecialtySystem, Code: "CARDIOLOGY"},
			Service:      triage.Service{ID: "11013", Name: "Excellent Cardiology Business Service 13"},
			PathwayStart: ts("2021-09-03T14:16:53.119Z"), UBRNReceived: ts("2021-09-03T14:16:53.119Z"),
			PatientContactExpected: ts("2021-09-07T00:00:00Z"), ClinicalInformationStatus: "PRESENT", ReviewReason: "NO_SLOTS_AT_SERVICE"}
		if !reflect.DeepEqual(items[0], want) {
			t.Errorf("item:\n got %+v\nwant %+v", items[0], want)
		}
		if items[1].UBRN != "000000070000" || items[1].PatientContactExpected != ts("2021-09-13T00:00:00Z") {
			t.Errorf("second item %+v", items[1])
		}
	})
	filtered := []struct {
		file      string
		ubrns     []string
		versions  []int
		types     []triage.ReferralType
		allocated string
	}{
		{"FilteredByClinician.json", []string{"000000070000", "000000070001"}, []int{9, 12},
			[]triage.ReferralType{triage.ReferralTypeAppointment, triage.ReferralTypeAppointment}, "021600556514"},
		{"FilteredBySpecialty.json", nil, nil, nil, ""},
		{"FilteredByService.json", nil, nil, nil, ""},
	}
	for _, tt := range filtered {
		t.Run(tt.file, func(t *testing.T) {
			list, items, err := DecodeWorklist(testutil.Example(t, "stu3/retrieveWorklist/responses/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if list != triage.ListReferralsForReview || len(items) == 0 {
				t.Fatalf("list %q with %d items", list, len(items))
			}
			for _, it := range items {
				// Some published items lack the (1..1) service; that is tolerated.
				if it.UBRN == "" || it.NHSNumber == "" || it.Version <= 0 || it.Priority.Rank() > 2 {
					t.Errorf("incomplete item %+v", it)
				}
			}
			if tt.ubrns == nil {
				return
			}
			var ubrns []string
			var versions []int
			var types []triage.ReferralType
			for _, it := range items {
				ubrns, versions, types = append(ubrns, it.UBRN), append(versions, it.Version), append(types, it.Type)
			}
			if !slices.Equal(ubrns, tt.ubrns) || !slices.Equal(versions, tt.versions) || !slices.Equal(types, tt.types) ||
				items[0].AllocatedClinician != tt.allocated {
				t.Errorf("got %v %v %v %q", ubrns, versions, types, items[0].AllocatedClinician)
			}
		})
	}
}

func TestContractReferralResponses(t *testing.T) {
	tests := []struct {
		file     string
		ubrn     string
		version  int
		state    triage.ReferralState
		reason   string
		comments string
		typ      triage.ReferralType
		booking  triage.BookingKind
		priority triage.Priority
		related  []string
		docs     []triage.AvailabilityStatus
		service  string
	}{
		{"retrieveReferralRequest/responses/BookedDBS.json", "000000070001", 5, triage.StateBooked, "", "", triage.ReferralTypeAppointment,
			triage.BookingDirect, triage.PriorityRoutine, nil, []triage.AvailabilityStatus{"AVAILABLE"}, "11002"},
		{"retrieveReferralRequest/responses/BookedIBS.json", "000000070002", 5, triage.StateBooked, "", "", triage.ReferralTypeAppointment,
			triage.BookingIndirect, triage.PriorityRoutine, nil, []triage.AvailabilityStatus{"AVAILABLE"}, "11016"},
		{"retrieveReferralRequest/responses/DeferredToProvider.json", "000000070003", 5, triage.StateDeferredToProvider, "NO_SLOTS_AT_SERVICE", "",
			triage.ReferralTypeTriageDeferral, triage.BookingUnknown, triage.PriorityUrgent, nil, []triage.AvailabilityStatus{"AVAILABLE"}, "11010"},
		{"retrieveReferralRequest/responses/ConvertedFromAdviceAndGuidance.json", "000000070004", 5, triage.StateTriagedProviderToAction,
			"PROVIDER_CONVERTED_ADVICE_AND_GUIDANCE_ADMIN_TO_REFER", "Actually I'd rather not", triage.ReferralTypeTriageDeferral, triage.BookingUnknown,
			triage.PriorityTwoWeekWait, nil, []triage.AvailabilityStatus{"AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"}, "11014"},
		{"retrieveReferralRequest/responses/Unbooked.json", "000000070000", 5, triage.StateNotBooked, "", "", triage.ReferralTypeAppointment,
			"", triage.PriorityRoutine, nil, []triage.AvailabilityStatus{"AVAILABLE"}, ""},
		{"retrieveReferralRequest/responses/WithRelatedReferral.json", "000000070005", 5, triage.StateBooked, "", "", triage.ReferralTypeAppointment,
			triage.BookingDirect, triage.PriorityTwoWeekWait, []string{"000000070004"}, nil, "11002"},
		{"retrieveReferralRequest/responses/WithUnavailableAttachments.json", "000000070012", 5, triage.StateNotBooked, "", "", triage.ReferralTypeAppointment,
			"", triage.PriorityRoutine, nil, []triage.AvailabilityStatus{"PENDING", "THREATS_FOUND", "VALIDATION_FAILED"}, ""},
		{"retrieveReferralRequest/responses/WithAdditionalRequirements.json", "000000070011", 5, triage.StateBooked, "", "", triage.ReferralTypeAppointment,
			"", triage.PriorityRoutine, nil, []triage.AvailabilityStatus{"AVAILABLE"}, ""},
		{"acceptReferral/responses/ExampleResponse.json", "", 9, triage.StateBooked, "", "", triage.ReferralTypeAppointment,
			triage.BookingDirect, "", nil, []triage.AvailabilityStatus{"AVAILABLE"}, ""},
		{"rejectReferral/responses/ExampleResponseDbs.json", "", 10, triage.StateRejected, "SERVICE_INAPPROPRIATE", "This is a short comment",
			triage.ReferralTypeAppointment, triage.BookingUnknown, "", nil, nil, ""},
		{"rejectReferral/responses/ExampleResponseIbs.json", "", 10, triage.StateRejected, "OTHER", "This is a short comment",
			triage.ReferralTypeAppointment, triage.BookingUnknown, "", nil, nil, ""},
		{"recordTriageOutcome/responses/AcceptReferBookLater.json", "", 10, triage.StateTriagedProviderToAction, "ACCEPT_REFER_BOOK_LATER",
			"Urgent action needed. To be booked ASAP", triage.ReferralTypeTriageDeferral, triage.BookingUnknown, "", nil, nil, ""},
		{"recordTriageOutcome/responses/ReturnToReferrerWithAdvice.json", "", 10, triage.StateTriagedProviderToAction, "RETURN_TO_REFERRER_WITH_ADVICE",
			"Condition not serious. No further action needed", triage.ReferralTypeTriageDeferral, triage.BookingUnknown, "", nil, nil, ""},
		{"cancelAppointmentActionLater/responses/MinimalExampleDBS.json", "", 11, triage.StateTriagedProviderToAction, "CANCEL_APPOINTMENT_ACTION_LATER",
			"Please contact patient to rebook", triage.ReferralTypeTriageDeferral, triage.BookingUnknown, "", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := DecodeReferral(testutil.Example(t, "stu3/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ubrn != "" && r.UBRN != tt.ubrn {
				t.Errorf("UBRN = %s", r.UBRN)
			}
			if r.Version != tt.version || r.State.State != tt.state || r.State.Reason.Code != tt.reason || r.State.Comments != tt.comments {
				t.Errorf("version %d state %s reason %q comments %q", r.Version, r.State.State, r.State.Reason.Code, r.State.Comments)
			}
			if r.Type != tt.typ || r.Booking() != tt.booking {
				t.Errorf("type %s booking %q", r.Type, r.Booking())
			}
			if tt.priority != "" && r.Priority != tt.priority {
				t.Errorf("priority %s", r.Priority)
			}
			if tt.service != "" && r.Service.ID != tt.service {
				t.Errorf("service %+v", r.Service)
			}
			if !slices.Equal(r.RelatedUBRNs, tt.related) {
				t.Errorf("related %v, want %v", r.RelatedUBRNs, tt.related)
			}
			if tt.docs != nil {
				var av []triage.AvailabilityStatus
				for _, d := range r.Documents {
					av = append(av, d.Availability)
					if BinaryID(d.URL) == "" {
						t.Errorf("document %s has no Binary id in %q", d.ID, d.URL)
					}
				}
				if !slices.Equal(av, tt.docs) {
					t.Errorf("availability %v, want %v", av, tt.docs)
				}
			}
			if r.NHSNumber == "" {
				t.Error("no NHS number")
			}
		})
	}

	// Detail checks on individual examples.
	r, err := DecodeReferral(testutil.Example(t, "stu3/retrieveReferralRequest/responses/BookedDBS.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantDoc := triage.Document{ID: "80000", URL: "Binary/719f6045-e791-4029-8e0f-1201c02b0a55", Title: "referralletter.pdf",
		Description: "referralletter pdf", ContentType: "application/pdf", Size: 6, Availability: triage.AvailabilityAvailable,
		Type: triage.AttachmentReferrer, AttachedBy: "021600556514", AttachedByOrg: "R69", Created: ts("2021-06-11T00:00:00Z"),
		Indexed: ts("2021-06-11T12:09:09.459Z")}
	if len(r.Documents) != 1 || !reflect.DeepEqual(r.Documents[0], wantDoc) {
		t.Errorf("document:\n got %+v\nwant %+v", r.Documents, wantDoc)
	}
	wantAppt := &triage.Appointment{ID: "70009", Start: ts("2021-06-13T12:30:00Z"), End: ts("2021-06-13T12:45:00Z"),
		Created: ts("2021-06-11T12:33:25.664Z"), Booking: triage.BookingDirect}
	if !reflect.DeepEqual(r.Appointment, wantAppt) {
		t.Errorf("appointment %+v", r.Appointment)
	}
	if r.NHSNumber != "9912003888" || r.RequestID != "r.c18c4ec4-7d0a-480e-8506-347e0ec228b1" || r.ReferrerODS != "R69" ||
		r.ClinicType.Code != "HEART_FAILURE" || r.Specialty.Display != "Cardiology" || r.PathwayStart != ts("2024-05-08T09:54:23.167Z") {
		t.Errorf("referral %+v", r)
	}
	r, err = DecodeReferral(testutil.Example(t, "stu3/retrieveReferralRequest/responses/WithAdditionalRequirements.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []string
	for _, c := range r.AdditionalRequirements {
		reqs = append(reqs, c.Code)
	}
	if !slices.Equal(reqs, []string{"ADVOCACY", "INTERPRETER", "TRANSPORT"}) {
		t.Errorf("additional requirements %v", reqs)
	}
	r, err = DecodeReferral(testutil.Example(t, "stu3/retrieveReferralRequest/responses/ConvertedFromAdviceAndGuidance.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Documents follow supportingInfo order; CommunicationRequest references
	// are not related referrals.
	var ids []string
	var kinds []triage.AttachmentType
	for _, d := range r.Documents {
		ids, kinds = append(ids, d.ID), append(kinds, d.Type)
	}
	if !slices.Equal(ids, []string{"80003", "80000", "80001", "80002"}) ||
		!slices.Equal(kinds, []triage.AttachmentType{"REFERRER", "ADVICE_REQUEST", "GUIDANCE_RESPONSE", "PROVIDER"}) || len(r.RelatedUBRNs) != 0 {
		t.Errorf("documents %v %v related %v", ids, kinds, r.RelatedUBRNs)
	}
}

func TestContractCreatedForTriageIsTriageDeferral(t *testing.T) {
	r, err := DecodeReferral(testutil.Example(t, "stu3/createReferralAndSendForTriage/responses/ReferralRequest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.State.State != triage.StateAwaitingTriage || r.Type != triage.ReferralTypeTriageDeferral ||
		r.Appointment == nil || r.Appointment.Reason.Code != "TRIAGE" {
		t.Errorf("state %s type %s appointment %+v", r.State.State, r.Type, r.Appointment)
	}
}

func TestContractCancelReferralResponses(t *testing.T) {
	dir := filepath.Join(testutil.ExamplesDir(t), "stu3", "cancelReferral", "responses")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatal("no cancelReferral examples")
	}
	for _, f := range files {
		r, err := DecodeCancelReferralResponse(testutil.Example(t, "stu3/cancelReferral/responses/"+filepath.Base(f)))
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if r.State.State != triage.StateCancelledReferral || r.State.Reason.Code == "" || r.Version <= 0 {
			t.Errorf("%s: state %s reason %q version %d", filepath.Base(f), r.State.State, r.State.Reason.Code, r.Version)
		}
	}
}

func boolp(b bool) *bool { return &b }

// decisionExamples are the published A014, A022 and A028 request examples,
// with the domain decision that must produce each.
var decisionExamples = []struct {
	file         string
	reasonSystem string
	d            triage.Decision
}{
	{"rejectReferral/requests/BasicExampleDbs.json", "_baseurl_/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", triage.Decision{
		Kind: triage.DecisionReject, Reason: triage.Coding{Code: "SERVICE_INAPPROPRIATE"}, Comments: "This is a short comment"}},
	{"rejectReferral/requests/BasicExampleIbs.json", "_baseurl_/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", triage.Decision{
		Kind: triage.DecisionReject, Reason: triage.Coding{Code: "OTHER"}, Comments: "This is a short comment", AppointmentCancelledInPAS: boolp(true)}},
	{"cancelAppointmentActionLater/requests/MinimalExampleDBS.json", "", triage.Decision{
		Kind: triage.DecisionRedirect, Comments: "Please contact patient to rebook"}},
	{"cancelAppointmentActionLater/requests/MinimalExampleIBS.json", "", triage.Decision{
		Kind: triage.DecisionRedirect, Comments: "Please contact patient to rebook", AppointmentCancelledInPAS: boolp(true)}},
	{"cancelAppointmentActionLater/requests/PriorityChangeAndWithAttachmentsDBS.json", "", triage.Decision{
		Kind: triage.DecisionRedirect, Comments: "Please contact patient to rebook", NewPriority: triage.PriorityUrgent,
		DecidedAt: ts("2021-11-03T14:29:41.988Z"),
		Attachments: []triage.ProviderAttachment{
			{BinaryID: "b2b22a7e-b3e9-4625-8d2c-00507bfdffb5", Description: "My first provider attachment"},
			{BinaryID: "857b901d-1491-47d3-90e2-6c9f13f744dc", Description: "My second provider attachment"},
		}}},
	{"recordTriageOutcome/requests/AcceptReferBookLater.json", "", triage.Decision{
		Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater, NewPriority: triage.PriorityUrgent,
		Comments: "Urgent action needed. To be booked ASAP"}},
	{"recordTriageOutcome/requests/ReturnToReferrerWithAdvice.json", "", triage.Decision{
		Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice,
		Comments: "Condition not serious. No further action needed"}},
	{"recordTriageOutcome/requests/AttachmentIncluded.json", "", triage.Decision{
		Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice,
		Comments: "Condition not serious. See attached document", DecidedAt: ts("2021-10-07T15:00:41.239Z"),
		Attachments: []triage.ProviderAttachment{{BinaryID: "a7c98bb4-c0d0-4094-b26d-8dbd1677edc8", Description: "Condition details"}}}},
}

func TestContractDecisionRequests(t *testing.T) {
	for _, tt := range decisionExamples {
		t.Run(tt.file, func(t *testing.T) {
			example := testutil.Example(t, "stu3/"+tt.file)
			p, err := DecisionParameters(tt.d, tt.reasonSystem)
			if err != nil {
				t.Fatal(err)
			}
			if ok, g, w := jsonEqual(t, mustMarshal(t, p), example); !ok {
				t.Errorf("body differs from the example:\n got %s\nwant %s", g, w)
			}
			back, err := ParseDecisionParameters(tt.d.Kind, example)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.d
			if tt.reasonSystem != "" {
				want.Reason.System = tt.reasonSystem
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("parsed back:\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

func TestContractCancelReferralRequests(t *testing.T) {
	const system = "_baseurl_/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON"
	tests := []struct {
		file, code, comments string
	}{
		{"IntendPrivateWithComment.json", "INTEND_PRIVATE", "This is a cancellation reason comment"},
		{"bookedOutsideCabWithoutComment.json", "BOOKED_OUTSIDE_CAB", ""},
	}
	for _, tt := range tests {
		example := testutil.Example(t, "stu3/cancelReferral/requests/"+tt.file)
		reason := triage.Coding{System: system, Code: tt.code}
		if ok, g, w := jsonEqual(t, mustMarshal(t, CancelReferralParameters(reason, tt.comments)), example); !ok {
			t.Errorf("%s differs:\n got %s\nwant %s", tt.file, g, w)
		}
		r, c, err := ParseCancelReferralParameters(example)
		if err != nil || r != reason || c != tt.comments {
			t.Errorf("%s parsed %+v %q %v", tt.file, r, c, err)
		}
	}
}

func TestContractCodeSystems(t *testing.T) {
	tests := []struct {
		file  string
		typ   triage.CodeSystemType
		count int
		check func(t *testing.T, cs triage.CodeSystem)
	}{
		{"AppointmentCancellationReasonCodeSystem.json", triage.CodeSystemAppointmentCancellationReason, 36, func(t *testing.T, cs triage.CodeSystem) {
			c, ok := cs.Lookup("SERVICE_INAPPROPRIATE")
			if !ok || c.ReasonType != triage.ReasonTypeProviderReject || c.CommentIsMandatory || !slices.Contains(c.Usage, "REJECT") ||
				!slices.Contains(c.BusinessFunctions, "SERVICE_PROVIDER_CLINICIAN") || c.Display != "Inappropriate service" {
				t.Errorf("SERVICE_INAPPROPRIATE = %+v", c)
			}
			rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{cs.Type: cs}}
			var codes []string
			for _, r := range rd.RejectReasons(ts("2026-01-01T00:00:00Z")) {
				codes = append(codes, r.Code)
			}
			slices.Sort(codes)
			want := []string{"FURTHER_INFORMATION_REQUIRED", "OTHER", "OUTPATIENT_APPT_NOT_REQUIRED", "SERVICE_INAPPROPRIATE", "SERVICE_PREREQUISITES_NOT_COMPLETE"}
			if !slices.Equal(codes, want) {
				t.Errorf("reject reasons %v", codes)
			}
		}},
		{"ReferralCancellationReasonCodeSystem.json", triage.CodeSystemReferralCancellationReason, 18, func(t *testing.T, cs triage.CodeSystem) {
			c, _ := cs.Lookup("BOOKED_CLINICAL_NEED")
			if c.ReasonType != triage.ReasonTypeProviderTriage || !c.CommentIsMandatory || c.CanCancelAppointment ||
				!slices.Contains(c.Usage, "CANCEL_REFERRAL") || len(c.BusinessFunctions) != 3 {
				t.Errorf("BOOKED_CLINICAL_NEED = %+v", c)
			}
			rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{cs.Type: cs}}
			if n := len(rd.EndTriageReasons(ts("2026-01-01T00:00:00Z"))); n == 0 {
				t.Error("no end-triage reasons")
			}
		}},
		{"PriorityCodeSystem.json", triage.CodeSystemPriority, 3, func(t *testing.T, cs triage.CodeSystem) {
			for _, w := range []struct {
				p             string
				defer_, triag int
			}{{"ROUTINE", 40, 40}, {"URGENT", 10, 5}, {"TWO_WEEK_WAIT", 5, 2}} {
				c, _ := cs.Lookup(w.p)
				if c.DeferToProviderContactDays != w.defer_ || c.TriageContactDays != w.triag {
					t.Errorf("%s = %+v", w.p, c)
				}
			}
		}},
		{"ClinicTypeCodeSystem.json", triage.CodeSystemClinicType, 7, func(t *testing.T, cs triage.CodeSystem) {
			c, _ := cs.Lookup("GENERAL_ADULT_MENTAL_ILLNESS")
			if c.Specialty.Code != "ADULT_MENTAL_ILLNESS" || c.EffectiveTo != ts("2008-05-09T00:00:00Z") {
				t.Errorf("clinic type %+v", c)
			}
		}},
		{"SpecialtyCodeSystem.json", triage.CodeSystemSpecialty, 4, func(t *testing.T, cs triage.CodeSystem) {
			c, _ := cs.Lookup("ADULT_MENTAL_ILLNESS")
			if c.EffectiveFrom != ts("2004-06-01T00:00:00Z") || c.EffectiveTo != ts("2008-05-09T00:00:00Z") {
				t.Errorf("specialty %+v", c)
			}
		}},
		{"AppointmentNonAttendanceReasonCodeSystem.json", triage.CodeSystemAppointmentNonAttendanceReason, 8, func(t *testing.T, cs triage.CodeSystem) {
			if _, ok := cs.Lookup("PATIENT_FORGOT"); !ok {
				t.Error("PATIENT_FORGOT missing")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cs, err := DecodeCodeSystem(testutil.Example(t, "stu3/getCodeSystem/responses/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if cs.Type != tt.typ || len(cs.Concepts) != tt.count || cs.URL == "" || cs.Name == "" {
				t.Fatalf("type %q, %d concepts, url %q", cs.Type, len(cs.Concepts), cs.URL)
			}
			tt.check(t, cs)
		})
	}
}

func TestContractAvailableActions(t *testing.T) {
	tests := map[string][]triage.Action{
		"Empty.json":                               {},
		"WithCancelDBAppointment.json":             {triage.ActionCancelDBAppointment},
		"WithCancelReferral.json":                  {triage.ActionCancelReferral},
		"WithChangeShortlist.json":                 {triage.ActionChangeShortlist},
		"WithChangeShortlistAndSendForTriage.json": {triage.ActionChangeShortlistTriage},
		"WithCreateAppointment.json":               {triage.ActionCreateAppointment},
		"WithRecordReviewOutcome.json":             {triage.ActionRecordReviewOutcome},
	}
	for file, want := range tests {
		got, err := DecodeAvailableActions(testutil.Example(t, "stu3/availableActionsForUserList/"+file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", file, got, want)
		}
	}
}

func TestContractRolesAndUsers(t *testing.T) {
	roles, err := DecodePractitionerRoles(testutil.Example(t, "r4/retrieveBusinessFunctions/responses/PractitionerRoleBundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Role{
		{ID: "PractitionerRole-R69-000000000101", SDSUserID: "000000000101", ODS: "R69",
			BusinessFunctions: []triage.BusinessFunction{"SERVICE_DEFINER", triage.RoleServiceProviderClinician, triage.RoleServiceProviderAdmin}},
		{ID: "PractitionerRole-R68-000000000101", SDSUserID: "000000000101", ODS: "R68",
			BusinessFunctions: []triage.BusinessFunction{triage.RoleReferringClinician}},
	}
	if !reflect.DeepEqual(roles, want) {
		t.Errorf("roles %+v", roles)
	}
	users, err := DecodeOnBehalfOfUsers(testutil.Example(t, "r4/retrieveOboUsers/responses/PractitionerBundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(users, []OnBehalfOfUser{{SDSUserID: "111111111111"}}) {
		t.Errorf("users %+v", users)
	}
}

func TestContractOperationOutcomes(t *testing.T) {
	tests := []struct {
		file, code, issue string
	}{
		{"stu3/PasNotRespondingOperationOutcome.json", "PAS_NOT_RESPONDING", "timeout"},
		{"stu3/PasRespondedWithErrorOperationOutcome.json", "PAS_RESPONDED_WITH_ERROR", "exception"},
		{"stu3/STU3-Forbidden.json", "FORBIDDEN", "forbidden"},
		{"stu3/STU3-OperationOutcome.json", "UNEXPECTED_FIELD", "value"},
		{"stu3/STU3-SandboxErrorOutcome.json", "SANDBOX_ERROR", "invalid"},
		{"stu3/STU3-ServiceUnavailable.json", "SYSTEM_UNAVAILABLE", "transient"},
		{"stu3/STU3-Unauthorised.json", "NO_ACCESS", "login"},
		{"r4/NHSDigital-OperationOutcome-400.json", "REC_BAD_REQUEST", ""},
		{"r4/NHSDigital-OperationOutcome-401.json", "ACCESS_DENIED", ""},
		{"r4/NHSDigital-OperationOutcome-403.json", "REC_FORBIDDEN", "forbidden"},
		{"r4/NHSDigital-OperationOutcome-404.json", "REC_NOT_FOUND", ""},
		{"r4/NHSDigital-OperationOutcome-406.json", "REC_NOT_ACCEPTABLE", ""},
		{"r4/NHSDigital-OperationOutcome-415.json", "REC_UNSUPPORTED_MEDIA_TYPE", ""},
		{"r4/NHSDigital-OperationOutcome-422.json", "PENDING", "invalid"},
		{"r4/NHSDigital-OperationOutcome-429.json", "TOO_MANY_REQUESTS", "throttled"},
		{"r4/NHSDigital-OperationOutcome-500.json", "REC_SERVER_ERROR", ""},
		{"r4/NHSDigital-OperationOutcome-503.json", "REC_UNAVAILABLE", ""},
		{"r4/R4-SandboxErrorOutcome.json", "SANDBOX_ERROR", "invalid"},
	}
	for _, tt := range tests {
		o, err := DecodeOperationOutcome(testutil.Example(t, tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if len(o.Issue) == 0 || o.First().Severity != "error" {
			t.Errorf("%s: issues %+v", tt.file, o.Issue)
		}
		if tt.code != "" && o.ErrorCoding().Code != tt.code {
			t.Errorf("%s: code %q, want %q", tt.file, o.ErrorCoding().Code, tt.code)
		}
		if tt.issue != "" && o.First().Code != tt.issue {
			t.Errorf("%s: issue type %q, want %q", tt.file, o.First().Code, tt.issue)
		}
	}
}
