package document

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestBuildVettingPack(t *testing.T) {
	nhs := triage.SyntheticNHSNumber(rand.New(rand.NewPCG(1, 2)))
	related := textPDF([][]string{{"# Related referral", "Earlier letter."}}, 0)
	attachPDF := textPDF([][]string{{"# Blood results", "Hb 131"}, {"# Page two"}}, 0)
	jpg := withEXIFOrientation(encodeAs(t, "jpeg", testPattern(300, 150)), 6, false)
	in := PackInput{
		Referral: triage.Referral{
			UBRN: "000049000001", NHSNumber: nhs, Priority: triage.PriorityUrgent,
			Service: triage.Service{ID: "1", Name: "Colorectal 100% Clinic"}, Type: triage.ReferralTypeAppointment,
			Specialty: triage.Coding{Code: "GASTRO", Display: "Gastroenterology"}, RelatedUBRNs: []string{"000049000002"},
			AdditionalRequirements: []triage.Coding{{Code: "INTERPRETER", Display: "Interpreter"}, {Code: "TRANSPORT"}},
		},
		Decision:    &triage.Decision{Kind: triage.DecisionAccept, DecidedAt: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), By: triage.Identity{Name: "Dr Test"}},
		GeneratedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Environment: "NHS sandbox",
		CRI:         criPDF(),
		RelatedCRIs: []PackPart{{Name: "000049000002", Data: related}},
		Attachments: []PackPart{
			{Name: "bloods.pdf", ContentType: "application/pdf", Data: attachPDF},
			{Name: "photo.jpg", ContentType: "image/jpeg", Data: jpg},
			{Name: "scan.png", ContentType: "image/png", Data: pngBytes(t, 200, 200)},
			{Name: "old-letter.doc", ContentType: "application/msword", Data: append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...)},
			{Name: "broken.pdf", ContentType: "application/pdf", Data: criPDF()[:300]},
			{Name: "locked.pdf", ContentType: "application/pdf", Data: encryptedPDF(t, attachPDF, "pw")},
			{Name: "pending.pdf", ContentType: "application/pdf"},
		},
	}
	pack, err := BuildVettingPack(context.Background(), in)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	e := testEngine(t)
	ctx := context.Background()
	p, err := e.Open(ctx, pack)
	if err != nil {
		t.Fatalf("the pack does not open: %v", err)
	}
	defer p.Close()
	// cover + CRI 3 + related 1 + attachment 2 + two image pages
	if got := p.PageCount(); got != 9 {
		t.Fatalf("pack has %d pages, want 9", got)
	}
	cover, err := p.Text(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Vetting pack", "000049000001", triage.FormatNHSNumber(nhs), "Urgent", "Colorectal 100% Clinic", "Booked",
		"Patient needs", "Interpreter, Transport",
		"Gastroenterology", "Accept", "Dr Test", "2 Mar 2026 10:00 UTC", "NHS sandbox",
		"Clinical referral information", "pages 2-4", "related referral 000049000002", "page 5",
		"bloods.pdf", "pages 6-7", "photo.jpg", "page 8", "scan.png", "page 9",
		"old-letter.doc", "NOT INCLUDED: Word 97-2003 document", "broken.pdf", "incomplete",
		"locked.pdf", "password", "pending.pdf", "not downloaded yet",
	} {
		if !strings.Contains(cover, want) {
			t.Errorf("cover page lacks %q:\n%s", want, cover)
		}
	}
	if text, _ := p.Text(ctx, 1); !strings.Contains(text, "Reason for referral") {
		t.Errorf("page 2 is not the CRI: %q", text)
	}
	if text, _ := p.Text(ctx, 5); !strings.Contains(text, "Blood results") {
		t.Errorf("page 6 is not the PDF attachment: %q", text)
	}
	img, err := p.Render(ctx, 7, 50)
	if err != nil {
		t.Fatal(err)
	}
	if inked, levels := pixelStats(img); inked < 0.05 || levels < 3 {
		t.Errorf("image page looks blank: %.3f inked, %d levels", inked, levels)
	}
}

func TestVettingPackWithoutDocuments(t *testing.T) {
	pack, err := BuildVettingPack(context.Background(), PackInput{Referral: triage.Referral{UBRN: "000049000009"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := ValidatePDF(pack, 0)
	if err != nil || info.Pages != 1 {
		t.Fatalf("pack info %+v, %v", info, err)
	}
	e := testEngine(t)
	p, err := e.Open(context.Background(), pack)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	text, _ := p.Text(context.Background(), 0)
	for _, want := range []string{"000049000009", "None recorded", "NOT INCLUDED: not downloaded yet"} {
		if !strings.Contains(text, want) {
			t.Errorf("cover lacks %q:\n%s", want, text)
		}
	}
}

// The cover page carries the patient banner, so a printed pack names the
// patient PDS knows, with every marker and warning; DocumentText reads it
// back as the identity cross-check reads a CRI.
func TestVettingPackCoverCarriesThePatientBanner(t *testing.T) {
	ctx := context.Background()
	l := &triage.PatientLookup{}
	l.Apply(triage.PatientRead{Requested: "9434765919", Outcome: triage.PatientFound, At: time.Now(), Patient: &triage.Patient{
		NHSNumber: "9434765870", Family: "Hollis", Given: []string{"Margaret"}, Titles: []string{"Mrs"},
		BirthDate: triage.PartialDate{Year: 1950, Month: 3, Day: 12}, Gender: triage.GenderFemale,
		Restriction: triage.RestrictionRestricted, GPPractice: "Y12345", Deceased: true, DeceasedDate: triage.PartialDate{Year: 2026, Month: 2, Day: 1}}})
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: "9434765919", Lookup: l, Now: time.Now()})
	pack, err := BuildVettingPack(ctx, PackInput{Referral: triage.Referral{UBRN: "000049000009", NHSNumber: "9434765919"}, Patient: &b})
	if err != nil {
		t.Fatal(err)
	}
	text, err := testEngine(t).DocumentText(ctx, pack)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Patient HOLLIS, Margaret (Mrs)", "Born 12-Mar-1950", "Gender Female", "NHS No. 943 476 5870",
		"DECEASED 01-Feb-2026", "Restricted record", "NHS number changed (record merged)", "NHS number 943 476 5919"} {
		if !strings.Contains(flat, want) {
			t.Errorf("cover lacks %q:\n%s", want, flat)
		}
	}
	if strings.Contains(flat, "Y12345") {
		t.Error("the cover shows a restricted patient's GP practice")
	}
}
