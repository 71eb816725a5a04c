// Command triagectl is Triage Desk's headless command-line tool, for support,
// IT and testing: it runs the embedded e-RS sandbox, signs in, syncs, shows the
// worklist and outbox, records decisions, exports vetting packs and checks the
// machine policy, all without a GUI. It builds with CGO_ENABLED=0 and never
// imports Fyne.
//
// Usage:
//
//	triagectl [global flags] <command> [flags] [arguments]
//
// Run `triagectl help` for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Globals are the flags every command accepts, before or after its name.
type Globals struct {
	Profile            string // --profile: data folder
	Env                string // --env: demo, local, nhs-sandbox, int or prod
	BaseURL            string // --base-url: e-RS FHIR base URL for --env local
	DevInsecureKeyfile string // --dev-insecure-keyfile: development only
	Stdout             io.Writer
	Stderr             io.Writer
}

// addGlobalFlags registers the global flags on fs.
func addGlobalFlags(fs *flag.FlagSet, g *Globals) {
	fs.StringVar(&g.Profile, "profile", g.Profile, "data folder (default: the platform's per-user data folder)")
	fs.StringVar(&g.Env, "env", g.Env, "e-RS environment: demo, local, nhs-sandbox, int or prod")
	fs.StringVar(&g.BaseURL, "base-url", g.BaseURL, "e-RS FHIR base URL (with --env local)")
	fs.StringVar(&g.DevInsecureKeyfile, "dev-insecure-keyfile", g.DevInsecureKeyfile, "DEVELOPMENT ONLY: keep the data key in this file instead of the OS keychain")
}

// command is one triagectl subcommand.
type command struct {
	name    string
	summary string
	// run executes the command with its own arguments (global flags included
	// in args are parsed by the command's FlagSet).
	run func(ctx context.Context, g *Globals, args []string) error
}

var commands []command

// register adds a command; each command's file calls it from init.
func register(c command) { commands = append(commands, c) }

// usageError is returned for a wrong command line; it prints without the
// "error:" prefix and exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() { os.Exit(runMain(os.Args[1:])) }

// shutdownGrace is how long a command has to finish after Ctrl-C or
// SIGTERM before triagectl ends anyway.
var shutdownGrace = 5 * time.Second

// runMain runs a command line as the process does: Ctrl-C or SIGTERM
// cancels the command's context, and a command that has not finished
// shutdownGrace later (one blocked where it cannot see the context) is
// abandoned, so a signal always ends triagectl. A second signal ends it at
// once. What the store saved is durable either way.
func runMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, os.Stdout, os.Stderr) }()
	select {
	case code := <-done:
		return code
	case <-ctx.Done():
	}
	stop() // from here a second signal ends the process at once
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case code := <-done:
		return code
	case <-t.C:
		fmt.Fprintln(os.Stderr, "triagectl: stopped before the command finished. Everything already saved is kept; run the command again when ready.")
		return 130
	}
}

// run executes a triagectl command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &Globals{Env: "demo", Stdout: stdout, Stderr: stderr}
	fs := flag.NewFlagSet("triagectl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addGlobalFlags(fs, g)
	fs.Usage = func() { printUsage(stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" {
		printUsage(stdout)
		return 0
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == rest[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "triagectl: unknown command %q. Run 'triagectl help' for the list.\n", rest[0])
		return 2
	}
	err := commands[i].run(ctx, g, rest[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "triagectl %s: %s\n", rest[0], ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "triagectl %s: %s\n", rest[0], triage.ErrorMessage(err))
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: triagectl [--profile DIR] [--env ENV] [--base-url URL] <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	sorted := slices.Clone(commands)
	slices.SortFunc(sorted, func(a, b command) int { return strings.Compare(a.name, b.name) })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'triagectl <command> -h' for a command's flags.")
}
