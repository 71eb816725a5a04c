package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// ConflictBanner says, until the clinician acknowledges them, that
// decisions were not applied because the referral had already changed in
// e-RS, with what e-RS says now. It names no patient or referral (banners
// stay visible over the lock screen); "Review in the outbox" opens them. Use
// it on the UI goroutine.
type ConflictBanner struct {
	frame *frame.Frame
	b     *bridge.Bridge
	now   func() time.Time
	// OnReview opens the outbox at the conflicts.
	OnReview func()
	// OnCount is told how many conflicts wait to be acknowledged, each
	// time they are read (the status bar counts the same).
	OnCount func(n int)

	ws      *app.Workspace
	pending []app.Entry // unacknowledged conflicts, oldest first
	label   *widget.Label
	loading bool
	again   bool
}

// NewConflictBanner returns a controller for the frame's conflict slot.
func NewConflictBanner(f *frame.Frame, b *bridge.Bridge, now func() time.Time) *ConflictBanner {
	if now == nil {
		now = time.Now
	}
	return &ConflictBanner{frame: f, b: b, now: now}
}

// SetWorkspace reads the conflicts of the workspace (nil: none).
func (c *ConflictBanner) SetWorkspace(a *app.Workspace) {
	c.ws = a
	c.pending = nil
	c.show()
	c.Reload()
}

// Apply reads the conflicts again when the outbox changed.
func (c *ConflictBanner) Apply(u bridge.Update) {
	if u.Outbox != nil || u.Lagged {
		c.Reload()
		return
	}
	for _, st := range u.Decisions {
		if st == triage.OutboxConflict || st == triage.OutboxDiscarded {
			c.Reload()
			return
		}
	}
}

// Reload reads the unacknowledged conflicts off the UI goroutine.
func (c *ConflictBanner) Reload() {
	if c.ws == nil {
		return
	}
	if c.loading {
		c.again = true
		return
	}
	c.loading = true
	a := c.ws
	bridge.Run(c.b, nil, func(ctx context.Context) ([]app.Entry, error) {
		return a.Entries(ctx, app.EntryFilter{States: []triage.OutboxState{triage.OutboxConflict}})
	}, func(es []app.Entry, err error) {
		c.loading = false
		if err == nil && c.ws == a {
			c.pending = c.pending[:0]
			for _, e := range es {
				if e.Conflict != nil && !e.Conflict.Acknowledged {
					c.pending = append(c.pending, e)
				}
			}
			c.show()
		}
		if c.again {
			c.again = false
			c.Reload()
		}
	})
}

// Text returns the banner's sentence ("" when not shown).
func (c *ConflictBanner) Text() string {
	if c.label == nil || c.frame.Banner(frame.BannerConflict) == nil {
		return ""
	}
	return c.label.Text
}

func (c *ConflictBanner) show() {
	if c.OnCount != nil {
		c.OnCount(len(c.pending))
	}
	if len(c.pending) == 0 {
		c.frame.SetBanner(frame.BannerConflict, nil)
		c.label = nil
		return
	}
	text := conflictBannerText(c.pending, c.now())
	review := widget.NewButtonWithIcon("Review in the outbox", theme.MailSendIcon(), func() {
		if c.OnReview != nil {
			c.OnReview()
		}
	})
	review.Importance = widget.DangerImportance
	obj, l := widgets.BannerStrip(theme.ErrorIcon(), text, theme.ColorNameError, review)
	c.label = l
	c.frame.SetBanner(frame.BannerConflict, obj)
}

// conflictBannerText says what was not applied, without naming the patient
// or referral.
func conflictBannerText(pending []app.Entry, now time.Time) string {
	if len(pending) == 1 {
		e := pending[0]
		when := e.Conflict.ServerTime
		if when.IsZero() {
			when = e.Conflict.SeenAt
		}
		return fmt.Sprintf("Not sent: a referral had already been actioned in e-RS (%s, version %d, at %s), so your decision (%s) was not applied. Read what changed and acknowledge it.",
			e.Conflict.Status.State.Label(), e.Conflict.Version, widgets.ClockText(when, now), e.Decision.Kind.Label())
	}
	return fmt.Sprintf("Not sent: %d of your decisions were not applied because the referrals had already changed in e-RS. Read what changed and acknowledge each one.", len(pending))
}
