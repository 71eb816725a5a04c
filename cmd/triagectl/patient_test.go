package main

import (
	"context"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestERSPatientPrintsTheBanner(t *testing.T) {
	sb, err := erssandbox.Start(context.Background(), erssandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	nhsOf := func(sc erssandbox.PDSScenario) string {
		u, _ := sb.ScenarioUBRN(sc)
		r, _ := sb.Referral(u)
		return r.NHSNumber
	}
	ordinary := sb.Referrals(nil)[2]
	p, _ := sb.Patient(ordinary.NHSNumber)
	code, out, errs := runCLI(t, "ers", "patient", triage.FormatNHSNumber(ordinary.NHSNumber), "--pds-url", sb.PDSBaseURL())
	if code != 0 || !strings.Contains(out, strings.ToUpper(p.Family)+", "+p.Given+" ("+p.Title+")") ||
		!strings.Contains(out, "Born "+p.BirthDate.Format("02-Jan-2006")) || !strings.Contains(out, "NHS No. "+triage.FormatNHSNumber(p.NHSNumber)) ||
		!strings.Contains(out, "(PDS: HTTP 200") {
		t.Errorf("ordinary patient: exit %d\n%s\n%s", code, out, errs)
	}

	restricted := nhsOf(erssandbox.ScenarioRestricted)
	rp, _ := sb.Patient(restricted)
	code, out, _ = runCLI(t, "ers", "patient", restricted, "--pds-url", sb.PDSBaseURL())
	if code != 0 || !strings.Contains(out, "Restricted record") || strings.Contains(out, rp.PracticeODS) || strings.Contains(out, rp.Postcode) {
		t.Errorf("restricted patient: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "ers", "patient", nhsOf(erssandbox.ScenarioDeceased), "--pds-url", sb.PDSBaseURL())
	if code != 0 || !strings.Contains(out, "DECEASED ") {
		t.Errorf("deceased patient: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "ers", "patient", nhsOf(erssandbox.ScenarioSuperseded), "--pds-url", sb.PDSBaseURL())
	if code != 0 || !strings.Contains(out, "WARNING: NHS number changed (record merged)") {
		t.Errorf("superseded number: exit %d\n%s", code, out)
	}
	code, out, errs = runCLI(t, "ers", "patient", nhsOf(erssandbox.ScenarioNotFound), "--pds-url", sb.PDSBaseURL())
	if code != 1 || !strings.Contains(out, "Patient not found in PDS") || !strings.Contains(errs, "PDS has no patient") {
		t.Errorf("not found: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "ers", "patient", "9000000000", "--pds-url", sb.PDSBaseURL())
	if code != 1 || !strings.Contains(out, "Invalid NHS number") {
		t.Errorf("invalid number: exit %d\n%s", code, out)
	}
	if code, _, _ = runCLI(t, "ers", "patient"); code != 2 {
		t.Errorf("no NHS number: exit %d", code)
	}
	// A closed PDS: the reason, not a banner.
	base := sb.PDSBaseURL()
	sb.Close()
	code, out, errs = runCLI(t, "ers", "patient", ordinary.NHSNumber, "--pds-url", base, "--timeout", "5s")
	if code != 1 || out != "" || !strings.Contains(errs, "cannot reach PDS") {
		t.Errorf("PDS down: exit %d\n%s\n%s", code, out, errs)
	}
}
