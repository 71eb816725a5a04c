package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
)

func row(ubrn string, p triage.Priority, local triage.LocalStatus) triage.Row {
	return triage.Row{WorklistItem: triage.WorklistItem{UBRN: ubrn, Priority: p}, Local: local}
}

// TestNotifierTellsOfNew2WWReferralsOnce: only two-week-wait referrals that
// arrive after the worklist was first seen are notified, each once, with a
// count and nothing that identifies a patient.
func TestNotifierTellsOfNew2WWReferralsOnce(t *testing.T) {
	a := test.NewTempApp(t)
	n := NewNotifier(a)
	first := []triage.Row{row("000000000001", triage.PriorityTwoWeekWait, ""), row("000000000002", triage.PriorityRoutine, "")}
	if got := n.Observe(first); got != 0 {
		t.Fatalf("the worklist already there was notified: %d", got)
	}
	test.AssertNotificationSent(t, nil, func() {
		if got := n.Observe(first); got != 0 {
			t.Errorf("the same worklist again notified %d", got)
		}
	})
	second := append(first,
		row("000000000003", triage.PriorityTwoWeekWait, ""),
		row("000000000004", triage.PriorityTwoWeekWait, ""),
		row("000000000005", triage.PriorityUrgent, ""),
		row("000000000006", triage.PriorityTwoWeekWait, triage.LocalSent))
	want := fyne.NewNotification("Triage Desk", "2 new two-week-wait referrals to review")
	test.AssertNotificationSent(t, want, func() {
		if got := n.Observe(second); got != 2 {
			t.Errorf("notified %d, want the 2 new 2WW referrals still to review", got)
		}
	})
	for _, r := range second {
		if strings.Contains(want.Content, r.UBRN) {
			t.Fatal("the notification names a referral")
		}
	}
	test.AssertNotificationSent(t, nil, func() { n.Observe(second) })
	n.Reset() // another clinician's workspace: their list is primed afresh
	test.AssertNotificationSent(t, nil, func() { n.Observe(append(second, row("000000000007", triage.PriorityTwoWeekWait, ""))) })
	if NewTwoWeekText(1) != "1 new two-week-wait referral to review" {
		t.Errorf("singular: %q", NewTwoWeekText(1))
	}
}

// trayApp is a test app with a system tray.
type trayApp struct {
	fyne.App
	menu *fyne.Menu
	icon fyne.Resource
	sets int
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { a.menu = m; a.sets++ }
func (a *trayApp) SetSystemTrayIcon(r fyne.Resource) { a.icon = r }
func (a *trayApp) SetSystemTrayWindow(fyne.Window)   {}

// TestTrayShowsTheCountAndItsActions: the tray says how many referrals are
// to review (2WW counted), and Open, Refresh and Quit do their work.
func TestTrayShowsTheCountAndItsActions(t *testing.T) {
	ta := &trayApp{App: test.NewTempApp(t)}
	var opened, refreshed, quit int
	tr := NewTray(ta, func() { opened++ }, func() { refreshed++ }, func() { quit++ })
	if tr == nil || ta.menu == nil || ta.icon != frame.AppIcon {
		t.Fatal("no tray icon and menu")
	}
	tr.SetCounts(triage.Counts{ToReview: 12, TwoWeek: 3})
	if got := ta.menu.Items[0].Label; got != "12 to review (3 two-week wait)" || !ta.menu.Items[0].Disabled {
		t.Errorf("count line %q", got)
	}
	labels := map[string]*fyne.MenuItem{}
	for _, it := range ta.menu.Items {
		labels[it.Label] = it
	}
	for _, l := range []string{"Open Triage Desk", "Refresh from e-RS", "Quit"} {
		it := labels[l]
		if it == nil {
			t.Fatalf("no %q in the tray menu", l)
		}
		it.Action()
	}
	if opened != 1 || refreshed != 1 || quit != 1 || !labels["Quit"].IsQuit {
		t.Errorf("open %d refresh %d quit %d", opened, refreshed, quit)
	}
	tr.SetCounts(triage.Counts{})
	if ta.menu.Items[0].Label != "Nothing to review" {
		t.Errorf("empty: %q", ta.menu.Items[0].Label)
	}
	if NewTray(test.NewTempApp(t), nil, nil, nil) != nil {
		t.Error("a tray was made for an app without one")
	}
}
