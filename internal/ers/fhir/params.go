package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Parameter names of the decision operations.
const (
	paramRejectionReason      = "rejectionReason"
	paramRejectionComments    = "rejectionComments"
	paramPAS                  = "appointmentCancelledInPAS"
	paramComments             = "comments"
	paramPriority             = "priority"
	paramProviderAttachment   = "providerAttachmentFile"
	paramReviewOutcome        = "reviewOutcome"
	paramReviewComments       = "reviewComments"
	paramReviewPriority       = "reviewPriority"
	paramReviewAttachment     = "reviewAttachmentFile"
	paramCancellationReason   = "cancellationReason"
	paramCancellationComments = "cancellationComments"
	paramUpdatedReferral      = "updatedReferralRequest"
)

// DecisionParameters builds the request body that sends the decision: A014
// (reject), A022 (cancel appointment, action later) or A028 (review
// outcome). A013 (accept) has no body: it returns nil and no error.
//
// The rejection reason is sent with reasonSystem, the APPOINTMENT-
// CANCELLATION-REASON URL from A004, or the reason's own system when
// reasonSystem is "". Codings are sent without display. Blank rejection
// comments are left out. Provider attachments must have been uploaded (A020)
// so they have a BinaryID; each is sent as a PROVIDER DocumentReference
// indexed at the decision time.
//
// Parameter order follows the published e-RS examples. It returns an error
// for an unknown kind, a reject without a reason (or its system), a redirect
// without comments, a review outcome without outcome or comments, or an
// attachment not yet uploaded. It does not apply the domain rules; call
// Decision.Validate for those.
func DecisionParameters(d triage.Decision, reasonSystem string) (*Parameters, error) {
	var p *Parameters
	newParams := func(profile string) {
		p = &Parameters{ResourceType: TypeParameters, Meta: &Meta{Profile: []string{profile}}}
	}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	priority := func(name string) {
		if d.NewPriority != "" {
			add(Parameter{Name: name, ValueCoding: &Coding{System: triage.SystemPriority, Code: string(d.NewPriority)}})
		}
	}
	pas := func() {
		if d.AppointmentCancelledInPAS != nil {
			add(Parameter{Name: paramPAS, ValueBoolean: ptr(*d.AppointmentCancelledInPAS)})
		}
	}
	attachments := func(name string) error {
		for i, a := range d.Attachments {
			if a.BinaryID == "" {
				return fmt.Errorf("%s: attachment %d has not been uploaded", d.Kind.Operation(), i)
			}
			add(Parameter{Name: name, Resource: &Resource{DocumentReference: providerAttachment(a, triage.AttachmentProvider, d.DecidedAt)}})
		}
		return nil
	}
	blank := strings.TrimSpace(d.Comments) == ""
	switch d.Kind {
	case triage.DecisionAccept:
		return nil, nil
	case triage.DecisionReject:
		system := reasonSystem
		if system == "" {
			system = d.Reason.System
		}
		if d.Reason.Code == "" || system == "" {
			return nil, errors.New("A014: the rejection reason and its code system are required")
		}
		newParams(ProfileRejectReferral)
		add(Parameter{Name: paramRejectionReason, ValueCoding: &Coding{System: system, Code: d.Reason.Code}})
		if !blank {
			add(Parameter{Name: paramRejectionComments, ValueString: ptr(d.Comments)})
		}
		pas()
	case triage.DecisionRedirect:
		if blank {
			return nil, errors.New("A022: comments are required")
		}
		newParams(ProfileCancelAppointmentActionLater)
		add(Parameter{Name: paramComments, ValueString: ptr(d.Comments)})
		priority(paramPriority)
		pas()
		if err := attachments(paramProviderAttachment); err != nil {
			return nil, err
		}
	case triage.DecisionReviewOutcome:
		if d.Outcome == "" || blank {
			return nil, errors.New("A028: the review outcome and comments are required")
		}
		newParams(ProfileRecordReviewOutcome)
		priority(paramReviewPriority)
		add(Parameter{Name: paramReviewOutcome, ValueCoding: &Coding{System: triage.SystemReviewOutcome, Code: string(d.Outcome)}})
		add(Parameter{Name: paramReviewComments, ValueString: ptr(d.Comments)})
		if err := attachments(paramReviewAttachment); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown decision kind %q", clip(string(d.Kind)))
	}
	return p, nil
}

// providerAttachment is the DocumentReference that attaches an uploaded
// file to a write, of the attachment type; it is indexed at the file's
// AttachedAt, else at the decision time.
func providerAttachment(a triage.ProviderAttachment, typ triage.AttachmentType, decided time.Time) *DocumentReference {
	indexed := a.AttachedAt
	if indexed.IsZero() {
		indexed = decided
	}
	dr := &DocumentReference{
		ResourceType: TypeDocumentReference,
		Meta:         &Meta{Profile: []string{ProfileDocumentReference}},
		Type:         concept(triage.SystemAttachmentType, string(typ), ""),
		Status:       "current",
		Description:  a.Description,
		Content:      []DocumentContent{{Attachment: Attachment{URL: "Binary/" + a.BinaryID}}},
	}
	if !indexed.IsZero() {
		dr.Indexed = indexed.UTC().Format(layoutIndexed)
	}
	return dr
}

// decisionParams lists, per decision kind, the parameters its body may
// carry, and which of them are required.
var decisionParams = map[triage.DecisionKind]map[string]bool{
	triage.DecisionReject:        {paramRejectionReason: true, paramRejectionComments: false, paramPAS: false},
	triage.DecisionRedirect:      {paramComments: true, paramPriority: false, paramPAS: false, paramProviderAttachment: false},
	triage.DecisionReviewOutcome: {paramReviewOutcome: true, paramReviewComments: true, paramReviewPriority: false, paramReviewAttachment: false},
}

// ParseDecisionParameters reads a decision request body back into a
// Decision of the kind: Reason, Comments, AppointmentCancelledInPAS,
// NewPriority, Outcome and Attachments (BinaryID and Description); DecidedAt
// is the attachments' indexed time when there are attachments. UBRN,
// version and identity come from the request's path and headers, not the
// body, and are left empty. An A013 (accept) body must be empty.
//
// It returns an error, naming the parameter, for malformed JSON, a resource
// other than Parameters, a parameter the operation does not take (e-RS:
// UNEXPECTED_FIELD), a repeated single parameter, a value of the wrong type,
// blank mandatory comments, an attachment that is not a Binary reference, or
// a missing required parameter (e-RS: MISSING_VALUE).
func ParseDecisionParameters(kind triage.DecisionKind, b []byte) (triage.Decision, error) {
	d := triage.Decision{Kind: kind}
	op := kind.Operation()
	if kind == triage.DecisionAccept {
		if len(bytes.TrimSpace(b)) != 0 {
			return d, errors.New("A013: the request takes no body")
		}
		return d, nil
	}
	allowed, ok := decisionParams[kind]
	if !ok {
		return d, fmt.Errorf("unknown decision kind %q", clip(string(kind)))
	}
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return d, fmt.Errorf("%s: %w", op, err)
	}
	seen := map[string]bool{}
	for _, pp := range p.Parameter {
		if _, ok := allowed[pp.Name]; !ok {
			return d, fmt.Errorf("%s: parameter %q: %w", op, clip(pp.Name), errUnknownParameter)
		}
		repeatable := pp.Name == paramProviderAttachment || pp.Name == paramReviewAttachment
		if seen[pp.Name] && !repeatable {
			return d, fmt.Errorf("%s: parameter %q: repeated", op, pp.Name)
		}
		seen[pp.Name] = true
		var err error
		switch pp.Name {
		case paramRejectionReason:
			if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
				err = errNoValue
			} else {
				d.Reason = toCoding(*pp.ValueCoding)
			}
		case paramRejectionComments, paramComments, paramReviewComments:
			switch {
			case pp.ValueString == nil:
				err = errNoValue
			case pp.Name != paramRejectionComments && strings.TrimSpace(*pp.ValueString) == "":
				err = errors.New("blank")
			default:
				d.Comments = *pp.ValueString
			}
		case paramPAS:
			if pp.ValueBoolean == nil {
				err = errNoValue
			} else {
				d.AppointmentCancelledInPAS = ptr(*pp.ValueBoolean)
			}
		case paramPriority, paramReviewPriority:
			if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
				err = errNoValue
			} else {
				d.NewPriority = triage.Priority(pp.ValueCoding.Code)
			}
		case paramReviewOutcome:
			if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
				err = errNoValue
			} else {
				d.Outcome = triage.ReviewOutcome(pp.ValueCoding.Code)
			}
		case paramProviderAttachment, paramReviewAttachment:
			err = parseAttachment(pp, &d)
		}
		if err != nil {
			return d, fmt.Errorf("%s: parameter %q: %w", op, pp.Name, err)
		}
	}
	for name, required := range allowed {
		if required && !seen[name] {
			return d, fmt.Errorf("%s: parameter %q is missing", op, name)
		}
	}
	return d, nil
}

func parseAttachment(pp Parameter, d *triage.Decision) error {
	a, indexed, err := parseAttachmentParameter(pp)
	if err != nil {
		return err
	}
	if d.DecidedAt.IsZero() {
		d.DecidedAt = indexed
	}
	d.Attachments = append(d.Attachments, a)
	return nil
}

// parseAttachmentParameter reads a parameter that attaches an uploaded file
// (a DocumentReference whose attachment url is Binary/{id}) into the
// attachment (BinaryID and Description) and its indexed time.
func parseAttachmentParameter(pp Parameter) (triage.ProviderAttachment, time.Time, error) {
	if pp.Resource == nil || pp.Resource.DocumentReference == nil {
		return triage.ProviderAttachment{}, time.Time{}, errors.New("not a DocumentReference")
	}
	dr := pp.Resource.DocumentReference
	if len(dr.Content) == 0 {
		return triage.ProviderAttachment{}, time.Time{}, errors.New("no attachment content")
	}
	id, ok := refID(dr.Content[0].Attachment.URL, "Binary")
	if !ok {
		return triage.ProviderAttachment{}, time.Time{}, errors.New("attachment url is not Binary/{id}")
	}
	indexed, err := parseTime(dr.Indexed)
	if err != nil {
		return triage.ProviderAttachment{}, time.Time{}, fmt.Errorf("indexed: %w", err)
	}
	return triage.ProviderAttachment{BinaryID: id, Description: dr.Description}, indexed, nil
}

// CancelReferralParameters builds the A036 (cancel referral / end triage)
// body: the REFERRAL-CANCELLATION-REASON coding (sent without display, with
// the reason's system, which must be the URL from A004) and the comments,
// left out when blank.
func CancelReferralParameters(reason triage.Coding, comments string) *Parameters {
	p := &Parameters{
		ResourceType: TypeParameters,
		Meta:         &Meta{Profile: []string{ProfileCancelReferralRequest}},
		Parameter:    []Parameter{{Name: paramCancellationReason, ValueCoding: &Coding{System: reason.System, Code: reason.Code}}},
	}
	if strings.TrimSpace(comments) != "" {
		p.Parameter = append(p.Parameter, Parameter{Name: paramCancellationComments, ValueString: ptr(comments)})
	}
	return p
}

// ParseCancelReferralParameters reads an A036 body back into the reason and
// comments. It returns an error for malformed JSON, a resource other than
// Parameters, an unknown or repeated parameter, or a missing reason.
func ParseCancelReferralParameters(b []byte) (triage.Coding, string, error) {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return triage.Coding{}, "", fmt.Errorf("A036: %w", err)
	}
	var reason triage.Coding
	var comments string
	seen := map[string]bool{}
	for _, pp := range p.Parameter {
		if seen[pp.Name] {
			return triage.Coding{}, "", fmt.Errorf("A036: parameter %q: repeated", clip(pp.Name))
		}
		seen[pp.Name] = true
		switch pp.Name {
		case paramCancellationReason:
			if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
				return triage.Coding{}, "", fmt.Errorf("A036: parameter %q: %w", pp.Name, errNoValue)
			}
			reason = toCoding(*pp.ValueCoding)
		case paramCancellationComments:
			if pp.ValueString == nil {
				return triage.Coding{}, "", fmt.Errorf("A036: parameter %q: %w", pp.Name, errNoValue)
			}
			comments = *pp.ValueString
		default:
			return triage.Coding{}, "", fmt.Errorf("A036: parameter %q: %w", clip(pp.Name), errUnknownParameter)
		}
	}
	if reason.Code == "" {
		return triage.Coding{}, "", errors.New("A036: parameter \"cancellationReason\" is missing")
	}
	return reason, comments, nil
}

// DecodeCancelReferralResponse decodes an A036 response (Parameters
// eRS-CancelReferral-Response-Parameters-1) into the updated referral, as
// DecodeReferral does. It returns an error for malformed JSON, another
// resource type, or a response without updatedReferralRequest.
func DecodeCancelReferralResponse(b []byte) (*triage.Referral, error) {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return nil, fmt.Errorf("decode cancel referral response: %w", err)
	}
	pp := p.Get(paramUpdatedReferral)
	if pp == nil || pp.Resource == nil || pp.Resource.ReferralRequest == nil {
		return nil, errors.New("decode cancel referral response: no updatedReferralRequest")
	}
	r, err := ReferralFromFHIR(pp.Resource.ReferralRequest)
	if err != nil {
		return nil, fmt.Errorf("decode cancel referral response: %w", err)
	}
	return r, nil
}

// EncodeCancelReferralResponse builds the A036 response for the cancelled
// referral.
func EncodeCancelReferralResponse(r *triage.Referral) *Parameters {
	return &Parameters{
		ResourceType: TypeParameters,
		Meta:         &Meta{Profile: []string{ProfileCancelReferralResponse}},
		Parameter:    []Parameter{{Name: paramUpdatedReferral, Resource: &Resource{ReferralRequest: EncodeReferral(r)}}},
	}
}
