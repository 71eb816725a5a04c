package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// sessionWarnBefore is how long before the sign-in ends the status bar
// starts counting down.
const sessionWarnBefore = time.Hour

// outboxCountStates are the outbox counts the status bar shows, in order.
var outboxCountStates = []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending, triage.OutboxConflict, triage.OutboxFailed}

// StatusBar is the strip along the bottom of the main window: whether
// Triage Desk is online, offline or needs a sign-in; how fresh the worklist
// is ("Worklist as of 14:05", e-RS's time); download progress while
// documents are fetched for offline reading; the outbox counts, each of
// which opens the outbox; and, in the last hour of the sign-in, how long is
// left. It shows counts and times only, never patient data, because it
// stays visible over the lock screen. Use it on the UI goroutine.
type StatusBar struct {
	// OnOpenOutbox opens the outbox showing decisions in that state ("" for
	// all). Nil leaves the counts as plain text.
	OnOpenOutbox func(state triage.OutboxState)

	now func() time.Time

	sync        app.SyncStatus
	haveSync    bool
	session     app.Status
	haveSession bool
	counts      map[triage.OutboxState]int
	// openConflicts counts the conflicts not yet acknowledged (known once
	// haveOpenConflicts).
	openConflicts     int
	haveOpenConflicts bool
	progress          app.PrefetchProgress
	done              string // a short note after a completed download, e.g. "All available offline"

	dot      *canvas.Circle
	state    *widget.Label
	asOf     *widget.Label
	bar      *widget.ProgressBar
	note     *widget.Label
	buttons  map[triage.OutboxState]*widget.Button
	empty    *widget.Button
	damaged  *widget.Button // damaged records in the outbox's file
	nDamaged int
	left     *widget.Label
	notKept  *widget.Label // shown while nothing stored survives closing
	obj      fyne.CanvasObject
	barHolds *fyne.Container
}

// NewStatusBar returns a status bar that has heard nothing yet. now is the
// clock (nil: time.Now).
func NewStatusBar(now func() time.Time) *StatusBar {
	if now == nil {
		now = time.Now
	}
	s := &StatusBar{now: now, counts: map[triage.OutboxState]int{}, buttons: map[triage.OutboxState]*widget.Button{}}
	s.dot = canvas.NewCircle(theme.Color(theme.ColorNameDisabled))
	dot := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(10), s.dot))
	s.state = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.asOf = widget.NewLabel("")
	s.bar = widget.NewProgressBar()
	s.bar.TextFormatter = func() string {
		return fmt.Sprintf("Downloading for offline: %d of %d", s.progress.Done, s.progress.Total)
	}
	s.barHolds = container.NewGridWrap(fyne.NewSize(300, s.bar.MinSize().Height), s.bar)
	s.note = widget.NewLabel("")
	s.left = widget.NewLabel("")
	s.left.Importance = widget.WarningImportance
	s.notKept = widget.NewLabelWithStyle("Not kept after closing", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.notKept.Importance = widget.WarningImportance
	s.notKept.Hide()
	objs := []fyne.CanvasObject{dot, s.state, widget.NewSeparator(), s.asOf, s.barHolds, s.note, layout.NewSpacer(), s.notKept}
	for _, st := range outboxCountStates {
		b := widget.NewButton("", func() { s.open(st) })
		b.Importance = widget.LowImportance
		switch st {
		case triage.OutboxConflict:
			b.Importance = widget.DangerImportance
		case triage.OutboxFailed:
			b.Importance = widget.WarningImportance
		}
		s.buttons[st] = b
		objs = append(objs, b)
	}
	s.empty = widget.NewButton("Outbox: nothing waiting", func() { s.open("") })
	s.empty.Importance = widget.LowImportance
	s.damaged = widget.NewButton("", func() { s.open("") })
	s.damaged.Importance = widget.DangerImportance
	objs = append(objs, s.damaged, s.empty, s.left)
	s.obj = container.NewVBox(widget.NewSeparator(), container.NewHBox(objs...))
	s.Refresh()
	return s
}

func (s *StatusBar) open(st triage.OutboxState) {
	if s.OnOpenOutbox != nil {
		s.OnOpenOutbox(st)
	}
}

// Object returns the bar, for Frame.SetStatusBar.
func (s *StatusBar) Object() fyne.CanvasObject { return s.obj }

// Apply takes what an engine Update reports: the connection state, a new
// worklist's time, outbox counts and download progress.
func (s *StatusBar) Apply(u bridge.Update) {
	if u.Sync != nil {
		s.sync, s.haveSync = *u.Sync, true
	}
	if u.Worklist != nil {
		s.sync.AsOf = u.Worklist.AsOf
		s.sync.LastSuccess = s.now()
		s.haveSync = true
	}
	if u.Outbox != nil {
		s.counts = copyCounts(u.Outbox.Counts)
		s.nDamaged = len(u.Outbox.Damage.Records)
	}
	if u.Progress != nil {
		if s.progress.Total > 0 && s.progress.Done < s.progress.Total && u.Progress.Done == u.Progress.Total {
			s.done = "All downloads finished"
		}
		s.progress = *u.Progress
	}
	s.Refresh()
}

// SetSync sets the engine's status (Engine.Status) when a workspace opens.
func (s *StatusBar) SetSync(st app.SyncStatus) {
	s.sync, s.haveSync = st, true
	s.Refresh()
}

// ClearSync forgets the engine's status (the workspace closed).
func (s *StatusBar) ClearSync() {
	s.sync, s.haveSync = app.SyncStatus{}, false
	s.counts = map[triage.OutboxState]int{}
	s.progress, s.done = app.PrefetchProgress{}, ""
	s.Refresh()
}

// SetOutbox sets the outbox counts (Engine.OutboxCounts).
func (s *StatusBar) SetOutbox(counts map[triage.OutboxState]int) {
	s.counts = copyCounts(counts)
	s.Refresh()
}

// SetOpenConflicts sets how many conflicts wait to be acknowledged: the
// bar counts those ("1 conflict"), not the acknowledged ones still in the
// outbox, so the count drops when the clinician acknowledges one.
func (s *StatusBar) SetOpenConflicts(n int) {
	s.openConflicts, s.haveOpenConflicts = n, true
	s.Refresh()
}

// SetDamaged sets how many records of the outbox's file are damaged
// (app.OutboxDamage): the bar then never says "nothing waiting".
func (s *StatusBar) SetDamaged(n int) {
	s.nDamaged = n
	s.Refresh()
}

// SetSession sets the sign-in status.
func (s *StatusBar) SetSession(st app.Status) {
	s.session, s.haveSession = st, true
	s.Refresh()
}

// SetKept says whether what Triage Desk stores survives it closing; when
// it does not (the demo without a keychain) the bar says so.
func (s *StatusBar) SetKept(kept bool) {
	if kept {
		s.notKept.Hide()
	} else {
		s.notKept.Show()
	}
}

// NoteDone shows a short note beside the progress (e.g. after "Make all
// available offline" finds nothing left to download).
func (s *StatusBar) NoteDone(note string) {
	s.done = note
	s.Refresh()
}

// Counts returns the outbox counts shown.
func (s *StatusBar) Counts() map[triage.OutboxState]int { return copyCounts(s.counts) }

func copyCounts(m map[triage.OutboxState]int) map[triage.OutboxState]int {
	out := make(map[triage.OutboxState]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// connection returns the state label and its colour.
func (s *StatusBar) connection() (string, fyne.ThemeColorName) {
	if s.haveSession {
		switch s.session.State {
		case app.SessionLocked:
			return "Locked", theme.ColorNameDisabled
		case app.SessionSignedOut, app.SessionSignInNeeded:
			return "Sign-in needed", theme.ColorNameError
		case app.SessionNeedsRole:
			return "Choose your role", theme.ColorNameWarning
		}
	}
	if !s.haveSync {
		return "Not connected yet", theme.ColorNameDisabled
	}
	switch s.sync.State {
	case app.SyncOffline:
		return "Offline", theme.ColorNameWarning
	case app.SyncSignInNeeded:
		return "Sign-in needed", theme.ColorNameError
	}
	return "Online", theme.ColorNameSuccess
}

// Refresh redraws the bar from what it knows and the clock (the session
// countdown changes with time alone).
func (s *StatusBar) Refresh() {
	text, colour := s.connection()
	s.state.SetText(text)
	s.dot.FillColor = theme.Color(colour)
	s.dot.Refresh()

	switch {
	case !s.haveSync:
		s.asOf.SetText("")
	case s.sync.AsOf.IsZero():
		s.asOf.SetText("Worklist not downloaded yet")
	default:
		s.asOf.SetText("Worklist as of " + widgets.ClockText(s.sync.AsOf, s.now()))
	}

	busy := s.progress.Total > 0 && s.progress.Done < s.progress.Total
	if busy {
		s.done = ""
		s.bar.Max = float64(s.progress.Total)
		s.bar.SetValue(float64(s.progress.Done))
		s.barHolds.Show()
	} else {
		s.barHolds.Hide()
	}
	s.note.SetText(s.done)
	s.note.Hidden = s.done == ""

	any := false
	for _, st := range outboxCountStates {
		b := s.buttons[st]
		n := s.counts[st]
		if st == triage.OutboxConflict && s.haveOpenConflicts {
			n = min(n, s.openConflicts)
		}
		if n == 0 || !s.haveSync {
			b.Hide()
			continue
		}
		any = true
		b.SetText(outboxCountText(st, n))
		b.Show()
	}
	s.damaged.SetText(widgets.CountOf(s.nDamaged, "damaged record", "damaged records"))
	s.damaged.Hidden = s.nDamaged == 0 || !s.haveSync
	s.empty.Hidden = any || s.nDamaged > 0 || !s.haveSync

	s.left.SetText(sessionLeftText(s.session, s.now()))
	s.left.Hidden = s.left.Text == ""
	if s.obj != nil {
		s.obj.Refresh()
	}
}

// outboxCountText is a status bar count: "3 queued", "1 conflict".
func outboxCountText(st triage.OutboxState, n int) string {
	return st.CountText(n)
}

// sessionLeftText says how long the sign-in has left, in its last hour.
func sessionLeftText(st app.Status, now time.Time) string {
	if st.State != app.SessionActive || st.SessionExpires.IsZero() {
		return ""
	}
	left := st.SessionExpires.Sub(now)
	switch {
	case left <= 0 || left > sessionWarnBefore:
		return ""
	case left < time.Minute:
		return "Sign-in ends in under a minute"
	}
	return fmt.Sprintf("Sign-in ends in %d min", int(left.Round(time.Minute)/time.Minute))
}

// Summary is the bar's text in one line, as shown ("Online · Worklist as
// of 14:05 · 3 queued"), for tests and accessibility descriptions.
func (s *StatusBar) Summary() string {
	parts := []string{s.state.Text}
	if s.asOf.Text != "" {
		parts = append(parts, s.asOf.Text)
	}
	if s.barHolds.Visible() {
		parts = append(parts, s.bar.TextFormatter())
	}
	if !s.note.Hidden {
		parts = append(parts, s.note.Text)
	}
	if s.notKept.Visible() {
		parts = append(parts, s.notKept.Text)
	}
	for _, st := range outboxCountStates {
		if b := s.buttons[st]; b.Visible() {
			parts = append(parts, b.Text)
		}
	}
	if s.damaged.Visible() {
		parts = append(parts, s.damaged.Text)
	}
	if s.empty.Visible() {
		parts = append(parts, s.empty.Text)
	}
	if !s.left.Hidden {
		parts = append(parts, s.left.Text)
	}
	return strings.Join(parts, " · ")
}
