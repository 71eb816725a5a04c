package config

import (
	"strings"
	"testing"
)

// fullPolicy sets every key; it must validate with no problem at all.
const fullPolicy = `{
  "version": 1,
  "comment": "Royal Example Hospital – ticket CHG0001",
  "environment": "int",
  "fhir_base_url": "https://int.api.service.nhs.uk/referrals/FHIR/",
  "auth_base_url": "https://int.api.service.nhs.uk/oauth2-mock",
  "pds_base_url": "https://int.api.service.nhs.uk/personal-demographics/FHIR/R4",
  "client_id": "AbC123-xyz",
  "secret_source": "broker",
  "broker_url": "https://broker.example.nhs.uk/triagedesk",
  "redirect_port": 7700,
  "acr_values": "AAL2_OR_AAL3_ANY",
  "allowed_ods_codes": ["rxx", "RXX01"],
  "sent_retention_days": 20,
  "sent_retention_max_days": 60,
  "max_days_without_sync": 5,
  "lock_timeout_minutes": 10,
  "prefetch": false,
  "sync_interval_minutes": 10,
  "sync_interval_min_minutes": 5,
  "sync_interval_max_minutes": 30,
  "extra_bank_holidays": ["2026-12-29", "2027-01-04"],
  "theme": "dark",
  "text_size": "large",
  "locked": ["prefetch"],
  "user_may_override_urls": false
}
`

func TestParsePolicyFull(t *testing.T) {
	p, problems := ParsePolicy([]byte(fullPolicy), "policy.json")
	if len(problems) != 0 {
		t.Fatalf("a complete, correct policy gave problems:\n%s", joinProblems(problems))
	}
	for _, k := range Keys() {
		if k == KeyKeychainService { // not used with a broker
			continue
		}
		if !p.Has(k) {
			t.Errorf("policy lost %s", k)
		}
	}
	if got, _ := p.str(KeyFHIRBaseURL); got != "https://int.api.service.nhs.uk/referrals/FHIR" {
		t.Errorf("trailing slash kept: %q", got)
	}
	if got, _ := p.list(KeyAllowedODSCodes); strings.Join(got, ",") != "RXX,RXX01" {
		t.Errorf("ODS codes not normalised to upper case: %v", got)
	}
}

// TestValidateMessages pins the plain-English message and the line and
// column of each kind of mistake IT can make.
func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []string // "line L, column C: substring" (or just a substring), in order
	}{
		{"trailing comma", "{\n  \"environment\": \"prod\",\n}\n",
			[]string{"line 2, column 24: there is a comma after the last item: remove it"}},
		{"missing comma", "{\n  \"environment\": \"prod\"\n  \"client_id\": \"x\"\n}",
			[]string{"line 3, column 3: a comma is missing between two settings"}},
		{"single quotes", "{\n  'environment': 'prod'\n}",
			[]string{"line 2, column 3: use double quotes"}},
		{"comment", "{\n  // IT ticket 42\n  \"environment\": \"prod\"\n}",
			[]string{"line 2, column 3: comments are not allowed in JSON"}},
		{"truncated", "{\n  \"environment\": \"prod\"",
			[]string{"line 2, column 24: the file ends too early"}},
		{"backslash", "{\n  \"comment\": \"C:\\ProgramData\"\n}",
			[]string{"line 2, column 18: a backslash in a text value starts an unknown escape"}},
		{"empty", "  \n", []string{"line 1, column 1: the file is empty"}},
		{"not an object", "[\"prod\"]", []string{"line 1, column 1: the policy must be a JSON object"}},
		{"unknown key with suggestion", "{\n  \"lock_timout_minutes\": 5\n}",
			[]string{`line 2, column 3: "lock_timout_minutes" is not a setting Triage Desk knows – did you mean "lock_timeout_minutes"?`}},
		{"unknown key without suggestion", "{\"colour\": \"red\"}",
			[]string{`line 1, column 2: "colour" is not a setting Triage Desk knows. Unknown settings are refused`}},
		{"duplicate key", "{\n  \"theme\": \"dark\",\n  \"theme\": \"light\"\n}",
			[]string{`line 3, column 3: "theme" is set twice (first on line 2)`}},
		{"quoted number", "{\n  \"lock_timeout_minutes\": \"15\"\n}",
			[]string{`line 2, column 27: lock_timeout_minutes must be a whole number of minutes (found the text "15": remove the quotes)`}},
		{"fraction", "{\"lock_timeout_minutes\": 1.5}",
			[]string{"line 1, column 26: lock_timeout_minutes must be a whole number of minutes (found 1.5)"}},
		{"lock timeout range", "{\n\t\"lock_timeout_minutes\": 90\n}",
			[]string{"line 2, column 26: lock_timeout_minutes must be between 1 and 60 minutes (found 90)"}},
		{"port range", "{\"redirect_port\": 80}",
			[]string{"line 1, column 19: redirect_port must be between 1024 and 65535 (found 80)"}},
		{"bool as text", "{\"prefetch\": \"yes\"}",
			[]string{`line 1, column 14: prefetch must be true or false, without quotes (found the text "yes")`}},
		{"unknown environment", "{\"environment\": \"production\"}",
			[]string{`line 1, column 17: environment must be one of "demo", "local", "nhs-sandbox", "int" or "prod" (found "production")`}},
		{"http for prod", "{\n  \"environment\": \"prod\",\n  \"client_id\": \"k\",\n  \"secret_source\": \"keychain\",\n  \"fhir_base_url\": \"http://api.service.nhs.uk/referrals/FHIR\"\n}",
			[]string{"line 5, column 3: fhir_base_url must start with https://"}},
		{"http loopback for local is fine", "{\"environment\": \"local\", \"fhir_base_url\": \"http://127.0.0.1:8080\"}", nil},
		{"http elsewhere for local", "{\"environment\": \"local\", \"fhir_base_url\": \"http://10.0.0.5:8080\"}",
			[]string{"fhir_base_url must start with https:// (plain http is only allowed to 127.0.0.1 or localhost)"}},
		{"URL with query", "{\"environment\": \"int\", \"client_id\": \"k\", \"secret_source\": \"keychain\", \"auth_base_url\": \"https://int.api.service.nhs.uk/oauth2?x=1\"}",
			[]string{"auth_base_url must not contain ? or #"}},
		{"URL not absolute", "{\"environment\": \"local\", \"fhir_base_url\": \"127.0.0.1:8080\"}",
			[]string{`fhir_base_url "127.0.0.1:8080" is not a web address`}},
		{"URL without environment", "{\n  \"fhir_base_url\": \"https://example.nhs.uk/FHIR\"\n}",
			[]string{"line 2, column 3: fhir_base_url needs environment"}},
		{"local without URL", "{\"environment\": \"local\"}",
			[]string{"environment is local but fhir_base_url is missing"}},
		{"bad ODS code", "{\n  \"allowed_ods_codes\": [\n    \"RXX\",\n    \"RX 1\"\n  ]\n}",
			[]string{`line 4, column 5: "RX 1" is not an ODS code: ODS codes are 3 to 10 letters and digits`}},
		{"ODS code not text", "{\"allowed_ods_codes\": [\"RXX\", 123]}",
			[]string{"line 1, column 31: each item of allowed_ods_codes must be text in double quotes (found the number 123)"}},
		{"ODS list not a list", "{\"allowed_ods_codes\": \"RXX\"}",
			[]string{`line 1, column 23: allowed_ods_codes must be a list in square brackets, e.g. ["RXX", "RXX01"] (found the text "RXX")`}},
		{"empty ODS list", "{\"allowed_ods_codes\": []}",
			[]string{"warning: allowed_ods_codes is an empty list, which allows every organisation"}},
		{"duplicate ODS code", "{\"allowed_ods_codes\": [\"RXX\", \"rxx\"]}",
			[]string{`line 1, column 31: warning: "rxx" is listed twice`}},
		{"broker without URL", "{\n  \"environment\": \"prod\",\n  \"client_id\": \"k\",\n  \"secret_source\": \"broker\"\n}",
			[]string{`line 4, column 3: secret_source is "broker" but broker_url is missing`}},
		{"broker URL with keychain", "{\"environment\": \"prod\", \"client_id\": \"k\", \"secret_source\": \"keychain\", \"broker_url\": \"https://b.example.nhs.uk\"}",
			[]string{`broker_url is set but secret_source is "keychain": set secret_source to "broker" or remove broker_url`}},
		{"broker URL alone", "{\"broker_url\": \"https://b.example.nhs.uk\"}",
			[]string{`broker_url is set but secret_source is missing: add "secret_source": "broker"`}},
		{"keychain service with broker", "{\"secret_source\": \"broker\", \"broker_url\": \"https://b.example.nhs.uk\", \"keychain_service\": \"x\"}",
			[]string{`keychain_service is set but secret_source is "broker"`}},
		{"no secret for prod", "{\"environment\": \"prod\", \"client_id\": \"k\", \"secret_source\": \"none\"}",
			[]string{`secret_source is "none" but the NHS API Platform (prod) always needs a client secret`}},
		{"prod incomplete", "{\"environment\": \"prod\"}",
			[]string{"warning: environment is prod but client_id is not set", "warning: environment is prod but secret_source is not set"}},
		{"client id with spaces", "{\"client_id\": \"abc def\"}",
			[]string{`client_id "abc def" is not an API Platform key`}},
		{"empty client id", "{\"client_id\": \"  \"}",
			[]string{"client_id is empty: give a value or remove the setting"}},
		{"sync bounds reversed", "{\"sync_interval_min_minutes\": 30, \"sync_interval_max_minutes\": 10}",
			[]string{"sync_interval_min_minutes (30) is more than sync_interval_max_minutes (10)"}},
		{"sync interval outside bounds", "{\"sync_interval_max_minutes\": 10, \"sync_interval_minutes\": 15}",
			[]string{"sync_interval_minutes (15) is outside the allowed range 2 to 10 minutes"}},
		{"retention above max", "{\"sent_retention_days\": 90, \"sent_retention_max_days\": 30}",
			[]string{"sent_retention_days (90) is more than sent_retention_max_days (30)"}},
		{"retention range", "{\"sent_retention_days\": 400}",
			[]string{"sent_retention_days must be between 1 and 365 days (found 400)"}},
		{"bad date", "{\"extra_bank_holidays\": [\"29/12/2026\"]}",
			[]string{`line 1, column 26: "29/12/2026" is not a date: write dates as YYYY-MM-DD`}},
		{"weekend holiday", "{\"extra_bank_holidays\": [\"2026-12-26\"]}",
			[]string{"warning: 2026-12-26 is a Saturday, which is not a working day anyway"}},
		{"locked unknown", "{\"locked\": [\"themes\"]}",
			[]string{`line 1, column 13: "themes" in locked is not a setting Triage Desk knows – did you mean "theme"?`}},
		{"locked machine key", "{\"locked\": [\"client_id\"]}",
			[]string{`warning: "client_id" is set only by the machine policy`}},
		{"prod with user URLs", "{\"environment\": \"prod\", \"client_id\": \"k\", \"secret_source\": \"keychain\", \"user_may_override_urls\": true}",
			[]string{"warning: user_may_override_urls is true for the live service"}},
		{"future version", "{\"version\": 2}", []string{"version 2 is not supported by this Triage Desk"}},
		{"byte order mark", "\ufeff{\n  \"theme\": \"dark\"\n}", nil},
		{"byte order mark with an error", "\ufeff{\"theme\": \"blue\"}", []string{"line 1, column 11: theme must be one of"}},
		{"columns count characters", "{\"comment\": \"é\", \"theme\": 1}", []string{"line 1, column 27: theme must be text in double quotes"}},
		{"every problem is reported", "{\n  \"environment\": \"staging\",\n  \"redirect_port\": 99999,\n  \"prefetch\": 1\n}",
			[]string{"line 2, column 18: environment must be one of", "line 3, column 20: redirect_port must be between", "line 4, column 15: prefetch must be true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := ParsePolicy([]byte(tt.policy), "policy.json")
			if len(problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(problems), len(tt.want), joinProblems(problems))
			}
			for i, w := range tt.want {
				if !strings.Contains(problems[i].String(), w) {
					t.Errorf("problem %d = %q\nwant it to contain %q", i, problems[i].String(), w)
				}
				if strings.HasPrefix(w, "line ") && problems[i].Line == 0 {
					t.Errorf("problem %d has no line number", i)
				}
			}
		})
	}
}

func TestProblemsHaveLinesForEveryKeyedMistake(t *testing.T) {
	// Cross-setting problems point at the setting concerned.
	_, problems := ParsePolicy([]byte("{\n\n  \"secret_source\": \"broker\"\n}"), "p.json")
	if len(problems) != 1 || problems[0].Line != 3 || problems[0].Column != 3 || problems[0].Key != KeySecretSource {
		t.Fatalf("want one problem at line 3, column 3 on secret_source; got %+v", problems)
	}
	if HasErrors([]Problem{{Warning: true}}) || !HasErrors([]Problem{{Warning: true}, {}}) {
		t.Error("HasErrors does not tell warnings from errors")
	}
}

func joinProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
