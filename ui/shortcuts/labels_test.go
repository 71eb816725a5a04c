// macOS menus draw keys as symbols, so the spelling rule is for the other
// desktops.

//go:build !darwin

package shortcuts

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// menuShortcutText returns the key text Fyne draws beside a menu item.
func menuShortcutText(t *testing.T, item *fyne.MenuItem) string {
	t.Helper()
	m := widget.NewMenu(fyne.NewMenu("Menu", item))
	w := test.NewTempWindow(t, m)
	w.Resize(fyne.NewSize(600, 200))
	var texts []string
	uitest.WalkObjects(m, func(o fyne.CanvasObject) {
		if v, ok := o.(*canvas.Text); ok {
			texts = append(texts, v.Text)
		}
	})
	all := strings.Join(texts, "")
	return strings.TrimPrefix(all, item.Label)
}

// TestMenusAndButtonsSpellKeysAlike: a key is written the same way in the
// menus as on the buttons and in help (Binding.String): "Ctrl+Enter",
// never "Ctrl+Return"; and the menu's shortcut still matches the key the
// keyboard sends (Return).
func TestMenusAndButtonsSpellKeysAlike(t *testing.T) {
	test.NewTempApp(t)
	r := NewRegistry()
	for _, d := range Defs {
		item := r.MenuItem(d.ID)
		if item.Shortcut == nil {
			continue
		}
		got, want := menuShortcutText(t, item), d.Bindings[0].String()
		if got != want {
			t.Errorf("%s: menu says %q, buttons say %q", d.ID, got, want)
		}
		if name, keys := item.Shortcut.ShortcutName(), d.Bindings[0].shortcut().ShortcutName(); name != keys {
			t.Errorf("%s: the menu's shortcut %q does not match the key pressed %q", d.ID, name, keys)
		}
	}
}
