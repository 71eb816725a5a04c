package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "doctor", summary: "check the local data files; explain and export a damaged outbox", run: runDoctor})
}

// storeKeyProvider returns the key store the global flags select: the OS keychain,
// or the development key file (which warns on every use).
func storeKeyProvider(g *Globals) store.KeyProvider {
	if g.DevInsecureKeyfile != "" {
		return store.DevKeyFileProvider{Path: g.DevInsecureKeyfile, Warn: g.Stderr}
	}
	return store.KeychainProvider{}
}

func doctorProfile(g *Globals) (string, error) {
	if g.Profile != "" {
		return g.Profile, nil
	}
	return config.DefaultProfileDir()
}

func runDoctor(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("doctor", g)
	user := fs.String("user", "", "check only this user: SDS user id, or the user folder name")
	export := fs.String("export", "", "write the decisions and audit log that can be read from the outbox to this JSON file (contains patient identifiers)")
	setAside := fs.Bool("set-aside-outbox", false, "after --export, rename a damaged outbox.db aside so Triage Desk can start (nothing is deleted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected argument " + fs.Arg(0)}
	}
	if *setAside && *export == "" {
		return usageError{"--set-aside-outbox needs --export FILE, so what can be read is saved first"}
	}
	profile, err := doctorProfile(g)
	if err != nil {
		return err
	}
	folders, err := app.DataFolders(profile)
	if err != nil {
		return err
	}
	// Each user folder of every environment's data, with the keys it is
	// sealed under: the demo's and the local servers' data live apart from
	// INT's and live e-RS's, under keys of their own.
	type userData struct {
		dir    string
		folder app.DataFolder
	}
	var dirs []userData
	for _, f := range folders {
		if *user != "" {
			dir := filepath.Join(f.Dir, "users", *user)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				dir = store.UserDir(f.Dir, *user)
			}
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				dirs = append(dirs, userData{dir, f})
			}
			continue
		}
		ds, err := store.UserDirs(f.Dir)
		if err != nil {
			return err
		}
		for _, d := range ds {
			dirs = append(dirs, userData{d, f})
		}
	}
	w := g.Stdout
	fmt.Fprintf(w, "Triage Desk data folder: %s\n", profile)
	if len(dirs) == 0 {
		if *user != "" {
			fmt.Fprintf(w, "No data is stored here for user %s.\n", *user)
		} else {
			fmt.Fprintln(w, "No user data is stored here yet.")
		}
		return nil
	}
	if *export != "" && len(dirs) != 1 {
		return usageError{"several users or environments have data here: choose one with --user (SDS user id or folder name) to export"}
	}
	inner := storeKeyProvider(g)
	damaged := 0
	for _, d := range dirs {
		if d.folder.Scope != "" {
			fmt.Fprintf(w, "\nEnvironment: %s\n", d.folder.Label())
		}
		r := store.Diagnose(ctx, d.dir, d.folder.Keys(inner))
		printUserReport(w, r, g.DevInsecureKeyfile != "")
		if r.Outbox.State == store.FileDamaged || r.Outbox.State == store.FileRecordsDamaged || r.Outbox.State == store.FileWrongKey ||
			(r.Key == store.KeyMissing && r.Outbox.State != store.FileMissing) {
			damaged++
			explainOutbox(w, r, len(dirs) > 1)
		}
	}
	if *export != "" {
		keys := dirs[0].folder.Keys(inner)
		if err := exportOutbox(ctx, g, dirs[0].dir, keys, *export); err != nil {
			return err
		}
		if *setAside {
			aside, err := store.SetAsideOutbox(ctx, dirs[0].dir, keys, time.Now())
			if err != nil {
				return &triage.Error{Code: triage.EINVALID, Message: "The saved decisions file was not set aside: " + plainSetAsideReason(err), Err: err}
			}
			fmt.Fprintf(w, "\nThe damaged file was renamed to %s (nothing was deleted). Triage Desk will start with an empty outbox.\n", aside)
			damaged--
		}
	}
	if damaged > 0 {
		return &triage.Error{Code: triage.EINTERNAL, Message: "A saved decisions file needs attention: see the steps above."}
	}
	return nil
}

func plainSetAsideReason(err error) string {
	if errors.Is(err, store.ErrAlreadyRunning) {
		return "Triage Desk has it open. Close Triage Desk and try again."
	}
	return "it is not damaged, so it was left in place."
}

func printUserReport(w io.Writer, r store.UserReport, devKeyFile bool) {
	where := "the keychain"
	if devKeyFile {
		where = "the development key file"
	}
	fmt.Fprintf(w, "\nUser folder %s\n", filepath.Base(r.Dir))
	switch r.Key {
	case store.KeyPresent:
		fmt.Fprintf(w, "  Key:            present in %s\n", where)
	case store.KeyMissing:
		fmt.Fprintf(w, "  Key:            MISSING from %s: the files below cannot be read\n", where)
	case store.KeyUnavailable:
		fmt.Fprintln(w, "  Key:            the keychain could not be reached, so the files were checked without it")
	}
	printFile(w, "Saved decisions", r.Outbox, true)
	printFile(w, "Offline copy", r.Cache, false)
	for _, f := range r.SetAside {
		fmt.Fprintf(w, "  Set aside:      %s (kept for support)\n", filepath.Base(f))
	}
}

func printFile(w io.Writer, label string, f store.FileReport, outbox bool) {
	name := filepath.Base(f.Path)
	fmt.Fprintf(w, "  %-15s %s (%s): ", label+":", name, humanSize(f.Size))
	switch f.State {
	case store.FileOK:
		if outbox {
			fmt.Fprintf(w, "OK, %d decision(s)", f.Counts["entries"])
			if f.KeyChecked {
				fmt.Fprintf(w, ", %d not yet sent, %d audit record(s)", f.Unsent, f.AuditRecords)
				if f.AuditProblem != "" {
					fmt.Fprintf(w, "; AUDIT LOG FAILED ITS CHECK: %s", f.AuditProblem)
				} else {
					fmt.Fprint(w, ", audit chain verified")
				}
			}
			fmt.Fprintln(w)
		} else {
			fmt.Fprintf(w, "OK, %d referral(s), %d document(s)\n", f.Counts["refs"], f.Counts["docs"])
		}
	case store.FileMissing:
		fmt.Fprintln(w, "not created yet")
	case store.FileRecordsDamaged:
		if !outbox {
			fmt.Fprintf(w, "DAMAGED RECORDS\n    %s\n", f.Problem)
			break
		}
		fmt.Fprintf(w, "DAMAGED RECORDS, %d readable decision(s), %d not yet sent (counting damaged records that may hold one), %d audit record(s)",
			f.Counts["entries"]-countBucket(f.Damage, "entries"), f.Unsent, f.AuditRecords)
		if f.AuditProblem != "" {
			fmt.Fprintf(w, "; AUDIT LOG FAILED ITS CHECK: %s", f.AuditProblem)
		}
		fmt.Fprintf(w, "\n    %s\n", f.Problem)
		for _, l := range f.Damage.Lines() {
			fmt.Fprintf(w, "    - %s\n", l)
		}
	default:
		fmt.Fprintf(w, "%s\n    %s\n", strings.ToUpper(string(f.State)), f.Problem)
		if !outbox && f.State == store.FileDamaged {
			fmt.Fprintln(w, "    Triage Desk sets a damaged offline copy aside by itself and downloads the referrals again; nothing needs doing.")
		}
	}
}

func explainOutbox(w io.Writer, r store.UserReport, several bool) {
	sel := ""
	if several {
		sel = " --user " + filepath.Base(r.Dir)
	}
	fmt.Fprintln(w, "\n  What this means:")
	switch {
	case r.Outbox.State == store.FileRecordsDamaged:
		fmt.Fprintln(w, "    Some records in the file holding this user's saved decisions are damaged (for example by a disk")
		fmt.Fprintln(w, "    fault). The damaged ones cannot be read or sent; those listed as possibly unsent may not have")
		fmt.Fprintln(w, "    reached e-RS. Nothing has been changed or deleted.")
		if r.Outbox.Damage.Held {
			fmt.Fprintln(w, "    Triage Desk starts, but it holds every decision (nothing is sent or saved) until the file is set aside.")
		} else {
			fmt.Fprintln(w, "    Triage Desk starts and sends the other decisions as normal.")
		}
		writeOutboxSteps(w, sel, "Check each referral listed above in e-RS, and record the decision again if it is not there.",
			"To start again with an empty outbox", "(renames the file; it is kept for your IT service desk). Send or note queued decisions first.")
		return
	case r.Key == store.KeyMissing || r.Outbox.State == store.FileWrongKey:
		fmt.Fprintln(w, "    The key that locks this user's saved decisions is no longer in the keychain (it was reset, or")
		fmt.Fprintln(w, "    the profile was copied from another computer). Without it nothing in the file can be read.")
	default:
		fmt.Fprintln(w, "    The file holding this user's saved decisions is damaged (for example after a power cut or disk")
		fmt.Fprintln(w, "    fault). It may contain decisions that have not reached e-RS yet.")
	}
	fmt.Fprintln(w, "    Triage Desk will not start for this user until it is resolved, so that no unsent decision is")
	fmt.Fprintln(w, "    lost by accident. Nothing has been changed or deleted.")
	writeOutboxSteps(w, sel, "For each decision not marked as sent, check the referral in e-RS and record it again if needed.",
		"Let Triage Desk start again", "(renames the damaged file; it is kept for your IT service desk).")
}

// writeOutboxSteps writes what to do about a damaged outbox: save what can
// be read (sel selects the user), check the referrals in e-RS, then set the
// file aside.
func writeOutboxSteps(w io.Writer, sel, check, setAside, renamed string) {
	fmt.Fprintln(w, "  What to do:")
	fmt.Fprintf(w, "    1. Save what can be read:  triagectl doctor%s --export decisions.json\n", sel)
	fmt.Fprintln(w, "       (the file contains patient identifiers: keep it on an encrypted drive).")
	fmt.Fprintln(w, "    2. "+check)
	fmt.Fprintf(w, "    3. %s:  triagectl doctor%s --export decisions.json --set-aside-outbox\n", setAside, sel)
	fmt.Fprintln(w, "       "+renamed)
}

func exportOutbox(ctx context.Context, g *Globals, dir string, keys store.KeyProvider, path string) error {
	ex, err := store.ExportOutbox(ctx, dir, keys, time.Now())
	switch {
	case errors.Is(err, store.ErrAlreadyRunning):
		return &triage.Error{Code: triage.EUNAVAILABLE, Message: "Triage Desk has the file open. Close Triage Desk and run the export again.", Err: err}
	case errors.Is(err, store.ErrKeyNotFound), errors.Is(err, store.ErrKeyMismatch):
		return &triage.Error{Code: triage.EINTERNAL, Message: "Nothing can be exported: the key for this user's saved decisions is not in the keychain. Ask your IT service desk whether the keychain can be restored.", Err: err}
	case errors.Is(err, store.ErrKeychainUnavailable):
		return &triage.Error{Code: triage.EUNAVAILABLE, Message: "Nothing can be exported: the keychain could not be reached. Sign in to the desktop normally and try again.", Err: err}
	case err != nil:
		return fmt.Errorf("export saved decisions: %w", err)
	}
	b, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		return fmt.Errorf("export saved decisions: %w", err)
	}
	if err := writePatientFile(path, append(b, '\n')); err != nil {
		return err
	}
	unsent, rebuilt := ex.UnsentCounts()
	fmt.Fprintf(g.Stdout, "\nExported %d decision(s) (%d not sent), %d more reconstructed from the audit log (%d possibly unsent: created, no send result) and %d audit record(s) to %s (read by %s). %s\n",
		len(ex.Decisions), unsent, len(ex.Reconstructed), rebuilt, len(ex.Audit), path, ex.Method, ex.AuditCheck)
	if len(ex.Damaged) > 0 {
		fmt.Fprintf(g.Stdout, "The %d damaged record(s) are listed in the file with the audit trail of each.\n", len(ex.Damaged))
	}
	fmt.Fprintf(g.Stderr, "WARNING: %s\n", store.ExportWarning)
	return nil
}

// countBucket counts the damaged records of one bucket.
func countBucket(d store.OutboxDamage, bucket string) int {
	n := 0
	for _, r := range d.Records {
		if r.Bucket == bucket {
			n++
		}
	}
	return n
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
