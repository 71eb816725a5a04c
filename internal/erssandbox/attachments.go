package erssandbox

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/tiff"
)

// docTemplates generates and caches the bytes of synthetic attachments: each
// type has docVariants distinct files, generated on first use. Attachments
// share them, so the sizes e-RS reports are known without generating a file
// per attachment.
type docTemplates struct {
	mu    sync.Mutex
	files map[[2]int][]byte
}

// get returns the bytes of a synthetic attachment.
func (t *docTemplates) get(kind docKind, variant int) ([]byte, error) {
	key := [2]int{int(kind), variant}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.files[key]; ok {
		return b, nil
	}
	b, err := makeDoc(kind, variant)
	if err != nil {
		return nil, fmt.Errorf("generate attachment: %w", err)
	}
	if t.files == nil {
		t.files = map[[2]int][]byte{}
	}
	t.files[key] = b
	return b, nil
}

// docEpoch is the creation time stamped on synthetic PDF attachments.
var docEpoch = time.Date(2024, time.January, 1, 9, 0, 0, 0, time.UTC)

var docNotes = []string{
	"Discharge summary: admitted with community-acquired pneumonia, treated with oral antibiotics, discharged home on day 3. Follow-up chest X-ray in six weeks.",
	"Blood results: haemoglobin 121 g/L, white cell count 7.2, platelets 280, sodium 139, potassium 4.3, creatinine 88, eGFR 74, CRP 6.",
	"Clinic letter: reviewed in clinic last year; symptoms were stable on the current treatment and the patient was discharged to GP care.",
	"Investigation report: study of adequate quality. No significant abnormality detected. Please correlate clinically.",
}

func makeDoc(kind docKind, variant int) ([]byte, error) {
	note := docNotes[variant%len(docNotes)]
	switch kind {
	case docPDF:
		d := newPDFDoc("Attached document", "Synthetic attachment for the Triage Desk e-RS sandbox", syntheticFooter)
		d.heading(strings.SplitN(note, ":", 2)[0])
		for range 3 + variant {
			d.para(note)
		}
		return d.render(docEpoch)
	case docPNG:
		var buf bytes.Buffer
		err := png.Encode(&buf, traceImage(variant))
		return buf.Bytes(), err
	case docJPEG:
		var buf bytes.Buffer
		err := jpeg.Encode(&buf, photoImage(variant), &jpeg.Options{Quality: 80})
		return buf.Bytes(), err
	case docTIFF:
		var buf bytes.Buffer
		err := tiff.Encode(&buf, scanImage(variant), &tiff.Options{Compression: tiff.Deflate})
		return buf.Bytes(), err
	case docText:
		return []byte("SYNTHETIC TEST DOCUMENT - not a real patient\r\n\r\n" + strings.Repeat(note+"\r\n", 2+variant)), nil
	case docRTF:
		var b strings.Builder
		b.WriteString(`{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}\f0\fs22 {\b SYNTHETIC TEST DOCUMENT - not a real patient}\par\par `)
		for range 2 + variant {
			b.WriteString(strings.NewReplacer(`\`, `\\`, "{", `\{`, "}", `\}`).Replace(note))
			b.WriteString(`\par `)
		}
		b.WriteString("}")
		return []byte(b.String()), nil
	case docDOCX:
		return makeDOCX([]string{"SYNTHETIC TEST DOCUMENT - not a real patient", note, note})
	}
	return nil, fmt.Errorf("unknown attachment type %d", kind)
}

// traceImage draws an ECG-like trace on a grid.
func traceImage(variant int) image.Image {
	const w, h = 480, 200
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 250, 250, 255}
			if x%20 == 0 || y%20 == 0 {
				c = color.RGBA{240, 180, 180, 255}
			}
			img.Set(x, y, c)
		}
	}
	period := 80 + 10*variant
	for x := range w {
		p := x % period
		y := h / 2
		switch {
		case p > 30 && p < 34:
			y -= (p - 30) * 18
		case p >= 34 && p < 38:
			y -= (38 - p) * 18
		default:
			y += int(4 * math.Sin(float64(x)/6))
		}
		for dy := -1; dy <= 1; dy++ {
			img.Set(x, y+dy, color.Black)
		}
	}
	return img
}

// photoImage draws a skin-toned background with a darker blob.
func photoImage(variant int) image.Image {
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(140+10*variant), float64(110+5*variant)
	for y := range h {
		for x := range w {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			base := color.RGBA{uint8(224 - y/12), uint8(180 - y/16), uint8(150 - x/20), 255}
			if d < 30+float64(variant)*4 {
				base = color.RGBA{110, 70, 50, 255}
			}
			img.Set(x, y, base)
		}
	}
	return img
}

// scanImage draws a grey page with lines of "text".
func scanImage(variant int) image.Image {
	const w, h = 300, 400
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(245)
			if y > 30 && y%14 < 6 && x > 25 && x < w-25-(y*7+variant*13)%60 {
				v = 60
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return img
}

// makeDOCX writes a minimal Office Open XML word-processing document.
func makeDOCX(paras []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var body strings.Builder
	for _, p := range paras {
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, esc.Replace(p))
	}
	files := []struct{ name, data string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `</w:body></w:document>`},
	}
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(f.data)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
