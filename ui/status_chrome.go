package ui

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/about"
	"github.com/triagedesk/triagedesk/ui/audit"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/outbox"
	"github.com/triagedesk/triagedesk/ui/session"
	"github.com/triagedesk/triagedesk/ui/settings"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// MenuDemo is the demo's own menu (demo mode only): it simulates an e-RS
// outage and another user acting on a referral, to show offline working
// and conflicts.
const MenuDemo shortcuts.Menu = "Demo"

// ChromeOptions configure a Chrome.
type ChromeOptions struct {
	// App is the Fyne app (notifications, tray, theme). Required.
	App fyne.App
	// Frame is the main window's frame. Required.
	Frame *frame.Frame
	// Bridge carries background results to the UI. Required.
	Bridge *bridge.Bridge
	// Runtime is the running Triage Desk. Required.
	Runtime *app.Runtime
	// OpenURL opens the system browser for sign-in (nil: App.OpenURL).
	OpenURL func(*url.URL) error
	// Choose asks where to save the audit export (nil: the file dialog).
	Choose audit.ChooseFile
	// Amend reopens the decision form with an outbox decision's inputs
	// (the vetting window's); nil hides Amend in the outbox.
	Amend func(app.Entry)
	// Quit quits Triage Desk without asking (nil: App.Quit); RequestQuit
	// calls it after warning about unsent decisions.
	Quit func()
	// Tray puts an icon in the system tray. Set it only where the desktop
	// shows tray icons (trayHostAvailable, asked off the UI goroutine).
	Tray bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// ActivityPoll is how often typing in a focused field is checked for,
	// to keep the session from locking (default 5 s).
	ActivityPoll time.Duration
}

// Chrome is everything around the vetting window: the status bar; the
// sign-in-needed, offline, outbox damage and conflict banners; the outbox, audit,
// settings and About screens; the sign-in and lock screens; sign-out; the
// activity that keeps the session from locking; notifications of new 2WW
// referrals and the tray icon; and, in the demo, its simulation menu. The
// lifecycle (ui.Desktop) creates it once the Runtime has started and tells
// it when a workspace opens (SetWorkspace). Use it on the UI goroutine.
type Chrome struct {
	o   ChromeOptions
	now func() time.Time

	status    *StatusBar
	offline   *OfflineBanner
	conflicts *ConflictBanner
	damage    *DamageBanner
	notifier  *Notifier
	tray      *Tray

	ws      *app.Workspace
	session app.Status
	counts  map[triage.OutboxState]int
	outbox  *outbox.OutboxView
	audit   *audit.AuditView

	sessionKey string
	sessionObj *session.SignInScreen
	signInBar  *widget.Label

	applied      bool
	lastInterval time.Duration
	lastPrefetch bool

	outage     bool
	outageItem *fyne.MenuItem
	quitting   bool // the unsent-decisions warning is being prepared or shown
}

// NewChrome builds the chrome on the frame and starts following the
// Runtime's session and the engine's events.
func NewChrome(o ChromeOptions) *Chrome {
	c := &Chrome{o: o, now: o.Now, counts: map[triage.OutboxState]int{}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.o.OpenURL == nil {
		c.o.OpenURL = o.App.OpenURL
	}
	if c.o.ActivityPoll <= 0 {
		c.o.ActivityPoll = 5 * time.Second
	}
	f, b, rt := o.Frame, o.Bridge, o.Runtime

	c.status = NewStatusBar(c.now)
	c.status.OnOpenOutbox = c.ShowOutbox
	f.SetStatusBar(c.status.Object())
	c.offline = NewOfflineBanner(f, c.now)
	c.offline.OnTryNow = func() {
		if c.ws != nil {
			c.ws.SyncNow()
		}
	}
	c.conflicts = NewConflictBanner(f, b, c.now)
	c.conflicts.OnReview = c.reviewConflict
	c.conflicts.OnCount = c.status.SetOpenConflicts
	c.damage = NewDamageBanner(f, b)
	c.damage.OnDamage = c.status.SetDamaged
	c.notifier = NewNotifier(o.App)
	if o.Tray {
		c.tray = NewTray(o.App, c.showWindow, c.refresh, c.RequestQuit)
	}

	keys := f.Shortcuts()
	keys.Handle(shortcuts.ShowOutbox, func() { c.ShowOutbox("") })
	keys.Handle(shortcuts.Settings, c.ShowSettings)
	keys.Handle(shortcuts.Lock, rt.Lock)
	f.SetOnPageEscape(c.closeScreen)
	f.AddMenuItem(shortcuts.MenuFile, fyne.NewMenuItem("Audit log", c.ShowAudit))
	f.AddMenuItem(shortcuts.MenuFile, nil)
	f.AddMenuItem(shortcuts.MenuFile, fyne.NewMenuItem("Sign out…", c.SignOut))
	f.AddMenuItem(shortcuts.MenuWorklist, fyne.NewMenuItem("Make all available offline", c.MakeAvailableOffline))
	f.AddMenuItem(shortcuts.MenuHelp, fyne.NewMenuItem("About Triage Desk", c.ShowAbout))
	if rt.CanSimulate() {
		c.outageItem = fyne.NewMenuItem("Simulate an e-RS outage", c.toggleOutage)
		f.AddMenuItem(MenuDemo, c.outageItem)
		f.AddMenuItem(MenuDemo, fyne.NewMenuItem("Simulate another user acting on a queued referral", c.simulateConflict))
	}

	b.OnEngine(c.onUpdate)
	bridge.Watch(b, rt.OnStatus, c.onStatus)
	bridge.Watch(b, rt.Config.OnChange, c.applySettings)
	frame.WatchActivity(f, b, c.o.ActivityPoll, rt.Touch)
	b.Every(30*time.Second, c.status.Refresh)
	c.onStatus(rt.Status())
	return c
}

// StatusBar returns the status bar.
func (c *Chrome) StatusBar() *StatusBar { return c.status }

// SetWorkspace follows the clinician's workspace once it is open (nil when
// it closed).
func (c *Chrome) SetWorkspace(a *app.Workspace) {
	if a == c.ws {
		return
	}
	c.closeScreens()
	c.ws = a
	c.counts = map[triage.OutboxState]int{}
	c.notifier.Reset()
	c.conflicts.SetWorkspace(a)
	c.damage.SetWorkspace(a)
	if a == nil || !a.CanSync() {
		c.status.ClearSync()
		c.offline.Clear()
		c.tray.Clear()
		c.updateSignInBanner()
		return
	}
	st := a.SyncStatus()
	c.status.SetSync(st)
	c.offline.Set(st, 0)
	bridge.Run(c.o.Bridge, nil, func(ctx context.Context) (map[triage.OutboxState]int, error) {
		return a.OutboxCounts(ctx)
	}, func(counts map[triage.OutboxState]int, err error) {
		if err != nil || c.ws != a {
			return
		}
		c.setCounts(counts)
	})
	c.readWorklist()
	c.applied = false
	c.applySettings(c.o.Runtime.Config.Settings())
}

func (c *Chrome) setCounts(counts map[triage.OutboxState]int) {
	c.counts = copyCounts(counts)
	c.status.SetOutbox(counts)
	c.offline.Apply(bridge.Update{Outbox: &app.OutboxChanged{Counts: counts}})
	c.updateSignInBanner()
}

// onUpdate takes the engine's coalesced events.
func (c *Chrome) onUpdate(u bridge.Update) {
	if c.ws == nil {
		return
	}
	c.status.Apply(u)
	c.offline.Apply(u)
	c.conflicts.Apply(u)
	c.damage.Apply(u)
	if c.outbox != nil {
		c.outbox.Apply(u)
	}
	if u.Outbox != nil {
		c.counts = copyCounts(u.Outbox.Counts)
		c.updateSignInBanner()
	}
	c.confirmSent(u)
	if u.Worklist != nil || u.Lagged {
		c.readWorklist()
	}
}

// confirmSent says in the status bar that decisions reached e-RS (a count
// and a time: the status bar never shows patient data). The referral's
// own panel and its worklist row say which.
func (c *Chrome) confirmSent(u bridge.Update) {
	n := 0
	for _, st := range u.Decisions {
		if st == triage.OutboxSent {
			n++
		}
	}
	if n > 0 {
		now := c.now()
		c.status.NoteDone(fmt.Sprintf("%s sent to e-RS at %s", widgets.CountOf(n, "decision", "decisions"), widgets.ClockText(now, now)))
	}
}

// readWorklist reads the cached worklist for the tray's counts and the
// new-2WW notification.
func (c *Chrome) readWorklist() {
	a := c.ws
	if a == nil {
		return
	}
	bridge.Run(c.o.Bridge, nil, func(ctx context.Context) (app.ReviewList, error) {
		return a.ReviewList(ctx)
	}, func(wl app.ReviewList, err error) {
		if err != nil || c.ws != a {
			return
		}
		c.notifier.Observe(wl.Rows)
		c.tray.SetCounts(wl.Counts)
	})
}

// onStatus follows the sign-in, and where the data is kept.
func (c *Chrome) onStatus(st app.Status) {
	c.session = st
	c.status.SetSession(st)
	c.conflicts.SetShowPatientData(st.ShowPatientData)
	if !st.ShowPatientData {
		c.closeScreens()
	}
	c.updateSignInBanner()
	c.updateStorage()
}

// updateStorage says, in a banner and in the status bar, when nothing
// stored survives Triage Desk closing (the demo without a keychain).
func (c *Chrome) updateStorage() {
	kept := c.o.Runtime.Storage().Kept
	c.status.SetKept(kept)
	if kept {
		c.o.Frame.SetBanner(frame.BannerNotice, nil)
		return
	}
	if c.o.Frame.Banner(frame.BannerNotice) != nil {
		return
	}
	obj, _ := widgets.BannerStrip(theme.WarningIcon(), app.DemoStorageNotice+
		" Decisions not yet sent when it closes are lost: keep it open until the status bar shows nothing waiting.", theme.ColorNameWarning)
	c.o.Frame.SetBanner(frame.BannerNotice, obj)
}

// unsent counts decisions not yet in e-RS.
func (c *Chrome) unsent() int {
	n := 0
	for st, k := range c.counts {
		if st.Unsent() {
			n += k
		}
	}
	return n
}

// updateSignInBanner shows the sign-in-needed prompt while cached data
// stays readable but nothing can be sent.
func (c *Chrome) updateSignInBanner() {
	st := c.session
	if st.State != app.SessionSignInNeeded || !st.ShowPatientData {
		c.o.Frame.SetBanner(frame.BannerSignIn, nil)
		c.signInBar = nil
		return
	}
	text := session.SignInNeededText(st, c.unsent())
	if c.signInBar != nil && c.o.Frame.Banner(frame.BannerSignIn) != nil {
		c.signInBar.SetText(text)
		return
	}
	btn := widget.NewButtonWithIcon("Sign in again", theme.LoginIcon(), c.ShowSignIn)
	btn.Importance = widget.HighImportance
	obj, l := widgets.BannerStrip(theme.AccountIcon(), text, theme.ColorNameError, btn)
	c.signInBar = l
	c.o.Frame.SetBanner(frame.BannerSignIn, obj)
}

// SessionScreen returns the screen that covers the window while patient
// data may not be shown: the lock screen while locked, otherwise the
// sign-in screen (which starts at the role picker when a role is needed).
// The same screen is returned while the situation is unchanged, so a
// sign-in in progress is not interrupted.
func (c *Chrome) SessionScreen(st app.Status) fyne.CanvasObject {
	locked := st.State == app.SessionLocked
	key := fmt.Sprintf("%v|%s|%v", locked, st.Identity.SDSUserID, st.State == app.SessionNeedsRole)
	if c.sessionObj != nil && c.sessionKey == key {
		return c.sessionObj.Object()
	}
	o := session.SignInOptions{Service: c.o.Runtime, Bridge: c.o.Bridge, Status: st, OpenURL: c.o.OpenURL, Locked: locked}
	if locked || st.Identity.SDSUserID != "" {
		o.OnSignOut = c.SignOut
	}
	c.sessionKey, c.sessionObj = key, session.NewSignInScreen(o)
	return c.sessionObj.Object()
}

// ShowSignIn shows the sign-in screen over the readable cache (sign-in
// needed); it closes once signed in, or on "Back to the worklist".
func (c *Chrome) ShowSignIn() {
	s := session.NewSignInScreen(session.SignInOptions{Service: c.o.Runtime, Bridge: c.o.Bridge, Status: c.session, OpenURL: c.o.OpenURL,
		OnCancel: c.closeScreen, OnDone: func(triage.Identity) { c.closeScreen() }})
	c.o.Frame.ShowScreen(session.ScreenSignIn, s.Object())
}

// covered reports whether a screen of the lifecycle's (loading, start-up
// failure, or the session screen hiding patient data) is up.
func (c *Chrome) covered() bool {
	s := c.o.Frame.Screen()
	return s != "" && !myScreens[s]
}

// mayShowPatientData reports whether screens with patient data may open.
func (c *Chrome) mayShowPatientData() bool {
	return c.ws != nil && c.session.ShowPatientData && !c.covered()
}

// ShowOutbox opens the outbox at the decisions in state st ("" : all; a
// conflict or failure selects the first one needing attention).
func (c *Chrome) ShowOutbox(st triage.OutboxState) {
	if !c.mayShowPatientData() {
		return
	}
	v := outbox.NewOutboxView(outbox.OutboxOptions{Workspace: c.ws, Bridge: c.o.Bridge, Window: c.o.Frame.Window(), Now: c.now,
		OnClose: c.closeScreen, Amend: c.amendHook()})
	f := outbox.FilterFor(st)
	if st == "" && c.counts[triage.OutboxConflict]+c.counts[triage.OutboxFailed] == 0 {
		f = outbox.OutboxAll
	}
	v.SetFilter(f)
	if f == outbox.OutboxNeedsAttention {
		v.SelectFirst()
	}
	c.outbox = v
	c.o.Frame.ShowPage(outbox.ScreenOutbox, v.Object())
}

// reviewConflict opens the outbox at the conflict with the entry id.
func (c *Chrome) reviewConflict(id string) {
	c.ShowOutbox(triage.OutboxConflict)
	if c.outbox != nil && c.o.Frame.Screen() == outbox.ScreenOutbox {
		c.outbox.Select(id)
	}
}

// Outbox returns the outbox screen while it shows (nil otherwise).
func (c *Chrome) Outbox() *outbox.OutboxView {
	if c.o.Frame.Screen() != outbox.ScreenOutbox {
		return nil
	}
	return c.outbox
}

func (c *Chrome) amendHook() func(app.Entry) {
	if c.o.Amend == nil {
		return nil
	}
	return func(en app.Entry) {
		c.closeScreen()
		c.o.Amend(en)
	}
}

// ShowAudit opens the audit log.
func (c *Chrome) ShowAudit() {
	if !c.mayShowPatientData() {
		return
	}
	c.audit = audit.NewAuditView(audit.AuditOptions{Workspace: c.ws, Bridge: c.o.Bridge, Window: c.o.Frame.Window(), Choose: c.o.Choose,
		OnClose: c.closeScreen, Now: c.now})
	c.o.Frame.ShowPage(audit.ScreenAudit, c.audit.Object())
}

// ShowSettings opens the settings.
func (c *Chrome) ShowSettings() {
	if c.covered() {
		return
	}
	v := settings.NewView(settings.Options{Config: c.o.Runtime.Config, Bridge: c.o.Bridge, OnApplied: c.applySettings, OnClose: c.closeScreen})
	c.o.Frame.ShowPage(settings.Screen, v.Object())
}

// ShowAbout opens the About screen.
func (c *Chrome) ShowAbout() {
	rt := c.o.Runtime
	s := rt.Config.Settings()
	info := about.Info{Icon: frame.AppIcon, Environment: rt.Environment, Demo: rt.Demo(), Storage: rt.Storage(), SettingsFile: rt.Config.SettingsPath()}
	if s.Managed {
		info.Policy = s.PolicySource
	}
	if c.covered() {
		return
	}
	c.o.Frame.ShowPage(about.Screen, about.NewScreen(info, c.closeScreen))
}

// myScreens are the screens the chrome opens over the main view.
var myScreens = map[string]bool{outbox.ScreenOutbox: true, audit.ScreenAudit: true, settings.Screen: true, about.Screen: true, session.ScreenSignIn: true}

func (c *Chrome) closeScreen() {
	if myScreens[c.o.Frame.Screen()] {
		c.o.Frame.CloseScreen()
	}
	c.outbox, c.audit = nil, nil
}

// closeScreens closes the screens that show patient data.
func (c *Chrome) closeScreens() {
	switch c.o.Frame.Screen() {
	case outbox.ScreenOutbox, audit.ScreenAudit:
		c.o.Frame.CloseScreen()
	}
	c.outbox, c.audit = nil, nil
}

// applySettings applies changed settings at once: theme and text size,
// and the engine's sync interval and prefetch.
func (c *Chrome) applySettings(s *config.Settings) {
	style.Apply(c.o.App, s)
	c.status.Refresh()
	if c.ws == nil || !c.ws.CanSync() {
		return
	}
	if !c.applied || s.SyncInterval != c.lastInterval {
		if c.applied {
			c.ws.SetPullInterval(s.SyncInterval)
		}
		c.lastInterval = s.SyncInterval
	}
	if !c.applied || s.Prefetch != c.lastPrefetch {
		if c.applied {
			c.ws.SetPrefetch(s.Prefetch)
		}
		c.lastPrefetch = s.Prefetch
	}
	c.applied = true
}

// MakeAvailableOffline downloads everything the worklist needs for reading
// offline (before travelling), with progress in the status bar.
func (c *Chrome) MakeAvailableOffline() {
	a := c.ws
	if a == nil || !a.CanSync() {
		return
	}
	w := c.o.Frame.Window()
	bridge.Run(c.o.Bridge, nil, func(ctx context.Context) (int, error) {
		return a.MakeAvailableOffline(ctx)
	}, func(n int, err error) {
		switch {
		case err != nil:
			dialog.ShowInformation("Make all available offline", triage.ErrorMessage(err), w)
		case n == 0:
			c.status.NoteDone("Everything on the worklist is available offline")
		case a.SyncStatus().State != app.SyncOnline:
			c.status.NoteDone(fmt.Sprintf("%s will start when e-RS can be reached", widgets.CountOf(n, "download", "downloads")))
		}
	})
}

// SignOut signs out after the unsent-decisions warning.
func (c *Chrome) SignOut() {
	w := c.o.Frame.Window()
	session.SignOut(w, c.o.Bridge, c.o.Runtime, func(rep app.LogoutReport, err error) {
		if err != nil {
			dialog.ShowInformation("Sign out", triage.ErrorMessage(err), w)
		}
	})
}

// showWindow brings the main window forward (the tray's Open).
func (c *Chrome) showWindow() {
	w := c.o.Frame.Window()
	w.Show()
	w.RequestFocus()
}

// refresh syncs now (the tray's Refresh).
func (c *Chrome) refresh() {
	if c.ws != nil {
		c.ws.SyncNow()
	}
}
