// Package patientbanner draws the patient banner a clinician checks a
// patient's identity against before every decision: PDS's name, date of
// birth with age, gender and NHS number (NHS CUI order, always labelled),
// with a prominent DECEASED marker, a "Restricted record" marker, the
// superseded-number warning, the identity cross-check's findings and how
// old the details are.
//
// It draws a triage.Banner exactly as triage.BuildBanner made it: it never
// decides what may be shown (a restricted record's banner carries no
// address or GP practice to draw). Who the patient is is never cut short:
// the name and NHS number wrap rather than truncate, and a banner without
// demographics says why in words, never a blank space that could be read as
// an empty name.
package patientbanner

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// The markers' words. They are words, not only colours, so the banner
// reads the same to someone who cannot tell red from amber.
const (
	// DeceasedMarker is the badge beside a deceased patient's name.
	DeceasedMarker = "DECEASED"
	// RestrictedMarker is the badge beside a restricted record's name.
	RestrictedMarker = "Restricted record"
	// SupersededMarker is the badge beside a merged record's name.
	SupersededMarker = "NHS number changed"
	// IdentityMarker is the badge when a letter names another patient.
	IdentityMarker = "Letter names another patient"
)

// New is the full banner for the referral's header card: the identity line,
// the markers, every warning on its own line, the notice and the data's
// age.
func New(b triage.Banner) fyne.CanvasObject { return build(b, true) }

// NewCompact is the banner for the confirm step of a decision: the
// identity line and the warnings the clinician must act on (deceased,
// superseded, a letter naming another patient, not found), without the
// data's age. It is never empty.
func NewCompact(b triage.Banner) fyne.CanvasObject { return build(b, false) }

func build(b triage.Banner, withAge bool) fyne.CanvasObject {
	rows := []fyne.CanvasObject{identityRow(b)}
	if m := markers(b); m != nil {
		rows = append(rows, m)
	}
	rows = append(rows, warnings(b)...)
	if withAge && b.DataAgeText != "" && !b.Stale {
		age := widget.NewLabel(b.DataAgeText + ".")
		age.Importance = widget.LowImportance
		age.SizeName = theme.SizeNameCaptionText
		rows = append(rows, age)
	}
	return container.NewVBox(rows...)
}

// identityRow is the name, then the labelled date of birth, gender and NHS
// number; for a banner without demographics the headline that says why
// and the referral's NHS number.
func identityRow(b triage.Banner) fyne.CanvasObject {
	name := wrapped(b.Headline())
	name.TextStyle = fyne.TextStyle{Bold: true}
	name.SizeName = theme.SizeNameSubHeadingText
	if b.State != triage.BannerPatient {
		name.Importance = widget.WarningImportance
		if b.Warning() {
			name.Importance = widget.DangerImportance
		}
	}
	fields := []fyne.CanvasObject{}
	if b.State == triage.BannerPatient {
		fields = append(fields, field("Born", b.Born), field("Gender", b.Gender))
	}
	nhs := field("NHS No.", b.NHSNumber)
	fields = append(fields, nhs)
	if b.GPPractice != "" && !b.Restricted {
		fields = append(fields, field("GP practice", b.GPPractice))
	}
	return container.NewVBox(name, container.New(widgets.NewRowWrapLayout(16, 0), fields...))
}

// markers are the badges beside the identity: deceased, restricted,
// superseded and the identity cross-check; nil when there are none.
func markers(b triage.Banner) fyne.CanvasObject {
	var ms []fyne.CanvasObject
	if b.Deceased {
		ms = append(ms, badge(DeceasedMarker, theme.ColorNameError, color.White))
	}
	if b.Restricted {
		ms = append(ms, badge(RestrictedMarker, theme.ColorNameForeground, nil))
	}
	if b.Superseded {
		ms = append(ms, badge(SupersededMarker, theme.ColorNameWarning, color.Black))
	}
	if len(b.Flags) > 0 {
		ms = append(ms, badge(IdentityMarker, theme.ColorNameError, color.White))
	}
	if len(ms) == 0 {
		return nil
	}
	return container.New(widgets.NewRowWrapLayout(8, 4), ms...)
}

// warnings are the banner's sentences, each on its own wrapped line with an
// icon: the things to act on in the error colour, the rest plain.
func warnings(b triage.Banner) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	if b.Deceased && b.DeceasedText != "" {
		out = append(out, sentence(b.DeceasedText+".", widget.DangerImportance))
	}
	if b.Superseded {
		out = append(out, sentence(b.SupersededText, widget.DangerImportance))
	}
	for _, f := range b.Flags {
		out = append(out, sentence(f.Text, widget.DangerImportance))
	}
	if b.Restricted {
		out = append(out, sentence(b.RestrictedText, widget.MediumImportance))
	}
	if b.Notice != "" {
		imp := widget.WarningImportance
		if b.Warning() {
			imp = widget.DangerImportance
		}
		out = append(out, sentence(b.Notice, imp))
	}
	return out
}

// field is a labelled value, the value never cut short.
func field(label, value string) fyne.CanvasObject {
	if strings.TrimSpace(value) == "" {
		value = triage.NotKnown
	}
	l := widget.NewLabel(label)
	l.Importance = widget.LowImportance
	v := widget.NewLabelWithStyle(value, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewHBox(l, v)
}

// sentence is a wrapped line with an icon that says how serious it is.
func sentence(s string, imp widget.Importance) fyne.CanvasObject {
	l := wrapped(s)
	l.Importance = imp
	icon := theme.InfoIcon()
	if imp == widget.DangerImportance || imp == widget.WarningImportance {
		icon = theme.WarningIcon()
	}
	return container.NewBorder(nil, nil, widget.NewIcon(icon), nil, l)
}

// wrapped is a label that wraps at word boundaries and is never truncated.
func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// badge is a pill in a theme colour with its word in bold. A nil fg draws
// an outlined pill in the foreground colour.
func badge(text string, bg fyne.ThemeColorName, fg color.Color) fyne.CanvasObject {
	r := canvas.NewRectangle(theme.Color(bg))
	if fg == nil {
		r.FillColor = color.Transparent
		r.StrokeColor = theme.Color(bg)
		r.StrokeWidth = 1
		fg = theme.Color(theme.ColorNameForeground)
	}
	r.CornerRadius = 4
	t := canvas.NewText(text, fg)
	t.TextStyle = fyne.TextStyle{Bold: true}
	return container.NewStack(r, container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), container.NewCenter(t)))
}
