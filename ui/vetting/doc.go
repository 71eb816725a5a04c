// Package vetting is the vetting view, the main view of Triage Desk's
// window for an open workspace: the worklist panel on the left (a
// virtualised table sorted and filtered with triage.FilterSort) and, once
// a referral is opened, its panel on the right: the header card, the CRI
// viewer, the attachments, the related referrals and the decision panel
// (the decisions that fit, validated forms, a confirm step, "…and next",
// drafts, cancel while queued, amend from the outbox). WorkTabs puts the
// Advice and Guidance screen (ui/advice) beside it as a second tab.
//
// NewVetting builds the view for an open workspace (*app.Workspace): the
// WorklistPanel (a virtualised widgets.DataTable sorted and filtered with
// triage.FilterSort, one row refreshed per engine event) and the referral
// panel, whose CRI viewer draws pages off the UI goroutine at the canvas
// scale, cancelled when the selection moves on; the decision panel offers
// the decisions that fit, narrowed by A029. Each opened referral gets a
// new panel built from one cached copy of it, so the header card and the
// document always belong to the same patient. Vetting registers the
// worklist, decision and document shortcuts on the Frame (see
// ui/shortcuts). The split and the column widths are kept in the app's
// Preferences. WorkTabs switches the tabs with Ctrl+1 and Ctrl+2 and sends
// the window's shortcuts to the tab shown; A&G files open in the same
// document viewer as referral attachments (ui/advice's Preview function).
//
// Package ui builds it once the workspace is open (NewVetting,
// NewWorkTabs) and wires it to the chrome; see ui's package comment for
// the window as a whole.
package vetting
