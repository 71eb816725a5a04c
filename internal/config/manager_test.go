package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// newTestManager loads a manager over a temporary profile and the given
// policy file contents ("" for no policy file) and installer values.
func newTestManager(t *testing.T, policy string, installer map[string]string) (*Manager, Options) {
	t.Helper()
	dir := t.TempDir()
	opts := Options{
		ProfileDir:    filepath.Join(dir, "profile"),
		PolicyPath:    filepath.Join(dir, "policy.json"),
		readInstaller: func() (map[string]string, error) { return installer, nil },
	}
	if policy != "" {
		if err := os.WriteFile(opts.PolicyPath, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m, opts
}

func TestManagerSavesAndReloads(t *testing.T) {
	m, opts := newTestManager(t, "", nil)
	steps := []struct {
		name string
		do   func() error
	}{
		{"theme", func() error { return m.SetTheme(ThemeDark) }},
		{"text size", func() error { return m.SetTextSize(TextLargest) }},
		{"prefetch", func() error { return m.SetPrefetch(false) }},
		{"sync", func() error { return m.SetSyncInterval(15 * time.Minute) }},
		{"retention", func() error { return m.SetSentRetentionDays(3) }},
		{"environment", func() error {
			return m.SetEnvironment(EnvironmentChoice{Name: EnvLocal, FHIRBaseURL: "http://127.0.0.1:9000/FHIR/", AuthBaseURL: "http://127.0.0.1:9000/oauth2-mock"})
		}},
		{"role", func() error {
			return m.RememberRole("555000000123", RoleChoice{ODSCode: "r69", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN"})
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	m2, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := m2.Settings()
	if s.Theme != ThemeDark || s.TextSize != TextLargest || s.Prefetch || s.SyncInterval != 15*time.Minute || s.SentRetentionDays != 3 {
		t.Errorf("settings not kept across a restart: %+v", s)
	}
	if s.Environment.Name != EnvLocal || s.Environment.FHIRBaseURL != "http://127.0.0.1:9000/FHIR" || s.Origin(KeyFHIRBaseURL).Source != SourceUser {
		t.Errorf("environment not kept: %+v", s.Environment)
	}
	if r, ok := s.RememberedRole("555000000123"); !ok || r.ODSCode != "R69" {
		t.Errorf("role not remembered: %+v %v", r, ok)
	}
	if _, ok := s.RememberedRole("someone else"); ok {
		t.Error("a role remembered for another user")
	}
	// Written atomically: nothing but settings.json in the folder, owner-only.
	entries, _ := os.ReadDir(opts.ProfileDir)
	if len(entries) != 1 || entries[0].Name() != SettingsFileName {
		t.Errorf("profile folder holds %v", entries)
	}
	if fi, err := os.Stat(m2.SettingsPath()); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("settings file mode %v %v", fi.Mode(), err)
	}
	// Reset returns a setting to its default.
	if err := m2.Reset(KeyTheme); err != nil || m2.Settings().Theme != ThemeSystem || m2.Settings().Origin(KeyTheme).Source != SourceDefault {
		t.Errorf("reset theme: %v %v", err, m2.Settings().Theme)
	}
	if err := m2.Reset(KeyClientID); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("reset of a machine setting: %v", err)
	}
}

func TestManagerRefusesLockedSettings(t *testing.T) {
	policy := `{
  "environment": "prod",
  "client_id": "k",
  "secret_source": "keychain",
  "theme": "light",
  "locked": ["prefetch"],
  "allowed_ods_codes": ["R69"]
}`
	m, opts := newTestManager(t, policy, nil)
	before, _ := os.ReadFile(filepath.Join(opts.ProfileDir, SettingsFileName))
	tests := []struct {
		name string
		key  Key
		do   func() error
	}{
		{"theme set by policy", KeyTheme, func() error { return m.SetTheme(ThemeDark) }},
		{"prefetch locked", KeyPrefetch, func() error { return m.SetPrefetch(false) }},
		{"environment set by policy", KeyEnvironment, func() error { return m.SetEnvironment(EnvironmentChoice{Name: EnvDemo}) }},
		{"URLs on a managed machine", KeyFHIRBaseURL, func() error {
			return m.SetEnvironment(EnvironmentChoice{Name: EnvProd, FHIRBaseURL: "https://elsewhere.example.com"})
		}},
		{"reset a locked setting", KeyTheme, func() error { return m.Reset(KeyTheme) }},
	}
	for _, tt := range tests {
		err := tt.do()
		var le *LockedError
		if !errors.As(err, &le) || le.Key != tt.key {
			t.Errorf("%s: err %v; want LockedError on %s", tt.name, err, tt.key)
			continue
		}
		if !errors.Is(err, ErrLocked) || triage.ErrorCodeOf(err) != triage.EFORBIDDEN {
			t.Errorf("%s: not matched as ErrLocked/EFORBIDDEN", tt.name)
		}
		if msg := triage.ErrorMessage(err); !strings.Contains(msg, "is managed by your organisation") {
			t.Errorf("%s: user message %q", tt.name, msg)
		}
	}
	after, _ := os.ReadFile(filepath.Join(opts.ProfileDir, SettingsFileName))
	if string(before) != string(after) {
		t.Error("a refused change was written")
	}
	if m.Settings().Theme != ThemeLight || !m.Settings().Prefetch {
		t.Error("a refused change took effect")
	}
	// Unlocked settings still work, and the ODS allowlist is enforced.
	if err := m.SetTextSize(TextLarge); err != nil {
		t.Errorf("unlocked setting refused: %v", err)
	}
	if err := m.RememberRole("u1", RoleChoice{ODSCode: "RXX", BusinessFunction: "SERVICE_PROVIDER_CLINICIAN"}); triage.ErrorCodeOf(err) != triage.EFORBIDDEN {
		t.Errorf("role for a disallowed organisation: %v", err)
	}
}

func TestManagerRejectsBadValues(t *testing.T) {
	m, _ := newTestManager(t, `{"sync_interval_min_minutes": 5, "sync_interval_max_minutes": 30}`, nil)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"sync below policy minimum", m.SetSyncInterval(2 * time.Minute), "between 5 and 30 minutes (limits set by your organisation)"},
		{"sync not whole minutes", m.SetSyncInterval(90 * time.Second), "whole minutes"},
		{"retention zero", m.SetSentRetentionDays(0), "between 1 and 365 days"},
		{"theme unknown", m.SetTheme("sepia"), "choose system, light or dark"},
		{"text size unknown", m.SetTextSize("huge"), "is not a text size"},
		{"environment unknown", m.SetEnvironment(EnvironmentChoice{Name: "staging"}), "use demo, local"},
		{"local without address", m.SetEnvironment(EnvironmentChoice{Name: EnvLocal}), "Enter the address of the development server"},
		{"role without user", m.RememberRole(" ", RoleChoice{ODSCode: "RXX", BusinessFunction: "X"}), "user id is missing"},
		{"role bad ODS", m.RememberRole("u", RoleChoice{ODSCode: "R-1", BusinessFunction: "X"}), "not an ODS code"},
		{"role no function", m.RememberRole("u", RoleChoice{ODSCode: "RXX"}), "business function is missing"},
	}
	for _, tt := range tests {
		if triage.ErrorCodeOf(tt.err) != triage.EINVALID || !strings.Contains(triage.ErrorMessage(tt.err), tt.want) {
			t.Errorf("%s: %v; want EINVALID with %q", tt.name, tt.err, tt.want)
		}
	}
	// Unmanaged machine: an environment on plain http to another host is refused.
	m2, _ := newTestManager(t, "", nil)
	if err := m2.SetEnvironment(EnvironmentChoice{Name: EnvInt, FHIRBaseURL: "http://int.example.com/FHIR"}); !strings.Contains(triage.ErrorMessage(err), "must start with https://") {
		t.Errorf("http URL for int: %v", err)
	}
}

func TestManagerUnreadableSettingsKeptAside(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, SettingsFileName), []byte(`{"theme": "dark",`), 0o600)
	m, err := Load(Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"), readInstaller: func() (map[string]string, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Settings()
	if s.Theme != ThemeSystem || len(s.Notices) != 1 || !strings.Contains(s.Notices[0], "could not be read") {
		t.Fatalf("corrupt settings: theme %s, notices %q", s.Theme, s.Notices)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, SettingsFileName+".unreadable-*"))
	if len(matches) != 1 {
		t.Fatalf("old file not kept aside: %v", matches)
	}
	if b, _ := os.ReadFile(matches[0]); string(b) != `{"theme": "dark",` {
		t.Error("the kept file was altered")
	}
	if err := m.SetTheme(ThemeDark); err != nil {
		t.Fatalf("saving after a reset: %v", err)
	}
}

func TestManagerSaveFailureKeepsState(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	m, err := Load(Options{ProfileDir: profile, PolicyPath: filepath.Join(dir, "none.json"), readInstaller: func() (map[string]string, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	// A file where the profile folder should be: saving must fail.
	os.WriteFile(profile, []byte("x"), 0o600)
	err = m.SetTheme(ThemeDark)
	if triage.ErrorCodeOf(err) != triage.EUNAVAILABLE || !strings.Contains(triage.ErrorMessage(err), "could not be saved") {
		t.Fatalf("save failure: %v", err)
	}
	if m.Settings().Theme != ThemeSystem {
		t.Error("an unsaved change took effect")
	}
}

func TestLoadFailsClosedOnBadPolicy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	os.WriteFile(path, []byte(`{"environment": "prod", "lock_timeout": 5}`), 0o644)
	_, err := Load(Options{ProfileDir: dir, PolicyPath: path, readInstaller: func() (map[string]string, error) { return nil, nil }})
	var pe *PolicyError
	if !errors.As(err, &pe) || !strings.Contains(triage.ErrorMessage(err), `"lock_timeout" is not a setting`) {
		t.Fatalf("a policy with a typo must stop the app: %v", err)
	}
	_, err = Load(Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "absent"), Override: &EnvironmentChoice{Name: "staging"}, readInstaller: func() (map[string]string, error) { return nil, nil }})
	if triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("unknown override environment: %v", err)
	}
	_, err = Load(Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "absent"), readInstaller: func() (map[string]string, error) { return nil, errors.New("access denied") }})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("unreadable installer settings: %v", err)
	}
}

func TestManagerOnChange(t *testing.T) {
	m, _ := newTestManager(t, `{"theme": "dark"}`, nil)
	var got []time.Duration
	cancel := m.OnChange(func(s *Settings) { got = append(got, s.SyncInterval) })
	if err := m.SetSyncInterval(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := m.SetTheme(ThemeLight); err == nil {
		t.Fatal("locked theme changed")
	}
	cancel()
	if err := m.SetSyncInterval(20 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 10*time.Minute {
		t.Errorf("subscriber saw %v; want one change to 10m (none for the refused change or after cancel)", got)
	}
}

func TestManagerConcurrentUse(t *testing.T) {
	m, _ := newTestManager(t, "", nil)
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 10 {
				_ = m.SetSyncInterval(time.Duration(2+(i+j)%10) * time.Minute)
				_ = m.Settings().SyncInterval
			}
		}()
	}
	for range 4 {
		<-done
	}
	if s := m.Settings().SyncInterval; s < 2*time.Minute || s > 11*time.Minute {
		t.Errorf("interval %v after concurrent changes", s)
	}
}
