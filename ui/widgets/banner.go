package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// BannerStrip is a banner: an icon, a sentence and its actions, on a tint
// of the colour.
func BannerStrip(icon fyne.Resource, text string, tint fyne.ThemeColorName, actions ...fyne.CanvasObject) (fyne.CanvasObject, *widget.Label) {
	r, g, b, _ := theme.Color(tint).RGBA()
	bg := canvas.NewRectangle(color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x40})
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	var right fyne.CanvasObject
	if len(actions) > 0 {
		right = container.NewCenter(container.NewHBox(actions...))
	}
	return container.NewStack(bg, container.NewBorder(nil, nil, container.NewCenter(widget.NewIcon(icon)), right, l)), l
}
