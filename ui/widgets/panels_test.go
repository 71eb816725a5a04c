package widgets

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/style"
)

// The header card follows the theme: made in Dark, it is the light card
// after switching to Light (and dark again after Dark).
func TestCardFollowsTheThemeAfterItWasMade(t *testing.T) {
	a := test.NewTempApp(t)
	setTheme := func(th config.Theme) {
		a.Settings().SetTheme(style.NewTheme(&config.Settings{Theme: th}))
	}
	setTheme(config.ThemeDark)
	card := Card(widget.NewLabel("LOWTHER, Hana (Mrs)"))
	w := test.NewWindow(card)
	defer w.Close()
	box := card.(*fyne.Container).Objects[0].(*themedBox)
	for _, th := range []config.Theme{config.ThemeDark, config.ThemeLight, config.ThemeDark} {
		setTheme(th)
		w.Content().Refresh()
		want := style.Color(style.ColorNameCard)
		if got := box.rect.FillColor; got != want {
			t.Errorf("after %s: card is %v, want %v", th, got, want)
		}
	}
	light := style.NewTheme(&config.Settings{Theme: config.ThemeLight}).Color(style.ColorNameCard, 0)
	dark := style.NewTheme(&config.Settings{Theme: config.ThemeDark}).Color(style.ColorNameCard, 0)
	if light == dark {
		t.Fatal("the light and dark cards have the same colour: the test proves nothing")
	}
}
