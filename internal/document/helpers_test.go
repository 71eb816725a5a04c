package document

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"strings"
	"sync"
	"testing"
)

// pdfBuilder writes small, valid PDFs for tests: pages of Helvetica text,
// with a correct cross-reference table.
type pdfBuilder struct {
	objs [][]byte // object bodies, numbered from 1
}

func (b *pdfBuilder) add(body string) int {
	b.objs = append(b.objs, []byte(body))
	return len(b.objs)
}

func (b *pdfBuilder) set(n int, body string) { b.objs[n-1] = []byte(body) }

func (b *pdfBuilder) bytes(root int) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(b.objs))
	for i, body := range b.objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(b.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(b.objs)+1, root, xref)
	return out.Bytes()
}

func pdfEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
	return r.Replace(s)
}

// textPDF returns an A4 PDF with one page per element of pages, each line
// drawn in 12pt Helvetica from the top; a line starting with "# " is drawn
// as an 18pt bold heading. countOverride, when non-zero, is written as the
// page tree's /Count instead of the real number.
func textPDF(pages [][]string, countOverride int) []byte {
	var b pdfBuilder
	catalog := b.add("") // filled below
	tree := b.add("")
	font := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	bold := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	var kids []string
	for _, lines := range pages {
		var cs strings.Builder
		y := 800.0
		for _, l := range lines {
			f, size := "/F1 12", 12.0
			if rest, ok := strings.CutPrefix(l, "# "); ok {
				l, f, size = rest, "/F2 18", 18
			}
			fmt.Fprintf(&cs, "BT %s Tf 56 %.0f Td (%s) Tj ET\n", f, y, pdfEscape(l))
			y -= size * 1.6
		}
		content := b.add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", cs.Len(), cs.String()))
		page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>", tree, font, bold, content))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	count := len(pages)
	if countOverride != 0 {
		count = countOverride
	}
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
	b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), count))
	return b.bytes(catalog)
}

// criPDF is a CRI-like referral letter of three pages with the headings a
// clinical referral carries.
func criPDF() []byte {
	return textPDF([][]string{
		{"# Clinical Referral Information", "UBRN: 000049000001", "NHS Number: 999 000 0018", "Priority: Urgent",
			"# Reason for referral", "Persistent change in bowel habit for eight weeks.", "Weight loss of 4 kg."},
		{"# History", "No previous abdominal surgery.", "Family history: none relevant.", "# Examination", "Abdomen soft, non-tender."},
		{"# Medication", "Ramipril 5 mg once daily.", "# Allergies", "No known drug allergies."},
	}, 0)
}

var (
	sharedEngineOnce sync.Once
	sharedEngine     *Engine
)

// testEngine returns an engine shared by the package's tests (start-up costs
// about two seconds without a compile cache), started with a compile cache
// in the user's cache folder for tests.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	sharedEngineOnce.Do(func() {
		sharedEngine = Start(context.Background(), Options{CacheDir: testCompileCacheDir()})
	})
	if err := sharedEngine.Wait(context.Background()); err != nil {
		t.Fatalf("engine start: %v", err)
	}
	return sharedEngine
}

// pixelStats summarises an image: the share of pixels that are not near
// white, and the number of distinct grey levels seen.
func pixelStats(img image.Image) (inked float64, levels int) {
	b := img.Bounds()
	seen := map[uint32]bool{}
	var dark int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			lum := (r + g + bl) / 3 >> 8
			seen[lum] = true
			if lum < 200 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy()), len(seen)
}
