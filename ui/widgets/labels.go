package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Bold is a bold heading label.
func Bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// Wrapped is a label that wraps at word boundaries (never cut short).
func Wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// ErrorText is a wrapped message in the error colour (with words that say
// what is wrong, so colour is not the only signal).
func ErrorText(s string) *widget.Label {
	l := Wrapped(s)
	l.Importance = widget.DangerImportance
	return l
}
