package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestPushSendsEachKindOnceWithAttachments(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 40, Seed: 3}})
	ctx := context.Background()
	rd := env.sb.ReferenceData()
	refs := decidable(t, env.sb)
	var picked []triage.Referral
	kinds := map[triage.DecisionKind]bool{}
	var decisions []triage.Decision
	for i := 0; i < 12 && len(kinds) < 4; i++ {
		for _, r := range refs {
			if slices.ContainsFunc(picked, func(p triage.Referral) bool { return p.UBRN == r.UBRN }) {
				continue
			}
			d := decisionFor(t, r, rd, i)
			if kinds[d.Kind] {
				continue
			}
			kinds[d.Kind] = true
			picked = append(picked, r)
			decisions = append(decisions, d)
			break
		}
	}
	if len(kinds) != 4 {
		t.Fatalf("sandbox data lacks a decision kind: %v", kinds)
	}
	var redirectID string
	for i := range decisions {
		d := &decisions[i]
		if d.Kind == triage.DecisionRedirect || d.Kind == triage.DecisionReviewOutcome {
			data := []byte("%PDF-1.4\n% a management plan\n%%EOF\n")
			local := "plan-" + d.UBRN
			if err := env.st.PutDocument(ctx, d.UBRN, store.DocumentMeta{ID: local, Kind: store.DocumentProvider,
				FileName: "management-plan.pdf", ContentType: "application/pdf"}, data); err != nil {
				t.Fatalf("store provider file: %v", err)
			}
			d.Attachments = []triage.ProviderAttachment{{LocalID: local, FileName: "management-plan.pdf",
				ContentType: "application/pdf", Size: int64(len(data))}}
		}
		en, err := env.st.Enqueue(ctx, *d)
		if err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		if d.Kind == triage.DecisionRedirect {
			redirectID = en.ID
		}
	}
	env.sb.ResetStats()
	env.run()
	waitSettled(t, env.st, 20*time.Second)
	counts := checkOutcomes(t, env.st, env.sb)
	if counts[triage.OutboxSent] != 4 {
		t.Fatalf("outbox %v, want 4 sent", counts)
	}
	stats := env.sb.Stats()
	if stats.Requests["A020"] != 2 {
		t.Errorf("A020 uploads = %d, want 2 (one per attachment)", stats.Requests["A020"])
	}
	if stats.Requests["A029"] < 1 {
		t.Errorf("A029 was not asked before recording the triage outcome")
	}
	en, err := env.st.Entry(ctx, redirectID)
	if err != nil || en.Decision.Attachments[0].BinaryID == "" {
		t.Errorf("the redirect's uploaded attachment id was not kept: %+v, %v", en.Decision.Attachments, err)
	}
	for _, d := range decisions {
		now, _ := env.sb.Referral(d.UBRN)
		cr, err := env.st.Referral(ctx, d.UBRN)
		if err != nil || cr.Referral.Version != now.Version {
			t.Errorf("cached referral after sending is version %d (%v), e-RS has %d", cr.Referral.Version, err, now.Version)
		}
	}
	audit, err := env.st.AuditRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	sent := 0
	for _, a := range audit {
		if a.Event == store.EventSendResult && a.Result == "sent" && a.RequestID != "" {
			sent++
		}
	}
	if sent != 4 {
		t.Errorf("%d sent audit records with e-RS request ids, want 4", sent)
	}
}

func TestPushConflictWhenChangedBehindTheClientsBack(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 20, Seed: 4}, engine: func(c *Config) { c.NoPrefetch = true }})
	ctx := context.Background()
	refs := firstDecidable(t, env.sb, 2)
	enq := enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	// Someone else rejects the first; the second's letter changes.
	if _, err := env.sb.SetState(refs[0].UBRN, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS"}, Comments: "Rejected by a colleague."}); err != nil {
		t.Fatal(err)
	}
	newVersion, err := env.sb.ChangeLetter(refs[1].UBRN, "")
	if err != nil {
		t.Fatal(err)
	}
	env.sb.ResetStats()
	env.run()
	waitSettled(t, env.st, 10*time.Second)
	checkOutcomes(t, env.st, env.sb)
	if w := env.sb.Stats().Writes; len(w) != 0 {
		t.Errorf("%d writes sent for changed referrals, want none", len(w))
	}
	a, _ := env.st.Entry(ctx, enq[refs[0].UBRN].ID)
	b, _ := env.st.Entry(ctx, enq[refs[1].UBRN].ID)
	if a.State != triage.OutboxConflict || a.Conflict.Status.State != triage.StateRejected || a.Conflict.Status.Comments != "Rejected by a colleague." {
		t.Errorf("first: %s %+v, want a conflict showing the colleague's rejection", a.State, a.Conflict)
	}
	if b.State != triage.OutboxConflict || b.Conflict.Version != newVersion {
		t.Errorf("second: %s %+v, want a conflict at version %d", b.State, b.Conflict, newVersion)
	}
}

// waitForWaiting waits for the pusher to publish that 3 decisions wait,
// for a reason containing why.
func waitForWaiting(t *testing.T, events <-chan Event, why string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if w, ok := ev.(OutboxWaiting); ok && w.Count == 3 && strings.Contains(w.Reason, why) {
				return
			}
		case <-timeout:
			t.Fatalf("the outbox never said 3 decisions wait for %q", why)
		}
	}
}

func TestPushOnlyUnderTheDecidersOwnLiveSession(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 20, Seed: 6}, engine: func(c *Config) { c.NoPrefetch = true }})
	refs := firstDecidable(t, env.sb, 3)
	enqueueAll(t, env.st, refs, env.sb.ReferenceData())
	other := clinician
	other.ODS = erssandbox.SecondProviderODS // same person, another organisation
	env.sess.Set(other, true)
	events, cancel := env.eng.Subscribe(4096)
	defer cancel()
	env.sb.ResetStats()
	env.run()
	// The pusher says why it waits once it has looked at the queue and
	// declined: under another role, then (a second round) without a live
	// session. Nothing may have been sent by either round.
	waitForWaiting(t, events, "another role")
	if n := len(env.sb.Stats().Writes); n != 0 {
		t.Fatalf("%d decisions sent under another role", n)
	}
	// No live session at all: still nothing.
	env.sess.Set(clinician, false)
	env.eng.SessionChanged()
	waitForWaiting(t, events, "Sign in with your NHS Care Identity")
	if n := len(env.sb.Stats().Writes); n != 0 {
		t.Fatalf("%d decisions sent without a live session", n)
	}
	if st := env.eng.Status(); st.State != StateSignInNeeded {
		t.Errorf("state %s, want sign-in needed", st.State)
	}
	env.sess.Set(clinician, true)
	env.eng.SessionChanged()
	waitSettled(t, env.st, 10*time.Second)
	if c := checkOutcomes(t, env.st, env.sb); c[triage.OutboxSent] != 3 {
		t.Errorf("outbox %v, want 3 sent after the clinician's own sign-in", c)
	}
}
