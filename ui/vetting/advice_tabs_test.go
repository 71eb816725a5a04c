package vetting

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/triagedesk/triagedesk/ui/shortcuts"
)

// TestCtrl2ShowsAdviceAndGuidance: Ctrl+2 shows the Advice and Guidance
// worklist beside Referrals for Review and Ctrl+1 goes back; while A&G
// shows, the referral keys (A accepts) act on nothing hidden.
func TestCtrl2ShowsAdviceAndGuidance(t *testing.T) {
	h := newHarness(t, harnessOptions{referrals: 4})
	tabs := NewWorkTabs(h.frame, h.b, h.ws, h.v)
	t.Cleanup(tabs.Close)
	h.frame.SetMain(tabs.Object())
	tabs.Start()
	keys := h.frame.Shortcuts()
	h.shortcut(&desktop.CustomShortcut{KeyName: fyne.Key2, Modifier: fyne.KeyModifierShortcutDefault})
	if !tabs.AdviceShown() {
		t.Fatal("Ctrl+2 did not show Advice and Guidance")
	}
	if keys.Enabled(shortcuts.Accept) {
		t.Error("A (accept) still acts while Advice and Guidance shows")
	}
	h.waitFor("the A&G worklist", func() bool { return len(tabs.Advice().Rows()) > 0 })
	h.shortcut(&desktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault})
	if tabs.AdviceShown() || !keys.Enabled(shortcuts.Accept) {
		t.Error("Ctrl+1 did not bring Referrals for Review and its keys back")
	}
}
