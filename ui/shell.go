package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// AppTitle is the window title and product name.
const AppTitle = "Triage Desk"

// DemoBannerText marks every screen in demo mode, so synthetic data is never
// mistaken for real patients.
const DemoBannerText = "DEMO – synthetic data"

// ShellOptions configures the main window shell.
type ShellOptions struct {
	// Demo marks the window as showing synthetic data.
	Demo bool
	// Environment names the e-RS environment in use, shown on every screen.
	Environment string
}

// demoColour is a strong amber that no clinical badge uses.
var demoColour = color.NRGBA{R: 0xff, G: 0xb8, B: 0x1c, A: 0xff}

// EnvironmentBanner returns the strip shown at the top of every screen for a
// non-production environment, or nil for production.
func EnvironmentBanner(opts ShellOptions) fyne.CanvasObject {
	text := ""
	switch {
	case opts.Demo:
		text = DemoBannerText
	case opts.Environment != "" && opts.Environment != "prod":
		text = "TEST ENVIRONMENT: " + opts.Environment + " – not for real patients"
	default:
		return nil
	}
	bg := canvas.NewRectangle(demoColour)
	// Dark text on amber reads in both light and dark themes.
	label := canvas.NewText(text, color.Black)
	label.TextStyle = fyne.TextStyle{Bold: true}
	label.Alignment = fyne.TextAlignCenter
	return container.NewStack(bg, container.NewPadded(label))
}

// NewShell builds the main window's content before any data is loaded: the
// environment banner, an empty worklist area and an empty referral area.
func NewShell(opts ShellOptions) fyne.CanvasObject {
	worklist := container.NewBorder(
		widget.NewLabelWithStyle("Referrals for Review", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil,
		container.NewCenter(widget.NewLabel("No referrals downloaded yet.")),
	)
	referral := container.NewCenter(container.NewVBox(
		widget.NewIcon(theme.DocumentIcon()),
		widget.NewLabel("Select a referral to read its clinical information."),
	))
	split := container.NewHSplit(worklist, referral)
	split.Offset = 0.45
	var top fyne.CanvasObject = layout.NewSpacer()
	if b := EnvironmentBanner(opts); b != nil {
		top = b
	}
	return container.NewBorder(top, nil, nil, nil, split)
}

// NewShellWindow creates the main window showing the shell.
func NewShellWindow(a fyne.App, opts ShellOptions) fyne.Window {
	title := AppTitle
	if opts.Demo {
		title += " – " + DemoBannerText
	}
	w := a.NewWindow(title)
	w.SetContent(NewShell(opts))
	w.Resize(fyne.NewSize(1200, 760))
	return w
}
