package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// decisionFor returns a valid decision on the referral as the sandbox has it
// now; variant picks among the kinds the referral's type allows.
func decisionFor(t testing.TB, ref triage.Referral, rd *triage.ReferenceData, variant int) triage.Decision {
	t.Helper()
	now := time.Now()
	d := triage.Decision{UBRN: ref.UBRN, BaseVersion: ref.Version, By: clinician, DecidedAt: now}
	pas := func() *bool {
		if ref.Booking() == triage.BookingIndirect {
			v := variant%2 == 0
			return &v
		}
		return nil
	}
	switch ref.Type {
	case triage.ReferralTypeAppointment:
		switch variant % 3 {
		case 0:
			d.Kind = triage.DecisionAccept
		case 1:
			reasons := rd.RejectReasons(now)
			if len(reasons) == 0 {
				t.Fatal("the sandbox has no reject reasons")
			}
			c := reasons[variant%len(reasons)]
			cs, _ := rd.System(triage.CodeSystemAppointmentCancellationReason)
			d.Kind, d.Reason = triage.DecisionReject, triage.Coding{System: cs.URL, Code: c.Code, Display: c.Display}
			d.Comments = fmt.Sprintf("Please see the advice in the letter (%d).", variant)
			d.AppointmentCancelledInPAS = pas()
		default:
			d.Kind, d.Comments = triage.DecisionRedirect, fmt.Sprintf("Redirect to the nurse-led clinic (%d).", variant)
			d.AppointmentCancelledInPAS = pas()
		}
	case triage.ReferralTypeTriageDeferral:
		d.Kind, d.Outcome = triage.DecisionReviewOutcome, triage.OutcomeAcceptReferBookLater
		if variant%2 == 1 {
			d.Outcome = triage.OutcomeReturnToReferrerWithAdvice
		}
		d.Comments = fmt.Sprintf("Triage outcome recorded (%d).", variant)
	default:
		t.Fatalf("referral type %q cannot be decided", ref.Type)
	}
	if err := d.Validate(triage.ValidationContext{Referral: &ref, RefData: rd, Now: now}); err != nil {
		t.Fatalf("test decision is not valid: %v", err)
	}
	return d
}

// decidable returns the referrals on Referrals for Review at R69.
func decidable(t testing.TB, sb *erssandbox.Sandbox) []triage.Referral {
	t.Helper()
	var out []triage.Referral
	for _, it := range sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		r, err := sb.Referral(it.UBRN)
		if err != nil {
			t.Fatalf("sandbox referral: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// firstDecidable returns the sandbox's first n decidable referrals, failing
// the test when it has fewer.
func firstDecidable(t testing.TB, sb *erssandbox.Sandbox, n int) []triage.Referral {
	t.Helper()
	refs := decidable(t, sb)
	if len(refs) < n {
		t.Fatalf("only %d decidable referrals, want %d", len(refs), n)
	}
	return refs[:n]
}

// enqueueAll queues one decision per referral and returns the entries by
// UBRN.
func enqueueAll(t testing.TB, st *store.Store, refs []triage.Referral, rd *triage.ReferenceData) map[string]store.Entry {
	t.Helper()
	out := map[string]store.Entry{}
	for i, r := range refs {
		en, err := st.Enqueue(context.Background(), decisionFor(t, r, rd, i))
		if err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		out[r.UBRN] = en
	}
	return out
}

var decisionOps = map[string]bool{"A013": true, "A014": true, "A022": true, "A028": true}

// checkOutcomes checks the outbox against the sandbox's log of writes: every
// decision was applied exactly once and is marked sent, or was never applied
// and is a conflict or failure with its reason. None is still queued or
// sending, none applied twice. It returns the count of each state.
func checkOutcomes(t testing.TB, st *store.Store, sb *erssandbox.Sandbox) map[triage.OutboxState]int {
	t.Helper()
	applied := map[string]int{}
	for _, w := range sb.Stats().Writes {
		if w.Applied && decisionOps[w.Op] {
			applied[w.UBRN]++
		}
	}
	es, err := st.Entries(context.Background(), store.EntryFilter{})
	if err != nil {
		t.Fatalf("entries: %v", err)
	}
	counts := map[triage.OutboxState]int{}
	seen := map[string]bool{}
	for _, en := range es {
		counts[en.State]++
		seen[en.UBRN] = true
		n := applied[en.UBRN]
		switch en.State {
		case triage.OutboxSent:
			if n != 1 || en.Sent == nil || en.Sent.NewVersion <= en.BaseVersion {
				t.Errorf("decision %s marked sent but applied %d times (sent %+v)", en.ID, n, en.Sent)
			}
		case triage.OutboxConflict:
			if n != 0 || en.Conflict == nil || en.Conflict.Status.State == "" {
				t.Errorf("decision %s is a conflict but applied %d times, conflict %+v", en.ID, n, en.Conflict)
			}
		case triage.OutboxFailed:
			if n != 0 || en.LastError == nil || en.LastError.Message == "" {
				t.Errorf("decision %s failed but applied %d times, error %+v", en.ID, n, en.LastError)
			}
		default:
			t.Errorf("decision %s lost in state %s after %d attempts (applied %d times)", en.ID, en.State, en.Attempts, n)
		}
	}
	for u, n := range applied {
		if !seen[u] {
			t.Errorf("a write was applied to a referral with no decision")
		}
		if n > 1 {
			t.Errorf("a decision was applied %d times", n)
		}
	}
	return counts
}

// waitSettled waits until no decision is queued or sending.
func waitSettled(t testing.TB, st *store.Store, timeout time.Duration) {
	t.Helper()
	waitDrained(t, timeout, "every decision to be settled", st.Entries)
}

// waitDrained waits, saying what for, until list (an outbox's entries)
// finds none queued or sending.
func waitDrained[E any](t testing.TB, timeout time.Duration, what string, list func(context.Context, store.EntryFilter) ([]E, error)) {
	t.Helper()
	eventually(t, timeout, what, func() bool {
		es, err := list(context.Background(), store.EntryFilter{States: []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending}})
		return err == nil && len(es) == 0
	})
}

// bookedReferrals returns the sandbox's first n decidable referrals that
// have an appointment (A013 and A014 apply), or fails the test.
func bookedReferrals(t *testing.T, sb *erssandbox.Sandbox, n int) []triage.Referral {
	t.Helper()
	var booked []triage.Referral
	for _, r := range decidable(t, sb) {
		if r.Type == triage.ReferralTypeAppointment && len(booked) < n {
			booked = append(booked, r)
		}
	}
	if len(booked) < n {
		t.Fatalf("only %d booked referrals, want %d", len(booked), n)
	}
	return booked
}
