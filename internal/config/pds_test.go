package config

import "testing"

// The PDS base URL comes from the environment, a local server's origin, or
// the machine policy; the demo always uses its built-in sandbox.
func TestPDSBaseURLPerEnvironmentAndPolicy(t *testing.T) {
	for name, want := range map[EnvironmentName]string{
		EnvNHSSandbox: NHSSandboxPDSBaseURL, EnvInt: IntPDSBaseURL, EnvProd: ProdPDSBaseURL, EnvDemo: "", EnvLocal: "",
	} {
		if e, _ := Builtin(name); e.PDSBaseURL != want {
			t.Errorf("%s: PDS %q, want %q", name, e.PDSBaseURL, want)
		}
	}
	s, err := Resolve(nil, nil, &EnvironmentChoice{Name: EnvLocal, FHIRBaseURL: "http://127.0.0.1:9100/FHIR"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Environment.PDSBaseURL != "http://127.0.0.1:9100"+LocalPDSPath {
		t.Errorf("local PDS = %q", s.Environment.PDSBaseURL)
	}
	p, problems := ParsePolicy([]byte(`{"version":1,"environment":"int","client_id":"x","secret_source":"keychain",
		"pds_base_url":"https://pds.proxy.example.nhs.uk/R4/"}`), "policy.json")
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	s, err = Resolve(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Environment.PDSBaseURL != "https://pds.proxy.example.nhs.uk/R4" || !s.Origin(KeyPDSBaseURL).Locked {
		t.Errorf("policy PDS = %q, origin %+v", s.Environment.PDSBaseURL, s.Origin(KeyPDSBaseURL))
	}
	if err := s.Environment.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	_, problems = ParsePolicy([]byte(`{"version":1,"environment":"int","client_id":"x","secret_source":"keychain",
		"pds_base_url":"http://pds.example.nhs.uk/R4"}`), "policy.json")
	if len(problems) == 0 {
		t.Error("plain http PDS address accepted")
	}
}
