package audit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/atomicfile"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// ScreenAudit is the audit log screen's name.
const ScreenAudit = "audit"

// ExportWarning is said before the audit log is exported.
const ExportWarning = "The exported file lists the referrals you decided by UBRN, which identifies patients, and it is not encrypted. " +
	"Save it only where your organisation allows patient data (for example an encrypted network drive), and delete it when you no longer need it."

// ChooseFile asks for the folder to save a file in and calls done with its
// path ("" if the clinician cancelled). The file is then created there as a
// new, owner-only file (never over another, never through a link), named
// as suggested or with " (2)", " (3)"... when that name is taken.
type ChooseFile func(done func(dir string, err error))

// AuditOptions configure an AuditView.
type AuditOptions struct {
	// Workspace is the clinician's workspace. Required.
	Workspace *app.Workspace
	// Bridge reads and checks the log off the UI goroutine. Required.
	Bridge *bridge.Bridge
	// Window shows the dialogs. Required.
	Window fyne.Window
	// Choose asks where to save the export (nil: the file-save dialog).
	Choose ChooseFile
	// OnClose leaves the screen; nil hides the button.
	OnClose func()
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// AuditView is the clinician's audit log: every decision and what happened
// to it, with the time, referral (UBRN), kind, reason or outcome, result
// and e-RS request id; whether the log's hash chain checks out; and export
// as CSV, after a warning that the file identifies patients. Use it on the
// UI goroutine.
type AuditView struct {
	o   AuditOptions
	now func() time.Time

	records []app.AuditRecord // newest first
	refdata *triage.ReferenceData
	table   *widgets.DataTable[app.AuditRecord]
	verify  *widget.Label
	status  *widget.Label
	obj     fyne.CanvasObject
	loading int
}

// auditColumns are the audit table's columns: the cells of auditCells,
// with the reference data rd() gives at the time (nil before it is read).
// The time and the referral sort.
func auditColumns(rd func() *triage.ReferenceData) []widgets.Column[app.AuditRecord] {
	heads := []struct {
		title string
		width float32
	}{{"Time", 150}, {"What happened", 230}, {"Referral (UBRN)", 150}, {"Decision", 150}, {"Reason or outcome", 190}, {"Result", 220}, {"e-RS request id", 300}}
	cols := make([]widgets.Column[app.AuditRecord], len(heads))
	for i, h := range heads {
		cols[i] = widgets.Column[app.AuditRecord]{Heading: h.title, Width: h.width,
			Text: func(r app.AuditRecord) string { return auditCells(&r, rd())[i] }}
	}
	cols[0].Compare = func(a, b app.AuditRecord) int { return cmp.Compare(a.Seq, b.Seq) }
	cols[2].Compare = func(a, b app.AuditRecord) int { return cmp.Compare(a.UBRN, b.UBRN) }
	return cols
}

// EventLabel names an audit event in plain words.
func EventLabel(e app.AuditEvent) string {
	switch e {
	case app.EventDecisionCreated:
		return "Decision made"
	case app.EventDecisionAmended:
		return "Decision amended"
	case app.EventDecisionCancelled:
		return "Decision withdrawn"
	case app.EventDecisionDiscarded:
		return "Decision discarded"
	case app.EventRetryRequested:
		return "Retry requested"
	case app.EventSendResult:
		return "Sent to e-RS"
	case app.EventConflictShown:
		return "Conflict shown"
	case app.EventConflictAcknowledged:
		return "Conflict acknowledged"
	case app.EventPurge:
		return "Data removed (retention)"
	case app.EventWipe:
		return "Data wiped"
	}
	return string(e)
}

// auditResultWords is a send result in words: a conflict names the
// referral's state as the worklist does, not by its e-RS code.
func auditResultWords(result string) string {
	const conflict = "conflict: referral is now "
	if code, ok := strings.CutPrefix(result, conflict); ok {
		if st, err := triage.ParseReferralState(code); err == nil {
			return "Conflict: the referral is now " + st.Label()
		}
		return "Conflict: the referral is now " + triage.CodeWords(code)
	}
	return result
}

// auditCells is one record as the table shows it, reasons in the words of
// the reference data rd (nil: the code in sentence case).
func auditCells(r *app.AuditRecord, rd *triage.ReferenceData) []string {
	reason := rd.ReasonLabel(r.ReasonCode)
	if r.Outcome != "" {
		reason = r.Outcome.Label()
	}
	kind := ""
	if r.Kind != "" {
		kind = r.Kind.Label()
	}
	result := auditResultWords(r.Result)
	if r.HTTPStatus != 0 {
		result = strings.TrimSpace(fmt.Sprintf("%s (HTTP %d%s)", result, r.HTTPStatus, prefixed(", ", r.ERSCode)))
	}
	return []string{widgets.DayText(r.At) + " " + r.At.Local().Format("15:04"), EventLabel(r.Event), widgets.UBRNText(r.UBRN), kind, reason, result, r.RequestID}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// NewAuditView builds the screen and reads the log.
func NewAuditView(o AuditOptions) *AuditView {
	v := &AuditView{o: o, now: o.Now}
	if v.now == nil {
		v.now = time.Now
	}
	if v.o.Choose == nil {
		v.o.Choose = fileSaveDialog(o.Window)
	}
	v.table = widgets.NewDataTable(auditColumns(func() *triage.ReferenceData { return v.refdata }))
	v.verify = widget.NewLabel("Checking the audit log…")
	v.verify.Wrapping = fyne.TextWrapWord
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()

	title := widget.NewLabelWithStyle("Audit log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	var head []fyne.CanvasObject
	if o.OnClose != nil {
		head = append(head, widget.NewButtonWithIcon("Back to the worklist", theme.NavigateBackIcon(), o.OnClose))
	}
	head = append(head, title)
	export := widget.NewButtonWithIcon("Export as CSV…", theme.DocumentSaveIcon(), v.confirmExport)
	top := container.NewVBox(container.NewBorder(nil, nil, container.NewHBox(head...), export), v.verify, v.status)
	v.obj = container.NewBorder(top, nil, nil, nil, v.table.Object())
	v.Reload()
	return v
}

// Object returns the screen.
func (v *AuditView) Object() fyne.CanvasObject { return v.obj }

// busy reports whether a read is in flight (tests).
func (v *AuditView) busy() bool { return v.loading > 0 }

// Reload reads the log and checks its chain off the UI goroutine.
func (v *AuditView) Reload() {
	st := v.o.Workspace
	v.loading += 3
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) (triage.ReferenceData, error) {
		return st.ReferenceData(ctx)
	}, func(rd triage.ReferenceData, err error) {
		v.loading--
		if err == nil { // before the first sync reasons read as their codes in words
			v.refdata = &rd
			v.table.Refresh()
		}
	})
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) ([]app.AuditRecord, error) {
		return st.AuditRecords(ctx, 1, 0)
	}, func(recs []app.AuditRecord, err error) {
		v.loading--
		if err != nil {
			v.showStatus(triage.ErrorMessage(err), widget.DangerImportance)
			return
		}
		slices.Reverse(recs)
		v.records = recs
		v.table.SetRows(recs)
	})
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) (app.AuditSummary, error) {
		return st.VerifyAudit(ctx)
	}, func(sum app.AuditSummary, err error) {
		v.loading--
		if err != nil {
			msg := "The audit log failed its check: " + triage.ErrorMessage(err)
			var ae *app.AuditError
			if errors.As(err, &ae) {
				msg += fmt.Sprintf(" (record %d: %s)", ae.Seq, ae.Problem)
			}
			v.verify.SetText(msg + " Keep Triage Desk's data as it is and contact your IT service desk.")
			v.verify.Importance = widget.DangerImportance
		} else {
			v.verify.SetText(fmt.Sprintf("Audit log checked: %s, each linked to the one before. None has been changed, removed or reordered.",
				widgets.CountOf(int(sum.Records), "record", "records")))
			v.verify.Importance = widget.SuccessImportance
		}
		v.verify.Refresh()
	})
}

func (v *AuditView) showStatus(msg string, imp widget.Importance) {
	v.status.SetText(msg)
	v.status.Importance = imp
	v.status.Show()
	v.status.Refresh()
}

// confirmExport warns that the file identifies patients, then asks where
// to save it.
func (v *AuditView) confirmExport() {
	d := dialog.NewConfirm("Export the audit log?", ExportWarning, func(ok bool) {
		if !ok {
			return
		}
		name := "triagedesk-audit-" + v.now().Format("2006-01-02") + ".csv"
		v.o.Choose(func(dir string, err error) {
			if err != nil {
				v.showStatus("The folder could not be opened: "+triage.ErrorMessage(err), widget.DangerImportance)
				return
			}
			if dir == "" {
				return // cancelled
			}
			v.export(dir, name)
		})
	}, v.o.Window)
	d.SetConfirmText("Choose where to save…")
	d.SetDismissText("Cancel")
	d.Show()
}

// export writes the log (oldest first) as a new owner-only file called
// name (or name (2)...) in dir, off the UI goroutine.
func (v *AuditView) export(dir, name string) {
	st := v.o.Workspace
	v.loading++
	type saved struct {
		n    int
		path string
	}
	bridge.Run(v.o.Bridge, nil, func(ctx context.Context) (saved, error) {
		recs, err := st.AuditRecords(ctx, 1, 0)
		if err != nil {
			return saved{}, err
		}
		var buf bytes.Buffer
		if err := WriteAuditCSV(&buf, recs); err != nil {
			return saved{}, err
		}
		path, err := atomicfile.CreateNewIn(dir, name, buf.Bytes(), 0o600)
		return saved{len(recs), path}, err
	}, func(r saved, err error) {
		v.loading--
		if err != nil {
			v.showStatus("The export was not saved: "+triage.ErrorMessage(err)+" Check the folder and the free space, then try again.", widget.DangerImportance)
			return
		}
		v.showStatus(fmt.Sprintf("Saved %s to %s. It identifies patients: delete it when you no longer need it.",
			widgets.CountOf(r.n, "record", "records"), r.path), widget.WarningImportance)
	})
}

// auditCSVHeader is the export's first line.
var auditCSVHeader = []string{"seq", "time", "server_time", "event", "sds_user_id", "business_function", "ods", "on_behalf_of",
	"decision_id", "ubrn", "kind", "reason_code", "outcome", "referral_version", "result", "http_status", "ers_code",
	"ers_request_id", "correlation_id", "note"}

// csvSafe stops a spreadsheet reading a cell as a formula: a cell starting
// with a formula character, a tab, a line break or a separator is
// prefixed with an apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n;", rune(s[0])) {
		return "'" + s
	}
	return s
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// WriteAuditCSV writes audit records as CSV with a header line, one record
// a line, times in RFC 3339. Cells a spreadsheet would read as a formula
// are prefixed with an apostrophe. Errors: w's.
func WriteAuditCSV(w io.Writer, recs []app.AuditRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(auditCSVHeader); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	for _, r := range recs {
		status := ""
		if r.HTTPStatus != 0 {
			status = strconv.Itoa(r.HTTPStatus)
		}
		version := ""
		if r.ReferralVersion != 0 {
			version = strconv.Itoa(r.ReferralVersion)
		}
		row := []string{strconv.FormatUint(r.Seq, 10), rfc3339(r.At), rfc3339(r.ServerTime), string(r.Event),
			r.Who.SDSUserID, string(r.Who.BusinessFunction), r.Who.ODS, r.Who.OnBehalfOf, r.DecisionID, r.UBRN,
			string(r.Kind), r.ReasonCode, string(r.Outcome), version, r.Result, status, r.ERSCode, r.RequestID, r.CorrelationID, r.Note}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write audit csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	return nil
}

// fileSaveDialog asks for the folder with Fyne's folder dialog (Fyne's
// file-save dialog would create the file itself, through any link, before
// Triage Desk could refuse it).
func fileSaveDialog(w fyne.Window) ChooseFile {
	return func(done func(string, error)) {
		dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
			if err != nil || dir == nil {
				done("", err)
				return
			}
			done(dir.Path(), nil)
		}, w)
	}
}
