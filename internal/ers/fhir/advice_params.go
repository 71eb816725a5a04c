package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// AdviceReplyParameters builds the A026 body that sends the reply, in the
// parameter order of the published examples: guidanceOutcome, the intended
// recommendation (with advice only), guidance, updatedPriority and one
// GUIDANCE_RESPONSE DocumentReference per attachment, indexed at its
// AttachedAt (else the reply's DecidedAt). Codings are sent without display.
//
// It returns an error for an outcome a reply cannot have, advice without a
// recommendation, no priority, or an attachment not yet uploaded (A020). It
// does not apply the other rules; call AdviceReply.Validate for those.
func AdviceReplyParameters(r triage.AdviceReply) (*Parameters, error) {
	if !r.Outcome.Sendable() {
		return nil, fmt.Errorf("A026: %q is not an outcome a reply can have", clip(string(r.Outcome)))
	}
	if r.Outcome == triage.GuidanceReturnWithAdvice && r.Recommendation == "" {
		return nil, errors.New("A026: advice needs an intended recommendation")
	}
	if r.Priority == "" {
		return nil, errors.New("A026: the priority is required")
	}
	p := &Parameters{ResourceType: TypeParameters, Meta: &Meta{Profile: []string{ProfileSendCommunicationRequest}}}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	add(Parameter{Name: paramGuidanceOutcome, ValueCoding: &Coding{System: triage.SystemGuidanceResponseOutcome, Code: string(r.Outcome)}})
	if r.Recommendation != "" {
		add(Parameter{Name: paramGuidanceRecommendation, ValueCoding: &Coding{System: triage.SystemGuidanceIntendedRecommendation, Code: string(r.Recommendation)}})
	}
	add(Parameter{Name: paramGuidance, ValueString: ptr(r.Guidance)})
	add(Parameter{Name: paramUpdatedPriority, ValueCoding: &Coding{System: triage.SystemPriority, Code: string(r.Priority)}})
	if err := addAttachments(p, paramGuidanceAttachment, triage.AttachmentGuidanceResponse, r.Attachments, r.DecidedAt); err != nil {
		return nil, fmt.Errorf("A026: %w", err)
	}
	return p, nil
}

func addAttachments(p *Parameters, name string, typ triage.AttachmentType, as []triage.ProviderAttachment, decided time.Time) error {
	for i, a := range as {
		if a.BinaryID == "" {
			return fmt.Errorf("attachment %d has not been uploaded", i)
		}
		p.Parameter = append(p.Parameter, Parameter{Name: name, Resource: &Resource{DocumentReference: providerAttachment(a, typ, decided)}})
	}
	return nil
}

// paramReader reads the parameters of an operation body: each must be
// allowed, and only the repeatable ones may appear more than once.
type paramReader struct {
	op         string
	allowed    map[string]bool // name: required
	repeatable map[string]bool
	seen       map[string]bool
}

func (pr *paramReader) read(b []byte, each func(pp Parameter) error) error {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return fmt.Errorf("%s: %w", pr.op, err)
	}
	pr.seen = map[string]bool{}
	for _, pp := range p.Parameter {
		if _, ok := pr.allowed[pp.Name]; !ok {
			return fmt.Errorf("%s: parameter %q: %w", pr.op, clip(pp.Name), errUnknownParameter)
		}
		if pr.seen[pp.Name] && !pr.repeatable[pp.Name] {
			return fmt.Errorf("%s: parameter %q: repeated", pr.op, pp.Name)
		}
		pr.seen[pp.Name] = true
		if err := each(pp); err != nil {
			return fmt.Errorf("%s: parameter %q: %w", pr.op, pp.Name, err)
		}
	}
	for name, required := range pr.allowed {
		if required && !pr.seen[name] {
			return fmt.Errorf("%s: parameter %q is missing", pr.op, name)
		}
	}
	return nil
}

func codingValue(pp Parameter) (string, error) {
	if pp.ValueCoding == nil || pp.ValueCoding.Code == "" {
		return "", errNoValue
	}
	return pp.ValueCoding.Code, nil
}

func stringValue(pp Parameter) (string, error) {
	if pp.ValueString == nil {
		return "", errNoValue
	}
	return *pp.ValueString, nil
}

func attachmentValue(pp Parameter) (triage.ProviderAttachment, error) {
	a, indexed, err := parseAttachmentParameter(pp)
	a.AttachedAt = indexed
	return a, err
}

// ParseAdviceReplyParameters reads an A026 body back into a reply: Outcome,
// Recommendation, Guidance, Priority and Attachments (BinaryID, Description
// and AttachedAt from each indexed time). UBRN, version and identity come
// from the request's path and headers and are left empty. It returns an
// error, naming the parameter, for malformed JSON, another resource type, a
// parameter A026 does not take, a repeated single parameter, a value of the
// wrong type, an attachment that is not a Binary reference, or a missing
// guidanceOutcome or updatedPriority.
func ParseAdviceReplyParameters(b []byte) (triage.AdviceReply, error) {
	var r triage.AdviceReply
	pr := paramReader{op: "A026",
		allowed: map[string]bool{paramGuidanceOutcome: true, paramGuidanceRecommendation: false, paramGuidance: false,
			paramUpdatedPriority: true, paramGuidanceAttachment: false},
		repeatable: map[string]bool{paramGuidanceAttachment: true}}
	err := pr.read(b, func(pp Parameter) error {
		var err error
		var code string
		switch pp.Name {
		case paramGuidanceOutcome:
			code, err = codingValue(pp)
			r.Outcome = triage.GuidanceOutcome(code)
		case paramGuidanceRecommendation:
			code, err = codingValue(pp)
			r.Recommendation = triage.IntendedRecommendation(code)
		case paramGuidance:
			r.Guidance, err = stringValue(pp)
		case paramUpdatedPriority:
			code, err = codingValue(pp)
			r.Priority = triage.Priority(code)
		case paramGuidanceAttachment:
			var a triage.ProviderAttachment
			if a, err = attachmentValue(pp); err == nil {
				r.Attachments = append(r.Attachments, a)
			}
		}
		return err
	})
	if err != nil {
		return triage.AdviceReply{}, err
	}
	return r, nil
}

// DecodeAdviceReplyResponse decodes an A026 response (Parameters
// eRS-SendCommunicationToRequester-Response-Parameters-1) into the updated
// request and the message the reply created. It returns an error for
// malformed JSON, another resource type, a response without either, a
// message not based on the updated request, or what DecodeAdviceRequest
// refuses.
func DecodeAdviceReplyResponse(b []byte) (*triage.AdviceRequest, triage.AdviceMessage, error) {
	var p Parameters
	if err := decodeAs(b, &p, &p.ResourceType, TypeParameters); err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	up := p.Get(paramUpdatedRequest)
	if up == nil || up.Resource == nil || up.Resource.CommunicationReq == nil {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: no updatedCommunicationRequest")
	}
	req, err := AdviceRequestFromFHIR(up.Resource.CommunicationReq)
	if err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	cp := p.Get(paramCreatedCommunication)
	if cp == nil || cp.Resource == nil || cp.Resource.Communication == nil {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: no createdCommunication")
	}
	c := cp.Resource.Communication
	m, ubrn, _, err := messageFromFHIR(c, resolver{contained: indexContained(c.Contained)})
	if err != nil {
		return nil, triage.AdviceMessage{}, fmt.Errorf("decode advice reply response: %w", err)
	}
	if ubrn != req.UBRN {
		return nil, triage.AdviceMessage{}, errors.New("decode advice reply response: the message is not based on the updated request")
	}
	m.RequestUBRN = ubrn
	return req, m, nil
}

// EncodeAdviceReplyResponse builds the A026 response: the updated request
// and the created message (its author and files contained).
func EncodeAdviceReplyResponse(r *triage.AdviceRequest, m triage.AdviceMessage, providerODS string) *Parameters {
	return &Parameters{
		ResourceType: TypeParameters,
		Meta:         &Meta{Profile: []string{ProfileSendCommunicationResponse}},
		Parameter: []Parameter{
			{Name: paramUpdatedRequest, Resource: &Resource{CommunicationReq: EncodeAdviceRequest(r)}},
			{Name: paramCreatedCommunication, Resource: &Resource{Communication: encodeMessage(m, r.UBRN, r.Version,
				ConversationEncoding{ProviderODS: providerODS}, true)}},
		},
	}
}

// AdviceConversionParameters builds the A027 body that converts the request
// into a referral, in the parameter order of the published examples:
// createFrom ("CommunicationRequest/{ubrn}/_history/{version}"), guidance,
// newReferralPriority, reviewComments, then one GUIDANCE_RESPONSE
// DocumentReference per guidance attachment and one PROVIDER
// DocumentReference per review attachment, each indexed at its AttachedAt
// (else DecidedAt).
//
// It returns an error for a conversion without a UBRN, version or priority,
// or with an attachment not yet uploaded. It does not apply the other
// rules; call AdviceConversion.Validate for those.
func AdviceConversionParameters(c triage.AdviceConversion) (*Parameters, error) {
	if c.UBRN == "" || c.BaseVersion <= 0 {
		return nil, errors.New("A027: the request's UBRN and version are required")
	}
	if c.Priority == "" {
		return nil, errors.New("A027: the new referral's priority is required")
	}
	p := &Parameters{ResourceType: TypeParameters, Meta: &Meta{Profile: []string{ProfileCreateFromCommunication}}}
	add := func(pp Parameter) { p.Parameter = append(p.Parameter, pp) }
	add(Parameter{Name: paramCreateFrom, ValueReference: &Reference{
		Reference: TypeCommunicationReq + "/" + c.UBRN + "/_history/" + strconv.Itoa(c.BaseVersion)}})
	add(Parameter{Name: paramGuidance, ValueString: ptr(c.Guidance)})
	add(Parameter{Name: paramNewReferralPriority, ValueCoding: &Coding{System: triage.SystemPriority, Code: string(c.Priority)}})
	add(Parameter{Name: paramReviewComments, ValueString: ptr(c.ReviewComments)})
	if err := addAttachments(p, paramGuidanceAttachment, triage.AttachmentGuidanceResponse, c.GuidanceAttachments, c.DecidedAt); err != nil {
		return nil, fmt.Errorf("A027: guidance %w", err)
	}
	if err := addAttachments(p, paramReviewAttachment, triage.AttachmentProvider, c.ReviewAttachments, c.DecidedAt); err != nil {
		return nil, fmt.Errorf("A027: review %w", err)
	}
	return p, nil
}

// ParseAdviceConversionParameters reads an A027 body back into a
// conversion: UBRN and BaseVersion from createFrom, Guidance, Priority,
// ReviewComments and both kinds of attachment (BinaryID, Description and
// AttachedAt). Identity comes from the request's headers. It returns an
// error, naming the parameter, for malformed JSON, another resource type, a
// parameter A027 does not take, a repeated single parameter, a value of the
// wrong type, a createFrom that is not a versioned CommunicationRequest
// reference, or a missing createFrom or newReferralPriority.
func ParseAdviceConversionParameters(b []byte) (triage.AdviceConversion, error) {
	var c triage.AdviceConversion
	pr := paramReader{op: "A027",
		allowed: map[string]bool{paramCreateFrom: true, paramGuidance: false, paramNewReferralPriority: true,
			paramReviewComments: false, paramGuidanceAttachment: false, paramReviewAttachment: false},
		repeatable: map[string]bool{paramGuidanceAttachment: true, paramReviewAttachment: true}}
	err := pr.read(b, func(pp Parameter) error {
		var err error
		switch pp.Name {
		case paramCreateFrom:
			if pp.ValueReference == nil {
				return errNoValue
			}
			u, v, ok := basedOn(pp.ValueReference.Reference)
			if !ok || v == 0 {
				return errors.New("not a CommunicationRequest/{ubrn}/_history/{version} reference")
			}
			c.UBRN, c.BaseVersion = u, v
		case paramGuidance:
			c.Guidance, err = stringValue(pp)
		case paramNewReferralPriority:
			var code string
			code, err = codingValue(pp)
			c.Priority = triage.Priority(code)
		case paramReviewComments:
			c.ReviewComments, err = stringValue(pp)
		case paramGuidanceAttachment, paramReviewAttachment:
			var a triage.ProviderAttachment
			if a, err = attachmentValue(pp); err == nil {
				if pp.Name == paramGuidanceAttachment {
					c.GuidanceAttachments = append(c.GuidanceAttachments, a)
				} else {
					c.ReviewAttachments = append(c.ReviewAttachments, a)
				}
			}
		}
		return err
	})
	if err != nil {
		return triage.AdviceConversion{}, err
	}
	return c, nil
}
