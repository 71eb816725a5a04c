package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
)

// loadConfig loads settings from a profile folder with the machine policy
// given as JSON ("" for none).
func loadConfig(t *testing.T, policy string) *config.Manager {
	t.Helper()
	dir := t.TempDir()
	pp := filepath.Join(dir, "policy.json")
	if policy != "" {
		if err := os.WriteFile(pp, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cm, err := config.Load(config.Options{ProfileDir: dir, PolicyPath: pp})
	if err != nil {
		t.Fatalf("load settings: %v", err)
	}
	return cm
}

// TestSettingsApplyAtOnceWithinThePolicy: theme and text size change the
// app's theme as soon as they are chosen; the sync interval and retention
// offer only what the policy allows; a setting the policy fixes is shown as
// managed, is disabled, and cannot be changed even if the control is forced.
func TestSettingsApplyAtOnceWithinThePolicy(t *testing.T) {
	a := test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)
	cm := loadConfig(t, `{"version": 1, "theme": "dark", "sync_interval_min_minutes": 5, "sync_interval_max_minutes": 30,
		"sent_retention_max_days": 14, "locked": ["prefetch"]}`)
	var applied []*config.Settings
	v := NewView(Options{Config: cm, Bridge: b, OnApplied: func(s *config.Settings) {
		applied = append(applied, s)
		a.Settings().SetTheme(style.NewTheme(s))
	}})
	w := test.NewTempWindow(t, v.Object())
	w.Resize(fyne.NewSize(800, 900))
	settle := func() {
		t.Helper()
		uitest.PumpUntil(t, loop, 5*time.Second, "the change to be saved", func() bool { return !v.busy() })
	}

	// Managed by the policy: theme (set) and prefetch (locked).
	if !v.theme.Disabled() || !v.prefetch.Disabled() || v.theme.Selected != "Dark" {
		t.Fatalf("theme disabled %v (%q), prefetch disabled %v", v.theme.Disabled(), v.theme.Selected, v.prefetch.Disabled())
	}
	for _, k := range []config.Key{config.KeyTheme, config.KeyPrefetch} {
		if got := v.notes[k].Text; !strings.Contains(got, ManagedText) || !v.notes[k].Visible() {
			t.Errorf("%s note %q, want %q", k, got, ManagedText)
		}
	}
	if v.textSize.Disabled() || v.interval.Disabled() || v.retention.Disabled() {
		t.Fatal("a setting the policy leaves alone is disabled")
	}
	// Forcing the control anyway changes nothing.
	v.theme.SetSelected("Light")
	settle()
	if cm.Settings().Theme != config.ThemeDark || v.theme.Selected != "Dark" || !strings.Contains(v.notes[config.KeyTheme].Text, "managed by your organisation") {
		t.Errorf("forced theme change: setting %s, shown %q, note %q", cm.Settings().Theme, v.theme.Selected, v.notes[config.KeyTheme].Text)
	}
	v.prefetch.SetChecked(false)
	settle()
	if !cm.Settings().Prefetch || !v.prefetch.Checked {
		t.Error("a locked prefetch setting was turned off")
	}

	// Text size applies at once.
	before := theme.TextSize()
	v.textSize.SetSelected("Largest")
	settle()
	if cm.Settings().TextSize != config.TextLargest || len(applied) != 1 {
		t.Fatalf("text size %s, applied %d times", cm.Settings().TextSize, len(applied))
	}
	if after := a.Settings().Theme().Size(theme.SizeNameText); after <= before {
		t.Errorf("text size %v after choosing Largest, was %v", after, before)
	}

	// The sync interval offers the policy's range only.
	for _, o := range v.interval.Options {
		n := 0
		for _, c := range o {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		if n < 5 || n > 30 {
			t.Errorf("interval option %q is outside the policy's 5 to 30 minutes", o)
		}
	}
	if !strings.Contains(v.notes[config.KeySyncInterval].Text, "Your organisation allows between 5 and 30 minutes") {
		t.Errorf("interval note %q", v.notes[config.KeySyncInterval].Text)
	}
	v.interval.SetSelected("10 minutes")
	settle()
	if cm.Settings().SyncInterval != 10*time.Minute {
		t.Errorf("sync interval %v, want 10 minutes", cm.Settings().SyncInterval)
	}
	v.retention.SetSelected("14 days")
	settle()
	if cm.Settings().SentRetentionDays != 14 || v.retention.Options[len(v.retention.Options)-1] != "14 days" {
		t.Errorf("retention %d, options %v", cm.Settings().SentRetentionDays, v.retention.Options)
	}
}

// TestSettingsThemeAppliesLive: on an unmanaged computer the theme changes
// as soon as it is chosen.
func TestSettingsThemeAppliesLive(t *testing.T) {
	a := test.NewTempApp(t)
	b, loop := uitest.LoopBridge(t)
	cm := loadConfig(t, "")
	v := NewView(Options{Config: cm, Bridge: b, OnApplied: func(s *config.Settings) { a.Settings().SetTheme(style.NewTheme(s)) }})
	test.NewTempWindow(t, v.Object())
	for _, c := range []struct {
		label string
		dark  bool
	}{{"Dark", true}, {"Light", false}} {
		v.theme.SetSelected(c.label)
		uitest.PumpUntil(t, loop, 5*time.Second, "the theme to be saved", func() bool { return !v.busy() })
		bg := a.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight)
		r, g, bl, _ := bg.RGBA()
		if dark := r+g+bl < 3*0x8000; dark != c.dark {
			t.Errorf("after choosing %s the background is %v", c.label, bg)
		}
	}
}
