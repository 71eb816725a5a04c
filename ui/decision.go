package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
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
		msg = "Sent to e-RS at " + formatClock(at, now) + ": " + e.Summary + "."
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
	v.b.Go(func(ctx context.Context) {
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
	v.b.Go(func(ctx context.Context) {
		_ = a.ClearDraft(ctx, ubrn)
	})
}

// --- the form --------------------------------------------------------------

// decisionForm collects a reject, redirect or triage outcome.
type decisionForm struct {
	dp   *decisionPanel
	kind triage.DecisionKind

	reasons  []triage.Concept
	reason   *widget.Select
	outcome  *widget.RadioGroup
	comments *keyEntry
	counter  *widget.Label
	marker   *widget.Label
	pas      *widget.RadioGroup
	priority *widget.Select
	attach   *triage.ProviderAttachment
	attachL  *widget.Label
	attachB  *widget.Button
	removeB  *widget.Button
	prioRow  *fyne.Container

	errs    map[triage.Field]*widget.Label
	general *widget.Label
	obj     fyne.CanvasObject
}

func newDecisionForm(dp *decisionPanel, kind triage.DecisionKind, preset *triage.Decision) *decisionForm {
	f := &decisionForm{dp: dp, kind: kind, errs: map[triage.Field]*widget.Label{}}
	r := dp.p.referral()
	now := dp.p.v.now()
	keys := func(id shortcuts.ID) string { d, _ := shortcuts.Lookup(id); return d.Bindings[0].String() }
	errLabel := func(field triage.Field) *widget.Label {
		l := errorText("")
		l.Hide()
		f.errs[field] = l
		return l
	}
	f.general = errorText("")
	f.general.Hide()

	var title string
	objs := []fyne.CanvasObject{}
	switch kind {
	case triage.DecisionReject:
		title = "Reject: return to the referrer"
		f.reasons = dp.p.data.rd.RejectReasons(now)
		opts := make([]string, len(f.reasons))
		for i, c := range f.reasons {
			opts[i] = c.Display
		}
		f.reason = widget.NewSelect(opts, func(string) { f.updateMarker(); f.clearProblem(triage.FieldReason) })
		f.reason.PlaceHolder = chooseReason
		objs = append(objs, fieldLabel("Reason (required)"), f.reason, errLabel(triage.FieldReason))
		if len(f.reasons) == 0 {
			objs = append(objs, errorText("The list of rejection reasons has not been downloaded yet. Go online and refresh (Ctrl+R), then try again."))
		}
	case triage.DecisionRedirect:
		title = "Redirect: cancel the appointment for the booking team to action"
	case triage.DecisionReviewOutcome:
		title = "Triage outcome"
		f.outcome = widget.NewRadioGroup([]string{triage.OutcomeAcceptReferBookLater.Label(), triage.OutcomeReturnToReferrerWithAdvice.Label()}, func(string) {
			f.updateMarker()
			f.updatePriority()
			f.clearProblem(triage.FieldOutcome)
		})
		f.outcome.Required = true
		objs = append(objs, fieldLabel("Outcome (required)"), f.outcome, errLabel(triage.FieldOutcome))
	}

	f.marker = fieldLabel("")
	f.comments = newMultiLineKeyEntry()
	f.comments.SetMinRowsVisible(5)
	f.counter = widget.NewLabel("")
	f.comments.OnChanged = func(string) { f.updateCounter(); f.clearProblem(triage.FieldComments) }
	objs = append(objs, f.marker, f.comments, f.counter, errLabel(triage.FieldComments))

	if kind != triage.DecisionReviewOutcome && r.Booking() == triage.BookingIndirect {
		f.pas = widget.NewRadioGroup([]string{pasYes, pasNo}, func(string) { f.clearProblem(triage.FieldPAS) })
		f.pas.Required = true
		objs = append(objs, fieldLabel("Appointment cancelled in the PAS? (required for this indirectly bookable service)"), f.pas, errLabel(triage.FieldPAS))
	}
	if kind == triage.DecisionRedirect || kind == triage.DecisionReviewOutcome {
		opts := []string{keepPriority + " (" + r.Priority.Label() + ")"}
		for _, p := range triage.Priorities {
			if p != r.Priority {
				opts = append(opts, "Change to "+p.Label())
			}
		}
		f.priority = widget.NewSelect(opts, func(string) { f.clearProblem(triage.FieldPriority) })
		f.priority.SetSelectedIndex(0)
		f.prioRow = container.NewVBox(fieldLabel("Priority (optional change)"), f.priority, errLabel(triage.FieldPriority))
		objs = append(objs, f.prioRow)

		f.attachL = widget.NewLabel("No file attached (optional, up to 5 MB).")
		f.attachL.Wrapping = fyne.TextWrapWord
		f.attachB = widget.NewButtonWithIcon("Attach a file…", theme.ContentAddIcon(), f.chooseFile)
		f.removeB = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), f.discardAttachment)
		f.removeB.Hide()
		objs = append(objs, fieldLabel("Attachment"), f.attachL, container.NewHBox(f.attachB, f.removeB), errLabel(triage.FieldAttachments))
	}

	review := widget.NewButtonWithIcon("Review and send…  ("+keys(shortcuts.Confirm)+")", theme.ConfirmIcon(), func() { dp.submit(false) })
	review.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel  (Esc)", theme.CancelIcon(), func() { dp.cancel() })
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	all := append([]fyne.CanvasObject{head, f.general}, objs...)
	all = append(all, review, cancel)
	f.obj = container.NewVBox(all...)

	if preset != nil {
		f.restore(*preset)
	}
	f.updateMarker()
	f.updateCounter()
	f.updatePriority()
	return f
}

func fieldLabel(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	return l
}

// restore fills the form from a draft.
func (f *decisionForm) restore(d triage.Decision) {
	if f.reason != nil && d.Reason.Code != "" {
		for _, c := range f.reasons {
			if c.Code == d.Reason.Code {
				f.reason.SetSelected(c.Display)
			}
		}
	}
	if f.outcome != nil && d.Outcome != "" {
		f.outcome.SetSelected(d.Outcome.Label())
	}
	f.comments.SetText(d.Comments)
	if f.pas != nil && d.AppointmentCancelledInPAS != nil {
		if *d.AppointmentCancelledInPAS {
			f.pas.SetSelected(pasYes)
		} else {
			f.pas.SetSelected(pasNo)
		}
	}
	if f.priority != nil && d.NewPriority != "" {
		f.priority.SetSelected("Change to " + d.NewPriority.Label())
	}
	if len(d.Attachments) > 0 && f.attachL != nil {
		a := d.Attachments[0]
		f.setAttachment(&a)
	}
}

// concept returns the chosen reason.
func (f *decisionForm) concept() (triage.Concept, bool) {
	if f.reason == nil || f.reason.SelectedIndex() < 0 {
		return triage.Concept{}, false
	}
	return f.reasons[f.reason.SelectedIndex()], true
}

// commentsRequired says whether the comments are mandatory for the choice.
func (f *decisionForm) commentsRequired() bool {
	switch f.kind {
	case triage.DecisionReject:
		c, ok := f.concept()
		return ok && c.CommentIsMandatory
	case triage.DecisionRedirect, triage.DecisionReviewOutcome:
		return true
	}
	return false
}

// updateMarker labels the comments box with who reads it and whether it is
// required.
func (f *decisionForm) updateMarker() {
	who := "Comments for the referrer"
	switch {
	case f.kind == triage.DecisionRedirect:
		who = "Comments for the booking team (for example where to redirect)"
	case f.kind == triage.DecisionReviewOutcome && f.outcome.Selected == triage.OutcomeAcceptReferBookLater.Label():
		who = "Comments for the booking team"
	}
	if f.commentsRequired() {
		if f.kind == triage.DecisionReject {
			who += " (required for this reason) *"
		} else {
			who += " (required) *"
		}
	} else {
		who += " (optional)"
	}
	f.marker.SetText(who)
}

// Marker returns the comments label as shown (tests).
func (f *decisionForm) Marker() string { return f.marker.Text }

// updateCounter shows the live character count against e-RS's limit.
func (f *decisionForm) updateCounter() {
	n := utf8.RuneCountInString(f.comments.Text)
	if n > triage.MaxCommentLength {
		f.counter.SetText(fmt.Sprintf("%d / %d characters – %d too many", n, triage.MaxCommentLength, n-triage.MaxCommentLength))
		f.counter.Importance = widget.DangerImportance
	} else {
		f.counter.SetText(fmt.Sprintf("%d / %d characters", n, triage.MaxCommentLength))
		f.counter.Importance = widget.MediumImportance
	}
	f.counter.Refresh()
}

// updatePriority hides the priority change where it is not allowed
// (returning to the referrer).
func (f *decisionForm) updatePriority() {
	if f.prioRow == nil {
		return
	}
	if f.outcome != nil && f.outcome.Selected == triage.OutcomeReturnToReferrerWithAdvice.Label() {
		f.priority.SetSelectedIndex(0)
		f.prioRow.Hide()
	} else {
		f.prioRow.Show()
	}
}

// decision builds the decision from the form.
func (f *decisionForm) decision() triage.Decision {
	d := f.dp.base(f.kind)
	d.Comments = strings.TrimSpace(f.comments.Text)
	if c, ok := f.concept(); ok {
		d.Reason = triage.Coding{Code: c.Code, Display: c.Display}
		if cs, ok := f.dp.p.data.rd.System(triage.CodeSystemAppointmentCancellationReason); ok {
			d.Reason.System = cs.URL
		}
	}
	if f.outcome != nil {
		for _, o := range []triage.ReviewOutcome{triage.OutcomeAcceptReferBookLater, triage.OutcomeReturnToReferrerWithAdvice} {
			if f.outcome.Selected == o.Label() {
				d.Outcome = o
			}
		}
	}
	if f.pas != nil && f.pas.Selected != "" {
		v := f.pas.Selected == pasYes
		d.AppointmentCancelledInPAS = &v
	}
	if f.priority != nil && f.priority.Visible() && f.priority.SelectedIndex() > 0 {
		for _, p := range triage.Priorities {
			if f.priority.Selected == "Change to "+p.Label() {
				d.NewPriority = p
			}
		}
	}
	if f.attach != nil {
		d.Attachments = []triage.ProviderAttachment{*f.attach}
	}
	return d
}

// showProblems puts each validation message beside its field.
func (f *decisionForm) showProblems(err error) {
	for _, l := range f.errs {
		l.SetText("")
		l.Hide()
	}
	f.general.SetText("")
	f.general.Hide()
	var ve *triage.ValidationError
	if err == nil {
		return
	}
	if !errors.As(err, &ve) {
		f.general.SetText(triage.ErrorMessage(err))
		f.general.Show()
		return
	}
	var general []string
	for _, p := range ve.Problems {
		if l, ok := f.errs[p.Field]; ok {
			if l.Text != "" {
				l.SetText(l.Text + " " + p.Message)
			} else {
				l.SetText(p.Message)
			}
			l.Show()
		} else {
			general = append(general, p.Message)
		}
	}
	if len(general) > 0 {
		f.general.SetText(strings.Join(general, " "))
		f.general.Show()
	}
}

func (f *decisionForm) clearProblem(field triage.Field) {
	if l, ok := f.errs[field]; ok && l.Visible() {
		l.SetText("")
		l.Hide()
	}
}

// Problem returns the message shown beside a field (tests).
func (f *decisionForm) Problem(field triage.Field) string {
	if l, ok := f.errs[field]; ok && l.Visible() {
		return l.Text
	}
	return ""
}

// focus puts the keyboard in the form's first field.
func (f *decisionForm) focus() {
	c := f.dp.p.v.frame.Window().Canvas()
	switch {
	case f.reason != nil:
		c.Focus(f.reason)
	default:
		c.Focus(f.comments)
	}
}

// chooseFile picks a file to attach; it is checked (≤ 5 MB) and stored in
// the encrypted store before the decision can be queued.
func (f *decisionForm) chooseFile() {
	w := f.dp.p.v.frame.Window()
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		name := rc.URI().Name()
		f.attachFrom(name, rc)
	}, w)
}

// attachFrom reads a chosen file off the UI goroutine, refuses one over
// 5 MB, and stores it sealed under the referral before showing it.
func (f *decisionForm) attachFrom(name string, r io.ReadCloser) {
	v, ubrn := f.dp.p.v, f.dp.p.ubrn
	f.attachL.SetText("Storing " + name + "…")
	bridge.Run(v.b, f.dp.p.ctx, func(ctx context.Context) (*triage.ProviderAttachment, error) {
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, triage.MaxAttachmentSize+1))
		if err != nil {
			return nil, fmt.Errorf("read the file: %w", err)
		}
		if len(data) > triage.MaxAttachmentSize {
			return nil, &triage.Error{Code: triage.EINVALID, Message: "“" + name + "” is larger than the 5 MB e-RS allows. Attach a smaller file."}
		}
		if len(data) == 0 {
			return nil, &triage.Error{Code: triage.EINVALID, Message: "“" + name + "” is empty. Choose another file."}
		}
		ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
		if ct == "" {
			ct = "application/octet-stream"
		}
		id := "pa-" + randomID()
		if err := v.app.PutDocument(ctx, ubrn, app.DocumentMeta{ID: id, Kind: app.DocumentProvider, FileName: name, ContentType: ct}, data); err != nil {
			return nil, err
		}
		return &triage.ProviderAttachment{LocalID: id, FileName: name, ContentType: ct, Size: int64(len(data))}, nil
	}, func(a *triage.ProviderAttachment, err error) {
		if err != nil {
			f.attachL.SetText("No file attached. " + triage.ErrorMessage(err))
			return
		}
		f.discardAttachment()
		f.setAttachment(a)
	})
}

func (f *decisionForm) setAttachment(a *triage.ProviderAttachment) {
	f.attach = a
	f.attachL.SetText(a.FileName + " · " + fileTypeLabel(a.ContentType) + " · " + formatSize(a.Size) + " (stored encrypted; sent with the decision)")
	f.removeB.Show()
	f.clearProblem(triage.FieldAttachments)
}

// discardAttachment removes the attached file (and its stored copy).
func (f *decisionForm) discardAttachment() {
	if f.attach == nil {
		return
	}
	v, ubrn, id := f.dp.p.v, f.dp.p.ubrn, f.attach.LocalID
	f.attach = nil
	if f.attachL != nil {
		f.attachL.SetText("No file attached (optional, up to 5 MB).")
		f.removeB.Hide()
	}
	v.b.Go(func(ctx context.Context) { _ = v.app.DeleteDocument(ctx, ubrn, id) })
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// --- the confirm step ------------------------------------------------------

// confirmStep shows exactly what will be sent and for which patient, and
// queues it on confirmation.
type confirmStep struct {
	dp      *decisionPanel
	d       triage.Decision
	dlg     *dialog.CustomDialog
	err     *widget.Label
	buttons []*widget.Button
	queued  bool
	body    fyne.CanvasObject
}

func newConfirmStep(dp *decisionPanel, d triage.Decision) *confirmStep {
	c := &confirmStep{dp: dp, d: d}
	r := dp.p.referral()
	rows := [][2]string{
		{"Patient NHS number", triage.FormatNHSNumber(r.NHSNumber)},
		{"UBRN", formatUBRN(r.UBRN)},
		{"Referral", r.Priority.Label() + " · " + r.Type.Label() + " · " + r.Specialty.Label() + " · " + r.Service.Label()},
		{"Decision", d.Summary() + " (e-RS " + d.Kind.Operation() + ")"},
	}
	if d.Kind == triage.DecisionReviewOutcome {
		rows[3][1] = "Triage outcome: " + d.Outcome.Label() + " (e-RS A028)"
	}
	if d.Kind != triage.DecisionAccept {
		com := d.Comments
		if com == "" {
			com = "(none)"
		}
		rows = append(rows, [2]string{"Comments", com})
	}
	if d.AppointmentCancelledInPAS != nil {
		v := "No"
		if *d.AppointmentCancelledInPAS {
			v = "Yes"
		}
		rows = append(rows, [2]string{"Appointment cancelled in PAS", v})
	}
	if d.NewPriority != "" {
		rows = append(rows, [2]string{"New priority", d.NewPriority.Label() + " (was " + r.Priority.Label() + ")"})
	}
	for _, a := range d.Attachments {
		rows = append(rows, [2]string{"Attachment", a.FileName + " · " + formatSize(a.Size)})
	}
	grid := container.New(layout.NewFormLayout())
	for _, row := range rows {
		k := widget.NewLabelWithStyle(row[0], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		v := widget.NewLabel(row[1])
		v.Wrapping = fyne.TextWrapWord
		grid.Objects = append(grid.Objects, k, v)
	}
	note := "It is queued now and sent to e-RS as soon as Triage Desk can. You can cancel it until it is sent."
	if d.Kind == triage.DecisionAccept {
		note += " Once sent, an acceptance cannot be undone."
	}
	n := widget.NewLabel(note)
	n.Wrapping = fyne.TextWrapWord
	c.err = errorText("")
	c.err.Hide()
	c.body = container.NewVBox(grid, widget.NewSeparator(), n, c.err)

	back := widget.NewButtonWithIcon("Back  (Esc)", theme.NavigateBackIcon(), c.close)
	keyText := func(id shortcuts.ID) string { d, _ := shortcuts.Lookup(id); return d.Bindings[0].String() }
	send := widget.NewButtonWithIcon("Queue decision  ("+keyText(shortcuts.Confirm)+")", theme.ConfirmIcon(), func() { c.queue(false) })
	send.Importance = widget.HighImportance
	next := widget.NewButtonWithIcon("Queue and open next  ("+keyText(shortcuts.ConfirmAndNext)+")", theme.MediaSkipNextIcon(), func() { c.queue(true) })
	c.buttons = []*widget.Button{back, send, next}
	w := dp.p.v.frame.Window()
	c.dlg = dialog.NewCustomWithoutButtons("Send this decision to e-RS?", container.NewPadded(c.body), w)
	c.dlg.SetButtons([]fyne.CanvasObject{back, next, send})
	c.dlg.SetOnClosed(func() {
		if dp.confirm == c {
			dp.confirm = nil
		}
	})
	c.dlg.Show()
	width := min(w.Canvas().Size().Width-40, 720)
	c.dlg.Resize(fyne.NewSize(width, 100))
	c.dlg.Resize(fyne.NewSize(width, c.dlg.MinSize().Height))
	w.Canvas().Unfocus()
	return c
}

// close goes back to the form without sending.
func (c *confirmStep) close() {
	c.dp.confirm = nil
	c.dlg.Hide()
}

// queue writes the decision to the outbox (off the UI goroutine: it waits
// for the disk), then shows it queued and, with next, opens the next
// referral.
func (c *confirmStep) queue(next bool) {
	if c.queued {
		return
	}
	c.queued = true
	for _, b := range c.buttons {
		b.Disable()
	}
	dp := c.dp
	v, ubrn, d := dp.p.v, dp.p.ubrn, c.d
	a := v.app
	amend := dp.amending
	bridge.Run(v.b, nil, func(ctx context.Context) (app.Entry, error) {
		var en app.Entry
		var err error
		if amend != nil {
			en, err = a.Amend(ctx, amend.ID, d)
		} else {
			en, err = a.Decide(ctx, d)
		}
		if err == nil {
			_ = a.ClearDraft(ctx, ubrn)
		}
		return en, err
	}, func(en app.Entry, err error) {
		if err != nil {
			c.queued = false
			for _, b := range c.buttons {
				b.Enable()
			}
			c.err.SetText("Not queued: " + triage.ErrorMessage(err))
			c.err.Show()
			return
		}
		delete(v.drafts, ubrn)
		dp.p.data.view.Local.Draft = nil
		dp.form = nil
		dp.amending = nil
		dp.entry = &en
		c.close()
		v.list.SetLocalStatus(ubrn, triage.LocalStatusOf(en.State))
		dp.render()
		if next {
			v.openNext(ubrn)
		}
	})
}
