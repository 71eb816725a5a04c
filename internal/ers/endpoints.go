package ers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
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

// normUBRN writes a UBRN without spaces, for comparing.
func normUBRN(u string) string { return strings.ReplaceAll(strings.TrimSpace(u), " ", "") }

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

// PractitionerRolesResult is the result of A030.
type PractitionerRolesResult struct {
	Roles []fhir.Role
	Meta  Meta
}

// PractitionerRoles lists the organisations and business functions the
// signed-in user holds (A030, GET /R4/PractitionerRole). It sends no
// identity headers. Errors are *Error.
func (c *Client) PractitionerRoles(ctx context.Context) (*PractitionerRolesResult, error) {
	resp, err := c.do(ctx, call{op: "A030", method: "GET", path: "R4/PractitionerRole", accept: acceptJSON, mode: identityNone})
	if err != nil {
		return nil, err
	}
	roles, derr := fhir.DecodePractitionerRoles(resp.body)
	if derr != nil {
		return nil, decodeError(resp.meta, false, derr)
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
	resp, err := c.do(ctx, call{op: "A040", method: "GET", path: "R4/Practitioner", query: "_query=onBehalfOf", accept: acceptJSON, mode: identityNoOBO})
	if err != nil {
		return nil, err
	}
	users, derr := fhir.DecodeOnBehalfOfUsers(resp.body)
	if derr != nil {
		return nil, decodeError(resp.meta, false, derr)
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
	if normUBRN(r.UBRN) != normUBRN(ubrn) {
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

// File is a downloaded CRI PDF or attachment.
type File struct {
	Data []byte
	// ContentType is the media type the server gave (without parameters).
	ContentType string
	// FileName is the Content-Disposition file name, decoded and passed
	// through SanitizeFilename, or a generated name when there was none.
	// It is patient data: never log it.
	FileName string
	Meta     Meta
}

func fileResult(resp *response, fallback string) *File {
	f := &File{Data: resp.body, Meta: resp.meta}
	if mt, _, err := mime.ParseMediaType(resp.header.Get("Content-Type")); err == nil {
		f.ContentType = mt
	}
	name, ok := ContentDispositionFilename(resp.header.Get("Content-Disposition"))
	if !ok {
		name = fallback
		if !strings.Contains(fallback, ".") {
			name += extensionFor(f.ContentType)
		}
	}
	f.FileName = SanitizeFilename(name)
	return f
}

// preferredExt is the usual extension of each file type e-RS serves.
var preferredExt = map[string]string{
	"text/plain": ".txt", "text/html": ".html", "application/pdf": ".pdf", "text/xml": ".xml", "text/rtf": ".rtf",
	"audio/basic": ".au", "audio/mpeg": ".mp3", "image/png": ".png", "image/gif": ".gif", "image/jpeg": ".jpg",
	"image/tiff": ".tif", "video/mpeg": ".mpg", "application/msword": ".doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx", "application/dicom": ".dcm",
}

// extensionFor returns a file extension for a media type, or "".
func extensionFor(mediaType string) string {
	if ext, ok := preferredExt[mediaType]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// ClinicalInformation downloads a referral's Clinical Referral Information
// PDF (A007, POST /STU3/ReferralRequest/{ubrn}/$ers.generateCRI, no body). It
// is a read and is retried. Errors are *Error.
func (c *Client) ClinicalInformation(ctx context.Context, ubrn string) (*File, error) {
	if err := checkID("A007", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A007", method: "POST", path: "STU3/ReferralRequest/" + ubrn + "/$ers.generateCRI",
		accept: "application/pdf", download: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, "clinical-information.pdf"), nil
}

// Attachment downloads an attachment by its id or its DocumentReference URL
// ("Binary/{id}"). It uses A042 (GET /R4/Binary/{id}), following the 307 to
// the temporary download URL without credentials, and falls back to the
// deprecated A006 (GET /STU3/Binary/{id}) when A042 does not know the id or
// is not available (400, 404, 405, 501). A still-scanning file is a Pending
// error. Errors are *Error.
func (c *Client) Attachment(ctx context.Context, idOrURL string) (*File, error) {
	f, err := c.AttachmentR4(ctx, idOrURL)
	var e *Error
	if errors.As(err, &e) && e.Op == "A042" {
		switch e.Status {
		case 400, 404, 405, 501:
			return c.AttachmentSTU3(ctx, idOrURL)
		}
	}
	return f, err
}

// AttachmentR4 downloads an attachment with A042 only. Errors are *Error.
func (c *Client) AttachmentR4(ctx context.Context, idOrURL string) (*File, error) {
	id := fhir.BinaryID(idOrURL)
	if err := checkID("A042", "attachment id", id); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A042", method: "GET", path: "R4/Binary/" + id, accept: "*/*", download: true, redirect: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, "attachment-"+id), nil
}

// AttachmentSTU3 downloads an attachment with the deprecated A006 (at most
// 5 MB). Errors are *Error.
func (c *Client) AttachmentSTU3(ctx context.Context, idOrURL string) (*File, error) {
	id := fhir.BinaryID(idOrURL)
	if err := checkID("A006", "attachment id", id); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A006", method: "GET", path: "STU3/Binary/" + id, accept: "*/*", download: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, "attachment-"+id), nil
}

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
	resp, err := c.do(ctx, call{op: "A029", method: "GET", path: "STU3/Task", query: q, accept: acceptJSON})
	if err != nil {
		return nil, err
	}
	actions, derr := fhir.DecodeAvailableActions(resp.body)
	if derr != nil {
		return nil, decodeError(resp.meta, false, derr)
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

// UploadResult is the result of A020.
type UploadResult struct {
	// BinaryID is the e-RS id of the uploaded file, for
	// ProviderAttachment.BinaryID.
	BinaryID string
	Meta     Meta
}

// UploadAttachment uploads a provider attachment for a later A022 or A028
// on the referral, or A026 or A027 on an Advice and Guidance request (A020,
// POST /STU3/Binary): the raw bytes with the file's own Content-Type,
// NHSD-eRS-File-Name (sanitised) and NHSD-eRS-Referral-ID (the UBRN).
// Files over 5 MB are refused before sending. It is a write and never
// retried. Errors are *Error.
func (c *Client) UploadAttachment(ctx context.Context, ubrn string, a triage.ProviderAttachment, data []byte) (*UploadResult, error) {
	if err := checkID("A020", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data) > triage.MaxAttachmentSize {
		return nil, newLocalError("A020", Permanent, "Attachments must be between 1 byte and 5 MB. Attach a smaller file.", nil)
	}
	ct := "application/octet-stream"
	if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil {
		ct = mt
	}
	resp, err := c.do(ctx, call{op: "A020", method: "POST", path: "STU3/Binary", body: data, contentType: ct, accept: acceptJSON,
		write: true, headers: map[string]string{"NHSD-eRS-File-Name": SanitizeFilename(a.FileName), "NHSD-eRS-Referral-ID": ubrn}})
	if err != nil {
		return nil, err
	}
	loc := resp.header.Get("Location")
	id := ""
	if i := strings.LastIndex(loc, "Binary/"); i >= 0 {
		id = fhir.BinaryID(loc[i:])
	}
	if !validID.MatchString(id) {
		return nil, decodeError(resp.meta, true, errors.New("no Binary id in Location"))
	}
	return &UploadResult{BinaryID: id, Meta: resp.meta}, nil
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
	resp, err := c.do(ctx, call{op: "A004", method: "GET", path: "STU3/CodeSystem/" + string(t), accept: acceptJSON})
	if err != nil {
		return nil, err
	}
	cs, derr := fhir.DecodeCodeSystem(resp.body)
	if derr != nil {
		return nil, decodeError(resp.meta, false, derr)
	}
	return &CodeSystemResult{CodeSystem: cs, Meta: resp.meta}, nil
}
