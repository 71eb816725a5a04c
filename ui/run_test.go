package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/vetting"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/bridge"
)

func TestDemoStartsBehindALoadingScreenAndOpensTheWorklist(t *testing.T) {
	a := test.NewTempApp(t)
	loop := bridge.NewLoop()
	var shown *vetting.Vetting
	d := NewDesktop(a, RunOptions{Post: loop.Post, OnVetting: func(v *vetting.Vetting) { shown = v },
		App: desktopOptions(t, config.EnvironmentChoice{Name: config.EnvDemo}, 20)})
	defer d.Close()
	if d.Frame.Screen() != frame.ScreenLoading {
		t.Fatalf("the window opens on %q, want the loading screen", d.Frame.Screen())
	}
	if !strings.Contains(d.Window.Title(), frame.DemoBannerText) || !strings.Contains(uitest.Joined(d.Frame.BannerStack()), frame.DemoBannerText) {
		t.Error("the demo is not marked")
	}
	// The demo signs the synthetic clinician in, opens the workspace, syncs
	// with the embedded sandbox and shows the worklist, all off the UI
	// goroutine.
	if !loop.RunUntil(90*time.Second, func() bool { return shown != nil && shown.Listed() > 0 }) {
		t.Fatalf("no worklist; screen %q: %s", d.Frame.Screen(), uitest.Joined(d.Window.Content()))
	}
	if d.Frame.Screen() != "" || d.Tabs() == nil || d.Frame.Main() != d.Tabs().Object() {
		t.Fatalf("screen %q over the worklist", d.Frame.Screen())
	}
	if id := d.Runtime().Status().Identity; id.SDSUserID == "" {
		t.Error("no one signed in")
	}
	// Locking hides the worklist behind the lock screen.
	d.Runtime().Lock()
	if !loop.RunUntil(90*time.Second, func() bool { return d.Frame.Screen() == ScreenSession }) {
		t.Fatalf("locked, the screen is %q", d.Frame.Screen())
	}
	if strings.Contains(uitest.Joined(d.Window.Content()), "Referrals for Review") {
		t.Error("the worklist shows while locked")
	}
}

// TestStartShowsTheCachedWorklistBeforeSyncingOrCompilingPDFium: on a
// profile with a cached worklist, its rows are shown before the first sync
// asks e-RS for the worklist (A008) and before the PDF engine starts; both
// follow.
func TestStartShowsTheCachedWorklistBeforeSyncingOrCompilingPDFium(t *testing.T) {
	o := desktopOptions(t, config.EnvironmentChoice{Name: config.EnvDemo}, 0)
	cached, err := apptest.FillCachedProfile(context.Background(), o, 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	loop := bridge.NewLoop()
	var listed, a008, pdf = -1, -1, true
	var d *Desktop
	d = NewDesktop(a, RunOptions{Post: loop.Post, App: o, OnVetting: func(v *vetting.Vetting) {
		listed = v.Listed()
		a008 = apptest.Sandbox(d.Runtime()).Stats().Requests["A008"]
		pdf = d.Runtime().DocumentsStarted()
	}})
	defer d.Close()
	if !loop.RunUntil(90*time.Second, func() bool { return listed >= 0 }) {
		t.Fatalf("no worklist; screen %q", d.Frame.Screen())
	}
	if listed != cached.Listed || a008 != 0 || pdf {
		t.Fatalf("first worklist shown: %d rows (want the %d cached), after %d A008 requests (want 0), PDF engine started %v (want false)", listed, cached.Listed, a008, pdf)
	}
	rt := d.Runtime()
	if !loop.RunUntil(90*time.Second, func() bool {
		return apptest.Sandbox(rt).Stats().Requests["A008"] > 0 && rt.DocumentsStarted()
	}) {
		t.Fatalf("after the worklist: A008 requests %d, PDF engine started %v", apptest.Sandbox(rt).Stats().Requests["A008"], rt.DocumentsStarted())
	}
}
