package document

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// testPattern is an image with distinct quadrant colours, so orientation
// and scaling can be checked.
func testPattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{A: 255}
			switch {
			case x < w/2 && y < h/2:
				c.R = 255 // top-left red
			case x >= w/2 && y < h/2:
				c.G = 255 // top-right green
			case x < w/2:
				c.B = 255 // bottom-left blue
			default:
				c.R, c.G = 255, 255 // bottom-right yellow
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testPattern(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeAs(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "tiff":
		err = tiff.Encode(&b, img, &tiff.Options{Compression: tiff.Deflate})
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return b.Bytes()
}

// withEXIFOrientation inserts an APP1 Exif segment with the orientation tag
// right after a JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, o uint16, bigEndian bool) []byte {
	var t []byte
	if bigEndian {
		t = []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, 0, 0, 0, 0, 0, 0}
	} else {
		t = []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(o), 0, 0, 0, 0, 0, 0, 0, 0, 0}
	}
	seg := append([]byte("Exif\x00\x00"), t...)
	app1 := []byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeaderOnly is a PNG whose header claims w×h pixels, with no image data.
func pngHeaderOnly(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
		return b.Bytes()
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// colourAt names the dominant colour of a pixel.
func colourAt(img image.Image, x, y int) string {
	r, g, b, _ := img.At(x, y).RGBA()
	r, g, b = r>>8, g>>8, b>>8
	switch {
	case r > 180 && g > 180 && b < 90:
		return "yellow"
	case r > 180 && g < 90 && b < 90:
		return "red"
	case g > 180 && r < 90 && b < 90:
		return "green"
	case b > 180 && r < 90 && g < 90:
		return "blue"
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}

// corners lists the colours at the four corners: top-left, top-right,
// bottom-left, bottom-right.
func corners(img image.Image) [4]string {
	b := img.Bounds()
	in := 3
	return [4]string{
		colourAt(img, b.Min.X+in, b.Min.Y+in), colourAt(img, b.Max.X-1-in, b.Min.Y+in),
		colourAt(img, b.Min.X+in, b.Max.Y-1-in), colourAt(img, b.Max.X-1-in, b.Max.Y-1-in),
	}
}

func TestEachImageTypeDecodesAndScales(t *testing.T) {
	src := testPattern(640, 320)
	upright := [4]string{"red", "green", "blue", "yellow"}
	for _, format := range []string{"png", "jpeg", "gif", "tiff", "bmp"} {
		t.Run(format, func(t *testing.T) {
			data := encodeAs(t, format, src)
			img, info, err := DecodeImage(data, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if info.Format != format || info.Width != 640 || info.Height != 320 || info.Scaled {
				t.Errorf("info = %+v", info)
			}
			if got := corners(img); got != upright {
				t.Errorf("corners = %v, want %v", got, upright)
			}
			small, info, err := DecodeImage(data, 200)
			if err != nil {
				t.Fatalf("decode scaled: %v", err)
			}
			if b := small.Bounds(); b.Dx() != 200 || b.Dy() != 100 || !info.Scaled {
				t.Errorf("scaled to %v (scaled=%v), want 200x100", b, info.Scaled)
			}
			if got := corners(small); got != upright {
				t.Errorf("scaled corners = %v, want %v", got, upright)
			}
		})
	}
}

func TestJPEGEXIFOrientationIsApplied(t *testing.T) {
	plain := encodeAs(t, "jpeg", testPattern(400, 200))
	cases := []struct {
		o    uint16
		w, h int
		want [4]string // TL, TR, BL, BR as displayed
	}{
		{1, 400, 200, [4]string{"red", "green", "blue", "yellow"}},
		{2, 400, 200, [4]string{"green", "red", "yellow", "blue"}},
		{3, 400, 200, [4]string{"yellow", "blue", "green", "red"}},
		{4, 400, 200, [4]string{"blue", "yellow", "red", "green"}},
		{5, 200, 400, [4]string{"red", "blue", "green", "yellow"}},
		{6, 200, 400, [4]string{"blue", "red", "yellow", "green"}},
		{7, 200, 400, [4]string{"yellow", "green", "blue", "red"}},
		{8, 200, 400, [4]string{"green", "yellow", "red", "blue"}},
	}
	for _, tc := range cases {
		for _, be := range []bool{false, true} {
			img, info, err := DecodeImage(withEXIFOrientation(plain, tc.o, be), 0)
			if err != nil {
				t.Fatalf("orientation %d: %v", tc.o, err)
			}
			b := img.Bounds()
			if info.Orientation != int(tc.o) || b.Dx() != tc.w || b.Dy() != tc.h || info.Width != tc.w {
				t.Errorf("orientation %d (big-endian %v): info %+v bounds %v", tc.o, be, info, b)
			}
			if got := corners(img); got != tc.want {
				t.Errorf("orientation %d (big-endian %v): corners %v, want %v", tc.o, be, got, tc.want)
			}
		}
	}
}

func TestBadImagesGiveTypedErrors(t *testing.T) {
	good := encodeAs(t, "png", testPattern(64, 64))
	jpg := encodeAs(t, "jpeg", testPattern(64, 64))
	cases := []struct {
		name string
		data []byte
		want Kind
	}{
		{"empty", nil, KindEmpty},
		{"20000x20000 png", pngHeaderOnly(20000, 20000), KindTooLarge},
		{"65535x65535 png", pngHeaderOnly(65535, 65535), KindTooLarge},
		{"zero width png", pngHeaderOnly(0, 10), KindCorrupt},
		{"truncated png", good[:len(good)/2], KindTruncated},
		{"truncated jpeg", jpg[:len(jpg)/2], KindTruncated},
		{"png signature then noise", append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(4096, 3)...), KindCorrupt},
		{"random bytes", randomBytes(4096, 4), KindUnsupported},
		{"pdf", criPDF(), KindUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, _, err := DecodeImage(tc.data, 0)
			if err == nil || img != nil {
				t.Fatalf("decoded (%v); want a %s error", img != nil, tc.want)
			}
			if k := KindOf(err); k != tc.want {
				t.Fatalf("kind %q (%v), want %s", k, err, tc.want)
			}
		})
	}
}

func TestEXIFParserIgnoresMalformedMetadata(t *testing.T) {
	plain := encodeAs(t, "jpeg", testPattern(32, 32))
	bad := [][]byte{
		withEXIFOrientation(plain, 9, false), // out of range
		withEXIFOrientation(plain, 0, true),
		append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}, plain[2:]...),             // segment length too small
		append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'}, plain[2:10]...), // segment past the end
		[]byte("II*\x00\xff\xff\xff\xff"),                                            // IFD offset past the end
	}
	for i, b := range bad {
		if o := exifOrientation(b); o != 1 {
			t.Errorf("case %d: orientation %d, want 1", i, o)
		}
	}
}

func TestTransparentImagesShowOnWhite(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // transparent but for one red pixel
	nrgba.SetNRGBA(5, 5, color.NRGBA{R: 255, A: 255})
	pal := image.NewPaletted(image.Rect(0, 0, 40, 40), color.Palette{color.NRGBA{}, color.NRGBA{R: 255, A: 255}})
	pal.SetColorIndex(5, 5, 1)
	for format, src := range map[string]image.Image{"png": nrgba, "gif": pal} {
		for _, side := range []int{0, 20} {
			img, _, err := DecodeImage(encodeAs(t, format, src), side)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if r, g, bl, a := img.At(b.Dx()*3/4, b.Dy()*3/4).RGBA(); r>>8 != 255 || g>>8 != 255 || bl>>8 != 255 || a>>8 != 255 {
				t.Errorf("%s (max side %d): transparent area shows as %d,%d,%d,%d, want white", format, side, r>>8, g>>8, bl>>8, a>>8)
			}
		}
	}
}

func TestGIFWithSmallFirstFrame(t *testing.T) {
	frame := image.NewPaletted(image.Rect(10, 10, 30, 20), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{Width: 64, Height: 48, ColorModel: frame.Palette}})
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := DecodeImage(b.Bytes(), 0)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if img.Bounds().Dx() != 20 || img.Bounds().Dy() != 10 || info.Width != 20 {
		t.Errorf("bounds %v info %+v", img.Bounds(), info)
	}
}
