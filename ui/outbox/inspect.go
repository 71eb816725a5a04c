package outbox

import (
	"fyne.io/fyne/v2"

	"github.com/triagedesk/triagedesk/internal/app"
)

// Busy reports whether the view is loading the outbox or waiting for an
// operation (retry, acknowledge, discard, cancel) to finish.
func (v *OutboxView) Busy() bool { return v.busy() }

// Rows returns the entries listed under the current filter, in the order
// shown.
func (v *OutboxView) Rows() []app.Entry { return v.table.Rows() }

// Selected returns the id of the selected entry ("" if none).
func (v *OutboxView) Selected() string { return v.selected }

// Detail returns the selected entry's detail pane (its body over its
// actions).
func (v *OutboxView) Detail() fyne.CanvasObject { return v.detail }
