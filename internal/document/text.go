package document

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Text preview limits.
const (
	MaxTextInput   = 8 << 20  // bytes of a text-like file that are read
	MaxTextOutput  = 1 << 20  // bytes of text shown; the rest is cut off
	maxZipEntries  = 10_000   // a DOCX with more entries is refused
	maxDocumentXML = 64 << 20 // uncompressed word/document.xml
	maxXMLDepth    = 256      // deeper XML is flattened
)

// TextResult is the text of a text-like file.
type TextResult struct {
	Text      string
	Encoding  string // the character set the bytes were read as, e.g. "utf-8", "windows-1252"
	Truncated bool   // the file was longer than the preview shows
}

// textOut collects preview text up to MaxTextOutput bytes.
type textOut struct {
	b         strings.Builder
	truncated bool
}

func (t *textOut) WriteString(s string) {
	if t.truncated {
		return
	}
	if room := MaxTextOutput - t.b.Len(); len(s) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		t.b.WriteString(s[:cut])
		t.truncated = true
		return
	}
	t.b.WriteString(s)
}

func (t *textOut) full() bool { return t.truncated }

// limitInput cuts data to MaxTextInput.
func limitInput(data []byte) ([]byte, bool) {
	if len(data) > MaxTextInput {
		return data[:MaxTextInput], true
	}
	return data, false
}

// PlainText decodes a plain-text file: UTF-8, UTF-16 with a byte-order mark,
// or (when not valid UTF-8) Windows-1252, the usual legacy encoding of
// letters from UK clinical systems. Control characters other than tab and
// newline are dropped. A file that is mostly binary is refused with
// KindUnsupported.
func PlainText(data []byte, contentType string) (TextResult, error) {
	data, cut := limitInput(data)
	enc, name := textEncoding(data, contentType)
	s, err := decodeWith(enc, data)
	if err != nil {
		return TextResult{}, newError(KindCorrupt, err, "the text could not be read")
	}
	if binaryish(s) {
		return TextResult{}, newError(KindUnsupported, nil, "the file is not text")
	}
	var out textOut
	out.WriteString(cleanText(s))
	return TextResult{Text: out.b.String(), Encoding: name, Truncated: cut || out.truncated}, nil
}

// textEncoding picks the encoding for bytes without markup: a BOM or a
// declared charset wins, then UTF-8 if valid, else Windows-1252.
func textEncoding(data []byte, contentType string) (encoding.Encoding, string) {
	e, name, certain := charset.DetermineEncoding(data, contentType)
	if name != "utf-8" && (certain || name != "windows-1252") {
		return e, name
	}
	check := data
	for i := 0; i < utf8.UTFMax && len(check) > 0 && !utf8.Valid(check); i++ {
		check = check[:len(check)-1] // a rune cut at the input limit
	}
	if utf8.Valid(check) && len(data)-len(check) < utf8.UTFMax {
		return encoding.Nop, "utf-8"
	}
	return charmap.Windows1252, "windows-1252"
}

func decodeWith(enc encoding.Encoding, data []byte) (string, error) {
	if enc == encoding.Nop {
		return string(data), nil
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), data)
	return string(out), err
}

// binaryish reports text with many NULs or control characters.
func binaryish(s string) bool {
	if s == "" {
		return false
	}
	var bad, total int
	for _, r := range s[:min(len(s), 8192)] {
		total++
		if r == 0 || r == utf8.RuneError || (r < 32 && r != '\n' && r != '\r' && r != '\t' && r != '\f') {
			bad++
		}
	}
	return bad*10 > total
}

// cleanText normalises line endings and drops control characters.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\f' {
			return '\n'
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
}

// skippedHTML are elements whose content is never shown.
var skippedHTML = map[string]bool{
	"script": true, "style": true, "head": true, "noscript": true, "template": true,
	"iframe": true, "object": true, "embed": true, "svg": true, "math": true, "canvas": true,
	"audio": true, "video": true, "select": true, "button": true,
}

// blockHTML are elements that start a new line.
var blockHTML = map[string]bool{
	"p": true, "div": true, "br": true, "tr": true, "table": true, "section": true, "article": true,
	"header": true, "footer": true, "blockquote": true, "pre": true, "hr": true, "ul": true, "ol": true,
	"dl": true, "dt": true, "dd": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"address": true, "fieldset": true, "form": true, "nav": true, "main": true, "aside": true, "figure": true,
	"caption": true, "title": true,
}

// HTMLText extracts the readable text of an HTML document: scripts, styles
// and embedded content are dropped, nothing is fetched (no images, no
// stylesheets, no links followed), block elements become line breaks, list
// items get bullets and table cells are separated by tabs. The character set
// comes from a BOM, the content type or a <meta charset>.
func HTMLText(data []byte, contentType string) (TextResult, error) {
	data, cut := limitInput(data)
	_, name, _ := charset.DetermineEncoding(data, contentType)
	r, err := charset.NewReader(bytes.NewReader(data), contentType)
	if err != nil {
		return TextResult{}, newError(KindCorrupt, err, "the web page could not be read")
	}
	z := html.NewTokenizer(r)
	z.SetMaxBuf(MaxTextInput)
	var out textOut
	skip, pre := 0, 0
	firstCell := true
	line := func() { out.WriteString("\n") }
	for !out.full() {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != nil && !errors.Is(err, io.EOF) {
				return TextResult{}, newError(KindCorrupt, err, "the web page could not be read")
			}
			break
		}
		name, _ := z.TagName()
		tag := string(name)
		switch tt {
		case html.StartTagToken:
			if skippedHTML[tag] {
				skip++
			}
			if tag == "pre" {
				pre++
			}
			if tag == "tr" {
				firstCell = true
			}
			if skip == 0 {
				switch {
				case tag == "li":
					out.WriteString("\n• ")
				case tag == "td" || tag == "th":
					if !firstCell {
						out.WriteString("\t")
					}
					firstCell = false
				case blockHTML[tag]:
					line()
				}
			}
		case html.EndTagToken:
			if skippedHTML[tag] && skip > 0 {
				skip--
			}
			if tag == "pre" && pre > 0 {
				pre--
			}
			if skip == 0 && blockHTML[tag] {
				line()
			}
		case html.SelfClosingTagToken:
			if skip == 0 && (tag == "br" || tag == "hr") {
				line()
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if pre == 0 {
				text = strings.Join(strings.Fields(text), " ")
				if text == "" {
					continue
				}
				text += " "
			}
			out.WriteString(text)
		}
	}
	return TextResult{Text: tidyLines(out.b.String()), Encoding: name, Truncated: cut || out.truncated}, nil
}

// tidyLines trims trailing spaces and collapses runs of blank lines.
func tidyLines(s string) string {
	s = strings.ReplaceAll(cleanText(s), " \t", "\t")
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// XMLText pretty-prints an XML document with two-space indentation. Entities
// are never expanded beyond the five predefined ones and character
// references, DTDs are shown as written and never processed, and nothing is
// fetched. Malformed XML gives KindCorrupt.
func XMLText(data []byte, contentType string) (TextResult, error) {
	data, cut := limitInput(data)
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false // unknown entities stay as written instead of failing
	d.CharsetReader = charset.NewReaderLabel
	var out textOut
	depth := 0
	indent := func() { out.WriteString("\n" + strings.Repeat("  ", min(depth, maxXMLDepth))) }
	var pendingStart bool // a start tag written without its closing ">" yet
	closeStart := func(selfClose bool) {
		if pendingStart {
			if selfClose {
				out.WriteString("/>")
			} else {
				out.WriteString(">")
			}
			pendingStart = false
		}
	}
	lastWasText := false
	var open []string // element names, to check nesting (RawToken does not)
	for !out.full() {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(open) > 0 && !cut {
				return TextResult{}, newError(KindCorrupt, nil, "the XML is malformed (it ends inside <%s>)", open[len(open)-1])
			}
			break
		}
		if err != nil {
			if cut {
				break // the cut-off end of a long file is not an error
			}
			return TextResult{}, newError(KindCorrupt, err, "the XML is malformed")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			closeStart(false)
			indent()
			out.WriteString("<" + qname(t.Name))
			for _, a := range t.Attr {
				out.WriteString(" " + qname(a.Name) + `="` + escapeXML(a.Value) + `"`)
			}
			pendingStart = true
			depth++
			open = append(open, qname(t.Name))
			lastWasText = false
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != qname(t.Name) {
				return TextResult{}, newError(KindCorrupt, nil, "the XML is malformed (mismatched tags)")
			}
			open = open[:len(open)-1]
			depth = max(0, depth-1)
			if pendingStart {
				closeStart(true)
			} else {
				if !lastWasText {
					indent()
				}
				out.WriteString("</" + qname(t.Name) + ">")
			}
			lastWasText = false
		case xml.CharData:
			s := strings.TrimSpace(string(t))
			if s == "" {
				continue
			}
			closeStart(false)
			out.WriteString(escapeXML(s))
			lastWasText = true
		case xml.Comment:
			closeStart(false)
			indent()
			out.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			closeStart(false)
			if depth > 0 || out.b.Len() > 0 {
				indent()
			}
			out.WriteString("<?" + t.Target + " " + string(t.Inst) + "?>")
		case xml.Directive:
			closeStart(false)
			indent()
			out.WriteString("<!" + string(t) + ">")
		}
	}
	closeStart(false)
	enc := "utf-8"
	if _, name, certain := charset.DetermineEncoding(data, contentType); certain {
		enc = name
	}
	return TextResult{Text: strings.TrimSpace(cleanXMLText(out.b.String())), Encoding: enc, Truncated: cut || out.truncated}, nil
}

func cleanXMLText(s string) string { return cleanText(s) }

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "&#xA;", "\n")
}

// DOCXText extracts the paragraph text of a Word (.docx) file from
// word/document.xml: paragraphs become lines, tabs and breaks are kept, table
// cells are separated by tabs and deleted (tracked) text is left out. The
// zip is read in memory with limits on entry count and uncompressed size,
// so a zip bomb gives KindTooLarge; a file that is not a Word document gives
// KindCorrupt.
func DOCXText(data []byte) (TextResult, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, zip.ErrFormat) && len(data) > 0 && bytes.HasPrefix(data, []byte("PK")) {
			return TextResult{}, newError(KindTruncated, err, "the Word document is incomplete or damaged")
		}
		return TextResult{}, newError(KindCorrupt, err, "the file is not a Word document")
	}
	if len(zr.File) > maxZipEntries {
		return TextResult{}, newError(KindTooLarge, nil, "the Word document has too many parts (%d)", len(zr.File))
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
			break
		}
	}
	if doc == nil {
		return TextResult{}, newError(KindCorrupt, nil, "the file is not a Word document (it has no main text part)")
	}
	if doc.UncompressedSize64 > maxDocumentXML {
		return TextResult{}, newError(KindTooLarge, nil, "the Word document's text part is too large (%s)", byteSize(int64(min(doc.UncompressedSize64, 1<<62))))
	}
	rc, err := doc.Open()
	if err != nil {
		return TextResult{}, newError(KindCorrupt, err, "the Word document is damaged")
	}
	defer rc.Close()
	// The header's size may lie: read at most one byte past the limit.
	lr := &io.LimitedReader{R: rc, N: maxDocumentXML + 1}
	res, err := wordText(lr)
	if lr.N <= 0 {
		return TextResult{}, newError(KindTooLarge, nil, "the Word document's text part is too large")
	}
	if err != nil {
		return TextResult{}, err
	}
	return res, nil
}

func wordText(r io.Reader) (TextResult, error) {
	d := xml.NewDecoder(r)
	var out textOut
	inText, deleted := false, 0
	for !out.full() {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, zip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
				return TextResult{}, newError(KindTruncated, err, "the Word document is incomplete or damaged")
			}
			return TextResult{}, newError(KindCorrupt, err, "the Word document's text is malformed")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				if deleted == 0 {
					out.WriteString("\t")
				}
			case "br", "cr":
				if deleted == 0 {
					out.WriteString("\n")
				}
			case "del", "delText":
				deleted++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				out.WriteString("\n")
			case "tc":
				out.WriteString("\t")
			case "del", "delText":
				deleted = max(0, deleted-1)
			}
		case xml.CharData:
			if inText && deleted == 0 {
				out.WriteString(string(t))
			}
		}
	}
	return TextResult{Text: strings.TrimSpace(cleanText(out.b.String())), Encoding: "utf-8", Truncated: out.truncated}, nil
}
