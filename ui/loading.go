package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/frame"
)

// loadingScreen is shown while start-up work runs off the UI goroutine.
func loadingScreen(msg string) fyne.CanvasObject {
	bar := widget.NewProgressBarInfinite()
	l := widget.NewLabel(msg)
	l.Alignment = fyne.TextAlignCenter
	return container.NewCenter(container.NewVBox(widget.NewIcon(frame.AppIcon), l, bar))
}
