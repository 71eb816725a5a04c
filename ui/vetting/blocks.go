package vetting

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// --- small building blocks ----------------------------------------------

// colourBox puts obj on a coloured background.
func colourBox(obj fyne.CanvasObject, c fyne.ThemeColorName) fyne.CanvasObject {
	bg := canvas.NewRectangle(style.Color(c))
	bg.CornerRadius = 4
	return container.NewStack(bg, container.NewPadded(obj))
}

// colourBadge is a pill with text in the given colours.
func colourBadge(text string, bg fyne.ThemeColorName, fg color.Color) fyne.CanvasObject {
	r := canvas.NewRectangle(style.Color(bg))
	r.CornerRadius = 4
	t := canvas.NewText(text, fg)
	t.TextStyle = fyne.TextStyle{Bold: true}
	return container.NewStack(r, container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), container.NewCenter(t)))
}

// plainBadge is an outlined pill.
func plainBadge(text string) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.StrokeColor = style.Color(theme.ColorNameForeground)
	r.StrokeWidth = 1
	r.CornerRadius = 4
	t := canvas.NewText(text, style.Color(theme.ColorNameForeground))
	t.TextStyle = fyne.TextStyle{Bold: true}
	return container.NewStack(r, container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), container.NewCenter(t)))
}

// priorityBadge is the priority as a badge: 2WW red, urgent amber, routine
// plain, always with its name.
func priorityBadge(p triage.Priority) fyne.CanvasObject {
	switch p {
	case triage.PriorityTwoWeekWait:
		return colourBadge(p.Label(), style.ColorNameTwoWeek, color.White)
	case triage.PriorityUrgent:
		return colourBadge(p.Label(), style.ColorNameUrgent, color.Black)
	}
	return plainBadge(p.Label())
}

// sectionTitle is a bold heading in the side column.
func sectionTitle(s string) fyne.CanvasObject { return widgets.Bold(s) }

// wrappedLabel is a label that wraps at word boundaries (never cut short).
func wrappedLabel(s string) *widget.Label { return widgets.Wrapped(s) }

// errorText is a wrapped message in the error colour (with words that say
// what is wrong, so colour is not the only signal).
func errorText(s string) *widget.Label { return widgets.ErrorText(s) }

// messagePanel fills the viewer area with an icon and a message (never a
// blank page), under an optional bar.
func messagePanel(icon fyne.Resource, msg string, top fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	body := container.NewVBox(widget.NewIcon(icon), l)
	return container.NewBorder(top, nil, nil, nil, container.New(layout.NewCustomPaddedLayout(40, 40, 24, 24), body))
}

// documentError is shown in place of a document that failed: the reason,
// "Save a copy" (when the bytes exist) and the e-RS ids to report it with.
func documentError(msg, ids string, save func(), top fyne.CanvasObject) fyne.CanvasObject {
	l := errorText(msg)
	l.Alignment = fyne.TextAlignCenter
	id := widget.NewLabel(ids)
	id.Wrapping = fyne.TextWrapWord
	id.Alignment = fyne.TextAlignCenter
	objs := []fyne.CanvasObject{widget.NewIcon(theme.ErrorIcon()), l, id}
	if save != nil {
		objs = append(objs, container.NewCenter(widget.NewButtonWithIcon("Save a copy", theme.DocumentSaveIcon(), save)))
	}
	return container.NewBorder(top, nil, nil, nil, container.New(layout.NewCustomPaddedLayout(40, 40, 24, 24), container.NewVBox(objs...)))
}

// wrapText breaks s into lines of about width characters, for dialogs
// (widgets.WrapText).
func wrapText(s string, width int) string { return widgets.WrapText(s, width) }

// shortDuration writes 5m0s as "5-minute".
func shortDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d-hour", int(d/time.Hour))
	}
	return fmt.Sprintf("%d-minute", int(d.Round(time.Minute)/time.Minute))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
