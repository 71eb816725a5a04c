package ui

import (
	"context"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// amendWait bounds how long AmendDecision waits for the referral to open.
const amendWait = 30 * time.Second

// AmendDecision is the outbox's Amend (ChromeOptions.Amend): it opens the
// referral of an outbox decision and reopens the decision form with the
// same inputs (an accept goes straight to its confirm step). Confirming
// replaces the outbox decision with the new one (app.App.Amend); Esc
// leaves it as it was. Call it on the UI goroutine.
func (v *Vetting) AmendDecision(en store.Entry) {
	v.Open(en.UBRN)
	var once sync.Once
	done := make(chan struct{})
	try := func() {
		p := v.panel
		if p == nil || p.ubrn != en.UBRN || p.decision == nil {
			return
		}
		once.Do(func() {
			close(done)
			p.decision.startAmend(en)
		})
	}
	try()
	v.b.Go(func(ctx context.Context) {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		deadline := time.NewTimer(amendWait)
		defer deadline.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-deadline.C:
				return
			case <-t.C:
				v.b.Post(try)
			}
		}
	})
}

// startAmend reopens the form (or, for an accept, the confirm step) with
// the outbox decision's inputs.
func (dp *decisionPanel) startAmend(en store.Entry) {
	if dp.confirm != nil {
		dp.confirm.close()
	}
	e := en
	dp.amending = &e
	d := en.Decision
	if d.Kind == triage.DecisionAccept && dp.p.referral().Type == triage.ReferralTypeAppointment {
		dp.form = nil
		dp.render()
		dp.say("Amending your decision from the outbox: confirm to send it again as it is now, or press Esc to leave it as it was.")
		dp.review(dp.base(triage.DecisionAccept), nil)
		return
	}
	dp.openForm(d.Kind, &d)
	dp.say("Amending your decision from the outbox: change it and confirm to replace it, or press Esc to leave it as it was.")
}
