package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// inProcessSandbox runs the e-RS sandbox as `triagectl sandbox` would, in
// the test's process, with its OAuth2 client registered for a callback on a
// free port.
func inProcessSandbox(t *testing.T, auth bool, referrals ...int) (*erssandbox.Sandbox, string) {
	t.Helper()
	port := strconv.Itoa(testutil.FreeLoopbackPort(t))
	n := 6
	if len(referrals) > 0 {
		n = referrals[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := erssandbox.Start(ctx, erssandbox.Config{Auth: auth, Referrals: n, RedirectURI: "http://127.0.0.1:" + port + "/callback"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sb.Close() })
	return sb, port
}

// acceptAndSendOnce accepts the referral, syncs, and checks that the
// decision reached the sandbox exactly once.
func acceptAndSendOnce(t *testing.T, cmd func(args ...string) (int, string, string), sb *erssandbox.Sandbox, ubrn string) {
	t.Helper()
	if code, out, errOut := cmd("decide", ubrn, "accept"); code != 0 {
		t.Fatalf("decide: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cmd("sync"); code != 0 || !strings.Contains(out, "1 sent") {
		t.Fatalf("sync after decide: %d\n%s\n%s", code, out, errOut)
	}
	if n, applied := writesFor(sb, ubrn); n != 1 || applied != 1 {
		t.Errorf("the decision reached the sandbox %d times (%d applied)", n, applied)
	}
}

// cliWith returns a function that runs triagectl with the global flags
// where before each command's own arguments.
func cliWith(t *testing.T, where []string) func(args ...string) (int, string, string) {
	return func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append(append([]string{}, where...), args...)...)
	}
}

// firstBookedUBRN reads the cached worklist as JSON and returns a booked
// referral.
func firstBookedUBRN(t *testing.T, out string) string {
	t.Helper()
	var wl app.ReviewList
	if err := json.Unmarshal([]byte(out), &wl); err != nil {
		t.Fatalf("worklist JSON: %v\n%s", err, out)
	}
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment {
			return r.UBRN
		}
	}
	t.Fatal("no booked referral")
	return ""
}

// writesFor counts the sandbox's writes to a referral, and how many were
// applied.
func writesFor(sb *erssandbox.Sandbox, ubrn string) (n, applied int) {
	for _, w := range sb.Stats().Writes {
		if w.UBRN == ubrn {
			n++
			if w.Applied {
				applied++
			}
		}
	}
	return n, applied
}

// Signing in to `triagectl sandbox` as the issue describes: the login with
// the sandbox's client id and secret works, and so does every later command
// given the same --env and --base-url (they once said "You are not signed
// in"). Signing in without --client-id works too: the local environment's
// client id is the sandbox's.
func TestLocalSandboxSessionIsFoundByLaterCommands(t *testing.T) {
	sb, port := inProcessSandbox(t, true)
	_, secret, _ := sb.OAuthClient()
	t.Setenv("TD_TEST_SANDBOX_SECRET", secret)
	dir := t.TempDir()
	where := []string{"--env", "local", "--base-url", sb.BaseURL(), "--profile", filepath.Join(dir, "profile"),
		"--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	cmd := cliWith(t, where)
	code, out, errOut := cmd("login", "--user", erssandbox.UserClinician, "--client-id", erssandbox.DefaultClientID,
		"--client-secret-env", "TD_TEST_SANDBOX_SECRET", "--callback-port", port, "--ods", "R69", "--business-function", "SERVICE_PROVIDER_CLINICIAN")
	if code != 0 || !strings.Contains(out, "Signed in to Local development server") {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	for _, c := range [][]string{{"whoami"}, {"sync"}, {"worklist"}} {
		if code, out, errOut := cmd(c...); code != 0 {
			t.Fatalf("%s after login: %d\n%s\n%s", c[0], code, out, errOut)
		}
	}
	_, out, _ = cmd("worklist", "--json")
	ubrn := firstBookedUBRN(t, out)
	acceptAndSendOnce(t, cmd, sb, ubrn)

	// Signing in again without --client-id (the default is the sandbox's).
	code, out, errOut = cmd("logout", "--keep-data")
	if code != 0 {
		t.Fatalf("logout: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cmd("login", "--user", erssandbox.UserClinician, "--client-secret-env", "TD_TEST_SANDBOX_SECRET",
		"--callback-port", port, "--ods", "R69")
	if code != 0 || !strings.Contains(out, "Signed in to Local development server") {
		t.Fatalf("login without --client-id: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cmd("sync"); code != 0 {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
}

// The NHS sandbox (here a copy on a loopback address over plain http) has
// no sign-in, and sync, worklist, show and decide work there (they once
// refused, and the http address was refused too).
func TestNHSSandboxCommandsWithoutSignIn(t *testing.T) {
	sb, _ := inProcessSandbox(t, false)
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	where := []string{"--env", "nhs-sandbox", "--base-url", sb.BaseURL(), "--profile", profile,
		"--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	cmd := cliWith(t, where)
	code, _, errOut := cmd("whoami")
	if code != 1 || !strings.Contains(errOut, "any command (sync, worklist, decide) chooses its example role") {
		t.Errorf("whoami before any command: %d %q", code, errOut)
	}
	code, out, errOut := cmd("sync")
	if code != 0 || !strings.Contains(out, "Worklist as of") {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
	_, out, _ = cmd("worklist", "--json")
	ubrn := firstBookedUBRN(t, out)
	if code, out, errOut := cmd("show", ubrn); code != 0 || !strings.Contains(out, "UBRN "+ubrn) {
		t.Fatalf("show: %d\n%s\n%s", code, out, errOut)
	}
	acceptAndSendOnce(t, cmd, sb, ubrn)
	code, out, _ = cmd("whoami")
	if code != 0 || !strings.Contains(out, "no sign-in") || !strings.Contains(out, erssandbox.UserClinician) {
		t.Errorf("whoami: %d\n%s", code, out)
	}
}

// A local server run without sign-in: one login with --no-sign-in chooses
// the role, and later commands with the same --env and --base-url use it.
func TestLocalServerWithoutSignIn(t *testing.T) {
	sb, _ := inProcessSandbox(t, false)
	dir := t.TempDir()
	where := []string{"--env", "local", "--base-url", sb.BaseURL(), "--profile", filepath.Join(dir, "profile"),
		"--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	cmd := cliWith(t, where)
	code, _, errOut := cmd("sync")
	if code != 1 || !strings.Contains(errOut, "--env local --base-url "+sb.BaseURL()) || !strings.Contains(errOut, "--no-sign-in") {
		t.Fatalf("sync before login: %d %q", code, errOut)
	}
	code, out, errOut := cmd("login", "--no-sign-in", "--ods", "R69")
	if code != 0 || !strings.Contains(out, "Local development server") || !strings.Contains(out, "no sign-in") {
		t.Fatalf("login --no-sign-in: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := cmd("sync"); code != 0 {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--no-sign-in", "--user", "910000000101"}, "leave out --user"},
		{append([]string{"--env", "int"}, "login", "--no-sign-in"), "local"},
	} {
		code, _, errOut := runCLI(t, append(append([]string{}, where...), tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: %d %q", tc.args, code, errOut)
		}
	}
}
