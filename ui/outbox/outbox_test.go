package outbox

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/audit"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// outboxFixture is a demo workspace with one decision of each kind the
// outbox acts on: a conflict, a failed decision and a queued one.
type outboxFixture struct {
	rt                       *app.Runtime
	a                        *app.Workspace
	conflict, failed, queued string // outbox ids
	conflictUBRN, failedUBRN string
	b                        *bridge.Bridge
	loop                     *bridge.Loop
	w                        fyne.Window
	v                        *OutboxView
	amended                  []app.Entry
}

func newOutboxFixture(t *testing.T) *outboxFixture {
	t.Helper()
	test.NewTempApp(t)
	f := &outboxFixture{}
	f.rt, f.a = uitest.DemoWorkspace(t, uitest.DemoRuntimeOptions(t))
	ctx := context.Background()
	refs := uitest.BookedReferrals(t, f.a)
	if len(refs) < 3 {
		t.Fatalf("only %d booked referrals", len(refs))
	}
	f.conflictUBRN, f.failedUBRN = refs[0], refs[1]
	f.conflict = uitest.AcceptReferral(t, f.a, refs[0])
	uitest.ChangeInERS(t, f.rt, refs[0])
	if _, err := apptest.Engine(f.a).SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if en, _ := apptest.Store(f.a).Entry(ctx, f.conflict); en.State != triage.OutboxConflict {
		t.Fatalf("decision on a referral changed in e-RS is %s, want conflict", en.State)
	}
	// e-RS refusing a decision for good is the engine's to test; here the
	// outbox only needs one.
	f.failed = uitest.AcceptReferral(t, f.a, refs[1])
	if _, err := apptest.Store(f.a).BeginSend(ctx, f.failed); err != nil {
		t.Fatal(err)
	}
	if _, err := apptest.Store(f.a).MarkFailed(ctx, f.failed, app.SendError{Message: "e-RS refused this decision: the patient's details need checking.",
		HTTPStatus: 422, ERSCode: "PATIENT_ERROR", RequestID: "req-123", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.queued = uitest.AcceptReferral(t, f.a, refs[2])

	f.b, f.loop = uitest.LoopBridge(t)
	f.w = test.NewTempWindow(t, nil)
	f.w.Resize(fyne.NewSize(1200, 800))
	f.v = NewOutboxView(OutboxOptions{Workspace: f.a, Bridge: f.b, Window: f.w,
		Amend: func(en app.Entry) { f.amended = append(f.amended, en) }})
	f.w.SetContent(f.v.Object())
	f.settle(t)
	return f
}

// settle waits for the outbox's reads and writes to finish.
func (f *outboxFixture) settle(t *testing.T) {
	t.Helper()
	uitest.PumpUntil(t, f.loop, 10*time.Second, "the outbox's operations", func() bool { return !f.v.busy() })
	f.v.Reload() // as the engine's outbox event would
	uitest.PumpUntil(t, f.loop, 10*time.Second, "the outbox to load", func() bool { return !f.v.busy() })
}

// rowIDs returns the listed entries' ids.
func (f *outboxFixture) rowIDs() []string {
	var ids []string
	for _, r := range f.v.rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func (f *outboxFixture) state(t *testing.T, id string) app.Entry {
	t.Helper()
	en, err := apptest.Store(f.a).Entry(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// audited returns the audit events recorded for the decision.
func (f *outboxFixture) audited(t *testing.T, id string) []app.AuditEvent {
	t.Helper()
	recs, err := apptest.Store(f.a).AuditRecords(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []app.AuditEvent
	for _, r := range recs {
		if r.DecisionID == id {
			out = append(out, r.Event)
		}
	}
	return out
}

func hasEvent(evs []app.AuditEvent, e app.AuditEvent) bool {
	for _, v := range evs {
		if v == e {
			return true
		}
	}
	return false
}

// TestOutboxConflictMustBeAcknowledgedThenDiscarded: a conflict shows the
// decision beside what e-RS says now; it can only be acknowledged
// (audited), and only then discarded (confirmed, audited), after which it
// leaves "Needs attention".
func TestOutboxConflictMustBeAcknowledgedThenDiscarded(t *testing.T) {
	f := newOutboxFixture(t)
	if ids := f.rowIDs(); len(ids) != 2 || !hasID(ids, f.conflict) || !hasID(ids, f.failed) {
		t.Fatalf("needs attention lists %v, want the conflict and the failed decision", ids)
	}
	f.v.Select(f.conflict)
	got := strings.Join(uitest.Texts(f.v.detail), "|")
	for _, want := range []string{"Not applied: acknowledge", "Your decision (not applied)", "What e-RS says now",
		"Rejected (returned to referrer)", "Seen in the one-stop clinic instead.", "Accept",
		"I have read this: acknowledge", widgets.UBRNText(f.conflictUBRN)} {
		if !strings.Contains(got, want) {
			t.Errorf("conflict detail lacks %q: %s", want, got)
		}
	}
	if uitest.FindButton(f.v.detail, "Discard…") != nil || uitest.FindButton(f.v.detail, "Amend…") != nil {
		t.Fatal("an unacknowledged conflict can be discarded or amended")
	}
	uitest.PumpUntil(t, f.loop, 5*time.Second, "the conflict's showing to be audited", func() bool {
		return hasEvent(f.audited(t, f.conflict), app.EventConflictShown)
	})

	uitest.TapButton(t, f.v.detail, "I have read this: acknowledge")
	f.settle(t)
	en := f.state(t, f.conflict)
	if en.Conflict == nil || !en.Conflict.Acknowledged || !hasEvent(f.audited(t, f.conflict), app.EventConflictAcknowledged) {
		t.Fatalf("after acknowledging: %+v, audit %v", en.Conflict, f.audited(t, f.conflict))
	}
	if !strings.Contains(strings.Join(uitest.Texts(f.v.detail), "|"), "You acknowledged this at") {
		t.Errorf("acknowledgement not shown: %s", strings.Join(uitest.Texts(f.v.detail), "|"))
	}

	uitest.TapButton(t, f.v.detail, "Discard…")
	uitest.DialogTap(t, f.w, "Keep it")
	if s := f.state(t, f.conflict).State; s != triage.OutboxConflict {
		t.Fatalf("\"Keep it\" changed the decision to %s", s)
	}
	uitest.TapButton(t, f.v.detail, "Discard…")
	uitest.DialogTap(t, f.w, "Discard decision")
	f.settle(t)
	if s := f.state(t, f.conflict).State; s != triage.OutboxDiscarded || !hasEvent(f.audited(t, f.conflict), app.EventDecisionDiscarded) {
		t.Fatalf("after discarding: %s, audit %v", s, f.audited(t, f.conflict))
	}
	if ids := f.rowIDs(); hasID(ids, f.conflict) || !hasID(ids, f.failed) {
		t.Errorf("needs attention after discarding lists %v", ids)
	}
}

// TestOutboxFailedDecisionRetryAndAmend: a failed decision shows e-RS's
// reason with its identifiers; Retry queues it again (audited); Amend
// reopens the form with the same inputs, and the amended decision replaces
// it.
func TestOutboxFailedDecisionRetryAndAmend(t *testing.T) {
	f := newOutboxFixture(t)
	f.v.Select(f.failed)
	got := strings.Join(uitest.Texts(f.v.detail), "|")
	for _, want := range []string{"Failed", "the patient's details need checking", "HTTP 422", "PATIENT_ERROR", "e-RS request id req-123", "Retry", "Amend…", "Discard…"} {
		if !strings.Contains(got, want) {
			t.Errorf("failed decision detail lacks %q: %s", want, got)
		}
	}
	uitest.TapButton(t, f.v.detail, "Amend…")
	if len(f.amended) != 1 || f.amended[0].ID != f.failed || f.amended[0].Decision.Kind != triage.DecisionAccept || f.amended[0].UBRN != f.failedUBRN {
		t.Fatalf("amend hook got %+v", f.amended)
	}
	// The reopened form confirms the same inputs.
	nw, err := f.a.Amend(context.Background(), f.amended[0].ID, f.amended[0].Decision)
	if err != nil {
		t.Fatalf("amend: %v", err)
	}
	f.settle(t)
	if old := f.state(t, f.failed); old.State != triage.OutboxDiscarded || old.ReplacedBy != nw.ID {
		t.Fatalf("amended decision: %s replaced by %q", old.State, old.ReplacedBy)
	}
	f.v.SetFilter(OutboxWaitingToSend)
	if ids := f.rowIDs(); !hasID(ids, nw.ID) || !hasID(ids, f.queued) {
		t.Errorf("waiting to be sent lists %v, want the amendment and the queued decision", ids)
	}
	f.v.SetFilter(OutboxAll)
	f.v.Select(f.failed)
	if !strings.Contains(strings.Join(uitest.Texts(f.v.detail), "|"), "Replaced by an amendment") || len(f.v.actions(mustCurrent(t, f.v))) != 0 {
		t.Errorf("the replaced decision still offers actions: %s", strings.Join(uitest.Texts(f.v.detail), "|"))
	}

	// Retry: make another failure and queue it again.
	ctx := context.Background()
	if _, err := apptest.Store(f.a).BeginSend(ctx, nw.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := apptest.Store(f.a).MarkFailed(ctx, nw.ID, app.SendError{Message: "refused", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.settle(t)
	f.v.Select(nw.ID)
	uitest.TapButton(t, f.v.detail, "Retry")
	f.settle(t)
	if s := f.state(t, nw.ID).State; s != triage.OutboxQueued || !hasEvent(f.audited(t, nw.ID), app.EventRetryRequested) {
		t.Errorf("after retry: %s, audit %v", s, f.audited(t, nw.ID))
	}
}

// TestOutboxCancelQueuedDecision: a queued decision can be cancelled, after
// confirmation, until it is sent.
func TestOutboxCancelQueuedDecision(t *testing.T) {
	f := newOutboxFixture(t)
	f.v.SetFilter(FilterFor(triage.OutboxQueued))
	f.v.Select(f.queued)
	if uitest.FindButton(f.v.detail, "Retry") != nil || uitest.FindButton(f.v.detail, "Discard…") != nil {
		t.Fatal("a queued decision offers retry or discard")
	}
	uitest.TapButton(t, f.v.detail, "Cancel decision…")
	uitest.DialogTap(t, f.w, "Cancel decision")
	f.settle(t)
	if s := f.state(t, f.queued).State; s != triage.OutboxDiscarded || !hasEvent(f.audited(t, f.queued), app.EventDecisionCancelled) {
		t.Errorf("after cancelling: %s", s)
	}
	// It reads as withdrawn, not as a conflict discarded after the fact,
	// in the outbox and in the audit log.
	withdrawn := f.state(t, f.queued)
	if got := entryStateLabel(&withdrawn); got != "Withdrawn" {
		t.Errorf("a cancelled decision reads %q", got)
	}
	if got := audit.EventLabel(app.EventDecisionCancelled); got != "Decision withdrawn" {
		t.Errorf("the audit log says %q", got)
	}
	if hasID(f.rowIDs(), f.queued) {
		t.Error("a cancelled decision is still listed as waiting")
	}
}

func mustCurrent(t *testing.T, v *OutboxView) *app.Entry {
	t.Helper()
	en, ok := v.current()
	if !ok {
		t.Fatal("nothing selected")
	}
	return en
}

func hasID(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// TestOutboxAcknowledgeIsInViewOnALaptop: on a 1280×800 screen the
// selected conflict's "acknowledge" button is on screen without
// scrolling, under however much detail the conflict has.
func TestOutboxAcknowledgeIsInViewOnALaptop(t *testing.T) {
	f := newOutboxFixture(t)
	f.w.Resize(fyne.NewSize(1280, 800))
	f.v.Select(f.conflict)
	f.settle(t)
	btn := uitest.FindButton(f.v.detail, "I have read this: acknowledge")
	if btn == nil {
		t.Fatal("no acknowledge button")
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(btn)
	if win := f.w.Canvas().Size(); !btn.Visible() || pos.Y+btn.Size().Height > win.Height || pos.Y < 0 {
		t.Errorf("acknowledge is at y=%.0f–%.0f in a window %.0f high: below the fold", pos.Y, pos.Y+btn.Size().Height, win.Height)
	}
}
