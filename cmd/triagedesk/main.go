// Command triagedesk is the Triage Desk desktop app, in which NHS consultants
// vet the referrals GPs send through the NHS e-Referral Service.
//
// It is deliberately thin: it reads flags and hands over to package ui,
// with the Fyne app ui/fyneapp creates (only ui/... imports Fyne).
//
// With no configuration it runs the demo: the embedded e-RS sandbox with
// synthetic patients, signed in as a synthetic clinician, under a
// "DEMO – synthetic data" banner. --demo forces it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/memlimit"
	"github.com/triagedesk/triagedesk/internal/version"
	"github.com/triagedesk/triagedesk/ui"
	"github.com/triagedesk/triagedesk/ui/fyneapp"
)

// appID is the application id registered with the OS (preferences, keychain
// service name, notifications).
const appID = "io.github.triagedesk"

func main() {
	// A soft memory limit, raised as a large worklist needs (memlimit).
	memlimit.Set()
	go memlimit.Follow(context.Background(), 30*time.Second)
	demo := flag.Bool("demo", false, "run against the embedded e-RS sandbox with synthetic data (the default when nothing is configured)")
	env := flag.String("env", "", "e-RS environment: demo, local, nhs-sandbox, int or prod (default: as configured)")
	baseURL := flag.String("base-url", "", "e-RS FHIR base URL, e.g. the address triagectl sandbox prints (with --env local or nhs-sandbox)")
	noSignIn := flag.Bool("no-sign-in", false, "the local e-RS server has no sign-in (with --env local; e.g. triagectl sandbox --auth off)")
	profile := flag.String("profile", "", "data folder (default: the user's profile folder)")
	keyfile := flag.String("dev-insecure-keyfile", "", "keep keys in this file instead of the OS keychain (development with synthetic data only)")
	referrals := flag.Int("demo-referrals", 0, "how many synthetic referrals the demo sandbox serves (default: the sandbox's)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String())
		return
	}
	opts := app.Options{ProfileDir: *profile, DevInsecureKeyfile: *keyfile, DemoReferrals: *referrals, NoSignIn: *noSignIn}
	switch {
	case *demo:
		opts.Override = &config.EnvironmentChoice{Name: config.EnvDemo}
	case *env != "":
		opts.Override = &config.EnvironmentChoice{Name: config.EnvironmentName(*env), FHIRBaseURL: *baseURL}
	case *baseURL != "":
		fmt.Fprintln(os.Stderr, "triagedesk: --base-url needs --env (local or nhs-sandbox)")
		os.Exit(2)
	}
	if *keyfile != "" {
		opts.KeyWarn = io.Discard
		fmt.Fprintln(os.Stderr, "warning: keys are kept in", *keyfile, "instead of the OS keychain; use synthetic data only")
	}
	a := fyneapp.New(appID, ui.AppIcon)
	var d *ui.Desktop
	ro := ui.RunOptions{App: opts, AfterQuit: func() { exitIfStalled(d, quitGrace) }}
	if os.Getenv(ui.TraceStartEnv) == "1" {
		ro.TraceStart = startProfile(os.Getenv(startProfileEnv), os.Stdout)
	}
	d = ui.NewDesktop(a, ro)
	// SIGTERM and SIGINT also end the run loop (Fyne catches them); the
	// same guard applies.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		exitIfStalled(d, signalGrace)
	}()
	d.Window.SetMaster()
	d.Window.ShowAndRun()
	// The run loop also ends without the clinician choosing to quit (the
	// desktop session ending, SIGTERM): close the store and join the
	// engine either way, and say if decisions were left unsent.
	d.Close()
}

// How long Fyne's shutdown may take once the run loop was asked to stop.
const (
	quitGrace   = 5 * time.Second  // after File → Quit (everything is closed already)
	signalGrace = 10 * time.Second // after SIGTERM or SIGINT
)

// exitIfStalled ends the process, after closing the Desktop (store,
// engine) if that has not happened, should it still be running after
// grace. Fyne v2.7.2's shutdown can wait for ever for a lifecycle event
// queued as its run loop stops; every piece of Triage Desk's own work is
// closed by then, so ending the process loses nothing.
func exitIfStalled(d *ui.Desktop, grace time.Duration) {
	go func() {
		time.Sleep(grace)
		d.Close()
		os.Exit(0)
	}()
}
