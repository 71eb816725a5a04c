// Package frame is the main window's frame that every screen shares: the
// banner stack, the body (the main view or one full-window screen), the
// status bar slot, the main menu and the window's shortcut registry, plus
// the window itself (NewShellWindow, the environment banner, the app icon)
// and the activity watcher that keeps an active session unlocked.
//
// Screens in ui's sub-packages fill the frame's slots; package ui wires
// them together. See package ui for the layout in full.
package frame
