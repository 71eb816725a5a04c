// Command safetycheck runs exactly the tests the clinical-safety hazard log
// names as evidence and prints hazard → tests → pass/fail. It exits non-zero
// if any hazard has no test, or any named test is missing, skipped or fails.
// `make safety` runs it from the repository root.
//
// The named tests of every package run in one `go test` invocation, so
// packages are tested in parallel. With -results FILE it runs nothing and
// judges the hazards from a `go test -json ./...` log instead.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/triagedesk/triagedesk/internal/safetylog"
)

func main() {
	logPath := flag.String("log", "docs/clinical-safety/hazard-log.md", "hazard log to read")
	tags := flag.String("tags", "migrated_fynedo,no_emoji", "build tags for go test (as in scripts/build-tags)")
	race := flag.Bool("race", false, "run the tests with the race detector")
	results := flag.String("results", "", "judge from this `go test -json` log instead of running the tests")
	flag.Parse()
	if err := run(*logPath, *tags, *race, *results); err != nil {
		fmt.Fprintln(os.Stderr, "safety:", err)
		os.Exit(1)
	}
}

func run(logPath, tags string, race bool, resultsPath string) error {
	f, err := os.Open(logPath)
	if err != nil {
		return fmt.Errorf("open hazard log: %w", err)
	}
	hazards, err := safetylog.Parse(f)
	f.Close()
	if err != nil {
		return err
	}
	mod, err := modulePath("go.mod")
	if err != nil {
		return err
	}
	var out io.Reader
	if resultsPath != "" {
		b, err := os.ReadFile(resultsPath)
		if err != nil {
			return fmt.Errorf("read test results: %w", err)
		}
		out = bytes.NewReader(b)
	} else {
		pkgs, funcs := safetylog.Packages(hazards)
		var all []string
		for _, pkg := range pkgs {
			all = append(all, funcs[pkg]...)
		}
		// A generous time limit: the evidence must not fail because the
		// machine is busy (go test's default is 10 minutes per package).
		args := []string{"test", "-tags", tags, "-count=1", "-timeout", "30m", "-json", "-run", safetylog.RunPattern(all)}
		if race {
			args = append(args, "-race")
		}
		args = append(args, pkgs...)
		fmt.Fprintf(os.Stderr, "running %d test(s) in %d packages\n", len(all), len(pkgs))
		var buf bytes.Buffer
		cmd := exec.Command("go", args...)
		cmd.Stdout = &buf
		cmd.Stderr = os.Stderr
		// A failing test makes go test exit non-zero; the JSON says which.
		_ = cmd.Run()
		out = &buf
	}
	byPkg, err := safetylog.ReadPackageResults(out)
	if err != nil {
		return err
	}
	if !safetylog.Report(os.Stdout, safetylog.Judge(hazards, safetylog.ByRelativePackage(byPkg, mod))) {
		return fmt.Errorf("not every hazard is proven by passing tests")
	}
	return nil
}

var moduleLine = regexp.MustCompile(`^module\s+(\S+)`)

// modulePath reads the module path from go.mod.
func modulePath(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read module path (run from the repository root): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := moduleLine.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			return strings.Trim(m[1], `"`), nil
		}
	}
	return "", fmt.Errorf("no module line in %s", path)
}
