package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// TestOpenMakesTheDataFolderPrivate: the folder holding every clinician's
// cache.db and outbox.db is usable by the OS user only, even when it
// already existed with wider access (a folder restored from a backup, made
// by hand, or, on Windows, any folder: it inherits SYSTEM, Administrators
// and whatever its parent allows unless Triage Desk sets its access list).
// Both files, and the folder of a second clinician added later, are inside
// it.
func TestOpenMakesTheDataFolderPrivate(t *testing.T) {
	e := newEnv(t)
	users := filepath.Join(e.profile, "users")
	if err := os.Mkdir(users, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(users, 0o755); err != nil {
		t.Fatal(err)
	}
	s := e.open(t)
	for _, p := range []string{users, s.Dir(), filepath.Join(s.Dir(), OutboxFile), filepath.Join(s.Dir(), CacheFile)} {
		if private, err := atomicfile.IsPrivate(p); err != nil || !private {
			t.Errorf("%s is not private to the OS user after Open: %v, %v", p, private, err)
		}
	}
	if filepath.Dir(s.Dir()) != users {
		t.Fatalf("user folder %s is not inside %s", s.Dir(), users)
	}
}
