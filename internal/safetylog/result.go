package safetylog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Outcome is what happened to one named test.
type Outcome string

// The outcomes. Anything but Pass fails `make safety`.
const (
	Pass    Outcome = "pass"
	Fail    Outcome = "FAIL"
	Missing Outcome = "MISSING" // the test does not exist (or never ran)
	Skipped Outcome = "SKIPPED" // evidence that did not run is not evidence
)

// event is one line of `go test -json` output.
type event struct {
	Action  string
	Package string
	Test    string
}

// ReadResults reads `go test -json` output for one package and returns the
// final action of every test (and subtest) by name. Package-level events
// are ignored.
func ReadResults(r io.Reader) (map[string]Outcome, error) {
	byPkg, err := ReadPackageResults(r)
	if err != nil {
		return nil, err
	}
	out := map[string]Outcome{}
	for _, res := range byPkg {
		for name, o := range res {
			out[name] = o
		}
	}
	return out, nil
}

// ReadPackageResults reads `go test -json` output for any number of
// packages and returns, by package import path, the final action of every
// test (and subtest) by name.
func ReadPackageResults(r io.Reader) (map[string]map[string]Outcome, error) {
	out := map[string]map[string]Outcome{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("read go test output: %w", err)
		}
		if e.Test == "" {
			continue
		}
		var o Outcome
		switch e.Action {
		case "pass":
			o = Pass
		case "fail":
			o = Fail
		case "skip":
			o = Skipped
		default:
			continue
		}
		if out[e.Package] == nil {
			out[e.Package] = map[string]Outcome{}
		}
		out[e.Package][e.Test] = o
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read go test output: %w", err)
	}
	return out, nil
}

// ByRelativePackage re-keys results by import path (from
// ReadPackageResults) to the hazard log's relative package paths ("./ui"),
// for packages of module mod.
func ByRelativePackage(results map[string]map[string]Outcome, mod string) map[string]map[string]Outcome {
	out := map[string]map[string]Outcome{}
	for pkg, res := range results {
		switch {
		case pkg == mod:
			out["."] = res
		case strings.HasPrefix(pkg, mod+"/"):
			out["./"+strings.TrimPrefix(pkg, mod+"/")] = res
		}
	}
	return out
}

// Verdict is one row of the safety report.
type Verdict struct {
	Hazard  Hazard
	Results map[TestRef]Outcome
}

// OK reports whether the hazard has at least one test and every test passed.
func (v Verdict) OK() bool {
	if len(v.Hazard.Tests) == 0 {
		return false
	}
	for _, t := range v.Hazard.Tests {
		if v.Results[t] != Pass {
			return false
		}
	}
	return true
}

// Judge matches each hazard's tests against the results of their packages
// (results[package][test name]).
func Judge(hs []Hazard, results map[string]map[string]Outcome) []Verdict {
	out := make([]Verdict, len(hs))
	for i, h := range hs {
		v := Verdict{Hazard: h, Results: map[TestRef]Outcome{}}
		for _, t := range h.Tests {
			o, ok := results[t.Package][t.Name]
			if !ok {
				o = Missing
			}
			v.Results[t] = o
		}
		out[i] = v
	}
	return out
}

// Report writes the hazard → tests → pass/fail table as Markdown and returns
// whether every hazard is proven.
func Report(w io.Writer, vs []Verdict) bool {
	all := true
	fmt.Fprintln(w, "| hazard | test | result |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, v := range vs {
		title := v.Hazard.ID + " " + v.Hazard.Title
		if len(v.Hazard.Tests) == 0 {
			fmt.Fprintf(w, "| %s | (no test named) | FAIL |\n", title)
			all = false
			continue
		}
		for i, t := range v.Hazard.Tests {
			name := title
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(w, "| %s | %s `%s` | %s |\n", name, t.Package, t.Name, v.Results[t])
		}
		all = all && v.OK()
	}
	proven := 0
	for _, v := range vs {
		if v.OK() {
			proven++
		}
	}
	fmt.Fprintf(w, "\n%d of %d hazards have every named test passing.\n", proven, len(vs))
	if !all {
		var bad []string
		for _, v := range vs {
			if !v.OK() {
				bad = append(bad, v.Hazard.ID)
			}
		}
		fmt.Fprintf(w, "Not proven: %s\n", strings.Join(bad, ", "))
	}
	return all
}
