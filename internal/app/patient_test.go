package app

import (
	"context"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// demoSynced is a signed-in demo workspace after one sync, with the
// sandbox's PDS wired in as the app wires it.
func demoSynced(t *testing.T) *Workspace {
	t.Helper()
	freshKeychain(t)
	rt := start(t, demoOptions(t.TempDir(), newTraffic()))
	if _, err := rt.DemoSignIn(context.Background()); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	a := openWorkspace(t, rt)
	syncOnce(t, a)
	return a
}

func scenarioBanner(t *testing.T, a *Workspace, sc erssandbox.PDSScenario) triage.Banner {
	t.Helper()
	u, ok := a.sandbox.ScenarioUBRN(sc)
	if !ok {
		t.Fatalf("no %s referral in the demo", sc)
	}
	b, err := a.PatientBanner(context.Background(), u)
	if err != nil {
		t.Fatalf("%s banner: %v", sc, err)
	}
	return b
}

// The banner of every sandbox scenario, from the cache after a sync, and on
// the vetting pack's cover: the wrong-patient hazard and the
// restricted-record disclosure hazard both depend on it.
func TestPatientBannerForEveryScenario(t *testing.T) {
	a := demoSynced(t)
	if a.sandbox.Stats().Requests[erssandbox.OpPDS] == 0 {
		t.Fatal("the demo workspace never read PDS")
	}

	b := scenarioBanner(t, a, erssandbox.ScenarioRestricted)
	text := strings.Join(b.Lines(), "\n")
	u, _ := a.sandbox.ScenarioUBRN(erssandbox.ScenarioRestricted)
	ref, _ := a.sandbox.Referral(u)
	p, _ := a.sandbox.Patient(ref.NHSNumber)
	if b.State != triage.BannerPatient || !b.Restricted || b.GPPractice != "" || !strings.Contains(text, "Restricted record") {
		t.Errorf("restricted banner: %+v", b)
	}
	for _, leak := range []string{p.PracticeODS, p.AddressLine, p.Postcode, p.Phone, "synthetic practice"} {
		if strings.Contains(text, leak) {
			t.Errorf("restricted banner shows %q", leak)
		}
	}

	if b := scenarioBanner(t, a, erssandbox.ScenarioDeceased); !b.Deceased || !b.Warning() || !strings.HasPrefix(b.DeceasedText, "Deceased ") {
		t.Errorf("deceased banner: %+v", b)
	}
	if b := scenarioBanner(t, a, erssandbox.ScenarioSuperseded); !b.Superseded || b.NHSNumber == b.ReferralNHSNumber || !strings.Contains(b.SupersededText, "record merged") {
		t.Errorf("superseded banner: %+v", b)
	}
	if b := scenarioBanner(t, a, erssandbox.ScenarioNotFound); b.State != triage.BannerNotFound || b.Notice == "" || b.Name != triage.NotKnown {
		t.Errorf("not-found banner: %+v", b)
	}
	b = scenarioBanner(t, a, erssandbox.ScenarioWrongPatientLetter)
	if len(b.Flags) != 2 || !b.Warning() {
		t.Fatalf("wrong-patient letter: flags %+v", b.Flags)
	}
	for _, f := range b.Flags {
		if !strings.HasPrefix(f.Text, "The letter names another patient") {
			t.Errorf("flag text %q", f.Text)
		}
	}

	// An ordinary patient: details, age, no warning, no flag.
	wl, err := a.ReviewList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]bool{}
	for _, sc := range []erssandbox.PDSScenario{erssandbox.ScenarioRestricted, erssandbox.ScenarioDeceased, erssandbox.ScenarioSuperseded,
		erssandbox.ScenarioNotFound, erssandbox.ScenarioWrongPatientLetter} {
		u, _ := a.sandbox.ScenarioUBRN(sc)
		r, _ := a.sandbox.Referral(u)
		special[r.NHSNumber] = true
	}
	checked := 0
	for _, r := range wl.Rows {
		if special[r.NHSNumber] || checked == 3 {
			continue
		}
		b, err := a.PatientBanner(context.Background(), r.UBRN)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := a.sandbox.Patient(r.NHSNumber)
		if b.State != triage.BannerPatient || b.Warning() || b.Restricted || b.Age == "" || b.GPPractice != p.PracticeODS ||
			!strings.HasPrefix(b.Name, strings.ToUpper(p.Family)+", "+p.Given) || b.DataAgeText == "" {
			t.Errorf("ordinary banner for %s: %+v", r.UBRN, b)
		}
		checked++
	}

	// The vetting pack's cover page carries the banner.
	u, _ = a.sandbox.ScenarioUBRN(erssandbox.ScenarioDeceased)
	pack, err := a.VettingPack(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	text, err = a.Documents(context.Background()).DocumentText(context.Background(), pack)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = a.PatientBanner(context.Background(), u)
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{b.Name, b.NHSNumber, "DECEASED"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the pack's cover lacks %q", want)
		}
	}
}
