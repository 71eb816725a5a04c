// Package shortcuts holds every keyboard shortcut of Triage Desk in one
// place: which keys do what, the menu each appears in, and a Registry that
// dispatches key presses to the screen that handles them.
//
// Two kinds of binding exist, because of how Fyne routes keys:
//
//   - Bindings with Ctrl (Cmd on macOS) are main-menu shortcuts. Since Fyne
//     2.6 a menu shortcut is considered before the focused widget, so they
//     work even while typing a comment (Ctrl+Enter confirms).
//   - Plain keys (↓/↑, j/k, Enter, Esc, A, R, D, T, /, +, −, Page Up/Down)
//     reach the Registry through the window canvas's typed-key and
//     typed-rune handlers, which Fyne calls only when no widget has focus,
//     and through widgets that forward keys they do not use themselves
//     (the worklist table, text fields for Esc). So typing "a" in a comment
//     types an "a"; it never accepts a referral.
//
// Every Def is shown in a menu with its key, so the shortcuts are
// discoverable.
package shortcuts

import (
	"runtime"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// ID names an action that has a shortcut.
type ID string

// The actions with shortcuts.
const (
	Next           ID = "next"             // move down the worklist
	Previous       ID = "previous"         // move up the worklist
	Open           ID = "open"             // open the highlighted referral
	Accept         ID = "accept"           // accept (booked) or accept – book later (RAS)
	Reject         ID = "reject"           // reject with a coded reason
	Redirect       ID = "redirect"         // redirect (cancel appointment, action later)
	TriageOutcome  ID = "triage-outcome"   // record a triage outcome (RAS)
	Confirm        ID = "confirm"          // review / send the decision being made
	ConfirmAndNext ID = "confirm-and-next" // send it and open the next referral
	Cancel         ID = "cancel"           // cancel the form or step open
	Search         ID = "search"           // put the cursor in the worklist search box
	PageDown       ID = "page-down"        // scroll the document down one screen
	PageUp         ID = "page-up"          // scroll the document up one screen
	ZoomIn         ID = "zoom-in"          // enlarge the document
	ZoomOut        ID = "zoom-out"         // shrink the document
	FitWidth       ID = "fit-width"        // fit the document to the viewer's width
	Find           ID = "find"             // find in the document
	Refresh        ID = "refresh"          // sync with e-RS now
	ShowOutbox     ID = "show-outbox"      // open the outbox (decisions on their way to e-RS)
	Settings       ID = "settings"         // open the settings
	Lock           ID = "lock"             // lock Triage Desk now
	Quit           ID = "quit"             // quit (warning first about decisions not yet sent)
	ShowReferrals  ID = "show-referrals"   // show the Referrals for Review worklist
	ShowAdvice     ID = "show-advice"      // show the Advice and Guidance worklist
	ReplyAdvice    ID = "reply-advice"     // write a reply to the open Advice and Guidance request
	ToggleWorklist ID = "toggle-worklist"  // hide the worklist so the letter takes the full width, or show it again
)

// Menu names the main-menu menu a shortcut appears in.
type Menu string

// The menus, in the order they appear.
const (
	MenuFile     Menu = "File"
	MenuWorklist Menu = "Worklist"
	MenuReferral Menu = "Referral"
	MenuDocument Menu = "Document"
	MenuView     Menu = "View"
	MenuHelp     Menu = "Help"
)

// Menus lists the menus in display order.
var Menus = []Menu{MenuFile, MenuWorklist, MenuReferral, MenuDocument, MenuView, MenuHelp}

// Binding is one key combination. Either Rune is set (a typed character,
// no modifier) or Key is (a named key, with or without Modifier).
type Binding struct {
	Key      fyne.KeyName
	Rune     rune
	Modifier fyne.KeyModifier
}

// KeyBinding binds a named key (with optional modifiers).
func KeyBinding(k fyne.KeyName, mod fyne.KeyModifier) Binding {
	return Binding{Key: k, Modifier: mod}
}

// RuneBinding binds a typed character.
func RuneBinding(r rune) Binding { return Binding{Rune: r} }

// keyNames are how named keys are written in menus and help.
var keyNames = map[fyne.KeyName]string{
	fyne.KeyDown: "↓", fyne.KeyUp: "↑", fyne.KeyReturn: "Enter", fyne.KeyEnter: "Enter",
	fyne.KeyEscape: "Esc", fyne.KeyPageUp: "Page Up", fyne.KeyPageDown: "Page Down",
}

// String writes the binding as a clinician would read it: "Ctrl+Enter",
// "A", "↓", "/".
func (b Binding) String() string {
	var s strings.Builder
	if b.Modifier&fyne.KeyModifierShortcutDefault != 0 {
		if runtime.GOOS == "darwin" {
			s.WriteString("Cmd+")
		} else {
			s.WriteString("Ctrl+")
		}
	}
	if b.Modifier&fyne.KeyModifierShift != 0 {
		s.WriteString("Shift+")
	}
	switch {
	case b.Rune != 0:
		s.WriteRune(unicode.ToUpper(b.Rune))
	case keyNames[b.Key] != "":
		s.WriteString(keyNames[b.Key])
	default:
		s.WriteString(string(b.Key))
	}
	return s.String()
}

// shortcut is the binding as a Fyne shortcut, for menus (display, and
// routing when it has a modifier).
func (b Binding) shortcut() *desktop.CustomShortcut {
	k := b.Key
	if b.Rune != 0 {
		k = fyne.KeyName(strings.ToUpper(string(b.Rune)))
	}
	return &desktop.CustomShortcut{KeyName: k, Modifier: b.Modifier}
}

// menuShortcut is a binding as a menu item's shortcut. It matches the key
// pressed exactly as the binding does (ShortcutName), but gives Fyne's
// menu the key's name as Binding.String writes it (Key), because Fyne
// would otherwise write its own spelling ("Return", "PgDn") beside the
// item while buttons and help say "Enter" and "Page Down".
type menuShortcut struct {
	*desktop.CustomShortcut
	label fyne.KeyName
}

// Key returns the key as the menu should write it.
func (s menuShortcut) Key() fyne.KeyName { return s.label }

// menuShortcut is the binding as a main-menu shortcut, written as the
// buttons write it.
func (b Binding) menuShortcut() fyne.Shortcut {
	sc := b.shortcut()
	if runtime.GOOS == "darwin" {
		return sc // native menus: the key itself, drawn as macOS draws it
	}
	text := b.String()
	if b.Modifier != 0 {
		text = text[strings.LastIndex(text, "+")+1:]
	}
	return menuShortcut{CustomShortcut: sc, label: fyne.KeyName(text)}
}

// Def is one shortcut: the action, its menu entry and its keys. The first
// binding is the one shown in the menu.
type Def struct {
	ID       ID
	Label    string
	Menu     Menu
	Bindings []Binding
}

// Keys lists the bindings as text, e.g. "↓ or J".
func (d Def) Keys() string {
	parts := make([]string, len(d.Bindings))
	for i, b := range d.Bindings {
		parts[i] = b.String()
	}
	return strings.Join(parts, " or ")
}

var ctrl = fyne.KeyModifierShortcutDefault

// Defs is every shortcut of the app, in menu order.
var Defs = []Def{
	{ID: Next, Label: "Next referral", Menu: MenuWorklist, Bindings: []Binding{KeyBinding(fyne.KeyDown, 0), RuneBinding('j')}},
	{ID: Previous, Label: "Previous referral", Menu: MenuWorklist, Bindings: []Binding{KeyBinding(fyne.KeyUp, 0), RuneBinding('k')}},
	{ID: Open, Label: "Open referral", Menu: MenuWorklist, Bindings: []Binding{KeyBinding(fyne.KeyReturn, 0), KeyBinding(fyne.KeyEnter, 0)}},
	{ID: Search, Label: "Search by UBRN or NHS number", Menu: MenuWorklist, Bindings: []Binding{RuneBinding('/')}},
	{ID: Refresh, Label: "Refresh from e-RS", Menu: MenuWorklist, Bindings: []Binding{KeyBinding(fyne.KeyR, ctrl)}},

	{ID: Accept, Label: "Accept", Menu: MenuReferral, Bindings: []Binding{RuneBinding('a')}},
	{ID: Reject, Label: "Reject…", Menu: MenuReferral, Bindings: []Binding{RuneBinding('r')}},
	{ID: Redirect, Label: "Redirect…", Menu: MenuReferral, Bindings: []Binding{RuneBinding('d')}},
	{ID: TriageOutcome, Label: "Triage outcome…", Menu: MenuReferral, Bindings: []Binding{RuneBinding('t')}},
	{ID: Confirm, Label: "Review and confirm", Menu: MenuReferral, Bindings: []Binding{KeyBinding(fyne.KeyReturn, ctrl)}},
	{ID: ConfirmAndNext, Label: "Confirm and open next", Menu: MenuReferral, Bindings: []Binding{KeyBinding(fyne.KeyReturn, ctrl|fyne.KeyModifierShift)}},
	{ID: ReplyAdvice, Label: "Reply to the advice request…", Menu: MenuReferral, Bindings: []Binding{RuneBinding('y')}},
	{ID: Cancel, Label: "Cancel", Menu: MenuReferral, Bindings: []Binding{KeyBinding(fyne.KeyEscape, 0)}},

	{ID: PageDown, Label: "Page down (one screen)", Menu: MenuDocument, Bindings: []Binding{KeyBinding(fyne.KeyPageDown, 0)}},
	{ID: PageUp, Label: "Page up (one screen)", Menu: MenuDocument, Bindings: []Binding{KeyBinding(fyne.KeyPageUp, 0)}},
	{ID: ZoomIn, Label: "Zoom in", Menu: MenuDocument, Bindings: []Binding{RuneBinding('+'), RuneBinding('=')}},
	{ID: ZoomOut, Label: "Zoom out", Menu: MenuDocument, Bindings: []Binding{RuneBinding('-')}},
	{ID: FitWidth, Label: "Fit width", Menu: MenuDocument, Bindings: []Binding{RuneBinding('w')}},
	{ID: Find, Label: "Find in document", Menu: MenuDocument, Bindings: []Binding{KeyBinding(fyne.KeyF, ctrl)}},
	{ID: ShowReferrals, Label: "Referrals for Review", Menu: MenuView, Bindings: []Binding{KeyBinding(fyne.Key1, ctrl)}},
	{ID: ShowAdvice, Label: "Advice and Guidance", Menu: MenuView, Bindings: []Binding{KeyBinding(fyne.Key2, ctrl)}},
	{ID: ShowOutbox, Label: "Outbox", Menu: MenuWorklist, Bindings: []Binding{KeyBinding(fyne.KeyO, ctrl)}},
	{ID: ToggleWorklist, Label: "Hide or show the worklist", Menu: MenuView, Bindings: []Binding{KeyBinding(fyne.KeyB, ctrl)}},
	{ID: Settings, Label: "Settings", Menu: MenuFile, Bindings: []Binding{KeyBinding(fyne.KeyComma, ctrl)}},
	{ID: Lock, Label: "Lock now", Menu: MenuFile, Bindings: []Binding{KeyBinding(fyne.KeyL, ctrl)}},
	// Quit is last in the File menu, marked IsQuit (so the desktop driver
	// adds no Quit of its own that would skip the warning).
	{ID: Quit, Label: "Quit", Menu: MenuFile, Bindings: []Binding{KeyBinding(fyne.KeyQ, ctrl)}},
}

// Lookup returns the definition of id.
func Lookup(id ID) (Def, bool) {
	for _, d := range Defs {
		if d.ID == id {
			return d, true
		}
	}
	return Def{}, false
}

// Registry dispatches key presses to handlers. Use it on the UI goroutine
// only. Handlers are registered by the screens that own the actions; an
// action without a handler, or one the gate refuses, does nothing and the
// key is left for others.
type Registry struct {
	handlers map[ID]func()
	gate     func(ID) bool
	items    map[ID][]*fyne.MenuItem
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{handlers: map[ID]func(){}, items: map[ID][]*fyne.MenuItem{}}
}

// Handle sets the handler of id (nil removes it).
func (r *Registry) Handle(id ID, fn func()) {
	if fn == nil {
		delete(r.handlers, id)
	} else {
		r.handlers[id] = fn
	}
	r.updateItems(id)
}

// SetGate sets a check run before every action: while it returns false for
// an id (for example while the lock screen shows), the action does not run
// and its menu item is disabled. Call Refresh when its answer changes.
func (r *Registry) SetGate(gate func(ID) bool) {
	r.gate = gate
	r.Refresh()
}

// Enabled reports whether id has a handler and the gate allows it.
func (r *Registry) Enabled(id ID) bool {
	if r.handlers[id] == nil {
		return false
	}
	return r.gate == nil || r.gate(id)
}

// Run runs id's handler and reports whether it ran.
func (r *Registry) Run(id ID) bool {
	if !r.Enabled(id) {
		return false
	}
	r.handlers[id]()
	return true
}

// TypedKey dispatches a named key pressed without a text field focused (the
// canvas's OnTypedKey, or a widget forwarding keys it does not use). It
// reports whether an action ran.
func (r *Registry) TypedKey(ev *fyne.KeyEvent) bool {
	for _, d := range Defs {
		for _, b := range d.Bindings {
			if b.Rune == 0 && b.Modifier == 0 && b.Key == ev.Name && r.Run(d.ID) {
				return true
			}
		}
	}
	return false
}

// TypedRune dispatches a typed character (without a text field focused).
// Letters match in either case. It reports whether an action ran.
func (r *Registry) TypedRune(ch rune) bool {
	ch = unicode.ToLower(ch)
	for _, d := range Defs {
		for _, b := range d.Bindings {
			if b.Rune != 0 && b.Rune == ch && r.Run(d.ID) {
				return true
			}
		}
	}
	return false
}

// TypedShortcut dispatches a shortcut with modifiers (from the canvas or a
// focused widget's TypedShortcut). It reports whether an action ran.
func (r *Registry) TypedShortcut(s fyne.Shortcut) bool {
	for _, d := range Defs {
		for _, b := range d.Bindings {
			if b.Modifier != 0 && b.shortcut().ShortcutName() == s.ShortcutName() && r.Run(d.ID) {
				return true
			}
		}
	}
	return false
}

// MenuItem returns a menu item for id: its label, its first key shown
// beside it (on macOS, whose native menus would treat a plain letter as a
// key equivalent, keys without modifiers are written in the label
// instead), and an action that runs the handler. Items are disabled while
// the action is not Enabled.
func (r *Registry) MenuItem(id ID) *fyne.MenuItem {
	d, _ := Lookup(id)
	item := fyne.NewMenuItem(d.Label, func() { r.Run(id) })
	item.IsQuit = id == Quit
	if len(d.Bindings) > 0 {
		b := d.Bindings[0]
		if b.Modifier == 0 && runtime.GOOS == "darwin" {
			item.Label += " (" + b.String() + ")"
		} else {
			item.Shortcut = b.menuShortcut()
		}
	}
	r.items[id] = append(r.items[id], item)
	item.Disabled = !r.Enabled(id)
	return item
}

func (r *Registry) updateItems(id ID) {
	en := r.Enabled(id)
	for _, it := range r.items[id] {
		it.Disabled = !en
	}
}

// Refresh re-checks every menu item's enabled state (after the gate's
// answer changed). The caller refreshes the window's main menu.
func (r *Registry) Refresh() {
	for id := range r.items {
		r.updateItems(id)
	}
}

// Install routes the canvas's typed keys and characters to the Registry,
// and registers the modifier shortcuts on the canvas too (they also reach
// the Registry through the menu; the canvas copy serves windows without
// one).
func (r *Registry) Install(c fyne.Canvas) {
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) { r.TypedKey(ev) })
	c.SetOnTypedRune(func(ch rune) { r.TypedRune(ch) })
	for _, d := range Defs {
		for _, b := range d.Bindings {
			if b.Modifier != 0 {
				c.AddShortcut(b.shortcut(), func(s fyne.Shortcut) { r.TypedShortcut(s) })
			}
		}
	}
}
