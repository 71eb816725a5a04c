package keychain

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func devFile(t *testing.T, warn *bytes.Buffer, flat bool) DevFile {
	t.Helper()
	return DevFile{Path: filepath.Join(t.TempDir(), "dev.key"), Warn: warn, Warning: "WARNING: PLAIN TEXT", Name: "development key file", Flat: flat}
}

func TestDevFileKeepsItemsAndWarns(t *testing.T) {
	for _, flat := range []bool{false, true} {
		var warn bytes.Buffer
		k := devFile(t, &warn, flat)
		if _, err := k.Get("svc", "acct"); !errors.Is(err, ErrNotFound) {
			t.Errorf("flat %v: empty file: %v", flat, err)
		}
		if err := k.Set("svc", "acct", "v1"); err != nil {
			t.Fatal(err)
		}
		if v, err := k.Get("svc", "acct"); err != nil || v != "v1" {
			t.Errorf("flat %v: get %q %v", flat, v, err)
		}
		if !strings.Contains(warn.String(), "PLAIN TEXT") || strings.Count(warn.String(), "WARNING") != 3 {
			t.Errorf("flat %v: warnings: %q", flat, warn.String())
		}
		if runtime.GOOS != "windows" {
			if fi, err := os.Stat(k.Path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("flat %v: mode %v %v", flat, fi.Mode().Perm(), err)
			}
		}
		if err := k.Delete("svc", "acct"); err != nil {
			t.Fatal(err)
		}
		if err := k.Delete("svc", "acct"); !errors.Is(err, ErrNotFound) {
			t.Errorf("flat %v: second delete: %v", flat, err)
		}
		if err := os.WriteFile(k.Path, []byte("{broken"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Get("svc", "acct"); !errors.Is(err, ErrFileUnusable) {
			t.Errorf("flat %v: a corrupt file was read: %v", flat, err)
		}
	}
}

// The layouts stay those of the files written before: the data-key file
// keeps keys by account under "keys", the session file by service and
// account under "items".
func TestDevFileLayouts(t *testing.T) {
	for flat, want := range map[bool]string{true: `"keys"`, false: `"items"`} {
		k := devFile(t, &bytes.Buffer{}, flat)
		if err := k.Set("svc", "acct", "v1"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(k.Path)
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("flat %v: %s %v", flat, b, err)
		}
	}
	k := devFile(t, &bytes.Buffer{}, true)
	if err := os.WriteFile(k.Path, []byte(`{"keys":{"master-key:ab":"a2V5"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get("io.github.triagedesk", "master-key:ab"); err != nil || v != "a2V5" {
		t.Errorf("an existing key file: %q %v", v, err)
	}
}
