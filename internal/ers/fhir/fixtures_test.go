package fhir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// fixture reads one of the package's own synthetic fixtures.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const specialtySystem = "https://int.api.service.nhs.uk/referrals/FHIR/STU3/CodeSystem/SPECIALTY"

func TestDecodeWorklistReferralsForReviewFixture(t *testing.T) {
	list, items, err := DecodeWorklist(fixture(t, "worklist_referrals_for_review.json"))
	if err != nil {
		t.Fatal(err)
	}
	if list != triage.ListReferralsForReview {
		t.Errorf("list = %q", list)
	}
	want := []triage.WorklistItem{
		{
			List: triage.ListReferralsForReview, UBRN: "100000000001", NHSNumber: "9991000003",
			Priority: triage.PriorityTwoWeekWait, Specialty: triage.Coding{System: specialtySystem, Code: "GASTROENTEROLOGY"},
			Service: triage.Service{ID: "30001", Name: "Synthetic Gastroenterology Service"}, Type: triage.ReferralTypeAppointment,
			ContextStatus: triage.ContextPriorityAndLetterChanged, PathwayStart: ts("2026-03-02T09:15:00Z"),
			ClinicalInfoFirstSubmitted: ts("2026-03-02T09:20:00.125Z"), ClinicalInfoLastUpdated: ts("2026-03-04T16:45:10Z"),
			AppointmentStart: ts("2026-03-20T10:30:00Z"), NamedClinician: "100000000101", AllocatedClinician: "100000000101", Version: 4,
		},
		{
			List: triage.ListReferralsForReview, UBRN: "100000000002", NHSNumber: "9991000011",
			Priority: triage.PriorityUrgent, Specialty: triage.Coding{System: specialtySystem, Code: "DERMATOLOGY"},
			Service: triage.Service{ID: "30002", Name: "Synthetic Dermatology RAS"}, Type: triage.ReferralTypeTriageDeferral,
			ContextStatus: triage.ContextNeverReviewed, PathwayStart: ts("2026-03-05T08:00:00Z"),
			ClinicalInfoFirstSubmitted: ts("2026-03-05T08:01:00Z"), ClinicalInfoPrinted: true, Version: 2,
		},
		{
			// Same patient as the first item (one contained Patient), a
			// pathway start with a +01:00 offset (normalised to UTC) and an
			// unknown sub-extension that is ignored.
			List: triage.ListReferralsForReview, UBRN: "100000000003", NHSNumber: "9991000003",
			Priority: triage.PriorityRoutine, Specialty: triage.Coding{System: specialtySystem, Code: "GASTROENTEROLOGY"},
			Service: triage.Service{ID: "30001", Name: "Synthetic Gastroenterology Service"}, Type: triage.ReferralTypeAppointment,
			ContextStatus: triage.ContextLetterChanged, PathwayStart: ts("2025-12-01T11:00:00Z"), Version: 7,
		},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n got %+v\nwant %+v", items, want)
	}
}

func TestDecodeWorklistAppointmentSlotIssuesFixture(t *testing.T) {
	list, items, err := DecodeWorklist(fixture(t, "worklist_appointment_slot_issues.json"))
	if err != nil {
		t.Fatal(err)
	}
	if list != triage.ListAppointmentSlotIssues || len(items) != 2 {
		t.Fatalf("list = %q, %d items", list, len(items))
	}
	got := items[1]
	want := triage.WorklistItem{
		List: triage.ListAppointmentSlotIssues, UBRN: "100000000012", NHSNumber: "9991000046",
		Priority: triage.PriorityUrgent, Specialty: triage.Coding{System: specialtySystem, Code: "CARDIOLOGY"},
		Service: triage.Service{ID: "30003", Name: "Synthetic Cardiology Service"}, PathwayStart: ts("2026-02-12T14:30:00Z"),
		ReviewReason: "BOOKING_ATTEMPT_PROBLEM", UBRNReceived: ts("2026-02-12T14:30:00Z"),
		PatientContactExpected: ts("2026-02-26T00:00:00Z"), ClinicalInformationStatus: "OVERDUE",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("item:\n got %+v\nwant %+v", got, want)
	}
	if items[0].Version != 0 {
		t.Errorf("ASI items have no version; got %d", items[0].Version)
	}
}

func TestDecodeWorklistEmpty(t *testing.T) {
	list, items, err := DecodeWorklist(fixture(t, "worklist_empty.json"))
	if err != nil || list != "" || len(items) != 0 {
		t.Fatalf("got %q %v %v", list, items, err)
	}
}

func TestDecodeReferralBookedDBSFixture(t *testing.T) {
	r, err := DecodeReferral(fixture(t, "referral_booked_dbs.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &triage.Referral{
		UBRN: "100000000001", RequestID: "r.00000000-0000-4000-8000-100000000001", NHSNumber: "9991000003",
		Version: 4, Status: "active", Priority: triage.PriorityTwoWeekWait,
		Specialty:    triage.Coding{System: specialtySystem, Code: "GASTROENTEROLOGY", Display: "Gastroenterology"},
		ClinicType:   triage.Coding{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1", Code: "GASTRO_GENERAL", Display: "General gastroenterology"},
		Service:      triage.Service{ID: "30001", Name: "Synthetic Gastroenterology Service"},
		Type:         triage.ReferralTypeAppointment,
		State:        triage.ReferralStatus{State: triage.StateBooked},
		PathwayStart: ts("2026-03-02T09:15:00Z"), ClinicalInfoFirstSubmitted: ts("2026-03-02T09:20:00.125Z"),
		ClinicalInfoLastUpdated: ts("2026-03-04T16:45:10Z"),
		Appointment: &triage.Appointment{ID: "00001", Start: ts("2026-03-20T10:30:00Z"), End: ts("2026-03-20T10:45:00Z"),
			Created: ts("2026-03-02T09:21:00Z"), Booking: triage.BookingDirect},
		RelatedUBRNs: []string{"100000000009"},
		Documents: []triage.Document{
			{ID: "90001", URL: "Binary/b0000000-0000-4000-8000-000000090001", Title: "referral-letter.pdf", Description: "synthetic referral-letter.pdf",
				ContentType: "application/pdf", Size: 2048, Availability: triage.AvailabilityAvailable, Type: triage.AttachmentReferrer,
				AttachedBy: "100000000201", AttachedByOrg: "Y00001", Created: ts("2026-03-02T00:00:00Z"), Indexed: ts("2026-03-02T09:19:00Z")},
			{ID: "90002", URL: "Binary/b0000000-0000-4000-8000-000000090002", Title: "photo.png", Description: "synthetic photo.png",
				ContentType: "image/png", Size: 1048576, Availability: triage.AvailabilityPending, Type: triage.AttachmentReferrer,
				AttachedBy: "100000000201", AttachedByOrg: "Y00001", Created: ts("2026-03-02T00:00:00Z"), Indexed: ts("2026-03-02T09:19:00Z")},
		},
		AdditionalRequirements: []triage.Coding{{System: "https://fhir.nhs.uk/STU3/CodeSystem/eRS-AdditionalRequirementType-1", Code: "INTERPRETER", Display: "Interpreter"}},
		ReferrerODS:            "Y00001",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("referral:\n got %+v\nwant %+v", r, want)
	}
	if got := r.UBRNsToRead(); !slices.Equal(got, []string{"100000000001", "100000000009"}) {
		t.Errorf("UBRNsToRead = %v", got)
	}
}

func TestDecodeReferralFixtures(t *testing.T) {
	tests := []struct {
		file         string
		ubrn         string
		version      int
		state        triage.ReferralState
		typ          triage.ReferralType
		booking      triage.BookingKind
		reason       string
		comments     string
		related      []string
		availability []triage.AvailabilityStatus
		service      string
	}{
		{"referral_booked_dbs.json", "100000000001", 4, triage.StateBooked, triage.ReferralTypeAppointment, triage.BookingDirect, "", "",
			[]string{"100000000009"}, []triage.AvailabilityStatus{"AVAILABLE", "PENDING"}, "30001"},
		{"referral_booked_ibs.json", "100000000003", 7, triage.StateBooked, triage.ReferralTypeAppointment, triage.BookingIndirect, "", "",
			nil, []triage.AvailabilityStatus{"AVAILABLE"}, "30001"},
		// "THREATS FOUND" (with a space, as the e-RS prose writes it) is
		// read as THREATS_FOUND.
		{"referral_awaiting_triage.json", "100000000002", 2, triage.StateAwaitingTriage, triage.ReferralTypeTriageDeferral, triage.BookingUnknown, "TRIAGE", "",
			[]string{"100000000007", "100000000008"}, []triage.AvailabilityStatus{"THREATS_FOUND", "VALIDATION_FAILED", "AVAILABLE"}, "30001"},
		{"referral_rejected.json", "100000000004", 11, triage.StateRejected, triage.ReferralTypeAppointment, triage.BookingUnknown, "OTHER",
			"Synthetic comment: please refer to the community service.", nil, nil, "30001"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := DecodeReferral(fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.UBRN != tt.ubrn || r.Version != tt.version || r.State.State != tt.state || r.Type != tt.typ ||
				r.Booking() != tt.booking || r.State.Reason.Code != tt.reason || r.State.Comments != tt.comments || r.Service.ID != tt.service {
				t.Errorf("got ubrn %s v%d state %s type %s booking %q reason %q comments %q service %s",
					r.UBRN, r.Version, r.State.State, r.Type, r.Booking(), r.State.Reason.Code, r.State.Comments, r.Service.ID)
			}
			if !slices.Equal(r.RelatedUBRNs, tt.related) {
				t.Errorf("related = %v, want %v", r.RelatedUBRNs, tt.related)
			}
			var av []triage.AvailabilityStatus
			for _, d := range r.Documents {
				av = append(av, d.Availability)
			}
			if !slices.Equal(av, tt.availability) {
				t.Errorf("availability = %v, want %v", av, tt.availability)
			}
		})
	}
}

func TestDecodeCodeSystemFixtures(t *testing.T) {
	cs, err := DecodeCodeSystem(fixture(t, "codesystem_appointment_cancellation_reason.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cs.Type != triage.CodeSystemAppointmentCancellationReason || len(cs.Concepts) != 3 {
		t.Fatalf("type %q, %d concepts", cs.Type, len(cs.Concepts))
	}
	want := triage.Concept{
		Code: "NEEDS_MORE_INFO", Display: "Further information needed", EffectiveFrom: ts("2020-01-01T00:00:00Z"),
		ReasonType: triage.ReasonTypeProviderReject, CommentIsMandatory: true,
		BusinessFunctions: []string{"SERVICE_PROVIDER_CLINICIAN", "SERVICE_PROVIDER_CLINICIAN_ADMIN"}, Usage: []string{"REJECT"},
	}
	if !reflect.DeepEqual(cs.Concepts[0], want) {
		t.Errorf("concept:\n got %+v\nwant %+v", cs.Concepts[0], want)
	}
	if c := cs.Concepts[1]; !c.WillCancelWholeRequest || c.EffectiveTo != ts("2010-01-01T00:00:00Z") {
		t.Errorf("OLD_REASON = %+v", c)
	}
	// The domain offers only current PROVIDER_REJECT reasons.
	rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{cs.Type: cs}}
	reasons := rd.RejectReasons(ts("2026-03-10T00:00:00Z"))
	if len(reasons) != 1 || reasons[0].Code != "NEEDS_MORE_INFO" {
		t.Errorf("reject reasons = %+v", reasons)
	}

	pr, err := DecodeCodeSystem(fixture(t, "codesystem_priority.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd.Systems[pr.Type] = pr
	if d, ok := rd.ContactDays(triage.PriorityUrgent, false); !ok || d != 4 {
		t.Errorf("urgent triage days = %d %v", d, ok)
	}
	if d, ok := rd.ContactDays(triage.PriorityTwoWeekWait, true); !ok || d != 3 {
		t.Errorf("2WW deferral days = %d %v", d, ok)
	}
}

func TestDecodeBundlesFixtures(t *testing.T) {
	actions, err := DecodeAvailableActions(fixture(t, "actions_review_and_cancel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(actions, []triage.Action{triage.ActionRecordReviewOutcome, triage.ActionCancelReferral}) {
		t.Errorf("actions = %v", actions)
	}
	none, err := DecodeAvailableActions(fixture(t, "actions_none.json"))
	if err != nil || len(none) != 0 {
		t.Errorf("no actions: %v %v", none, err)
	}

	roles, err := DecodePractitionerRoles(fixture(t, "practitioner_roles.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantRoles := []Role{
		{ID: "PractitionerRole-Y00001-100000000101", SDSUserID: "100000000101", ODS: "Y00001",
			BusinessFunctions: []triage.BusinessFunction{triage.RoleServiceProviderClinician, triage.RoleServiceProviderClinicianAdmin}},
		{ID: "PractitionerRole-Y00002-100000000101", SDSUserID: "100000000101", ODS: "Y00002",
			BusinessFunctions: []triage.BusinessFunction{triage.RoleReferringClinician}},
	}
	if !reflect.DeepEqual(roles, wantRoles) {
		t.Errorf("roles = %+v", roles)
	}
	if !roles[0].CanVet() || roles[1].CanVet() {
		t.Error("CanVet wrong")
	}
	id := roles[0].Identity(triage.RoleServiceProviderClinicianAdmin, "100000000301")
	if id.OnBehalfOf != "100000000301" || id.ODS != "Y00001" {
		t.Errorf("identity = %+v", id)
	}
	if id := roles[0].Identity(triage.RoleServiceProviderClinician, "100000000301"); id.OnBehalfOf != "" {
		t.Errorf("on-behalf-of must only be set for SPCA: %+v", id)
	}

	users, err := DecodeOnBehalfOfUsers(fixture(t, "obo_users.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The second user's identifier is a single object, as e-RS sends it.
	wantUsers := []OnBehalfOfUser{{SDSUserID: "100000000301", Name: "Dr Alex Synthetic"}, {SDSUserID: "100000000302"}}
	if !reflect.DeepEqual(users, wantUsers) {
		t.Errorf("users = %+v", users)
	}
}

func TestDecodeOperationOutcomeFixtures(t *testing.T) {
	tests := []struct {
		file, code, issue string
	}{
		{"outcome_stu3_invalid_request_state.json", "INVALID_REQUEST_STATE", "business-rule"},
		{"outcome_stu3_pas_not_responding.json", "PAS_NOT_RESPONDING", "timeout"},
		{"outcome_stu3_forbidden.json", "NO_ACCESS", "forbidden"},
		{"outcome_r4_pending.json", "PENDING", "business-rule"},
		{"outcome_r4_no_relationship.json", "NO_RELATIONSHIP", "forbidden"},
	}
	for _, tt := range tests {
		o, err := DecodeOperationOutcome(fixture(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if o.ErrorCoding().Code != tt.code || o.First().Code != tt.issue || o.Diagnostics() == "" {
			t.Errorf("%s: code %q issue %q diagnostics %q", tt.file, o.ErrorCoding().Code, o.First().Code, o.Diagnostics())
		}
	}
}

func TestDecodersRejectBadInput(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"worklist":    func(b []byte) error { _, _, err := DecodeWorklist(b); return err },
		"referral":    func(b []byte) error { _, err := DecodeReferral(b); return err },
		"codesystem":  func(b []byte) error { _, err := DecodeCodeSystem(b); return err },
		"actions":     func(b []byte) error { _, err := DecodeAvailableActions(b); return err },
		"roles":       func(b []byte) error { _, err := DecodePractitionerRoles(b); return err },
		"users":       func(b []byte) error { _, err := DecodeOnBehalfOfUsers(b); return err },
		"outcome":     func(b []byte) error { _, err := DecodeOperationOutcome(b); return err },
		"cancel resp": func(b []byte) error { _, err := DecodeCancelReferralResponse(b); return err },
	}
	bodies := map[string]string{
		"empty":        ``,
		"not json":     `<html>Bad gateway</html>`,
		"truncated":    `{"resourceType":"List","entry":[{`,
		"array":        `[]`,
		"wrong type":   `{"resourceType":"Patient"}`,
		"no type":      `{"entry":[]}`,
		"number field": `{"resourceType":"List","entry":"x","concept":5,"issue":7,"parameter":1}`,
	}
	for dn, dec := range decoders {
		for bn, body := range bodies {
			if err := dec([]byte(body)); err == nil {
				t.Errorf("%s(%s): no error", dn, bn)
			}
		}
	}
}

func TestDecodeErrorsAreSpecificAndCarryNoPatientData(t *testing.T) {
	tests := []struct {
		name, body string
		decode     func([]byte) error
		wantIs     error
	}{
		{"worklist wrong resource", `{"resourceType":"OperationOutcome","issue":[]}`,
			func(b []byte) error { _, _, err := DecodeWorklist(b); return err }, ErrNotResource},
		{"referrer worklist item", `{"resourceType":"List","entry":[{"item":{"reference":"ReferralRequest/100000000001"},"extension":[{"url":"https://example/other","extension":[]}]}]}`,
			func(b []byte) error { _, _, err := DecodeWorklist(b); return err }, ErrNotProviderWorklist},
	}
	for _, tt := range tests {
		err := tt.decode([]byte(tt.body))
		if !errors.Is(err, tt.wantIs) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantIs)
		}
	}
	// Errors name the entry, never the patient.
	bad := []string{
		`{"resourceType":"List","entry":[{"item":{"reference":"ReferralRequest/100000000001"},"extension":[{"url":"` + ExtReferralsForReviewItem + `","extension":[{"url":"patient","valueReference":{"reference":"#Patient-9991000003"}}]}]}]}`,
		`{"resourceType":"List","contained":[{"resourceType":"Patient","id":"Patient-9991000003","identifier":[{"value":"9991000003"}]}],"entry":[{"item":{"reference":"ReferralRequest/100000000001"},"extension":[{"url":"` + ExtReferralsForReviewItem + `","extension":[{"url":"patient","valueReference":{"reference":"#Patient-9991000003"}},{"url":"eReferralPathwayStart","valueDateTime":"9991000003"}]}]}]}`,
	}
	for _, body := range bad {
		_, _, err := DecodeWorklist([]byte(body))
		if err == nil {
			t.Fatalf("no error for %s", body)
		}
		for _, secret := range []string{"9991000003", "100000000001"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains patient data %s", err, secret)
			}
		}
	}
	if _, err := DecodeReferral([]byte(`{"resourceType":"ReferralRequest","id":"100000000001","meta":{"versionId":"W/\"3\""}}`)); err == nil {
		t.Error("a non-numeric versionId must be an error")
	}
	if _, err := DecodeReferral([]byte(`{"resourceType":"ReferralRequest"}`)); err == nil {
		t.Error("a referral without an id must be an error")
	}
}
