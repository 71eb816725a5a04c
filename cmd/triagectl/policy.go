package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "policy", summary: "check a machine policy file, or show the effective settings and where each came from", run: runPolicy})
}

const policyUsage = `Usage:
  triagectl policy validate FILE     check a policy file; every problem is shown with its line and column
  triagectl policy show [--file F] [--json]
                                     print the effective settings and where each came from
                                     (default, user or policy); --file reads another policy file
                                     instead of this machine's; --env and --base-url show what a
                                     command run with them would use`

func runPolicy(ctx context.Context, g *Globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(g.Stdout, policyUsage)
		if len(args) == 0 {
			return usageError{"say validate or show"}
		}
		return nil
	}
	switch args[0] {
	case "validate":
		return runPolicyValidate(g, args[1:])
	case "show":
		return runPolicyShow(g, args[1:])
	}
	return usageError{fmt.Sprintf("unknown subcommand %q: use validate or show", args[0])}
}

func runPolicyValidate(g *Globals, args []string) error {
	fs := newFlagSet("policy validate", g)
	fs.Usage = func() { fmt.Fprintln(g.Stderr, policyUsage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"give one policy file to check, e.g. triagectl policy validate policy.json"}
	}
	path := fs.Arg(0)
	data, err := readPolicyForValidate(path)
	if err != nil {
		return err
	}
	p, problems := config.ParsePolicy(data, path)
	nerr, nwarn := 0, 0
	for _, pr := range problems {
		fmt.Fprintf(g.Stdout, "%s: %s\n", path, pr)
		if pr.Warning {
			nwarn++
		} else {
			nerr++
		}
	}
	if nerr > 0 {
		return triage.Errorf(triage.EINVALID, "%s has %s%s: correct %s and run validate again", path, count(nerr, "error"), warnSuffix(nwarn), them(nerr))
	}
	fmt.Fprintf(g.Stdout, "%s: valid, %s%s\n", path, count(len(p.Keys()), "setting"), warnSuffix(nwarn))
	return nil
}

// maxPolicyFile is the most `policy validate` reads: a policy file is a
// few hundred bytes of JSON.
const maxPolicyFile = 1 << 20

// readPolicyForValidate reads a policy file for `policy validate` (at most
// maxPolicyFile bytes, regular files only), with a plain-English error
// when it cannot.
func readPolicyForValidate(path string) ([]byte, error) {
	return readInputFile(path, "policy file", maxPolicyFile)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func warnSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return " and " + count(n, "warning")
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func runPolicyShow(g *Globals, args []string) error {
	fs := newFlagSet("policy show", g)
	file := fs.String("file", "", "policy file to use instead of this machine's")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() { fmt.Fprintln(g.Stderr, policyUsage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"policy show takes no arguments; use --file to read another policy file"}
	}
	m, err := loadConfig(g, *file)
	if err != nil {
		var pe *config.PolicyError
		if errors.As(err, &pe) {
			for _, pr := range pe.Problems {
				fmt.Fprintf(g.Stdout, "%s: %s\n", pe.Source, pr)
			}
		}
		return err
	}
	s := m.Settings()
	if *asJSON {
		return printSettingsJSON(g.Stdout, m, s)
	}
	policyPath := *file
	if policyPath == "" {
		policyPath = config.DefaultPolicyPath()
	}
	switch {
	case s.Managed:
		fmt.Fprintf(g.Stdout, "Machine policy: %s\n", s.PolicySource)
	default:
		fmt.Fprintf(g.Stdout, "Machine policy: none (%s is absent or empty): this machine is not managed\n", policyPath)
	}
	fmt.Fprintf(g.Stdout, "User settings:  %s\n\n", m.SettingsPath())
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE\tUSER CAN CHANGE")
	for _, e := range s.Entries() {
		change := "yes"
		if e.Origin.Locked {
			change = "no"
		}
		src := e.Origin.Source.String()
		if e.Origin.Source == config.SourcePolicy && e.Origin.From != "" && strings.Contains(s.PolicySource, " + ") {
			src += " (" + e.Origin.From + ")"
		}
		if e.Origin.Corrected && e.Origin.Source != config.SourcePolicy {
			src += " (corrected to the allowed range)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Key, e.Value, src, change)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range m.PolicyWarnings() {
		fmt.Fprintf(g.Stdout, "\npolicy %s", w)
	}
	for _, n := range s.Notices {
		fmt.Fprintf(g.Stdout, "\nnote: %s", n)
	}
	if len(m.PolicyWarnings())+len(s.Notices) > 0 {
		fmt.Fprintln(g.Stdout)
	}
	if err := s.Environment.Check(); err != nil && s.Environment.Name != config.EnvDemo {
		fmt.Fprintf(g.Stdout, "\nnote: %s\n", triage.ErrorMessage(err))
	}
	return nil
}

func printSettingsJSON(w io.Writer, m *config.Manager, s *config.Settings) error {
	type entry struct {
		Key       string `json:"key"`
		Label     string `json:"label"`
		Value     string `json:"value"`
		Source    string `json:"source"`
		From      string `json:"from,omitempty"`
		Locked    bool   `json:"locked"`
		Corrected bool   `json:"corrected,omitempty"`
	}
	out := struct {
		Policy   string   `json:"policy,omitempty"`
		Settings string   `json:"settings_file"`
		Entries  []entry  `json:"settings"`
		Warnings []string `json:"warnings,omitempty"`
		Notices  []string `json:"notices,omitempty"`
	}{Policy: s.PolicySource, Settings: m.SettingsPath(), Notices: s.Notices}
	for _, e := range s.Entries() {
		out.Entries = append(out.Entries, entry{Key: string(e.Key), Label: e.Label, Value: e.Value, Source: e.Origin.Source.String(),
			From: e.Origin.From, Locked: e.Origin.Locked, Corrected: e.Origin.Corrected})
	}
	for _, p := range m.PolicyWarnings() {
		out.Warnings = append(out.Warnings, p.String())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// loadConfig loads the machine policy (policyPath, or this machine's when
// "") and the user's settings for a command, applying --profile and, when
// given, --env and --base-url. Other commands call loadConfig(g, "") to
// find out where to connect; its errors are config.Load's.
func loadConfig(g *Globals, policyPath string) (*config.Manager, error) {
	var override *config.EnvironmentChoice
	// "demo" is the flag's default; anything else, or a base URL, is a choice.
	if g.Env != "" && (g.Env != string(config.EnvDemo) || g.BaseURL != "") {
		name, err := config.ParseEnvironmentName(g.Env)
		if err != nil {
			return nil, err
		}
		override = &config.EnvironmentChoice{Name: name, FHIRBaseURL: g.BaseURL}
	}
	return config.Load(config.Options{ProfileDir: g.Profile, PolicyPath: policyPath, Override: override})
}
