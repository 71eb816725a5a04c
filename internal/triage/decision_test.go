package triage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testRefData() *ReferenceData {
	past := time.Date(2004, 6, 1, 0, 0, 0, 0, time.UTC)
	return &ReferenceData{Systems: map[CodeSystemType]CodeSystem{
		CodeSystemAppointmentCancellationReason: {
			Type: CodeSystemAppointmentCancellationReason,
			URL:  "https://example.test/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON",
			Concepts: []Concept{
				{Code: "SERVICE_INAPPROPRIATE", Display: "Inappropriate service", ReasonType: ReasonTypeProviderReject, EffectiveFrom: past},
				{Code: "OTHER", Display: "Other reason", ReasonType: ReasonTypeProviderReject, CommentIsMandatory: true, EffectiveFrom: past},
				{Code: "OLD_REASON", Display: "Withdrawn reason", ReasonType: ReasonTypeProviderReject, EffectiveFrom: past, EffectiveTo: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
				{Code: "FUTURE_REASON", Display: "Future reason", ReasonType: ReasonTypeProviderReject, EffectiveFrom: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
				{Code: "PATIENT_ILL", Display: "Patient ill", ReasonType: "PATIENT", EffectiveFrom: past},
				{Code: "REDIRECTED_OTHER", Display: "Redirected (other)", ReasonType: "UNKNOWN", EffectiveFrom: past},
			},
		},
		CodeSystemPriority: {
			Type: CodeSystemPriority,
			Concepts: []Concept{
				{Code: "ROUTINE", TriageContactDays: 40, DeferToProviderContactDays: 40},
				{Code: "URGENT", TriageContactDays: 5, DeferToProviderContactDays: 10},
				{Code: "TWO_WEEK_WAIT", TriageContactDays: 2, DeferToProviderContactDays: 5},
			},
		},
	}}
}

var clinician = Identity{SDSUserID: "555032006106", ODS: "RCD", BusinessFunction: RoleServiceProviderClinician}

func bookedReferral(b BookingKind) *Referral {
	return &Referral{UBRN: "000000070001", NHSNumber: "9990000018", Version: 5, Priority: PriorityRoutine,
		Type: ReferralTypeAppointment, State: ReferralStatus{State: StateBooked},
		Appointment: &Appointment{ID: "70001", Booking: b}}
}

func rasReferral() *Referral {
	return &Referral{UBRN: "000000070002", NHSNumber: "9990000026", Version: 7, Priority: PriorityUrgent,
		Type: ReferralTypeTriageDeferral, State: ReferralStatus{State: StateAwaitingTriage}}
}

func decisionFor(r *Referral, k DecisionKind) Decision {
	return Decision{ID: "d1", Kind: k, UBRN: r.UBRN, BaseVersion: r.Version, By: clinician, DecidedAt: testNow}
}

func ptr[T any](v T) *T { return &v }

func TestDecisionValidate(t *testing.T) {
	long := strings.Repeat("é", MaxCommentLength+1) // counted in characters, not bytes
	exact := strings.Repeat("é", MaxCommentLength)

	tests := []struct {
		name   string
		ref    *Referral
		mutate func(*Decision)
		want   Rule // "" means valid
	}{
		// Accept (A013).
		{"accept booked", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionAccept }, ""},
		{"accept on RAS refused", rasReferral(), func(d *Decision) { d.Kind = DecisionAccept }, RuleWrongReferralType},
		{"accept with comments refused", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionAccept; d.Comments = "x" }, RuleFieldNotAllowed},
		{"unknown kind", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = "MAYBE" }, RuleUnknownKind},

		// Reject (A014).
		{"reject with current reason", bookedReferral(BookingDirect), rejectWith("SERVICE_INAPPROPRIATE"), ""},
		{"reject without reason", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionReject; d.Comments = "see letter" }, RuleReasonRequired},
		{"reject free-text reason", bookedReferral(BookingDirect), rejectWith("wrong clinic, send to ENT"), RuleReasonUnknown},
		{"reject with expired reason", bookedReferral(BookingDirect), rejectWith("OLD_REASON"), RuleReasonNotCurrent},
		{"reject with not-yet-effective reason", bookedReferral(BookingDirect), rejectWith("FUTURE_REASON"), RuleReasonNotCurrent},
		{"reject with patient reason", bookedReferral(BookingDirect), rejectWith("PATIENT_ILL"), RuleReasonNotReject},
		{"reject with redirect code", bookedReferral(BookingDirect), rejectWith("REDIRECTED_OTHER"), RuleReasonNotReject},
		{"mandatory comment given", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "OTHER"}
			d.Comments = "Please send recent bloods."
		}, ""},
		{"mandatory comment missing", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "OTHER"}
			d.Comments = "   "
		}, RuleCommentRequired},
		{"comment at 2000 characters", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "OTHER"}
			d.Comments = exact
		}, ""},
		{"comment over 2000 characters", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "SERVICE_INAPPROPRIATE"}
			d.Comments = long
		}, RuleCommentTooLong},
		{"IBS reject with PAS answer", bookedReferral(BookingIndirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "SERVICE_INAPPROPRIATE"}
			d.AppointmentCancelledInPAS = ptr(true)
		}, ""},
		{"IBS reject without PAS answer", bookedReferral(BookingIndirect), rejectWith("SERVICE_INAPPROPRIATE"), RulePASRequired},
		{"DBS reject with PAS answer", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionReject
			d.Reason = Coding{Code: "SERVICE_INAPPROPRIATE"}
			d.AppointmentCancelledInPAS = ptr(false)
		}, RulePASNotAllowed},
		{"reject on RAS refused", rasReferral(), rejectWith("SERVICE_INAPPROPRIATE"), RuleWrongReferralType},

		// Redirect (A022).
		{"redirect with comment", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "Please rebook into the rapid access clinic."
		}, ""},
		{"redirect with priority change", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "Upgrade."
			d.NewPriority = PriorityUrgent
		}, ""},
		{"redirect without comment", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionRedirect }, RuleCommentRequired},
		{"redirect to same priority", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "x"
			d.NewPriority = PriorityRoutine
		}, RulePriorityUnchanged},
		{"redirect to unknown priority", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "x"
			d.NewPriority = "EMERGENCY"
		}, RulePriorityInvalid},
		{"IBS redirect without PAS answer", bookedReferral(BookingIndirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "x"
		}, RulePASRequired},
		{"redirect with oversized attachment", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionRedirect
			d.Comments = "x"
			d.Attachments = []ProviderAttachment{{FileName: "scan.tif", Size: MaxAttachmentSize + 1}}
		}, RuleAttachmentTooLarge},
		{"redirect on RAS refused", rasReferral(), func(d *Decision) { d.Kind = DecisionRedirect; d.Comments = "x" }, RuleWrongReferralType},

		// Review outcome (A028).
		{"return with advice", rasReferral(), reviewWith(OutcomeReturnToReferrerWithAdvice, "Start a PPI and re-refer if no better in 8 weeks.", ""), ""},
		{"book later with priority", rasReferral(), reviewWith(OutcomeAcceptReferBookLater, "Book into the nurse-led clinic.", PriorityTwoWeekWait), ""},
		{"review without comment", rasReferral(), reviewWith(OutcomeAcceptReferBookLater, "", ""), RuleCommentRequired},
		{"return with advice and priority", rasReferral(), reviewWith(OutcomeReturnToReferrerWithAdvice, "x", PriorityRoutine), RulePriorityNotAllowed},
		{"outcome A028 does not accept", rasReferral(), reviewWith(OutcomeCancelAppointmentActionLater, "x", ""), RuleOutcomeInvalid},
		{"review without outcome", rasReferral(), func(d *Decision) { d.Kind = DecisionReviewOutcome; d.Comments = "x" }, RuleOutcomeInvalid},
		{"review on booked refused", bookedReferral(BookingDirect), reviewWith(OutcomeAcceptReferBookLater, "x", ""), RuleWrongReferralType},

		// Who and what.
		{"no identity", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionAccept; d.By = Identity{} }, RuleIdentityMissing},
		{"admin role cannot decide", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionAccept
			d.By.BusinessFunction = RoleServiceProviderAdmin
		}, RuleRoleCannotDecide},
		{"clinician admin without on-behalf-of", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionAccept
			d.By.BusinessFunction = RoleServiceProviderClinicianAdmin
		}, RuleIdentityMissing},
		{"clinician admin acting for a clinician", bookedReferral(BookingDirect), func(d *Decision) {
			d.Kind = DecisionAccept
			d.By.BusinessFunction = RoleServiceProviderClinicianAdmin
			d.By.OnBehalfOf = "555031999105"
		}, ""},
		{"no base version", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionAccept; d.BaseVersion = 0 }, RuleVersionMissing},
		{"different referral", bookedReferral(BookingDirect), func(d *Decision) { d.Kind = DecisionAccept; d.UBRN = "000000070009" }, RuleReferralMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decisionFor(tt.ref, DecisionAccept)
			tt.mutate(&d)
			err := d.Validate(ValidationContext{Referral: tt.ref, RefData: testRefData(), Now: testNow})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid decision refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError with %s", err, tt.want)
			}
			if !ve.Has(tt.want) {
				t.Fatalf("problems %+v do not include %s", ve.Problems, tt.want)
			}
			for _, p := range ve.Problems {
				if p.Message == "" || !strings.HasSuffix(p.Message, ".") {
					t.Errorf("problem %s has no plain-English sentence: %q", p.Rule, p.Message)
				}
			}
			if ErrorCodeOf(err) != EINVALID || ErrorMessage(err) == "" {
				t.Errorf("validation error classified as %s", ErrorCodeOf(err))
			}
		})
	}
}

func TestRejectWithoutReferenceData(t *testing.T) {
	r := bookedReferral(BookingDirect)
	d := decisionFor(r, DecisionReject)
	d.Reason = Coding{Code: "SERVICE_INAPPROPRIATE"}
	err := d.Validate(ValidationContext{Referral: r, RefData: &ReferenceData{}, Now: testNow})
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has(RuleReferenceDataMissing) {
		t.Fatalf("got %v, want reference-data-missing", err)
	}
	if got := ve.For(FieldReason); len(got) != 1 {
		t.Errorf("For(reason) = %v", got)
	}
}

func TestValidateWithoutReferral(t *testing.T) {
	err := Decision{Kind: DecisionAccept}.Validate(ValidationContext{Now: testNow})
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has(RuleReferralMismatch) {
		t.Fatalf("got %v", err)
	}
}

func TestAllowedKinds(t *testing.T) {
	if got := AllowedKinds(ReferralTypeAppointment); len(got) != 3 {
		t.Errorf("booked: %v", got)
	}
	if got := AllowedKinds(ReferralTypeTriageDeferral); len(got) != 1 || got[0] != DecisionReviewOutcome {
		t.Errorf("RAS: %v", got)
	}
	if got := AllowedKinds(""); got != nil {
		t.Errorf("unknown type allows %v", got)
	}
}

func TestSettle(t *testing.T) {
	reject := Decision{Kind: DecisionReject, BaseVersion: 5, Reason: Coding{Code: "OTHER"}, Comments: "Please send bloods."}
	redirect := Decision{Kind: DecisionRedirect, BaseVersion: 5, Comments: "Rebook into rapid access."}
	advice := Decision{Kind: DecisionReviewOutcome, BaseVersion: 5, Outcome: OutcomeReturnToReferrerWithAdvice, Comments: "Start a PPI."}
	later := Decision{Kind: DecisionReviewOutcome, BaseVersion: 5, Outcome: OutcomeAcceptReferBookLater, Comments: "Book later."}
	accept := Decision{Kind: DecisionAccept, BaseVersion: 5}
	ref := func(v int, s ReferralState, reason, comments string) *Referral {
		return &Referral{Version: v, State: ReferralStatus{State: s, Reason: Coding{Code: reason}, Comments: comments}}
	}
	tests := []struct {
		name string
		d    Decision
		now  *Referral
		want Settlement
	}{
		{"unchanged: not applied", reject, ref(5, StateBooked, "", ""), SettleNotApplied},
		{"reject applied", reject, ref(6, StateRejected, "OTHER", "Please send bloods."), SettleApplied},
		{"someone else rejected", reject, ref(6, StateRejected, "SERVICE_INAPPROPRIATE", "Wrong clinic."), SettleChanged},
		{"redirect applied (published shape)", redirect, ref(6, StateTriagedProviderToAction, "CANCEL_APPOINTMENT_ACTION_LATER", "Rebook into rapid access."), SettleApplied},
		{"advice applied (published shape)", advice, ref(6, StateTriagedProviderToAction, "RETURN_TO_REFERRER_WITH_ADVICE", "Start a PPI."), SettleApplied},
		{"advice applied (TRIAGE_RESPONSE)", advice, ref(6, StateTriageResponse, "RETURN_TO_REFERRER_WITH_ADVICE", "Start a PPI."), SettleApplied},
		{"book later applied", later, ref(7, StateTriagedProviderToAction, "ACCEPT_REFER_BOOK_LATER", "Book later."), SettleApplied},
		{"other outcome by someone else", later, ref(6, StateTriagedProviderToAction, "RETURN_TO_REFERRER_WITH_ADVICE", "Book later."), SettleChanged},
		{"letter changed", advice, ref(6, StateAwaitingTriage, "", ""), SettleChanged},
		{"accept: worklist decides", accept, ref(6, StateBooked, "", ""), SettleNeedsWorklist},
		{"accept but rejected by someone", accept, ref(6, StateRejected, "OTHER", "x"), SettleChanged},
		{"older version", reject, ref(4, StateBooked, "", ""), SettleChanged},
		{"no referral", reject, nil, SettleChanged},
	}
	for _, tt := range tests {
		if got := tt.d.Settle(tt.now); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	for _, k := range DecisionKinds {
		if k.Operation() == "" || k.Label() == string(k) {
			t.Errorf("%s has no operation or label", k)
		}
	}
}

func TestRejectReasonsFiltered(t *testing.T) {
	rd := testRefData()
	got := rd.RejectReasons(testNow)
	var codes []string
	for _, c := range got {
		codes = append(codes, c.Code)
	}
	if strings.Join(codes, ",") != "SERVICE_INAPPROPRIATE,OTHER" {
		t.Errorf("reject reasons %v: want current PROVIDER_REJECT codes only, sorted by display", codes)
	}
	if rd.EndTriageReasons(testNow) != nil {
		t.Error("end-triage reasons from a missing code system")
	}
	var nilRD *ReferenceData
	if nilRD.RejectReasons(testNow) != nil {
		t.Error("nil reference data gave reasons")
	}
}

func TestErrorMessage(t *testing.T) {
	e := Errorf(ECONFLICT, "Someone else has already acted on this referral.")
	wrapped := errors.Join(errors.New("context"), e)
	if ErrorCodeOf(wrapped) != ECONFLICT || ErrorMessage(wrapped) != e.Message {
		t.Errorf("wrapped error: %s %q", ErrorCodeOf(wrapped), ErrorMessage(wrapped))
	}
	if ErrorCodeOf(errors.New("boom")) != EINTERNAL || !strings.Contains(ErrorMessage(errors.New("boom")), "decisions are safe") {
		t.Error("unknown error not given a safe message")
	}
	if ErrorCodeOf(nil) != "" || ErrorMessage(nil) != "" {
		t.Error("nil error")
	}
	cause := errors.New("dial tcp: refused")
	e2 := &Error{Code: EUNAVAILABLE, Message: "e-RS cannot be reached.", Err: cause}
	if !errors.Is(e2, cause) || !strings.Contains(e2.Error(), "refused") {
		t.Error("cause not wrapped")
	}
}

// rejectWith makes a decision a rejection (A014) with the reason code.
func rejectWith(code string) func(d *Decision) {
	return func(d *Decision) {
		d.Kind = DecisionReject
		d.Reason = Coding{Code: code}
	}
}

// reviewWith makes a decision a review outcome (A028) with the outcome,
// and the comments and new priority when they are not empty.
func reviewWith(o ReviewOutcome, comments string, p Priority) func(d *Decision) {
	return func(d *Decision) {
		d.Kind = DecisionReviewOutcome
		d.Outcome = o
		if comments != "" {
			d.Comments = comments
		}
		if p != "" {
			d.NewPriority = p
		}
	}
}
