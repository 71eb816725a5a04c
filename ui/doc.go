// Package ui is Triage Desk's user interface, built with Fyne: the main
// window with the worklist and the open referral, and the screens around it.
//
// It is the only package besides cmd/triagedesk that imports Fyne, and it
// never imports fyne.io/fyne/v2/app, so every screen can be tested headless
// with Fyne's test driver. Background work reaches widgets only through the
// bridge package (ui/bridge), the single place that calls fyne.Do; every
// shortcut is defined in ui/shortcuts.
//
// # The window frame
//
// NewShellWindow creates the main window and its Frame. The Frame is the
// layout every screen shares, with slots other screens fill:
//
//   - Banner stack (Frame.SetBanner with a BannerSlot): BannerEnvironment
//     (the demo / test-environment strip, set from ShellOptions, always
//     first and fixed), then BannerSignIn, BannerOffline, BannerConflict
//     and BannerNotice, always in that order. SetBanner(slot, nil) removes
//     one.
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
// The vetting window (worklist, referral view, decision panel) is built on
// this frame in the files that follow it.
package ui
