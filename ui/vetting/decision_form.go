package vetting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/attach"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// --- the form --------------------------------------------------------------

// decisionForm collects a reject, redirect or triage outcome.
type decisionForm struct {
	dp   *decisionPanel
	kind triage.DecisionKind

	reasons  []triage.Concept
	reason   *widget.Select
	outcome  *widget.RadioGroup
	comments *widgets.TextArea
	stopSave func() // the pending save of the draft while typing
	counter  *widget.Label
	marker   *widget.Label
	pas      *widget.RadioGroup
	priority *widget.Select
	files    *attach.Picker // nil: the decision takes no file
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
	f.comments = widgets.NewTextArea(5)
	f.counter = widget.NewLabel("")
	f.comments.OnChanged = func(string) { f.updateCounter(); f.clearProblem(triage.FieldComments); f.saveSoon() }
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

		f.files = f.newPicker()
		objs = append(objs, fieldLabel("Attachment"), f.files.List, f.files.Buttons(), errLabel(triage.FieldAttachments))
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
	if len(d.Attachments) > 0 && f.files != nil {
		f.files.SetFiles(d.Attachments[:1])
		f.clearProblem(triage.FieldAttachments)
	}
}

// concept returns the chosen reason.
func (f *decisionForm) concept() (triage.Concept, bool) {
	if f.reason == nil || f.reason.SelectedIndex() < 0 {
		return triage.Concept{}, false
	}
	return f.reasons[f.reason.SelectedIndex()], true
}

// draftPause is how long typing must pause before the draft is saved.
const draftPause = 2 * time.Second

// saveSoon keeps the form as the referral's draft once typing pauses, so a
// crash or a power cut loses at most the last moments of typing, not the
// whole comment.
func (f *decisionForm) saveSoon() {
	if f.stopSave != nil {
		f.stopSave()
	}
	dp := f.dp
	f.stopSave = dp.p.v.b.After(draftPause, func() {
		// Only while this form is still the one on screen: a closed
		// referral's form kept its draft when it closed, and saving it
		// again could bring back a draft dropped since.
		if dp.form == f && dp.confirm == nil && dp.p.v.panel == dp.p {
			dp.keepDraft()
		}
	})
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
	// Counted as sent (and as the check on review counts): without
	// leading and trailing spaces and new lines.
	// Redrawn only when its words or colour change (one refresh of the
	// counter alone, never the form), so a keystroke costs the box's own
	// work and little more.
	n := utf8.RuneCountInString(strings.TrimSpace(f.comments.Text()))
	text, imp := fmt.Sprintf("%d / %d characters", n, triage.MaxCommentLength), widget.MediumImportance
	if n > triage.MaxCommentLength {
		text, imp = fmt.Sprintf("%d / %d characters – %d too many", n, triage.MaxCommentLength, n-triage.MaxCommentLength), widget.DangerImportance
	}
	if text == f.counter.Text && imp == f.counter.Importance {
		return
	}
	f.counter.Text, f.counter.Importance = text, imp
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
	d.Comments = strings.TrimSpace(f.comments.Text())
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
	if f.files != nil {
		d.Attachments = f.files.Files()
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

// newPicker is the form's attachment: one file, checked (≤ 5 MB) and
// stored in the encrypted store before the decision can be queued; a new
// file, Remove or cancelling the form drops the stored copy.
func (f *decisionForm) newPicker() *attach.Picker {
	v, ubrn := f.dp.p.v, f.dp.p.ubrn
	return attach.New(attach.Options{Bridge: v.b, Context: f.dp.p.ctx, Window: v.frame.Window(), One: true,
		Keep: func(ctx context.Context, name string, data []byte) (triage.ProviderAttachment, error) {
			ct := triage.AttachmentContentType(name)
			id := "pa-" + randomID()
			if err := v.app.PutDocument(ctx, ubrn, app.DocumentMeta{ID: id, Kind: app.DocumentProvider, FileName: name, ContentType: ct}, data); err != nil {
				return triage.ProviderAttachment{}, err
			}
			return triage.ProviderAttachment{LocalID: id, FileName: name, ContentType: ct, Size: int64(len(data))}, nil
		},
		Drop: func(a triage.ProviderAttachment) {
			v.b.Save(func(ctx context.Context) { _ = v.app.DeleteDocument(ctx, ubrn, a.LocalID) })
		},
		None: "No file attached (optional, up to 5 MB).", Keeping: "Storing",
		Line: func(a triage.ProviderAttachment) string {
			return a.FileName + " · " + fileTypeLabel(a.ContentType) + " · " + formatSize(a.Size) + " (stored encrypted; sent with the decision)"
		},
		Remove: "Remove", RemoveIcon: theme.DeleteIcon(),
		OnAttached: func() { f.clearProblem(triage.FieldAttachments) }})
}

// discardAttachment removes the attached file (and its stored copy).
func (f *decisionForm) discardAttachment() {
	if f.files != nil {
		f.files.Clear()
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
