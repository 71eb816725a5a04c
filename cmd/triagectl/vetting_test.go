package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// vetCLI runs triagectl against the demo sandbox with a fresh profile.
func vetCLI(t *testing.T, profile string, args ...string) (int, string, string) {
	t.Helper()
	all := append([]string{"--env", "demo", "--profile", profile, "--dev-insecure-keyfile", filepath.Join(profile, "dev.key")}, args...)
	return runCLI(t, all...)
}

func TestVettingCommandsEndToEnd(t *testing.T) {
	profile := t.TempDir()
	// Nothing synced yet: a plain message with the next step.
	code, _, errs := vetCLI(t, profile, "worklist")
	if code != 1 || !strings.Contains(errs, "Sync first") {
		t.Fatalf("worklist before sync: exit %d, %q", code, errs)
	}

	code, out, errs := vetCLI(t, profile, "sync", "--once")
	if code != 0 || !strings.Contains(out, "Worklist as of") || !strings.Contains(errs, "Downloading [") {
		t.Fatalf("sync: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	code, out, errs = vetCLI(t, profile, "worklist", "--json")
	if code != 0 {
		t.Fatalf("worklist --json: exit %d %s", code, errs)
	}
	var wl app.ReviewList
	if err := json.Unmarshal([]byte(out), &wl); err != nil || len(wl.Rows) == 0 {
		t.Fatalf("worklist JSON: %v (%d rows)", err, len(wl.Rows))
	}
	var booked, ras triage.Row
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment && booked.UBRN == "" {
			booked = r
		}
		if r.Type == triage.ReferralTypeTriageDeferral && ras.UBRN == "" {
			ras = r
		}
	}
	if !booked.OfflineReady {
		t.Errorf("synced referral not ready offline")
	}
	code, out, _ = vetCLI(t, profile, "worklist")
	if code != 0 || !strings.Contains(out, booked.UBRN) || !strings.Contains(out, "PRIORITY") {
		t.Errorf("worklist table: exit %d\n%s", code, out)
	}

	code, out, _ = vetCLI(t, profile, "show", booked.UBRN)
	if code != 0 || !strings.Contains(out, "UBRN "+booked.UBRN) || !strings.Contains(out, "Documents:") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	// A UBRN as people write it, in groups, names the same referral.
	if code, grouped, errs := vetCLI(t, profile, "show", triage.UBRN(booked.UBRN).Format()); code != 0 || grouped != out {
		t.Errorf("show %q: exit %d %s\n%s", triage.UBRN(booked.UBRN).Format(), code, errs, grouped)
	}
	// The patient banner comes first: PDS's details, from the cache.
	if first, _, _ := strings.Cut(out, "\n"); !strings.Contains(first, "   Born ") || !strings.Contains(first, "NHS No. "+triage.FormatNHSNumber(booked.NHSNumber)) {
		t.Errorf("show does not start with the patient banner:\n%s", out)
	}
	code, out, _ = vetCLI(t, profile, "show", "--json", ras.UBRN)
	var shown struct {
		Referral triage.Referral `json:"referral"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.Referral.UBRN != ras.UBRN {
		t.Errorf("show --json: exit %d\n%s", code, out)
	}

	// The GUI's validation applies: a rejection needs a reason; a booked
	// referral cannot take a triage outcome.
	code, _, errs = vetCLI(t, profile, "decide", booked.UBRN, "reject")
	if code != 1 || !strings.Contains(errs, "Choose a reason") {
		t.Errorf("reject without reason: exit %d %q", code, errs)
	}
	code, _, errs = vetCLI(t, profile, "decide", booked.UBRN, "review", "--outcome", "book-later", "--comment", "x")
	if code != 1 || !strings.Contains(errs, "booked referral") {
		t.Errorf("triage outcome on a booked referral: exit %d %q", code, errs)
	}
	code, _, errs = vetCLI(t, profile, "decide", booked.UBRN, "maybe")
	if code != 2 {
		t.Errorf("unknown decision: exit %d %q", code, errs)
	}
	code, out, errs = vetCLI(t, profile, "decide", booked.UBRN, "accept")
	if code != 0 || !strings.Contains(out, "Queued: Accept") {
		t.Fatalf("accept: exit %d %q %q", code, out, errs)
	}
	code, out, errs = vetCLI(t, profile, "decide", ras.UBRN, "review", "--outcome", "return", "--comment", "Please try physiotherapy first.")
	if code != 0 {
		t.Fatalf("review: exit %d %q %q", code, out, errs)
	}
	code, _, errs = vetCLI(t, profile, "decide", booked.UBRN, "accept")
	if code != 1 || errs == "" {
		t.Errorf("second decision on the same referral: exit %d %q", code, errs)
	}

	code, out, _ = vetCLI(t, profile, "outbox", "--json")
	var es []store.Entry
	if code != 0 || json.Unmarshal([]byte(out), &es) != nil || len(es) != 2 || es[0].State != triage.OutboxQueued {
		t.Fatalf("outbox --json before sending: exit %d\n%s", code, out)
	}
	code, out, _ = vetCLI(t, profile, "sync")
	if code != 0 || !strings.Contains(out, "Outbox: 2 sent") {
		t.Fatalf("sync sending: exit %d\n%s", code, out)
	}
	code, out, _ = vetCLI(t, profile, "outbox")
	if code != 0 || strings.Count(out, " sent ") != 2 || !strings.Contains(out, "e-RS version") {
		t.Errorf("outbox table: exit %d\n%s", code, out)
	}
	code, out, _ = vetCLI(t, profile, "conflicts")
	if code != 0 || !strings.Contains(out, "No conflicts") {
		t.Errorf("conflicts: exit %d\n%s", code, out)
	}

	pack := filepath.Join(t.TempDir(), "pack.pdf")
	code, out, errs = vetCLI(t, profile, "export", booked.UBRN, "--out", pack)
	if code != 0 || !strings.Contains(out, "Vetting pack written") {
		t.Fatalf("export: exit %d %q %q", code, out, errs)
	}
	data, err := os.ReadFile(pack)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Fatalf("pack: %d bytes, %v", len(data), err)
	}
	if fi, _ := os.Stat(pack); fi.Mode().Perm() != 0o600 {
		t.Errorf("pack permissions %v, want 0600", fi.Mode().Perm())
	}
	code, _, errs = vetCLI(t, profile, "export", "000000000000", "--out", pack)
	if code != 1 || !strings.Contains(errs, "not downloaded") {
		t.Errorf("export of an unknown referral: exit %d %q", code, errs)
	}
}

func TestVettingCommandsUsage(t *testing.T) {
	profile := t.TempDir()
	for _, args := range [][]string{
		{"sync", "--once", "--watch"},
		{"show"},
		{"decide", "123"},
		{"export", "123"},
		{"outbox", "extra"},
		{"decide", "123", "reject", "--pas-cancelled", "maybe"},
	} {
		if code, _, _ := vetCLI(t, profile, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	// Anything that is not a UBRN is a usage error that says so.
	for _, args := range [][]string{
		{"show", "1000.0000.0001"},
		{"decide", "10000000001", "accept"},
		{"export", "U1000", "--out", filepath.Join(profile, "pack.pdf")},
		{"ers", "referral", "1000_0000_0001"},
		{"ers", "ag-request", "abc"},
	} {
		if code, _, errs := vetCLI(t, profile, args...); code != 2 || !strings.Contains(errs, "is not a UBRN: a UBRN has exactly 12 digits") {
			t.Errorf("%v: exit %d %q, want 2 and the UBRN format", args, code, errs)
		}
	}
	// Outside demo nobody is signed in for the commands: they say how to.
	if code, _, errs := vetCLI(t, profile, "--env", "local", "--base-url", "http://127.0.0.1:9/FHIR", "worklist"); code != 1 || !strings.Contains(errs, "Run 'triagectl login ") || !strings.Contains(errs, "--env local --base-url http://127.0.0.1:9/FHIR") {
		t.Errorf("local without sign-in: exit %d %q", code, errs)
	}
	if code, _, errs := vetCLI(t, profile, "--env", "int", "sync"); code != 1 || !strings.Contains(errs, "client_id") {
		t.Errorf("int not set up: exit %d %q", code, errs)
	}
}

func TestSyncWatchRunsUntilInterrupted(t *testing.T) {
	profile := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--env", "demo", "--profile", profile, "--dev-insecure-keyfile", filepath.Join(profile, "dev.key"),
			"sync", "--watch"}, &out, &errb)
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "Worklist as of") || !strings.Contains(errb.String(), "Downloading [") {
		select {
		case code := <-done:
			t.Fatalf("sync --watch ended early with %d: %s %s", code, out.String(), errb.String())
		case <-deadline:
			t.Fatalf("sync --watch printed no progress: %s %s", out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after interrupt: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sync --watch did not stop after the interrupt")
	}
}

// TestShowListsPatientNeeds: a referral's patient additional requirements
// (interpreter, transport, advocacy) are printed by show.
func TestShowListsPatientNeeds(t *testing.T) {
	profile := t.TempDir()
	if code, _, errs := vetCLI(t, profile, "sync", "--once"); code != 0 {
		t.Fatalf("sync: exit %d %s", code, errs)
	}
	ctx := context.Background()
	demo := app.DataFolder{Dir: demoData(profile), Scope: "demo"}
	st, err := store.Open(ctx, store.Options{ProfileDir: demo.Dir, UserID: erssandbox.UserClinician,
		Keys: demo.Keys(store.DevKeyFileProvider{Path: filepath.Join(profile, "dev.key"), Warn: io.Discard})})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := st.Worklist(ctx, triage.ListReferralsForReview)
	if err != nil || len(wl.Items) == 0 {
		t.Fatalf("worklist: %v", err)
	}
	ubrn := wl.Items[0].UBRN
	cr, err := st.Referral(ctx, ubrn)
	if err != nil {
		t.Fatal(err)
	}
	cr.Referral.AdditionalRequirements = []triage.Coding{{Code: "INTERPRETER", Display: "Interpreter"}, {Code: "TRANSPORT"}}
	if err := st.PutReferral(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errs := vetCLI(t, profile, "show", ubrn)
	if code != 0 || !strings.Contains(out, "Patient needs: Interpreter, Transport") {
		t.Errorf("show: exit %d %s\n%s", code, errs, out)
	}
}
