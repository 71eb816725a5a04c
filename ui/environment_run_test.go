package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/vetting"
)

// The NHS sandbox (here a copy on a loopback address over plain http) has
// no sign-in: the window goes from the loading screen to the worklist
// without a sign-in screen, marked as a test environment.
func TestNHSSandboxOpensTheWorklistWithoutSignIn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := apptest.StartSandbox(ctx, apptest.SandboxConfig{Referrals: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	a := test.NewTempApp(t)
	loop := bridge.NewLoop()
	var shown *vetting.Vetting
	d := NewDesktop(a, RunOptions{Post: loop.Post, OnVetting: func(v *vetting.Vetting) { shown = v },
		App: desktopOptions(t, config.EnvironmentChoice{Name: config.EnvNHSSandbox, FHIRBaseURL: sb.BaseURL()}, 0)})
	defer d.Close()
	sawSignIn := false
	if !loop.RunUntil(90*time.Second, func() bool {
		sawSignIn = sawSignIn || d.Frame.Screen() == ScreenSession
		return shown != nil && shown.Listed() > 0
	}) {
		t.Fatalf("no worklist; screen %q: %s", d.Frame.Screen(), uitest.Joined(d.Window.Content()))
	}
	if sawSignIn {
		t.Error("a sign-in screen was shown for an environment without sign-in")
	}
	if id := d.Runtime().Status().Identity; id.SDSUserID != apptest.UserClinician || id.ODS != apptest.ProviderODS {
		t.Errorf("working as %+v", id)
	}
	if b := uitest.Joined(d.Frame.BannerStack()); !strings.Contains(b, "TEST ENVIRONMENT: nhs-sandbox") || strings.Contains(b, "demo") {
		t.Errorf("not marked as the NHS sandbox test environment: %s", b)
	}
}
