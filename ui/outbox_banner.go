package ui

import (
	"fmt"
	"strings"
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
// e-RS, with what e-RS says now. While patient data may show it names the
// referral's UBRN and NHS number; while it may not (locked, signed out:
// banners stay visible over the lock screen) it names neither. "Review in
// the outbox" opens the outbox at the oldest of them. Use it on the UI
// goroutine.
type ConflictBanner struct {
	frame *frame.Frame
	b     *bridge.Bridge
	now   func() time.Time
	// OnReview opens the outbox at the conflict with the entry id (the
	// oldest one shown).
	OnReview func(id string)
	// OnCount is told how many conflicts wait to be acknowledged, each
	// time they are read (the status bar counts the same).
	OnCount func(n int)

	ws      *app.Workspace
	pending []app.ConflictNotice // unacknowledged conflicts, oldest first
	patient bool                 // patient data may show (SetShowPatientData)
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

// SetShowPatientData says whether the banner may name the referral and
// patient (the session is unlocked and the clinician's own).
func (c *ConflictBanner) SetShowPatientData(on bool) {
	if c.patient == on {
		return
	}
	c.patient = on
	c.show()
	if on {
		c.Reload()
	}
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
	bridge.Run(c.b, nil, a.OpenConflicts, func(ns []app.ConflictNotice, err error) {
		c.loading = false
		if err == nil && c.ws == a {
			c.pending = ns
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
	text := conflictBannerText(c.pending, c.patient, c.now())
	id := c.pending[0].ID
	review := widget.NewButtonWithIcon("Review in the outbox", theme.MailSendIcon(), func() {
		if c.OnReview != nil {
			c.OnReview(id)
		}
	})
	review.Importance = widget.DangerImportance
	obj, l := widgets.BannerStrip(theme.ErrorIcon(), text, theme.ColorNameError, review)
	c.label = l
	c.frame.SetBanner(frame.BannerConflict, obj)
}

// conflictBannerText says what was not applied; with patient, naming the
// referral (UBRN) and patient (NHS number), otherwise neither.
func conflictBannerText(pending []app.ConflictNotice, patient bool, now time.Time) string {
	if len(pending) == 1 {
		e := pending[0]
		when := e.Conflict.ServerTime
		if when.IsZero() {
			when = e.Conflict.SeenAt
		}
		what := "a referral"
		if patient {
			what = conflictSubject(e)
		}
		return fmt.Sprintf("Not sent: %s had already been actioned in e-RS (%s, version %d, at %s), so your decision (%s) was not applied. Read what changed and acknowledge it.",
			what, e.Conflict.Status.State.Label(), e.Conflict.Version, widgets.ClockText(when, now), e.Decision.Kind.Label())
	}
	text := fmt.Sprintf("Not sent: %d of your decisions were not applied because the referrals had already changed in e-RS", len(pending))
	if patient {
		var names []string
		for i, e := range pending {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(pending)-3))
				break
			}
			names = append(names, conflictSubject(e))
		}
		text += " (" + strings.Join(names, "; ") + ")"
	}
	return text + ". Read what changed and acknowledge each one."
}

// conflictSubject names a conflict's referral and patient, e.g. "referral
// UBRN 1001 0000 0657 (NHS number 999 047 9909)".
func conflictSubject(e app.ConflictNotice) string {
	s := "referral UBRN " + widgets.UBRNText(e.UBRN)
	if e.NHSNumber != "" {
		s += " (NHS number " + triage.FormatNHSNumber(e.NHSNumber) + ")"
	}
	return s
}
