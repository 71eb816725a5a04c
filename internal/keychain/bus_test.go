package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// busChildEnv makes the test binary a child that reads a key from the real
// OS keychain (no mock) and passes if it was reported unavailable.
const busChildEnv = "TRIAGEDESK_KEYCHAIN_BUS_CHILD"

// TestBusChild is the child: it runs only under TestNoSessionBusIsNotLaunched.
func TestBusChild(t *testing.T) {
	if os.Getenv(busChildEnv) == "" {
		return // a helper process: it runs only as TestNoSessionBusIsNotLaunched's child
	}
	_, err := Get(context.Background(), OS{}, "io.github.triagedesk", "master-key:bus-test")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("keychain without a bus: %v", err)
	}
}

// A first run without a session bus (a shell over SSH, a service) reports
// the keychain unavailable and starts no D-Bus daemon: dbus-launch (here a
// stand-in that records being run) is never run, so nothing is left
// running after the command.
func TestNoSessionBusIsNotLaunched(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service over D-Bus is Linux's keychain")
	}
	if _, err := os.Stat(filepath.Join("/run/user", fmt.Sprint(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a session bus at /run/user: a process finds it without launching one")
	}
	bin := t.TempDir()
	marker := filepath.Join(t.TempDir(), "dbus-launch-ran")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBusChild$")
	env := []string{busChildEnv + "=1", "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if len(kv) > 25 && kv[:25] == "DBUS_SESSION_BUS_ADDRESS=" {
			continue
		}
		if kv[:min(len(kv), 5)] == "PATH=" || kv[:min(len(kv), 5)] == "HOME=" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("dbus-launch was run: a session bus daemon would outlive the command")
	}
}
