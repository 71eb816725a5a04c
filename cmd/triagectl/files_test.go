package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Patient files a command writes (here the vetting pack) are created new
// and owner-only: never over an existing file, whose permissions would be
// kept, and never through a symbolic link, whose target would be written.
func TestExportNeverOverwritesOrWritesThroughALink(t *testing.T) {
	profile := t.TempDir()
	if code, _, errs := vetCLI(t, profile, "sync", "--once"); code != 0 {
		t.Fatalf("sync: exit %d %s", code, errs)
	}
	code, out, errs := vetCLI(t, profile, "worklist", "--json")
	if code != 0 {
		t.Fatalf("worklist: %s", errs)
	}
	ubrn := between(out, `"ubrn": "`, `"`)
	dir := t.TempDir()

	shared := filepath.Join(dir, "shared.pdf")
	writeShared(t, shared, "someone else's file")
	exportRefused(t, profile, ubrn, shared, "already exists", "an existing file")
	if b, _ := os.ReadFile(shared); string(b) != "someone else's file" {
		t.Error("an existing file was overwritten with patient data")
	}
	if fi, _ := os.Stat(shared); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("the existing file's mode changed to %v", fi.Mode().Perm())
	}

	if runtime.GOOS != "windows" {
		target := filepath.Join(t.TempDir(), "target.pdf")
		writeShared(t, target, "target")
		link := filepath.Join(dir, "link.pdf")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		exportRefused(t, profile, ubrn, link, "link", "a symlink")
		if b, _ := os.ReadFile(target); string(b) != "target" {
			t.Error("the export was written through a symlink")
		}
	}

	fresh := filepath.Join(dir, "pack.pdf")
	if code, _, errs = vetCLI(t, profile, "export", ubrn, "--out", fresh); code != 0 {
		t.Fatalf("export: exit %d %q", code, errs)
	}
	if fi, err := os.Stat(fresh); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("pack: %v, mode %v", err, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// writeShared writes content to path readable by all (0o644), as a file
// that is not the clinician's alone.
func writeShared(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exportRefused runs export of ubrn onto out and checks that it exits 1
// with an error containing want; what names out in the failure.
func exportRefused(t *testing.T, profile, ubrn, out, want, what string) {
	t.Helper()
	code, _, errs := vetCLI(t, profile, "export", ubrn, "--out", out)
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("export onto %s: exit %d %q", what, code, errs)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return ""
}

// policy validate reads at most 1 MB and only regular files: /dev/zero, a
// FIFO with no writer and a growing file are refused at once, with a plain
// message, instead of filling memory or waiting for ever.
func TestPolicyValidateRefusesWhatIsNotAPolicyFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, append([]byte(`{"x": "`), bytes.Repeat([]byte("a"), 2<<20)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "policy", "validate", big); code != 1 || !strings.Contains(errs, "larger than 1.0 MiB") {
		t.Errorf("2 MB file: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "policy", "validate", dir); code != 1 || !strings.Contains(errs, "folder") {
		t.Errorf("folder: exit %d %q", code, errs)
	}
	if runtime.GOOS == "windows" {
		return
	}
	if code, _, errs := runCLI(t, "policy", "validate", "/dev/zero"); code != 1 || !strings.Contains(errs, "not a regular file") {
		t.Errorf("/dev/zero: exit %d %q", code, errs)
	}
	fifo := filepath.Join(dir, "policy.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan string, 1)
	go func() {
		code, _, errs := runCLI(t, "policy", "validate", fifo)
		if code != 1 {
			errs = "exit " + string(rune('0'+code)) + ": " + errs
		}
		done <- errs
	}()
	select {
	case errs := <-done:
		if !strings.Contains(errs, "not a regular file") {
			t.Errorf("FIFO: %q", errs)
		}
	case <-time.After(time.Minute):
		// Unblock the reader so the test can end, then fail.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("policy validate waited on a FIFO")
	}
}

// A signal ends any command: one that cannot see its context is abandoned
// shutdownGrace after SIGTERM, instead of swallowing the signal.
func TestSIGTERMEndsACommandThatDoesNotStop(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM is a Unix signal")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mainChildEnv+"=1", graceEnv+"=200ms", "TRIAGECTL_ARGS=hang-for-test")
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "hanging") {
		if cmd.ProcessState != nil {
			t.Fatalf("child ended early: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("SIGTERM did not end the command")
	}
	if cmd.ProcessState.ExitCode() != 130 || !strings.Contains(errb.String(), "stopped before the command finished") {
		t.Errorf("exit %d, stderr %q", cmd.ProcessState.ExitCode(), errb.String())
	}
}
