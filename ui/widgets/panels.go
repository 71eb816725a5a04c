package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/ui/style"
)

// Card puts obj on the header Card's background.
func Card(obj fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(style.Color(style.ColorNameCard))
	bg.CornerRadius = 6
	return container.NewStack(bg, container.NewPadded(obj))
}

// PanelBox sets obj on a tinted panel, to group related lines.
func PanelBox(obj fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewPadded(obj))
}
