package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The test binary can run as triagectl itself (for tests of signals): with
// mainChildEnv set it runs runMain on TRIAGECTL_ARGS, with shutdownGrace
// from graceEnv, and exits.
const (
	mainChildEnv = "TRIAGECTL_TEST_MAIN"
	graceEnv     = "TRIAGECTL_TEST_GRACE"
)

func init() {
	// A command that never returns and ignores its context, as a command
	// blocked in a system call would.
	register(command{name: "hang-for-test", summary: "(tests only)", run: func(_ context.Context, g *Globals, _ []string) error {
		fmt.Fprintln(g.Stdout, "hanging")
		select {}
	}})
}

func TestMain(m *testing.M) {
	if os.Getenv(mainChildEnv) != "" {
		if d, err := time.ParseDuration(os.Getenv(graceEnv)); err == nil {
			shutdownGrace = d
		}
		os.Exit(runMain(strings.Fields(os.Getenv("TRIAGECTL_ARGS"))))
	}
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	if damageProfile != "" {
		_ = os.RemoveAll(damageProfile)
	}
	os.Exit(code)
}
