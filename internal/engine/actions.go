package engine

import (
	"context"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// errActionsUnknown is returned by AvailableActions while e-RS cannot be
// asked.
var errActionsUnknown = &triage.Error{Code: triage.EUNAVAILABLE,
	Message: "Triage Desk cannot ask e-RS which actions are allowed on this referral now (offline or not signed in). Every decision that fits the referral is offered; e-RS is asked again before it is sent."}

// AvailableActions asks e-RS (A029) which actions the signed-in clinician
// may take on the referral at version now, so the decision panel can offer
// only those. The answer is never cached. Errors: an EUNAVAILABLE
// *triage.Error when the engine is offline or has no live session (no
// request is made), or the client's *ers.Error (a version that is no
// longer current is a Conflict); a failure to reach e-RS also moves the
// engine offline, as any other call does.
func (e *Engine) AvailableActions(ctx context.Context, ubrn string, version int) ([]triage.Action, error) {
	if ok, _ := e.usable(); !ok {
		return nil, errActionsUnknown
	}
	c, _, err := e.client()
	if err != nil {
		return nil, errActionsUnknown
	}
	res, err := c.AvailableActions(ctx, normUBRN(ubrn), version)
	if err != nil {
		e.noteFailure(err)
		return nil, err
	}
	e.noteSuccess()
	return res.Actions, nil
}
