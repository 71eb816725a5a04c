package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// ubrnArg parses a UBRN given on the command line ("100000000001",
// "1000 0000 0001" or "1000-0000-0001") and returns its canonical twelve
// digits. Anything else is a usage error (exit status 2).
func ubrnArg(s string) (string, error) {
	u, err := triage.ParseUBRN(s)
	if err != nil {
		return "", usageError{fmt.Sprintf("%q is not a UBRN: %v", s, err)}
	}
	return u.String(), nil
}

// newFlagSet returns a FlagSet for a command that also accepts the global
// flags, printing its errors and help to g.Stderr.
func newFlagSet(name string, g *Globals) *flag.FlagSet {
	fs := flag.NewFlagSet("triagectl "+name, flag.ContinueOnError)
	fs.SetOutput(g.Stderr)
	addGlobalFlags(fs, g)
	return fs
}

// parseFlags parses the arguments of a command that takes flags only: a
// positional argument is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// parseFlagsAndOpen parses a flag-only command's arguments, then opens the
// app as the commands that read the local data do (openApp, offline).
func parseFlagsAndOpen(ctx context.Context, g *Globals, fs *flag.FlagSet, args []string) (*app.Workspace, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return openApp(ctx, g, true)
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (triagectl ers referral UBRN --base-url URL), and
// returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseUBRNArgs parses a command whose first positional argument is a UBRN:
// exactly n positional arguments, else usage is the usage error. The UBRN
// comes back in canonical form (ubrnArg).
func parseUBRNArgs(fs *flag.FlagSet, args []string, n int, usage string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != n {
		return nil, usageError{usage}
	}
	if pos[0], err = ubrnArg(pos[0]); err != nil {
		return nil, err
	}
	return pos, nil
}
