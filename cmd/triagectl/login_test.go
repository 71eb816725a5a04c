package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestLoginWhoamiLogoutDemo(t *testing.T) {
	dir := t.TempDir()
	keyfile := filepath.Join(dir, "dev.key")
	g := []string{"--env", "demo", "--profile", filepath.Join(dir, "profile"), "--dev-insecure-keyfile", keyfile}
	cmd := func(args ...string) (int, string, string) {
		return runCLI(t, append(append([]string{}, g...), args...)...)
	}

	code, out, errOut := cmd("whoami")
	if code != 1 || !strings.Contains(errOut, "not signed in") {
		t.Errorf("whoami before login: %d %q %q", code, out, errOut)
	}

	port := strconv.Itoa(testutil.FreeLoopbackPort(t))
	// Two organisations and no role remembered: the roles are listed.
	code, out, errOut = cmd("login", "--user", erssandbox.UserClinician, "--callback-port", port)
	if code != 1 || !strings.Contains(out, "Service provider clinician at R69") || !strings.Contains(out, "Service provider clinician at RCD") ||
		!strings.Contains(errOut, "--ods CODE --business-function FUNCTION") {
		t.Fatalf("login without a role: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cmd("login", "--user", erssandbox.UserClinician, "--callback-port", port, "--ods", "RCD")
	if code != 0 || !strings.Contains(out, "Signed in to Demo") || !strings.Contains(out, "NOT LIVE") ||
		!strings.Contains(out, "Service provider clinician at RCD") || !strings.Contains(out, erssandbox.UserClinician) {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "PLAIN TEXT") {
		t.Errorf("no development-mode warning: %q", errOut)
	}
	// The session file is private and is the only place the token went.
	fi, err := os.Stat(auth.DevSessionFile(keyfile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v", fi, err)
	}

	code, out, _ = cmd("whoami")
	if code != 0 || !strings.Contains(out, "User:        "+erssandbox.UserClinician) || !strings.Contains(out, "at RCD") || !strings.Contains(out, "signed in until") {
		t.Errorf("whoami: %d\n%s", code, out)
	}
	// The role is remembered: the next login needs no --ods.
	code, out, errOut = cmd("login", "--user", erssandbox.UserClinician, "--callback-port", port)
	if code != 0 || !strings.Contains(out, "at RCD") {
		t.Errorf("second login: %d\n%s\n%s", code, out, errOut)
	}

	code, out, _ = cmd("logout")
	if code != 0 || !strings.Contains(out, "Signed out "+erssandbox.UserClinician) {
		t.Errorf("logout: %d\n%s", code, out)
	}
	code, _, errOut = cmd("whoami")
	if code != 1 || !strings.Contains(errOut, "not signed in") {
		t.Errorf("whoami after logout: %d %q", code, errOut)
	}
	code, out, _ = cmd("logout")
	if code != 0 || !strings.Contains(out, "Nobody was signed in") {
		t.Errorf("second logout: %d %s", code, out)
	}
}

func TestLoginClinicianAdminNeedsWhomTheyActFor(t *testing.T) {
	dir := t.TempDir()
	g := []string{"--env", "demo", "--profile", filepath.Join(dir, "profile"), "--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	port := strconv.Itoa(testutil.FreeLoopbackPort(t))
	code, out, errOut := runCLI(t, append(g, "login", "--user", erssandbox.UserClinicianAdmin, "--callback-port", port)...)
	if code != 1 || !strings.Contains(out, "you may act for") || !strings.Contains(out, erssandbox.UserClinician2) || !strings.Contains(errOut, "--on-behalf-of") {
		t.Fatalf("clinician admin without --on-behalf-of: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, append(g, "login", "--user", erssandbox.UserClinicianAdmin, "--callback-port", port,
		"--ods", "R69", "--business-function", "SERVICE_PROVIDER_CLINICIAN_ADMIN", "--on-behalf-of", erssandbox.UserClinician2)...)
	if code != 0 || !strings.Contains(out, "acting for "+erssandbox.UserClinician2) {
		t.Fatalf("clinician admin: %d\n%s\n%s", code, out, errOut)
	}
}

func TestLoginRefusals(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"development file with live e-RS", []string{"--env", "prod", "--profile", profile, "--dev-insecure-keyfile", filepath.Join(dir, "k"), "whoami"}, 1, "cannot be used with live e-RS"},
		{"no sign-in in the NHS sandbox", []string{"--env", "nhs-sandbox", "--profile", profile, "login", "--user", "555"}, 2, "has no sign-in: leave out --user"},
		{"--client-secret for a remote server", []string{"--env", "local", "--base-url", "https://dev.example.nhs.uk/FHIR", "--profile", profile, "login", "--client-secret", "s"}, 2, "--client-secret-env"},
		{"callback port outside development", []string{"--env", "int", "--profile", profile, "login", "--callback-port", "9999"}, 2, "demo and local environments only"},
		{"INT not set up by IT", []string{"--env", "int", "--profile", profile, "login"}, 1, "Ask your IT team to set client_id"},
		{"--user with real CIS2", []string{"--env", "prod", "--profile", profile, "login", "--user", "555"}, 2, "open the printed address in a browser"},
		{"contradicting flags", []string{"--env", "demo", "--profile", profile, "logout", "--keep-data", "--discard-unsent"}, 2, "contradict"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: %d %q", tc.name, code, errOut)
		}
	}
}

// The vetting commands work through the real sign-in: login as a test
// clinician, then sync, decide and outbox act as that clinician in their own
// store; logout is refused while a decision is unsent, and with
// --discard-unsent signs out and removes the clinician's data.
func TestSignedInVettingEndToEnd(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "profile")
	g := []string{"--env", "demo", "--profile", profile, "--dev-insecure-keyfile", filepath.Join(t.TempDir(), "dev.key")}
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append(append([]string{}, g...), args...)...)
	}
	me := erssandbox.UserClinician2
	data := filepath.Join(profile, "environments", "demo") // the demo's data is kept apart

	code, out, errOut := cmd("login", "--user", me, "--callback-port", strconv.Itoa(testutil.FreeLoopbackPort(t)))
	if code != 0 || !strings.Contains(out, "User:    "+me) || !strings.Contains(out, "at R69") {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cmd("sync")
	if code != 0 || !strings.Contains(out, "Worklist as of") {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
	// The data is the signed-in clinician's, not the demo's default one.
	if fi, err := os.Stat(store.UserDir(data, me)); err != nil || !fi.IsDir() {
		t.Fatalf("no store for %s after sync: %v", me, err)
	}
	if _, err := os.Stat(store.UserDir(data, erssandbox.UserClinician)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a store for the demo's default clinician was created: %v", err)
	}
	code, out, _ = cmd("worklist", "--json")
	var wl app.ReviewList
	if code != 0 || json.Unmarshal([]byte(out), &wl) != nil {
		t.Fatalf("worklist: %d\n%s", code, out)
	}
	var ubrn string
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment {
			ubrn = r.UBRN
			break
		}
	}
	if ubrn == "" {
		t.Fatal("no booked referral in the demo worklist")
	}
	code, out, errOut = cmd("decide", ubrn, "accept")
	if code != 0 || !strings.Contains(out, "Queued: Accept") {
		t.Fatalf("decide: %d %q %q", code, out, errOut)
	}
	code, out, _ = cmd("outbox", "--json")
	var es []store.Entry
	if code != 0 || json.Unmarshal([]byte(out), &es) != nil || len(es) != 1 || es[0].State != triage.OutboxQueued || es[0].By.SDSUserID != me {
		t.Fatalf("outbox: %d\n%s", code, out)
	}

	code, out, errOut = cmd("logout")
	if code != 1 || !strings.Contains(errOut, "1 decision(s) have not reached e-RS") || !strings.Contains(errOut, "--discard-unsent") {
		t.Fatalf("logout with an unsent decision: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cmd("whoami")
	if code != 0 || !strings.Contains(out, "User:        "+me) {
		t.Fatalf("whoami after the refused logout: %d\n%s", code, out)
	}
	code, out, _ = cmd("outbox")
	if code != 0 || !strings.Contains(out, " queued ") {
		t.Fatalf("the unsent decision is not kept after the refused logout: %d\n%s", code, out)
	}

	code, out, errOut = cmd("logout", "--discard-unsent")
	if code != 0 || !strings.Contains(out, "Signed out "+me) || !strings.Contains(out, "1 unsent decision(s) were discarded") {
		t.Fatalf("logout --discard-unsent: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(store.UserDir(data, me)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the clinician's data is still on the computer: %v", err)
	}
	code, _, errOut = cmd("whoami")
	if code != 1 || !strings.Contains(errOut, "not signed in") {
		t.Fatalf("whoami after logout: %d %q", code, errOut)
	}
}
