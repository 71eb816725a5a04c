package document

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPlainTextEncodings(t *testing.T) {
	cases := []struct {
		name, ct string
		data     []byte
		want     string
		enc      string
	}{
		{"utf-8", "", []byte("Café referral\r\nSecond line\n"), "Café referral\nSecond line\n", "utf-8"},
		{"windows-1252", "", []byte("Fee \xa35 \x96 caf\xe9"), "Fee £5 – café", "windows-1252"},
		{"utf-16le bom", "", []byte{0xFF, 0xFE, 'H', 0, 'i', 0, ' ', 0, 0xA3, 0}, "Hi £", "utf-16le"},
		{"declared latin1", "text/plain; charset=iso-8859-1", []byte("na\xefve"), "naïve", "windows-1252"},
		{"control chars dropped", "", []byte("Reason for referral:\x07 cough\x1b for six weeks"), "Reason for referral: cough for six weeks", "utf-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := PlainText(tc.data, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != tc.want || res.Encoding != tc.enc {
				t.Errorf("got %q (%s), want %q (%s)", res.Text, res.Encoding, tc.want, tc.enc)
			}
		})
	}
	if _, err := PlainText(randomBytes(2000, 5), ""); KindOf(err) != KindUnsupported {
		t.Errorf("binary as text: %v, want KindUnsupported", err)
	}
	long := bytes.Repeat([]byte("abcdefghij\n"), (MaxTextOutput/11)+100)
	res, err := PlainText(long, "")
	if err != nil || !res.Truncated || len(res.Text) > MaxTextOutput {
		t.Errorf("long text: truncated=%v len=%d err=%v", res.Truncated, len(res.Text), err)
	}
}

func TestHTMLStripsAndFetchesNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	page := fmt.Sprintf(`<!DOCTYPE html><html><head><title>Letter</title>
<meta charset="windows-1252"><link rel="stylesheet" href="%[1]s/a.css">
<style>body{background:url(%[1]s/bg.png)}</style><script src="%[1]s/x.js">alert("x")</script></head>
<body onload="fetch('%[1]s/beacon')"><h1>Reason for referral</h1><p>Chest pain on exertion, fee &pound;5 caf`+"\xe9"+`.</p>
<img src="%[1]s/track.gif"><ul><li>Aspirin</li><li>Statin</li></ul>
<table><tr><td>Hb</td><td>131</td></tr></table><script>document.write("hidden")</script>
<iframe src="%[1]s/frame"></iframe><pre>  kept   spacing</pre></body></html>`, srv.URL)
	res, err := HTMLText([]byte(page), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reason for referral\n", "Chest pain on exertion, fee £5 café.", "• Aspirin", "• Statin", "Hb\t131", "  kept   spacing"} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, res.Text)
		}
	}
	for _, bad := range []string{"alert", "hidden", "background", "<", "beacon", srv.URL} {
		if strings.Contains(res.Text, bad) {
			t.Errorf("text contains %q:\n%s", bad, res.Text)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the preview made %d requests", n)
	}
}

func TestXMLIndentsWithoutExpandingEntities(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<lolz><a>&lol3;</a><b>&xxe;</b></lolz>`
	res, err := XMLText([]byte(laughs), "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Text, "lollol") || strings.Contains(res.Text, "root:") || len(res.Text) > 2*len(laughs) {
		t.Errorf("entities were expanded:\n%s", res.Text)
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?><Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><name value="Test &amp; Co"/><note>Reason for referral</note></Patient></resource></entry><!-- a comment --></Bundle>`
	res, err = XMLText([]byte(doc), "application/xml")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir">
  <entry>
    <resource>
      <Patient>
        <name value="Test &amp; Co"/>
        <note>Reason for referral</note>
      </Patient>
    </resource>
  </entry>
  <!-- a comment -->
</Bundle>`
	if res.Text != want {
		t.Errorf("indented XML:\n%s\nwant:\n%s", res.Text, want)
	}
	if _, err := XMLText([]byte("<a><b></a>"), ""); KindOf(err) != KindCorrupt {
		t.Errorf("malformed XML: %v", err)
	}
}

func TestRTFText(t *testing.T) {
	rtf := `{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Helvetica;}}{\colortbl;\red0\green0\blue0;}
{\*\generator Test 1.0;}{\info{\title Secret title}{\author Dr X}}
{\header Page header}\pard\plain\f0\fs24 {\b Reason for referral}\par
Fee \'a35 caf\'e9 \u8211\'96 dash\tab tabbed\line next\par
{\field{\*\fldinst HYPERLINK "http://example.invalid"}{\fldrslt link text}}\par
Braces \{ok\} and backslash \\ here.\par
{\pict\pngblip 89504e470d0a}Unicode \uc1\u9731?snowman and \u-3913?x\par
}`
	res, err := RTFText([]byte(rtf))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reason for referral\n", "Fee £5 café –", "dash\ttabbed\nnext", "link text", `Braces {ok} and backslash \ here.`, "Unicode ☃snowman", "\uF0B7x"} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("text lacks %q:\n%q", want, res.Text)
		}
	}
	for _, bad := range []string{"Helvetica", "Secret title", "Page header", "HYPERLINK", "89504e", "Test 1.0", "?snowman", "\\" + "par"} {
		if strings.Contains(res.Text, bad) {
			t.Errorf("text contains %q:\n%q", bad, res.Text)
		}
	}
	if _, err := RTFText([]byte("not rtf")); KindOf(err) != KindCorrupt {
		t.Errorf("non-RTF: %v", err)
	}
	// Unbalanced, deeply nested and cut-off input still gives text, no panic.
	for _, s := range []string{`{\rtf1 ` + strings.Repeat("{", 5000) + "deep", `{\rtf1 }}}}} text \'`, `{\rtf1 \u`, `{\rtf1 \bin99999 x`} {
		if _, err := RTFText([]byte(s)); err != nil {
			t.Errorf("%.30q: %v", s, err)
		}
	}
}

// docx builds a minimal Word file whose word/document.xml is body.
func docx(t testing.TB, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDOCXText(t *testing.T) {
	body := `<w:p><w:r><w:t>Reason for referral</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Breathless </w:t></w:r><w:r><w:t>on stairs</w:t></w:r><w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del></w:p>
<w:p><w:r><w:t>Col</w:t><w:tab/><w:t>umn</w:t><w:br/><w:t>break</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Hb</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>131</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`
	res, err := DOCXText(docx(t, body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reason for referral\nBreathless on stairs\nCol\tumn\nbreak", "Hb", "131"} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("text lacks %q:\n%q", want, res.Text)
		}
	}
	if strings.Contains(res.Text, "deleted") {
		t.Errorf("tracked deletion shown: %q", res.Text)
	}
}

// zipWith writes one stored-deflate entry whose header may claim a false
// uncompressed size.
func zipWith(t testing.TB, name string, content []byte, claimedSize uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(content)
	fw.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: 0, CompressedSize64: uint64(comp.Len()), UncompressedSize64: claimedSize})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return b.Bytes()
}

func TestDOCXBombsAndDamage(t *testing.T) {
	huge := bytes.Repeat([]byte{' '}, maxDocumentXML+1024)
	good := docx(t, `<w:p><w:r><w:t>x</w:t></w:r></w:p>`)
	cases := []struct {
		name string
		data []byte
		want Kind
	}{
		{"honest bomb", zipWith(t, "word/document.xml", huge, uint64(len(huge))), KindTooLarge},
		{"lying bomb", zipWith(t, "word/document.xml", huge, 100), KindCorrupt}, // stops at the claimed 100 bytes
		{"no document part", zipWith(t, "word/other.xml", []byte("<a/>"), 4), KindCorrupt},
		{"truncated", good[:len(good)-30], KindTruncated},
		{"not a zip", []byte("hello"), KindCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DOCXText(tc.data); KindOf(err) != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestPreviewSniffsContent(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	png := pngBytes(t, 40, 20)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...)
	dicom := append(make([]byte, 128), []byte("DICM\x02\x00")...)
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 40)...)
	cases := []struct {
		name, file, ct string
		data           []byte
		kind           PreviewKind
		typ            FileType
		mismatch       bool
	}{
		{"pdf", "letter.pdf", "application/pdf", criPDF(), PreviewPDF, TypePDF, false},
		{"pdf named png", "scan.png", "image/png", criPDF(), PreviewPDF, TypePDF, true},
		{"png named pdf", "letter.pdf", "application/pdf", png, PreviewImage, TypePNG, true},
		{"plain text", "notes.txt", "text/plain", []byte("Reason for referral: cough"), PreviewText, TypeText, false},
		{"text named pdf", "notes.pdf", "", []byte("Reason for referral: cough"), PreviewText, TypeText, false},
		{"html", "letter.html", "text/html", []byte("<html><body><p>Reason for referral</p></body></html>"), PreviewText, TypeHTML, false},
		{"xml", "data.xml", "application/xml", []byte(`<?xml version="1.0"?><a><b>Reason for referral</b></a>`), PreviewText, TypeXML, false},
		{"rtf", "letter.rtf", "application/rtf", []byte(`{\rtf1\ansi Reason for referral\par}`), PreviewText, TypeRTF, false},
		{"docx", "letter.docx", "", docx(t, `<w:p><w:r><w:t>Reason for referral</w:t></w:r></w:p>`), PreviewText, TypeDOCX, false},
		{"legacy doc", "letter.doc", "application/msword", ole, PreviewMetadata, TypeDOC, false},
		{"dicom", "ct.dcm", "application/dicom", dicom, PreviewMetadata, TypeDICOM, false},
		{"audio", "voice.wav", "audio/wav", wav, PreviewMetadata, TypeAudio, false},
		{"video", "clip.mp4", "video/mp4", mp4, PreviewMetadata, TypeVideo, false},
		{"unknown binary", "data.bin", "application/octet-stream", randomBytes(300, 9), PreviewMetadata, TypeUnknown, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Preview(ctx, tc.file, tc.ct, tc.data, 0)
			if err != nil {
				t.Fatalf("preview: %v", err)
			}
			defer p.Close()
			if p.Kind != tc.kind || p.Type != tc.typ || p.Mismatch != tc.mismatch || p.Size != int64(len(tc.data)) {
				t.Fatalf("preview kind=%s type=%s mismatch=%v size=%d", p.Kind, p.Type, p.Mismatch, p.Size)
			}
			switch p.Kind {
			case PreviewText:
				if !strings.Contains(p.Text.Text, "Reason for referral") {
					t.Errorf("text %q", p.Text.Text)
				}
			case PreviewImage:
				if p.Image == nil || p.Image.Bounds().Dx() != 40 {
					t.Errorf("image %v", p.Image)
				}
			case PreviewPDF:
				if p.PDF == nil || p.PDF.PageCount() != 3 {
					t.Errorf("pdf %v", p.PDF)
				}
			case PreviewMetadata:
				if p.Note == "" || p.Type.Label() == "" {
					t.Errorf("metadata preview without a note")
				}
			}
		})
	}
	for _, tc := range []struct {
		name, file, ct string
		data           []byte
		want           Kind
	}{
		{"empty", "a.pdf", "application/pdf", nil, KindEmpty},
		{"random declared pdf", "a.pdf", "application/pdf", randomBytes(500, 10), KindCorrupt},
		{"random declared jpeg", "a.jpg", "", randomBytes(500, 11), KindCorrupt},
		{"huge png", "a.png", "image/png", pngHeaderOnly(20000, 20000), KindTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Preview(ctx, tc.file, tc.ct, tc.data, 0)
			if err == nil {
				p.Close()
			}
			if KindOf(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestDetectTypeOfficeCompoundFiles(t *testing.T) {
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...)
	for _, tc := range []struct {
		name, ct string
		want     FileType
	}{
		{"letter.doc", "", TypeDOC},
		{"letter", "application/msword", TypeDOC},
		{"noname", "", TypeDOC},
		{"message.msg", "application/vnd.ms-outlook", TypeUnknown},
		{"results.xls", "", TypeUnknown},
	} {
		if got, _ := DetectType(tc.name, tc.ct, ole); got != tc.want {
			t.Errorf("DetectType(%q, %q) = %s, want %s", tc.name, tc.ct, got, tc.want)
		}
	}
}
