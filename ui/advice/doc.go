// Package advice is Triage Desk's Advice and Guidance (A&G) screen: the
// consultant's second inbox, shown beside Referrals for Review.
//
// View is the whole screen: the A&G worklist on the left (in the façade's
// clinical order, "response required" first, with a count per category
// above it) and, once a request is opened, its conversation on the right:
// the request's details, every message in the order sent with who wrote it
// and when, the files (previewed in the referral screens' viewer, which the
// caller passes in as Options.Preview) and the overview PDF. Beside the
// conversation are the actions: the reply form (outcome, intended
// recommendation, guidance with a live 8000-character counter, priority),
// the confirm step, "…and next", and converting to a referral where the
// referrer allowed it. A reply that was not sent because the referrer wrote
// again is shown as a conflict naming the new messages, with Acknowledge
// and Discard.
//
// The screen reads only the encrypted cache through internal/app (it works
// offline) and hears from the sync engine through ui/bridge; it never calls
// fyne.Do itself. RegisterShortcuts gives the window's shortcuts to the
// screen while it is shown.
package advice
