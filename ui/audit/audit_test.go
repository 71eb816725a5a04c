package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// TestAuditViewListsVerifiesAndExports: the audit log lists the
// clinician's decisions with their referral, kind and e-RS request id,
// says the hash chain checks out, and exports as CSV after warning that
// the file identifies patients: as a new owner-only file in the chosen
// folder, never over another file and never through a link.
func TestAuditViewListsVerifiesAndExports(t *testing.T) {
	test.NewTempApp(t)
	rt, a := uitest.DemoWorkspace(t, uitest.DemoRuntimeOptions(t))
	ctx := context.Background()
	refs := uitest.BookedReferrals(t, a)
	uitest.AcceptReferral(t, a, refs[0])
	if _, err := apptest.Engine(a).SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	uitest.AcceptReferral(t, a, refs[1])
	uitest.ChangeInERS(t, rt, refs[1])
	if _, err := apptest.Engine(a).SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}

	b, loop := uitest.LoopBridge(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1400, 800))
	dir := t.TempDir()
	// A file of today's name is there already, and a link to elsewhere
	// under the next name: neither is written.
	name := "triagedesk-audit-" + time.Now().Format("2006-01-02")
	if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte("older export"), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.csv")
	if err := os.WriteFile(elsewhere, []byte("not patient data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Symlink(elsewhere, filepath.Join(dir, name+" (2).csv")); err != nil {
			t.Fatal(err)
		}
	}
	v := NewAuditView(AuditOptions{Workspace: a, Bridge: b, Window: w, Choose: func(done func(string, error)) {
		done(dir, nil)
	}})
	w.SetContent(v.Object())
	uitest.PumpUntil(t, loop, 10*time.Second, "the audit log", func() bool { return !v.busy() })
	if !strings.HasPrefix(v.verify.Text, "Audit log checked: ") || !strings.Contains(v.verify.Text, "None has been changed, removed or reordered") {
		t.Fatalf("verify says %q", v.verify.Text)
	}
	var sent *app.AuditRecord
	for i := range v.records {
		r := &v.records[i]
		if r.Event == app.EventSendResult && r.UBRN == refs[0] && r.RequestID != "" {
			sent = r
		}
	}
	if sent == nil {
		t.Fatal("the sent decision's e-RS result is not listed")
	}
	cells := auditCells(sent, v.refdata)
	if cells[1] != "Sent to e-RS" || cells[2] != widgets.UBRNText(refs[0]) || cells[3] != "Accept" || cells[6] != sent.RequestID {
		t.Errorf("row %q", cells)
	}
	// Reasons and conflicts read in words, not as e-RS codes.
	conflicts := 0
	for i := range v.records {
		r := &v.records[i]
		if r.Event == app.EventSendResult && r.UBRN == refs[1] && strings.HasPrefix(r.Result, "conflict") {
			conflicts++
			if got := auditCells(r, v.refdata)[5]; !strings.HasPrefix(got, "Conflict: the referral is now Rejected") || strings.Contains(got, "_") {
				t.Errorf("conflict result reads %q", got)
			}
		}
	}
	if conflicts == 0 {
		t.Error("the conflict is not listed")
	}
	rejected := app.AuditRecord{Event: app.EventDecisionCreated, UBRN: refs[2], Kind: triage.DecisionReject, ReasonCode: "FURTHER_INFORMATION_REQUIRED"}
	if got := auditCells(&rejected, v.refdata)[4]; got != "Further information required" {
		t.Errorf("reject reason reads %q", got)
	}
	if v.records[0].Seq < v.records[len(v.records)-1].Seq {
		t.Error("the newest record is not first")
	}

	uitest.TapButton(t, v.Object(), "Export as CSV…")
	warn := strings.Join(uitest.Texts(w.Canvas().Overlays().Top()), "|")
	if !strings.Contains(warn, "identifies patients") || !strings.Contains(warn, "not encrypted") {
		t.Fatalf("export warning: %s", warn)
	}
	uitest.DialogTap(t, w, "Choose where to save…")
	uitest.PumpUntil(t, loop, 10*time.Second, "the export", func() bool { return !v.busy() && v.status.Visible() })
	written := filepath.Join(dir, name+" (3).csv")
	if runtime.GOOS == "windows" {
		written = filepath.Join(dir, name+" (2).csv")
	}
	if !strings.Contains(v.status.Text, written) {
		t.Fatalf("export: status %q, want it saved as %s", v.status.Text, written)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, name+".csv")); string(b) != "older export" {
		t.Errorf("an existing file was overwritten: %q", b)
	}
	if b, _ := os.ReadFile(elsewhere); string(b) != "not patient data" {
		t.Errorf("the export was written through a link: %q", b)
	}
	if fi, err := os.Stat(written); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v (mode %v)", err, fi.Mode().Perm())
	}
	data, err := os.ReadFile(written)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(v.records)+1 || rows[0][0] != "seq" || rows[0][9] != "ubrn" {
		t.Fatalf("%d CSV rows for %d records; header %q", len(rows), len(v.records), rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[3] == string(app.EventSendResult) && r[9] == refs[0] && r[17] == sent.RequestID {
			found = true
		}
	}
	if !found {
		t.Error("the sent decision is not in the CSV")
	}
}

// TestAuditCSVNeutralisesFormulas: a cell a spreadsheet would evaluate is
// written as text.
func TestAuditCSVNeutralisesFormulas(t *testing.T) {
	var buf bytes.Buffer
	cells := []string{"=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=cmd|' /C calc'!A0", ";=1+1"}
	var recs []app.AuditRecord
	for i, c := range cells {
		recs = append(recs, app.AuditRecord{Seq: uint64(i + 1), Event: app.EventPurge, Note: c})
	}
	if err := WriteAuditCSV(&buf, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		if got := rows[i+1][19]; got != "'"+c {
			t.Errorf("cell %q written as %q, want it prefixed with an apostrophe", c, got)
		}
	}
}
