package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestMkdirPrivateMakesAnOpenFolderOwnerOnly: a folder that other
// accounts could read (mode 0755 on Unix; on Windows the access list
// inherited from the temporary folder, which lets SYSTEM and
// Administrators in) becomes usable by the current user only, and so do
// the file already in it and a file written after (Windows inherits the
// folder's list; Unix files keep their own mode, which the store sets).
func TestMkdirPrivateMakesAnOpenFolderOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "users")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	before := filepath.Join(dir, "before.db")
	if err := os.WriteFile(before, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if private, err := IsPrivate(dir); err != nil || private {
		t.Fatalf("precondition: the new folder is already private (%v, %v)", private, err)
	}
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	if private, err := IsPrivate(dir); err != nil || !private {
		t.Fatalf("after MkdirPrivate the folder is not private: %v, %v", private, err)
	}
	after := filepath.Join(dir, "sub", "after.db")
	if err := os.MkdirAll(filepath.Dir(after), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(after, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		for _, f := range []string{before, filepath.Dir(after), after} {
			if private, err := IsPrivate(f); err != nil || !private {
				t.Errorf("%s is not private inside the private folder: %v, %v", f, private, err)
			}
		}
	}
	// Idempotent: a second call on a private folder changes nothing.
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(after)
	if err != nil || string(b) != "sealed" {
		t.Fatalf("the owner cannot read a file in the private folder: %q, %v", b, err)
	}
}

// TestMkdirPrivateCreatesMissingFolders: missing parents are made and the
// named folder is private from the start.
func TestMkdirPrivateCreatesMissingFolders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "users")
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	if private, err := IsPrivate(dir); err != nil || !private {
		t.Fatalf("new folder not private: %v, %v", private, err)
	}
}
