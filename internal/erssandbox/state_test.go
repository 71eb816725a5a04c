package erssandbox

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const rrPath = "/STU3/ReferralRequest/"

func ptrBool(b bool) *bool { return &b }

// decisionBody builds a decision body the way the client does.
func decisionBody(t testing.TB, d triage.Decision, reasonSystem string) []byte {
	t.Helper()
	if d.Kind == triage.DecisionAccept {
		return nil
	}
	p, err := fhir.DecisionParameters(d, reasonSystem)
	if err != nil {
		t.Fatalf("build %s body: %v", d.Kind, err)
	}
	return mustJSON(t, p)
}

var opPath = map[triage.DecisionKind]string{
	triage.DecisionAccept:        "$ers.acceptReferral",
	triage.DecisionReject:        "$ers.rejectReferral",
	triage.DecisionRedirect:      "$ers.cancelAppointmentActionLater",
	triage.DecisionReviewOutcome: "$ers.recordReviewOutcome",
}

// send posts a decision with If-Match of the version.
func send(t testing.TB, sb *Sandbox, ubrn string, version int, d triage.Decision) reply {
	t.Helper()
	d.UBRN = ubrn
	body := decisionBody(t, d, sb.ReferenceData().Systems[triage.CodeSystemAppointmentCancellationReason].URL)
	var b any
	if body != nil {
		b = body
	}
	return do(t, sb, "POST", rrPath+ubrn+"/"+opPath[d.Kind], asSPC, b, ifm(version)...)
}

func mustDecode(t testing.TB, rep reply) *triage.Referral {
	t.Helper()
	r, err := fhir.DecodeReferral(rep.Body)
	if err != nil {
		t.Fatalf("decode referral: %v (%d %s)", err, rep.Status, rep.Body)
	}
	return r
}

func onList(sb *Sandbox, list triage.ListType, ubrn string) bool {
	for _, it := range sb.Worklist(list, ProviderODS) {
		if it.UBRN == ubrn {
			return true
		}
	}
	return false
}

func rejectReason(code string) triage.Coding {
	return triage.Coding{System: "_baseurl_/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", Code: code}
}

func TestTransitions(t *testing.T) {
	cases := []struct {
		name      string
		typ       triage.ReferralType
		booking   triage.BookingKind
		decision  triage.Decision
		wantState triage.ReferralState
		wantCode  string
	}{
		{name: "accept DBS", typ: triage.ReferralTypeAppointment, booking: triage.BookingDirect,
			decision: triage.Decision{Kind: triage.DecisionAccept}, wantState: triage.StateBooked},
		{name: "accept IBS", typ: triage.ReferralTypeAppointment, booking: triage.BookingIndirect,
			decision: triage.Decision{Kind: triage.DecisionAccept}, wantState: triage.StateBooked},
		{name: "reject DBS", typ: triage.ReferralTypeAppointment, booking: triage.BookingDirect,
			decision:  triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("SERVICE_INAPPROPRIATE"), Comments: "Please refer to the community service."},
			wantState: triage.StateRejected},
		{name: "reject IBS with PAS", typ: triage.ReferralTypeAppointment, booking: triage.BookingIndirect,
			decision:  triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "Seen privately.", AppointmentCancelledInPAS: ptrBool(true)},
			wantState: triage.StateRejected},
		{name: "redirect DBS with priority", typ: triage.ReferralTypeAppointment, booking: triage.BookingDirect,
			decision:  triage.Decision{Kind: triage.DecisionRedirect, Comments: "Rebook into the heart failure clinic.", NewPriority: triage.PriorityUrgent},
			wantState: triage.StateTriagedProviderToAction},
		{name: "redirect IBS", typ: triage.ReferralTypeAppointment, booking: triage.BookingIndirect,
			decision:  triage.Decision{Kind: triage.DecisionRedirect, Comments: "Rebook.", AppointmentCancelledInPAS: ptrBool(false)},
			wantState: triage.StateTriagedProviderToAction},
		{name: "triage: return with advice", typ: triage.ReferralTypeTriageDeferral,
			decision:  triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice, Comments: "Start a PPI and review in 8 weeks."},
			wantState: triage.StateTriageResponse},
		{name: "triage: book later with priority", typ: triage.ReferralTypeTriageDeferral,
			decision:  triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater, Comments: "Book urgently.", NewPriority: triage.PriorityTwoWeekWait},
			wantState: triage.StateTriagedProviderToAction},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb := start(t, Config{Referrals: 200})
			r := pickReferral(t, sb, reviewable(sb, tc.typ, tc.booking))
			if tc.decision.NewPriority == r.Priority {
				tc.decision.NewPriority = ""
			}
			rep := send(t, sb, r.UBRN, r.Version, tc.decision)
			if rep.Status != http.StatusOK {
				t.Fatalf("status %d %s", rep.Status, rep.Body)
			}
			got := mustDecode(t, rep)
			if got.State.State != tc.wantState || got.Version != r.Version+1 {
				t.Errorf("state %s version %d, want %s version %d", got.State.State, got.Version, tc.wantState, r.Version+1)
			}
			if rep.Header.Get("ETag") != etag(r.Version+1) {
				t.Errorf("ETag %q, want %s", rep.Header.Get("ETag"), etag(r.Version+1))
			}
			if tc.decision.Kind != triage.DecisionAccept && got.State.Comments != tc.decision.Comments {
				t.Errorf("state comments %q, want %q", got.State.Comments, tc.decision.Comments)
			}
			if tc.decision.NewPriority != "" && got.Priority != tc.decision.NewPriority {
				t.Errorf("priority %s, want %s", got.Priority, tc.decision.NewPriority)
			}
			switch tc.decision.Kind {
			case triage.DecisionReject:
				if got.State.Reason.Code != tc.decision.Reason.Code || got.State.Reason.Display == "" {
					t.Errorf("reject reason %+v", got.State.Reason)
				}
			case triage.DecisionRedirect:
				if got.State.Reason.Code != string(triage.OutcomeCancelAppointmentActionLater) {
					t.Errorf("redirect reason %+v, want CANCEL_APPOINTMENT_ACTION_LATER", got.State.Reason)
				}
			case triage.DecisionReviewOutcome:
				if got.State.Reason.Code != string(tc.decision.Outcome) {
					t.Errorf("review reason %+v, want %s", got.State.Reason, tc.decision.Outcome)
				}
			}
			if onList(sb, triage.ListReferralsForReview, r.UBRN) {
				t.Error("an actioned referral is still on Referrals for Review")
			}
			// The same decision again is now an invalid transition.
			again := send(t, sb, r.UBRN, got.Version, tc.decision)
			if again.Status != http.StatusUnprocessableEntity || again.code() != "INVALID_REQUEST_STATE" {
				t.Errorf("repeat: %d %s, want 422 INVALID_REQUEST_STATE", again.Status, again.code())
			}
			st := sb.Stats()
			if len(st.Writes) != 2 || !st.Writes[0].Applied || st.Writes[0].Version != r.Version+1 || st.Writes[0].Status != 200 ||
				st.Writes[1].Applied || st.Writes[1].Status != 422 || st.Writes[0].Op != tc.decision.Kind.Operation() {
				t.Errorf("write log %+v", st.Writes)
			}
		})
	}
}

func TestInvalidDecisions(t *testing.T) {
	sb := start(t, Config{Referrals: 300})
	dbs := reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect)
	ibs := reviewable(sb, triage.ReferralTypeAppointment, triage.BookingIndirect)
	ras := reviewable(sb, triage.ReferralTypeTriageDeferral, "")
	long := strings.Repeat("x", triage.MaxCommentLength+1)
	cases := []struct {
		name  string
		match func(triage.Referral) bool
		d     triage.Decision
		code  string
	}{
		{"accept a triage referral", ras, triage.Decision{Kind: triage.DecisionAccept}, "INVALID_REQUEST_STATE"},
		{"reject a triage referral", ras, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x"}, "INVALID_REQUEST_STATE"},
		{"redirect a triage referral", ras, triage.Decision{Kind: triage.DecisionRedirect, Comments: "x"}, "INVALID_REQUEST_STATE"},
		{"review outcome on a booked referral", dbs, triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater, Comments: "x"}, "INVALID_REQUEST_TYPE"},
		{"reject with a non-reject reason", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("CLINIC_CANCELLED"), Comments: "x"}, "INAPPROPRIATE_VALUE"},
		{"reject with an expired reason", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason(ExpiredRejectReason), Comments: "x"}, "INVALID_CODE"},
		{"reject with an unknown reason", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("NOT_A_REASON"), Comments: "x"}, "INVALID_CODE"},
		{"reject without the mandatory comment", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("FURTHER_INFORMATION_REQUIRED")}, "VALUE_IS_REQUIRED"},
		{"reject with a comment over 2000 characters", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: long}, "INVALID_VALUE"},
		{"reject IBS without appointmentCancelledInPAS", ibs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x"}, "VALUE_IS_REQUIRED"},
		{"reject DBS with appointmentCancelledInPAS", dbs, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x", AppointmentCancelledInPAS: ptrBool(true)}, "FIELD_NOT_PERMITTED"},
		{"redirect IBS without appointmentCancelledInPAS", ibs, triage.Decision{Kind: triage.DecisionRedirect, Comments: "x"}, "VALUE_IS_REQUIRED"},
		{"redirect with an attachment never uploaded", dbs, triage.Decision{Kind: triage.DecisionRedirect, Comments: "x",
			Attachments: []triage.ProviderAttachment{{BinaryID: "0b0b0b0b-0000-4000-8000-000000000000", FileName: "a.pdf"}}}, "REFERENCE_NOT_FOUND"},
		{"return with advice and a priority", ras, triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice, Comments: "x", NewPriority: triage.PriorityUrgent}, "PRIORITY_NOT_CURRENT"},
		{"review outcome not recordable", ras, triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeCancelAppointmentActionLater, Comments: "x"}, "INVALID_CODE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pickReferral(t, sb, tc.match)
			rep := send(t, sb, r.UBRN, r.Version, tc.d)
			if rep.Status != http.StatusUnprocessableEntity || rep.code() != tc.code {
				t.Fatalf("%d %s (%s), want 422 %s", rep.Status, rep.code(), rep.Body, tc.code)
			}
			after, _ := sb.Referral(r.UBRN)
			if after.Version != r.Version || after.State != r.State {
				t.Error("a refused decision changed the referral")
			}
		})
	}
	t.Run("reject with a reason from another code system", func(t *testing.T) {
		r := pickReferral(t, sb, dbs)
		body := `{"resourceType":"Parameters","parameter":[{"name":"rejectionReason","valueCoding":{"system":"https://example.org/CodeSystem/OTHER-REASONS","code":"OTHER"}},{"name":"rejectionComments","valueString":"x"}]}`
		rep := do(t, sb, "POST", rrPath+r.UBRN+"/$ers.rejectReferral", asSPC, body, ifm(r.Version)...)
		if rep.Status != 422 || rep.code() != "INVALID_CODE" {
			t.Errorf("%d %s", rep.Status, rep.code())
		}
	})
	t.Run("accept with a body", func(t *testing.T) {
		r := pickReferral(t, sb, dbs)
		rep := do(t, sb, "POST", rrPath+r.UBRN+"/$ers.acceptReferral", asSPC, `{"resourceType":"Parameters"}`, ifm(r.Version)...)
		if rep.Status != 422 || rep.code() != "UNEXPECTED_FIELD" {
			t.Errorf("%d %s", rep.Status, rep.code())
		}
	})
	t.Run("malformed body", func(t *testing.T) {
		r := pickReferral(t, sb, dbs)
		rep := do(t, sb, "POST", rrPath+r.UBRN+"/$ers.rejectReferral", asSPC, `{"resourceType":`, ifm(r.Version)...)
		if rep.Status != 422 || rep.code() != "INVALID_FHIR_STRUCTURE" {
			t.Errorf("%d %s", rep.Status, rep.code())
		}
	})
}

func TestIfMatchRules(t *testing.T) {
	sb := start(t, Config{Referrals: 100})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	accept := rrPath + r.UBRN + "/$ers.acceptReferral"

	if rep := do(t, sb, "POST", accept, asSPC, nil); rep.Status != http.StatusPreconditionFailed {
		t.Errorf("no If-Match: %d, want 412", rep.Status)
	}
	if rep := do(t, sb, "POST", accept, asSPC, nil, "If-Match", strconv.Itoa(r.Version)); rep.Status != http.StatusPreconditionFailed {
		t.Errorf("If-Match not a weak ETag: %d, want 412", rep.Status)
	}
	if rep := do(t, sb, "POST", accept, asSPC, nil, ifm(r.Version-1)...); rep.Status != http.StatusConflict {
		t.Errorf("stale If-Match: %d, want 409", rep.Status)
	}
	// Someone else changes the referral: the version the client saw is stale.
	v, err := sb.ChangePriority(r.UBRN, triage.PriorityUrgent)
	if err != nil || v != r.Version+1 {
		t.Fatalf("change priority: v%d %v", v, err)
	}
	if rep := do(t, sb, "POST", accept, asSPC, nil, ifm(r.Version)...); rep.Status != http.StatusConflict {
		t.Errorf("after a change by someone else: %d, want 409", rep.Status)
	}
	if rep := do(t, sb, "POST", accept, asSPC, nil, ifm(v)...); rep.Status != http.StatusOK || rep.Header.Get("ETag") != etag(v+1) {
		t.Errorf("current If-Match: %d ETag %q", rep.Status, rep.Header.Get("ETag"))
	}
	var refused []int
	for _, w := range sb.Stats().Writes {
		if !w.Applied {
			refused = append(refused, w.Status)
		}
	}
	if len(refused) != 4 || refused[0] != 412 || refused[2] != 409 || refused[3] != 409 {
		t.Errorf("refused writes logged %v", refused)
	}
}

func TestConcurrentWriteGetsLocked(t *testing.T) {
	sb := start(t, Config{Referrals: 100})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	gate, err := sb.HoldNextWrite(r.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	var first reply
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = send(t, sb, r.UBRN, r.Version, triage.Decision{Kind: triage.DecisionAccept})
	}()
	<-gate.Entered()
	second := send(t, sb, r.UBRN, r.Version, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x"})
	if second.Status != http.StatusLocked {
		t.Errorf("second write while the first holds the lock: %d, want 423", second.Status)
	}
	gate.Release()
	wg.Wait()
	if first.Status != http.StatusOK {
		t.Errorf("first write: %d %s", first.Status, first.Body)
	}
	// The lock is free again: a write with the new version is judged on its
	// merits (the referral was accepted, so reject is no longer allowed).
	third := send(t, sb, r.UBRN, r.Version+1, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x"})
	if third.Status != http.StatusUnprocessableEntity {
		t.Errorf("after release: %d", third.Status)
	}

	// Someone else holding the referral's lock gives 423 too.
	r2 := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	release, err := sb.LockReferral(r2.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	if rep := send(t, sb, r2.UBRN, r2.Version, triage.Decision{Kind: triage.DecisionAccept}); rep.Status != http.StatusLocked {
		t.Errorf("while locked by someone else: %d, want 423", rep.Status)
	}
	release()
	if rep := send(t, sb, r2.UBRN, r2.Version, triage.Decision{Kind: triage.DecisionAccept}); rep.Status != http.StatusOK {
		t.Errorf("after the lock is released: %d", rep.Status)
	}
	got := map[int]int{}
	for _, w := range sb.Stats().Writes {
		got[w.Status]++
	}
	if got[423] != 2 || got[200] != 2 {
		t.Errorf("write log statuses %v", got)
	}
}

func TestWriteLockHoldConfig(t *testing.T) {
	sb := start(t, Config{Referrals: 100, WriteLockHold: 2 * time.Second})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	done := make(chan reply)
	go func() { done <- send(t, sb, r.UBRN, r.Version, triage.Decision{Kind: triage.DecisionAccept}) }()
	// Wait until the first write has arrived; it then holds the lock for 2 s.
	for sb.Stats().Requests["A013"] == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if rep := send(t, sb, r.UBRN, r.Version, triage.Decision{Kind: triage.DecisionAccept}); rep.Status != http.StatusLocked {
		t.Errorf("during the configured hold: %d, want 423", rep.Status)
	}
	if rep := <-done; rep.Status != http.StatusOK {
		t.Errorf("held write: %d", rep.Status)
	}
}

func TestVersionedRead(t *testing.T) {
	sb := start(t, Config{})
	r := sb.Referrals(nil)[0]
	rep := do(t, sb, "GET", rrPath+r.UBRN, asSPC, nil)
	if rep.Status != 200 || rep.Header.Get("ETag") != etag(r.Version) {
		t.Fatalf("A005: %d ETag %q", rep.Status, rep.Header.Get("ETag"))
	}
	if got := mustDecode(t, rep); got.UBRN != r.UBRN || got.Version != r.Version || got.NHSNumber != r.NHSNumber {
		t.Errorf("A005 gave %s v%d", got.UBRN, got.Version)
	}
	if rep := do(t, sb, "GET", rrPath+r.UBRN+"/_history/"+strconv.Itoa(r.Version), asSPC, nil); rep.Status != 200 {
		t.Errorf("current version: %d", rep.Status)
	}
	rep = do(t, sb, "GET", rrPath+r.UBRN+"/_history/"+strconv.Itoa(r.Version-1), asSPC, nil)
	if rep.Status != 404 || rep.code() != "HISTORY_NOT_SUPPORTED" {
		t.Errorf("old version: %d %s, want 404 HISTORY_NOT_SUPPORTED", rep.Status, rep.code())
	}
	if rep := do(t, sb, "GET", rrPath+"000000000000", asSPC, nil); rep.Status != 404 {
		t.Errorf("unknown UBRN: %d", rep.Status)
	}
}

func TestControlChanges(t *testing.T) {
	sb := start(t, Config{Referrals: 100})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, ""))

	// Another clinician rejects it.
	st := triage.ReferralStatus{State: triage.StateRejected, Reason: rejectReason("OTHER"), Comments: "Rejected by a colleague."}
	v, err := sb.SetState(r.UBRN, st)
	if err != nil || v != r.Version+1 {
		t.Fatalf("set state: %d %v", v, err)
	}
	got := mustDecode(t, do(t, sb, "GET", rrPath+r.UBRN, asSPC, nil))
	if got.State.State != triage.StateRejected || got.State.Comments != st.Comments {
		t.Errorf("state after SetState: %+v", got.State)
	}
	if onList(sb, triage.ListReferralsForReview, r.UBRN) {
		t.Error("a referral rejected by someone else is still for review")
	}

	// The referrer changes the letter of another one.
	r2 := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeTriageDeferral, ""))
	var before triage.WorklistItem
	for _, it := range sb.Worklist(triage.ListReferralsForReview, ProviderODS) {
		if it.UBRN == r2.UBRN {
			before = it
		}
	}
	if _, err := sb.ChangeLetter(r2.UBRN, ""); err != nil {
		t.Fatal(err)
	}
	var after triage.WorklistItem
	for _, it := range sb.Worklist(triage.ListReferralsForReview, ProviderODS) {
		if it.UBRN == r2.UBRN {
			after = it
		}
	}
	if !after.ContextStatus.LetterChanged() || !after.ClinicalInfoLastUpdated.After(before.ClinicalInfoLastUpdated) || after.Version != before.Version+1 {
		t.Errorf("after a letter change: %s, last updated %v (was %v), version %d (was %d)", after.ContextStatus,
			after.ClinicalInfoLastUpdated, before.ClinicalInfoLastUpdated, after.Version, before.Version)
	}
	if _, err := sb.ChangePriority(r2.UBRN, triage.PriorityTwoWeekWait); err != nil {
		t.Fatal(err)
	}
	for _, it := range sb.Worklist(triage.ListReferralsForReview, ProviderODS) {
		if it.UBRN == r2.UBRN && (it.ContextStatus != triage.ContextPriorityAndLetterChanged || it.Priority != triage.PriorityTwoWeekWait) {
			t.Errorf("after letter and priority changes: %s %s", it.ContextStatus, it.Priority)
		}
	}

	// New referrals arrive.
	ubrns, err := sb.AddReferrals(5)
	if err != nil || len(ubrns) != 5 {
		t.Fatalf("add referrals: %v %v", ubrns, err)
	}
	if _, err := sb.Referral(ubrns[4]); err != nil {
		t.Errorf("added referral: %v", err)
	}
	if _, err := sb.SetState("999999999999", st); err == nil {
		t.Error("SetState of an unknown UBRN succeeded")
	}
}

func TestControlHTTP(t *testing.T) {
	sb := start(t, Config{Referrals: 100, PendingDelay: -1})
	ctl := sb.ControlURL()
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, ""))
	rep := do(t, sb, "POST", ctl+"/referrals/"+r.UBRN+"/state", as{}, `{"state":"REJECTED","reason":{"code":"OTHER"},"comments":"by another clinician"}`)
	if rep.Status != 200 || !strings.Contains(string(rep.Body), `"version": `+strconv.Itoa(r.Version+1)) {
		t.Fatalf("state: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "POST", ctl+"/referrals/"+r.UBRN+"/letter", as{}, `{"text":"more information"}`); rep.Status != 200 {
		t.Errorf("letter: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "POST", ctl+"/referrals/"+r.UBRN+"/priority", as{}, `{"priority":"URGENT"}`); rep.Status != 200 {
		t.Errorf("priority: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "POST", ctl+"/referrals", as{}, `{"count":3}`); rep.Status != 200 || strings.Count(string(rep.Body), `"1`) < 3 {
		t.Errorf("add: %d %s", rep.Status, rep.Body)
	}
	var pendingID string
	for _, x := range sb.Referrals(nil) {
		for _, d := range x.Documents {
			if d.Availability == triage.AvailabilityPending && pendingID == "" {
				pendingID = d.ID
			}
		}
	}
	if rep := do(t, sb, "POST", ctl+"/attachments/"+pendingID+"/available", as{}, nil); rep.Status != 200 {
		t.Errorf("available: %d %s", rep.Status, rep.Body)
	}
	if rep := do(t, sb, "POST", ctl+"/attachments/"+pendingID+"/available", as{}, nil); rep.Status != 400 {
		t.Errorf("available twice: %d, want 400", rep.Status)
	}
	if rep := do(t, sb, "POST", ctl+"/referrals/nope/letter", as{}, nil); rep.Status != 404 {
		t.Errorf("unknown referral: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", ctl+"/referrals", as{}, nil); rep.Status != 200 || !strings.Contains(string(rep.Body), r.UBRN) {
		t.Errorf("list: %d", rep.Status)
	}
	r2 := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	if rep := do(t, sb, "POST", ctl+"/referrals/"+r2.UBRN+"/lock", as{}, `{"ms":60000}`); rep.Status != 200 {
		t.Fatalf("lock: %d", rep.Status)
	}
	if rep := send(t, sb, r2.UBRN, r2.Version, triage.Decision{Kind: triage.DecisionAccept}); rep.Status != http.StatusLocked {
		t.Errorf("locked through the control API: %d, want 423", rep.Status)
	}
}
