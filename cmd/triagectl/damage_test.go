package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Record damage as the command line sees it: the real triagectl binary,
// one process per command, against the demo sandbox. For each bucket of
// both files one byte of one stored value is flipped, then sync, outbox
// and doctor run in turn.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// triagectlBinary builds triagectl once for the package's tests.
func triagectlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "triagectl-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "triagectl")
		cmd := exec.Command("go", "build", "-tags", "migrated_fynedo", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("build triagectl: %v", binErr)
	}
	return binPath
}

// cli runs the binary against the demo with profile.
func cli(t *testing.T, profile string, args ...string) (int, string, string) {
	t.Helper()
	all := append([]string{"--env", "demo", "--profile", profile, "--dev-insecure-keyfile", filepath.Join(profile, "dev.key")}, args...)
	cmd := exec.Command(triagectlBinary(t), all...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run triagectl: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

var (
	damageProfileOnce sync.Once
	damageProfile     string
)

// damageBaseProfile is a profile that has synced, sent one decision and
// queued two more (built once, copied for each case).
func damageBaseProfile(t *testing.T) string {
	t.Helper()
	damageProfileOnce.Do(func() {
		p, err := os.MkdirTemp("", "triagectl-damage-")
		if err != nil {
			t.Fatal(err)
		}
		if code, _, errs := cli(t, p, "sync", "--once"); code != 0 {
			t.Fatalf("sync: %s", errs)
		}
		_, out, _ := cli(t, p, "worklist", "--json")
		var wl app.ReviewList
		if err := json.Unmarshal([]byte(out), &wl); err != nil {
			t.Fatal(err)
		}
		var booked []string
		for _, r := range wl.Rows {
			if r.Type == triage.ReferralTypeAppointment {
				booked = append(booked, r.UBRN)
			}
		}
		for i, u := range booked[:3] {
			if code, _, errs := cli(t, p, "decide", u, "accept"); code != 0 {
				t.Fatalf("decide: %s", errs)
			}
			if i == 0 {
				if code, out, errs := cli(t, p, "sync"); code != 0 || !strings.Contains(out, "1 sent") {
					t.Fatalf("sync sending: %s %s", out, errs)
				}
			}
		}
		damageProfile = p
	})
	if damageProfile == "" {
		t.Fatal("no base profile")
	}
	dst := t.TempDir()
	err := filepath.WalkDir(damageProfile, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(damageProfile, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// verdictLine returns the line of out that carries marker, with marker and
// anything before it removed.
func verdictLine(out, marker string) string {
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, marker); i >= 0 {
			return strings.TrimSpace(l[i+len(marker):])
		}
	}
	return ""
}

// demoData is where the demo environment keeps its clinicians' stores in
// profile: a folder of its own, apart from every other environment's.
func demoData(profile string) string {
	return filepath.Join(profile, "environments", "demo")
}

func outboxEntries(t *testing.T, profile string) []store.Entry {
	t.Helper()
	_, out, _ := cli(t, profile, "outbox", "--json")
	var es []store.Entry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatalf("outbox --json: %v\n%s", err, out)
	}
	return es
}

func TestCLIRecordDamageInEveryOutboxBucket(t *testing.T) {
	cases := []struct {
		bucket string
		key    []byte // nil: the bucket's first record
		held   bool
	}{
		{"entries", nil, false},
		{"decisions", nil, false},
		{"active", nil, false},
		{"audit", nil, false},
		{"meta", []byte("audithead"), true},
	}
	for _, c := range cases {
		t.Run(c.bucket, func(t *testing.T) {
			profile := damageBaseProfile(t)
			dir := store.UserDir(demoData(profile), erssandbox.UserClinician)
			ob := filepath.Join(dir, store.OutboxFile)
			before := outboxEntries(t, profile)
			testutil.FlipStoredValue(t, ob, c.bucket, c.key)
			damaged := hashFile(t, ob)

			// outbox: lists what can be read, and the damage, loudly.
			code, out, _ := cli(t, profile, "outbox")
			if code != 1 || strings.Contains(out, "The outbox is empty") || !strings.Contains(out, "Outbox: DAMAGED:") {
				t.Errorf("outbox: exit %d\n%s", code, out)
			}
			fromOutbox := verdictLine(out, "Outbox: DAMAGED:")
			if hashFile(t, ob) != damaged {
				t.Fatal("outbox (read-only) changed the damaged file")
			}

			// doctor: the same verdict, every damaged record named.
			code, out, _ = cli(t, profile, "doctor")
			if code != 1 || !strings.Contains(out, "DAMAGED RECORDS") || !strings.Contains(out, fromOutbox) {
				t.Errorf("doctor: exit %d, want the verdict %q\n%s", code, fromOutbox, out)
			}
			if hashFile(t, ob) != damaged {
				t.Fatal("doctor changed the damaged file")
			}

			// sync: never "empty"; the same verdict; the queued decisions
			// are sent, or all held.
			code, out, errs := cli(t, profile, "sync")
			if code != 1 || strings.Contains(out, "Outbox: empty") || verdictLine(out, "Outbox: DAMAGED:") != fromOutbox {
				t.Errorf("sync: exit %d, want the verdict %q\n%s\n%s", code, fromOutbox, out, errs)
			}
			after := outboxEntries(t, profile)
			if len(after) < len(before)-1 {
				t.Errorf("%d decisions listed after the sync, %d before", len(after), len(before))
			}
			for _, e := range after {
				switch {
				case c.held && e.State != triage.OutboxQueued && e.State != triage.OutboxSent:
					t.Errorf("held outbox: decision %s is %s", e.ID, e.State)
				case c.held && e.State == triage.OutboxQueued && e.Attempts != 0:
					t.Errorf("held outbox: decision %s was tried", e.ID)
				case !c.held && e.State != triage.OutboxSent:
					t.Errorf("decision %s is %s after the sync, want sent", e.ID, e.State)
				}
			}
			if c.held {
				queued := 0
				for _, e := range after {
					if e.State == triage.OutboxQueued {
						queued++
					}
				}
				if queued != 2 || !strings.Contains(out, "held") {
					t.Errorf("held outbox: %d queued, output:\n%s", queued, out)
				}
			}

			// doctor exports what can be read and sets the file aside.
			export := filepath.Join(t.TempDir(), "decisions.json")
			code, out, errs = cli(t, profile, "doctor", "--export", export, "--set-aside-outbox")
			if code != 0 || !strings.Contains(out, "renamed to") {
				t.Fatalf("doctor --set-aside-outbox: exit %d\n%s\n%s", code, out, errs)
			}
			var ex store.Export
			b, _ := os.ReadFile(export)
			if err := json.Unmarshal(b, &ex); err != nil || len(ex.Damaged) != 1 {
				t.Errorf("export: %v, %d damaged records listed", err, len(ex.Damaged))
			}
			if code, out, _ := cli(t, profile, "outbox"); code != 0 || !strings.Contains(out, "The outbox is empty") {
				t.Errorf("after set-aside: exit %d\n%s", code, out)
			}
		})
	}
}

func TestCLIRecordDamageInEveryCacheBucket(t *testing.T) {
	for _, bucket := range []string{"refs", "referrals", "docs", "worklists", "refdata"} {
		t.Run(bucket, func(t *testing.T) {
			profile := damageBaseProfile(t)
			dir := store.UserDir(demoData(profile), erssandbox.UserClinician)
			ob := filepath.Join(dir, store.OutboxFile)
			testutil.FlipStoredValue(t, filepath.Join(dir, store.CacheFile), bucket, nil)
			outboxBefore := hashFile(t, ob)

			code, out, _ := cli(t, profile, "doctor")
			if code != 0 || !strings.Contains(out, "DAMAGED RECORDS") || !strings.Contains(out, "downloads them again") {
				t.Errorf("doctor before the sync: exit %d\n%s", code, out)
			}
			if code, out, _ := cli(t, profile, "outbox"); code != 0 || strings.Contains(out, "DAMAGED") {
				t.Errorf("outbox: exit %d\n%s", code, out)
			}
			if hashFile(t, ob) != outboxBefore {
				t.Error("read-only commands changed the outbox")
			}
			code, out, errs := cli(t, profile, "sync")
			if code != 0 || !strings.Contains(out, "Outbox: 3 sent") {
				t.Fatalf("sync after the damage: exit %d\n%s\n%s", code, out, errs)
			}
			code, out, _ = cli(t, profile, "doctor")
			if code != 0 || strings.Contains(out, "DAMAGED") {
				t.Errorf("doctor after the sync: exit %d\n%s", code, out)
			}
		})
	}
}
