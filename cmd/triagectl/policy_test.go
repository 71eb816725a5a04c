package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", `{
  "environment": "prod",
  "client_id": "AbC123",
  "secret_source": "keychain",
  "redirect_port": 7654,
  "allowed_ods_codes": ["R69"],
  "lock_timeout_minutes": 10
}
`)
	bad := writeFile(t, dir, "bad.json", `{
  "environment": "prod",
  "client_id": "AbC123",
  "secret_source": "broker",
  "lock_timout_minutes": 10,
  "redirect_port": "7654",
  "allowed_ods_codes": ["R69", "R 6 9"],
  "extra_bank_holidays": ["2026-12-26"]
}
`)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   string
		noStdout bool
	}{
		{"valid file", []string{"policy", "validate", good}, 0, []string{good + ": valid, 6 settings"}, "", false},
		{"every problem with its line", []string{"policy", "validate", bad}, 1, []string{
			bad + `: line 4, column 3: secret_source is "broker" but broker_url is missing`,
			bad + `: line 5, column 3: "lock_timout_minutes" is not a setting Triage Desk knows – did you mean "lock_timeout_minutes"?`,
			bad + `: line 6, column 20: redirect_port must be a whole number (found the text "7654": remove the quotes)`,
			bad + `: line 7, column 32: "R 6 9" is not an ODS code`,
			bad + `: line 8, column 27: warning: 2026-12-26 is a Saturday`,
		}, "has 4 errors and 1 warning: correct them and run validate again", false},
		{"missing file", []string{"policy", "validate", filepath.Join(dir, "nope.json")}, 1, nil, "There is no file", true},
		{"folder", []string{"policy", "validate", dir}, 1, nil, "is a folder", true},
		{"no file given", []string{"policy", "validate"}, 2, nil, "give one policy file", true},
		{"unknown subcommand", []string{"policy", "check", good}, 2, nil, "unknown subcommand", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for i, w := range tt.stdout {
				if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
					t.Errorf("stdout line %d:\n got %q\nwant %q", i+1, lines[min(i, len(lines)-1)], w)
				}
			}
			if tt.noStdout && out != "" {
				t.Errorf("unexpected stdout %q", out)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errs, tt.stderr)
			}
		})
	}
}

func TestPolicyShow(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	os.MkdirAll(profile, 0o700)
	writeFile(t, profile, "settings.json", `{"version": 1, "theme": "dark", "text_size": "large", "prefetch": false}`)
	policy := writeFile(t, dir, "policy.json", `{
  "environment": "int",
  "auth_base_url": "https://int.api.service.nhs.uk/oauth2-mock",
  "client_id": "AbC123",
  "secret_source": "keychain",
  "prefetch": true,
  "locked": ["text_size"]
}`)
	code, out, errs := runCLI(t, "--profile", profile, "policy", "show", "--file", policy)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = l
		}
	}
	want := map[string][]string{
		"environment":           {"int (NHS INT – test environment)", "policy", "no"},
		"auth_base_url":         {"https://int.api.service.nhs.uk/oauth2-mock", "policy", "no"},
		"fhir_base_url":         {"https://int.api.service.nhs.uk/referrals/FHIR", "default", "no"},
		"theme":                 {"dark", "user", "yes"},
		"text_size":             {"normal", "default", "no"},
		"prefetch":              {"yes", "policy", "no"},
		"lock_timeout_minutes":  {"15 minutes", "default", "no"},
		"sync_interval_minutes": {"5 minutes", "default", "yes"},
	}
	for k, ws := range want {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no row for %s in\n%s", k, out)
			continue
		}
		fields := strings.Fields(row)
		if got := strings.Join(fields[len(fields)-2:], " "); got != ws[1]+" "+ws[2] {
			t.Errorf("%s: source/changeable %q, want %q", k, got, ws[1]+" "+ws[2])
		}
		if !strings.Contains(row, ws[0]) {
			t.Errorf("%s row %q lacks value %q", k, row, ws[0])
		}
	}
	if !strings.Contains(out, "Machine policy: "+policy) || !strings.Contains(out, "User settings:  "+filepath.Join(profile, "settings.json")) {
		t.Errorf("header:\n%s", out)
	}

	code, out, _ = runCLI(t, "--profile", profile, "policy", "show", "--file", policy, "--json")
	var doc struct {
		Settings []struct {
			Key, Value, Source string
			Locked             bool
		} `json:"settings"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Settings) < 20 {
		t.Fatalf("json output (exit %d): %s", code, out)
	}

	// --env is refused where the policy sets the environment.
	code, _, errs = runCLI(t, "--profile", profile, "--env", "prod", "policy", "show", "--file", policy)
	if code != 1 || !strings.Contains(errs, "is managed by your organisation") {
		t.Errorf("--env against a locked environment: exit %d, %q", code, errs)
	}
	// An invalid policy prints its problems and fails.
	broken := writeFile(t, dir, "broken.json", "{\n  \"theme\": \"blue\"\n}")
	code, out, errs = runCLI(t, "--profile", profile, "policy", "show", "--file", broken)
	if code != 1 || !strings.Contains(out, "line 2, column 12: theme must be one of") || !strings.Contains(errs, "contact your IT service desk") {
		t.Errorf("invalid policy: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	// Unmanaged machine, with --env local and --base-url.
	code, out, errs = runCLI(t, "--profile", profile, "--env", "local", "--base-url", "http://127.0.0.1:9999", "policy", "show", "--file", filepath.Join(dir, "absent.json"))
	if code != 0 || !strings.Contains(out, "this machine is not managed") || !strings.Contains(out, "http://127.0.0.1:9999") {
		t.Errorf("unmanaged with --env local: exit %d\n%s\n%s", code, out, errs)
	}
}

// A value from settings.json that Triage Desk held to its own limits is
// still the user's: policy show says "user (corrected ...)", never
// "policy", on a machine without a policy; a value the policy's limit set
// says "policy".
func TestPolicyShowLabelsCorrectedUserValues(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	os.MkdirAll(profile, 0o700)
	writeFile(t, profile, "settings.json", `{"version": 1, "sync_interval_minutes": 1000, "sent_retention_days": 900}`)
	code, out, errs := runCLI(t, "--profile", profile, "policy", "show", "--file", filepath.Join(dir, "none.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || (f[0] != "sync_interval_minutes" && f[0] != "sent_retention_days") {
			continue
		}
		if strings.Contains(l, "policy") || !strings.Contains(l, "user (corrected to the allowed range)") {
			t.Errorf("corrected user value labelled %q", l)
		}
	}
	if !strings.Contains(out, "Triage Desk allows") || strings.Contains(out, "your organisation allows") {
		t.Errorf("notes: %s", out)
	}
	policy := writeFile(t, dir, "policy.json", `{"sync_interval_max_minutes": 30}`)
	_, out, _ = runCLI(t, "--profile", profile, "policy", "show", "--file", policy)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "sync_interval_minutes" && strings.Join(f[1:4], " ") != "30 minutes policy" {
			t.Errorf("a value the policy's limit set is labelled %q", l)
		}
	}
}
