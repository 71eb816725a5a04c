package fhir

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// msTime returns a random UTC time at millisecond precision, the precision
// e-RS carries.
func msTime(rng *rand.Rand) time.Time {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(rng.Int64N(int64(400*24*time.Hour)/1e6)) * time.Millisecond)
}

func dayTime(rng *rand.Rand) time.Time {
	return time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// syntheticItems builds n worklist items of the list type with every field
// the list's shape carries set.
func syntheticItems(rng *rand.Rand, list triage.ListType, n int) []triage.WorklistItem {
	items := make([]triage.WorklistItem, n)
	for i := range items {
		it := triage.WorklistItem{
			List:                list,
			UBRN:                fmt.Sprintf("%012d", 200000000000+i),
			NHSNumber:           triage.SyntheticNHSNumber(rng),
			Priority:            pick(rng, triage.Priorities...),
			Specialty:           triage.Coding{System: specialtySystem, Code: pick(rng, "CARDIOLOGY", "DERMATOLOGY", "GASTROENTEROLOGY")},
			Service:             triage.Service{ID: fmt.Sprint(30000 + rng.IntN(20)), Name: "Synthetic Service"},
			PathwayStart:        msTime(rng),
			ClinicalInfoPrinted: rng.IntN(2) == 0,
			NamedClinician:      pick(rng, "", "100000000101", "100000000102"),
		}
		if list == triage.ListAppointmentSlotIssues {
			it.ReviewReason = pick(rng, "NO_SLOTS_AT_SERVICE", "SLOT_NOT_AVAILABLE", "BOOKING_ATTEMPT_PROBLEM")
			it.UBRNReceived = msTime(rng)
			it.PatientContactExpected = dayTime(rng)
			it.ClinicalInformationStatus = pick(rng, "PRESENT", "NOT_APPLICABLE", "NOT_DUE", "OVERDUE")
		} else {
			it.Type = pick(rng, triage.ReferralTypeAppointment, triage.ReferralTypeTriageDeferral)
			it.ContextStatus = pick(rng, triage.RequestContextStatuses...)
			it.ClinicalInfoFirstSubmitted = msTime(rng)
			it.ClinicalInfoLastUpdated = pick(rng, time.Time{}, msTime(rng))
			it.AppointmentStart = pick(rng, time.Time{}, msTime(rng))
			it.AllocatedClinician = pick(rng, "", "100000000101", "100000000103")
			it.Version = 1 + rng.IntN(30)
		}
		items[i] = it
	}
	return items
}

func TestWorklistRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, list := range []triage.ListType{triage.ListReferralsForReview, triage.ListAppointmentSlotIssues} {
		items := syntheticItems(rng, list, 200)
		b := mustMarshal(t, EncodeWorklist(list, items))
		gotList, got, err := DecodeWorklist(b)
		if err != nil {
			t.Fatalf("%s: %v", list, err)
		}
		if gotList != list {
			t.Errorf("list %q, want %q", gotList, list)
		}
		if !reflect.DeepEqual(got, items) {
			for i := range items {
				if !reflect.DeepEqual(got[i], items[i]) {
					t.Fatalf("%s item %d:\n got %+v\nwant %+v", list, i, got[i], items[i])
				}
			}
		}
	}
}

func TestEncodeWorklistSharesContainedResources(t *testing.T) {
	items := []triage.WorklistItem{
		{UBRN: "200000000001", NHSNumber: "9991000003", AllocatedClinician: "100000000101"},
		{UBRN: "200000000002", NHSNumber: "9991000003", NamedClinician: "100000000101"},
	}
	l := EncodeWorklist(triage.ListReferralsForReview, items)
	if len(l.Contained) != 2 {
		t.Errorf("want one Patient and one Practitioner, got %d contained", len(l.Contained))
	}
}

func syntheticReferrals() []*triage.Referral {
	rng := rand.New(rand.NewPCG(3, 4))
	doc := func(id string, av triage.AvailabilityStatus, created time.Time) triage.Document {
		return triage.Document{ID: id, URL: "Binary/" + id + "-uuid", Title: id + ".pdf", Description: "synthetic " + id,
			ContentType: "application/pdf", Size: int64(1000 + rng.IntN(1e6)), Availability: av, Type: triage.AttachmentReferrer,
			AttachedBy: "100000000201", AttachedByOrg: "Y00001", Created: created, Indexed: msTime(rng)}
	}
	base := func(ubrn string) *triage.Referral {
		return &triage.Referral{
			UBRN: ubrn, RequestID: "r.11111111-2222-4333-8444-" + ubrn, NHSNumber: triage.SyntheticNHSNumber(rng),
			Version: 1 + rng.IntN(20), Status: "active", Priority: pick(rng, triage.Priorities...),
			Specialty:    triage.Coding{System: specialtySystem, Code: "CARDIOLOGY", Display: "Cardiology"},
			ClinicType:   triage.Coding{System: SystemClinicType, Code: "HEART_FAILURE", Display: "Heart failure"},
			Service:      triage.Service{ID: "30001", Name: "Synthetic Cardiology Service"},
			PathwayStart: msTime(rng), ClinicalInfoFirstSubmitted: msTime(rng), ClinicalInfoLastUpdated: msTime(rng),
			ReferrerODS: "Y00001",
		}
	}
	dbs := base("200000000001")
	dbs.Type = triage.ReferralTypeAppointment
	dbs.State = triage.ReferralStatus{State: triage.StateBooked}
	dbs.Appointment = &triage.Appointment{ID: "70001", Start: msTime(rng), End: msTime(rng), Created: msTime(rng), Booking: triage.BookingDirect}
	dbs.RelatedUBRNs = []string{"200000000009", "200000000010"}
	dbs.Documents = []triage.Document{
		doc("80001", triage.AvailabilityAvailable, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)),
		doc("80002", triage.AvailabilityPending, msTime(rng)),
		doc("80003", triage.AvailabilityThreatsFound, time.Time{}),
	}
	dbs.AdditionalRequirements = []triage.Coding{{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdditionalRequirementType-1", Code: "TRANSPORT", Display: "Transport"}}

	ibs := base("200000000002")
	ibs.Type = triage.ReferralTypeAppointment
	ibs.State = triage.ReferralStatus{State: triage.StateBooked}
	ibs.Appointment = &triage.Appointment{ID: "70002", Start: msTime(rng), End: msTime(rng), Created: msTime(rng), Booking: triage.BookingIndirect}

	ras := base("200000000003")
	ras.Type = triage.ReferralTypeTriageDeferral
	ras.State = triage.ReferralStatus{State: triage.StateAwaitingTriage, Reason: triage.Coding{System: triage.SystemReviewReason, Code: "TRIAGE"}}
	ras.Appointment = &triage.Appointment{ID: "70003", Created: msTime(rng), Booking: triage.BookingUnknown,
		Reason: triage.Coding{System: triage.SystemReviewReason, Code: "TRIAGE"}}
	ras.Documents = []triage.Document{doc("80004", triage.AvailabilityValidationFailed, time.Time{})}

	triaged := base("200000000004")
	triaged.Type = triage.ReferralTypeTriageDeferral
	triaged.State = triage.ReferralStatus{State: triage.StateTriagedProviderToAction,
		Reason:   triage.Coding{System: triage.SystemReviewOutcome, Code: "ACCEPT_REFER_BOOK_LATER", Display: "Accept Refer Book Later"},
		Comments: "Book within two weeks"}

	unbooked := base("200000000005")
	unbooked.Type = triage.ReferralTypeAppointment
	unbooked.State = triage.ReferralStatus{State: triage.StateNotBooked}
	unbooked.Service = triage.Service{}
	return []*triage.Referral{dbs, ibs, ras, triaged, unbooked}
}

func TestReferralRoundTrip(t *testing.T) {
	for _, r := range syntheticReferrals() {
		t.Run(r.UBRN, func(t *testing.T) {
			got, err := DecodeReferral(mustMarshal(t, EncodeReferral(r)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
			}
			resp, err := DecodeCancelReferralResponse(mustMarshal(t, EncodeCancelReferralResponse(r)))
			if err != nil || !reflect.DeepEqual(resp, r) {
				t.Errorf("cancel response round trip: %v", err)
			}
		})
	}
}

func TestCodeSystemRoundTrip(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	url := func(t triage.CodeSystemType) string {
		return "https://int.api.service.nhs.uk/referrals/FHIR/STU3/CodeSystem/" + string(t)
	}
	systems := []triage.CodeSystem{
		{Type: triage.CodeSystemSpecialty, URL: url(triage.CodeSystemSpecialty), Name: "e-RS Specialty", Concepts: []triage.Concept{
			{Code: "CARDIOLOGY", Display: "Cardiology", EffectiveFrom: day(2004, 6, 1)},
			{Code: "OLD", Display: "Old", EffectiveFrom: day(2004, 6, 1), EffectiveTo: day(2008, 5, 9)}}},
		{Type: triage.CodeSystemClinicType, URL: url(triage.CodeSystemClinicType), Name: "e-RS Clinic Type", Concepts: []triage.Concept{
			{Code: "HEART_FAILURE", Display: "Heart failure", EffectiveFrom: day(2004, 6, 1),
				Specialty: triage.Coding{System: url(triage.CodeSystemSpecialty), Code: "CARDIOLOGY"}}}},
		{Type: triage.CodeSystemAppointmentCancellationReason, URL: url(triage.CodeSystemAppointmentCancellationReason), Name: "reasons", Concepts: []triage.Concept{
			{Code: "OTHER", Display: "Other reason", EffectiveFrom: day(2004, 6, 1), ReasonType: triage.ReasonTypeProviderReject,
				CommentIsMandatory: true, BusinessFunctions: []string{"SERVICE_PROVIDER_CLINICIAN"}, Usage: []string{"REJECT"}},
			{Code: "OLD", Display: "Old", EffectiveTo: day(2007, 6, 25), ReasonType: "PROVIDER", WillCancelWholeRequest: true}}},
		{Type: triage.CodeSystemReferralCancellationReason, URL: url(triage.CodeSystemReferralCancellationReason), Name: "cancel", Concepts: []triage.Concept{
			{Code: "TRIAGE_ENDED", Display: "Triage ended", EffectiveFrom: day(2019, 7, 23), ReasonType: triage.ReasonTypeProviderTriage,
				CommentIsMandatory: true, CanCancelAppointment: true, BusinessFunctions: []string{"SERVICE_PROVIDER_CLINICIAN", "SERVICE_PROVIDER_CLINICIAN_ADMIN"},
				Usage: []string{"CANCEL_REFERRAL"}}}},
		{Type: triage.CodeSystemAppointmentNonAttendanceReason, URL: url(triage.CodeSystemAppointmentNonAttendanceReason), Name: "dna", Concepts: []triage.Concept{
			{Code: "PATIENT_FORGOT", Display: "Patient forgot", EffectiveFrom: day(2004, 6, 1)}}},
		{Type: triage.CodeSystemPriority, URL: url(triage.CodeSystemPriority), Name: "e-RS Priority", Concepts: []triage.Concept{
			{Code: "URGENT", Display: "Urgent", EffectiveFrom: day(2004, 6, 1), TriageContactDays: 5, DeferToProviderContactDays: 10}}},
	}
	for _, cs := range systems {
		got, err := DecodeCodeSystem(mustMarshal(t, EncodeCodeSystem(cs)))
		if err != nil {
			t.Fatalf("%s: %v", cs.Type, err)
		}
		if !reflect.DeepEqual(got, cs) {
			t.Errorf("%s:\n got %+v\nwant %+v", cs.Type, got, cs)
		}
	}
}

func TestBundlesRoundTrip(t *testing.T) {
	actions := []triage.Action{triage.ActionRecordReviewOutcome, triage.ActionCancelReferral}
	b := EncodeAvailableActions("200000000001", 6, actions)
	got, err := DecodeAvailableActions(mustMarshal(t, b))
	if err != nil || !reflect.DeepEqual(got, actions) {
		t.Errorf("actions %v %v", got, err)
	}
	if b.Entry[0].Resource.Task.Focus.Reference != "ReferralRequest/200000000001/_history/6" {
		t.Errorf("focus %q", b.Entry[0].Resource.Task.Focus.Reference)
	}
	none, err := DecodeAvailableActions(mustMarshal(t, EncodeAvailableActions("200000000001", 6, nil)))
	if err != nil || len(none) != 0 {
		t.Errorf("no actions %v %v", none, err)
	}

	roles := []Role{
		{ID: "PractitionerRole-Y00001-100000000101", SDSUserID: "100000000101", ODS: "Y00001",
			BusinessFunctions: []triage.BusinessFunction{triage.RoleServiceProviderClinician, triage.RoleServiceProviderClinicianAdmin}},
		{ID: "PractitionerRole-Y00002-100000000101", SDSUserID: "100000000101", ODS: "Y00002",
			BusinessFunctions: []triage.BusinessFunction{triage.RoleServiceProviderAdmin}},
	}
	gotRoles, err := DecodePractitionerRoles(mustMarshal(t, EncodePractitionerRoles(roles)))
	if err != nil || !reflect.DeepEqual(gotRoles, roles) {
		t.Errorf("roles %+v %v", gotRoles, err)
	}

	users := []OnBehalfOfUser{{SDSUserID: "100000000301", Name: "Dr Alex Synthetic"}, {SDSUserID: "100000000302"}}
	gotUsers, err := DecodeOnBehalfOfUsers(mustMarshal(t, EncodeOnBehalfOfUsers(users)))
	if err != nil || !reflect.DeepEqual(gotUsers, users) {
		t.Errorf("users %+v %v", gotUsers, err)
	}
}

func TestOperationOutcomeRoundTrip(t *testing.T) {
	tests := []struct {
		o            *OperationOutcome
		system, code string
	}{
		{STU3OperationOutcome("INVALID_REQUEST_STATE", "Invalid request state", "not allowed now", "business-rule"), SystemAPIErrorCode, "INVALID_REQUEST_STATE"},
		{R4OperationOutcome("PENDING", "", "being scanned", "invalid"), SystemR4ERSErrorCodes, "PENDING"},
		{R4OperationOutcome("REC_NOT_FOUND", "", "not found", "not-found"), SystemR4HTTPErrorCodes, "REC_NOT_FOUND"},
		{R4OperationOutcome("TOO_MANY_REQUESTS", "", "slow down", "throttled"), SystemR4APIErrorOrWarning, "TOO_MANY_REQUESTS"},
	}
	for _, tt := range tests {
		got, err := DecodeOperationOutcome(mustMarshal(t, tt.o))
		if err != nil {
			t.Fatal(err)
		}
		c := got.ErrorCoding()
		if c.System != tt.system || c.Code != tt.code || got.Diagnostics() != tt.o.Issue[0].Diagnostics || got.First().Code != tt.o.Issue[0].Code {
			t.Errorf("%s: %+v", tt.code, got)
		}
	}
	stu3 := STU3OperationOutcome("X", "", "", "invalid")
	if stu3.Meta == nil || stu3.Meta.Profile[0] != ProfileOperationOutcome {
		t.Error("STU3 outcome must carry the eRS-OperationOutcome-1 profile")
	}
}

func TestWorklistRequestRoundTrip(t *testing.T) {
	filters := []WorklistFilter{
		{},
		{Service: "30001", Location: "Y00001"},
		{SpecialtyAssigned: IndicatorNotAssigned},
		{SpecialtyAssigned: IndicatorAssigned, Specialty: triage.Coding{System: specialtySystem, Code: "CARDIOLOGY"},
			ClinicianAssigned: IndicatorAssigned, Clinician: "100000000101", Service: "30001", Location: "Y00001"},
		{ClinicianAssigned: IndicatorNotAssigned},
	}
	for _, list := range []triage.ListType{triage.ListReferralsForReview, triage.ListAppointmentSlotIssues} {
		for _, f := range filters {
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			gotList, got, err := ParseWorklistRequest(mustMarshal(t, WorklistRequest(list, f)))
			if err != nil || gotList != list || !reflect.DeepEqual(got, f) {
				t.Errorf("%+v: got %q %+v %v", f, gotList, got, err)
			}
		}
	}
	// An indicator is implied by a value.
	_, got, err := ParseWorklistRequest(mustMarshal(t, WorklistRequest(triage.ListReferralsForReview, WorklistFilter{Clinician: "100000000101"})))
	if err != nil || got.ClinicianAssigned != IndicatorAssigned {
		t.Errorf("implied indicator: %+v %v", got, err)
	}
}

func TestWorklistFilterValidate(t *testing.T) {
	bad := []WorklistFilter{
		{ClinicianAssigned: IndicatorNotAssigned, Clinician: "100000000101"},
		{SpecialtyAssigned: IndicatorNotAssigned, Specialty: triage.Coding{System: specialtySystem, Code: "CARDIOLOGY"}},
		{SpecialtyAssigned: "MAYBE"},
		{Specialty: triage.Coding{Code: "CARDIOLOGY"}},
	}
	for _, f := range bad {
		if f.Validate() == nil {
			t.Errorf("%+v: want an error", f)
		}
	}
}

func TestParseWorklistRequestRejects(t *testing.T) {
	bodies := []string{
		`{"resourceType":"Parameters","parameter":[]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"code":"REFERRALS_FOR_REVIEW"}]}},{"name":"colour","valueString":"red"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"listType","valueString":"REFERRALS_FOR_REVIEW"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"listType","valueCodeableConcept":{"coding":[{"code":"REFERRALS_FOR_REVIEW"}]}},{"name":"service","valueString":"1"}]}`,
		`{"resourceType":"Bundle"}`,
	}
	for _, b := range bodies {
		if _, _, err := ParseWorklistRequest([]byte(b)); err == nil {
			t.Errorf("no error for %s", b)
		}
	}
}

func TestDecisionParametersRoundTrip(t *testing.T) {
	const reasonSystem = "https://int.api.service.nhs.uk/referrals/FHIR/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON"
	decided := time.Date(2026, 3, 10, 14, 5, 6, 789_000_000, time.UTC)
	attachments := []triage.ProviderAttachment{{BinaryID: "0f0e0d0c-0000-4000-8000-000000000001", Description: "Clinic letter"},
		{BinaryID: "0f0e0d0c-0000-4000-8000-000000000002"}}
	decisions := []triage.Decision{
		{Kind: triage.DecisionAccept},
		{Kind: triage.DecisionReject, Reason: triage.Coding{System: reasonSystem, Code: "FURTHER_INFORMATION_REQUIRED"}, Comments: "Please add bloods."},
		{Kind: triage.DecisionReject, Reason: triage.Coding{System: reasonSystem, Code: "OTHER"}, Comments: "Wrong clinic – see GP notes", AppointmentCancelledInPAS: boolp(false)},
		{Kind: triage.DecisionRedirect, Comments: "Redirect to the community service", NewPriority: triage.PriorityRoutine, AppointmentCancelledInPAS: boolp(true),
			DecidedAt: decided, Attachments: attachments},
		{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater, NewPriority: triage.PriorityTwoWeekWait, Comments: "Book urgently"},
		{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice, Comments: "Advice: trial of PPI",
			DecidedAt: decided, Attachments: attachments[:1]},
	}
	for _, d := range decisions {
		t.Run(string(d.Kind), func(t *testing.T) {
			p, err := DecisionParameters(d, "")
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if p != nil {
				body = mustMarshal(t, p)
			} else if d.Kind != triage.DecisionAccept {
				t.Fatal("nil body")
			}
			got, err := ParseDecisionParameters(d.Kind, body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
			}
		})
	}
}

func TestDecisionParametersRejectsIncomplete(t *testing.T) {
	bad := []triage.Decision{
		{Kind: triage.DecisionReject, Comments: "no reason"},
		{Kind: triage.DecisionReject, Reason: triage.Coding{Code: "OTHER"}}, // no system
		{Kind: triage.DecisionRedirect, Comments: "  "},
		{Kind: triage.DecisionReviewOutcome, Comments: "no outcome"},
		{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater},
		{Kind: triage.DecisionRedirect, Comments: "x", Attachments: []triage.ProviderAttachment{{FileName: "not-uploaded.pdf"}}},
		{Kind: "SHRUG"},
	}
	for _, d := range bad {
		if _, err := DecisionParameters(d, ""); err == nil {
			t.Errorf("%+v: want an error", d)
		}
	}
	// The reason system argument overrides the coding's own.
	p, err := DecisionParameters(triage.Decision{Kind: triage.DecisionReject, Reason: triage.Coding{System: "old", Code: "OTHER", Display: "Other"}}, "live")
	if err != nil || p.Get("rejectionReason").ValueCoding.System != "live" || p.Get("rejectionReason").ValueCoding.Display != "" {
		t.Errorf("reason %+v %v", p.Get("rejectionReason"), err)
	}
}

func TestParseDecisionParametersRejects(t *testing.T) {
	reject := func(params string) string {
		return `{"resourceType":"Parameters","parameter":[` + params + `]}`
	}
	reason := `{"name":"rejectionReason","valueCoding":{"system":"s","code":"OTHER"}}`
	tests := []struct {
		name string
		kind triage.DecisionKind
		body string
		want string
	}{
		{"accept with body", triage.DecisionAccept, `{}`, "no body"},
		{"unknown parameter", triage.DecisionReject, reject(reason + `,{"name":"reviewOutcome","valueCoding":{"code":"X"}}`), "unknown parameter"},
		{"missing reason", triage.DecisionReject, reject(`{"name":"rejectionComments","valueString":"x"}`), "missing"},
		{"repeated reason", triage.DecisionReject, reject(reason + "," + reason), "repeated"},
		{"wrong type", triage.DecisionReject, reject(`{"name":"rejectionReason","valueString":"OTHER"}`), "wrongly typed"},
		{"PAS not boolean", triage.DecisionReject, reject(reason + `,{"name":"appointmentCancelledInPAS","valueString":"yes"}`), "wrongly typed"},
		{"missing comments", triage.DecisionRedirect, reject(`{"name":"priority","valueCoding":{"code":"URGENT"}}`), "missing"},
		{"attachment not binary", triage.DecisionRedirect, reject(`{"name":"comments","valueString":"x"},{"name":"providerAttachmentFile","resource":{"resourceType":"DocumentReference","content":[{"attachment":{"url":"https://elsewhere/x"}}]}}`), "Binary"},
		{"attachment not a document", triage.DecisionReviewOutcome, reject(`{"name":"reviewOutcome","valueCoding":{"code":"ACCEPT_REFER_BOOK_LATER"}},{"name":"reviewComments","valueString":"x"},{"name":"reviewAttachmentFile","valueString":"x"}`), "DocumentReference"},
		{"not parameters", triage.DecisionReviewOutcome, `{"resourceType":"Bundle"}`, "unexpected resource"},
		{"unknown kind", "SHRUG", `{}`, "unknown decision kind"},
	}
	for _, tt := range tests {
		_, err := ParseDecisionParameters(tt.kind, []byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func TestCancelReferralRoundTrip(t *testing.T) {
	reason := triage.Coding{System: "https://int.api.service.nhs.uk/referrals/FHIR/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON", Code: "TRIAGE_ENDED"}
	for _, comments := range []string{"", "Seen in another service"} {
		r, c, err := ParseCancelReferralParameters(mustMarshal(t, CancelReferralParameters(reason, comments)))
		if err != nil || r != reason || c != comments {
			t.Errorf("got %+v %q %v", r, c, err)
		}
	}
	for _, body := range []string{
		`{"resourceType":"Parameters","parameter":[{"name":"cancellationComments","valueString":"x"}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"cancellationReason","valueCoding":{"code":"A"}},{"name":"cancellationReason","valueCoding":{"code":"B"}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"cancellationReason","valueCoding":{"code":"A"}},{"name":"extra","valueString":"x"}]}`,
	} {
		if _, _, err := ParseCancelReferralParameters([]byte(body)); err == nil {
			t.Errorf("no error for %s", body)
		}
	}
}

// The encoders' output is valid FHIR JSON of the right resource type.
func TestEncodedResourceTypes(t *testing.T) {
	for name, v := range map[string]any{
		"List":             EncodeWorklist(triage.ListReferralsForReview, nil),
		"ReferralRequest":  EncodeReferral(&triage.Referral{UBRN: "200000000001"}),
		"CodeSystem":       EncodeCodeSystem(triage.CodeSystem{Type: triage.CodeSystemPriority}),
		"Bundle":           EncodePractitionerRoles(nil),
		"OperationOutcome": R4OperationOutcome("REC_SERVER_ERROR", "", "", "exception"),
		"Parameters":       CancelReferralParameters(triage.Coding{Code: "X"}, ""),
	} {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(mustMarshal(t, v), &head); err != nil || head.ResourceType != name {
			t.Errorf("%s: resourceType %q %v", name, head.ResourceType, err)
		}
	}
}
