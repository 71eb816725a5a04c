// File modes are Unix's; on Windows the development file lives in the
// user's profile, whose access list keeps other users out.

//go:build !windows

package keychain

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// A development file whose mode lets anyone but its owner in is refused,
// through the package's calls as well, with a message naming the file and
// the fix; it is never read, and never replaced.
func TestDevFileOtherThan0600IsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666, 0o777} {
		k := devFile(t, &bytes.Buffer{}, true)
		if err := k.Set("svc", "acct", "secret"); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(k.Path, mode); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(k.Path)
		v, err := Get(context.Background(), k, "svc", "acct")
		var fe *FileError
		if v != "" || !errors.Is(err, ErrFileUnusable) || !errors.As(err, &fe) ||
			!strings.Contains(fe.Error(), "chmod 600 "+k.Path) || !strings.Contains(fe.Error(), mode.String()) {
			t.Errorf("mode %v: %q %v", mode, v, err)
		}
		if err := k.Set("svc", "acct", "other"); !errors.Is(err, ErrFileUnusable) {
			t.Errorf("mode %v: written: %v", mode, err)
		}
		if err := k.Delete("svc", "acct"); !errors.Is(err, ErrFileUnusable) {
			t.Errorf("mode %v: deleted from: %v", mode, err)
		}
		after, _ := os.ReadFile(k.Path)
		if !bytes.Equal(before, after) {
			t.Errorf("mode %v: the refused file was changed", mode)
		}
	}
	k := devFile(t, &bytes.Buffer{}, true)
	if err := k.Set("svc", "acct", "secret"); err != nil {
		t.Fatal(err)
	}
	if v, err := Get(context.Background(), k, "svc", "acct"); err != nil || v != "secret" {
		t.Errorf("mode 0600: %q %v", v, err)
	}
}
