package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// TestCreateNewIsPrivateNeverReplacesAndNeverFollowsALink: patient files
// are created owner-only even where the umask would share them, never
// over an existing file (whose permissions would be kept), and never
// through a symbolic link (whose target would be written), dangling or
// not.
func TestCreateNewIsPrivateNeverReplacesAndNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.pdf")
	if err := CreateNew(path, []byte("patient data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "patient data" {
		t.Errorf("content %q", b)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}

	shared := filepath.Join(dir, "shared.pdf")
	if err := os.WriteFile(shared, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CreateNew(shared, []byte("patient data"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(shared); string(b) != "old" {
		t.Errorf("an existing file was overwritten: %q", b)
	}

	if runtime.GOOS != "windows" {
		target := filepath.Join(dir, "elsewhere.txt")
		if err := os.WriteFile(target, []byte("target"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "link.pdf")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := CreateNew(link, []byte("patient data"), 0o600); !errors.Is(err, fs.ErrExist) {
			t.Errorf("through a symlink: %v", err)
		}
		if b, _ := os.ReadFile(target); string(b) != "target" {
			t.Errorf("the link's target was written: %q", b)
		}
		dangling := filepath.Join(dir, "dangling.pdf")
		if err := os.Symlink(filepath.Join(dir, "nowhere.pdf"), dangling); err != nil {
			t.Fatal(err)
		}
		if err := CreateNew(dangling, []byte("patient data"), 0o600); !errors.Is(err, fs.ErrExist) {
			t.Errorf("through a dangling symlink: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "nowhere.pdf")); !errors.Is(err, fs.ErrNotExist) {
			t.Error("a dangling symlink's target was created")
		}
	}

	p2, err := CreateNewIn(dir, "export.pdf", []byte("second"), 0o600)
	if err != nil || filepath.Base(p2) != "export (2).pdf" {
		t.Errorf("CreateNewIn: %q, %v", p2, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
