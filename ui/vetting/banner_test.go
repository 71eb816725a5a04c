package vetting

import (
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/patientbanner"
)

// bannerText is the header card's patient banner as shown.
func (p *referralPanel) bannerText() string {
	if p.bannerBox == nil {
		return ""
	}
	return strings.Join(texts(p.bannerBox), "|")
}

// Each of the sandbox's special PDS patients is shown with the right
// banner in the header card and in the confirm step of a decision: a
// restricted record with its marker and no GP practice, a deceased patient
// with DECEASED and the date, a merged record with PDS's current number and
// the warning, and a patient PDS does not know said in words in place of a
// name.
func TestPatientBannerForEachSpecialPatient(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	sb := apptest.Sandbox(h.rt)
	cases := []struct {
		scenario    apptest.PDSScenario
		must, never []string
	}{
		{apptest.ScenarioRestricted, []string{patientbanner.RestrictedMarker, "Born", "NHS No.", "address, GP practice and contact details are not shown"}, []string{"GP practice|"}},
		{apptest.ScenarioDeceased, []string{patientbanner.DeceasedMarker, "Deceased ", "died aged"}, []string{patientbanner.RestrictedMarker}},
		{apptest.ScenarioSuperseded, []string{patientbanner.SupersededMarker, "NHS number changed (record merged)"}, nil},
		{apptest.ScenarioNotFound, []string{"Patient not found in PDS", "PDS has no patient with NHS number"}, []string{"Born|"}},
	}
	for _, c := range cases {
		ubrn, ok := sb.ScenarioUBRN(c.scenario)
		if !ok {
			t.Fatalf("the sandbox has no %s patient", c.scenario)
		}
		p := h.open(ubrn)
		h.waitFor(string(c.scenario)+" banner", func() bool { return p.banner != nil && p.banner.State != triage.BannerNotChecked })
		text := p.bannerText()
		for _, m := range c.must {
			if !strings.Contains(text, m) {
				t.Errorf("%s: the banner lacks %q: %s", c.scenario, m, text)
			}
		}
		for _, m := range c.never {
			if strings.Contains(text, m) {
				t.Errorf("%s: the banner shows %q: %s", c.scenario, m, text)
			}
		}
		// The confirm step names the patient the same way.
		cs := newConfirmStep(p.decision, p.decision.base(triage.DecisionAccept))
		body := strings.Join(texts(cs.body), "|")
		cs.close()
		for _, m := range c.must[:1] {
			if !strings.Contains(body, m) {
				t.Errorf("%s: the confirm step lacks %q: %s", c.scenario, m, body)
			}
		}
	}
}

// A letter that names another patient is flagged in the header's banner.
func TestLetterNamingAnotherPatientIsFlaggedInTheHeader(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ubrn, ok := apptest.Sandbox(h.rt).ScenarioUBRN(apptest.ScenarioWrongPatientLetter)
	if !ok {
		t.Fatal("the sandbox has no wrong-patient letter")
	}
	p := h.open(ubrn)
	h.waitCRI()
	h.waitFor("the identity flag", func() bool { return strings.Contains(p.bannerText(), patientbanner.IdentityMarker) })
}
