package app

import (
	"context"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// CanSimulate reports whether the demo's simulations are available: only
// with the in-process e-RS sandbox.
func (rt *Runtime) CanSimulate() bool { return rt.sandbox != nil }

// SimulateOutage starts (on) or ends the demo's simulated e-RS outage:
// every request to the built-in sandbox fails as a dropped connection.
// Errors: EINVALID outside the demo; the sandbox's.
func (rt *Runtime) SimulateOutage(on bool) error {
	if rt.sandbox == nil {
		return errNoSimulation
	}
	f := erssandbox.Faults{}
	if on {
		f.Reset = 1
	}
	if err := rt.sandbox.SetFaults(f); err != nil {
		return fmt.Errorf("simulate an outage: %w", err)
	}
	return nil
}

// SimulateConflict has "another user" reject, in the demo sandbox, the
// referral of the open workspace's oldest queued decision, so it becomes
// a conflict when it is sent. It reports false when there is no queued
// decision. Errors: EINVALID outside the demo or without a workspace; the
// workspace's access check; the sandbox's.
func (rt *Runtime) SimulateConflict(ctx context.Context) (bool, error) {
	rt.mu.Lock()
	ws := rt.ws
	rt.mu.Unlock()
	if rt.sandbox == nil || ws == nil {
		return false, errNoSimulation
	}
	es, err := ws.Entries(ctx, EntryFilter{States: []triage.OutboxState{triage.OutboxQueued}})
	if err != nil || len(es) == 0 {
		return false, err
	}
	if _, err := rt.sandbox.SetState(es[0].UBRN, triage.ReferralStatus{State: triage.StateRejected,
		Reason: triage.Coding{Code: "OTHER", Display: "Other"}, Comments: "Seen in the one-stop clinic instead (demo: another user)."}); err != nil {
		return false, fmt.Errorf("simulate another user: %w", err)
	}
	return true, nil
}

var errNoSimulation = &triage.Error{Code: triage.EINVALID, Message: "Simulations are only available in the demo."}
