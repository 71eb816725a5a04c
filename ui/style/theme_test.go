package style

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/internal/config"
)

func TestContrastOfKnownPairs(t *testing.T) {
	black, white := color.Black, color.White
	if got := Contrast(black, white); got < 20.9 || got > 21.1 {
		t.Errorf("black on white: %.2f, want 21", got)
	}
	if got := Contrast(white, white); got != 1 {
		t.Errorf("white on white: %.2f, want 1", got)
	}
	grey := color.NRGBA{R: 0x76, G: 0x76, B: 0x76, A: 0xff} // the lightest grey with 4.5:1 on white
	if got := Contrast(grey, white); got < 4.5 || got > 4.6 {
		t.Errorf("#767676 on white: %.2f, want 4.54", got)
	}
}

// Text colours, helper text included, must meet WCAG AA (4.5:1) on every
// background they are drawn on, in both themes.
func TestThemeTextMeetsWCAGAAInBothVariants(t *testing.T) {
	test.NewTempApp(t)
	texts := []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNameDisabled, theme.ColorNamePlaceHolder}
	backgrounds := []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameInputBackground, ColorNameCard}
	for _, c := range []struct {
		name    string
		setting config.Theme
		variant fyne.ThemeVariant
	}{{"light", config.ThemeLight, theme.VariantLight}, {"dark", config.ThemeDark, theme.VariantDark}} {
		th := NewTheme(&config.Settings{Theme: c.setting, TextSize: config.TextNormal})
		for _, fg := range texts {
			for _, bg := range backgrounds {
				if r := Contrast(th.Color(fg, c.variant), th.Color(bg, c.variant)); r < 4.5 {
					t.Errorf("%s theme: %s on %s has contrast %.2f:1, want at least 4.5:1", c.name, fg, bg, r)
				}
			}
		}
	}
}

// A forced variant wins over the system's: Light after Dark gives light
// colours whatever the computer says.
func TestForcedVariantWinsOverSystem(t *testing.T) {
	test.NewTempApp(t)
	light := NewTheme(&config.Settings{Theme: config.ThemeLight})
	dark := NewTheme(&config.Settings{Theme: config.ThemeDark})
	if got, want := light.Color(ColorNameCard, theme.VariantDark), light.Color(ColorNameCard, theme.VariantLight); got != want {
		t.Errorf("Light theme, dark system: card %v, want the light card %v", got, want)
	}
	if got, want := dark.Color(theme.ColorNameBackground, theme.VariantLight), dark.Color(theme.ColorNameBackground, theme.VariantDark); got != want {
		t.Errorf("Dark theme, light system: background %v, want the dark background %v", got, want)
	}
}
