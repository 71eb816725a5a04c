package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// OfflineBanner says, while e-RS cannot be reached, when Triage Desk last
// synced, that everything downloaded can still be read and that decisions
// queue; it disappears by itself when the connection returns (the engine
// keeps probing, so nobody needs to click anything). "Try now" probes at
// once. Use it on the UI goroutine.
type OfflineBanner struct {
	frame *frame.Frame
	now   func() time.Time
	// OnTryNow asks the engine to try e-RS now (Engine.SyncNow); nil hides
	// the button.
	OnTryNow func()

	sync   app.SyncStatus
	queued int
	label  *widget.Label
}

// NewOfflineBanner returns a banner controller for the frame's offline
// slot. now is the clock (nil: time.Now).
func NewOfflineBanner(f *frame.Frame, now func() time.Time) *OfflineBanner {
	if now == nil {
		now = time.Now
	}
	return &OfflineBanner{frame: f, now: now}
}

// Apply takes the connection state, a new worklist and the outbox counts
// from an engine Update.
func (o *OfflineBanner) Apply(u bridge.Update) {
	changed := false
	if u.Sync != nil {
		o.sync, changed = *u.Sync, true
	}
	if u.Worklist != nil {
		o.sync.LastSuccess, o.sync.AsOf, changed = o.now(), u.Worklist.AsOf, true
	}
	if u.Outbox != nil {
		o.queued = u.Outbox.Counts[triage.OutboxQueued] + u.Outbox.Counts[triage.OutboxSending]
		changed = true
	}
	if changed {
		o.Refresh()
	}
}

// Set sets the engine's status and queued count (when a workspace opens).
func (o *OfflineBanner) Set(st app.SyncStatus, queued int) {
	o.sync, o.queued = st, queued
	o.Refresh()
}

// Clear removes the banner (the workspace closed).
func (o *OfflineBanner) Clear() {
	o.sync = app.SyncStatus{}
	o.Refresh()
}

// Showing reports whether the banner is up.
func (o *OfflineBanner) Showing() bool { return o.frame.Banner(frame.BannerOffline) != nil }

// Text returns the banner's sentence ("" when not shown).
func (o *OfflineBanner) Text() string {
	if !o.Showing() || o.label == nil {
		return ""
	}
	return o.label.Text
}

// Refresh shows, updates or removes the banner.
func (o *OfflineBanner) Refresh() {
	if o.sync.State != app.SyncOffline {
		o.frame.SetBanner(frame.BannerOffline, nil)
		o.label = nil
		return
	}
	text := offlineText(o.sync, o.queued, o.now())
	if o.label != nil && o.Showing() {
		o.label.SetText(text)
		return
	}
	var actions []fyne.CanvasObject
	if o.OnTryNow != nil {
		actions = append(actions, widget.NewButtonWithIcon("Try now", theme.ViewRefreshIcon(), o.OnTryNow))
	}
	obj, l := widgets.BannerStrip(theme.WarningIcon(), text, theme.ColorNameWarning, actions...)
	o.label = l
	o.frame.SetBanner(frame.BannerOffline, obj)
}

// offlineText is the offline banner's sentence.
func offlineText(st app.SyncStatus, queued int, now time.Time) string {
	last := "Triage Desk has not synced with e-RS on this computer yet."
	if !st.LastSuccess.IsZero() {
		last = "Last successful sync at " + widgets.ClockText(st.LastSuccess, now) + "."
	}
	then := "decisions you make are kept and sent when the connection returns."
	if queued > 0 {
		then = fmt.Sprintf("your %s will be sent when the connection returns.", widgets.CountOf(queued, "queued decision", "queued decisions"))
	}
	return "Offline: Triage Desk cannot reach e-RS. " + last + " Everything already downloaded can still be read, and " + then
}
