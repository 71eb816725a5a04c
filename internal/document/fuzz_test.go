package document

import (
	"context"
	"errors"
	"testing"
)

// requireTyped fails unless err is nil, a *Error or a context error.
func requireTyped(t *testing.T, err error) {
	t.Helper()
	var de *Error
	if err != nil && !errors.As(err, &de) && !errors.Is(err, context.Canceled) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	if de != nil && (de.Kind == "" || de.Reason == "") {
		t.Fatalf("error without kind or reason: %#v", de)
	}
}

func FuzzOpenPDF(f *testing.F) {
	cri := criPDF()
	for _, seed := range [][]byte{
		cri, cri[:len(cri)/2], cri[:len(cri)-7], busyPDF(),
		textPDF([][]string{{"one"}}, 100000), textPDF([][]string{{"a"}, {"b"}}, 0),
		encryptedPDF(f, cri, "pw"), encryptedPDF(f, cri, ""),
		[]byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"),
		nil, []byte("%PDF-"), randomBytes(512, 7),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := testEngine(t)
		ctx := context.Background()
		p, err := e.Open(ctx, data)
		requireTyped(t, err)
		if err != nil {
			return
		}
		defer p.Close()
		if p.PageCount() <= 0 {
			t.Fatalf("opened with %d pages", p.PageCount())
		}
		img, err := p.Render(ctx, 0, 24)
		requireTyped(t, err)
		if err == nil && (img == nil || img.Bounds().Empty()) {
			t.Fatal("render returned no image and no error")
		}
		_, err = p.Text(ctx, 0)
		requireTyped(t, err)
	})
}

func FuzzDecodeImage(f *testing.F) {
	pattern := testPattern(24, 12)
	for _, format := range []string{"png", "jpeg", "gif", "tiff", "bmp"} {
		data := encodeAs(f, format, pattern)
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	jpg := encodeAs(f, "jpeg", pattern)
	f.Add(withEXIFOrientation(jpg, 6, false))
	f.Add(withEXIFOrientation(jpg, 8, true))
	f.Add(pngHeaderOnly(20000, 20000))
	f.Add(pngHeaderOnly(1, 1))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := DecodeImage(data, 64)
		requireTyped(t, err)
		if err != nil {
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx() > 64 || b.Dy() > 64 || info.Width <= 0 || info.Height <= 0 {
			t.Fatalf("bounds %v info %+v", b, info)
		}
		_ = exifOrientation(data)
	})
}

func FuzzTextPreviews(f *testing.F) {
	for _, s := range []string{
		`{\rtf1\ansi\ansicpg1251 \'e0\u1078?\par{\*\x y}}`, `{\rtf1 {\fonttbl{\f0 A;}}\uc2\u8212\'97\'97x}`,
		`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a b="1">&e;<c/></a>`,
		`<html><script>x</script><p>t<li>u<pre> v </pre>`, "plain\r\ntext\x00",
	} {
		f.Add([]byte(s))
	}
	f.Add(docx(f, `<w:p><w:r><w:t>x</w:t><w:tab/></w:r></w:p>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fn := range []func([]byte) (TextResult, error){
			RTFText, DOCXText,
			func(b []byte) (TextResult, error) { return XMLText(b, "") },
			func(b []byte) (TextResult, error) { return HTMLText(b, "") },
			func(b []byte) (TextResult, error) { return PlainText(b, "") },
		} {
			res, err := fn(data)
			requireTyped(t, err)
			if len(res.Text) > MaxTextOutput {
				t.Fatalf("text of %d bytes exceeds the limit", len(res.Text))
			}
		}
	})
}
