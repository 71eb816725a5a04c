package fyneapp

import (
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestBuiltWithoutTheBundledEmojiFont: Triage Desk is built without Fyne's
// bundled colour-emoji font (the no_emoji tag in scripts/build-tags, which
// make and every script use). Fyne parses that 4 MB font again for every
// text style it draws, which held about 15 MB of memory on a consultant's
// laptop for glyphs the app never shows; an emoji in a referral's text is
// drawn from the system's fonts instead. A build without the tag fails here.
func TestBuiltWithoutTheBundledEmojiFont(t *testing.T) {
	tags, err := os.ReadFile("../../scripts/build-tags")
	if err != nil {
		t.Fatalf("read the build tags: %v", err)
	}
	if !strings.Contains(string(tags), "no_emoji") {
		t.Fatalf("scripts/build-tags is %q: it must keep no_emoji", tags)
	}
	if theme.DefaultEmojiFont() != nil {
		t.Fatalf("Fyne's emoji font is compiled in: build and test with -tags %s (make does)", strings.TrimSpace(string(tags)))
	}
	// Text with emoji in it is still measured and laid out.
	test.NewTempApp(t)
	plain := fyne.MeasureText("Chest pain", theme.TextSize(), fyne.TextStyle{})
	mixed := fyne.MeasureText("Chest pain 😟", theme.TextSize(), fyne.TextStyle{})
	if mixed.Width <= plain.Width || mixed.Height <= 0 {
		t.Fatalf("text with an emoji measured %v, without %v", mixed, plain)
	}
}
