package vetting

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
)

// AmendDecision is the outbox's Amend (ChromeOptions.Amend): it asks e-RS
// what the referral of an outbox decision is now and which decisions it
// takes (app.Workspace.DecisionsNow), opens the referral as e-RS has it, and
// reopens the decision form with the same inputs (an accept goes straight
// to its confirm step) when e-RS still takes that decision. Otherwise it
// offers only the decisions e-RS takes, or says that it takes none and the
// decision should be discarded. Confirming replaces the outbox decision
// with the new one (app.Workspace.Amend); Esc leaves it as it was. Call it on
// the UI goroutine.
func (v *Vetting) AmendDecision(en app.Entry) {
	v.Open(en.UBRN)
	if p := v.panel; p != nil && p.decision != nil {
		p.decision.say("Checking with e-RS what this referral is now…")
	}
	a := v.app
	bridge.Run(v.b, nil, func(ctx context.Context) (app.Choices, error) {
		return a.DecisionsNow(ctx, en.UBRN)
	}, func(ch app.Choices, err error) {
		if err != nil {
			if p := v.panel; p != nil && p.ubrn == en.UBRN && p.decision != nil {
				p.decision.say("The decision cannot be amended now: " + triage.ErrorMessage(err))
			}
			return
		}
		// Reopen from the referral as just read, then amend.
		v.reopen(en.UBRN)
		v.panel.whenShown(func(p *referralPanel) {
			if p.decision != nil {
				p.decision.startAmend(en, ch)
			}
		})
	})
}

// startAmend reopens the form (or, for an accept, the confirm step) with
// the outbox decision's inputs, if e-RS still takes that decision (ch);
// otherwise it offers only what e-RS takes, or says it takes nothing.
func (dp *decisionPanel) startAmend(en app.Entry, ch app.Choices) {
	if dp.confirm != nil {
		dp.confirm.close()
	}
	dp.form = nil
	dp.restrict(ch.Kinds)
	prefix := ""
	if !ch.Checked && ch.Note != "" {
		prefix = ch.Note + " "
	}
	e := en
	d := en.Decision
	state := ch.State.State.Label()
	switch {
	case len(ch.Kinds) == 0:
		dp.amending = nil
		dp.render()
		dp.say(prefix + fmt.Sprintf("e-RS takes no decision on this referral now: it is %q. Your decision was left as it was; discard it in the outbox.", state))
		return
	case !slices.Contains(ch.Kinds, d.Kind):
		dp.amending = &e
		dp.render()
		dp.say(prefix + fmt.Sprintf("e-RS no longer takes %q on this referral (it is %q). Choose a decision it takes, or press Esc and discard yours in the outbox.",
			strings.ToLower(d.Kind.Label()), state))
		return
	}
	dp.amending = &e
	if d.Kind == triage.DecisionAccept && dp.p.referral().Type == triage.ReferralTypeAppointment {
		dp.render()
		dp.say(prefix + "Amending your decision from the outbox, with the referral as e-RS has it now: confirm to send it again as it is now, or press Esc to leave it as it was.")
		dp.review(dp.base(triage.DecisionAccept), nil)
		return
	}
	dp.openForm(d.Kind, &d)
	dp.say(prefix + "Amending your decision from the outbox, with the referral as e-RS has it now: change it and confirm to replace it, or press Esc to leave it as it was.")
}
