package patientbanner

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
)

var now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// Synthetic NHS numbers (999 range, valid check digit).
const (
	nhsA = "9990000379"
	nhsB = "9990000743"
)

func found(p triage.Patient, requested string) *triage.PatientLookup {
	return &triage.PatientLookup{Requested: requested, Patient: &p, FetchedAt: now.Add(-3 * time.Minute),
		Outcome: triage.PatientFound, AttemptedAt: now.Add(-3 * time.Minute)}
}

func patient() triage.Patient {
	return triage.Patient{NHSNumber: nhsA, Family: "Hollis", Given: []string{"Margaret", "Ann"}, Titles: []string{"Mrs"},
		BirthDate: triage.PartialDate{Year: 1950, Month: 3, Day: 12}, Gender: triage.GenderFemale,
		Restriction: triage.RestrictionNone, GPPractice: "Y12345"}
}

// shown is every piece of text the banner draws, in order, and the labels
// among them (to check how they are drawn).
func shown(t *testing.T, obj fyne.CanvasObject) ([]string, []*widget.Label) {
	t.Helper()
	w := test.NewWindow(obj)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(700, 400))
	var texts []string
	var labels []*widget.Label
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			texts, labels = append(texts, v.Text), append(labels, v)
		case *canvas.Text:
			texts = append(texts, v.Text)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(obj)
	return texts, labels
}

func joined(texts []string) string { return strings.Join(texts, "\n") }

// A clinician checks identity against the name, date of birth with age,
// gender and NHS number, each labelled, in NHS CUI order, none cut short.
func TestNormalPatientShowsIdentityInOrderNeverCutShort(t *testing.T) {
	test.NewTempApp(t)
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(patient(), nhsA), Now: now})
	texts, labels := shown(t, New(b))
	text := joined(texts)
	order := []string{"HOLLIS, Margaret Ann (Mrs)", "Born", "12-Mar-1950 (76y)", "Gender", "Female", "NHS No.", "999 000 0379", "GP practice", "Y12345", "Checked with PDS 3 minutes ago."}
	at := -1
	for _, want := range order {
		i := slices.Index(texts, want)
		if i <= at {
			t.Fatalf("%q missing or out of order in:\n%s", want, text)
		}
		at = i
	}
	for _, l := range labels {
		if l.Truncation != fyne.TextTruncateOff {
			t.Errorf("label %q can be cut short", l.Text)
		}
	}
	for _, m := range []string{DeceasedMarker, RestrictedMarker, SupersededMarker, IdentityMarker} {
		if strings.Contains(text, m) {
			t.Errorf("a normal patient's banner shows %q", m)
		}
	}
}

// A restricted record: the marker, and never the GP practice (nor any
// address or contact detail, which the banner model never carries).
func TestRestrictedPatientShowsTheMarkerAndNoGPPractice(t *testing.T) {
	test.NewTempApp(t)
	p := patient()
	p.Restriction = triage.RestrictionRestricted
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(p, nhsA), Now: now})
	// Even a banner value that wrongly carries a practice is not drawn.
	b.GPPractice = "Y12345"
	for _, obj := range []fyne.CanvasObject{New(b), NewCompact(b)} {
		texts, _ := shown(t, obj)
		text := joined(texts)
		if !slices.Contains(texts, RestrictedMarker) || !strings.Contains(text, "address, GP practice and contact details are not shown") {
			t.Errorf("restricted banner lacks its marker:\n%s", text)
		}
		if strings.Contains(text, "Y12345") || strings.Contains(text, "GP practice\n") {
			t.Errorf("restricted banner shows the GP practice:\n%s", text)
		}
	}
}

// A deceased patient: DECEASED as a badge and the date, in the full banner
// and in the confirm step, with the age at death.
func TestDeceasedPatientIsProminentInTheBannerAndTheConfirmStep(t *testing.T) {
	test.NewTempApp(t)
	p := patient()
	p.Deceased, p.DeceasedDate = true, triage.PartialDate{Year: 2026, Month: 3, Day: 10}
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(p, nhsA), Now: now})
	for name, obj := range map[string]fyne.CanvasObject{"banner": New(b), "confirm": NewCompact(b)} {
		texts, labels := shown(t, obj)
		if !slices.Contains(texts, DeceasedMarker) || !slices.Contains(texts, "Deceased 10-Mar-2026.") || !slices.Contains(texts, "12-Mar-1950 (died aged 75y)") {
			t.Errorf("%s: deceased not shown:\n%s", name, joined(texts))
		}
		if !hasImportance(labels, "Deceased 10-Mar-2026.", widget.DangerImportance) {
			t.Errorf("%s: the date of death is not drawn as a warning", name)
		}
	}
}

// A merged record: PDS's current number is shown as the NHS number, with a
// warning naming both numbers.
func TestSupersededNumberShowsTheCurrentNumberAndAWarning(t *testing.T) {
	test.NewTempApp(t)
	p := patient()
	p.NHSNumber = nhsB
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(p, nhsA), Now: now})
	texts, labels := shown(t, NewCompact(b))
	text := joined(texts)
	if !slices.Contains(texts, "999 000 0743") || !slices.Contains(texts, SupersededMarker) {
		t.Errorf("superseded banner lacks the current number or the marker:\n%s", text)
	}
	if !hasImportance(labels, b.SupersededText, widget.DangerImportance) || !strings.Contains(b.SupersededText, "999 000 0379") {
		t.Errorf("the warning naming both numbers is missing:\n%s", text)
	}
}

// Without demographics the banner says why in words, in place of the name:
// never a blank space that could be read as an empty name.
func TestBannerWithoutDemographicsSaysWhyNeverBlank(t *testing.T) {
	test.NewTempApp(t)
	cases := []struct {
		name, headline string
		in             triage.BannerInput
	}{
		{"not found", "Patient not found in PDS", triage.BannerInput{ReferralNHSNumber: nhsA,
			Lookup: &triage.PatientLookup{Requested: nhsA, Outcome: triage.PatientNotFound, AttemptedAt: now}}},
		{"unreachable", "Patient details could not be checked", triage.BannerInput{ReferralNHSNumber: nhsA,
			Lookup: &triage.PatientLookup{Requested: nhsA, Outcome: triage.PatientUnreachable, Message: "PDS did not answer.", AttemptedAt: now}}},
		{"not checked", "Patient details not checked yet", triage.BannerInput{ReferralNHSNumber: nhsA}},
		{"invalid number", "Invalid NHS number", triage.BannerInput{ReferralNHSNumber: "9990000378"}},
	}
	for _, c := range cases {
		c.in.Now = now
		b := triage.BuildBanner(c.in)
		for _, obj := range []fyne.CanvasObject{New(b), NewCompact(b)} {
			texts, labels := shown(t, obj)
			if len(texts) == 0 || texts[0] != c.headline {
				t.Errorf("%s: first line %q, want %q", c.name, texts, c.headline)
			}
			if !slices.Contains(texts, b.Notice) {
				t.Errorf("%s: the reason is not shown:\n%s", c.name, joined(texts))
			}
			for _, l := range labels {
				if strings.TrimSpace(l.Text) == "" {
					t.Errorf("%s: a blank label", c.name)
				}
			}
		}
	}
}

// The identity cross-check's finding (a letter naming another patient) is
// a badge and a sentence in the error colour.
func TestLetterNamingAnotherPatientIsFlagged(t *testing.T) {
	test.NewTempApp(t)
	flag := triage.IdentityFlag{Kind: triage.FlagBirthDate, Found: "01-Jan-1960", Expected: "12-Mar-1950",
		Text: "The letter gives the date of birth 01-Jan-1960; PDS has 12-Mar-1950. It may be another patient's letter."}
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(patient(), nhsA), Now: now,
		Flags: []triage.IdentityFlag{flag}})
	texts, labels := shown(t, NewCompact(b))
	if !slices.Contains(texts, IdentityMarker) || !hasImportance(labels, flag.Text, widget.DangerImportance) {
		t.Errorf("the identity flag is not shown as a warning:\n%s", joined(texts))
	}
}

func hasImportance(labels []*widget.Label, text string, imp widget.Importance) bool {
	for _, l := range labels {
		if l.Text == text && l.Importance == imp {
			return true
		}
	}
	return false
}

// BenchmarkBanner measures building and laying out the banner for a
// cached referral, the part the banner adds to selection-to-CRI.
func BenchmarkBanner(b *testing.B) {
	test.NewTempApp(b)
	p := patient()
	p.Deceased, p.DeceasedDate = true, triage.PartialDate{Year: 2026, Month: 3, Day: 10}
	in := triage.BannerInput{ReferralNHSNumber: nhsA, Lookup: found(p, nhsA), Now: now}
	for b.Loop() {
		obj := New(triage.BuildBanner(in))
		c := container.NewStack(obj)
		c.Resize(fyne.NewSize(900, c.MinSize().Height))
	}
}
