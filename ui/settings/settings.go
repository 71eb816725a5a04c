// Package settings is the settings screen: the clinician's choices
// (theme, text size, sync, offline reading, retention), applied at once
// and kept within the machine policy.
package settings

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// Screen is the settings screen's name.
const Screen = "settings"

// ManagedText marks a setting the machine policy sets or locks.
const ManagedText = "Managed by your organisation"

// Options configure a View.
type Options struct {
	// Config holds the settings and saves changes. Required.
	Config *config.Manager
	// Bridge saves changes off the UI goroutine. Required.
	Bridge *bridge.Bridge
	// OnApplied is called on the UI goroutine with the new settings after
	// each change is saved, to apply it at once (theme, text size, the
	// engine's sync interval and prefetch).
	OnApplied func(*config.Settings)
	// OnClose leaves the screen; nil hides the button.
	OnClose func()
}

// View is the settings screen: theme (system, light, dark) and
// text size, applied at once; how often to sync, within the policy's
// bounds; how long sent decisions are kept, within the policy's maximum;
// and whether documents are downloaded ahead of time. A setting the
// machine policy sets or locks is shown as "Managed by your organisation"
// and cannot be changed. Use it on the UI goroutine.
type View struct {
	o   Options
	cur *config.Settings

	theme     *widget.RadioGroup
	textSize  *widgets.KeySelect
	interval  *widgets.KeySelect
	retention *widgets.KeySelect
	prefetch  *widget.Check
	notes     map[config.Key]*widget.Label
	notices   *widget.Label
	obj       fyne.CanvasObject
	saving    int
	updating  bool // controls are being set from the settings, not by the user
}

var themeChoices = []struct {
	t     config.Theme
	label string
}{{config.ThemeSystem, "Match the computer"}, {config.ThemeLight, "Light"}, {config.ThemeDark, "Dark"}}

func themeLabel(t config.Theme) string {
	for _, c := range themeChoices {
		if c.t == t {
			return c.label
		}
	}
	return string(t)
}

func textSizeLabel(t config.TextSize) string {
	s := string(t)
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// NewView builds the screen from the current settings.
func NewView(o Options) *View {
	v := &View{o: o, notes: map[config.Key]*widget.Label{}}
	labels := make([]string, len(themeChoices))
	for i, c := range themeChoices {
		labels[i] = c.label
	}
	v.theme = widget.NewRadioGroup(labels, func(s string) {
		for _, c := range themeChoices {
			if c.label == s {
				t := c.t
				v.change(config.KeyTheme, func(cm *config.Manager) error { return cm.SetTheme(t) })
			}
		}
	})
	v.theme.Horizontal = true
	v.theme.Required = true
	var sizes []string
	for _, t := range config.TextSizes() {
		sizes = append(sizes, textSizeLabel(t))
	}
	v.textSize = widgets.NewKeySelect(sizes, func(s string) {
		for _, t := range config.TextSizes() {
			if textSizeLabel(t) == s {
				t := t
				v.change(config.KeyTextSize, func(cm *config.Manager) error { return cm.SetTextSize(t) })
			}
		}
	})
	v.interval = widgets.NewKeySelect(nil, func(s string) {
		n, err := strconv.Atoi(strings.Fields(s + " x")[0])
		if err == nil {
			v.change(config.KeySyncInterval, func(cm *config.Manager) error { return cm.SetSyncInterval(time.Duration(n) * time.Minute) })
		}
	})
	v.retention = widgets.NewKeySelect(nil, func(s string) {
		n, err := strconv.Atoi(strings.Fields(s + " x")[0])
		if err == nil {
			v.change(config.KeySentRetentionDays, func(cm *config.Manager) error { return cm.SetSentRetentionDays(n) })
		}
	})
	v.prefetch = widget.NewCheck("Download documents ahead of time, so they can be read offline", func(on bool) {
		v.change(config.KeyPrefetch, func(cm *config.Manager) error { return cm.SetPrefetch(on) })
	})
	v.notices = widget.NewLabel("")
	v.notices.Wrapping = fyne.TextWrapWord
	v.notices.Importance = widget.WarningImportance

	row := func(k config.Key, name, help string, control fyne.CanvasObject) fyne.CanvasObject {
		note := widget.NewLabel("")
		note.Wrapping = fyne.TextWrapWord
		note.Hide()
		v.notes[k] = note
		h := widget.NewLabel(help)
		h.Wrapping = fyne.TextWrapWord
		h.Importance = widget.LowImportance
		return container.NewVBox(widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), control, h, note, widget.NewSeparator())
	}
	title := widget.NewLabelWithStyle("Settings", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	head := []fyne.CanvasObject{}
	if o.OnClose != nil {
		head = append(head, widget.NewButtonWithIcon("Back to the worklist", theme.NavigateBackIcon(), o.OnClose))
	}
	head = append(head, title)
	form := container.NewVBox(
		container.NewHBox(head...),
		v.notices,
		row(config.KeyTheme, "Theme", "Changes at once.", v.theme),
		row(config.KeyTextSize, "Text size", "Changes at once, everywhere in Triage Desk.", v.textSize),
		row(config.KeySyncInterval, "Check e-RS for new referrals every", "Decisions are sent as soon as they are made, whatever this says.", v.interval),
		row(config.KeySentRetentionDays, "Keep sent decisions on this computer for", "After this, the patient data of referrals you have decided is removed from this computer. Applies from the next time Triage Desk opens your data.", v.retention),
		row(config.KeyPrefetch, "Offline reading", "When off, a referral's documents are downloaded when you open it.", v.prefetch),
	)
	v.obj = container.NewVScroll(widgets.ReadableColumn(720, container.NewPadded(form)))
	v.Load(o.Config.Settings())
	return v
}

// Object returns the screen.
func (v *View) Object() fyne.CanvasObject { return v.obj }

// minuteChoices are the sync intervals offered, within [lo, hi], with cur.
func minuteChoices(lo, hi, cur int) []int {
	var out []int
	for _, m := range []int{1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240} {
		if m >= lo && m <= hi {
			out = append(out, m)
		}
	}
	for _, m := range []int{lo, hi, cur} {
		if m >= lo && m <= hi && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// dayChoices are the retention periods offered, 1 to hi, with cur.
func dayChoices(hi, cur int) []int {
	var out []int
	for _, d := range []int{1, 2, 3, 5, 7, 10, 14, 21, 28, 30, 60, 90, 180, 365} {
		if d <= hi {
			out = append(out, d)
		}
	}
	for _, d := range []int{hi, cur} {
		if d >= 1 && d <= hi && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// Load shows the settings: values, bounds, and which are managed.
func (v *View) Load(s *config.Settings) {
	v.cur = s
	v.updating = true
	defer func() { v.updating = false }()
	v.theme.SetSelected(themeLabel(s.Theme))
	v.textSize.SetSelected(textSizeLabel(s.TextSize))
	lo, hi := int(s.SyncIntervalMin/time.Minute), int(s.SyncIntervalMax/time.Minute)
	cur := int(s.SyncInterval / time.Minute)
	var opts []string
	for _, m := range minuteChoices(lo, hi, cur) {
		opts = append(opts, widgets.CountOf(m, "minute", "minutes"))
	}
	v.interval.Options = opts
	v.interval.SetSelected(widgets.CountOf(cur, "minute", "minutes"))
	opts = nil
	for _, d := range dayChoices(s.SentRetentionMaxDays, s.SentRetentionDays) {
		opts = append(opts, widgets.CountOf(d, "day", "days"))
	}
	v.retention.Options = opts
	v.retention.SetSelected(widgets.CountOf(s.SentRetentionDays, "day", "days"))
	v.prefetch.SetChecked(s.Prefetch)

	bounds := map[config.Key]string{
		config.KeySyncInterval:      fmt.Sprintf("Between %d and %d minutes.", lo, hi),
		config.KeySentRetentionDays: fmt.Sprintf("Up to %s.", widgets.CountOf(s.SentRetentionMaxDays, "day", "days")),
	}
	if s.Origin(config.KeySyncIntervalMin).Source == config.SourcePolicy || s.Origin(config.KeySyncIntervalMax).Source == config.SourcePolicy {
		bounds[config.KeySyncInterval] = fmt.Sprintf("Your organisation allows between %d and %d minutes.", lo, hi)
	}
	if s.Origin(config.KeySentRetentionMax).Source == config.SourcePolicy {
		bounds[config.KeySentRetentionDays] = fmt.Sprintf("Your organisation allows up to %s.", widgets.CountOf(s.SentRetentionMaxDays, "day", "days"))
	}
	controls := map[config.Key]fyne.Disableable{
		config.KeyTheme: v.theme, config.KeyTextSize: v.textSize, config.KeySyncInterval: v.interval,
		config.KeySentRetentionDays: v.retention, config.KeyPrefetch: v.prefetch,
	}
	for k, c := range controls {
		note := v.notes[k]
		note.Importance = widget.LowImportance
		if s.Locked(k) {
			c.Disable()
			note.SetText(ManagedText + ".")
			note.Importance = widget.WarningImportance
			note.Show()
			continue
		}
		c.Enable()
		note.SetText(bounds[k])
		note.Hidden = note.Text == ""
	}
	v.notices.SetText(strings.Join(s.Notices, "\n"))
	v.notices.Hidden = len(s.Notices) == 0
}

// change saves one setting off the UI goroutine; the result is shown
// beside it, and the screen shows the settings as they now are.
func (v *View) change(k config.Key, set func(*config.Manager) error) {
	if v.updating {
		return
	}
	cm := v.o.Config
	v.saving++
	bridge.Run(v.o.Bridge, nil, func(context.Context) (*config.Settings, error) {
		err := set(cm)
		return cm.Settings(), err
	}, func(s *config.Settings, err error) {
		v.saving--
		v.Load(s)
		if err != nil {
			note := v.notes[k]
			note.SetText(triage.ErrorMessage(err))
			note.Importance = widget.DangerImportance
			note.Show()
			return
		}
		if v.o.OnApplied != nil {
			v.o.OnApplied(s)
		}
	})
}

// busy reports whether a change is being saved (tests).
func (v *View) busy() bool { return v.saving > 0 }
