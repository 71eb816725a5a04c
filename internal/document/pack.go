package document

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// PackInput is everything a vetting pack contains. All bytes are decrypted
// documents from the store; nothing is written to disk.
type PackInput struct {
	Referral    triage.Referral
	Decision    *triage.Decision // nil when no decision has been made
	GeneratedAt time.Time
	Environment string // the e-RS environment's name, e.g. "NHS sandbox"
	// CRI is the referral's clinical referral information PDF (nil when
	// it is not in the store: the cover page says so).
	CRI []byte
	// RelatedCRIs are the CRIs of the related referrals; Name is the UBRN.
	RelatedCRIs []PackPart
	// Attachments are the referral's files: PDFs are appended, images
	// become one page each, anything else is listed on the cover page.
	Attachments []PackPart
	// Patient is the patient banner (nil: none): the cover page carries
	// its name, date of birth, gender and NHS number under the title, then
	// its markers and warnings (in red) and notices.
	Patient *triage.Banner
}

// PackPart is one file for the pack.
type PackPart struct {
	Name        string // shown on the cover page
	ContentType string
	Data        []byte
}

// packEntry is one line of the cover page's contents list.
type packEntry struct {
	label     string
	firstPage int // 0 when not included
	pages     int
	omitted   string // why it is not included
}

// BuildVettingPack makes one PDF for printing or filing: a cover page
// (UBRN, NHS number, priority, service, referral type, decision, when and
// in which environment it was generated, and a contents list), then the
// CRI, the related CRIs, the PDF attachments and the image attachments as
// pages. Parts that cannot be included (damaged, password-protected, or of
// a type that cannot be paged) are listed on the cover page with the reason,
// never silently dropped. It fails only when ctx ends or the pack itself
// cannot be written.
func BuildVettingPack(ctx context.Context, in PackInput) ([]byte, error) {
	type body struct {
		data  []byte
		entry int // index into entries
	}
	var entries []packEntry
	var bodies []body
	add := func(label string, data []byte, pages int) {
		entries = append(entries, packEntry{label: label, pages: pages})
		bodies = append(bodies, body{data: data, entry: len(entries) - 1})
	}
	omit := func(label, why string) {
		entries = append(entries, packEntry{label: label, omitted: why})
	}
	addPDF := func(label string, data []byte) {
		info, err := ValidatePDF(data, DefaultMaxPages)
		if err != nil {
			omit(label, reasonOf(err))
			return
		}
		add(label, data, info.Pages)
	}
	if len(in.CRI) == 0 {
		omit("Clinical referral information", "not downloaded yet")
	} else {
		addPDF("Clinical referral information", in.CRI)
	}
	for _, r := range in.RelatedCRIs {
		label := "CRI of related referral " + r.Name
		if len(r.Data) == 0 {
			omit(label, "not downloaded yet")
			continue
		}
		addPDF(label, r.Data)
	}
	for _, a := range in.Attachments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		label := "Attachment: " + a.Name
		t, _ := DetectType(a.Name, a.ContentType, a.Data)
		switch {
		case len(a.Data) == 0:
			omit(label, "not downloaded yet")
		case t == TypePDF:
			addPDF(label, a.Data)
		case t == TypePNG || t == TypeJPEG || t == TypeGIF || t == TypeTIFF || t == TypeBMP:
			page, err := imagePage(a.Data)
			if err != nil {
				omit(label, reasonOf(err))
				continue
			}
			add(label, page, 1)
		default:
			omit(label, t.Label())
		}
	}

	// Merge the parts one at a time so one that pdfcpu cannot merge is
	// listed instead of failing the whole pack.
	var merged []byte
	next := 2 // the cover is page 1
	for _, b := range bodies {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out, err := mergePDFs(merged, b.data)
		if err != nil {
			entries[b.entry].omitted = "it could not be combined with the other documents"
			entries[b.entry].pages = 0
			continue
		}
		merged = out
		entries[b.entry].firstPage = next
		next += entries[b.entry].pages
	}
	cover, err := coverPage(in, entries, next-1)
	if err != nil {
		return nil, fmt.Errorf("vetting pack: cover page: %w", err)
	}
	if merged == nil {
		return cover, nil
	}
	out, err := mergePDFs(cover, merged)
	if err != nil {
		return nil, fmt.Errorf("vetting pack: combine: %w", err)
	}
	return out, nil
}

func reasonOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Reason
	}
	return "it could not be read"
}

// mergePDFs appends b to a (a may be nil).
func mergePDFs(a, b []byte) ([]byte, error) {
	if a == nil {
		return b, nil
	}
	var out bytes.Buffer
	rs := []io.ReadSeeker{bytes.NewReader(a), bytes.NewReader(b)}
	if err := api.MergeRaw(rs, &out, false, pdfcpuConf()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// imagePage decodes an image with the usual limits (so it is upright and
// not a decompression bomb) and makes a one-page A4 PDF of it.
func imagePage(data []byte) ([]byte, error) {
	img, _, err := DecodeImage(data, 2400)
	if err != nil {
		return nil, err
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 88}); err != nil {
		return nil, fmt.Errorf("encode image page: %w", err)
	}
	imp, err := api.Import("form:A4, pos:c, sc:0.95", types.POINTS)
	if err != nil {
		return nil, fmt.Errorf("image page settings: %w", err)
	}
	var out bytes.Buffer
	if err := api.ImportImages(nil, &out, []io.Reader{&jpg}, imp, pdfcpuConf()); err != nil {
		return nil, newError(KindCorrupt, err, "the image could not be made into a page")
	}
	return out.Bytes(), nil
}

// Cover page layout, in points on A4 (595 × 842) from the top-left.
type coverText struct {
	Value string     `json:"value"`
	Pos   [2]float64 `json:"pos"`
	Font  coverFont  `json:"font"`
	Width float64    `json:"width,omitempty"`
}

type coverFont struct {
	Name string  `json:"name"`
	Size float64 `json:"size"`
	Col  string  `json:"col,omitempty"`
}

// pdfcpuText escapes pdfcpu's %-placeholders and keeps to the characters
// its standard fonts can show.
func pdfcpuText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 32:
			return -1
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "%", "%%")
}

func coverPage(in PackInput, entries []packEntry, totalPages int) ([]byte, error) {
	r := in.Referral
	var texts []coverText
	y := 60.0
	line := func(label, value string, size float64) {
		if label != "" {
			texts = append(texts, coverText{Value: pdfcpuText(label), Pos: [2]float64{56, y}, Font: coverFont{Name: "Helvetica-Bold", Size: size}})
		}
		if value != "" {
			texts = append(texts, coverText{Value: pdfcpuText(value), Pos: [2]float64{200, y}, Font: coverFont{Name: "Helvetica", Size: size}})
		}
		y += size * 1.7
	}
	texts = append(texts, coverText{Value: "Vetting pack", Pos: [2]float64{56, y}, Font: coverFont{Name: "Helvetica-Bold", Size: 22}})
	y += 40
	if b := in.Patient; b != nil {
		if b.State == triage.BannerPatient {
			line("Patient", b.Name, 12)
			line("Born", b.Born, 12)
			line("Gender", b.Gender, 12)
			line("NHS No.", b.NHSNumber, 12)
		} else {
			line("NHS No.", b.NHSNumber, 12)
		}
		for _, l := range b.Lines()[1:] {
			font, col := "Helvetica", ""
			if strings.HasPrefix(l, "WARNING") || strings.HasPrefix(l, "DECEASED") || strings.HasPrefix(l, "Restricted") {
				font, col = "Helvetica-Bold", "#B00000"
			}
			for _, part := range wrapText(l, 96) {
				texts = append(texts, coverText{Value: pdfcpuText(part), Pos: [2]float64{56, y}, Font: coverFont{Name: font, Size: 9, Col: col}})
				y += 9 * 1.45
			}
		}
		y += 14
	}
	line("UBRN", r.UBRN, 12)
	if in.Patient == nil || in.Patient.ReferralNHSNumber != in.Patient.NHSNumber {
		line("NHS number", triage.FormatNHSNumber(r.NHSNumber), 12)
	}
	line("Priority", orDash(r.Priority.Label()), 12)
	line("Service", orDash(r.Service.Label()), 12)
	if !r.Specialty.IsZero() {
		line("Specialty", r.Specialty.Label(), 12)
	}
	line("Referral type", orDash(r.Type.Label()), 12)
	// The patient's needs are never cut short: a long list continues on
	// the next lines.
	for i, part := range wrapWords(r.Needs(), 60) {
		label := ""
		if i == 0 {
			label = "Patient needs"
		}
		line(label, part, 12)
	}
	decision := "None recorded"
	if d := in.Decision; d != nil {
		decision = d.Summary()
		if !d.DecidedAt.IsZero() {
			decision += ", " + d.DecidedAt.Format("2 Jan 2006 15:04 MST")
		}
		if d.By.Name != "" {
			decision += ", by " + d.By.Name
		}
	}
	line("Decision", decision, 12)
	if len(r.RelatedUBRNs) > 0 {
		line("Related referrals", strings.Join(r.RelatedUBRNs, ", "), 12)
	}
	y += 10
	gen := in.GeneratedAt
	if gen.IsZero() {
		gen = time.Now()
	}
	line("Generated", gen.Format("2 Jan 2006 15:04 MST"), 10)
	line("Environment", orDash(in.Environment), 10)
	line("Pages", fmt.Sprintf("%d", totalPages), 10)
	y += 16
	line("Contents", "", 14)
	for _, e := range entries {
		var where string
		switch {
		case e.omitted != "":
			where = "NOT INCLUDED: " + e.omitted
		case e.pages == 1:
			where = fmt.Sprintf("page %d", e.firstPage)
		default:
			where = fmt.Sprintf("pages %d-%d", e.firstPage, e.firstPage+e.pages-1)
		}
		texts = append(texts, coverText{Value: pdfcpuText(truncateRunes(e.label, 44)), Pos: [2]float64{56, y}, Font: coverFont{Name: "Helvetica", Size: 10}})
		col := ""
		if e.omitted != "" {
			col = "#B00000"
		}
		texts = append(texts, coverText{Value: pdfcpuText(truncateRunes(where, 52)), Pos: [2]float64{300, y}, Font: coverFont{Name: "Helvetica", Size: 10, Col: col}})
		y += 15
		if y > 780 {
			texts = append(texts, coverText{Value: "(list continues in the pack)", Pos: [2]float64{56, y}, Font: coverFont{Name: "Helvetica-Oblique", Size: 10}})
			break
		}
	}
	texts = append(texts, coverText{Value: "Documents not included can be viewed in Triage Desk.", Pos: [2]float64{56, 800}, Font: coverFont{Name: "Helvetica-Oblique", Size: 8}})
	texts = append(texts, coverText{Value: "Contains patient data: handle, store and dispose of it under your organisation's information governance policy.", Pos: [2]float64{56, 815}, Font: coverFont{Name: "Helvetica-Oblique", Size: 8}})
	desc := map[string]any{
		"paper":  "A4P",
		"origin": "UpperLeft",
		"pages": map[string]any{
			"1": map[string]any{"content": map[string]any{"text": texts}},
		},
	}
	js, err := json.Marshal(desc)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := api.Create(nil, bytes.NewReader(js), &out, pdfcpuConf()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// wrapWords splits s into lines of at most about n characters, at spaces.
func wrapWords(s string, n int) []string {
	var out []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && len([]rune(cur))+1+len([]rune(w)) > n {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// nhsNumberGroups matches an NHS number in 3 3 4 groups, kept on one line.
var nhsNumberGroups = regexp.MustCompile(`\b(\d{3}) (\d{3}) (\d{4})\b`)

// wrapText breaks s into lines of at most n runes at spaces (a longer word
// is cut); an NHS number is never broken.
func wrapText(s string, n int) []string {
	const glue = "\uE000"
	s = nhsNumberGroups.ReplaceAllString(s, "$1"+glue+"$2"+glue+"$3")
	var out []string
	defer func() {
		for i := range out {
			out[i] = strings.ReplaceAll(out[i], glue, " ")
		}
	}()
	var cur []rune
	for _, w := range strings.Fields(s) {
		r := []rune(w)
		if len(cur) > 0 && len(cur)+1+len(r) > n {
			out = append(out, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, r...)
		for len(cur) > n {
			out = append(out, string(cur[:n]))
			cur = cur[n:]
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
