package frame

import (
	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/assets"
)

// AppIcon is Triage Desk's icon, embedded in the binary: the window icon
// (app.SetIcon) and the picture on the About screen.
var AppIcon fyne.Resource = fyne.NewStaticResource("triagedesk.png", assets.IconPNG)
