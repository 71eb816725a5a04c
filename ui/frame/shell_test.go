package frame

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// joined is texts joined with "|".

func TestShellMarksDemo(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := NewShellWindow(a, ShellOptions{Demo: true, Environment: "demo"})
	defer w.Close()
	if !strings.Contains(w.Title(), DemoBannerText) {
		t.Errorf("window title %q does not say demo", w.Title())
	}
	got := uitest.Joined(w.Content())
	for _, want := range []string{DemoBannerText, "No referrals downloaded yet."} {
		if !strings.Contains(got, want) {
			t.Errorf("shell does not show %q; labels: %s", want, got)
		}
	}
}

func TestBannerPerEnvironment(t *testing.T) {
	if EnvironmentBanner(ShellOptions{Environment: "prod"}) != nil {
		t.Error("production shows a test-environment banner")
	}
	b := EnvironmentBanner(ShellOptions{Environment: "int"})
	if b == nil || !strings.Contains(uitest.Joined(b), "int") {
		t.Error("INT environment not marked")
	}
}
