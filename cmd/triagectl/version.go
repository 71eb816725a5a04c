package main

import (
	"context"
	"fmt"

	"github.com/triagedesk/triagedesk/internal/version"
)

func init() {
	register(command{name: "version", summary: "print the version of this build", run: runVersion})
}

func runVersion(_ context.Context, g *Globals, args []string) error {
	fs := newFlagSet("version", g)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(g.Stdout, version.String())
	return nil
}
