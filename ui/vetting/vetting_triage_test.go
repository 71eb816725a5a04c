package vetting

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
)

func TestRASReferralOffersOnlyTriageOutcomes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone
	})
	p := h.open(row.UBRN)
	buttons := strings.Join(texts(p.decision.box), "|")
	if strings.Contains(buttons, "Reject") || strings.Contains(buttons, "Redirect") || !strings.Contains(buttons, "Return to referrer with advice") ||
		!strings.Contains(buttons, "Accept – book later") {
		t.Fatalf("RAS actions: %s", buttons)
	}
	h.typeKeys("r")
	if p.decision.form != nil {
		t.Fatal("R opened a form on a RAS referral")
	}
	h.typeKeys("t")
	f := p.decision.form
	if f == nil || f.outcome.Selected != triage.OutcomeReturnToReferrerWithAdvice.Label() {
		t.Fatal("T did not open return-with-advice")
	}
	if f.prioRow.Visible() {
		t.Error("a priority change is offered when returning to the referrer")
	}
	h.shortcut(ctrlEnter)
	if !strings.Contains(f.Problem(triage.FieldComments), "Add a comment") {
		t.Fatalf("comment not required: %q", f.Problem(triage.FieldComments))
	}
}

func TestA029NarrowsTheTriageActions(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone
	})
	// Someone else triages it in e-RS, and the cache holds that version:
	// e-RS (A029) no longer allows a triage outcome.
	ctx := context.Background()
	if _, err := apptest.Sandbox(h.ws.Runtime()).SetState(row.UBRN, triage.ReferralStatus{State: triage.StateTriagedProviderToAction,
		Reason: triage.Coding{Code: string(triage.OutcomeAcceptReferBookLater)}}); err != nil {
		t.Fatal(err)
	}
	now, err := apptest.Sandbox(h.ws.Runtime()).Referral(row.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	if err := apptest.Store(h.ws).PutReferral(ctx, app.CachedReferral{Referral: now, ServerTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h.open(row.UBRN)
	dp := h.v.panel.decision
	h.waitFor("the A029 answer", func() bool { return dp.triageRefused })
	if !strings.Contains(dp.StatusText(), "e-RS does not allow a triage outcome") {
		t.Errorf("panel: %s", dp.StatusText())
	}
	h.typeKeys("t")
	if dp.form != nil {
		t.Fatal("a triage outcome form opened although e-RS refuses it")
	}

	// A version e-RS no longer has (changed behind the cache) refuses too.
	other := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone && r.UBRN != row.UBRN
	})
	if _, err := apptest.Sandbox(h.ws.Runtime()).ChangePriority(other.UBRN, triage.PriorityUrgent); err != nil {
		t.Fatal(err)
	}
	h.open(other.UBRN)
	dp = h.v.panel.decision
	h.waitFor("the A029 conflict", func() bool { return dp.triageRefused })
	if !strings.Contains(dp.StatusText(), "changed in e-RS since it was downloaded") {
		t.Errorf("panel: %s", dp.StatusText())
	}
}

func TestColumnWidthsAndSplitAreRemembered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	prefs := fyne.CurrentApp().Preferences()
	h.v.list.table.SetColumnWidth(4, 222)
	h.v.list.table.Refresh()
	table := h.v.list.table.Object()
	test.WidgetRenderer(table.(fyne.Widget)).Layout(table.Size())
	table.(fyne.Draggable).DragEnd()
	if got := prefs.Float("worklist.v2.column.4.width"); got != 222 {
		t.Errorf("column width kept as %v, want 222", got)
	}
	h.v.split.SetOffset(0.3)
	h.v.Close()
	h.v = nil
	if got := prefs.Float(prefSplit); got != 0.3 {
		t.Errorf("split kept as %v", got)
	}
	wl := NewWorklistPanel(nil, prefs)
	if wl.widths[4] != 222 {
		t.Errorf("a new worklist uses width %v", wl.widths[4])
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestVettingWindowFitsTheDefaultSize: with a referral open, its data more
// than a day old (the longest "data as of" badge) and the reject form with
// the PAS question showing, the whole window still fits the default size,
// so on a 1280×800 laptop nothing (the decision buttons, the status bar)
// is off screen.
func TestVettingWindowFitsTheDefaultSize(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(true)
	p := h.open(row.UBRN)
	h.waitCRI()
	later := time.Now().Add(48 * time.Hour)
	h.v.now = func() time.Time { return later }
	p.refreshAsOf()
	h.typeKeys("r")
	if p.decision.form == nil || p.decision.form.pas == nil {
		t.Fatal("R did not open the reject form with the PAS question")
	}
	if !strings.Contains(strings.Join(texts(p.asOf), " "), "more than a day old") {
		t.Fatalf("data as of shows %q, want the more-than-a-day badge", texts(p.asOf))
	}
	h.settle()
	min := h.win.Content().MinSize()
	if min.Width > frame.DefaultWindowSize.Width || min.Height > frame.DefaultWindowSize.Height {
		t.Errorf("the vetting window needs %.0f×%.0f, more than the default %.0f×%.0f", min.Width, min.Height,
			frame.DefaultWindowSize.Width, frame.DefaultWindowSize.Height)
	}
}

// TestWorklistHeadersFitWithTheSortArrow: every column heading, with the
// sort arrow either way, fits its column ("Days ▼", not "Day…"), with the
// default widths and with a width kept from before that is too narrow.
func TestWorklistHeadersFitWithTheSortArrow(t *testing.T) {
	a := test.NewTempApp(t)
	prefs := a.Preferences()
	daysCol := -1
	for i, c := range columns {
		if c.sort == triage.ColumnDaysWaiting {
			daysCol = i
		}
	}
	prefs.SetFloat(fmt.Sprintf(prefColumnWidth, daysCol), 40)
	for _, kept := range []bool{false, true} {
		var wl *WorklistPanel
		if kept {
			wl = NewWorklistPanel(nil, prefs)
		} else {
			wl = NewWorklistPanel(nil, nil)
		}
		for i, c := range columns {
			for _, desc := range []bool{false, true} {
				wl.sort = triage.Sort{Column: c.sort, Descending: desc}
				heading := wl.table.Heading(i)
				// The whole heading, as an untruncated label of the same style.
				full := widget.NewLabelWithStyle(heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
				if need := full.MinSize().Width; need > wl.widths[i] {
					t.Errorf("kept widths %v: heading %q needs %.0f, column is %.0f", kept, heading, need, wl.widths[i])
				}
			}
		}
	}
}
