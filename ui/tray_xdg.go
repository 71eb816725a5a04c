//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

// statusNotifierWatcher is the D-Bus name of the desktop's tray host
// (StatusNotifierItem), which Fyne's tray registers its icon with.
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// systemTrayHost reports whether this desktop shows tray icons: a D-Bus
// session bus is already running (none is started to ask) and a tray host
// owns statusNotifierWatcher on it. Without one a tray icon is never seen,
// and Fyne's tray (fyne.io/systray) dereferences a nil D-Bus connection at
// exit when it could not reach D-Bus, so Triage Desk makes no tray there.
func systemTrayHost() bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var owned bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, statusNotifierWatcher).Store(&owned)
	return err == nil && owned
}
