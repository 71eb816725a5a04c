package auth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	m := newManager(t, Options{Environment: env, Exchanger: &hugeTokens{ex}, LockTimeout: -1})
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

// A whole session through the development file (keychain.DevFile, whose
// own tests are in internal/keychain): restored from it, and the rotated
// token saved back to it, with the warning printed.
func TestDevFileKeyring(t *testing.T) {
	var warn bytes.Buffer
	k := DevFileKeyring{Path: DevSessionFile(filepath.Join(t.TempDir(), "dev.key")), Warn: &warn}
	env := offlineEnv("td-devfile")
	ex := newFakeExchanger("rt-1")
	s, _ := (&record{V: 1, Auth: env.AuthBaseURL, RT: "rt-1", RTExp: time.Now().Add(time.Hour), Since: time.Now(), ID: clinician}).encode()
	k.Set(KeychainService, SessionAccount(env), s)
	m := newManager(t, Options{Environment: env, Keyring: k, Exchanger: ex, LockTimeout: -1})
	if st, err := m.Restore(context.Background()); err != nil || st.State != StateActive {
		t.Fatalf("restore from the development file: %+v %v", st, err)
	}
	v, _ := k.Get(KeychainService, SessionAccount(env))
	if strings.Contains(v, `"rt-1"`) {
		t.Error("the rotated token was not saved to the development file")
	}
	if !strings.Contains(warn.String(), "PLAIN TEXT") {
		t.Errorf("warnings: %q", warn.String())
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(k.Path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v %v", fi.Mode().Perm(), err)
		}
	}
}
