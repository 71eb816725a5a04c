package ui

import (
	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/ui/frame"
)

// AppIcon is Triage Desk's icon (frame.AppIcon), for cmd/triagedesk to
// give the application.
var AppIcon fyne.Resource = frame.AppIcon
