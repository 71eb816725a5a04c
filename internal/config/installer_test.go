package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
)

func TestInstallerPropertiesCoverThePolicy(t *testing.T) {
	props := InstallerProperties()
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.Property] {
			t.Errorf("property %s listed twice", p.Property)
		}
		seen[p.Property] = true
		if _, ok := specFor(p.Key); !ok {
			t.Errorf("property %s maps to unknown key %s", p.Property, p.Key)
		}
		if p.Property != strings.ToUpper(p.Property) || strings.ContainsAny(p.Property, " .-") {
			t.Errorf("%s is not a public MSI property name (upper case, no punctuation)", p.Property)
		}
	}
	for _, want := range []string{"ENVIRONMENT", "CLIENT_ID", "REDIRECT_PORT", "ODS_ALLOWLIST", "BROKER_URL", "SECRET_SOURCE", "FHIR_BASE_URL", "AUTH_BASE_URL", "LOCK_TIMEOUT_MINUTES"} {
		if !seen[want] {
			t.Errorf("installer property %s missing", want)
		}
	}
	if len(props) != len(Keys()) {
		t.Errorf("%d properties for %d policy keys", len(props), len(Keys()))
	}
}

// TestPolicyFromInstaller converts what msiexec's properties leave in the
// registry into the policy, the way the app does at start-up on Windows.
func TestPolicyFromInstaller(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		check  func(t *testing.T, s *Settings)
		want   []string // problems, in order
	}{
		{
			name: "typical silent install",
			values: map[string]string{
				"environment": "int", "client_id": "AbC123", "secret_source": "keychain", "redirect_port": "7700",
				"allowed_ods_codes": "r69; RXX01,  RA7", "lock_timeout_minutes": "10", "prefetch": "0",
				"locked": "theme text_size", "extra_bank_holidays": "2026-12-29",
				// Properties not given on the command line leave empty values.
				"broker_url": "", "auth_base_url": "  ", "theme": "",
			},
			check: func(t *testing.T, s *Settings) {
				e := s.Environment
				if e.Name != EnvInt || e.ClientID != "AbC123" || e.Secret.Kind != SecretKeychain || e.RedirectPort != 7700 || e.AuthBaseURL != IntAuthBaseURL {
					t.Errorf("environment %+v", e)
				}
				if strings.Join(s.AllowedODSCodes, ",") != "R69,RXX01,RA7" || s.LockTimeout.Minutes() != 10 || s.Prefetch {
					t.Errorf("settings %+v", s)
				}
				if !s.Locked(KeyTheme) || !s.Locked(KeyTextSize) || s.Locked(KeySyncInterval) {
					t.Error("LOCKED_SETTINGS not applied")
				}
				if len(s.ExtraBankHolidays) != 1 {
					t.Error("bank holiday lost")
				}
				if o := s.Origin(KeyClientID); o.Source != SourcePolicy || o.From != InstallerRegistryKey {
					t.Errorf("client id origin %+v", o)
				}
			},
		},
		{
			name:   "broker",
			values: map[string]string{"environment": "prod", "client_id": "k", "secret_source": "broker", "broker_url": "https://broker.example.nhs.uk/"},
			check: func(t *testing.T, s *Settings) {
				if s.Environment.Secret.BrokerURL != "https://broker.example.nhs.uk" || !s.Environment.Production {
					t.Errorf("%+v", s.Environment)
				}
			},
		},
		{
			name:   "booleans and numbers in the forms Group Policy writes",
			values: map[string]string{"prefetch": "Yes", "user_may_override_urls": "1", "sync_interval_minutes": "+10"},
			check: func(t *testing.T, s *Settings) {
				if !s.Prefetch || !s.UserMayOverrideURLs || s.SyncInterval.Minutes() != 10 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name:   "mistakes name the registry value and the property",
			values: map[string]string{"redirect_port": "seventy", "lock_timeout_minutes": "120", "prefetch": "maybe", "allowed_ods_codes": "RXX,R 1", "colour": "blue"},
			want: []string{
				`registry value "allowed_ods_codes" (installer property ODS_ALLOWLIST): "R" is not an ODS code`,
				`registry value "allowed_ods_codes" (installer property ODS_ALLOWLIST): "1" is not an ODS code`,
				`registry value "colour" (installer property COLOUR): "colour" is not a setting Triage Desk knows`,
				`registry value "lock_timeout_minutes" (installer property LOCK_TIMEOUT_MINUTES): lock_timeout_minutes must be between 1 and 60 minutes (found 120)`,
				`registry value "prefetch" (installer property PREFETCH): prefetch must be true or false`,
				`registry value "redirect_port" (installer property REDIRECT_PORT): redirect_port must be a whole number (found the text "seventy")`,
			},
		},
		{
			name:   "cross-setting checks too",
			values: map[string]string{"environment": "prod", "client_id": "k", "secret_source": "broker"},
			want:   []string{`registry value "secret_source" (installer property SECRET_SOURCE): secret_source is "broker" but broker_url is missing`},
		},
		{
			name:   "nothing given is an unmanaged machine",
			values: map[string]string{"environment": "", "client_id": ""},
			check: func(t *testing.T, s *Settings) {
				if s.Managed || !s.UserMayOverrideURLs {
					t.Error("empty installer values made the machine managed")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, problems := PolicyFromInstaller(tt.values, InstallerRegistryKey)
			got := make([]string, len(problems))
			for i, pr := range problems {
				got[i] = pr.String()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q\nwant %q", i, got[i], tt.want[i])
				}
			}
			if tt.check != nil {
				s, err := Resolve(p, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, s)
			}
		})
	}
}

// TestInstallerAndFileLayered: the policy file wins key by key over the
// installer's values, locked lists combine, and the checks run on the result.
func TestInstallerAndFileLayered(t *testing.T) {
	installer := map[string]string{"environment": "int", "client_id": "from-msi", "secret_source": "broker", "locked": "theme", "lock_timeout_minutes": "30"}
	file := `{
  "client_id": "from-file",
  "broker_url": "https://broker.example.nhs.uk",
  "locked": ["prefetch"]
}`
	m, _ := newTestManager(t, file, installer)
	s := m.Settings()
	if s.Environment.ClientID != "from-file" || s.Environment.Secret.BrokerURL != "https://broker.example.nhs.uk" || s.LockTimeout.Minutes() != 30 {
		t.Errorf("layering: %+v lock %v", s.Environment, s.LockTimeout)
	}
	if !s.Locked(KeyTheme) || !s.Locked(KeyPrefetch) {
		t.Error("locked lists not combined")
	}
	if o := s.Origin(KeyLockTimeout); o.From != InstallerRegistryKey {
		t.Errorf("lock timeout origin %+v", o)
	}
	if o := s.Origin(KeyClientID); !strings.HasSuffix(o.From, "policy.json") {
		t.Errorf("client id origin %+v", o)
	}
	if !strings.Contains(s.PolicySource, InstallerRegistryKey) || !strings.Contains(s.PolicySource, "policy.json") {
		t.Errorf("policy source %q", s.PolicySource)
	}

	// Neither source alone is complete; the file's broker_url satisfies the
	// installer's secret_source, so there is no problem. Without the file it fails.
	_, problems, err := loadMachinePolicy("/nonexistent/policy.json", func() (map[string]string, error) { return installer, nil })
	if err == nil || !slices.ContainsFunc(problems, func(p Problem) bool { return strings.Contains(p.Message, "broker_url is missing") }) {
		t.Errorf("installer values alone: %v %v", err, problems)
	}
}

// TestShippedExamplePolicy: the example installed with every package is valid.
func TestShippedExamplePolicy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "packaging", "policy.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, problems := ParsePolicy(data, "policy.example.json")
	if len(problems) != 0 {
		t.Fatalf("example policy:\n%s", joinProblems(problems))
	}
	if _, err := Resolve(p, nil, nil); err != nil {
		t.Fatal(err)
	}
}
