package about

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// TestAboutShowsVersionEnvironmentDataAndLicences: the About screen names
// the build, the environment (marked when not live), where the data is,
// and carries the third-party notices with their tables made readable.
func TestAboutShowsVersionEnvironmentDataAndLicences(t *testing.T) {
	test.NewTempApp(t)
	env, _ := config.Builtin(config.EnvInt)
	closed := false
	obj := NewScreen(Info{Version: "Triage Desk v1.2.3", Environment: env, Storage: app.Storage{Dir: "/home/dr/.local/share/TriageDesk", Keys: app.KeysKeychain, Kept: true},
		SettingsFile: "/home/dr/.local/share/TriageDesk/settings.json", Policy: "/etc/triagedesk/policy.json"}, func() { closed = true })
	test.NewTempWindow(t, obj)
	got := strings.Join(uitest.Texts(obj), "|")
	for _, want := range []string{"Triage Desk v1.2.3", env.Label + " (test environment: not for real patients)",
		"/home/dr/.local/share/TriageDesk", "/etc/triagedesk/policy.json", "Licences"} {
		if !strings.Contains(got, want) {
			t.Errorf("About lacks %q: %s", want, got)
		}
	}
	var notices string
	uitest.WalkObjects(obj, func(o fyne.CanvasObject) {
		if r, ok := o.(*widget.RichText); ok {
			for _, seg := range r.Segments {
				notices += uitest.SegmentText(seg)
			}
		}
	})
	for _, want := range []string{"Third-party notices", "PDFium – BSD-3-Clause and Apache-2.0", "MIT License"} {
		if !strings.Contains(notices, want) {
			t.Errorf("licences lack %q", want)
		}
	}
	if strings.Contains(notices, "|---") || strings.Contains(notices, "| component |") {
		t.Error("a Markdown table is shown raw")
	}
	uitest.TapButton(t, obj, "Back to the worklist")
	if !closed {
		t.Error("Back did not close the screen")
	}
}
