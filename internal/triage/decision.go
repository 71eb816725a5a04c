package triage

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxCommentLength is the most characters e-RS accepts in a rejection,
// redirect or review comment.
const MaxCommentLength = 2000

// DecisionKind is what the clinician decided, and so which e-RS operation
// sends it.
type DecisionKind string

// The decision kinds.
const (
	// DecisionAccept accepts a booked referral (A013).
	DecisionAccept DecisionKind = "ACCEPT"
	// DecisionReject returns a booked referral to the referrer with a coded
	// reason (A014).
	DecisionReject DecisionKind = "REJECT"
	// DecisionRedirect cancels the appointment and hands the referral to the
	// provider's booking team to rebook or redirect (A022, "cancel
	// appointment, action later").
	DecisionRedirect DecisionKind = "REDIRECT"
	// DecisionReviewOutcome records a triage outcome on a RAS referral or a
	// deferred referral (A028).
	DecisionReviewOutcome DecisionKind = "REVIEW_OUTCOME"
)

// DecisionKinds lists every kind of decision.
var DecisionKinds = []DecisionKind{DecisionAccept, DecisionReject, DecisionRedirect, DecisionReviewOutcome}

// Label is the plain-English name of the decision kind.
func (k DecisionKind) Label() string {
	switch k {
	case DecisionAccept:
		return "Accept"
	case DecisionReject:
		return "Reject"
	case DecisionRedirect:
		return "Redirect"
	case DecisionReviewOutcome:
		return "Triage outcome"
	}
	return string(k)
}

// Operation is the e-RS operation id that sends the decision.
func (k DecisionKind) Operation() string {
	switch k {
	case DecisionAccept:
		return "A013"
	case DecisionReject:
		return "A014"
	case DecisionRedirect:
		return "A022"
	case DecisionReviewOutcome:
		return "A028"
	}
	return ""
}

// Settlement is what re-reading a referral says about a decision whose send
// had an unknown outcome (a timeout, a dropped connection, a 5xx): e-RS has no
// idempotency keys, so the referral itself must show whether it was applied.
type Settlement int

// The settlement outcomes.
const (
	// SettleNotApplied: the referral is at the version the clinician saw, so
	// the decision did not reach e-RS and may be sent again.
	SettleNotApplied Settlement = iota
	// SettleApplied: the referral carries this decision's signature (state,
	// reason and comments), so it was applied and must not be sent again.
	SettleApplied
	// SettleChanged: the referral changed in some other way; the clinician
	// must see what changed (a conflict).
	SettleChanged
	// SettleNeedsWorklist: the referral alone cannot tell (accept leaves the
	// state BOOKED); whether it left Referrals for Review decides.
	SettleNeedsWorklist
)

// Settle compares the referral as e-RS now has it with the decision, to tell
// whether an ambiguous send was applied. The published e-RS responses put both
// triage outcomes and "cancel appointment, action later" in state
// TRIAGED_PROVIDER_TO_ACTION with the outcome as the state reason, while the
// state list defines TRIAGE_RESPONSE as "returned to the referrer with
// advice"; both are accepted, and the reason code and the comments identify
// the decision.
func (d Decision) Settle(now *Referral) Settlement {
	if now == nil {
		return SettleChanged
	}
	if now.Version == d.BaseVersion {
		return SettleNotApplied
	}
	if now.Version < d.BaseVersion {
		return SettleChanged
	}
	st := now.State
	sameComments := strings.TrimSpace(st.Comments) == strings.TrimSpace(d.Comments)
	switch d.Kind {
	case DecisionAccept:
		if st.State == StateBooked {
			return SettleNeedsWorklist
		}
	case DecisionReject:
		if st.State == StateRejected && st.Reason.Code == d.Reason.Code && sameComments {
			return SettleApplied
		}
	case DecisionRedirect:
		if (st.State == StateTriagedProviderToAction || st.State == StateApptCancelledByProvider) &&
			st.Reason.Code == string(OutcomeCancelAppointmentActionLater) && sameComments {
			return SettleApplied
		}
	case DecisionReviewOutcome:
		if (st.State == StateTriagedProviderToAction || st.State == StateTriageResponse) &&
			st.Reason.Code == string(d.Outcome) && sameComments {
			return SettleApplied
		}
	}
	return SettleChanged
}

// ProviderAttachment is a file the clinician attaches to a redirect or triage
// outcome. It is uploaded with A020 just before the decision is sent; the
// bytes live in the encrypted store under LocalID.
type ProviderAttachment struct {
	LocalID     string `json:"localId"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Description string `json:"description,omitempty"`
	// BinaryID is the e-RS id returned by A020, set once uploaded.
	BinaryID string `json:"binaryId,omitempty"`
	// AttachedAt is when the clinician attached the file, sent as its
	// indexed time; when zero, the decision or reply time is sent.
	AttachedAt time.Time `json:"attachedAt,omitzero"`
}

// MaxAttachmentSize is the largest file e-RS accepts (A020: 5 MB).
const MaxAttachmentSize = 5 * 1024 * 1024

// Decision is what a clinician decided about one referral. It records the
// referral version the clinician saw, so a referral changed by someone else
// in the meantime is detected instead of overwritten, and who decided, so it
// is only ever sent under that clinician's own session.
type Decision struct {
	ID          string       `json:"id"`
	Kind        DecisionKind `json:"kind"`
	UBRN        string       `json:"ubrn"`
	BaseVersion int          `json:"baseVersion"`
	By          Identity     `json:"by"`
	DecidedAt   time.Time    `json:"decidedAt"`

	// Reject: a PROVIDER_REJECT code from APPOINTMENT-CANCELLATION-REASON.
	Reason Coding `json:"reason,omitzero"`
	// Comments go to the referrer (reject, return with advice) or the
	// provider's booking team (redirect, book later).
	Comments string `json:"comments,omitempty"`
	// AppointmentCancelledInPAS is required for indirectly bookable services
	// on reject and redirect, and not allowed otherwise.
	AppointmentCancelledInPAS *bool `json:"appointmentCancelledInPas,omitempty"`
	// NewPriority optionally changes the priority (redirect, review outcome).
	NewPriority Priority `json:"newPriority,omitempty"`
	// Outcome is the triage outcome (review outcome only).
	Outcome     ReviewOutcome        `json:"outcome,omitempty"`
	Attachments []ProviderAttachment `json:"attachments,omitempty"`
}

// Summary describes the decision in one plain-English line for confirm
// dialogs, the outbox and the audit log. It contains no patient data.
func (d Decision) Summary() string {
	switch d.Kind {
	case DecisionReject:
		if d.Reason.Display != "" {
			return "Reject: " + d.Reason.Display
		}
		return "Reject: " + d.Reason.Code
	case DecisionReviewOutcome:
		return d.Outcome.Label()
	}
	return d.Kind.Label()
}

// ValidationContext is what a decision is checked against: the referral as the
// clinician saw it, the live reference data and the current time.
type ValidationContext struct {
	Referral *Referral
	RefData  *ReferenceData
	Now      time.Time
}

// Field names the part of a decision a validation problem is about, so the UI
// can put the message beside it.
type Field string

// The decision fields.
const (
	FieldKind        Field = "kind"
	FieldReason      Field = "reason"
	FieldComments    Field = "comments"
	FieldPAS         Field = "appointmentCancelledInPas"
	FieldPriority    Field = "priority"
	FieldOutcome     Field = "outcome"
	FieldAttachments Field = "attachments"
	FieldReferral    Field = "referral"
	FieldIdentity    Field = "identity"
)

// Rule identifies which rule a decision broke.
type Rule string

// The decision rules.
const (
	RuleUnknownKind          Rule = "unknown-kind"
	RuleWrongReferralType    Rule = "wrong-referral-type"
	RuleReferralMismatch     Rule = "referral-mismatch"
	RuleVersionMissing       Rule = "version-missing"
	RuleIdentityMissing      Rule = "identity-missing"
	RuleRoleCannotDecide     Rule = "role-cannot-decide"
	RuleReasonRequired       Rule = "reason-required"
	RuleReasonUnknown        Rule = "reason-unknown"
	RuleReasonNotReject      Rule = "reason-not-reject"
	RuleReasonNotCurrent     Rule = "reason-not-current"
	RuleReferenceDataMissing Rule = "reference-data-missing"
	RuleCommentRequired      Rule = "comment-required"
	RuleCommentTooLong       Rule = "comment-too-long"
	RulePASRequired          Rule = "pas-required"
	RulePASNotAllowed        Rule = "pas-not-allowed"
	RuleOutcomeInvalid       Rule = "outcome-invalid"
	RulePriorityInvalid      Rule = "priority-invalid"
	RulePriorityNotAllowed   Rule = "priority-not-allowed"
	RulePriorityUnchanged    Rule = "priority-unchanged"
	RuleFieldNotAllowed      Rule = "field-not-allowed"
	RuleAttachmentTooLarge   Rule = "attachment-too-large"
	RuleAttachmentNotAllowed Rule = "attachment-not-allowed"
)

// Problem is one thing wrong with a decision, with a message that tells the
// clinician what to fix.
type Problem struct {
	Field   Field  `json:"field"`
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
}

// ValidationError lists everything wrong with a decision. It is returned by
// Decision.Validate and never wraps another error.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problem messages.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, " ")
}

// Has reports whether the error includes a problem with the rule.
func (e *ValidationError) Has(r Rule) bool {
	for _, p := range e.Problems {
		if p.Rule == r {
			return true
		}
	}
	return false
}

// For returns the messages about one field.
func (e *ValidationError) For(f Field) []string {
	var out []string
	for _, p := range e.Problems {
		if p.Field == f {
			out = append(out, p.Message)
		}
	}
	return out
}

// AllowedKinds returns the decisions that fit the referral type: accept,
// reject and redirect for booked referrals; a triage outcome for RAS and
// deferred referrals. e-RS forbids the others.
func AllowedKinds(t ReferralType) []DecisionKind {
	switch t {
	case ReferralTypeAppointment:
		return []DecisionKind{DecisionAccept, DecisionReject, DecisionRedirect}
	case ReferralTypeTriageDeferral:
		return []DecisionKind{DecisionReviewOutcome}
	}
	return nil
}

// KindsNow returns the decisions e-RS takes on the referral as it is now.
// A booked referral takes accept, reject and redirect while it is booked
// and still on Referrals for Review (A029 does not report these). A RAS
// referral takes a triage outcome when A029 offers RECORD_REVIEW_OUTCOME;
// when A029 could not be asked (actionsKnown false), while its state is
// still awaiting triage or deferred to the provider.
func KindsNow(r *Referral, onWorklist bool, actions []Action, actionsKnown bool) []DecisionKind {
	switch r.Type {
	case ReferralTypeAppointment:
		if r.State.State == StateBooked && onWorklist {
			return AllowedKinds(r.Type)
		}
	case ReferralTypeTriageDeferral:
		ok := r.State.State == StateAwaitingTriage || r.State.State == StateDeferredToProvider
		if actionsKnown {
			ok = slices.Contains(actions, ActionRecordReviewOutcome)
		}
		if ok {
			return AllowedKinds(r.Type)
		}
	}
	return nil
}

// Validate checks the decision against the e-RS rules. It returns nil or a
// *ValidationError listing every problem in plain English.
func (d Decision) Validate(vc ValidationContext) error {
	var ps []Problem
	add := func(f Field, r Rule, format string, args ...any) {
		ps = append(ps, Problem{Field: f, Rule: r, Message: fmt.Sprintf(format, args...)})
	}
	ref := vc.Referral
	if ref == nil {
		add(FieldReferral, RuleReferralMismatch, "Open the referral before deciding.")
		return &ValidationError{Problems: ps}
	}
	if d.UBRN != ref.UBRN {
		add(FieldReferral, RuleReferralMismatch, "This decision is for a different referral from the one open. Reopen the referral and decide again.")
	}
	if d.BaseVersion <= 0 {
		add(FieldReferral, RuleVersionMissing, "The referral's version is not known. Refresh the referral before deciding.")
	}
	ps = append(ps, identityProblems(d.By, "deciding", "record clinical decisions")...)

	known := false
	for _, k := range DecisionKinds {
		known = known || k == d.Kind
	}
	if !known {
		add(FieldKind, RuleUnknownKind, "Choose a decision: accept, reject, redirect or a triage outcome.")
		return &ValidationError{Problems: ps}
	}
	fits := false
	for _, k := range AllowedKinds(ref.Type) {
		fits = fits || k == d.Kind
	}
	if !fits {
		switch ref.Type {
		case ReferralTypeAppointment:
			add(FieldKind, RuleWrongReferralType, "This is a booked referral: accept, reject or redirect it. Triage outcomes are only for referral assessment services.")
		case ReferralTypeTriageDeferral:
			add(FieldKind, RuleWrongReferralType, "This referral is awaiting triage: record a triage outcome. Accept, reject and redirect are only for booked referrals.")
		default:
			add(FieldKind, RuleWrongReferralType, "The referral type is not known, so no decision can be sent. Refresh the referral.")
		}
	}

	ps = append(ps, d.checkFields(vc)...)
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

func (d Decision) checkFields(vc ValidationContext) []Problem {
	var ps []Problem
	add := func(f Field, r Rule, format string, args ...any) {
		ps = append(ps, Problem{Field: f, Rule: r, Message: fmt.Sprintf(format, args...)})
	}
	ref := vc.Referral
	n := utf8.RuneCountInString(d.Comments)
	blank := strings.TrimSpace(d.Comments) == ""
	if n > MaxCommentLength {
		add(FieldComments, RuleCommentTooLong, "Comments can be at most %d characters; these are %d. Shorten them by %d.", MaxCommentLength, n, n-MaxCommentLength)
	}
	notAllowed := func(set bool, f Field, what string) {
		if set {
			add(f, RuleFieldNotAllowed, "%s cannot be sent with %s.", what, strings.ToLower(d.Kind.Label()))
		}
	}
	checkPAS := func() {
		switch ref.Booking() {
		case BookingIndirect:
			if d.AppointmentCancelledInPAS == nil {
				add(FieldPAS, RulePASRequired, "This service books appointments in your PAS: say whether the appointment has been cancelled in the PAS.")
			}
		default:
			if d.AppointmentCancelledInPAS != nil {
				add(FieldPAS, RulePASNotAllowed, "\"Appointment cancelled in PAS\" applies only to indirectly bookable services; leave it unset.")
			}
		}
	}
	checkPriority := func() {
		if d.NewPriority == "" {
			return
		}
		if _, err := ParsePriority(string(d.NewPriority)); err != nil {
			add(FieldPriority, RulePriorityInvalid, "Choose a priority from the list (routine, urgent or 2WW).")
		} else if d.NewPriority == ref.Priority {
			add(FieldPriority, RulePriorityUnchanged, "The referral is already %s. Choose a different priority or leave it unchanged.", d.NewPriority.Label())
		}
	}
	checkAttachments := func() {
		for _, a := range d.Attachments {
			if a.Size > MaxAttachmentSize {
				add(FieldAttachments, RuleAttachmentTooLarge, "%q is larger than the 5 MB e-RS allows. Attach a smaller file.", a.FileName)
			}
		}
	}

	switch d.Kind {
	case DecisionAccept:
		notAllowed(!d.Reason.IsZero(), FieldReason, "A reason")
		notAllowed(!blank, FieldComments, "Comments")
		notAllowed(d.NewPriority != "", FieldPriority, "A priority change")
		notAllowed(d.Outcome != "", FieldOutcome, "A triage outcome")
		notAllowed(d.AppointmentCancelledInPAS != nil, FieldPAS, "\"Appointment cancelled in PAS\"")
		notAllowed(len(d.Attachments) > 0, FieldAttachments, "Attachments")
	case DecisionReject:
		notAllowed(d.NewPriority != "", FieldPriority, "A priority change")
		notAllowed(d.Outcome != "", FieldOutcome, "A triage outcome")
		notAllowed(len(d.Attachments) > 0, FieldAttachments, "Attachments")
		checkPAS()
		if d.Reason.IsZero() {
			add(FieldReason, RuleReasonRequired, "Choose a reason for rejecting the referral from the list.")
			break
		}
		cs, ok := vc.RefData.System(CodeSystemAppointmentCancellationReason)
		if !ok {
			add(FieldReason, RuleReferenceDataMissing, "The list of rejection reasons has not been downloaded yet. Go online and refresh, then try again.")
			break
		}
		c, ok := cs.Lookup(d.Reason.Code)
		switch {
		case !ok:
			add(FieldReason, RuleReasonUnknown, "%q is not an e-RS rejection reason. Choose a reason from the list.", d.Reason.Code)
		case c.ReasonType != ReasonTypeProviderReject:
			add(FieldReason, RuleReasonNotReject, "%q cannot be used to reject a referral. Choose a reason from the list.", c.Display)
		case !c.EffectiveAt(vc.Now):
			add(FieldReason, RuleReasonNotCurrent, "%q is no longer a current e-RS reason. Choose another reason from the list.", c.Display)
		case c.CommentIsMandatory && blank:
			add(FieldComments, RuleCommentRequired, "The reason %q needs a comment for the referrer. Add a comment.", c.Display)
		}
	case DecisionRedirect:
		notAllowed(!d.Reason.IsZero(), FieldReason, "A rejection reason")
		notAllowed(d.Outcome != "", FieldOutcome, "A triage outcome")
		checkPAS()
		checkPriority()
		checkAttachments()
		if blank {
			add(FieldComments, RuleCommentRequired, "Add a comment telling the booking team what to do (for example which service to redirect to).")
		}
	case DecisionReviewOutcome:
		notAllowed(!d.Reason.IsZero(), FieldReason, "A rejection reason")
		notAllowed(d.AppointmentCancelledInPAS != nil, FieldPAS, "\"Appointment cancelled in PAS\"")
		checkAttachments()
		if !d.Outcome.Recordable() {
			add(FieldOutcome, RuleOutcomeInvalid, "Choose a triage outcome: return to referrer with advice, or accept – book later.")
		}
		if d.Outcome == OutcomeReturnToReferrerWithAdvice && d.NewPriority != "" {
			add(FieldPriority, RulePriorityNotAllowed, "The priority cannot be changed when returning a referral to the referrer. Leave the priority unchanged.")
		} else {
			checkPriority()
		}
		if blank {
			add(FieldComments, RuleCommentRequired, "Add a comment: it goes to the referrer (return with advice) or to the booking team (book later).")
		}
	}
	return ps
}
