package erssandbox

import (
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// The operations that change a referral.
const (
	opAccept   = "A013"
	opReject   = "A014"
	opRedirect = "A022"
	opReview   = "A028"
	opCancel   = "A036"
)

// actor is who sends a request: the signed-in user and the role they act in.
type actor struct {
	User       TestUser
	ODS        string
	Function   triage.BusinessFunction
	OnBehalfOf string
}

func (a actor) provider() bool {
	switch a.Function {
	case triage.RoleServiceProviderClinician, triage.RoleServiceProviderClinicianAdmin, triage.RoleServiceProviderAdmin:
		return true
	}
	return false
}

// related reports whether the actor's organisation has a relationship with
// the referral: the provider organisation of its service, or for referrer
// roles the referring organisation.
func (a actor) related(rec *record) bool {
	if a.provider() {
		return rec.extra.ServiceODS == a.ODS
	}
	return rec.ref.ReferrerODS == a.ODS
}

func notInState(op string, rec *record) *apiError {
	return unprocessable("INVALID_REQUEST_STATE", "%s is not allowed: the referral is in state %s.", op, rec.ref.State.State)
}

func checkComments(field, c string, required bool) *apiError {
	if n := utf8.RuneCountInString(c); n > triage.MaxCommentLength {
		return unprocessable("INVALID_VALUE", "%s is %d characters; at most %d are allowed.", field, n, triage.MaxCommentLength)
	}
	if required && blank(c) {
		return unprocessable("VALUE_IS_REQUIRED", "%s is required.", field)
	}
	return nil
}

// checkPAS applies the appointmentCancelledInPAS rule: mandatory for
// indirectly bookable services, not permitted otherwise.
func checkPAS(rec *record, pas *bool) *apiError {
	if rec.ref.Booking() == triage.BookingIndirect {
		if pas == nil {
			return unprocessable("VALUE_IS_REQUIRED", "appointmentCancelledInPAS is required for an indirectly bookable service.")
		}
		return nil
	}
	if pas != nil {
		return unprocessable("FIELD_NOT_PERMITTED", "appointmentCancelledInPAS is only permitted for an indirectly bookable service.")
	}
	return nil
}

// bookedForReview is the state accept, reject and redirect need: a booked
// referral still on Referrals for Review.
func bookedForReview(op string, rec *record) *apiError {
	if rec.ref.Type != triage.ReferralTypeAppointment || rec.ref.State.State != triage.StateBooked || rec.extra.Accepted {
		return notInState(op, rec)
	}
	return nil
}

// applyAccept is A013.
func (s *store) applyAccept(rec *record, _ time.Time) *apiError {
	if e := bookedForReview(opAccept, rec); e != nil {
		return e
	}
	rec.extra.Accepted = true
	return nil
}

// applyReject is A014: the referral returns to the referrer as REJECTED with
// a current PROVIDER_REJECT reason.
func (s *store) applyReject(rec *record, d triage.Decision, now time.Time) *apiError {
	if e := bookedForReview(opReject, rec); e != nil {
		return e
	}
	if d.NewPriority != "" || d.Outcome != "" || len(d.Attachments) > 0 {
		return unprocessable("UNEXPECTED_FIELD", "Only rejectionReason, rejectionComments and appointmentCancelledInPAS are allowed.")
	}
	c, e := s.lookupReason("rejectionReason", d.Reason, triage.CodeSystemAppointmentCancellationReason, now, triage.ReasonTypeProviderReject)
	if e != nil {
		return e
	}
	if e := checkComments("rejectionComments", d.Comments, c.CommentIsMandatory); e != nil {
		return e
	}
	if e := checkPAS(rec, d.AppointmentCancelledInPAS); e != nil {
		return e
	}
	rec.ref.State = triage.ReferralStatus{State: triage.StateRejected,
		Reason: s.conceptCoding(triage.CodeSystemAppointmentCancellationReason, c), Comments: d.Comments}
	return nil
}

// applyPriorityAndFiles checks the files a redirect or review outcome
// attaches (providerFiles), then applies its new priority, if any, and
// attaches them.
func (s *store) applyPriorityAndFiles(rec *record, a actor, d triage.Decision, now time.Time) *apiError {
	ups, e := s.providerFiles(rec, d.Attachments)
	if e != nil {
		return e
	}
	if d.NewPriority != "" {
		rec.ref.Priority = d.NewPriority
	}
	s.attachFiles(rec, a, ups, d.Attachments, now)
	return nil
}

// providerFiles checks the files attached to A022/A028: each must have been
// uploaded with A020 for this referral, and no two may share a file name.
func (s *store) providerFiles(rec *record, atts []triage.ProviderAttachment) ([]*upload, *apiError) {
	return s.uploadedFiles(rec.ref.UBRN, rec.ref.Documents, triage.AttachmentProvider, atts)
}

// uploadedFiles checks files attached to a write on the referral or A&G
// request with the UBRN: each must have been uploaded with A020 for it and
// not used yet, and no two files of the attachment type (those already there
// and the new ones) may share a file name.
func (s *store) uploadedFiles(ubrn string, existing []triage.Document, typ triage.AttachmentType, atts []triage.ProviderAttachment) ([]*upload, *apiError) {
	var ups []*upload
	names := map[string]bool{}
	for _, d := range existing {
		if d.Type == typ {
			names[strings.ToLower(d.Title)] = true
		}
	}
	for _, a := range atts {
		u := s.uploads[a.BinaryID]
		switch {
		case a.BinaryID == "" || u == nil:
			return nil, unprocessable("REFERENCE_NOT_FOUND", "An attached file was not found. Upload it with A020 first.")
		case u.UBRN == "":
			return nil, unprocessable("INAPPROPRIATE_VALUE", "An attached file was uploaded without NHSD-eRS-Referral-ID.")
		case u.UBRN != ubrn:
			return nil, unprocessable("INAPPROPRIATE_VALUE", "An attached file was uploaded for a different referral.")
		case u.Used:
			return nil, unprocessable("INAPPROPRIATE_VALUE", "An attached file is already attached to the referral.")
		case names[strings.ToLower(u.FileName)]:
			return nil, unprocessable("DUPLICATE_FILENAME", "Two attached files have the same file name.")
		}
		names[strings.ToLower(u.FileName)] = true
		ups = append(ups, u)
	}
	return ups, nil
}

// attachFiles adds uploaded files to the referral as PROVIDER attachments.
func (s *store) attachFiles(rec *record, a actor, ups []*upload, atts []triage.ProviderAttachment, now time.Time) {
	rec.ref.Documents = append(rec.ref.Documents, s.useUploads(rec.ref.UBRN, a, ups, atts, triage.AttachmentProvider, now)...)
}

// useUploads marks uploaded files used and returns them as attachments of
// the type on the referral or A&G request with the UBRN, now downloadable.
func (s *store) useUploads(ubrn string, a actor, ups []*upload, atts []triage.ProviderAttachment, typ triage.AttachmentType, now time.Time) []triage.Document {
	var docs []triage.Document
	for i, u := range ups {
		u.Used = true
		desc := atts[i].Description
		if desc == "" {
			desc = path.Base(u.FileName)
		}
		docs = append(docs, triage.Document{ID: u.ID, URL: "Binary/" + u.ID, Title: u.FileName,
			Description: desc, ContentType: u.ContentType, Size: int64(len(u.Data)), Availability: triage.AvailabilityAvailable,
			Type: typ, AttachedBy: a.User.ID, AttachedByOrg: a.ODS, Created: u.Created, Indexed: now})
		s.atts[u.ID] = &attachment{ID: u.ID, UBRN: ubrn, Data: u.Data}
	}
	return docs
}

func checkPriority(p triage.Priority) *apiError {
	if p == "" {
		return nil
	}
	if _, err := triage.ParsePriority(string(p)); err != nil {
		return unprocessable("INVALID_CODE", "The priority is not an eRS-Priority-1 code.")
	}
	return nil
}

// applyRedirect is A022 "cancel appointment, action later": the appointment
// is cancelled and the referral handed to the provider's admin team.
func (s *store) applyRedirect(rec *record, a actor, d triage.Decision, now time.Time) *apiError {
	if e := bookedForReview(opRedirect, rec); e != nil {
		return e
	}
	if !d.Reason.IsZero() || d.Outcome != "" {
		return unprocessable("UNEXPECTED_FIELD", "Only comments, priority, appointmentCancelledInPAS and providerAttachmentFile are allowed.")
	}
	if blank(d.Comments) {
		return unprocessable("MISSING_VALUE", "comments is required.")
	}
	if e := checkComments("comments", d.Comments, true); e != nil {
		return e
	}
	if e := checkPriority(d.NewPriority); e != nil {
		return e
	}
	if e := checkPAS(rec, d.AppointmentCancelledInPAS); e != nil {
		return e
	}
	if e := s.applyPriorityAndFiles(rec, a, d, now); e != nil {
		return e
	}
	// As in the published A022 responses: the provider's admin team now has
	// to act (rebook or redirect), with the outcome as the state reason.
	rec.ref.State = triage.ReferralStatus{State: triage.StateTriagedProviderToAction,
		Reason:   triage.Coding{System: triage.SystemReviewOutcome, Code: string(triage.OutcomeCancelAppointmentActionLater), Display: "Cancel Appointment Action Later"},
		Comments: d.Comments}
	return nil
}

// applyReviewOutcome is A028: a triage outcome on a RAS referral awaiting
// triage or a referral deferred to the provider.
func (s *store) applyReviewOutcome(rec *record, a actor, d triage.Decision, now time.Time) *apiError {
	st := rec.ref.State.State
	if rec.ref.Type == triage.ReferralTypeAppointment && st == triage.StateBooked {
		return unprocessable("INVALID_REQUEST_TYPE", "A review outcome cannot be recorded for a booked referral.")
	}
	if st != triage.StateAwaitingTriage && st != triage.StateDeferredToProvider {
		return notInState(opReview, rec)
	}
	if !d.Reason.IsZero() || d.AppointmentCancelledInPAS != nil {
		return unprocessable("UNEXPECTED_FIELD", "Only reviewOutcome, reviewComments, reviewPriority and reviewAttachmentFile are allowed.")
	}
	if d.Outcome == "" {
		return unprocessable("MISSING_VALUE", "reviewOutcome is required.")
	}
	if !d.Outcome.Recordable() {
		return unprocessable("INVALID_CODE", "reviewOutcome must be RETURN_TO_REFERRER_WITH_ADVICE or ACCEPT_REFER_BOOK_LATER.")
	}
	if blank(d.Comments) {
		return unprocessable("MISSING_VALUE", "reviewComments is required.")
	}
	if e := checkComments("reviewComments", d.Comments, true); e != nil {
		return e
	}
	if d.NewPriority != "" && d.Outcome == triage.OutcomeReturnToReferrerWithAdvice {
		return unprocessable("PRIORITY_NOT_CURRENT", "The priority cannot be changed when returning the referral to the referrer.")
	}
	if e := checkPriority(d.NewPriority); e != nil {
		return e
	}
	if e := s.applyPriorityAndFiles(rec, a, d, now); e != nil {
		return e
	}
	next, display := triage.StateTriagedProviderToAction, "Accept Refer Book Later"
	if d.Outcome == triage.OutcomeReturnToReferrerWithAdvice {
		next, display = triage.StateTriageResponse, "Return to Referrer With Advice"
	}
	rec.ref.State = triage.ReferralStatus{State: next,
		Reason:   triage.Coding{System: triage.SystemReviewOutcome, Code: string(d.Outcome), Display: display},
		Comments: d.Comments}
	return nil
}

// applyCancel is A036: a provider ends triage of a referral triaged
// "provider to action" with a PROVIDER_TRIAGE reason; a referrer cancels
// their referral with a referrer reason. It is a one-way end state.
func (s *store) applyCancel(rec *record, a actor, reason triage.Coding, comments string, now time.Time) *apiError {
	if rec.ref.State.State == triage.StateCancelledReferral {
		return notInState(opCancel, rec)
	}
	types := []string{"PATIENT", "PROVIDER", "UNKNOWN"}
	if a.provider() {
		if rec.ref.State.State != triage.StateTriagedProviderToAction {
			return notInState(opCancel, rec)
		}
		types = []string{triage.ReasonTypeProviderTriage}
	}
	c, e := s.lookupReason("cancellationReason", reason, triage.CodeSystemReferralCancellationReason, now, types...)
	if e != nil {
		return e
	}
	if e := checkComments("cancellationComments", comments, c.CommentIsMandatory); e != nil {
		return e
	}
	rec.ref.State = triage.ReferralStatus{State: triage.StateCancelledReferral,
		Reason: s.conceptCoding(triage.CodeSystemReferralCancellationReason, c), Comments: comments}
	rec.ref.Status = "cancelled"
	return nil
}

// availableActions is A029: what the actor may do with the referral now.
func availableActions(rec *record, a actor) []triage.Action {
	st := rec.ref.State.State
	if a.provider() {
		switch {
		case st == triage.StateAwaitingTriage || st == triage.StateDeferredToProvider:
			return []triage.Action{triage.ActionRecordReviewOutcome}
		case st == triage.StateTriagedProviderToAction && a.Function == triage.RoleServiceProviderClinician:
			return []triage.Action{triage.ActionCancelReferral}
		}
		return nil
	}
	if st != triage.StateCancelledReferral {
		return []triage.Action{triage.ActionCancelReferral}
	}
	return nil
}
