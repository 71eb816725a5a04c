package ers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance: A023 worklist, A024 request, A025 conversation, A043
// overview PDF, A026 reply and A027 conversion to a referral. They share the
// referral calls' headers, rate limiter, retries (reads only), size limits
// and error classes; their messages speak of advice requests and replies.

// adviceOps are the Advice and Guidance operations.
var adviceOps = []string{"A023", "A024", "A025", "A026", "A027", "A043"}

func isAdviceOp(op string) bool { return slices.Contains(adviceOps, op) }

// AdviceWorklistResult is the result of A023.
type AdviceWorklistResult struct {
	Items []triage.AdviceItem
	// AsOf is the server's Date: when the snapshot was taken.
	AsOf time.Time
	Meta Meta
}

// AdviceWorklist fetches the Advice and Guidance worklist (A023, POST
// /STU3/CommunicationRequest/$ers.fetchworklist, listType
// ADVICE_AND_GUIDANCE_REQUESTS), narrowed by the filter as A008 is. It is a
// read and is retried. Errors are *Error; an invalid filter is a Permanent
// error sent nowhere.
func (c *Client) AdviceWorklist(ctx context.Context, filter triage.WorklistFilter) (*AdviceWorklistResult, error) {
	f := fhir.NewWorklistFilter(filter)
	if err := f.Validate(); err != nil {
		return nil, newLocalError("A023", Permanent, "The worklist filter is not valid: "+err.Error()+".", err)
	}
	body, err := json.Marshal(fhir.AdviceWorklistRequest(f))
	if err != nil {
		return nil, newLocalError("A023", Permanent, "Triage Desk could not build the worklist request. Contact your IT service desk.", err)
	}
	items, resp, err := fetch(ctx, c, call{op: "A023", method: "POST", path: "STU3/CommunicationRequest/$ers.fetchworklist",
		body: body, contentType: fhirJSON, accept: acceptJSON}, fhir.DecodeAdviceWorklist)
	if err != nil {
		return nil, err
	}
	return &AdviceWorklistResult{Items: items, AsOf: resp.meta.Date, Meta: resp.meta}, nil
}

// AdviceRequestResult is an Advice and Guidance request read with A024, or
// returned by A026.
type AdviceRequestResult struct {
	Request *triage.AdviceRequest
	// Raw is the CommunicationRequest JSON as received (for A026, the whole
	// Parameters response), for the store to keep.
	Raw []byte
	// Version is the request's version: meta.versionId, else the ETag.
	Version int
	// ETag is the response's ETag, e.g. W/"5".
	ETag string
	Meta Meta
}

// adviceResult completes a request result: the version falls back to the
// ETag, and a request other than the one asked for is a BadResponse.
func adviceResult(resp *response, write bool, ubrn string, r *triage.AdviceRequest) (*AdviceRequestResult, error) {
	if r.UBRN != ubrn {
		return nil, adviceDecodeError(resp.meta, write, errors.New("e-RS answered with another advice request"))
	}
	res := &AdviceRequestResult{Request: r, Raw: resp.body, Version: r.Version, ETag: resp.header.Get("ETag"), Meta: resp.meta}
	if etag, ok := parseETag(res.ETag); ok && res.Version == 0 {
		res.Version, r.Version = etag, etag
	}
	return res, nil
}

// AdviceRequest reads an Advice and Guidance request's summary (A024, GET
// /STU3/CommunicationRequest/{ubrn}) with its current version, category and
// the referrer's conversion authorisation. An answer about another request
// is a BadResponse. It is a read and is retried. Errors are *Error.
func (c *Client) AdviceRequest(ctx context.Context, ubrn string) (*AdviceRequestResult, error) {
	return c.adviceRequest(ctx, ubrn, 0)
}

// AdviceRequestAtVersion reads a request at a version (A024, GET
// /STU3/CommunicationRequest/{ubrn}/_history/{version}). As for referrals,
// only the current version is served: an older one is a Conflict
// (HISTORY_NOT_SUPPORTED). Errors are *Error.
func (c *Client) AdviceRequestAtVersion(ctx context.Context, ubrn string, version int) (*AdviceRequestResult, error) {
	if version <= 0 {
		return nil, newLocalError("A024", Permanent, "The advice and guidance request's version is not known. Refresh it.", nil)
	}
	return c.adviceRequest(ctx, ubrn, version)
}

func (c *Client) adviceRequest(ctx context.Context, ubrn string, version int) (*AdviceRequestResult, error) {
	if err := checkID("A024", "advice and guidance request number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	path := "STU3/CommunicationRequest/" + ubrn
	if version > 0 {
		path += "/_history/" + strconv.Itoa(version)
	}
	r, resp, err := fetch(ctx, c, call{op: "A024", method: "GET", path: path, accept: acceptJSON}, fhir.DecodeAdviceRequest)
	if err != nil {
		return nil, err
	}
	return adviceResult(resp, false, ubrn, r)
}

// AdviceConversationResult is the result of A025.
type AdviceConversationResult struct {
	Conversation *triage.AdviceConversation
	// Raw is the Bundle JSON as received, for the store to keep.
	Raw  []byte
	Meta Meta
}

// AdviceConversation reads every message of a request at its current
// version (A025, GET /STU3/Communication?based-on=CommunicationRequest/
// {ubrn}/_history/{version}), including the authors' PractitionerRoles and
// the messages' DocumentReferences. Messages come oldest first. A version
// that is no longer current is a Conflict (HISTORY_NOT_SUPPORTED); an answer
// with a message of another request is a BadResponse, so one request's
// messages are never shown as another's. It is a read and is retried.
// Errors are *Error.
func (c *Client) AdviceConversation(ctx context.Context, ubrn string, version int) (*AdviceConversationResult, error) {
	if err := checkID("A025", "advice and guidance request number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	if version <= 0 {
		return nil, newLocalError("A025", Permanent, "The advice and guidance request's version is not known. Refresh it.", nil)
	}
	q := "based-on=" + fhir.TypeCommunicationReq + "/" + ubrn + "/_history/" + strconv.Itoa(version) +
		"&_include=" + fhir.IncludeRequesterRole + "&_include=" + fhir.IncludeSenderRole + "&_include=" + fhir.IncludeContent
	conv, resp, err := fetch(ctx, c, call{op: "A025", method: "GET", path: "STU3/Communication", query: q, accept: acceptJSON}, fhir.DecodeAdviceConversation)
	if err != nil {
		return nil, err
	}
	if err := conv.BelongsTo(ubrn); err != nil {
		return nil, adviceDecodeError(resp.meta, false, err)
	}
	conv.UBRN = ubrn
	conv.Version = max(conv.Version, version)
	return &AdviceConversationResult{Conversation: conv, Raw: resp.body, Meta: resp.meta}, nil
}

// AdviceOverview downloads a request's overview PDF (A043, POST
// /STU3/CommunicationRequest/{ubrn}/$ers.generateCRI, no body), the whole
// conversation as e-RS prints it. It is a read and is retried. Errors are
// *Error.
func (c *Client) AdviceOverview(ctx context.Context, ubrn string) (*File, error) {
	return c.generateCRI(ctx, "A043", "advice and guidance request number (UBRN)", "STU3/CommunicationRequest/", ubrn, "advice-and-guidance.pdf")
}

// AdviceReplyResult is the result of A026: the request as it now stands and
// the message the reply created.
type AdviceReplyResult struct {
	AdviceRequestResult
	Message triage.AdviceMessage
}

// checkAdviceWrite refuses a reply or conversion that cannot be sent: a bad
// UBRN, no version, or one made by a different user or role from the
// client's identity.
func (c *Client) checkAdviceWrite(op, ubrn string, version int, by triage.Identity, what string) *Error {
	if err := checkID(op, "advice and guidance request number (UBRN)", ubrn); err != nil {
		return err
	}
	if version <= 0 {
		return newLocalError(op, Permanent, fmt.Sprintf("The request's version is not known, so the %s cannot be sent safely. Refresh the conversation and start again.", what), nil)
	}
	if !by.IsZero() && !c.id.IsZero() && !by.SameUser(c.id) {
		return newLocalError(op, Forbidden, fmt.Sprintf("This %s was made under a different sign-in or role. It can only be sent by the clinician who made it, signed in the same way.", what), nil)
	}
	return nil
}

// incomplete is the local error for a reply or conversion that fails its
// own checks.
func incomplete(op, what string, err error) *Error {
	return newLocalError(op, Permanent, fmt.Sprintf("The %s cannot be sent: %s", what, triage.ErrorMessage(err)), err)
}

// adviceBody builds the Parameters body of a reply or conversion (a, of the
// request ubrn at version, made by by), refusing one that checkAdviceWrite
// or its own CheckSendable refuses, or that build cannot encode, before
// anything is sent.
func adviceBody[A interface{ CheckSendable() error }](c *Client, op, what, ubrn string, version int, by triage.Identity,
	a A, build func(A) (*fhir.Parameters, error)) ([]byte, error) {
	if err := c.checkAdviceWrite(op, ubrn, version, by, what); err != nil {
		return nil, err
	}
	if err := a.CheckSendable(); err != nil {
		return nil, incomplete(op, what, err)
	}
	p, err := build(a)
	if err != nil {
		return nil, incomplete(op, what, err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, newLocalError(op, Permanent, "Triage Desk could not build the "+what+". Contact your IT service desk.", err)
	}
	return body, nil
}

// SendAdviceReply sends a clinician's reply to a request (A026, POST
// /STU3/CommunicationRequest/{ubrn}/$ers.sendCommunicationToRequester) with
// If-Match W/"BaseVersion": advice (with its intended recommendation) or a
// request for further information, the guidance, the priority and the
// attachments already uploaded with A020. A reply that fails
// AdviceReply.CheckSendable, or was made under another identity, is refused
// before anything is sent. It goes to the reply's own UBRN, is never
// retried, and e-RS's answer must be about that request (else BadResponse).
// On an error, check MayHaveApplied and read the conversation again. Errors
// are *Error.
func (c *Client) SendAdviceReply(ctx context.Context, r triage.AdviceReply) (*AdviceReplyResult, error) {
	body, err := adviceBody(c, "A026", "reply", r.UBRN, r.BaseVersion, r.By, r, fhir.AdviceReplyParameters)
	if err != nil {
		return nil, err
	}
	resp, rerr := c.do(ctx, call{op: "A026", method: "POST", path: "STU3/CommunicationRequest/" + r.UBRN + "/$ers.sendCommunicationToRequester",
		body: body, contentType: fhirJSON, accept: acceptJSON, write: true, ifMatch: r.BaseVersion})
	if rerr != nil {
		return nil, rerr
	}
	req, m, derr := fhir.DecodeAdviceReplyResponse(resp.body)
	if derr != nil {
		return nil, adviceDecodeError(resp.meta, true, derr)
	}
	res, aerr := adviceResult(resp, true, r.UBRN, req)
	if aerr != nil {
		return nil, aerr
	}
	return &AdviceReplyResult{AdviceRequestResult: *res, Message: m}, nil
}

// ConvertAdviceToReferral converts a request into a referral (A027, POST
// /STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater).
// The version the clinician saw travels in createFrom
// ("CommunicationRequest/{ubrn}/_history/{BaseVersion}"); no If-Match is
// sent, as e-RS does not list one for A027. A conversion the referrer had
// not authorised when the clinician decided (or that fails
// AdviceConversion.CheckSendable) is refused before anything is sent. It is
// never retried; e-RS answers 201 with the new referral, which must not name
// another request as its origin (else BadResponse). Errors are *Error.
func (c *Client) ConvertAdviceToReferral(ctx context.Context, cv triage.AdviceConversion) (*ReferralResult, error) {
	body, err := adviceBody(c, "A027", "conversion", cv.UBRN, cv.BaseVersion, cv.By, cv, fhir.AdviceConversionParameters)
	if err != nil {
		return nil, err
	}
	resp, rerr := c.do(ctx, call{op: "A027", method: "POST", path: "STU3/ReferralRequest/$ers.createFromCommunicationRequestActionLater",
		body: body, contentType: fhirJSON, accept: acceptJSON, write: true})
	if rerr != nil {
		return nil, rerr
	}
	res, derr := referralResult(resp, cv.UBRN, true, fhir.DecodeReferral)
	if derr != nil {
		var e *Error
		if errors.As(derr, &e) {
			adviceWording(e)
		}
		return nil, derr
	}
	if from := res.Referral.AdviceUBRN; from != "" && from != cv.UBRN {
		return nil, adviceDecodeError(resp.meta, true, errors.New("the new referral was converted from another advice request"))
	}
	return res, nil
}

// adviceDecodeError is a BadResponse for an A&G answer that could not be
// used.
func adviceDecodeError(m Meta, write bool, err error) *Error {
	e := decodeError(m, write, err)
	adviceWording(e)
	return e
}

// adviceWording rewrites the message of a failed Advice and Guidance call in
// its own terms: the shared classification speaks of referrals and
// decisions. The class is not changed.
func adviceWording(e *Error) {
	if e == nil || !isAdviceOp(e.Op) {
		return
	}
	what := "reply"
	if e.Op == "A027" {
		what = "conversion"
	}
	code := e.Code
	switch {
	case e.Class == BadResponse && e.write && e.Status >= 200 && e.Status < 300:
		e.Message = fmt.Sprintf("e-RS accepted the %s but its answer could not be used. Triage Desk will read the request again to confirm what happened.", what)
	case e.Class == BadResponse && !e.write && e.Status >= 200 && e.Status < 300:
		e.Message = fmt.Sprintf("e-RS sent an answer Triage Desk could not use (%s), so nothing from it is shown. Try again later; if it keeps happening, contact your IT service desk and quote the correlation id %s.", e.Op, e.CorrelationID)
	case e.Status == 409:
		e.Message = fmt.Sprintf("The referrer or another clinician changed this advice and guidance request in e-RS after you read it, so your %s was not sent. Read the conversation again, then decide.", what)
	case e.Status == 423:
		e.Message = fmt.Sprintf("Another update to this advice and guidance request is in progress in e-RS, so your %s was not sent. Triage Desk will read it again; check it and send again.", what)
	case code == "INVALID_REQUEST_STATE" || code == "INVALID_STATE":
		e.Message = fmt.Sprintf("e-RS did not accept the %s: the request is no longer in a state that allows it (the referrer may have withdrawn it or changed what they allow, or someone may have replied). Read it again to see where it stands.", what)
	case code == "HISTORY_NOT_SUPPORTED":
		e.Message = "The advice and guidance request has changed since this version was read. Read the conversation again."
	case code == "NO_RELATIONSHIP":
		e.Message = "e-RS says you have no legitimate relationship with this advice and guidance request. Check you are signed in at the organisation it was sent to."
	case code == "PATIENT_ERROR":
		e.Message = "e-RS cannot process this advice and guidance request because of a problem with the patient's record. Do not try again: check it in e-RS or contact the e-RS service desk."
	case code == "DUPLICATE_FILENAME":
		e.Message = "A file with this name is already on the request. Rename the file and attach it again."
	case e.Status == 422 && e.write && e.Class == Permanent && code != "NO_RELATIONSHIP" && code != "FILE_SIZE_ERROR":
		e.Message = fmt.Sprintf("e-RS did not accept the %s (%s). Amend it and send again.", what, serverSaid(e))
	case e.Class == Unreachable && e.write && e.Status == 0 && e.sent && !errors.Is(e.Err, context.Canceled):
		e.Message = fmt.Sprintf("e-RS did not answer, so it is not yet known whether your %s was received. Triage Desk will read the request again before doing anything else.", what)
	}
}
