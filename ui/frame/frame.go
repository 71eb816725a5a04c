package frame

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// BannerSlot is a place in the banner stack at the top of the main window.
// Banners always appear in slot order, whatever order they were set in.
type BannerSlot int

// The banner slots, top to bottom.
const (
	// BannerEnvironment is the demo / test-environment strip. NewFrame
	// fills it from ShellOptions; it is always first and cannot be
	// replaced or removed.
	BannerEnvironment BannerSlot = iota
	// BannerSignIn says sign-in is needed (queued decisions are kept).
	BannerSignIn
	// BannerOffline says e-RS cannot be reached, with the last sync time.
	BannerOffline
	// BannerOutboxDamage says records in the file of the clinician's
	// decisions are damaged, what that means and what to do.
	BannerOutboxDamage
	// BannerConflict says decisions were not applied because the referral
	// changed in e-RS, until the clinician acknowledges them.
	BannerConflict
	// BannerNotice is for other app-wide notices (storage, policy).
	BannerNotice
)

// Screen names of the full-window screens the vetting window shows itself.
const (
	// ScreenLoading covers the window while start-up work runs.
	ScreenLoading = "loading"
	// ScreenStartFailed explains a start-up failure.
	ScreenStartFailed = "start-failed"
)

// Frame is the main window's layout, shared by every screen:
//
//	┌ banner stack: environment, sign-in needed, offline, notice ┐
//	│ body: the main view (worklist | referral), or one          │
//	│       full-window screen (loading, sign-in, lock) instead  │
//	└ status bar slot ───────────────────────────────────────────┘
//
// plus the window's main menu, which screens extend with AddMenuItem, and
// the shortcut Registry. Use a Frame on the UI goroutine only.
type Frame struct {
	win  fyne.Window
	opts ShellOptions
	keys *shortcuts.Registry

	banners   map[BannerSlot]fyne.CanvasObject
	bannerBox *fyne.Container
	body      *fyne.Container
	status    *fyne.Container
	main      fyne.CanvasObject
	screen    string
	screenObj fyne.CanvasObject
	// page is true while the screen is one of the app's pages (ShowPage).
	page      bool
	listeners []func(string)

	menus map[shortcuts.Menu]*fyne.Menu
	extra []*fyne.Menu // menus added by name that are not in shortcuts.Menus

	activity *ActivityWatcher // the window's content, reporting input (SetOnActivity)

	pageEscape func() // Esc on a page (SetOnPageEscape)
}

// NewFrame lays out w's content as a Frame, installs the shortcut Registry
// on its canvas and sets its main menu (with every shortcut's menu entry;
// an entry is disabled until a screen registers its handler).
func NewFrame(w fyne.Window, opts ShellOptions) *Frame {
	f := &Frame{win: w, opts: opts, keys: shortcuts.NewRegistry(), banners: map[BannerSlot]fyne.CanvasObject{},
		bannerBox: container.NewVBox(), body: container.NewStack(), status: container.NewStack(),
		menus: map[shortcuts.Menu]*fyne.Menu{}}
	if b := EnvironmentBanner(opts); b != nil {
		f.banners[BannerEnvironment] = b
	}
	f.layoutBanners()
	f.main = container.NewCenter(widget.NewLabel("No referrals downloaded yet."))
	f.body.Objects = []fyne.CanvasObject{f.main}
	// Shortcuts act on the main view only: never behind a full-window
	// screen such as the lock screen. On a page (outbox, settings, audit,
	// About) the app-wide ones stay on, so the clinician can lock the
	// screen or move between pages without going back first.
	// Quit works on every screen: it warns first when decisions are unsent.
	f.keys.SetGate(func(id shortcuts.ID) bool {
		return f.screen == "" || (f.page && pageShortcuts[id]) || id == shortcuts.Quit
	})
	for _, d := range shortcuts.Defs {
		m := f.menu(d.Menu)
		if d.ID == shortcuts.Quit {
			m.Items = append(m.Items, fyne.NewMenuItemSeparator())
		}
		m.Items = append(m.Items, f.keys.MenuItem(d.ID))
	}
	f.keys.Install(w.Canvas())
	// Esc leaves a page (outbox, settings, audit log, About) when no
	// dialog is over it: the page's own back button, from the keyboard.
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape && f.page && f.pageEscape != nil && w.Canvas().Overlays().Top() == nil {
			f.pageEscape()
			return
		}
		f.keys.TypedKey(ev)
	})
	f.activity = NewActivityWatcher(widgets.WithTips(w.Canvas(), container.NewBorder(f.bannerBox, f.status, nil, nil, f.body)), nil)
	w.SetContent(f.activity)
	f.RefreshMenu()
	return f
}

// SetOnActivity calls fn on the clinician's input in the window (pointer
// movement and clicks it sees, key presses without a focused field, typing
// polled by the caller): the session's inactivity lock is put off by it.
// Nil stops it.
func (f *Frame) SetOnActivity(fn func()) { f.activity.touch = fn }

// SetOnPageEscape calls fn when Esc is pressed on a page (ShowPage) with
// no dialog over it and no field holding the keyboard: it leaves the page.
func (f *Frame) SetOnPageEscape(fn func()) { f.pageEscape = fn }

// Window returns the frame's window.
func (f *Frame) Window() fyne.Window { return f.win }

// Options returns the options the frame was made with.
func (f *Frame) Options() ShellOptions { return f.opts }

// Shortcuts returns the window's shortcut Registry: screens register the
// handlers of the actions they own with Handle.
func (f *Frame) Shortcuts() *shortcuts.Registry { return f.keys }

// SetBanner shows obj in the slot (nil removes it). The environment banner
// cannot be changed: SetBanner(BannerEnvironment, …) is ignored.
func (f *Frame) SetBanner(slot BannerSlot, obj fyne.CanvasObject) {
	if slot == BannerEnvironment {
		return
	}
	if obj == nil {
		delete(f.banners, slot)
	} else {
		f.banners[slot] = obj
	}
	f.layoutBanners()
}

// Banner returns what the slot shows, or nil.
func (f *Frame) Banner(slot BannerSlot) fyne.CanvasObject { return f.banners[slot] }

func (f *Frame) layoutBanners() {
	slots := make([]BannerSlot, 0, len(f.banners))
	for s := range f.banners {
		slots = append(slots, s)
	}
	slices.Sort(slots)
	objs := make([]fyne.CanvasObject, len(slots))
	for i, s := range slots {
		objs[i] = f.banners[s]
	}
	f.bannerBox.Objects = objs
	f.bannerBox.Refresh()
}

// SetStatusBar puts obj in the status bar slot at the bottom of the window
// (nil empties it). It stays visible over full-window screens, so it must
// not show patient data.
func (f *Frame) SetStatusBar(obj fyne.CanvasObject) {
	if obj == nil {
		f.status.Objects = nil
	} else {
		f.status.Objects = []fyne.CanvasObject{obj}
	}
	f.status.Refresh()
}

// SetMain sets the main view (the worklist and referral split). It shows
// unless a full-window screen is up.
func (f *Frame) SetMain(obj fyne.CanvasObject) {
	f.main = obj
	if f.screen == "" {
		f.body.Objects = []fyne.CanvasObject{obj}
		f.body.Refresh()
	}
}

// Main returns the main view.
func (f *Frame) Main() fyne.CanvasObject { return f.main }

// ShowScreen shows obj in place of the main view (sign-in, lock, loading),
// under the banners and above the status bar. The main view is taken out
// of the window, so nothing of it can be seen or reached, and shortcuts are
// off until CloseScreen. name identifies the screen (Screen).
func (f *Frame) ShowScreen(name string, obj fyne.CanvasObject) { f.show(name, obj, false) }

// ShowPage shows one of the app's pages (outbox, settings, audit log,
// About) in place of the main view, as ShowScreen does, except that the
// app-wide shortcuts (lock, settings, outbox) stay on.
func (f *Frame) ShowPage(name string, obj fyne.CanvasObject) { f.show(name, obj, true) }

// pageShortcuts are the shortcuts that work on a page.
var pageShortcuts = map[shortcuts.ID]bool{shortcuts.Lock: true, shortcuts.Settings: true, shortcuts.ShowOutbox: true}

func (f *Frame) show(name string, obj fyne.CanvasObject, page bool) {
	if name == "" {
		name = "screen"
	}
	f.screen, f.screenObj, f.page = name, obj, page
	f.body.Objects = []fyne.CanvasObject{obj}
	f.body.Refresh()
	f.win.Canvas().Unfocus()
	f.changed()
}

// CloseScreen returns from a full-window screen to the main view.
func (f *Frame) CloseScreen() {
	if f.screen == "" {
		return
	}
	f.screen, f.screenObj, f.page = "", nil, false
	f.body.Objects = []fyne.CanvasObject{f.main}
	f.body.Refresh()
	f.changed()
}

// Screen returns the name of the full-window screen showing, or "" when
// the main view shows.
func (f *Frame) Screen() string { return f.screen }

// OnScreenChanged calls fn with the new screen name ("" for the main view)
// whenever ShowScreen or CloseScreen changes it.
func (f *Frame) OnScreenChanged(fn func(name string)) { f.listeners = append(f.listeners, fn) }

func (f *Frame) changed() {
	f.keys.Refresh()
	f.RefreshMenu()
	for _, l := range f.listeners {
		l(f.screen)
	}
}

func (f *Frame) menu(name shortcuts.Menu) *fyne.Menu {
	if m, ok := f.menus[name]; ok {
		return m
	}
	m := fyne.NewMenu(string(name))
	f.menus[name] = m
	if !slices.Contains(shortcuts.Menus, name) {
		f.extra = append(f.extra, m)
	}
	return m
}

// AddMenuItem appends item to the named menu (one of shortcuts.Menus, or a
// new menu, placed before Help) and refreshes the main menu. A nil item
// adds a separator.
func (f *Frame) AddMenuItem(menu shortcuts.Menu, item *fyne.MenuItem) {
	if item == nil {
		item = fyne.NewMenuItemSeparator()
	}
	m := f.menu(menu)
	// The desktop driver ends the first menu with a separator and Quit;
	// new items go before them, so there is only ever one Quit, last.
	if n := len(m.Items); n > 0 && m.Items[n-1].IsQuit {
		at := n - 1
		if at > 0 && m.Items[at-1].IsSeparator {
			at--
		}
		m.Items = slices.Insert(m.Items, at, item)
	} else {
		m.Items = append(m.Items, item)
	}
	f.RefreshMenu()
}

// MainMenu returns the window's main menu as last set.
func (f *Frame) MainMenu() *fyne.MainMenu { return f.win.MainMenu() }

// RefreshMenu rebuilds the window's main menu from the menus (after items
// were changed or enabled). Empty menus are left out.
func (f *Frame) RefreshMenu() {
	var ms []*fyne.Menu
	add := func(m *fyne.Menu) {
		if m != nil && len(m.Items) > 0 {
			ms = append(ms, m)
		}
	}
	for _, name := range shortcuts.Menus {
		if name == shortcuts.MenuHelp {
			for _, m := range f.extra {
				add(m)
			}
		}
		add(f.menus[name])
	}
	mm := fyne.NewMainMenu(ms...)
	if cur := f.win.MainMenu(); cur != nil && len(cur.Items) == len(ms) {
		cur.Items = ms
		cur.Refresh()
		return
	}
	f.win.SetMainMenu(mm)
}

// SetEnvironment marks the frame for the environment in opts when it
// differs from the one it was made for (started before the environment was
// known, the demo by default): the environment banner is rebuilt.
func (f *Frame) SetEnvironment(opts ShellOptions) {
	if opts.Demo == f.opts.Demo && opts.Environment == f.opts.Environment {
		return
	}
	f.opts = opts
	delete(f.banners, BannerEnvironment)
	if b := EnvironmentBanner(opts); b != nil {
		f.banners[BannerEnvironment] = b
	}
	f.layoutBanners()
}

// BannerStack is the stack of banners along the top, as shown.
func (f *Frame) BannerStack() fyne.CanvasObject { return f.bannerBox }
