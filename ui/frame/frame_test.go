package frame

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/internal/uitest"
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
	got := uitest.Joined(f.bannerBox)
	if got != DemoBannerText+"|sign in|offline|notice" {
		t.Fatalf("banners %q, want the environment first then sign-in, offline, notice", got)
	}
	f.SetBanner(BannerOffline, nil)
	if got := uitest.Joined(f.bannerBox); got != DemoBannerText+"|sign in|notice" {
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
	content := uitest.Joined(w.Content())
	if strings.Contains(content, "999 000 0018") || !strings.Contains(content, "Locked") || !strings.Contains(content, "status") {
		t.Fatalf("lock screen shows %q", content)
	}
	test.TypeOnCanvas(w.Canvas(), "a")
	if accepted != 1 {
		t.Fatal("a shortcut acted behind a full-window screen")
	}
	if it := uitest.MenuItem(w.MainMenu(), "Accept"); it == nil || !it.Disabled {
		t.Error("the Accept menu item is enabled behind a full-window screen")
	}
	f.CloseScreen()
	if !strings.Contains(uitest.Joined(w.Content()), "999 000 0018") || f.Screen() != "" {
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
		it := uitest.MenuItem(mm, d.Label)
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
	if got := strings.Join(names, ","); got != "File,Worklist,Referral,Document,View,Outbox" {
		t.Errorf("menus %s", got)
	}
	uitest.MenuItem(mm, "Settings…").Action()
	if !ran {
		t.Error("added menu item does not run")
	}
}

// TestFramePageKeepsAppWideShortcuts: on a page such as the outbox the
// clinician can still lock the screen (Ctrl+L) and open settings, while
// referral shortcuts stay off; behind the lock screen nothing works.
func TestFramePageKeepsAppWideShortcuts(t *testing.T) {
	a := test.NewTempApp(t)
	w, f := NewShellWindow(a, ShellOptions{})
	defer w.Close()
	locks, accepts := 0, 0
	f.Shortcuts().Handle(shortcuts.Lock, func() { locks++ })
	f.Shortcuts().Handle(shortcuts.Accept, func() { accepts++ })
	ctrlL := &desktop.CustomShortcut{KeyName: fyne.KeyL, Modifier: fyne.KeyModifierShortcutDefault}
	typed := w.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })

	f.ShowPage("outbox", widget.NewLabel("Outbox"))
	typed.TypedShortcut(ctrlL)
	test.TypeOnCanvas(w.Canvas(), "a")
	if locks != 1 || accepts != 0 {
		t.Fatalf("on the outbox page: %d locks (want 1), %d accepts (want 0)", locks, accepts)
	}
	if it := uitest.MenuItem(w.MainMenu(), "Lock now"); it == nil || it.Disabled {
		t.Error("Lock now is disabled on the outbox page")
	}
	f.ShowScreen("lock", widget.NewLabel("Locked"))
	typed.TypedShortcut(ctrlL)
	if locks != 1 {
		t.Error("Ctrl+L acted behind the lock screen")
	}
	if it := uitest.MenuItem(w.MainMenu(), "Lock now"); it == nil || !it.Disabled {
		t.Error("Lock now is enabled behind the lock screen")
	}
}

// TestQuitStaysLastAndSingle: the desktop driver ends the first menu with
// a separator and Quit; items added later go before them, so the File menu
// never shows Quit twice.
func TestQuitStaysLastAndSingle(t *testing.T) {
	a := test.NewTempApp(t)
	w, f := NewShellWindow(a, ShellOptions{})
	defer w.Close()
	// The File menu ends with Triage Desk's own Quit (the shortcut's, which
	// warns about unsent decisions), so the desktop driver adds none.
	file := f.menu(shortcuts.MenuFile)
	f.AddMenuItem(shortcuts.MenuFile, fyne.NewMenuItem("Audit log", func() {}))
	f.AddMenuItem(shortcuts.MenuFile, nil)
	f.AddMenuItem(shortcuts.MenuFile, fyne.NewMenuItem("Sign out…", func() {}))
	quits := 0
	for _, it := range file.Items {
		if it.IsQuit {
			quits++
		}
	}
	if n := len(file.Items); quits != 1 || !file.Items[n-1].IsQuit || !file.Items[n-2].IsSeparator {
		t.Fatalf("File menu ends %v with %d Quit items, want one Quit last after a separator", uitest.MenuLabels(file.Items), quits)
	}
	if l := uitest.MenuLabels(file.Items); l[len(l)-3] != "Sign out…" {
		t.Errorf("File menu %v: the new item is not just before Quit", l)
	}
}
