package engine

import (
	"context"
	"errors"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// ErrActionsUnknown is in the chain of AvailableActions' error when e-RS
// cannot say which actions are allowed: every decision that fits the
// referral's type is then offered (the message says so), and e-RS checks the
// decision when it arrives.
var ErrActionsUnknown = errors.New("available actions unknown")

// errActionsUnknown is returned by AvailableActions while e-RS cannot be
// asked.
var errActionsUnknown = &triage.Error{Code: triage.EUNAVAILABLE, Err: ErrActionsUnknown,
	Message: "Triage Desk cannot ask e-RS which actions are allowed on this referral now (offline or not signed in). Every decision that fits the referral is offered; e-RS is asked again before it is sent."}

// errActionsNotSaid is returned by AvailableActions when e-RS answered A029
// for neither the referral's version nor without one.
var errActionsNotSaid = &triage.Error{Code: triage.EUNAVAILABLE, Err: ErrActionsUnknown,
	Message: "e-RS did not say which actions are allowed on this referral, so every decision that fits it is offered. e-RS checks your decision when it arrives and Triage Desk shows you if it is refused."}

// AvailableActions asks e-RS (A029) which actions the signed-in clinician
// may take on the referral at version now, so the decision panel can offer
// only those, with the fallback of actionsNow when e-RS does not answer for
// that version. The answer is never cached.
//
// Errors: an EUNAVAILABLE *triage.Error wrapping ErrActionsUnknown when the
// engine is offline or has no live session (no request is made), or when
// e-RS says nothing for any version (offer every decision that fits, and
// say so); an *ers.Error of class Conflict when the referral has changed in
// e-RS (the new version is cached, so a refresh shows it); the client's
// *ers.Error otherwise. A failure to reach e-RS also moves the engine
// offline, as any other call does.
func (e *Engine) AvailableActions(ctx context.Context, ubrn string, version int) ([]triage.Action, error) {
	if ok, _ := e.usable(); !ok {
		return nil, errActionsUnknown
	}
	c, _, err := e.client()
	if err != nil {
		return nil, errActionsUnknown
	}
	ubrn = normUBRN(ubrn)
	chk, err := e.actionsNow(ctx, c, ubrn, version)
	if err != nil {
		e.noteFailure(err)
		return nil, err
	}
	e.noteSuccess()
	switch {
	case chk.reread != nil && chk.reread.Version != version:
		return nil, &ers.Error{Op: "A029", Class: ers.Conflict, Code: "HISTORY_NOT_SUPPORTED",
			Message: "The referral has changed since this version was read. Triage Desk will refresh it; check the latest version."}
	case !chk.known:
		return nil, errActionsNotSaid
	}
	return chk.actions, nil
}

// actionsCheck is what actionsNow found out.
type actionsCheck struct {
	actions []triage.Action
	// known is false when e-RS answered for no version: the actions are
	// unknown.
	known bool
	// reread is the referral as re-read (A005) after e-RS refused the
	// version asked about; nil when it was not re-read. When its version
	// differs from the one asked about, the referral has changed and
	// actions and known say nothing.
	reread *ers.ReferralResult
}

// actionsNow asks A029 at version. When e-RS refuses that version (e-RS
// does so for a version that is not current; the NHS sandbox for any but its
// example's), it re-reads the referral once (A005, cached): a new version
// means the referral changed, and the caller treats it so. Otherwise it asks
// once more without a version, and if e-RS refuses that too, the actions are
// unknown. Other failures (network, 5xx, sign-in, role) are returned.
func (e *Engine) actionsNow(ctx context.Context, c *ers.Client, ubrn string, version int) (actionsCheck, error) {
	res, err := c.AvailableActions(ctx, ubrn, version)
	if err == nil {
		return actionsCheck{actions: res.Actions, known: true}, nil
	}
	if !versionRefused(err) {
		return actionsCheck{}, err
	}
	rr, err := c.Referral(ctx, ubrn)
	if err != nil {
		return actionsCheck{}, err
	}
	e.cacheReferral(ctx, rr)
	chk := actionsCheck{reread: rr}
	if rr.Version != version {
		return chk, nil
	}
	res, err = c.AvailableActionsAnyVersion(ctx, ubrn)
	switch {
	case err == nil:
		e.log.Info("A029 answered only without a version", "version", version)
		chk.actions, chk.known = res.Actions, true
	case versionRefused(err):
		e.log.Warn("A029 answered for no version: actions unknown", "version", version)
	default:
		return actionsCheck{}, err
	}
	return chk, nil
}

// versionRefused reports whether e-RS refused an A029 request itself (400,
// 404 or 422: a version it does not know, or a request it has no answer
// for), rather than failing to answer or refusing the user.
func versionRefused(err error) bool {
	var ee *ers.Error
	if !errors.As(err, &ee) {
		return false
	}
	switch ee.Status {
	case 400, 404, 422:
		return true
	}
	return false
}
