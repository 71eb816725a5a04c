package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/shortcuts"
)

func TestFrameKeepsBannersInSlotOrder(t *testing.T) {
	a := test.NewTempApp(t)
	w, f := NewShellWindow(a, ShellOptions{Demo: true})
	defer w.Close()
	f.SetBanner(BannerNotice, widget.NewLabel("notice"))
	f.SetBanner(BannerOffline, widget.NewLabel("offline"))
	f.SetBanner(BannerSignIn, widget.NewLabel("sign in"))
	f.SetBanner(BannerEnvironment, widget.NewLabel("replaced")) // refused
	got := joined(f.bannerBox)
	if got != DemoBannerText+"|sign in|offline|notice" {
		t.Fatalf("banners %q, want the environment first then sign-in, offline, notice", got)
	}
	f.SetBanner(BannerOffline, nil)
	if got := joined(f.bannerBox); got != DemoBannerText+"|sign in|notice" {
		t.Fatalf("after removing offline: %q", got)
	}
}

func TestFrameScreenHidesMainViewAndTurnsShortcutsOff(t *testing.T) {
	a := test.NewTempApp(t)
	w, f := NewShellWindow(a, ShellOptions{})
	defer w.Close()
	f.SetMain(widget.NewLabel("NHS 999 000 0018"))
	f.SetStatusBar(widget.NewLabel("status"))
	accepted := 0
	f.Shortcuts().Handle(shortcuts.Accept, func() { accepted++ })
	var screens []string
	f.OnScreenChanged(func(s string) { screens = append(screens, s) })

	test.TypeOnCanvas(w.Canvas(), "a")
	if accepted != 1 {
		t.Fatalf("A on the main view ran accept %d times, want 1", accepted)
	}
	f.ShowScreen("lock", widget.NewLabel("Locked"))
	content := joined(w.Content())
	if strings.Contains(content, "999 000 0018") || !strings.Contains(content, "Locked") || !strings.Contains(content, "status") {
		t.Fatalf("lock screen shows %q", content)
	}
	test.TypeOnCanvas(w.Canvas(), "a")
	if accepted != 1 {
		t.Fatal("a shortcut acted behind a full-window screen")
	}
	if it := menuItem(w.MainMenu(), "Accept"); it == nil || !it.Disabled {
		t.Error("the Accept menu item is enabled behind a full-window screen")
	}
	f.CloseScreen()
	if !strings.Contains(joined(w.Content()), "999 000 0018") || f.Screen() != "" {
		t.Fatal("main view not back after CloseScreen")
	}
	test.TypeOnCanvas(w.Canvas(), "A")
	if accepted != 2 {
		t.Fatal("shortcuts not back after CloseScreen")
	}
	if strings.Join(screens, ",") != "lock," {
		t.Errorf("screen changes %q", screens)
	}
}

func TestFrameMenusListEveryShortcutAndTakeNewItems(t *testing.T) {
	a := test.NewTempApp(t)
	w, f := NewShellWindow(a, ShellOptions{})
	defer w.Close()
	mm := w.MainMenu()
	for _, d := range shortcuts.Defs {
		it := menuItem(mm, d.Label)
		if it == nil {
			t.Errorf("%s is not in the menus", d.Label)
			continue
		}
		if it.Shortcut == nil {
			t.Errorf("%s shows no key", d.Label)
		}
	}
	ran := false
	f.AddMenuItem(shortcuts.MenuFile, fyne.NewMenuItem("Settings…", func() { ran = true }))
	f.AddMenuItem("Outbox", fyne.NewMenuItem("Show outbox", func() {}))
	mm = w.MainMenu()
	var names []string
	for _, m := range mm.Items {
		names = append(names, m.Label)
	}
	if got := strings.Join(names, ","); got != "File,Worklist,Referral,Document,Outbox" {
		t.Errorf("menus %s", got)
	}
	menuItem(mm, "Settings…").Action()
	if !ran {
		t.Error("added menu item does not run")
	}
}

func menuItem(mm *fyne.MainMenu, label string) *fyne.MenuItem {
	for _, m := range mm.Items {
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	return nil
}
