package vetting

import "github.com/triagedesk/triagedesk/internal/app"

// OnWorklist sets fn to be called on the UI goroutine after each worklist
// read is shown (the desktop tells its caller when the view first fills).
func (v *Vetting) OnWorklist(fn func()) { v.onWorklist = fn }

// OnFirstRead sets fn to be called once on the UI goroutine when the
// first worklist read has finished, shown or failed (the desktop starts
// the work that would compete with it then).
func (v *Vetting) OnFirstRead(fn func()) { v.onFirstRead = fn }

// Workspace returns the workspace the view shows.
func (v *Vetting) Workspace() *app.Workspace { return v.app }

// Loaded reports whether the worklist has been read once.
func (v *Vetting) Loaded() bool { return v.list.loaded }

// Listed returns how many referrals the worklist holds, filters aside.
func (v *Vetting) Listed() int { return len(v.list.all) }

// OpenedUBRN returns the UBRN of the referral whose panel shows with its
// decision panel ("" for none).
func (v *Vetting) OpenedUBRN() string {
	if v.panel == nil || v.panel.decision == nil {
		return ""
	}
	return v.panel.ubrn
}

// Confirming reports whether the open referral's confirm step shows.
func (v *Vetting) Confirming() bool {
	return v.panel != nil && v.panel.decision != nil && v.panel.decision.confirm != nil
}

// Decided reports whether the open referral has a decision in the outbox
// (queued, sending, sent or otherwise).
func (v *Vetting) Decided() bool {
	return v.panel != nil && v.panel.decision != nil && v.panel.decision.entry != nil
}
