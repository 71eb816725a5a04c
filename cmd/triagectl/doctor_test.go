package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

var doctorClinician = triage.Identity{SDSUserID: "555000111222", ODS: "RX1", BusinessFunction: triage.RoleServiceProviderClinician}

// doctorProfileWith makes a profile holding three decisions (one sent) for
// one user, keyed by a development key file.
func doctorProfileWith(t *testing.T) (profile, keyfile string) {
	t.Helper()
	profile = t.TempDir()
	keyfile = filepath.Join(t.TempDir(), "dev.key")
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{ProfileDir: profile, UserID: doctorClinician.SDSUserID,
		Keys:   store.DevKeyFileProvider{Path: keyfile, Warn: io.Discard},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i, ubrn := range []string{"000000070001", "000000070002", "000000070003"} {
		e, err := s.Enqueue(ctx, triage.Decision{Kind: triage.DecisionReject, UBRN: ubrn, BaseVersion: 3, By: doctorClinician,
			Reason: triage.Coding{Code: "R1"}, Comments: "Synthetic comment for the doctor test"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			_, _ = s.BeginSend(ctx, e.ID)
			if _, err := s.MarkSent(ctx, e.ID, store.SentResult{NewVersion: 4}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return profile, keyfile
}

func doctor(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"doctor"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDoctorHealthy(t *testing.T) {
	profile, keyfile := doctorProfileWith(t)
	code, out, errOut := doctor(t, "--profile", profile, "--dev-insecure-keyfile", keyfile)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"OK, 3 decision(s), 2 not yet sent", "audit chain verified", "present in the development key file", "Offline copy"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "--dev-insecure-keyfile is in use") {
		t.Errorf("no development key warning: %q", errOut)
	}
	if strings.Contains(out, "000000070001") {
		t.Error("doctor printed a UBRN")
	}
	// An empty profile is not an error.
	if code, out, _ := doctor(t, "--profile", t.TempDir()); code != 0 || !strings.Contains(out, "No user data") {
		t.Errorf("empty profile: exit %d %q", code, out)
	}
}

func TestDoctorExplainsExportsAndSetsAsideDamagedOutbox(t *testing.T) {
	profile, keyfile := doctorProfileWith(t)
	dir := store.UserDir(profile, doctorClinician.SDSUserID)
	ob := filepath.Join(dir, store.OutboxFile)
	f, err := os.OpenFile(ob, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt(make([]byte, 2*os.Getpagesize()), 0) // zero both meta pages
	f.Close()

	// The app refuses to start and points here.
	_, err = store.Open(context.Background(), store.Options{ProfileDir: profile, UserID: doctorClinician.SDSUserID,
		Keys: store.DevKeyFileProvider{Path: keyfile, Warn: io.Discard}})
	if !strings.Contains(triage.ErrorMessage(err), "triagectl doctor") {
		t.Fatalf("open: %v", err)
	}

	code, out, _ := doctor(t, "--profile", profile, "--dev-insecure-keyfile", keyfile)
	if code != 1 {
		t.Errorf("exit %d for a damaged outbox", code)
	}
	for _, want := range []string{"DAMAGED", "Nothing has been changed or deleted", "--export decisions.json", "--set-aside-outbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}

	if code, _, errOut := doctor(t, "--profile", profile, "--set-aside-outbox"); code != 2 || !strings.Contains(errOut, "needs --export") {
		t.Errorf("set aside without export: exit %d %q", code, errOut)
	}

	exportPath := filepath.Join(t.TempDir(), "decisions.json")
	code, out, errOut := doctor(t, "--profile", profile, "--dev-insecure-keyfile", keyfile, "--export", exportPath)
	if code != 1 || !strings.Contains(out, "Exported 3 decision(s) (2 not sent)") || !strings.Contains(errOut, "patient identifiers") {
		t.Fatalf("export: exit %d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(exportPath)
	if err != nil {
		t.Fatal(err)
	}
	var ex store.Export
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Warning == "" || len(ex.Decisions) != 3 || len(ex.Audit) != 4 || !strings.Contains(ex.Method, "scan") ||
		ex.Decisions[0].Decision.UBRN == "" || ex.Decisions[0].Decision.Comments == "" {
		t.Errorf("export content: %+v", ex)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(exportPath); fi.Mode().Perm() != 0o600 {
			t.Errorf("export file mode %v", fi.Mode().Perm())
		}
	}
	// Never overwrites.
	if code, _, errOut := doctor(t, "--profile", profile, "--dev-insecure-keyfile", keyfile, "--export", exportPath); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("overwrite: exit %d %q", code, errOut)
	}

	exportPath2 := filepath.Join(t.TempDir(), "again.json")
	code, out, errOut = doctor(t, "--profile", profile, "--dev-insecure-keyfile", keyfile, "--export", exportPath2, "--set-aside-outbox")
	if code != 0 || !strings.Contains(out, "renamed to") {
		t.Fatalf("set aside: exit %d\n%s\n%s", code, out, errOut)
	}
	s, err := store.Open(context.Background(), store.Options{ProfileDir: profile, UserID: doctorClinician.SDSUserID,
		Keys: store.DevKeyFileProvider{Path: keyfile, Warn: io.Discard}})
	if err != nil {
		t.Fatalf("open after set aside: %v", err)
	}
	s.Close()
}
