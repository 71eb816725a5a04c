// Package ui is Triage Desk's desktop shell, built with Fyne: it starts
// the app (NewDesktop), opens the screens and wires them together with the
// chrome (status bar, banners, menus, tray, notifications, quit). The
// screens live in sub-packages by feature: ui/vetting (the worklist and
// the open referral), ui/advice (Advice and Guidance), ui/outbox,
// ui/audit, ui/session (sign-in and lock), ui/settings and ui/about, built
// from ui/frame (the window), ui/widgets and ui/style.
//
// Only ui and its sub-packages import Fyne, and only ui/fyneapp (for
// cmd/triagedesk) imports fyne.io/fyne/v2/app, so every screen can be
// tested headless with Fyne's test driver. The UI reaches Triage Desk's
// services only through internal/app (Runtime and the workspace's
// methods), never the store, engine, e-RS client, sign-in or sandbox
// directly; internal/archtest enforces it. Background work reaches
// widgets only through the bridge package (ui/bridge), the single place
// that calls fyne.Do; every shortcut is defined in ui/shortcuts.
//
// # The window frame
//
// frame.NewShellWindow (ui/frame) creates the main window and its Frame. The Frame is the
// layout every screen shares, with slots other screens fill:
//
//   - Banner stack (Frame.SetBanner with a BannerSlot): BannerEnvironment
//     (the demo / test-environment strip, set from ShellOptions, always
//     first and fixed), then BannerSignIn, BannerOffline,
//     BannerOutboxDamage, BannerConflict and BannerNotice, always in that
//     order. SetBanner(slot, nil) removes one.
//   - Body: the main view (Frame.SetMain: the worklist | referral split),
//     or one full-window screen in its place (Frame.ShowScreen(name, obj)
//     for sign-in, lock, loading; Frame.CloseScreen returns to the main
//     view). While a screen shows, the main view is out of the window and
//     every shortcut is off, so a lock screen hides patient data and keys
//     cannot act behind it. Frame.Screen names what shows;
//     Frame.OnScreenChanged reports changes.
//   - Status bar slot (Frame.SetStatusBar): along the bottom, visible over
//     screens too, so it must not show patient data.
//   - Main menu: File, Worklist, Referral, Document, View, Help (see
//     shortcuts.Menus) already hold every shortcut's entry; screens add
//     theirs with Frame.AddMenuItem(menu, item) (a new menu name is placed
//     before Help).
//   - Shortcuts: Frame.Shortcuts() is the window's shortcuts.Registry;
//     a screen registers the handler of each action it owns with
//     Registry.Handle(id, fn).
//
// # The main view
//
// Once the workspace is open, vetting.NewWorkTabs (ui/vetting) is the main
// view: the vetting view (worklist | referral panel | decision panel; see
// that package) and the Advice and Guidance screen (ui/advice) as two
// tabs, Referrals for Review and Advice and Guidance, switched with Ctrl+1
// and Ctrl+2. The chrome opens the outbox (ui/outbox), the audit log
// (ui/audit), the sign-in and lock screens (ui/session), settings and
// About over it.
//
// # Start-up
//
// cmd/triagedesk calls NewDesktop: the window shows at once behind a
// loading screen while app.Start (and, in the demo, the mock sign-in) and
// Runtime.OpenWorkspace run off the UI goroutine; then the vetting view
// opens and the engine runs on a goroutine the Bridge owns. Desktop.Close
// keeps the layout and drafts, joins every goroutine and closes the
// Runtime.
package ui
