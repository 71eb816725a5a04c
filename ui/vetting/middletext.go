package vetting

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/widgets"
)

// middleLabel shows text cut short in the middle ("Discharge summ…
// 2026-03-01.pdf") when it does not fit, so two long names that differ
// near their end stay distinguishable, and the extension shows. It never
// asks for more width than a few characters. Hovering it shows the
// whole text.
func middleLabel(text string, style fyne.TextStyle) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, style)
	// Hovering a name cut short shows it whole.
	return widgets.NewTip(container.New(&middleLayout{full: []rune(text), label: l}, l), func() string {
		if l.Text != text {
			return text
		}
		return ""
	})
}

type middleLayout struct {
	full  []rune
	label *widget.Label
}

// Layout fits the text to the width: whole when it fits, otherwise the
// most characters from both ends around "…".
func (m *middleLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	text := middleFit(m.full, size.Width-2*theme.InnerPadding(), func(s string) float32 {
		return fyne.MeasureText(s, theme.TextSize(), m.label.TextStyle).Width
	})
	if m.label.Text != text {
		m.label.SetText(text)
	}
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (m *middleLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	h := m.label.MinSize().Height
	w := fyne.MeasureText("ab…yz", theme.TextSize(), m.label.TextStyle).Width + 2*theme.InnerPadding()
	return fyne.NewSize(w, h)
}

// middleFit returns full if it fits width (by measure), otherwise the
// longest "head…tail" that does, the tail twice the head
// (it holds the date or number that tells names apart, and the extension).
func middleFit(full []rune, width float32, measure func(string) float32) string {
	if measure(string(full)) <= width {
		return string(full)
	}
	cut := func(keep int) string {
		tail := (2*keep + 2) / 3
		head := keep - tail
		return string(full[:head]) + "…" + string(full[len(full)-tail:])
	}
	lo, hi := 0, len(full)-1 // the most characters kept that fit
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if measure(cut(mid)) <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cut(lo)
}
