// Command triagedesk is the Triage Desk desktop app, in which NHS consultants
// vet the referrals GPs send through the NHS e-Referral Service.
//
// It is deliberately thin: it reads flags, creates the Fyne app and hands
// over to package ui. It is the only package that imports fyne.io/fyne/v2/app.
package main

import (
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2/app"

	"github.com/triagedesk/triagedesk/internal/version"
	"github.com/triagedesk/triagedesk/ui"
)

// appID is the application id registered with the OS (preferences, keychain
// service name, notifications).
const appID = "io.github.triagedesk"

func main() {
	demo := flag.Bool("demo", true, "run against the embedded e-RS sandbox with synthetic data")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String())
		return
	}
	a := app.NewWithID(appID)
	w, _ := ui.NewShellWindow(a, ui.ShellOptions{Demo: *demo, Environment: "demo"})
	w.SetMaster()
	w.ShowAndRun()
	os.Exit(0)
}
