package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Notifier sends an OS notification when new two-week-wait referrals
// arrive. It says how many, never who or which: notifications show on the
// lock screen and in the OS's notification history. Referrals already on
// the worklist when Triage Desk opened the clinician's data, or already
// notified, are not notified again. Use it on the UI goroutine.
type Notifier struct {
	app    fyne.App
	seen   map[string]bool
	primed bool
}

// NewNotifier returns a Notifier sending through the Fyne app.
func NewNotifier(a fyne.App) *Notifier { return &Notifier{app: a, seen: map[string]bool{}} }

// Reset forgets what was seen (another clinician's workspace opened): the
// next Observe only primes.
func (n *Notifier) Reset() {
	n.seen, n.primed = map[string]bool{}, false
}

// Observe takes the worklist after a pull. The first call after Reset only
// records what is there; later calls notify about two-week-wait referrals
// not seen before that still need a decision. It returns how many it
// notified about.
func (n *Notifier) Observe(rows []triage.Row) int {
	fresh := 0
	for i := range rows {
		r := &rows[i]
		u := r.UBRN
		if n.seen[u] {
			continue
		}
		n.seen[u] = true
		if n.primed && r.Priority == triage.PriorityTwoWeekWait && r.Local != triage.LocalSent {
			fresh++
		}
	}
	n.primed = true
	if fresh > 0 && n.app != nil {
		n.app.SendNotification(fyne.NewNotification("Triage Desk", NewTwoWeekText(fresh)))
	}
	return fresh
}

// NewTwoWeekText is the notification's text: a count only.
func NewTwoWeekText(n int) string {
	if n == 1 {
		return "1 new two-week-wait referral to review"
	}
	return fmt.Sprintf("%d new two-week-wait referrals to review", n)
}
