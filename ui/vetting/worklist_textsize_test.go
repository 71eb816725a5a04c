package vetting

import (
	"regexp"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
)

// identifier matches an NHS number ("999 950 2261") or a UBRN
// ("1001 0000 0124") as the worklist writes them.
var identifier = regexp.MustCompile(`^\d{3} \d{3} \d{4}$|^\d{4} \d{4} \d{4}$`)

// worklistCells returns the worklist cells on screen.
func (h *harness) worklistCells() []*worklistCell {
	var cells []*worklistCell
	uitest.WalkObjects(h.v.list.table.Object(), func(o fyne.CanvasObject) {
		if c, ok := o.(*worklistCell); ok && c.Visible() && c.state != nil {
			cells = append(cells, c)
		}
	})
	return cells
}

// setTheme applies settings as the settings screen does, and lets the
// window re-lay out.
func (h *harness) setTheme(th config.Theme, size config.TextSize) {
	fyne.CurrentApp().Settings().SetTheme(style.NewTheme(&config.Settings{Theme: th, TextSize: size}))
	h.win.Content().Refresh()
	h.settle()
}

// TestTextSizeRelaysOutTheWorklist: at every text size every row is drawn
// at that size (none left at the size before: no rows in mixed sizes), the
// NHS number and UBRN columns grow with the text so no identifier is cut
// ("999 950 2…"), and after Dark then Light the text is the light theme's.
func TestTextSizeRelaysOutTheWorklist(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.settle()
	for _, step := range []struct {
		th   config.Theme
		size config.TextSize
	}{{config.ThemeDark, config.TextLarger}, {config.ThemeDark, config.TextLargest}, {config.ThemeLight, config.TextNormal}} {
		h.setTheme(step.th, step.size)
		cells := h.worklistCells()
		if len(cells) == 0 {
			t.Fatal("no worklist cells on screen")
		}
		ids := 0
		for _, c := range cells {
			if c.badge {
				if c.text.TextSize != theme.CaptionTextSize() {
					t.Errorf("%s text: badge %q drawn at %.1f, want %.1f", step.size, c.text.Text, c.text.TextSize, theme.CaptionTextSize())
				}
				continue
			}
			if c.plain.TextSize != theme.TextSize() {
				t.Errorf("%s text: cell %q drawn at %.1f, want %.1f", step.size, c.full, c.plain.TextSize, theme.TextSize())
			}
			if identifier.MatchString(c.full) {
				ids++
				if c.plain.Text != c.full {
					t.Errorf("%s text: identifier %q shown as %q", step.size, c.full, c.plain.Text)
				}
			}
			if step.th == config.ThemeLight && !c.state.decided && c.state.badge != toneDanger && c.plain.Color != style.Color(theme.ColorNameForeground) {
				t.Errorf("Light after Dark: cell %q drawn in %v, want the light foreground %v", c.full, c.plain.Color, style.Color(theme.ColorNameForeground))
			}
		}
		if ids == 0 {
			t.Errorf("%s text: no NHS number or UBRN on screen to check", step.size)
		}
	}
}
