// Command safetycheck runs exactly the tests the clinical-safety hazard log
// names as evidence and prints hazard → tests → pass/fail. It exits non-zero
// if any hazard has no test, or any named test is missing, skipped or fails.
// `make safety` runs it from the repository root.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/triagedesk/triagedesk/internal/safetylog"
)

func main() {
	logPath := flag.String("log", "docs/clinical-safety/hazard-log.md", "hazard log to read")
	tags := flag.String("tags", "migrated_fynedo", "build tags for go test")
	race := flag.Bool("race", false, "run the tests with the race detector")
	flag.Parse()
	if err := run(*logPath, *tags, *race); err != nil {
		fmt.Fprintln(os.Stderr, "safety:", err)
		os.Exit(1)
	}
}

func run(logPath, tags string, race bool) error {
	f, err := os.Open(logPath)
	if err != nil {
		return fmt.Errorf("open hazard log: %w", err)
	}
	hazards, err := safetylog.Parse(f)
	f.Close()
	if err != nil {
		return err
	}
	pkgs, funcs := safetylog.Packages(hazards)
	results := map[string]map[string]safetylog.Outcome{}
	for _, pkg := range pkgs {
		args := []string{"test", "-tags", tags, "-count=1", "-json", "-run", safetylog.RunPattern(funcs[pkg])}
		if race {
			args = append(args, "-race")
		}
		args = append(args, pkg)
		fmt.Fprintf(os.Stderr, "running %d test(s) in %s\n", len(funcs[pkg]), pkg)
		var out bytes.Buffer
		cmd := exec.Command("go", args...)
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		// A failing test makes go test exit non-zero; the JSON says which.
		_ = cmd.Run()
		res, err := safetylog.ReadResults(&out)
		if err != nil {
			return fmt.Errorf("%s: %w", pkg, err)
		}
		results[pkg] = res
	}
	if !safetylog.Report(os.Stdout, safetylog.Judge(hazards, results)) {
		return fmt.Errorf("not every hazard is proven by passing tests")
	}
	return nil
}
