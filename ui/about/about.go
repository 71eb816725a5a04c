// Package about is the About screen: the build, the environment, where the
// clinician's data is kept, and the third-party notices.
package about

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/docs"
	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/version"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// Screen is the About screen's name (Frame.ShowPage).
const Screen = "about"

// Info is what the About screen says about this copy of Triage Desk.
type Info struct {
	// Version describes the build (version.String()).
	Version string
	// Environment is where Triage Desk connects.
	Environment config.Environment
	// Demo marks the demo's synthetic data.
	Demo bool
	// Storage is where the clinician's encrypted data is, where its keys
	// are and whether it survives closing; SettingsFile is the user
	// settings file.
	Storage      app.Storage
	SettingsFile string
	// Policy names the machine policy in force ("" when unmanaged).
	Policy string
	// Notices is the third-party notices (Markdown; default docs.Notices).
	Notices string
	// Icon is the picture beside the version (nil: none).
	Icon fyne.Resource
}

// NewScreen builds the About screen: version, environment, where the
// data is kept, and the licences of the open-source parts. onClose leaves
// it (nil hides the button).
func NewScreen(info Info, onClose func()) fyne.CanvasObject {
	if info.Version == "" {
		info.Version = version.String()
	}
	if info.Notices == "" {
		info.Notices = docs.Notices
	}
	title := widget.NewLabelWithStyle("About Triage Desk", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	var head []fyne.CanvasObject
	if onClose != nil {
		head = append(head, widget.NewButtonWithIcon("Back to the worklist", theme.NavigateBackIcon(), onClose))
	}
	head = append(head, title)

	env := info.Environment.Label
	switch {
	case info.Demo:
		env += " (demo: synthetic data, not real patients)"
	case !info.Environment.Production:
		env += " (test environment: not for real patients)"
	}
	lines := []fyne.CanvasObject{
		widgets.DetailField("Version", info.Version),
		widgets.DetailField("Environment", env),
		widgets.DetailField("Your data", info.Storage.Dir+"\n"+storageText(info.Storage)),
	}
	if info.SettingsFile != "" {
		lines = append(lines, widgets.DetailField("Your settings", info.SettingsFile))
	}
	if info.Policy != "" {
		lines = append(lines, widgets.DetailField("Managed by", "Your organisation's policy: "+info.Policy))
	}
	icon := canvas.NewImageFromResource(info.Icon)
	icon.FillMode = canvas.ImageFillContain
	intro := widget.NewLabel("Triage Desk lets NHS consultants vet the referrals sent to them through the NHS e-Referral Service.")
	intro.Wrapping = fyne.TextWrapWord
	summary := container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSquareSize(96), icon), nil,
		container.NewVBox(append([]fyne.CanvasObject{intro}, lines...)...))

	notices := widget.NewRichTextFromMarkdown(noticesMarkdown(info.Notices))
	notices.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(container.NewHBox(head...), summary, widget.NewSeparator(),
		widget.NewLabelWithStyle("Licences", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), notices)
	return container.NewVScroll(widgets.ReadableColumn(860, container.NewPadded(body)))
}

// storageText says how the data is protected and whether it is kept.
func storageText(s app.Storage) string {
	switch s.Keys {
	case app.KeysMemory:
		return "Encrypted under a key held only in memory: this computer has no keychain, so your data is not kept after Triage Desk closes, and decisions not yet sent when it closes are lost."
	case app.KeysFile:
		return "Encrypted; the keys are in the development key file " + s.KeyFile + ", not the keychain: for synthetic data only. Kept after Triage Desk closes."
	}
	return "Encrypted; the keys are in this computer's keychain. Kept on this computer after Triage Desk closes."
}

// noticesMarkdown makes the notices readable in Fyne's Markdown, which has
// no tables: each table row becomes a bullet with its cells joined by
// " – ", and the header and separator rows are dropped.
func noticesMarkdown(md string) string {
	var out []string
	inTable := false
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "|") {
			inTable = false
			out = append(out, line)
			continue
		}
		cells := strings.Split(strings.Trim(t, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if !inTable {
			inTable = true // the header row
			continue
		}
		if strings.Trim(strings.Join(cells, ""), "-: ") == "" {
			continue // the separator row
		}
		out = append(out, "- "+strings.Join(cells, " – "))
	}
	return strings.Join(out, "\n")
}
