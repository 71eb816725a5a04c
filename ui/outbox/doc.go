// Package outbox is the outbox screen: the clinician's queued, sending,
// sent, failed and conflicting decisions under four filters, each with its
// detail (the decision, what e-RS said, a conflict beside e-RS's current
// state) and the actions that fit it (retry, acknowledge, discard, cancel,
// amend). The chrome in package ui opens it from the status bar and the
// File menu; the conflict and damage banners stay with the chrome.
package outbox
