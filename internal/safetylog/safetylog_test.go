package safetylog

import (
	"bytes"
	"strings"
	"testing"
)

const sampleLog = "# Hazard log\n\nIntro text.\n\n" +
	"## HAZ-01: Stale data shown as current\n\nControls...\n\n" +
	"- Test: `./internal/engine` `TestAsOfFromServerDate`\n" +
	"- Test: `./ui` `TestHeaderCardTurnsAmber/offline`\n\n" +
	"## HAZ-02: A decision lost\n\n" +
	"- Test: `./internal/store` `TestCrashHarnessSIGKILL`\n" +
	"- Test: `./internal/engine` `TestAsOfFromServerDate`\n\n" +
	"## HAZ-03: Untested hazard\n\nNothing yet.\n\n" +
	"## Revision history\n\nv1.\n"

func TestParse(t *testing.T) {
	hs, err := Parse(strings.NewReader(sampleLog))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 || hs[0].ID != "HAZ-01" || hs[0].Title != "Stale data shown as current" || hs[2].ID != "HAZ-03" {
		t.Fatalf("hazards %+v", hs)
	}
	if len(hs[0].Tests) != 2 || hs[0].Tests[1] != (TestRef{"./ui", "TestHeaderCardTurnsAmber/offline"}) || hs[0].Tests[1].Func() != "TestHeaderCardTurnsAmber" {
		t.Errorf("HAZ-01 tests %+v", hs[0].Tests)
	}
	if len(hs[2].Tests) != 0 {
		t.Errorf("HAZ-03 has tests %+v", hs[2].Tests)
	}
	pkgs, funcs := Packages(hs)
	if strings.Join(pkgs, ",") != "./internal/engine,./ui,./internal/store" || len(funcs["./internal/engine"]) != 1 {
		t.Errorf("packages %v funcs %v", pkgs, funcs)
	}
	if got := RunPattern([]string{"TestA", "TestB"}); got != "^(TestA|TestB)$" {
		t.Errorf("pattern %q", got)
	}
}

func TestParseRejectsMalformedEvidence(t *testing.T) {
	for name, log := range map[string]string{
		"no package":       "## HAZ-01: X\n- Test: `TestOnly`\n",
		"not a test name":  "## HAZ-01: X\n- Test: `./ui` `Example`\n",
		"outside a hazard": "# Log\n- Test: `./ui` `TestX`\n",
		"after a section":  "## HAZ-01: X\n## Appendix\n- Test: `./ui` `TestX`\n",
		"duplicate id":     "## HAZ-01: X\n## HAZ-01: Y\n",
		"no hazards":       "# Log\n",
	} {
		if _, err := Parse(strings.NewReader(log)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJudgeAndReport(t *testing.T) {
	hs, err := Parse(strings.NewReader(sampleLog))
	if err != nil {
		t.Fatal(err)
	}
	json := `{"Action":"run","Package":"p","Test":"TestAsOfFromServerDate"}
{"Action":"pass","Package":"p","Test":"TestAsOfFromServerDate"}
{"Action":"pass","Package":"p"}
`
	engine, err := ReadResults(strings.NewReader(json))
	if err != nil {
		t.Fatal(err)
	}
	uiJSON := `{"Action":"skip","Test":"TestHeaderCardTurnsAmber/offline"}
{"Action":"pass","Test":"TestHeaderCardTurnsAmber"}
`
	ui, _ := ReadResults(strings.NewReader(uiJSON))
	store, _ := ReadResults(strings.NewReader(`{"Action":"fail","Test":"TestCrashHarnessSIGKILL"}` + "\n"))
	vs := Judge(hs, map[string]map[string]Outcome{"./internal/engine": engine, "./ui": ui, "./internal/store": store})
	if vs[0].OK() || vs[0].Results[hs[0].Tests[1]] != Skipped {
		t.Errorf("a skipped subtest must not prove a hazard: %+v", vs[0].Results)
	}
	if vs[1].OK() || vs[1].Results[hs[1].Tests[0]] != Fail {
		t.Errorf("a failing test must not prove a hazard: %+v", vs[1].Results)
	}
	if vs[2].OK() {
		t.Error("a hazard without tests is proven")
	}
	var buf bytes.Buffer
	if Report(&buf, vs) {
		t.Error("report says all proven")
	}
	out := buf.String()
	for _, want := range []string{"| HAZ-01 Stale data shown as current | ./internal/engine `TestAsOfFromServerDate` | pass |", "SKIPPED", "(no test named) | FAIL", "0 of 3 hazards", "Not proven: HAZ-01, HAZ-02, HAZ-03"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	missing := Judge(hs[:1], map[string]map[string]Outcome{"./internal/engine": engine, "./ui": {}})
	if missing[0].Results[hs[0].Tests[1]] != Missing {
		t.Errorf("a test that never ran is not reported missing: %+v", missing[0].Results)
	}
	allPass := Judge(hs[1:2], map[string]map[string]Outcome{"./internal/engine": engine, "./internal/store": {"TestCrashHarnessSIGKILL": Pass}})
	buf.Reset()
	if !Report(&buf, allPass) || !strings.Contains(buf.String(), "1 of 1 hazards") {
		t.Errorf("all-passing report: %s", buf.String())
	}
}

// TestResultsFromOneRunOverManyPackages: one `go test -json` run over
// several packages gives each package's outcomes under the hazard log's
// relative path; a test of the same name in another package does not
// stand in for the named one.
func TestResultsFromOneRunOverManyPackages(t *testing.T) {
	const mod = "example.org/app"
	log := `{"Action":"pass","Package":"example.org/app/internal/engine","Test":"TestAsOfFromServerDate"}
{"Action":"fail","Package":"example.org/app/ui","Test":"TestAsOfFromServerDate"}
{"Action":"pass","Package":"example.org/app/ui","Test":"TestHeaderCardTurnsAmber"}
{"Action":"output","Package":"example.org/app/ui","Test":"TestHeaderCardTurnsAmber","Output":"x\n"}
{"Action":"pass","Package":"example.org/other","Test":"TestCrashHarnessSIGKILL"}
`
	byPkg, err := ReadPackageResults(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	rel := ByRelativePackage(byPkg, mod)
	if rel["./internal/engine"]["TestAsOfFromServerDate"] != Pass || rel["./ui"]["TestAsOfFromServerDate"] != Fail ||
		rel["./ui"]["TestHeaderCardTurnsAmber"] != Pass {
		t.Errorf("results by package: %v", rel)
	}
	if len(rel) != 2 {
		t.Errorf("a package outside the module was kept: %v", rel)
	}
	if _, err := ReadPackageResults(strings.NewReader("{not json\n")); err == nil {
		t.Error("malformed go test output was accepted")
	}
}
