package vetting

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// Choices in the decision forms.
const (
	pasYes       = "Yes, cancelled in the PAS"
	pasNo        = "No, not cancelled in the PAS"
	keepPriority = "Keep the current priority"
	chooseReason = "Choose a reason…"
)

// decisionPanel offers the decisions that fit the open referral, the form
// for the one chosen, the confirm step, and the state of a decision already
// made (with Cancel while it is queued). It never offers a decision the
// referral type does not allow, nor a triage outcome e-RS (A029) refuses.
type decisionPanel struct {
	p     *referralPanel
	box   *fyne.Container
	entry *app.Entry // the referral's latest decision, if any

	// triageRefused holds e-RS's A029 answer: a triage outcome may not be
	// recorded now.
	triageRefused bool
	a029Note      string

	form    *decisionForm
	confirm *confirmStep
	note    *widget.Label

	// amending is the outbox decision being amended (outbox_amend.go):
	// the form shows its inputs and confirming replaces it.
	amending *app.Entry
	// now, when set, are the decisions e-RS takes on the referral as just
	// read from it (an amendment): only these are offered.
	now *[]triage.DecisionKind
}

// restrict offers only kinds from now on (e-RS's answer for the referral
// as it is now).
func (dp *decisionPanel) restrict(kinds []triage.DecisionKind) {
	k := slices.Clone(kinds)
	dp.now = &k
}

func newDecisionPanel(p *referralPanel) *decisionPanel {
	dp := &decisionPanel{p: p, box: container.NewVBox(), note: widget.NewLabel("")}
	dp.note.Wrapping = fyne.TextWrapWord
	dp.note.Hide()
	if e := p.data.view.Decision; e != nil && e.State != triage.OutboxDiscarded {
		dp.entry = e
	}
	if dp.entry == nil {
		draft := p.v.drafts[p.ubrn]
		if draft == nil {
			draft = p.data.view.Local.Draft
		}
		if draft != nil && draft.UBRN == p.ubrn && slices.Contains(dp.allowed(), draft.Kind) {
			dp.form = newDecisionForm(dp, draft.Kind, draft)
		}
	}
	dp.render()
	dp.checkA029()
	return dp
}

// Object returns the panel's canvas object.
func (dp *decisionPanel) Object() fyne.CanvasObject { return dp.box }

// allowed are the decisions that fit the referral type (and, during an
// amendment, that e-RS takes now).
func (dp *decisionPanel) allowed() []triage.DecisionKind {
	kinds := triage.AllowedKinds(dp.p.referral().Type)
	if dp.now != nil {
		kinds = slices.DeleteFunc(kinds, func(k triage.DecisionKind) bool { return !slices.Contains(*dp.now, k) })
	}
	return kinds
}

// active reports whether a decision is on its way or done (so no new one
// is offered).
func (dp *decisionPanel) active() bool {
	return dp.entry != nil && dp.entry.State != triage.OutboxDiscarded && dp.amending == nil
}

// render redraws the panel for its state.
func (dp *decisionPanel) render() {
	title := sectionTitle("Decision")
	var objs []fyne.CanvasObject
	switch {
	case dp.active():
		objs = append(objs, title, dp.statusView())
	case dp.form != nil:
		objs = append(objs, dp.form.obj)
	default:
		objs = append(objs, title)
		objs = append(objs, dp.actionButtons()...)
		if dp.a029Note != "" {
			l := widget.NewLabel(dp.a029Note)
			l.Wrapping = fyne.TextWrapWord
			objs = append(objs, l)
		}
	}
	objs = append(objs, dp.note)
	dp.box.Objects = objs
	dp.box.Refresh()
}

// say shows a short message under the panel (nil clears it).
func (dp *decisionPanel) say(msg string) {
	dp.note.SetText(msg)
	dp.note.Importance = widget.MediumImportance
	if msg == "" {
		dp.note.Hide()
	} else {
		dp.note.Show()
	}
}

// actionButtons are the decisions that fit, with their keys.
func (dp *decisionPanel) actionButtons() []fyne.CanvasObject {
	key := func(id shortcuts.ID) string {
		d, _ := shortcuts.Lookup(id)
		return "   (" + d.Bindings[0].String() + ")"
	}
	var out []fyne.CanvasObject
	if triage.PatientMismatch(dp.p.data.view.Mismatches) {
		return []fyne.CanvasObject{wrappedLabel("No decision can be recorded: the worklist and the referral's details name different patients (see above).")}
	}
	allowed := dp.allowed()
	switch dp.p.referral().Type {
	case triage.ReferralTypeAppointment:
		if slices.Contains(allowed, triage.DecisionAccept) {
			acc := widget.NewButtonWithIcon("Accept"+key(shortcuts.Accept), theme.ConfirmIcon(), dp.doAccept)
			acc.Importance = widget.HighImportance
			out = append(out, acc)
		}
		if slices.Contains(allowed, triage.DecisionReject) {
			out = append(out, widget.NewButtonWithIcon("Reject…"+key(shortcuts.Reject), theme.CancelIcon(), dp.doReject))
		}
		if slices.Contains(allowed, triage.DecisionRedirect) {
			out = append(out, widget.NewButtonWithIcon("Redirect…"+key(shortcuts.Redirect), theme.MailForwardIcon(), dp.doRedirect))
		}
	case triage.ReferralTypeTriageDeferral:
		if len(allowed) == 0 {
			break
		}
		ret := widget.NewButtonWithIcon("Return to referrer with advice…"+key(shortcuts.TriageOutcome), theme.MailReplyIcon(), dp.doTriage)
		acc := widget.NewButtonWithIcon("Accept – book later…"+key(shortcuts.Accept), theme.ConfirmIcon(), dp.doAccept)
		acc.Importance = widget.HighImportance
		if dp.triageRefused {
			ret.Disable()
			acc.Disable()
		}
		out = append(out, acc, ret)
	default:
		out = append(out, widget.NewLabel("The referral type is not known, so no decision can be sent. Refresh the referral."))
	}
	for _, o := range out {
		if b, ok := o.(*widget.Button); ok {
			b.Alignment = widget.ButtonAlignLeading
		}
	}
	return out
}

// checkA029 asks e-RS, when online, whether a triage outcome may be
// recorded now (RAS referrals), and narrows the actions.
func (dp *decisionPanel) checkA029() {
	r := dp.p.referral()
	a := dp.p.v.app
	if r.Type != triage.ReferralTypeTriageDeferral || !a.CanSync() || dp.p.v.sync.State != app.SyncOnline {
		return
	}
	ubrn, version := r.UBRN, r.Version
	bridge.Run(dp.p.v.b, dp.p.ctx, func(ctx context.Context) ([]triage.Action, error) {
		return a.AvailableActions(ctx, ubrn, version)
	}, func(acts []triage.Action, err error) {
		switch {
		case app.IsVersionConflict(err):
			// The version downloaded is no longer current in e-RS.
			dp.triageRefused = true
			dp.a029Note = "This referral has changed in e-RS since it was downloaded. Refresh (Ctrl+R) to see its current state before recording an outcome."
			if dp.form != nil && dp.form.kind == triage.DecisionReviewOutcome {
				dp.form = nil
			}
			dp.render()
		case errors.Is(err, app.ErrActionsUnknown):
			// e-RS would not say: every decision that fits is offered,
			// and the clinician is told so.
			dp.a029Note = triage.ErrorMessage(err)
			dp.render()
		case err != nil:
			// Offered as the type allows; the outbox asks A029 again before
			// sending.
		case !slices.Contains(acts, triage.ActionRecordReviewOutcome):
			dp.triageRefused = true
			dp.a029Note = "e-RS does not allow a triage outcome on this referral now (it is " + strings.ToLower(r.State.State.Label()) + "). Refresh to check again."
			if dp.form != nil && dp.form.kind == triage.DecisionReviewOutcome {
				dp.form = nil
			}
			dp.render()
		}
	})
}

// statusView shows the decision already made and what happened to it.
func (dp *decisionPanel) statusView() fyne.CanvasObject {
	e := dp.entry
	now := dp.p.v.now()
	var msg string
	var extra []fyne.CanvasObject
	switch e.State {
	case triage.OutboxQueued:
		msg = "Queued: " + e.Summary + ". It will be sent to e-RS as soon as Triage Desk can; you can cancel it until then."
		extra = append(extra, widget.NewButtonWithIcon("Cancel this decision", theme.CancelIcon(), dp.cancelQueued))
	case triage.OutboxSending:
		msg = "Sending to e-RS now: " + e.Summary + "."
	case triage.OutboxSent:
		at := e.UpdatedAt
		if e.Sent != nil && !e.Sent.ServerTime.IsZero() {
			at = e.Sent.ServerTime
		}
		msg = "Sent to e-RS at " + widgets.ClockText(at, now) + ": " + e.Summary + "."
	case triage.OutboxConflict:
		msg = "Not applied: this referral was changed in e-RS before your decision (" + e.Summary + ") reached it. Review the change in the outbox."
	case triage.OutboxFailed:
		msg = "e-RS refused this decision (" + e.Summary + ")."
		if e.LastError != nil && e.LastError.Message != "" {
			msg += " " + e.LastError.Message
		}
		msg += " Amend or discard it in the outbox."
	}
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	if e.State == triage.OutboxConflict || e.State == triage.OutboxFailed {
		l.Importance = widget.DangerImportance
	}
	return container.NewVBox(append([]fyne.CanvasObject{l}, extra...)...)
}

// refreshEntry re-reads the referral's latest decision after an engine
// event and redraws.
func (dp *decisionPanel) refreshEntry() {
	a, ubrn := dp.p.v.app, dp.p.ubrn
	bridge.Run(dp.p.v.b, dp.p.ctx, func(ctx context.Context) (*app.Entry, error) {
		e, err := a.LatestForReferral(ctx, ubrn)
		if errors.Is(err, app.ErrNotFound) {
			return nil, nil
		}
		return &e, err
	}, func(e *app.Entry, err error) {
		if err != nil {
			return
		}
		if e != nil && e.State == triage.OutboxDiscarded {
			e = nil
		}
		dp.entry = e
		if dp.confirm == nil {
			dp.render()
		}
	})
}

// cancelQueued withdraws the queued decision after asking.
func (dp *decisionPanel) cancelQueued() {
	e := dp.entry
	if e == nil || e.State != triage.OutboxQueued {
		return
	}
	v := dp.p.v
	dialog.ShowConfirm("Cancel this decision?", wrapText("“"+e.Summary+"” has not been sent to e-RS yet. Cancelling withdraws it; nothing is sent.", 60), func(ok bool) {
		if !ok {
			return
		}
		a, id := v.app, e.ID
		bridge.Run(v.b, nil, func(ctx context.Context) (app.Entry, error) {
			return a.Cancel(ctx, id)
		}, func(_ app.Entry, err error) {
			if err != nil {
				dp.say(triage.ErrorMessage(err))
				dp.refreshEntry()
				return
			}
			dp.entry = nil
			status := triage.LocalNone
			if v.drafts[dp.p.ubrn] != nil {
				status = triage.LocalDraft
			}
			v.list.SetLocalStatus(dp.p.ubrn, status)
			dp.say("Decision cancelled. Nothing was sent to e-RS.")
			dp.render()
		})
	}, v.frame.Window())
}

// --- actions --------------------------------------------------------------

func (dp *decisionPanel) busy() bool {
	if dp.active() {
		dp.say("A decision has already been made on this referral.")
		return true
	}
	return dp.confirm != nil
}

func (dp *decisionPanel) kindAllowed(k triage.DecisionKind) bool {
	if !slices.Contains(dp.allowed(), k) {
		switch dp.p.referral().Type {
		case triage.ReferralTypeTriageDeferral:
			dp.say("This referral is awaiting triage: record a triage outcome (A: accept – book later, T: return to referrer with advice).")
		default:
			dp.say("This is a booked referral: accept, reject or redirect it.")
		}
		return false
	}
	if k == triage.DecisionReviewOutcome && dp.triageRefused {
		dp.say(dp.a029Note)
		return false
	}
	return true
}

// doAccept accepts a booked referral (straight to the confirm step), or
// opens "accept – book later" for a RAS referral.
func (dp *decisionPanel) doAccept() {
	if dp.busy() {
		return
	}
	if dp.p.referral().Type == triage.ReferralTypeTriageDeferral {
		dp.openForm(triage.DecisionReviewOutcome, &triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater})
		return
	}
	if !dp.kindAllowed(triage.DecisionAccept) {
		return
	}
	dp.form = nil
	dp.review(dp.base(triage.DecisionAccept), nil)
}

func (dp *decisionPanel) doReject() {
	if !dp.busy() && dp.kindAllowed(triage.DecisionReject) {
		dp.openForm(triage.DecisionReject, nil)
	}
}

func (dp *decisionPanel) doRedirect() {
	if !dp.busy() && dp.kindAllowed(triage.DecisionRedirect) {
		dp.openForm(triage.DecisionRedirect, nil)
	}
}

func (dp *decisionPanel) doTriage() {
	if dp.busy() || !dp.kindAllowed(triage.DecisionReviewOutcome) {
		return
	}
	dp.openForm(triage.DecisionReviewOutcome, &triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice})
}

// openForm opens the form for kind (keeping one already open for it).
func (dp *decisionPanel) openForm(kind triage.DecisionKind, preset *triage.Decision) {
	if dp.form != nil && dp.form.kind == kind {
		if preset != nil && preset.Outcome != "" {
			dp.form.outcome.SetSelected(preset.Outcome.Label())
		}
		dp.form.focus()
		return
	}
	dp.say("")
	dp.form = newDecisionForm(dp, kind, preset)
	dp.render()
	dp.form.focus()
}

// cancel is Esc: back from the confirm step, else close the form and
// discard its draft.
func (dp *decisionPanel) cancel() bool {
	if dp.confirm != nil {
		dp.confirm.close()
		return true
	}
	if dp.form != nil || dp.amending != nil {
		if dp.form != nil {
			dp.form.discardAttachment()
		}
		dp.form = nil
		if dp.amending != nil {
			dp.amending = nil // the outbox decision stays as it was
		} else {
			dp.dropDraft()
		}
		dp.say("")
		dp.render()
		// Its fields are gone: the keyboard goes back to the window.
		dp.p.v.frame.Window().Canvas().Unfocus()
		return true
	}
	return false
}

// submit is Ctrl+Enter (next: Ctrl+Shift+Enter): queue from the confirm
// step, or check the form and show the confirm step.
func (dp *decisionPanel) submit(next bool) {
	switch {
	case dp.confirm != nil:
		dp.confirm.queue(next)
	case dp.form != nil:
		dp.review(dp.form.decision(), dp.form)
	}
}

// base is a decision of kind on the referral as shown: its version (the
// one the clinician saw), the clinician and the time.
func (dp *decisionPanel) base(kind triage.DecisionKind) triage.Decision {
	r := dp.p.referral()
	return triage.Decision{Kind: kind, UBRN: r.UBRN, BaseVersion: r.Version, By: dp.p.v.app.Identity(), DecidedAt: dp.p.v.now()}
}

// review validates d exactly as the outbox will, showing each problem
// beside its field; when it is valid, the confirm step opens.
func (dp *decisionPanel) review(d triage.Decision, f *decisionForm) {
	r := dp.p.referral()
	err := d.Validate(triage.ValidationContext{Referral: r, RefData: &dp.p.data.rd, Now: dp.p.v.now()})
	if f != nil {
		f.showProblems(err)
	}
	if err != nil {
		if f == nil {
			dp.say(triage.ErrorMessage(err))
		}
		return
	}
	dp.say("")
	dp.confirm = newConfirmStep(dp, d)
}

// keepDraft saves the open form as the referral's draft (in memory at
// once, in the encrypted store in the background), so it survives
// switching referrals and restarts.
func (dp *decisionPanel) keepDraft() {
	if dp.form == nil || dp.active() {
		return
	}
	d := dp.form.decision()
	d.By, d.DecidedAt = triage.Identity{}, dp.p.v.now()
	v, ubrn := dp.p.v, dp.p.ubrn
	v.drafts[ubrn] = &d
	if row, ok := v.list.Row(ubrn); ok && row.Local == triage.LocalNone {
		v.list.SetLocalStatus(ubrn, triage.LocalDraft)
	}
	a := v.app
	v.draftWrites.Save(ubrn, func(ctx context.Context) {
		_ = a.SaveDraft(ctx, ubrn, d)
	})
}

// dropDraft forgets the referral's draft.
func (dp *decisionPanel) dropDraft() {
	v, ubrn := dp.p.v, dp.p.ubrn
	had := v.drafts[ubrn] != nil || dp.p.data.view.Local.Draft != nil
	delete(v.drafts, ubrn)
	dp.p.data.view.Local.Draft = nil
	if !had {
		return
	}
	if row, ok := v.list.Row(ubrn); ok && row.Local == triage.LocalDraft {
		v.list.SetLocalStatus(ubrn, triage.LocalNone)
	}
	a := v.app
	v.draftWrites.Save(ubrn, func(ctx context.Context) {
		_ = a.ClearDraft(ctx, ubrn)
	})
}
