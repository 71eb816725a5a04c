package keychain

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// busOnce guards noBusAutolaunch.
var busOnce sync.Once

// noBusAutolaunch stops go-keyring from starting a D-Bus session bus of
// its own when this process has none (a shell over SSH, a service): godbus
// would run dbus-launch, and the bus daemon, with the keyring daemon it
// activates, would keep running after the command ended. Without a session
// bus there is no keychain: the keychain is reported unavailable instead,
// and Triage Desk says so and works online-only (or the demo keeps its data
// in memory). A bus this process can find is used as before.
func noBusAutolaunch() {
	busOnce.Do(func() {
		if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
			return
		}
		run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
		for _, f := range []string{"bus", "dbus-session"} {
			if _, err := os.Stat(filepath.Join(run, f)); err == nil {
				return // godbus finds this bus by itself
			}
		}
		// An address with no transport: connecting fails at once, and
		// godbus never falls back to dbus-launch.
		_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:")
	})
}
