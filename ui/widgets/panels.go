package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/style"
)

// Card puts obj on the header Card's background.
func Card(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(newThemedBox(style.ColorNameCard, func() float32 { return 6 }), container.NewPadded(obj))
}

// PanelBox sets obj on a tinted panel, to group related lines.
func PanelBox(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(newThemedBox(theme.ColorNameInputBackground, theme.InputRadiusSize), container.NewPadded(obj))
}

// themedBox is a rounded rectangle filled with a theme colour that is
// looked up again when the theme changes (a canvas.Rectangle keeps the
// colour it was made with: a card made in Dark stayed dark in Light).
type themedBox struct {
	widget.BaseWidget
	color  fyne.ThemeColorName
	radius func() float32
	rect   *canvas.Rectangle
}

func newThemedBox(c fyne.ThemeColorName, radius func() float32) *themedBox {
	b := &themedBox{color: c, radius: radius, rect: canvas.NewRectangle(style.Color(c))}
	b.rect.CornerRadius = radius()
	b.ExtendBaseWidget(b)
	return b
}

// CreateRenderer draws the rectangle.
func (b *themedBox) CreateRenderer() fyne.WidgetRenderer { return &themedBoxRenderer{b: b} }

type themedBoxRenderer struct{ b *themedBox }

func (r *themedBoxRenderer) Layout(s fyne.Size)           { r.b.rect.Resize(s) }
func (r *themedBoxRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *themedBoxRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.b.rect} }
func (r *themedBoxRenderer) Destroy()                     {}

// Refresh fills the rectangle with the theme's colour of the moment.
func (r *themedBoxRenderer) Refresh() {
	r.b.rect.FillColor = style.Color(r.b.color)
	r.b.rect.CornerRadius = r.b.radius()
	r.b.rect.Refresh()
}
