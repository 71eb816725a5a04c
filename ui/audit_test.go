package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/store"
)

// bufferFile is a chosen file that keeps what is written.
type bufferFile struct {
	bytes.Buffer
	closed bool
}

func (b *bufferFile) Close() error { b.closed = true; return nil }

// TestAuditViewListsVerifiesAndExports: the audit log lists the
// clinician's decisions with their referral, kind and e-RS request id,
// says the hash chain checks out, and exports as CSV after warning that
// the file identifies patients.
func TestAuditViewListsVerifiesAndExports(t *testing.T) {
	test.NewTempApp(t)
	rt, a := demoWorkspace(t, demoRuntimeOptions(t))
	ctx := context.Background()
	refs := bookedReferrals(t, a)
	acceptReferral(t, a, refs[0])
	if _, err := a.Engine.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	acceptReferral(t, a, refs[1])
	changeInERS(t, rt, refs[1])
	if _, err := a.Engine.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}

	b, loop := loopBridge(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1400, 800))
	file := &bufferFile{}
	var asked string
	v := NewAuditView(AuditOptions{Workspace: a, Bridge: b, Window: w, Choose: func(name string, done func(io.WriteCloser, string, error)) {
		asked = name
		done(file, "audit.csv", nil)
	}})
	w.SetContent(v.Object())
	pumpUntil(t, loop, 10*time.Second, "the audit log", func() bool { return !v.busy() })
	if !strings.HasPrefix(v.verify.Text, "Audit log checked: ") || !strings.Contains(v.verify.Text, "None has been changed, removed or reordered") {
		t.Fatalf("verify says %q", v.verify.Text)
	}
	var sent *store.AuditRecord
	for i := range v.records {
		r := &v.records[i]
		if r.Event == store.EventSendResult && r.UBRN == refs[0] && r.RequestID != "" {
			sent = r
		}
	}
	if sent == nil {
		t.Fatal("the sent decision's e-RS result is not listed")
	}
	cells := auditCells(sent, time.Now())
	if cells[1] != "Sent to e-RS" || cells[2] != ubrnText(refs[0]) || cells[3] != "Accept" || cells[6] != sent.RequestID {
		t.Errorf("row %q", cells)
	}
	if v.records[0].Seq < v.records[len(v.records)-1].Seq {
		t.Error("the newest record is not first")
	}

	tapButton(t, v.Object(), "Export as CSV…")
	warn := strings.Join(texts(w.Canvas().Overlays().Top()), "|")
	if !strings.Contains(warn, "identifies patients") || !strings.Contains(warn, "not encrypted") {
		t.Fatalf("export warning: %s", warn)
	}
	dialogTap(t, w, "Choose where to save…")
	pumpUntil(t, loop, 10*time.Second, "the export", func() bool { return !v.busy() && v.status.Visible() })
	if !strings.HasPrefix(asked, "triagedesk-audit-") || !file.closed || !strings.Contains(v.status.Text, "to audit.csv") {
		t.Fatalf("export: asked %q, closed %v, status %q", asked, file.closed, v.status.Text)
	}
	rows, err := csv.NewReader(&file.Buffer).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(v.records)+1 || rows[0][0] != "seq" || rows[0][9] != "ubrn" {
		t.Fatalf("%d CSV rows for %d records; header %q", len(rows), len(v.records), rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[3] == string(store.EventSendResult) && r[9] == refs[0] && r[17] == sent.RequestID {
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
	if err := WriteAuditCSV(&buf, []store.AuditRecord{{Seq: 1, Event: store.EventPurge, Note: "=HYPERLINK(\"x\")"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK`) {
		t.Errorf("formula not neutralised: %s", buf.String())
	}
}
