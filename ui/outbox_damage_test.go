package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// One record of the clinician's saved decisions is damaged (a byte of its
// value flipped, as bit rot would): the app still opens, a red banner gives
// the same verdict as triagectl (how many records, that one may be an
// unsent decision, that the others are still sent) and the next step,
// naming no patient, and the intact decision is sent.
func TestOutboxDamageBannerGivesTheVerdictAndTheNextStep(t *testing.T) {
	first := demoRuntimeOptions(t)
	rt, a := demoWorkspace(t, first)
	refs := bookedReferrals(t, a)
	ids := []string{acceptReferral(t, a, refs[0]), acceptReferral(t, a, refs[1])}
	dataDir := rt.DataDir()
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	ob := filepath.Join(apptest.UserDir(dataDir, apptest.UserClinician), apptest.OutboxFile)
	testutil.FlipStoredValue(t, ob, "entries", nil)

	cf := newChromeFixture(t, func(o *app.Options) {
		o.ProfileDir, o.PolicyPath, o.DevInsecureKeyfile = first.ProfileDir, first.PolicyPath, first.DevInsecureKeyfile
	})
	cf.until(t, "the damage banner", func() bool { return cf.c.damage.Text() != "" })
	want, err := apptest.Store(cf.a).OutboxDamage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	text := cf.c.damage.Text()
	if text != want.Summary() || cf.f.Banner(frame.BannerOutboxDamage) == nil {
		t.Errorf("banner %q, want the store's verdict %q", text, want.Summary())
	}
	if !strings.HasSuffix(cf.c.status.Summary(), "1 damaged record") {
		t.Errorf("status bar %q does not count the damaged record", cf.c.status.Summary())
	}
	for _, must := range []string{"1 saved record(s)", "may be decision(s) that have not reached e-RS", "Your other decisions are sent as normal", "triagectl doctor"} {
		if !strings.Contains(text, must) {
			t.Errorf("banner lacks %q: %s", must, text)
		}
	}
	for _, u := range refs[:2] {
		if strings.Contains(text, u) || strings.Contains(text, widgets.UBRNText(u)) {
			t.Errorf("the banner names a referral: %s", text)
		}
	}
	// The decision whose record is intact is sent as normal.
	readable := ""
	for _, id := range ids {
		if _, err := apptest.Store(cf.a).Entry(context.Background(), id); err == nil {
			readable = id
		}
	}
	if readable == "" {
		t.Fatal("neither decision can be read")
	}
	cf.until(t, "the intact decision to be sent", func() bool { return cf.entryState(t, readable) == triage.OutboxSent })
	if cf.c.damage.Text() == "" {
		t.Error("the banner went while the record is still damaged")
	}
}
