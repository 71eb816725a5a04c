package engine

import (
	"context"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// errCannotRefresh is returned by RefreshReferral while e-RS cannot be
// asked.
var errCannotRefresh = &triage.Error{Code: triage.EUNAVAILABLE,
	Message: "Triage Desk cannot reach e-RS now (offline or not signed in), so this is the referral as last downloaded. e-RS is asked again before anything is sent."}

// RefreshReferral re-reads a referral from e-RS now (A005) and caches it
// (raising ReferralUpdated), so a screen such as an amendment starts from
// what e-RS says now rather than from the last download. Errors: an
// EUNAVAILABLE *triage.Error when the engine is offline or has no live
// session (no request is made), or the client's *ers.Error (a failure to
// reach e-RS also moves the engine offline). A failure to cache the answer
// is logged, as for every other read.
func (e *Engine) RefreshReferral(ctx context.Context, ubrn string) error {
	if ok, _ := e.usable(); !ok {
		return errCannotRefresh
	}
	c, _, err := e.client()
	if err != nil {
		return errCannotRefresh
	}
	rr, err := c.Referral(ctx, triage.NormalizeUBRN(ubrn))
	if err != nil {
		e.noteFailure(err)
		return err
	}
	e.noteSuccess()
	e.cacheReferral(ctx, rr)
	return nil
}
