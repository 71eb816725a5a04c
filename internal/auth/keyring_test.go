package auth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestSessionItemFitsTheWindowsLimit(t *testing.T) {
	now := time.Now()
	id := triage.Identity{SDSUserID: "555031998104", Name: strings.Repeat("N", 80), ODS: "RCD",
		BusinessFunction: triage.RoleServiceProviderClinicianAdmin, OnBehalfOf: "555031999105"}
	// NHS refresh tokens are short opaque strings; allow for a JWT-sized one.
	r := &record{V: recordVersion, Auth: "https://api.service.nhs.uk/oauth2 via https://broker.trust.nhs.uk", RT: strings.Repeat("r", 1500),
		RTExp: now.Add(12 * time.Hour), Since: now, ID: id}
	s, err := r.encode()
	if err != nil || len(s) > MaxRecordBytes {
		t.Fatalf("%d bytes: %v", len(s), err)
	}
	if typical := (&record{V: 1, Auth: "https://api.service.nhs.uk/oauth2", RT: "k5bFd2ZtRWQ0DGvtsiUVwT5yHqT4ZbCh", RTExp: now, Since: now, ID: id}); len(mustJSON(typical)) > 512 {
		t.Errorf("a typical session item is %d bytes", len(mustJSON(typical)))
	}
	r.RT = strings.Repeat("r", 3000)
	if _, err := r.encode(); err == nil {
		t.Error("an item over the keychain limit was encoded")
	}
}

func TestOversizedTokenKeepsWorkingWithAWarning(t *testing.T) {
	env := offlineEnv("td-oversized")
	seedSession(t, env, "rt-1", clinician)
	ex := newFakeExchanger("rt-1")
	m, err := New(Options{Environment: env, Exchanger: &hugeTokens{ex}, LockTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.Restore(context.Background())
	if err != nil || st.State != StateActive || st.Warning != msgKeychain {
		t.Fatalf("%+v %v", st, err)
	}
	tokenOf(t, m)
}

// hugeTokens issues refresh tokens too big for the keychain.
type hugeTokens struct{ *fakeExchanger }

func (h *hugeTokens) Refresh(ctx context.Context, rt string) (*TokenResponse, error) {
	r, err := h.fakeExchanger.Refresh(ctx, rt)
	if err == nil {
		r.RefreshToken += strings.Repeat("x", 4000)
	}
	return r, err
}

func TestDevFileKeyring(t *testing.T) {
	dir := t.TempDir()
	var warn bytes.Buffer
	k := DevFileKeyring{Path: DevSessionFile(filepath.Join(dir, "dev.key")), Warn: &warn}
	if _, err := k.Get("svc", "acct"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("empty file: %v", err)
	}
	if err := k.Set("svc", "acct", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get("svc", "acct"); err != nil || v != "v1" {
		t.Errorf("get %q %v", v, err)
	}
	if !strings.Contains(warn.String(), "PLAIN TEXT") || strings.Count(warn.String(), "WARNING") != 3 {
		t.Errorf("warnings: %q", warn.String())
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(k.Path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v %v", fi.Mode().Perm(), err)
		}
		os.Chmod(k.Path, 0o644)
		if _, err := k.Get("svc", "acct"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("world-readable file: %v", err)
		}
		os.Chmod(k.Path, 0o600)
	}
	if err := k.Delete("svc", "acct"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("svc", "acct"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	os.WriteFile(k.Path, []byte("{broken"), 0o600)
	if _, err := k.Get("svc", "acct"); err == nil {
		t.Error("a corrupt file was read")
	}

	// A whole session through the development file.
	os.Remove(k.Path)
	env := offlineEnv("td-devfile")
	ex := newFakeExchanger("rt-1")
	s, _ := (&record{V: 1, Auth: env.AuthBaseURL, RT: "rt-1", RTExp: time.Now().Add(time.Hour), Since: time.Now(), ID: clinician}).encode()
	k.Set(KeychainService, SessionAccount(env), s)
	m, err := New(Options{Environment: env, Keyring: k, Exchanger: ex, LockTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if st, err := m.Restore(context.Background()); err != nil || st.State != StateActive {
		t.Fatalf("restore from the development file: %+v %v", st, err)
	}
	v, _ := k.Get(KeychainService, SessionAccount(env))
	if strings.Contains(v, `"rt-1"`) {
		t.Error("the rotated token was not saved to the development file")
	}
}
