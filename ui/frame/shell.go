package frame

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
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

// DemoColour is a strong amber that no clinical badge uses.
var DemoColour = color.NRGBA{R: 0xff, G: 0xb8, B: 0x1c, A: 0xff}

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
	bg := canvas.NewRectangle(DemoColour)
	// Dark text on amber reads in both light and dark themes.
	label := canvas.NewText(text, color.Black)
	label.TextStyle = fyne.TextStyle{Bold: true}
	label.Alignment = fyne.TextAlignCenter
	return container.NewStack(bg, container.NewPadded(label))
}

// WindowTitle is the main window's title for the options.
func WindowTitle(opts ShellOptions) string {
	if opts.Demo {
		return AppTitle + " – " + DemoBannerText
	}
	return AppTitle
}

// NewShellWindow creates the main window with its Frame, before any data
// is loaded.
func NewShellWindow(a fyne.App, opts ShellOptions) (fyne.Window, *Frame) {
	w := a.NewWindow(WindowTitle(opts))
	w.SetIcon(AppIcon)
	f := NewFrame(w, opts)
	w.Resize(DefaultWindowSize)
	return w, f
}

// DefaultWindowSize is the main window's size when it opens: it fits a
// 1280×800 or 1366×768 laptop screen with a taskbar and a title bar, and
// the vetting window (worklist, header, CRI and decision form side by side)
// never needs more (TestVettingWindowFitsTheDefaultSize).
var DefaultWindowSize = fyne.NewSize(1240, 680)
