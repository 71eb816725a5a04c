package ers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

const (
	fhirJSON = "application/fhir+json"
	// acceptJSON also admits plain JSON from gateways.
	acceptJSON = "application/fhir+json, application/json;q=0.9"
)

// validID matches UBRNs, attachment ids (UUIDs or legacy att-… values) and
// appointment ids, so none can change the request path.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validCodeSystem matches A004 code system types.
var validCodeSystem = regexp.MustCompile(`^[A-Z][A-Z_-]{0,63}$`)

func checkID(op, what, id string) *Error {
	if !validID.MatchString(id) {
		return newLocalError(op, Permanent, fmt.Sprintf("That is not a valid %s. Check it and try again.", what), nil)
	}
	return nil
}

// decodeError is a BadResponse for a 2xx body that could not be read.
func decodeError(m Meta, write bool, err error) *Error {
	e := &Error{Op: m.Op, Status: m.Status, CorrelationID: m.CorrelationID, RequestID: m.RequestID,
		Class: BadResponse, Err: err, write: write, sent: true}
	if write {
		e.Message = "e-RS accepted the request but its reply could not be read. Triage Desk will refresh the referral to confirm what happened."
	} else {
		e.Message = fmt.Sprintf("Triage Desk could not read e-RS's answer to %s. This is a fault in Triage Desk, not in your work: try again later, and if it keeps happening contact your IT service desk and quote the correlation id %s.", m.Op, m.CorrelationID)
	}
	return e
}

// fetch runs a read call and decodes e-RS's answer with decode; an answer
// decode refuses is a BadResponse (decodeError). It returns the response
// too, for its Meta. Errors are *Error.
func fetch[T any](ctx context.Context, c *Client, k call, decode func([]byte) (T, error)) (T, *response, error) {
	var zero T
	resp, err := c.do(ctx, k)
	if err != nil {
		return zero, nil, err
	}
	v, err := decode(resp.body)
	if err != nil {
		return zero, resp, decodeError(resp.meta, false, err)
	}
	return v, resp, nil
}

// PractitionerRolesResult is the result of A030.
type PractitionerRolesResult struct {
	Roles []fhir.Role
	Meta  Meta
}

// PractitionerRoles lists the organisations and business functions the
// signed-in user holds (A030, GET /R4/PractitionerRole). It sends no
// identity headers. Errors are *Error.
func (c *Client) PractitionerRoles(ctx context.Context) (*PractitionerRolesResult, error) {
	roles, resp, err := fetch(ctx, c, call{op: "A030", method: "GET", path: "R4/PractitionerRole", accept: acceptJSON, mode: identityNone}, fhir.DecodePractitionerRoles)
	if err != nil {
		return nil, err
	}
	return &PractitionerRolesResult{Roles: roles, Meta: resp.meta}, nil
}

// OnBehalfOfUsersResult is the result of A040.
type OnBehalfOfUsersResult struct {
	Users []triage.OnBehalfOfUser
	Meta  Meta
}

// OnBehalfOfUsers lists the clinicians a clinician admin may act for (A040,
// GET /R4/Practitioner?_query=onBehalfOf). It sends the ODS and business
// function headers but no on-behalf-of header. Errors are *Error.
func (c *Client) OnBehalfOfUsers(ctx context.Context) (*OnBehalfOfUsersResult, error) {
	users, resp, err := fetch(ctx, c, call{op: "A040", method: "GET", path: "R4/Practitioner", query: "_query=onBehalfOf", accept: acceptJSON, mode: identityNoOBO}, fhir.DecodeOnBehalfOfUsers)
	if err != nil {
		return nil, err
	}
	var out []triage.OnBehalfOfUser
	for _, u := range users {
		out = append(out, triage.OnBehalfOfUser{SDSUserID: u.SDSUserID, Name: u.Name})
	}
	return &OnBehalfOfUsersResult{Users: out, Meta: resp.meta}, nil
}

// WorklistResult is the result of A008.
type WorklistResult struct {
	List  triage.ListType
	Items []triage.WorklistItem
	// AsOf is the server's Date: when the snapshot was taken.
	AsOf time.Time
	Meta Meta
}

// Worklist fetches a provider worklist (A008, POST
// /STU3/ReferralRequest/$ers.fetchworklist): REFERRALS_FOR_REVIEW or
// APPOINTMENT_SLOT_ISSUES, narrowed by the filter. It is a read and is
// retried. Errors are *Error; an invalid filter is a Permanent error sent
// nowhere.
func (c *Client) Worklist(ctx context.Context, list triage.ListType, filter triage.WorklistFilter) (*WorklistResult, error) {
	f := fhir.NewWorklistFilter(filter)
	if list != triage.ListReferralsForReview && list != triage.ListAppointmentSlotIssues {
		return nil, newLocalError("A008", Permanent, "Choose a worklist: Referrals for Review or Appointment Slot Issues.", nil)
	}
	if err := f.Validate(); err != nil {
		return nil, newLocalError("A008", Permanent, "The worklist filter is not valid: "+err.Error()+".", err)
	}
	body, err := json.Marshal(fhir.WorklistRequest(list, f))
	if err != nil {
		return nil, newLocalError("A008", Permanent, "Triage Desk could not build the worklist request. Contact your IT service desk.", err)
	}
	resp, rerr := c.do(ctx, call{op: "A008", method: "POST", path: "STU3/ReferralRequest/$ers.fetchworklist",
		body: body, contentType: fhirJSON, accept: acceptJSON})
	if rerr != nil {
		return nil, rerr
	}
	got, items, derr := fhir.DecodeWorklist(resp.body)
	if derr != nil {
		return nil, decodeError(resp.meta, false, derr)
	}
	if got != "" && got != list {
		return nil, decodeError(resp.meta, false, fmt.Errorf("asked for %s, got %s", list, got))
	}
	return &WorklistResult{List: list, Items: items, AsOf: resp.meta.Date, Meta: resp.meta}, nil
}

// ReferralResult is a referral read (A005) or returned by a write (A013,
// A014, A022, A028, A036).
type ReferralResult struct {
	Referral *triage.Referral
	// Raw is the ReferralRequest JSON as received (for A036, the whole
	// Parameters response), for the store to keep.
	Raw []byte
	// Version is the referral's version: meta.versionId, else the ETag.
	Version int
	// ETag is the response's ETag, e.g. W/"5".
	ETag string
	Meta Meta
}

// parseETag reads W/"n" (or "n") as n.
func parseETag(v string) (int, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	v = strings.Trim(v, `"`)
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// referralResult decodes a referral read or returned by a write for ubrn.
// A resource for any other referral is a BadResponse (for a write: the
// write may have been applied, so re-read the referral to settle it), never
// a result: nothing may be cached or recorded under an id it was not asked
// for.
func referralResult(resp *response, ubrn string, write bool, decode func([]byte) (*triage.Referral, error)) (*ReferralResult, error) {
	r, err := decode(resp.body)
	if err != nil {
		return nil, decodeError(resp.meta, write, err)
	}
	if !triage.SameUBRN(r.UBRN, ubrn) {
		e := decodeError(resp.meta, write, errors.New("the reply is for another referral"))
		if !write {
			e.Message = fmt.Sprintf("e-RS answered with another referral's details, so Triage Desk did not use them. It will try again later; if it keeps happening, contact your IT service desk and quote the correlation id %s.", resp.meta.CorrelationID)
		}
		return nil, e
	}
	res := &ReferralResult{Referral: r, Raw: resp.body, Version: r.Version, ETag: resp.header.Get("ETag"), Meta: resp.meta}
	if etag, ok := parseETag(res.ETag); ok && res.Version == 0 {
		res.Version = etag
		r.Version = etag
	}
	return res, nil
}

// Referral reads a referral's details (A005, GET /STU3/ReferralRequest/{ubrn})
// with its current version. It is a read and is retried. Errors are *Error.
func (c *Client) Referral(ctx context.Context, ubrn string) (*ReferralResult, error) {
	if err := checkID("A005", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A005", method: "GET", path: "STU3/ReferralRequest/" + ubrn, accept: acceptJSON})
	if err != nil {
		return nil, err
	}
	return referralResult(resp, ubrn, false, fhir.DecodeReferral)
}

// ReferralAtVersion reads a referral at a version (A005, GET
// /STU3/ReferralRequest/{ubrn}/_history/{version}). e-RS serves only the
// current version: an older one is a Conflict (HISTORY_NOT_SUPPORTED), which
// is how a caller learns the referral has changed. Errors are *Error.
func (c *Client) ReferralAtVersion(ctx context.Context, ubrn string, version int) (*ReferralResult, error) {
	if err := checkID("A005", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	if version <= 0 {
		return nil, newLocalError("A005", Permanent, "The referral's version is not known. Refresh the referral.", nil)
	}
	resp, err := c.do(ctx, call{op: "A005", method: "GET", path: "STU3/ReferralRequest/" + ubrn + "/_history/" + strconv.Itoa(version), accept: acceptJSON})
	if err != nil {
		return nil, err
	}
	return referralResult(resp, ubrn, false, fhir.DecodeReferral)
}

// CodeSystemResult is the result of A004.
type CodeSystemResult struct {
	CodeSystem triage.CodeSystem
	Meta       Meta
}

// CodeSystem fetches reference data (A004, GET /STU3/CodeSystem/{type}), one
// of triage.CodeSystemTypes. Load it live: e-RS's example data is not the
// real list. Errors are *Error.
func (c *Client) CodeSystem(ctx context.Context, t triage.CodeSystemType) (*CodeSystemResult, error) {
	if !validCodeSystem.MatchString(string(t)) {
		return nil, newLocalError("A004", Permanent, "That is not an e-RS reference data type (for example SPECIALTY or PRIORITY).", nil)
	}
	cs, resp, err := fetch(ctx, c, call{op: "A004", method: "GET", path: "STU3/CodeSystem/" + string(t), accept: acceptJSON}, fhir.DecodeCodeSystem)
	if err != nil {
		return nil, err
	}
	return &CodeSystemResult{CodeSystem: cs, Meta: resp.meta}, nil
}
