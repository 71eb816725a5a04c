package shortcuts

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

func TestEveryIssueShortcutIsDefinedOnce(t *testing.T) {
	want := map[ID]string{
		Next: "↓ or J", Previous: "↑ or K", Open: "Enter or Enter", Accept: "A", Reject: "R", Redirect: "D",
		TriageOutcome: "T", Cancel: "Esc", Search: "/", PageDown: "Page Down", PageUp: "Page Up",
		ZoomIn: "+ or =", ZoomOut: "-", ToggleWorklist: "Ctrl+B",
	}
	seen := map[string]ID{}
	for _, d := range Defs {
		for _, b := range d.Bindings {
			if other, dup := seen[b.String()]; dup && !(b.Key == fyne.KeyEnter || b.Key == fyne.KeyReturn) {
				t.Errorf("%s is bound to both %s and %s", b, other, d.ID)
			}
			seen[b.String()] = d.ID
		}
	}
	for id, keys := range want {
		d, ok := Lookup(id)
		if !ok {
			t.Errorf("%s not defined", id)
			continue
		}
		if d.Keys() != keys {
			t.Errorf("%s keys %q, want %q", id, d.Keys(), keys)
		}
	}
	for _, id := range []ID{Confirm, Refresh} {
		d, _ := Lookup(id)
		if d.Bindings[0].Modifier != fyne.KeyModifierShortcutDefault {
			t.Errorf("%s is not a Ctrl shortcut", id)
		}
	}
}

func TestRegistryDispatchesKeysRunesAndShortcuts(t *testing.T) {
	r := NewRegistry()
	var ran []ID
	for _, id := range []ID{Next, Previous, Accept, ZoomIn, Confirm, Cancel} {
		r.Handle(id, func() { ran = append(ran, id) })
	}
	r.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	r.TypedRune('k')
	r.TypedRune('A')
	r.TypedRune('=')
	r.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	r.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault})
	if r.TypedRune('r') {
		t.Error("an action without a handler reported handled")
	}
	want := []ID{Next, Previous, Accept, ZoomIn, Cancel, Confirm}
	if len(ran) != len(want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	for i := range want {
		if ran[i] != want[i] {
			t.Fatalf("ran %v, want %v", ran, want)
		}
	}
	open := true
	r.SetGate(func(ID) bool { return open })
	item := r.MenuItem(Accept)
	open = false
	r.Refresh()
	if !item.Disabled || r.TypedRune('a') {
		t.Error("the gate does not stop the action or disable its menu item")
	}
	r.Handle(Accept, nil)
	open = true
	r.Refresh()
	if !item.Disabled {
		t.Error("an action without a handler has an enabled menu item")
	}
}
