package ui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
)

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
				h := newSortHeader(wl)
				h.col = i
				h.refreshTitle()
				// The whole heading, as an untruncated label of the same style.
				full := widget.NewLabelWithStyle(h.label.Text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
				if need := full.MinSize().Width; need > wl.widths[i] {
					t.Errorf("kept widths %v: heading %q needs %.0f, column is %.0f", kept, h.label.Text, need, wl.widths[i])
				}
			}
		}
	}
}
