package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestWriteFileReplacesWholeAndPrivately: the new content replaces the old
// in one step, the file is owner-only, the folder is created and no
// temporary file is left behind.
func TestWriteFileReplacesWholeAndPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	path := filepath.Join(dir, "settings.json")
	if err := WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ReadPrivate(path)
	if err != nil || string(b) != "new content" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the file", len(entries))
	}
}

// TestWriteFileFailureLeavesTheOldFile: when the write cannot finish (here
// the target is a folder, so the rename fails) the old content is kept and
// the temporary file is removed.
func TestWriteFileFailureLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "busy")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "inside"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("new"), 0o600); err == nil {
		t.Fatal("writing over a non-empty folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("a temporary file was left: %d entries", len(entries))
	}
}

// TestReadPrivateRefusesSharedFiles: a file others can read is refused with
// the fix in the message; a missing one is os.ErrNotExist.
func TestReadPrivateRefusesSharedFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadPrivate(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	path := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPrivate(path)
	if !errors.Is(err, ErrNotPrivate) {
		t.Fatalf("a 0644 file was read: %v", err)
	}
}
