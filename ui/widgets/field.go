// Package widgets holds small building blocks the UI's screens share.
package widgets

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// DetailField is one "name: value" line of a details panel: the name bold
// in a fixed-width column, the value wrapped beside it.
func DetailField(name, value string) fyne.CanvasObject {
	k := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	val := widget.NewLabel(value)
	val.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(150, k.MinSize().Height), k), nil, val)
}

// CountOf writes "1 decision" / "3 decisions".
func CountOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
