package erssandbox

import (
	"archive/zip"
	"bytes"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"golang.org/x/image/tiff"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// readPDFText validates a PDF and returns its page count and the text shown on
// its pages (the decoded content streams).
func readPDFText(t *testing.T, b []byte) (int, string) {
	t.Helper()
	disableConfigDir.Do(api.DisableConfigDir)
	ctx, err := api.ReadAndValidate(bytes.NewReader(b), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatalf("generated PDF does not validate: %v", err)
	}
	var all strings.Builder
	for p := 1; p <= ctx.PageCount; p++ {
		rd, err := pdfcpu.ExtractPageContent(ctx, p)
		if err != nil {
			t.Fatalf("page %d content: %v", p, err)
		}
		c, _ := io.ReadAll(rd)
		all.Write(c)
	}
	return ctx.PageCount, all.String()
}

func TestCRIIsAMultiPageSummary(t *testing.T) {
	sb := start(t, Config{})
	for _, r := range sb.Referrals(nil)[:12] {
		pdf, name, _, err := sb.cri(r.UBRN)
		if err != nil {
			t.Fatalf("CRI: %v", err)
		}
		if !strings.HasPrefix(name, r.UBRN+"_Clinical_Information_Summary_") || !strings.HasSuffix(name, ".pdf") {
			t.Errorf("CRI file name %q", name)
		}
		pages, text := readPDFText(t, pdf)
		if pages < 2 {
			t.Errorf("CRI of %d pages, want several", pages)
		}
		for _, want := range []string{"Clinical Information Summary", formatUBRN(r.UBRN), triage.FormatNHSNumber(r.NHSNumber),
			"Reason for referral", "History of presenting complaint", "Current medication", "Allergies and adverse reactions",
			"Attachments", "Referral letter", "SYNTHETIC TEST DATA"} {
			if !strings.Contains(text, want) {
				t.Errorf("CRI of %s lacks %q", r.UBRN, want)
			}
		}
		for _, d := range r.Documents {
			if !strings.Contains(text, d.Description) {
				t.Errorf("CRI does not list attachment %q", d.Description)
			}
		}
		for _, u := range r.RelatedUBRNs {
			if !strings.Contains(text, formatUBRN(u)) {
				t.Errorf("CRI does not list related referral %s", u)
			}
		}
	}
}

func TestCRICachedPerVersionAndRegeneratedOnLetterChange(t *testing.T) {
	sb := start(t, Config{})
	r := sb.Referrals(nil)[0]
	a, _, _, err := sb.cri(r.UBRN)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, _ := sb.cri(r.UBRN)
	if &a[0] != &b[0] {
		t.Error("the CRI was generated twice for the same version")
	}
	if _, err := sb.ChangeLetter(r.UBRN, "New symptom: chest pain at rest (update 7Q)."); err != nil {
		t.Fatal(err)
	}
	c, _, _, _ := sb.cri(r.UBRN)
	_, text := readPDFText(t, c)
	if !strings.Contains(text, "update 7Q") || !strings.Contains(text, "Updates to the referral") {
		t.Error("the regenerated CRI does not show the letter change")
	}
}

func TestAttachmentFilesDecode(t *testing.T) {
	var d docTemplates
	for k := docKind(0); k < numDocKinds; k++ {
		for v := range docVariants {
			b, err := d.get(k, v)
			if err != nil {
				t.Fatalf("%s variant %d: %v", docContentTypes[k], v, err)
			}
			switch k {
			case docPDF:
				readPDFText(t, b)
			case docPNG:
				_, err = png.Decode(bytes.NewReader(b))
			case docJPEG:
				_, err = jpeg.Decode(bytes.NewReader(b))
			case docTIFF:
				_, err = tiff.Decode(bytes.NewReader(b))
			case docText:
				if !strings.Contains(string(b), "SYNTHETIC") {
					t.Errorf("text attachment is not marked synthetic")
				}
			case docRTF:
				if !bytes.HasPrefix(b, []byte(`{\rtf1`)) || !bytes.HasSuffix(b, []byte("}")) {
					t.Errorf("RTF attachment is not an RTF document")
				}
			case docDOCX:
				var zr *zip.Reader
				zr, err = zip.NewReader(bytes.NewReader(b), int64(len(b)))
				if err == nil {
					f, e := zr.Open("word/document.xml")
					if e != nil {
						t.Errorf("DOCX has no word/document.xml: %v", e)
					} else {
						f.Close()
					}
				}
			}
			if err != nil {
				t.Errorf("%s variant %d does not decode: %v", docContentTypes[k], v, err)
			}
		}
	}
}

func TestReferenceData(t *testing.T) {
	sb := start(t, Config{})
	rd := sb.ReferenceData()
	if len(rd.Systems) != len(triage.CodeSystemTypes) {
		t.Fatalf("%d code systems, want %d", len(rd.Systems), len(triage.CodeSystemTypes))
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	rejects := rd.RejectReasons(now)
	mandatory, optional := 0, 0
	for _, c := range rejects {
		if c.Code == ExpiredRejectReason {
			t.Error("the expired PROVIDER_REJECT reason is offered")
		}
		if c.CommentIsMandatory {
			mandatory++
		} else {
			optional++
		}
	}
	if mandatory == 0 || optional == 0 {
		t.Errorf("reject reasons: %d with a mandatory comment, %d without; want both", mandatory, optional)
	}
	acr, _ := rd.System(triage.CodeSystemAppointmentCancellationReason)
	if c, ok := acr.Lookup(ExpiredRejectReason); !ok || c.ReasonType != triage.ReasonTypeProviderReject || c.EffectiveAt(now) {
		t.Error("A004 must still return the expired PROVIDER_REJECT reason, with a past effectiveTo")
	}
	if len(rd.EndTriageReasons(now)) == 0 {
		t.Error("no PROVIDER_TRIAGE reasons")
	}
	for p, want := range map[triage.Priority][2]int{triage.PriorityRoutine: {40, 40}, triage.PriorityUrgent: {5, 10}, triage.PriorityTwoWeekWait: {2, 5}} {
		tri, _ := rd.ContactDays(p, false)
		def, _ := rd.ContactDays(p, true)
		if tri != want[0] || def != want[1] {
			t.Errorf("%s contact days triage %d deferral %d, want %v", p, tri, def, want)
		}
	}
	// Served over A004 and decoded by the client's mapping, nothing is lost.
	for _, typ := range triage.CodeSystemTypes {
		rep := do(t, sb, "GET", "/STU3/CodeSystem/"+string(typ), asSPC, nil)
		if rep.Status != 200 {
			t.Fatalf("A004 %s: %d %s", typ, rep.Status, rep.Body)
		}
		cs, err := fhir.DecodeCodeSystem(rep.Body)
		if err != nil {
			t.Fatalf("decode %s: %v", typ, err)
		}
		want, _ := rd.System(typ)
		if len(cs.Concepts) != len(want.Concepts) || cs.URL != want.URL {
			t.Errorf("%s: %d concepts at %s, want %d at %s", typ, len(cs.Concepts), cs.URL, len(want.Concepts), want.URL)
		}
	}
	if rep := do(t, sb, "GET", "/STU3/CodeSystem/NOT-A-TYPE", asSPC, nil); rep.Status != 404 {
		t.Errorf("unknown code system: %d", rep.Status)
	}
}

func TestPDFBytesAreStable(t *testing.T) {
	var a docTemplates
	x, err := a.get(docPDF, 2)
	if err != nil {
		t.Fatal(err)
	}
	readPDFText(t, x)
	// The wall-clock creation time pdfcpu writes is replaced by a fixed one,
	// and the file id derives from the content, so the bytes never change.
	if dates := pdfDateRE.FindAll(x, -1); len(dates) != 2 || string(dates[0]) != "(D:20240101090000+00'00')" {
		t.Errorf("creation dates %q", dates)
	}
	again := stabilise(bytes.Clone(x), docEpoch)
	if !bytes.Equal(again, x) {
		t.Error("stamping is not idempotent")
	}
}
