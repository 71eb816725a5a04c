package ers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// ActionsResult is the result of A029.
type ActionsResult struct {
	Actions []triage.Action
	Meta    Meta
}

// AvailableActions asks which actions the user may take on a referral
// version now (A029, GET /STU3/Task?focus=ReferralRequest/{ubrn}/_history/
// {version}&intent=proposal&status=ready). The version must be current;
// otherwise e-RS answers HISTORY_NOT_SUPPORTED, a Conflict. Never cache the
// result. Errors are *Error.
func (c *Client) AvailableActions(ctx context.Context, ubrn string, version int) (*ActionsResult, error) {
	if err := checkID("A029", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	if version <= 0 {
		return nil, newLocalError("A029", Permanent, "The referral's version is not known. Refresh the referral.", nil)
	}
	return c.availableActions(ctx, ubrn, "ReferralRequest/"+ubrn+"/_history/"+strconv.Itoa(version))
}

// AvailableActionsAnyVersion asks A029 without naming a version
// (focus=ReferralRequest/{ubrn}), for when e-RS does not answer for the
// version A005 gave (the NHS sandbox answers only for its examples'
// versions). e-RS documents the versioned form only, so callers use this as
// a fallback and treat a refusal as "actions unknown". Never cache the
// result. Errors are *Error.
func (c *Client) AvailableActionsAnyVersion(ctx context.Context, ubrn string) (*ActionsResult, error) {
	return c.availableActions(ctx, ubrn, "ReferralRequest/"+ubrn)
}

// availableActions is A029 for a focus reference.
func (c *Client) availableActions(ctx context.Context, ubrn, focus string) (*ActionsResult, error) {
	if err := checkID("A029", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	q := "focus=" + focus + "&intent=proposal&status=ready"
	actions, resp, err := fetch(ctx, c, call{op: "A029", method: "GET", path: "STU3/Task", query: q, accept: acceptJSON}, fhir.DecodeAvailableActions)
	if err != nil {
		return nil, err
	}
	return &ActionsResult{Actions: actions, Meta: resp.meta}, nil
}

// ActionsCheck is what ActionsNow found out about a referral's available
// actions.
type ActionsCheck struct {
	// Actions are e-RS's answer when Known.
	Actions []triage.Action
	// Known is false when e-RS answered A029 for no version: the actions
	// are unknown (offer every decision that fits the referral's type;
	// e-RS checks a decision when it arrives).
	Known bool
	// Reread is the referral as re-read (A005) after e-RS refused the
	// version asked about; nil when it was not re-read. When its Version
	// differs from the one asked about the referral has changed, and
	// Actions and Known say nothing.
	Reread *ReferralResult
	// Unversioned is true when the answer came from A029 without a version.
	Unversioned bool
}

// Changed reports whether the re-read found a newer version than version.
func (a *ActionsCheck) Changed(version int) bool {
	return a.Reread != nil && a.Reread.Version != version
}

// ActionsNow asks A029 at version. When e-RS refuses that version (e-RS
// does so for a version that is not current; the NHS sandbox for any but its
// example's), it re-reads the referral once (A005): a new version means the
// referral changed (Changed). Otherwise it asks once more without a
// version, and if e-RS refuses that too the actions are unknown (Known
// false). Other failures (network, 5xx, sign-in, role) are returned as
// *Error.
func (c *Client) ActionsNow(ctx context.Context, ubrn string, version int) (*ActionsCheck, error) {
	res, err := c.AvailableActions(ctx, ubrn, version)
	if err == nil {
		return &ActionsCheck{Actions: res.Actions, Known: true}, nil
	}
	if !refusedByERS(err) {
		return nil, err
	}
	rr, err := c.Referral(ctx, ubrn)
	if err != nil {
		return nil, err
	}
	chk := &ActionsCheck{Reread: rr}
	if rr.Version != version {
		return chk, nil
	}
	res, err = c.AvailableActionsAnyVersion(ctx, ubrn)
	switch {
	case err == nil:
		chk.Actions, chk.Known, chk.Unversioned = res.Actions, true, true
	case !refusedByERS(err):
		return nil, err
	}
	return chk, nil
}

// refusedByERS reports whether e-RS refused a request itself (400, 404 or
// 422: a version it does not know, or a request it has no answer for),
// rather than failing to answer or refusing the user.
func refusedByERS(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case 400, 404, 422:
		return true
	}
	return false
}

// checkWrite refuses a write that cannot be sent: a bad UBRN, no version,
// or a decision made by a different user or role from the client's identity.
func (c *Client) checkWrite(op, ubrn string, version int, by triage.Identity) *Error {
	if err := checkID(op, "referral number (UBRN)", ubrn); err != nil {
		return err
	}
	if version <= 0 {
		return newLocalError(op, Permanent, "The referral's version is not known, so the decision cannot be sent safely. Refresh the referral and decide again.", nil)
	}
	if !by.IsZero() && !c.id.IsZero() && !by.SameUser(c.id) {
		return newLocalError(op, Forbidden, "This decision was made under a different sign-in or role. It can only be sent by the clinician who made it, signed in the same way.", nil)
	}
	return nil
}

func (c *Client) write(ctx context.Context, op, ubrn, operation string, version int, body []byte, mode headerMode,
	decode func([]byte) (*triage.Referral, error)) (*ReferralResult, error) {
	k := call{op: op, method: "POST", path: "STU3/ReferralRequest/" + ubrn + "/" + operation, accept: acceptJSON,
		write: true, ifMatch: version, mode: mode}
	if body != nil {
		k.body, k.contentType = body, fhirJSON
	}
	resp, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return referralResult(resp, ubrn, true, decode)
}

// AcceptReferral accepts a booked referral (A013, POST
// …/{ubrn}/$ers.acceptReferral, no body) with If-Match W/"version". Writes
// are never retried: on an error, check MayHaveApplied and re-read the
// referral. Errors are *Error.
func (c *Client) AcceptReferral(ctx context.Context, ubrn string, version int) (*ReferralResult, error) {
	if err := c.checkWrite("A013", ubrn, version, triage.Identity{}); err != nil {
		return nil, err
	}
	return c.write(ctx, "A013", ubrn, "$ers.acceptReferral", version, nil, identityFull, fhir.DecodeReferral)
}

// Decide sends a clinician's decision with the operation for its kind:
// A013 accept, A014 reject, A022 redirect (cancel appointment, action later)
// or A028 review outcome, with If-Match W/"BaseVersion". The rejection
// reason is sent with its own code system URL (from A004). The decision must
// have been made under this client's identity. It is never retried. Errors
// are *Error.
func (c *Client) Decide(ctx context.Context, d triage.Decision) (*ReferralResult, error) {
	op := d.Kind.Operation()
	if op == "" {
		return nil, newLocalError("decision", Permanent, "Choose a decision: accept, reject, redirect or a triage outcome.", nil)
	}
	if err := c.checkWrite(op, d.UBRN, d.BaseVersion, d.By); err != nil {
		return nil, err
	}
	p, err := fhir.DecisionParameters(d, "")
	if err != nil {
		return nil, newLocalError(op, Permanent, "The decision is incomplete: "+err.Error()+". Complete it and send again.", err)
	}
	var body []byte
	if p != nil {
		if body, err = json.Marshal(p); err != nil {
			return nil, newLocalError(op, Permanent, "Triage Desk could not build the decision. Contact your IT service desk.", err)
		}
	}
	var operation string
	switch d.Kind {
	case triage.DecisionAccept:
		operation = "$ers.acceptReferral"
	case triage.DecisionReject:
		operation = "$ers.rejectReferral"
	case triage.DecisionRedirect:
		operation = "$ers.cancelAppointmentActionLater"
	case triage.DecisionReviewOutcome:
		operation = "$ers.recordReviewOutcome"
	}
	return c.write(ctx, op, d.UBRN, operation, d.BaseVersion, body, identityFull, fhir.DecodeReferral)
}

// RejectReferral sends a reject decision (A014). See Decide.
func (c *Client) RejectReferral(ctx context.Context, d triage.Decision) (*ReferralResult, error) {
	return c.decideKind(ctx, d, triage.DecisionReject)
}

// CancelAppointmentActionLater sends a redirect decision (A022). See Decide.
func (c *Client) CancelAppointmentActionLater(ctx context.Context, d triage.Decision) (*ReferralResult, error) {
	return c.decideKind(ctx, d, triage.DecisionRedirect)
}

// RecordReviewOutcome sends a triage outcome (A028). See Decide.
func (c *Client) RecordReviewOutcome(ctx context.Context, d triage.Decision) (*ReferralResult, error) {
	return c.decideKind(ctx, d, triage.DecisionReviewOutcome)
}

func (c *Client) decideKind(ctx context.Context, d triage.Decision, kind triage.DecisionKind) (*ReferralResult, error) {
	if d.Kind != kind {
		return nil, newLocalError(kind.Operation(), Permanent, fmt.Sprintf("This is not a %s decision.", strings.ToLower(kind.Label())), nil)
	}
	return c.Decide(ctx, d)
}

// CancelReferral cancels a referral or ends triage (A036, POST
// …/{ubrn}/$ers.cancelReferral) with a REFERRAL-CANCELLATION-REASON (its
// system the URL from A004) and optional comments (at most 2000
// characters), with If-Match W/"version". A036 takes no on-behalf-of
// header. It is one-way and never retried. Errors are *Error.
func (c *Client) CancelReferral(ctx context.Context, ubrn string, version int, reason triage.Coding, comments string) (*ReferralResult, error) {
	if err := c.checkWrite("A036", ubrn, version, triage.Identity{}); err != nil {
		return nil, err
	}
	if reason.Code == "" || reason.System == "" {
		return nil, newLocalError("A036", Permanent, "Choose a reason for ending the referral from the list.", nil)
	}
	if n := len([]rune(comments)); n > triage.MaxCommentLength {
		return nil, newLocalError("A036", Permanent, fmt.Sprintf("Comments can be at most %d characters; these are %d.", triage.MaxCommentLength, n), nil)
	}
	body, err := json.Marshal(fhir.CancelReferralParameters(reason, comments))
	if err != nil {
		return nil, newLocalError("A036", Permanent, "Triage Desk could not build the request. Contact your IT service desk.", err)
	}
	return c.write(ctx, "A036", ubrn, "$ers.cancelReferral", version, body, identityNoOBO, fhir.DecodeCancelReferralResponse)
}
