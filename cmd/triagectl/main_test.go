package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestRunVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 {
		t.Fatalf("version exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "Triage Desk ") {
		t.Errorf("version printed %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "version") {
		t.Errorf("help exit %d: %q", code, out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command exit %d: %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"--profile", "/tmp/x", "version", "--env", "int"}, &out, &errb); code != 0 {
		t.Errorf("global flags before and after the command: exit %d: %s", code, errb.String())
	}
}

func TestArgHelpers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parse   func(g *Globals, args []string) ([]string, error)
		args    []string
		want    []string
		usage   string // the usage error wanted, if any
		outFlag string
	}{
		{name: "flags only", args: []string{"--json"}, parse: flagsOnly},
		{name: "flags only, an argument", args: []string{"--json", "x"}, parse: flagsOnly, usage: `unexpected argument "x"`},
		{name: "interleaved", args: []string{"a", "--out", "f", "b", "--json"}, parse: anyArgs, want: []string{"a", "b"}, outFlag: "f"},
		{name: "grouped UBRN", args: []string{"1000 0000 0001", "--out", "p.pdf"}, parse: oneUBRN, want: []string{"100000000001"}, outFlag: "p.pdf"},
		{name: "hyphenated UBRN", args: []string{"--out", "p.pdf", "1000-0000-0001"}, parse: oneUBRN, want: []string{"100000000001"}, outFlag: "p.pdf"},
		{name: "not a UBRN", args: []string{"1000.0000.0001"}, parse: oneUBRN, usage: `"1000.0000.0001" is not a UBRN: a UBRN has exactly 12 digits`},
		{name: "no UBRN", args: []string{"--json"}, parse: oneUBRN, usage: "give one UBRN"},
		{name: "two UBRNs", args: []string{"100000000001", "100000000002"}, parse: oneUBRN, usage: "give one UBRN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &Globals{Stdout: io.Discard, Stderr: io.Discard}
			pos, err := tc.parse(g, tc.args)
			var ue usageError
			if tc.usage != "" {
				if !errors.As(err, &ue) || !strings.Contains(ue.msg, tc.usage) {
					t.Fatalf("got %v, %v; want usage error %q", pos, err, tc.usage)
				}
				return
			}
			if err != nil || !slices.Equal(pos, tc.want) {
				t.Fatalf("got %v, %v; want %v", pos, err, tc.want)
			}
			if g.Profile != tc.outFlag {
				t.Errorf("--out = %q, want %q", g.Profile, tc.outFlag)
			}
		})
	}
}

// The helpers under test, on a FlagSet with --json and an --out that
// writes to g.Profile (so the test can see it), plus the global flags.
func testFlags(g *Globals) *flag.FlagSet {
	fs := newFlagSet("test", g)
	fs.Bool("json", false, "")
	fs.StringVar(&g.Profile, "out", "", "")
	return fs
}

func flagsOnly(g *Globals, args []string) ([]string, error) {
	return nil, parseFlags(testFlags(g), args)
}

func anyArgs(g *Globals, args []string) ([]string, error) { return parseArgs(testFlags(g), args) }

func oneUBRN(g *Globals, args []string) ([]string, error) {
	return parseUBRNArgs(testFlags(g), args, 1, "give one UBRN")
}
