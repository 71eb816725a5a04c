package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestEnqueueIsOneDurableTransaction(t *testing.T) {
	env, s, ctx, f := openWith(t, makeDecisionFixture, 1)

	var changes []Change
	s.opts.OnChange = func(c Change) { changes = append(changes, c) }
	e, err := s.Enqueue(ctx, rejectFor(f))
	mustNoErr(t, err, "enqueue")
	if e.ID == "" || e.State != triage.OutboxQueued || e.Attempts != 0 || e.BaseVersion != f.Version ||
		!e.By.SameUser(clinician) || e.CorrelationID == "" || e.CreatedAt.IsZero() {
		t.Fatalf("entry = %+v", e)
	}
	if len(changes) != 1 || changes[0].Kind != ChangeOutbox || changes[0].DecisionID != e.ID {
		t.Errorf("changes = %+v", changes)
	}

	// Closed and reopened, all three records are there.
	mustNoErr(t, s.Close(), "close")
	s = env.open(t)
	got, err := s.Entry(ctx, e.ID)
	mustNoErr(t, err, "entry after reopen")
	if got.Decision.Comments != rejectFor(f).Comments || got.Decision.Reason.Code != "CLINICAL_APPROPRIATENESS" {
		t.Errorf("decision after reopen = %+v", got.Decision)
	}
	recs, err := s.AuditRecords(ctx, 1, 0)
	mustNoErr(t, err, "audit")
	if len(recs) != 1 || recs[0].Event != EventDecisionCreated || recs[0].DecisionID != e.ID ||
		recs[0].UBRN != f.UBRN || recs[0].ReasonCode != "CLINICAL_APPROPRIATENESS" ||
		recs[0].ReferralVersion != f.Version || recs[0].Who.SDSUserID != clinician.SDSUserID ||
		recs[0].Who.ODS != "RX1" || recs[0].Who.BusinessFunction != triage.RoleServiceProviderClinician {
		t.Errorf("audit = %+v", recs)
	}
	if n, _ := s.UnsentCount(ctx); n != 1 {
		t.Errorf("unsent = %d", n)
	}
}

func TestEnqueueRefusesBadDecisions(t *testing.T) {
	_, s, ctx, f := openWith(t, makeDecisionFixture, 2)
	_, err := s.Enqueue(ctx, acceptFor(f))
	mustNoErr(t, err, "first decision")

	cases := []struct {
		name string
		d    func() triage.Decision
		is   error
		code triage.ErrorCode
	}{
		{"second decision for the same referral", func() triage.Decision { return rejectFor(f) }, ErrDecisionPending, triage.ECONFLICT},
		{"another clinician", func() triage.Decision {
			d := acceptFor(makeDecisionFixture(rand.New(rand.NewPCG(3, 3)), 1))
			d.By = otherClinician
			return d
		}, ErrWrongUser, triage.EFORBIDDEN},
		{"no version", func() triage.Decision {
			d := acceptFor(makeDecisionFixture(rand.New(rand.NewPCG(4, 4)), 2))
			d.BaseVersion = 0
			return d
		}, nil, triage.EINVALID},
		{"no referral", func() triage.Decision { d := acceptFor(f); d.UBRN = " "; return d }, nil, triage.EINVALID},
		{"unknown kind", func() triage.Decision { d := acceptFor(f); d.Kind = "MAYBE"; return d }, nil, triage.EINVALID},
		{"unsafe id", func() triage.Decision { d := acceptFor(f); d.ID = "../x"; return d }, nil, triage.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Enqueue(ctx, c.d())
			if err == nil {
				t.Fatal("saved")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err = %v, want %v", err, c.is)
			}
			if got := triage.ErrorCodeOf(err); got != c.code {
				t.Errorf("code = %s, want %s (%v)", got, c.code, err)
			}
			if msg := triage.ErrorMessage(err); msg == "" || containsAny(msg, f.UBRN, f.NHS) {
				t.Errorf("message %q", msg)
			}
		})
	}
	if n, _ := s.UnsentCount(ctx); n != 1 {
		t.Errorf("unsent = %d, want only the first", n)
	}
}

func TestOutboxTransitions(t *testing.T) {
	type step struct {
		op   string
		want triage.OutboxState
		err  error
	}
	se := SendError{Message: "e-RS is busy", HTTPStatus: 503, ERSCode: "SYSTEM_UNAVAILABLE", RequestID: "req-1"}
	conflict := ConflictInfo{Status: triage.ReferralStatus{State: triage.StateRejected, Reason: triage.Coding{Code: "X"}, Comments: "done by colleague"}, Version: 9, HTTPStatus: 409, RequestID: "req-c"}
	cases := []struct {
		name  string
		steps []step
	}{
		{"sent first time", []step{{"begin", triage.OutboxSending, nil}, {"sent", triage.OutboxSent, nil}}},
		{"retry then sent", []step{{"begin", triage.OutboxSending, nil}, {"retry", triage.OutboxQueued, nil},
			{"begin", triage.OutboxSending, nil}, {"sent", triage.OutboxSent, nil}}},
		{"sent is terminal", []step{{"begin", triage.OutboxSending, nil}, {"sent", triage.OutboxSent, nil},
			{"begin", "", ErrIllegalTransition}, {"cancel", "", ErrIllegalTransition}, {"discard", "", ErrIllegalTransition},
			{"failed", "", ErrIllegalTransition}}},
		{"cancel queued", []step{{"cancel", triage.OutboxDiscarded, nil}, {"begin", "", ErrIllegalTransition},
			{"retryUser", "", ErrIllegalTransition}}},
		{"cannot cancel while sending", []step{{"begin", triage.OutboxSending, nil}, {"cancel", "", ErrIllegalTransition}}},
		{"cannot mark sent unless sending", []step{{"sent", "", ErrIllegalTransition}}},
		{"failed then retried by user", []step{{"begin", triage.OutboxSending, nil}, {"failed", triage.OutboxFailed, nil},
			{"begin", "", ErrIllegalTransition}, {"retryUser", triage.OutboxQueued, nil}}},
		{"failed then discarded", []step{{"begin", triage.OutboxSending, nil}, {"failed", triage.OutboxFailed, nil},
			{"discard", triage.OutboxDiscarded, nil}, {"retryUser", "", ErrIllegalTransition}}},
		{"conflict needs acknowledgement before discard", []step{{"begin", triage.OutboxSending, nil},
			{"conflict", triage.OutboxConflict, nil}, {"discard", "", ErrIllegalTransition},
			{"ack", triage.OutboxConflict, nil}, {"discard", triage.OutboxDiscarded, nil}}},
		{"pre-flight conflict from queued", []step{{"conflict", triage.OutboxConflict, nil}, {"begin", "", ErrIllegalTransition}}},
		{"queued cannot be discarded (cancel it)", []step{{"discard", "", ErrIllegalTransition}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			s := env.open(t)
			ctx := context.Background()
			f := makeDecisionFixture(rand.New(rand.NewPCG(uint64(i), 9)), i)
			e, err := s.Enqueue(ctx, rejectFor(f))
			mustNoErr(t, err, "enqueue")
			for _, st := range c.steps {
				var got Entry
				var err error
				switch st.op {
				case "begin":
					got, err = s.BeginSend(ctx, e.ID)
				case "sent":
					got, err = s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "req-ok", HTTPStatus: 200})
				case "retry":
					got, err = s.MarkRetry(ctx, e.ID, se, env.clock.Now().Add(time.Minute))
				case "failed":
					got, err = s.MarkFailed(ctx, e.ID, SendError{Message: "e-RS refused it", HTTPStatus: 422, ERSCode: "INVALID_REQUEST_STATE"})
				case "conflict":
					got, err = s.MarkConflict(ctx, e.ID, conflict, &SendError{Message: "changed", HTTPStatus: 409})
				case "ack":
					got, err = s.AcknowledgeConflict(ctx, e.ID, clinician)
				case "discard":
					got, err = s.Discard(ctx, e.ID, clinician)
				case "cancel":
					got, err = s.Cancel(ctx, e.ID, clinician)
				case "retryUser":
					got, err = s.Retry(ctx, e.ID, clinician)
				}
				if st.err != nil {
					if !errors.Is(err, st.err) {
						t.Fatalf("%s: err = %v, want %v", st.op, err, st.err)
					}
					continue
				}
				mustNoErr(t, err, st.op)
				if got.State != st.want {
					t.Fatalf("%s: state %s, want %s", st.op, got.State, st.want)
				}
				if got.Withdrawn != (st.op == "cancel") {
					t.Fatalf("%s: withdrawn %v: only a cancelled decision reads as withdrawn", st.op, got.Withdrawn)
				}
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Errorf("audit: %v", err)
			}
		})
	}
}

func TestOutboxEntryHoldsWhatTheEngineNeeds(t *testing.T) {
	env, s, ctx, f := openWith(t, makeDecisionFixture, 5)
	e, err := s.Enqueue(ctx, rejectFor(f))
	mustNoErr(t, err, "enqueue")

	_, err = s.BeginSend(ctx, e.ID)
	mustNoErr(t, err, "begin")
	next := env.clock.Now().Add(2 * time.Minute)
	serverDate := time.Date(2026, 3, 2, 9, 31, 0, 0, time.UTC)
	r, err := s.MarkRetry(ctx, e.ID, SendError{Message: "e-RS is busy; trying again shortly", HTTPStatus: 503,
		ERSCode: "SYSTEM_UNAVAILABLE", RequestID: "rq-503", ServerTime: serverDate}, next)
	mustNoErr(t, err, "retry")
	if r.Attempts != 1 || !r.NextAttemptAt.Equal(next) || r.LastError == nil || r.LastError.ERSCode != "SYSTEM_UNAVAILABLE" ||
		r.LastError.RequestID != "rq-503" || r.LastError.CorrelationID != e.CorrelationID {
		t.Fatalf("after retry: %+v %+v", r, r.LastError)
	}
	// Not due yet, and never for another identity.
	if got, _ := s.Sendable(ctx, clinician, env.clock.Now()); len(got) != 0 {
		t.Errorf("sendable before next attempt: %d", len(got))
	}
	env.clock.Advance(3 * time.Minute)
	if got, _ := s.Sendable(ctx, clinician, env.clock.Now()); len(got) != 1 || got[0].Decision.Comments == "" {
		t.Errorf("sendable when due: %+v", got)
	}
	asAdmin := clinician
	asAdmin.BusinessFunction = triage.RoleServiceProviderClinicianAdmin
	if got, _ := s.Sendable(ctx, asAdmin, env.clock.Now()); len(got) != 0 {
		t.Errorf("sendable under another role: %d", len(got))
	}

	_, err = s.BeginSend(ctx, e.ID)
	mustNoErr(t, err, "begin 2")
	sent, err := s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "rq-200", HTTPStatus: 200, ServerTime: serverDate})
	mustNoErr(t, err, "sent")
	if sent.Attempts != 2 || sent.Sent == nil || sent.Sent.NewVersion != f.Version+1 || sent.Sent.RequestID != "rq-200" ||
		sent.Sent.CorrelationID != e.CorrelationID {
		t.Fatalf("sent entry: %+v %+v", sent, sent.Sent)
	}
	if n, _ := s.UnsentCount(ctx); n != 0 {
		t.Errorf("unsent after sent = %d", n)
	}
	// Sent frees the referral for a new decision.
	_, err = s.Enqueue(ctx, acceptFor(f))
	mustNoErr(t, err, "new decision after sent")

	recs, _ := s.AuditRecords(ctx, 1, 0)
	var results []string
	for _, r := range recs {
		if r.Event == EventSendResult {
			results = append(results, r.Result)
			if r.CorrelationID != e.CorrelationID {
				t.Errorf("audit correlation id %q", r.CorrelationID)
			}
		}
	}
	if len(results) != 2 || results[0] != "retry later" || results[1] != "sent" {
		t.Errorf("send results audited: %v", results)
	}
	if recs[2].RequestID != "rq-200" || !recs[2].ServerTime.Equal(serverDate) || recs[2].ReferralVersion != f.Version+1 {
		t.Errorf("sent audit record %+v", recs[2])
	}
}

func TestConflictRecordsWhatERSSays(t *testing.T) {
	_, s, ctx, f := openWith(t, makeDecisionFixture, 6)
	e, _ := s.Enqueue(ctx, rejectFor(f))
	_, _ = s.BeginSend(ctx, e.ID)
	c, err := s.MarkConflict(ctx, e.ID, ConflictInfo{Status: triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "R1", Display: "Other"}, Comments: "Already rejected"}, Version: f.Version + 2,
		RequestID: "rq-409", HTTPStatus: 409}, &SendError{Message: "Someone else changed this referral first.", HTTPStatus: 409})
	mustNoErr(t, err, "conflict")
	if c.Conflict == nil || c.Conflict.Status.State != triage.StateRejected || c.Conflict.Version != f.Version+2 ||
		c.Conflict.Acknowledged || c.LastError == nil {
		t.Fatalf("conflict entry %+v", c.Conflict)
	}
	mustNoErr(t, s.NoteConflictShown(ctx, e.ID, clinician), "shown")
	if _, err := s.AcknowledgeConflict(ctx, e.ID, otherClinician); !errors.Is(err, ErrWrongUser) {
		t.Errorf("ack by another clinician: %v", err)
	}
	a, err := s.AcknowledgeConflict(ctx, e.ID, clinician)
	mustNoErr(t, err, "ack")
	if !a.Conflict.Acknowledged || a.Conflict.AcknowledgedAt.IsZero() {
		t.Errorf("ack not recorded: %+v", a.Conflict)
	}
	recs, _ := s.AuditRecords(ctx, 1, 0)
	want := []AuditEvent{EventDecisionCreated, EventSendResult, EventConflictShown, EventConflictAcknowledged}
	if len(recs) != len(want) {
		t.Fatalf("audit %d records", len(recs))
	}
	for i, w := range want {
		if recs[i].Event != w {
			t.Errorf("record %d = %s, want %s", i, recs[i].Event, w)
		}
	}
	if recs[1].RequestID != "rq-409" || recs[1].HTTPStatus != 409 {
		t.Errorf("conflict audit %+v", recs[1])
	}
}

func TestAmendReplacesAFailedDecision(t *testing.T) {
	_, s, ctx, f := openWith(t, makeDecisionFixture, 7)
	e, _ := s.Enqueue(ctx, rejectFor(f))
	_, _ = s.BeginSend(ctx, e.ID)
	_, err := s.MarkFailed(ctx, e.ID, SendError{Message: "The reason code is no longer valid.", HTTPStatus: 422, ERSCode: "INVALID_CODE"})
	mustNoErr(t, err, "failed")

	other := rejectFor(makeDecisionFixture(rand.New(rand.NewPCG(8, 8)), 1))
	if _, err := s.Amend(ctx, e.ID, other); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("amend with another referral: %v", err)
	}
	d := rejectFor(f)
	d.Reason = triage.Coding{Code: "NEW_REASON", Display: "Newer reason"}
	n, err := s.Amend(ctx, e.ID, d)
	mustNoErr(t, err, "amend")
	if n.State != triage.OutboxQueued || n.Replaces != e.ID || n.ID == e.ID {
		t.Errorf("new entry %+v", n)
	}
	old, _ := s.Entry(ctx, e.ID)
	if old.State != triage.OutboxDiscarded || old.ReplacedBy != n.ID {
		t.Errorf("old entry %+v", old)
	}
	if _, err := s.Amend(ctx, e.ID, d); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("amending a discarded decision: %v", err)
	}
	latest, err := s.LatestForReferral(ctx, f.UBRN)
	mustNoErr(t, err, "latest")
	if latest.ID != n.ID || latest.Decision.Reason.Code != "NEW_REASON" {
		t.Errorf("latest = %+v", latest)
	}
	st, err := s.LocalStatuses(ctx)
	mustNoErr(t, err, "statuses")
	if st[f.UBRN] != triage.LocalQueued {
		t.Errorf("local status %q", st[f.UBRN])
	}
	recs, _ := s.AuditRecords(ctx, 1, 0)
	last := recs[len(recs)-2:]
	if last[0].Event != EventDecisionAmended || last[0].DecisionID != e.ID || last[1].Event != EventDecisionCreated || last[1].DecisionID != n.ID {
		t.Errorf("amend audit %+v", last)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestAmendQueuedAndUnacknowledgedConflict(t *testing.T) {
	_, s, ctx, f := openWith(t, makeDecisionFixture, 9)
	e, _ := s.Enqueue(ctx, acceptFor(f))
	n, err := s.Amend(ctx, e.ID, rejectFor(f))
	mustNoErr(t, err, "amend queued")
	_, _ = s.BeginSend(ctx, n.ID)
	if _, err := s.Amend(ctx, n.ID, acceptFor(f)); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("amend while sending: %v", err)
	}
	_, _ = s.MarkConflict(ctx, n.ID, ConflictInfo{Status: triage.ReferralStatus{State: triage.StateBooked}, Version: 12}, nil)
	if _, err := s.Amend(ctx, n.ID, acceptFor(f)); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("amend before acknowledging: %v", err)
	}
	_, _ = s.AcknowledgeConflict(ctx, n.ID, clinician)
	d := acceptFor(f)
	d.BaseVersion = 12
	m, err := s.Amend(ctx, n.ID, d)
	mustNoErr(t, err, "amend after ack")
	if m.BaseVersion != 12 {
		t.Errorf("base version %d", m.BaseVersion)
	}
}

func TestInFlightReportedAfterReopen(t *testing.T) {
	env, s, ctx, f := openWith(t, makeDecisionFixture, 10)
	e, _ := s.Enqueue(ctx, acceptFor(f))
	_, _ = s.BeginSend(ctx, e.ID)
	s.Close()
	s = env.open(t)
	if got := s.Report().InFlight; got != 1 {
		t.Errorf("in flight = %d", got)
	}
	// The engine settles it: re-read showed it was applied.
	got, err := s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, Settled: true})
	mustNoErr(t, err, "settle")
	if !got.Sent.Settled {
		t.Error("settled flag lost")
	}
}
