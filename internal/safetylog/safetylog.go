// Package safetylog reads Triage Desk's clinical-safety hazard log
// (docs/clinical-safety/hazard-log.md) and the automated tests it names as
// evidence for each hazard's controls, so `make safety` can run exactly those
// tests and report hazard → tests → pass/fail.
//
// The hazard log is Markdown written for a Clinical Safety Officer. This
// package relies on two conventions in it:
//
//   - each hazard starts with a level-2 heading "## HAZ-NN: Title";
//   - each test that proves a control is a list item of the form
//     "- Test: `./internal/engine` `TestName`" (optionally with a subtest,
//     `TestName/subtest`), anywhere inside the hazard's section.
package safetylog

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// TestRef names one Go test: the package directory (relative to the
// repository root, starting with ./) and the test function, optionally with a
// subtest path.
type TestRef struct {
	Package string
	Name    string
}

// Func returns the top-level test function name (without any subtest).
func (r TestRef) Func() string {
	name, _, _ := strings.Cut(r.Name, "/")
	return name
}

// String formats the reference as it appears in reports.
func (r TestRef) String() string { return r.Package + " " + r.Name }

// Hazard is one hazard-log entry with the tests that prove its controls.
type Hazard struct {
	ID    string
	Title string
	Line  int
	Tests []TestRef
}

var (
	headingRE = regexp.MustCompile(`^##\s+(HAZ-\d+)\s*[:–-]\s*(.+?)\s*$`)
	testRE    = regexp.MustCompile("^\\s*[-*]\\s+Test:\\s+`(\\./[^`\\s]+)`\\s+`(Test[A-Za-z0-9_]+(?:/[^`]+)?)`")
	looseRE   = regexp.MustCompile(`^\s*[-*]\s+Test:`)
)

// Parse reads a hazard log. It returns an error for a malformed test line (so
// a typo can never silently drop evidence), a duplicate hazard id, or a log
// without hazards.
func Parse(r io.Reader) ([]Hazard, error) {
	var out []Hazard
	seen := map[string]bool{}
	current := -1 // index of the hazard whose section we are in
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if m := headingRE.FindStringSubmatch(text); m != nil {
			if seen[m[1]] {
				return nil, fmt.Errorf("hazard log line %d: %s appears twice", line, m[1])
			}
			seen[m[1]] = true
			out = append(out, Hazard{ID: m[1], Title: m[2], Line: line})
			current = len(out) - 1
			continue
		}
		if strings.HasPrefix(text, "## ") || strings.HasPrefix(text, "# ") {
			// Any other section heading ends the current hazard.
			current = -1
		}
		if !looseRE.MatchString(text) {
			continue
		}
		m := testRE.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("hazard log line %d: a test must be written as - Test: `./package` `TestName`, got %q", line, strings.TrimSpace(text))
		}
		if current < 0 {
			return nil, fmt.Errorf("hazard log line %d: test listed outside a hazard's section", line)
		}
		out[current].Tests = append(out[current].Tests, TestRef{Package: m[1], Name: m[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read hazard log: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hazard log has no hazards (headings like \"## HAZ-01: Title\")")
	}
	return out, nil
}

// Packages returns the distinct packages the hazards name, in first-seen
// order, each with the distinct top-level test functions to run.
func Packages(hs []Hazard) (pkgs []string, funcs map[string][]string) {
	funcs = map[string][]string{}
	seen := map[string]map[string]bool{}
	for _, h := range hs {
		for _, t := range h.Tests {
			if seen[t.Package] == nil {
				seen[t.Package] = map[string]bool{}
				pkgs = append(pkgs, t.Package)
			}
			if !seen[t.Package][t.Func()] {
				seen[t.Package][t.Func()] = true
				funcs[t.Package] = append(funcs[t.Package], t.Func())
			}
		}
	}
	return pkgs, funcs
}

// RunPattern returns the `go test -run` pattern selecting exactly the given
// top-level test functions.
func RunPattern(funcs []string) string {
	quoted := make([]string, len(funcs))
	for i, f := range funcs {
		quoted[i] = regexp.QuoteMeta(f)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}
