// Command cachedprofile fills a data folder with the demo's synthetic
// clinician signed in and a cached worklist of N referrals with their
// details, for measuring Triage Desk's start from its encrypted cache
// (scripts/start-check.sh). Keys are kept in the development key file
// DIR/dev.key; synthetic data only.
//
//	go run -tags migrated_fynedo ./internal/app/apptest/cachedprofile [-n 5000] DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
)

func main() {
	n := flag.Int("n", 5000, "how many referrals the cached worklist holds")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: cachedprofile [-n N] DIR (keys in DIR/dev.key)")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	o := app.Options{ProfileDir: dir, DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard, LockTimeout: -1,
		Override: &config.EnvironmentChoice{Name: config.EnvDemo}}
	p, err := apptest.FillCachedProfile(context.Background(), o, *n, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cachedprofile:", err)
		os.Exit(1)
	}
	fmt.Printf("cachedprofile: %d referrals on the worklist, %d cached\n", p.Listed, p.Referrals)
}
