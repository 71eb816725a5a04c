package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// clockText writes a time as "14:05" when it is today (local time), and
// "02 Mar 14:05" otherwise; "never" when unknown.
func clockText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	lt, ln := t.Local(), now.Local()
	if lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay() {
		return lt.Format("15:04")
	}
	return lt.Format("02 Jan 15:04")
}

// panelBox sets obj on a tinted panel, to group related lines.
func panelBox(obj fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(obj))
}
