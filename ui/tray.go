package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
)

// Tray is Triage Desk's system-tray icon (where the desktop has one): how
// many referrals are waiting to be reviewed, and Open, Refresh and Quit. It
// shows counts only. Use it on the UI goroutine.
type Tray struct {
	desk  desktop.App
	menu  *fyne.Menu
	count *fyne.MenuItem
}

// NewTray puts the icon in the system tray, or returns nil when the app
// has no tray (desktop.App). Only call it where the desktop shows tray
// icons (trayHostAvailable): Fyne's tray panics at exit when it could not
// reach one. open shows the main window, refresh syncs now and quit quits
// (after its own checks).
func NewTray(a fyne.App, open, refresh, quit func()) *Tray {
	desk, ok := a.(desktop.App)
	if !ok {
		return nil
	}
	t := &Tray{desk: desk}
	t.count = fyne.NewMenuItem("Worklist not downloaded yet", nil)
	t.count.Disabled = true
	q := fyne.NewMenuItem("Quit", quit)
	q.IsQuit = true
	t.menu = fyne.NewMenu("Triage Desk", t.count, fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open Triage Desk", open), fyne.NewMenuItem("Refresh from e-RS", refresh),
		fyne.NewMenuItemSeparator(), q)
	desk.SetSystemTrayIcon(frame.AppIcon)
	desk.SetSystemTrayMenu(t.menu)
	return t
}

// SetCounts shows how many referrals are to be reviewed.
func (t *Tray) SetCounts(c triage.Counts) {
	if t == nil {
		return
	}
	t.count.Label = TrayCountText(c)
	t.desk.SetSystemTrayMenu(t.menu)
}

// Clear shows that no worklist is open (signed out).
func (t *Tray) Clear() {
	if t == nil {
		return
	}
	t.count.Label = "Not signed in"
	t.desk.SetSystemTrayMenu(t.menu)
}

// CountLabel returns the count line as shown (tests).
func (t *Tray) CountLabel() string { return t.count.Label }

// TrayCountText is the tray's count line: "12 to review (3 two-week wait)".
func TrayCountText(c triage.Counts) string {
	switch {
	case c.ToReview == 0:
		return "Nothing to review"
	case c.TwoWeek > 0:
		return fmt.Sprintf("%d to review (%d two-week wait)", c.ToReview, c.TwoWeek)
	}
	return fmt.Sprintf("%d to review", c.ToReview)
}

// trayHostAvailable reports whether the desktop shows tray icons
// (systemTrayHost; tests replace it). It may wait for D-Bus: call it off
// the UI goroutine.
var trayHostAvailable = systemTrayHost
