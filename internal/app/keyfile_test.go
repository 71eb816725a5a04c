package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A development key file other users can read is refused with a plain
// message naming the fix, even in the demo: the data is never quietly put
// in a throwaway store instead (where queued decisions would be lost at
// exit without a word).
func TestWrongModeKeyFileIsRefusedNotReplaced(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not checked on Windows (the profile's ACL protects the file)")
	}
	freshKeychain(t)
	dir := t.TempDir()
	keyfile := filepath.Join(dir, "dev.key")
	if err := os.WriteFile(keyfile, []byte(`{"keys":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := demoOptions(dir, newTraffic())
	o.DevInsecureKeyfile = keyfile
	rt := start(t, o)
	ctx := context.Background()
	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := rt.OpenWorkspace(ctx)
	if err == nil {
		t.Fatal("the workspace opened with a key file other users can read")
	}
	if errors.Is(err, store.ErrKeychainUnavailable) || !errors.Is(err, store.ErrKeyFileUnusable) {
		t.Errorf("error %v: want the key file's own error, not 'no keychain'", err)
	}
	msg := triage.ErrorMessage(err)
	if !strings.Contains(msg, keyfile) || !strings.Contains(msg, "chmod 600") {
		t.Errorf("message %q does not name the file and the fix", msg)
	}
	if st := rt.Status(); st.StorageNotice != "" {
		t.Errorf("fell back to a throwaway store: %q", st.StorageNotice)
	}
}
