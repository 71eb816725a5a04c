package testutil

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
)

// Decompression bombs for tests of bounded rendering, generated in
// milliseconds so no such file is ever committed.

// ContentBombPDF returns a one-page PDF of about n/1000 bytes whose page
// content stream inflates to n bytes (rounded up to whole MiB).
func ContentBombPDF(n int64) []byte {
	z := zerosZlib(n)
	return onePagePDF("", fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(z), z), "")
}

// ImageBombPDF returns a one-page PDF that draws a side × side 8-bit grey
// image: side² bytes of pixels, compressed about a thousandfold.
func ImageBombPDF(side int64) []byte {
	z := zerosZlib(side * side)
	cs := "q 595 0 0 842 0 0 cm /Im1 Do Q"
	img := fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream",
		side, side, len(z), z)
	return onePagePDF("/Resources << /XObject << /Im1 5 0 R >> >>", fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cs), cs), img)
}

// onePagePDF writes an A4 page with the given resources and content
// stream object, and an optional fifth object, with a correct
// cross-reference table.
func onePagePDF(resources, content, extra string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + resources + " /Contents 4 0 R >>",
		content,
	}
	if extra != "" {
		objs = append(objs, extra)
	}
	return PDF(objs...)
}

// zerosZlib returns a zlib stream that inflates to n zero bytes (rounded up
// to whole MiB): one compressed MiB ended by a sync flush (so it is
// byte-aligned and refers to nothing before it), repeated.
func zerosZlib(n int64) []byte {
	const chunk = 1 << 20
	blocks := (n + chunk - 1) / chunk
	var blk bytes.Buffer
	fw, _ := flate.NewWriter(&blk, flate.BestCompression)
	_, _ = fw.Write(make([]byte, chunk))
	_ = fw.Flush()
	var out bytes.Buffer
	out.Grow(int(blocks)*blk.Len() + 8)
	out.Write([]byte{0x78, 0xda})
	for range blocks {
		out.Write(blk.Bytes())
	}
	out.Write([]byte{0x03, 0x00}) // a final, empty fixed-Huffman block
	// Adler-32 of zeros: a stays 1, b is the length mod 65521.
	_ = binary.Write(&out, binary.BigEndian, uint32((blocks*chunk)%65521)<<16|1)
	return out.Bytes()
}
