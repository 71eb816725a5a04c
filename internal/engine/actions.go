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
	chk, err := e.actionsNow(ctx, c, triage.NormalizeUBRN(ubrn), version)
	if err != nil {
		e.noteFailure(err)
		return nil, err
	}
	e.noteSuccess()
	switch {
	case chk.Changed(version):
		return nil, &ers.Error{Op: "A029", Class: ers.Conflict, Code: "HISTORY_NOT_SUPPORTED",
			Message: "The referral has changed since this version was read. Triage Desk will refresh it; check the latest version."}
	case !chk.Known:
		return nil, errActionsNotSaid
	}
	return chk.Actions, nil
}

// actionsNow is the client's ActionsNow (A029 at version; after a refusal,
// one re-read and then A029 without a version), caching the referral when
// it was re-read and logging the fallbacks.
func (e *Engine) actionsNow(ctx context.Context, c *ers.Client, ubrn string, version int) (*ers.ActionsCheck, error) {
	chk, err := c.ActionsNow(ctx, ubrn, version)
	if err != nil {
		return nil, err
	}
	if chk.Reread != nil {
		e.cacheReferral(ctx, chk.Reread)
	}
	switch {
	case chk.Changed(version):
		e.log.Info("A029 refused the version: the referral has changed", "version", version, "now", chk.Reread.Version)
	case !chk.Known:
		e.log.Warn("A029 answered for no version: actions unknown", "version", version)
	case chk.Unversioned:
		e.log.Info("A029 answered only without a version", "version", version)
	}
	return chk, nil
}
