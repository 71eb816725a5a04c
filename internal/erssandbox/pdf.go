package erssandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// The page geometry of generated PDFs (A4 portrait, points, origin at the
// lower left).
const (
	pageLeft   = 50.0
	pageRight  = 545.0
	pageTop    = 742.0 // first line under the running header
	pageBottom = 62.0  // above the footer
	textWidth  = pageRight - pageLeft
)

const (
	fontRegular = "Helvetica"
	fontBold    = "Helvetica-Bold"
	nhsBlue     = "#005EB8"
	greyText    = "#4C6272"
)

// pdfText is one line of text placed on a page.
type pdfText struct {
	Value string     `json:"value"`
	Pos   [2]float64 `json:"pos"`
	Font  pdfFont    `json:"font"`
}

type pdfFont struct {
	Name  string  `json:"name"`
	Size  float64 `json:"size"`
	Color string  `json:"col,omitempty"`
}

// pdfBox is a filled rectangle (rules and bands).
type pdfBox struct {
	Pos    [2]float64 `json:"pos"`
	Width  float64    `json:"width"`
	Height float64    `json:"height"`
	Fill   string     `json:"fillCol"`
}

type pdfPage struct {
	Text []pdfText `json:"text,omitempty"`
	Box  []pdfBox  `json:"box,omitempty"`
}

// pdfDoc lays out flowing text on A4 pages, with a running header and footer,
// and renders it with pdfcpu's creation API.
type pdfDoc struct {
	header []string // title, subtitle
	footer string
	pages  []*pdfPage
	y      float64
}

func newPDFDoc(title, subtitle, footer string) *pdfDoc {
	d := &pdfDoc{header: []string{title, subtitle}, footer: footer}
	d.newPage()
	return d
}

func (d *pdfDoc) page() *pdfPage { return d.pages[len(d.pages)-1] }

func (d *pdfDoc) newPage() {
	p := &pdfPage{}
	p.Text = append(p.Text,
		pdfText{Value: "NHS e-Referral Service", Pos: [2]float64{pageLeft, 806}, Font: pdfFont{fontBold, 9, nhsBlue}},
		pdfText{Value: d.header[0], Pos: [2]float64{pageLeft, 786}, Font: pdfFont{fontBold, 16, "#212B32"}},
	)
	if d.header[1] != "" {
		p.Text = append(p.Text, pdfText{Value: d.header[1], Pos: [2]float64{pageLeft, 769}, Font: pdfFont{fontRegular, 9, greyText}})
	}
	p.Box = append(p.Box, pdfBox{Pos: [2]float64{pageLeft, 760}, Width: textWidth, Height: 1.5, Fill: nhsBlue})
	d.pages = append(d.pages, p)
	d.y = pageTop
}

// need starts a new page unless h points of height remain.
func (d *pdfDoc) need(h float64) {
	if d.y-h < pageBottom {
		d.newPage()
	}
}

func (d *pdfDoc) width(s, fontName string, size float64) float64 {
	w, err := font.TextWidthFloat(s, fontName, size)
	if err != nil { // not a core font: estimate
		return float64(len(s)) * size * 0.5
	}
	return w
}

// wrap breaks s into lines no wider than width.
func (d *pdfDoc) wrap(s, fontName string, size, width float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, w := range words {
			try := w
			if line != "" {
				try = line + " " + w
			}
			if line != "" && d.width(try, fontName, size) > width {
				lines = append(lines, line)
				line = w
				continue
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}

func (d *pdfDoc) line(x float64, s string, f pdfFont, leading float64) {
	d.need(leading)
	d.y -= leading
	d.page().Text = append(d.page().Text, pdfText{Value: s, Pos: [2]float64{x, d.y}, Font: f})
}

// heading writes a section heading with a light rule under it.
func (d *pdfDoc) heading(s string) {
	d.need(40)
	d.y -= 10
	d.line(pageLeft, s, pdfFont{fontBold, 12, nhsBlue}, 15)
	d.y -= 4
	d.page().Box = append(d.page().Box, pdfBox{Pos: [2]float64{pageLeft, d.y}, Width: textWidth, Height: 0.5, Fill: "#AEB7BD"})
	d.y -= 2
}

// para writes wrapped body text.
func (d *pdfDoc) para(s string) {
	for _, l := range d.wrap(s, fontRegular, 10, textWidth) {
		d.line(pageLeft, l, pdfFont{fontRegular, 10, ""}, 13)
	}
	d.y -= 4
}

// bullets writes a bulleted list.
func (d *pdfDoc) bullets(items []string) {
	for _, it := range items {
		for i, l := range d.wrap(it, fontRegular, 10, textWidth-14) {
			if i == 0 {
				d.need(13)
				d.page().Text = append(d.page().Text, pdfText{Value: "•", Pos: [2]float64{pageLeft + 2, d.y - 13}, Font: pdfFont{fontRegular, 10, ""}})
			}
			d.line(pageLeft+14, l, pdfFont{fontRegular, 10, ""}, 13)
		}
	}
	d.y -= 4
}

// fields writes label/value rows.
func (d *pdfDoc) fields(rows [][2]string) {
	const labelWidth = 170
	for _, r := range rows {
		lines := d.wrap(r[1], fontRegular, 10, textWidth-labelWidth)
		d.need(13 * float64(len(lines)))
		for i, l := range lines {
			d.y -= 13
			if i == 0 {
				d.page().Text = append(d.page().Text, pdfText{Value: r[0], Pos: [2]float64{pageLeft, d.y}, Font: pdfFont{fontBold, 10, ""}})
			}
			d.page().Text = append(d.page().Text, pdfText{Value: l, Pos: [2]float64{pageLeft + labelWidth, d.y}, Font: pdfFont{fontRegular, 10, ""}})
		}
	}
	d.y -= 4
}

var disableConfigDir sync.Once

// render returns the PDF bytes, stamped with the time at (see stabilise).
func (d *pdfDoc) render(at time.Time) ([]byte, error) {
	disableConfigDir.Do(api.DisableConfigDir)
	pages := make(map[string]any, len(d.pages))
	for i, p := range d.pages {
		p.Box = append(p.Box, pdfBox{Pos: [2]float64{pageLeft, 44}, Width: textWidth, Height: 0.5, Fill: "#AEB7BD"})
		p.Text = append(p.Text,
			pdfText{Value: d.footer, Pos: [2]float64{pageLeft, 30}, Font: pdfFont{fontRegular, 7.5, greyText}},
			pdfText{Value: fmt.Sprintf("Page %d of %d", i+1, len(d.pages)), Pos: [2]float64{pageRight - 48, 30}, Font: pdfFont{fontRegular, 7.5, greyText}})
		pages[strconv.Itoa(i+1)] = map[string]any{"content": p}
	}
	spec := map[string]any{"paper": "A4P", "origin": "LowerLeft", "pages": pages}
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("lay out PDF: %w", err)
	}
	conf := model.NewDefaultConfiguration()
	// Plain cross-reference table and objects, so the information
	// dictionary and trailer can be stamped in place.
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false
	var out bytes.Buffer
	if err := api.Create(nil, bytes.NewReader(js), &out, conf); err != nil {
		return nil, fmt.Errorf("create PDF: %w", err)
	}
	return stabilise(out.Bytes(), at), nil
}

var (
	pdfDateRE = regexp.MustCompile(`\(D:[0-9]{14}\+00'00'\)`)
	pdfIDRE   = regexp.MustCompile(`/ID\[<[0-9A-F]{32}> <[0-9A-F]{32}>\]`)
)

// stabilise replaces the creation time pdfcpu writes (the wall clock) with
// at, and the file identifier with one derived from the content, so the same
// input always gives the same bytes. Replacements keep their length, so the
// cross-reference offsets stay valid.
func stabilise(b []byte, at time.Time) []byte {
	date := []byte("(D:" + at.UTC().Format("20060102150405") + "+00'00')")
	b = pdfDateRE.ReplaceAllFunc(b, func(m []byte) []byte {
		if len(m) != len(date) {
			return m
		}
		return date
	})
	loc := pdfIDRE.FindIndex(b)
	if loc == nil {
		return b
	}
	sum := sha256.Sum256(b[:loc[0]])
	id := strings.ToUpper(hex.EncodeToString(sum[:16]))
	copy(b[loc[0]:loc[1]], "/ID[<"+id+"> <"+id+">]")
	return b
}
