//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// TestTrayHostIsTheStatusNotifierWatcher: a D-Bus session with no tray
// host is not a tray; one where a host owns the StatusNotifierWatcher name
// is; no session bus at all is not, and none is started to ask.
func TestTrayHostIsTheStatusNotifierWatcher(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if systemTrayHost() {
		t.Fatal("a tray host without a session bus")
	}
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed: the probe against a real session bus cannot be checked here")
	}
	cmd := exec.Command(daemon, "--session", "--nofork", "--print-address=1", "--address=unix:path="+filepath.Join(t.TempDir(), "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon's address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
	if systemTrayHost() {
		t.Error("a session bus with no tray host counted as a tray")
	}
	host, err := dbus.Connect(strings.TrimSpace(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if r, err := host.RequestName(statusNotifierWatcher, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("become the tray host: %v %v", r, err)
	}
	if !systemTrayHost() {
		t.Error("the tray host on the session bus was not found")
	}
}

// TestNoTrayWithoutATrayHost: on a desktop with no D-Bus session (so no
// tray host), no tray icon is made: Fyne's tray panics at exit when it
// could not reach D-Bus. Quit is still in the File menu.
func TestNoTrayWithoutATrayHost(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if trayHostAvailable() {
		t.Fatal("a tray host was found with no D-Bus session")
	}
	a := &quitApp{App: test.NewTempApp(t)}
	loop := bridge.NewLoop()
	d := NewDesktop(a, RunOptions{Post: loop.Post, App: desktopOptions(t, config.EnvironmentChoice{Name: config.EnvDemo}, 5)})
	t.Cleanup(d.Close)
	if !loop.RunUntil(60*time.Second, func() bool { return d.Chrome() != nil }) {
		t.Fatal("Triage Desk did not start")
	}
	if a.trayMenu != nil {
		t.Error("a tray icon was made with no tray host")
	}
	if uitest.MenuItem(d.Window.MainMenu(), "Quit") == nil {
		t.Error("no Quit in the menu")
	}
}
