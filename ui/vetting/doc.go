// Package vetting is the vetting view, the main view of Triage Desk's
// window for an open workspace: the worklist panel on the left (a
// virtualised table sorted and filtered with triage.FilterSort) and, once
// a referral is opened, its panel on the right: the header card, the CRI
// viewer, the attachments, the related referrals and the decision panel
// (the decisions that fit, validated forms, a confirm step, "…and next",
// drafts, cancel while queued, amend from the outbox). WorkTabs puts the
// Advice and Guidance screen (ui/advice) beside it as a second tab.
//
// Package ui builds it once the workspace is open (NewVetting,
// NewWorkTabs) and wires it to the chrome; see ui's package comment for
// the window as a whole.
package vetting
