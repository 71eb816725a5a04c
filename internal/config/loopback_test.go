package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// The NHS sandbox and local development servers run on plain http on this
// computer, so plain http is allowed to a loopback address in every test
// environment; anywhere else, and for live e-RS, only https is.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		name EnvironmentName
		url  string
		want string // "" accepted
	}{
		{EnvNHSSandbox, "http://127.0.0.1:9000/referrals/FHIR", ""},
		{EnvNHSSandbox, "http://localhost:9000/referrals/FHIR", ""},
		{EnvNHSSandbox, "http://[::1]:9000/referrals/FHIR", ""},
		{EnvLocal, "http://127.0.0.1:9100/FHIR", ""},
		{EnvInt, "http://127.0.0.1:8443/referrals/FHIR", ""},
		{EnvNHSSandbox, "http://sandbox.api.service.nhs.uk/referrals/FHIR", "plain http is only allowed to 127.0.0.1 or localhost"},
		{EnvNHSSandbox, "http://10.1.2.3:9000/FHIR", "plain http is only allowed to 127.0.0.1 or localhost"},
		{EnvLocal, "http://192.168.1.5/FHIR", "plain http is only allowed to 127.0.0.1 or localhost"},
		{EnvProd, "http://127.0.0.1:8443/referrals/FHIR", "live e-RS is reached over https only"},
	} {
		dir := t.TempDir()
		cm, err := Load(Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"), Override: &EnvironmentChoice{Name: tc.name, FHIRBaseURL: tc.url},
			readInstaller: func() (map[string]string, error) { return nil, nil }})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %s: refused: %v", tc.name, tc.url, err)
				continue
			}
			if got := cm.Settings().Environment.FHIRBaseURL; got != strings.TrimRight(tc.url, "/") {
				t.Errorf("%s %s: base URL %q", tc.name, tc.url, got)
			}
			continue
		}
		if err == nil || !strings.Contains(triage.ErrorMessage(err), tc.want) {
			t.Errorf("%s %s: %v; want %q", tc.name, tc.url, err, tc.want)
		}
	}
}

// A local development server's default client id is the one `triagectl
// sandbox` registers, so signing in needs no --client-id.
func TestLocalDefaultsToTheSandboxClient(t *testing.T) {
	local, _ := Builtin(EnvLocal)
	if local.ClientID != LocalClientID || LocalClientID != "triagedesk-sandbox" {
		t.Errorf("local client id %q (LocalClientID %q)", local.ClientID, LocalClientID)
	}
}
