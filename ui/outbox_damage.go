package ui

import (
	"context"

	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/widgets"

	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/ui/bridge"
)

// DamageBanner is a red banner shown while records in the file of the
// clinician's decisions are damaged: the same verdict the command line and
// triagectl doctor give (how many records, how many may be unsent decisions,
// whether the others are still sent or everything is held) and the next
// step. It names no patient or referral (banners stay visible over the
// lock screen); triagectl doctor names them. Use it on the UI goroutine.
type DamageBanner struct {
	frame *frame.Frame
	b     *bridge.Bridge
	ws    *app.Workspace
	text  string
	// OnDamage, if set, is told how many records are damaged whenever
	// that is read (the status bar counts them).
	OnDamage func(n int)
}

// NewDamageBanner returns a controller for the frame's outbox damage slot.
func NewDamageBanner(f *frame.Frame, b *bridge.Bridge) *DamageBanner {
	return &DamageBanner{frame: f, b: b}
}

// SetWorkspace reads the damage of the workspace's outbox (nil: none).
func (d *DamageBanner) SetWorkspace(a *app.Workspace) {
	d.ws = a
	d.show(app.OutboxDamage{})
	if a == nil {
		return
	}
	bridge.Run(d.b, nil, func(ctx context.Context) (app.OutboxDamage, error) {
		return a.OutboxDamage(ctx)
	}, func(dmg app.OutboxDamage, err error) {
		if err == nil && d.ws == a {
			d.show(dmg)
		}
	})
}

// Apply follows the engine's outbox summaries, which carry the damage.
func (d *DamageBanner) Apply(u bridge.Update) {
	if d.ws != nil && u.Outbox != nil {
		d.show(u.Outbox.Damage)
	}
}

// Text returns the banner's sentence ("" when not shown).
func (d *DamageBanner) Text() string {
	if d.frame.Banner(frame.BannerOutboxDamage) == nil {
		return ""
	}
	return d.text
}

func (d *DamageBanner) show(dmg app.OutboxDamage) {
	if d.OnDamage != nil {
		d.OnDamage(len(dmg.Records))
	}
	d.text = dmg.Summary()
	if d.text == "" {
		d.frame.SetBanner(frame.BannerOutboxDamage, nil)
		return
	}
	obj, _ := widgets.BannerStrip(theme.ErrorIcon(), d.text, theme.ColorNameError)
	d.frame.SetBanner(frame.BannerOutboxDamage, obj)
}
