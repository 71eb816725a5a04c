package triage

import (
	"errors"
	"strings"
	"testing"
)

// TestOutboxEventNext checks the whole outbox state machine: every event
// from every state, so a decision can neither be lost (a queued, sending,
// failed or conflicting decision leaves only by being sent or by the
// clinician) nor applied twice (sent and discarded are terminal, and only
// a queued decision starts sending).
func TestOutboxEventNext(t *testing.T) {
	const (
		Q = OutboxQueued
		G = OutboxSending
		S = OutboxSent
		C = OutboxConflict
		F = OutboxFailed
		D = OutboxDiscarded
	)
	allowed := map[OutboxEvent]map[OutboxState]OutboxState{
		OutboxBeginSend:    {Q: G},
		OutboxResumeSend:   {G: G},
		OutboxRecordUpload: {G: G},
		OutboxMarkSent:     {G: S},
		OutboxMarkRetry:    {G: Q},
		OutboxMarkFailed:   {G: F},
		OutboxMarkConflict: {Q: C, G: C},
		OutboxShowConflict: {C: C},
		OutboxAcknowledge:  {C: C},
		OutboxDiscard:      {F: D, C: D},
		OutboxCancel:       {Q: D},
		OutboxRetry:        {F: Q},
		OutboxAmend:        {Q: D, F: D, C: D},
	}
	if len(allowed) != len(outboxTransitions) {
		t.Fatalf("the test covers %d events, the machine has %d", len(allowed), len(outboxTransitions))
	}
	for ev, moves := range allowed {
		for _, from := range OutboxStates {
			got, err := from.Next(ev)
			want, ok := moves[from]
			if ok {
				if err != nil || got != want {
					t.Errorf("%s on event %d = %s, %v; want %s", from, ev, got, err, want)
				}
				continue
			}
			var te *OutboxTransitionError
			if !errors.As(err, &te) || got != from || te.From != from || te.Event != ev {
				t.Errorf("%s on event %d = %s, %v; want refused", from, ev, got, err)
				continue
			}
			if msg := te.Message(); !strings.HasPrefix(msg, "This decision is "+from.Phrase()+", so it cannot be ") {
				t.Errorf("refusal message %q", msg)
			}
		}
	}
	for _, s := range []OutboxState{S, D} {
		for ev := range outboxTransitions {
			if _, err := s.Next(ev); err == nil {
				t.Errorf("%s is terminal, yet event %d leaves it", s, ev)
			}
		}
	}
	if _, err := Q.Next(OutboxEvent(99)); err == nil || !strings.Contains(err.Error(), "unknown outbox event") {
		t.Errorf("unknown event: %v", err)
	}
	te := &OutboxTransitionError{From: D, Event: OutboxCancel}
	if te.Error() != "discarded -> discarded" ||
		te.Message() != "This decision is already discarded, so it cannot be cancelled. Refresh the outbox to see its current state." {
		t.Errorf("error %q, message %q", te.Error(), te.Message())
	}
}

func TestFailureOf(t *testing.T) {
	all := []SendFailure{FailureUnclassified, FailureTransient, FailureConflict, FailureSignIn, FailureForbidden, FailureRefused, FailureUnreachable, FailureUnreadable}
	want := map[SendStep]map[SendFailure]SendOutcome{
		// Nothing was sent: only a refusal for good fails the decision.
		StepRead: {FailureUnclassified: SendRetry, FailureTransient: SendRetry, FailureConflict: SendRetry, FailureSignIn: SendAfterSignIn,
			FailureForbidden: SendFail, FailureRefused: SendFail, FailureUnreachable: SendRetry, FailureUnreadable: SendRetry},
		// An upload is never settled by re-reading: the decision was not sent.
		StepUpload: {FailureUnclassified: SendRetry, FailureTransient: SendRetry, FailureConflict: SendRetry, FailureSignIn: SendAfterSignIn,
			FailureForbidden: SendFail, FailureRefused: SendFail, FailureUnreachable: SendRetry, FailureUnreadable: SendRetry},
		// A decision that may have reached e-RS is settled by re-reading,
		// never sent blindly again.
		StepDecision: {FailureUnclassified: SendRetry, FailureTransient: SendRetry, FailureConflict: SendSettle, FailureSignIn: SendAfterSignIn,
			FailureForbidden: SendFail, FailureRefused: SendFail, FailureUnreachable: SendSettle, FailureUnreadable: SendSettle},
	}
	for step, byFailure := range want {
		for _, f := range all {
			if got := FailureOf(step, f, false); got != byFailure[f] {
				t.Errorf("FailureOf(step %d, %d, false) = %d, want %d", step, f, got, byFailure[f])
			}
		}
	}
	// A request that may have changed the referral: a decision is settled;
	// an upload or read is not.
	for _, tc := range []struct {
		step SendStep
		f    SendFailure
		want SendOutcome
	}{
		{StepDecision, FailureTransient, SendSettle},
		{StepDecision, FailureUnclassified, SendSettle},
		{StepDecision, FailureSignIn, SendAfterSignIn},
		{StepUpload, FailureTransient, SendRetry},
		{StepUpload, FailureUnreachable, SendRetry},
		{StepRead, FailureTransient, SendRetry},
	} {
		if got := FailureOf(tc.step, tc.f, true); got != tc.want {
			t.Errorf("FailureOf(step %d, %d, true) = %d, want %d", tc.step, tc.f, got, tc.want)
		}
	}
}

func TestOnSendFailure(t *testing.T) {
	// Each outcome's event (none for settling and for an unknown outcome),
	// which a decision being sent may always take.
	want := map[SendOutcome]OutboxEvent{SendRetry: OutboxMarkRetry, SendAfterSignIn: OutboxMarkRetry, SendFail: OutboxMarkFailed, SendSettle: 0, 0: 0}
	next := map[OutboxEvent]OutboxState{OutboxMarkRetry: OutboxQueued, OutboxMarkFailed: OutboxFailed}
	for o, wantEv := range want {
		ev, ok := OnSendFailure(o)
		if ev != wantEv || ok != (wantEv != 0) {
			t.Errorf("OnSendFailure(%d) = %d, %v; want %d", o, ev, ok, wantEv)
		}
		if got, err := OutboxSending.Next(ev); ok && (err != nil || got != next[ev]) {
			t.Errorf("sending on %d = %s, %v; want %s", ev, got, err, next[ev])
		}
	}
}

func TestOutboxLabels(t *testing.T) {
	for _, tc := range []struct {
		s                                       OutboxState
		retrying, acknowledged, repl, withdrawn bool
		label, phrase                           string
	}{
		{s: OutboxQueued, label: "Queued", phrase: "waiting to be sent"},
		{s: OutboxQueued, retrying: true, label: "Queued (will retry)", phrase: "waiting to be sent"},
		{s: OutboxSending, label: "Sending", phrase: "being sent"},
		{s: OutboxSent, label: "Sent", phrase: "already sent to e-RS"},
		{s: OutboxConflict, label: "Not applied: acknowledge", phrase: "in conflict with a change in e-RS"},
		{s: OutboxConflict, acknowledged: true, label: "Not applied (acknowledged)", phrase: "in conflict with a change in e-RS"},
		{s: OutboxFailed, label: "Failed", phrase: "refused by e-RS"},
		{s: OutboxDiscarded, label: "Discarded", phrase: "already discarded"},
		{s: OutboxDiscarded, repl: true, label: "Replaced by an amendment", phrase: "already discarded"},
		{s: OutboxDiscarded, withdrawn: true, label: "Withdrawn", phrase: "already discarded"},
		{s: "odd", label: "odd", phrase: "odd"},
	} {
		if got := OutboxLabel(tc.s, tc.retrying, tc.acknowledged, tc.repl, tc.withdrawn); got != tc.label {
			t.Errorf("OutboxLabel(%s, %v, %v, %v, %v) = %q, want %q", tc.s, tc.retrying, tc.acknowledged, tc.repl, tc.withdrawn, got, tc.label)
		}
		if got := tc.s.Phrase(); got != tc.phrase {
			t.Errorf("%s.Phrase() = %q, want %q", tc.s, got, tc.phrase)
		}
	}
	for _, tc := range []struct {
		s    OutboxState
		n    int
		want string
	}{
		{OutboxQueued, 3, "3 queued"}, {OutboxSending, 1, "1 sending"}, {OutboxConflict, 1, "1 conflict"},
		{OutboxConflict, 2, "2 conflicts"}, {OutboxFailed, 0, "0 failed"}, {OutboxSent, 4, "4 sent"},
	} {
		if got := tc.s.CountText(tc.n); got != tc.want {
			t.Errorf("%s.CountText(%d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
