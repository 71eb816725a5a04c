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

func mustPolicy(t *testing.T, js string) *Policy {
	t.Helper()
	if js == "" {
		return nil
	}
	p, problems := ParsePolicy([]byte(js), "test-policy.json")
	if HasErrors(problems) {
		t.Fatalf("test policy has errors:\n%s", joinProblems(problems))
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// TestResolve pins the merge order defaults ← user ← policy, the source and
// locked flag of each setting, and how stored values are held to the
// policy's limits.
func TestResolve(t *testing.T) {
	type want struct {
		key    Key
		value  string // Entry value text
		source Source
		locked bool
	}
	tests := []struct {
		name     string
		policy   string
		user     *UserSettings
		override *EnvironmentChoice
		want     []want
		notices  int
	}{
		{
			name: "defaults on an unmanaged machine",
			want: []want{
				{KeyEnvironment, "demo (Demo – synthetic data)", SourceDefault, false},
				{KeyTheme, "system", SourceDefault, false},
				{KeyTextSize, "normal", SourceDefault, false},
				{KeySyncInterval, "5 minutes", SourceDefault, false},
				{KeySentRetentionDays, "7 days", SourceDefault, false},
				{KeyPrefetch, "yes", SourceDefault, false},
				{KeyLockTimeout, "15 minutes", SourceDefault, true},
				{KeyRedirectPort, "7654 (http://127.0.0.1:7654/callback)", SourceDefault, true},
				{KeyACRValues, "AAL3_ANY", SourceDefault, true},
				{KeyAllowedODSCodes, "(any)", SourceDefault, true},
				{KeyUserMayOverride, "yes", SourceDefault, true},
				{KeyFHIRBaseURL, "(built-in sandbox)", SourceDefault, false},
			},
		},
		{
			name: "user choices beat defaults",
			user: &UserSettings{Theme: ptr(ThemeDark), TextSize: ptr(TextLarger), SyncIntervalMinutes: ptr(10), SentRetentionDays: ptr(7), Prefetch: ptr(false),
				Environment: &EnvironmentChoice{Name: EnvLocal, FHIRBaseURL: "http://127.0.0.1:8080/"}},
			want: []want{
				{KeyTheme, "dark", SourceUser, false},
				{KeyTextSize, "larger", SourceUser, false},
				{KeySyncInterval, "10 minutes", SourceUser, false},
				{KeySentRetentionDays, "7 days", SourceUser, false},
				{KeyPrefetch, "no", SourceUser, false},
				{KeyEnvironment, "local (Local development server)", SourceUser, false},
				{KeyFHIRBaseURL, "http://127.0.0.1:8080", SourceUser, false},
				{KeyAuthBaseURL, "http://127.0.0.1:8080/oauth2-mock", SourceDefault, false},
			},
		},
		{
			name:   "policy beats user and locks",
			policy: `{"theme": "light", "prefetch": true, "sync_interval_minutes": 20, "sent_retention_days": 14, "environment": "int", "client_id": "k", "secret_source": "keychain"}`,
			user:   &UserSettings{Theme: ptr(ThemeDark), Prefetch: ptr(false), SyncIntervalMinutes: ptr(10), SentRetentionDays: ptr(7), Environment: &EnvironmentChoice{Name: EnvDemo}},
			want: []want{
				{KeyTheme, "light", SourcePolicy, true},
				{KeyPrefetch, "yes", SourcePolicy, true},
				{KeySyncInterval, "20 minutes", SourcePolicy, true},
				{KeySentRetentionDays, "14 days", SourcePolicy, true},
				{KeyEnvironment, "int (NHS INT – test environment)", SourcePolicy, true},
				{KeyFHIRBaseURL, IntFHIRBaseURL, SourceDefault, true},
				{KeyClientID, "k", SourcePolicy, true},
				{KeySecretSource, "keychain", SourcePolicy, true},
				{KeyKeychainService, DefaultKeychainService, SourceDefault, true},
				{KeyTextSize, "normal", SourceDefault, false},
				{KeyUserMayOverride, "no", SourceDefault, true},
			},
		},
		{
			name:   "locked without a value keeps the default and ignores the user",
			policy: `{"locked": ["theme", "environment"]}`,
			user:   &UserSettings{Theme: ptr(ThemeDark), Environment: &EnvironmentChoice{Name: EnvInt}},
			want: []want{
				{KeyTheme, "system", SourceDefault, true},
				{KeyEnvironment, "demo (Demo – synthetic data)", SourceDefault, true},
				{KeyTextSize, "normal", SourceDefault, false},
			},
		},
		{
			name:   "user values are held to the policy's limits",
			policy: `{"sync_interval_min_minutes": 15, "sync_interval_max_minutes": 30, "sent_retention_max_days": 10}`,
			user:   &UserSettings{SyncIntervalMinutes: ptr(5), SentRetentionDays: ptr(60)},
			want: []want{
				{KeySyncInterval, "15 minutes", SourcePolicy, false},
				{KeySyncIntervalMin, "15 minutes", SourcePolicy, true},
				{KeySentRetentionDays, "10 days", SourcePolicy, false},
			},
			notices: 2,
		},
		{
			name:   "defaults are held to the policy's limits too",
			policy: `{"sync_interval_max_minutes": 1, "sent_retention_max_days": 5}`,
			want: []want{
				{KeySyncInterval, "1 minute", SourcePolicy, false},
				{KeySyncIntervalMin, "1 minute", SourceDefault, true},
				{KeySentRetentionDays, "5 days", SourcePolicy, false},
			},
		},
		{
			name:   "policy URLs for its environment; user URLs refused on a managed machine",
			policy: `{"environment": "int", "auth_base_url": "https://int.api.service.nhs.uk/oauth2-mock", "client_id": "k", "secret_source": "broker", "broker_url": "https://broker.example.nhs.uk/td"}`,
			user:   &UserSettings{Environment: &EnvironmentChoice{Name: EnvInt, FHIRBaseURL: "https://evil.example.com/FHIR"}},
			want: []want{
				{KeyAuthBaseURL, IntMockAuthBaseURL, SourcePolicy, true},
				{KeyFHIRBaseURL, IntFHIRBaseURL, SourceDefault, true},
				{KeyBrokerURL, "https://broker.example.nhs.uk/td", SourcePolicy, true},
				{KeyKeychainService, "(not used)", SourceDefault, true},
			},
		},
		{
			name:   "user URLs where the policy allows them",
			policy: `{"environment": "int", "client_id": "k", "secret_source": "keychain", "user_may_override_urls": true}`,
			user:   &UserSettings{Environment: &EnvironmentChoice{Name: EnvInt, AuthBaseURL: IntNoSmartcardAuthBaseURL}},
			want: []want{
				{KeyAuthBaseURL, IntNoSmartcardAuthBaseURL, SourceUser, false},
				{KeyUserMayOverride, "yes", SourcePolicy, true},
			},
		},
		{
			name:     "command-line override counts as a user choice",
			user:     &UserSettings{Environment: &EnvironmentChoice{Name: EnvInt}},
			override: &EnvironmentChoice{Name: EnvNHSSandbox},
			want: []want{
				{KeyEnvironment, "nhs-sandbox (NHS sandbox – sample data, no sign-in)", SourceUser, false},
				{KeyAuthBaseURL, "(no sign-in)", SourceDefault, false},
			},
		},
		{
			name: "stored values this version does not know are ignored with a notice",
			user: &UserSettings{Theme: ptr(Theme("purple")), TextSize: ptr(TextSize("huge")), Environment: &EnvironmentChoice{Name: "staging"}},
			want: []want{
				{KeyTheme, "system", SourceDefault, false},
				{KeyTextSize, "normal", SourceDefault, false},
				{KeyEnvironment, "demo (Demo – synthetic data)", SourceDefault, false},
			},
			notices: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Resolve(mustPolicy(t, tt.policy), tt.user, tt.override)
			if err != nil {
				t.Fatal(err)
			}
			entries := map[Key]Entry{}
			for _, e := range s.Entries() {
				entries[e.Key] = e
			}
			for _, w := range tt.want {
				e, ok := entries[w.key]
				if !ok {
					t.Errorf("%s not listed", w.key)
					continue
				}
				if e.Value != w.value || e.Origin.Source != w.source || e.Origin.Locked != w.locked {
					t.Errorf("%s = %q (%s, locked %v); want %q (%s, locked %v)", w.key, e.Value, e.Origin.Source, e.Origin.Locked, w.value, w.source, w.locked)
				}
			}
			if len(s.Notices) != tt.notices {
				t.Errorf("notices %q; want %d", s.Notices, tt.notices)
			}
		})
	}
}

func TestResolveTypedValues(t *testing.T) {
	s, err := Resolve(mustPolicy(t, fullPolicy), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Environment
	if e.Name != EnvInt || e.FHIRBaseURL != IntFHIRBaseURL || e.AuthorizeURL() != IntMockAuthBaseURL+"/authorize" || e.TokenURL() != IntMockAuthBaseURL+"/token" {
		t.Errorf("environment URLs: %+v", e)
	}
	if e.RedirectAddr() != "127.0.0.1:7700" || e.RedirectURL() != "http://127.0.0.1:7700/callback" {
		t.Errorf("redirect %s %s", e.RedirectAddr(), e.RedirectURL())
	}
	if e.Secret != (Secret{Kind: SecretBroker, BrokerURL: "https://broker.example.nhs.uk/triagedesk"}) || e.ClientID != "AbC123-xyz" || e.ACRValues != "AAL2_OR_AAL3_ANY" {
		t.Errorf("sign-in settings: %+v", e)
	}
	if err := e.Check(); err != nil {
		t.Errorf("complete environment fails Check: %v", err)
	}
	if s.LockTimeout != 10*time.Minute || s.SyncInterval != 10*time.Minute || s.SyncIntervalMin != 5*time.Minute || s.SyncIntervalMax != 30*time.Minute {
		t.Errorf("durations: lock %v sync %v [%v, %v]", s.LockTimeout, s.SyncInterval, s.SyncIntervalMin, s.SyncIntervalMax)
	}
	if s.SentRetentionDays != 20 || s.SentRetentionMaxDays != 60 || s.MaxDaysWithoutSync != 5 || s.Prefetch || s.Theme != ThemeDark || s.TextSize != TextLarge {
		t.Errorf("values: %+v", s)
	}
	if !s.ODSAllowed("rxx01") || s.ODSAllowed("RYY") {
		t.Error("ODS allowlist not applied case-insensitively")
	}
	cal := s.Calendar()
	if cal.IsWorkingDay(time.Date(2026, 12, 29, 9, 0, 0, 0, time.UTC)) || cal.IsWorkingDay(time.Date(2026, 12, 25, 9, 0, 0, 0, time.UTC)) {
		t.Error("calendar misses the policy's extra holiday or the built-in ones")
	}
	if !cal.IsWorkingDay(time.Date(2026, 12, 30, 9, 0, 0, 0, time.UTC)) {
		t.Error("an ordinary working day is a holiday")
	}
	if !s.Managed || s.PolicySource != "test-policy.json" || s.Origin(KeyTheme).From != "test-policy.json" {
		t.Errorf("policy source not recorded: %q %+v", s.PolicySource, s.Origin(KeyTheme))
	}
	if TextLarge.Scale() <= TextNormal.Scale() || TextSize("x").Scale() != 1 {
		t.Error("text scales")
	}
}

func TestResolveOverrideRefusedByPolicy(t *testing.T) {
	tests := []struct {
		policy   string
		override EnvironmentChoice
		key      Key
	}{
		{`{"environment": "prod", "client_id": "k", "secret_source": "keychain"}`, EnvironmentChoice{Name: EnvDemo}, KeyEnvironment},
		{`{"locked": ["environment"]}`, EnvironmentChoice{Name: EnvInt}, KeyEnvironment},
		{`{"theme": "dark"}`, EnvironmentChoice{Name: EnvLocal, FHIRBaseURL: "http://127.0.0.1:9000"}, KeyFHIRBaseURL},
	}
	for _, tt := range tests {
		_, err := Resolve(mustPolicy(t, tt.policy), nil, &tt.override)
		var le *LockedError
		if !errors.As(err, &le) || le.Key != tt.key || !errors.Is(err, ErrLocked) {
			t.Errorf("policy %s, override %+v: err %v; want LockedError on %s", tt.policy, tt.override, err, tt.key)
		}
	}
	// The same environment as the policy's is not a conflict.
	if _, err := Resolve(mustPolicy(t, `{"environment": "prod", "client_id": "k", "secret_source": "keychain"}`), nil, &EnvironmentChoice{Name: EnvProd}); err != nil {
		t.Errorf("override equal to the policy refused: %v", err)
	}
	if _, err := Resolve(nil, nil, &EnvironmentChoice{Name: EnvLocal, FHIRBaseURL: "ftp://x"}); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("malformed override URL: %v", err)
	}
}

func TestEnvironmentBuiltinsAndCheck(t *testing.T) {
	for _, n := range EnvironmentNames() {
		e, ok := Builtin(n)
		if !ok || e.Label == "" || e.RedirectPort != DefaultRedirectPort {
			t.Errorf("%s: %+v", n, e)
		}
		if e.Production != (n == EnvProd) {
			t.Errorf("%s production=%v", n, e.Production)
		}
		if _, err := ParseEnvironmentName(string(n)); err != nil {
			t.Error(err)
		}
	}
	if _, ok := Builtin("staging"); ok {
		t.Error("unknown environment accepted")
	}
	if _, err := ParseEnvironmentName("staging"); !strings.Contains(triage.ErrorMessage(err), "use demo, local, nhs-sandbox, int or prod") {
		t.Errorf("unknown name message: %v", err)
	}
	sandbox, _ := Builtin(EnvNHSSandbox)
	if sandbox.NeedsToken || sandbox.Check() != nil {
		t.Errorf("the NHS sandbox needs no sign-in and is complete: %+v %v", sandbox, sandbox.Check())
	}
	prod, _ := Builtin(EnvProd)
	demo, _ := Builtin(EnvDemo)
	local, _ := Builtin(EnvLocal)
	checks := []struct {
		env  Environment
		want string
	}{
		{demo, "The demo server has not started yet"},
		{demo.WithURLs("http://127.0.0.1:4000/", "http://127.0.0.1:4000/oauth2-mock"), ""},
		{local, "No e-RS address is set for the local environment"},
		{local.WithURLs("http://192.168.1.5/FHIR", "http://127.0.0.1/oauth2-mock"), "must start with https:// (plain http is only allowed to 127.0.0.1 or localhost)"},
		{prod, "no client id"},
		{func() Environment { e := prod; e.ClientID = "k"; return e }(), "needs a client secret"},
		{func() Environment { e := prod; e.ClientID = "k"; e.Secret = Secret{Kind: SecretKeychain}; return e }(), ""},
		{func() Environment { e := prod; e.ClientID = "k"; e.Secret = Secret{Kind: SecretBroker}; return e }(), "The token broker address is empty"},
		{func() Environment {
			e := prod
			e.ClientID = "k"
			e.Secret = Secret{Kind: SecretKeychain}
			e.RedirectPort = 80
			return e
		}(), "port 80 is not usable"},
		{prod.WithURLs("http://api.service.nhs.uk/referrals/FHIR", ProdAuthBaseURL), "must start with https://"},
	}
	for i, c := range checks {
		err := c.env.Check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%d: unexpected %v", i, err)
		case c.want != "" && (err == nil || !strings.Contains(triage.ErrorMessage(err), c.want)):
			t.Errorf("%d: %v; want %q", i, err, c.want)
		}
	}
}

func TestPolicyPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"windows", map[string]string{"ProgramData": `D:\ProgramData`}, `D:\ProgramData\TriageDesk\policy.json`},
		{"windows", nil, `C:\ProgramData\TriageDesk\policy.json`},
		{"darwin", nil, "/Library/Application Support/TriageDesk/policy.json"},
		{"linux", nil, "/etc/triagedesk/policy.json"},
	}
	for _, tt := range tests {
		if got := policyPath(tt.goos, env(tt.env)); got != tt.want {
			t.Errorf("%s: %q; want %q", tt.goos, got, tt.want)
		}
	}
}

func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	p, problems, err := LoadPolicyFile(filepath.Join(dir, "absent.json"))
	if err != nil || p.Managed() || len(problems) != 0 {
		t.Fatalf("a missing policy file means an unmanaged machine: %v %v %v", p, problems, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"lock_timeout_minutes\": 0\n}\n"), 0o644)
	_, problems, err = LoadPolicyFile(bad)
	var pe *PolicyError
	if !errors.As(err, &pe) || len(problems) != 1 || pe.Source != bad {
		t.Fatalf("invalid policy: %v %v", err, problems)
	}
	msg := triage.ErrorMessage(err)
	for _, w := range []string{bad, "line 2, column 27", "lock_timeout_minutes must be between 1 and 60", "contact your IT service desk"} {
		if !strings.Contains(msg, w) {
			t.Errorf("user message %q lacks %q", msg, w)
		}
	}
	if _, _, err := LoadPolicyFile(dir); !errors.As(err, &pe) || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a folder as policy: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, make([]byte, maxPolicyBytes+10), 0o644)
	if _, _, err := LoadPolicyFile(big); !errors.As(err, &pe) {
		t.Errorf("oversized policy accepted: %v", err)
	}
	loose := filepath.Join(dir, "loose.json")
	os.WriteFile(loose, []byte(`{"theme": "dark"}`), 0o644)
	os.Chmod(loose, 0o666)
	p, problems, err = LoadPolicyFile(loose)
	if err != nil || !p.Has(KeyTheme) || !strings.Contains(joinProblems(problems), "can be changed by users other than its owner") {
		t.Errorf("world-writable policy: %v %v", err, problems)
	}
}
