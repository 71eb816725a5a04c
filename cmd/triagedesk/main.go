// Command triagedesk is the Triage Desk desktop app, in which NHS consultants
// vet the referrals GPs send through the NHS e-Referral Service.
//
// It is deliberately thin: it reads flags, creates the Fyne app and hands
// over to package ui. It is the only package that imports fyne.io/fyne/v2/app.
//
// With no configuration it runs the demo: the embedded e-RS sandbox with
// synthetic patients, signed in as a synthetic clinician, under a
// "DEMO – synthetic data" banner. --demo forces it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"fyne.io/fyne/v2/app"

	tdapp "github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/version"
	"github.com/triagedesk/triagedesk/ui"
)

// appID is the application id registered with the OS (preferences, keychain
// service name, notifications).
const appID = "io.github.triagedesk"

func main() {
	demo := flag.Bool("demo", false, "run against the embedded e-RS sandbox with synthetic data (the default when nothing is configured)")
	env := flag.String("env", "", "e-RS environment: demo, local, nhs-sandbox, int or prod (default: as configured)")
	profile := flag.String("profile", "", "data folder (default: the user's profile folder)")
	keyfile := flag.String("dev-insecure-keyfile", "", "keep keys in this file instead of the OS keychain (development with synthetic data only)")
	referrals := flag.Int("demo-referrals", 0, "how many synthetic referrals the demo sandbox serves (default: the sandbox's)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String())
		return
	}
	opts := tdapp.Options{ProfileDir: *profile, DevInsecureKeyfile: *keyfile, DemoReferrals: *referrals}
	switch {
	case *demo:
		opts.Override = &config.EnvironmentChoice{Name: config.EnvDemo}
	case *env != "":
		opts.Override = &config.EnvironmentChoice{Name: config.EnvironmentName(*env)}
	}
	if *keyfile != "" {
		opts.KeyWarn = io.Discard
		fmt.Fprintln(os.Stderr, "warning: keys are kept in", *keyfile, "instead of the OS keychain; use synthetic data only")
	}
	a := app.NewWithID(appID)
	a.SetIcon(ui.AppIcon)
	d := ui.NewDesktop(a, ui.RunOptions{App: opts})
	d.Window.SetMaster()
	d.Window.ShowAndRun()
	// The run loop also ends without the clinician choosing to quit (the
	// desktop session ending, SIGTERM): close the store and join the
	// engine either way, and say if decisions were left unsent.
	d.Close()
}
