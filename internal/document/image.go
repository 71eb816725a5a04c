package document

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// Image limits.
const (
	DefaultMaxImagePixels = 100_000_000 // larger images are refused as decompression bombs
	DefaultMaxImageBytes  = 256 << 20   // decoded pixel memory an image may need (keeps a preview well under 600 MB)
	DefaultDisplayMax     = 2400        // longest side of a display image
)

// ImageInfo describes a decoded image.
type ImageInfo struct {
	Format        string // "png", "jpeg", "gif", "tiff" or "bmp"
	Width, Height int    // the original size, upright (after EXIF orientation)
	Orientation   int    // EXIF orientation applied, 1 (none) to 8
	Scaled        bool   // the display image is smaller than the original
}

// DecodeImage decodes a PNG, JPEG, GIF (first frame), TIFF or BMP image for
// display. It checks the declared dimensions with image.DecodeConfig before
// decoding anything, refusing images over DefaultMaxImagePixels or whose
// pixels would need more than DefaultMaxImageBytes (KindTooLarge), turns
// JPEG and TIFF images upright by their EXIF orientation, and scales the
// result so its longest side is at most maxSide (0 means DefaultDisplayMax).
// Errors are *Error values: KindEmpty, KindUnsupported (not an image type
// it knows), KindTooLarge, KindTruncated or KindCorrupt. It never panics.
func DecodeImage(data []byte, maxSide int) (img image.Image, info ImageInfo, err error) {
	if maxSide <= 0 {
		maxSide = DefaultDisplayMax
	}
	if len(data) == 0 {
		return nil, info, newError(KindEmpty, nil, "the file is empty")
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, newError(KindCorrupt, fmt.Errorf("image decoder panic: %v", r), "the image is damaged")
		}
	}()
	decode, decodeConfig, format := imageCodec(data)
	if decode == nil {
		return nil, info, newError(KindUnsupported, nil, "the file is not an image type Triage Desk can show")
	}
	info.Format = format
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, info, imageError(err, false)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, info, newError(KindCorrupt, nil, "the image says it has no pixels")
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > DefaultMaxImagePixels || pixels*bytesPerPixel(cfg.ColorModel) > DefaultMaxImageBytes {
		return nil, info, newError(KindTooLarge, nil, "the image is %d × %d pixels, too large to open safely", cfg.Width, cfg.Height)
	}
	src, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, info, imageError(err, imageTruncated(format, data))
	}
	// A GIF's first frame may be smaller than its screen; nothing may be
	// larger than the header said.
	sb := src.Bounds()
	if sb.Empty() || sb.Dx() > cfg.Width || sb.Dy() > cfg.Height {
		return nil, info, newError(KindCorrupt, nil, "the image's size does not match its header")
	}
	info.Orientation = 1
	if format == "jpeg" || format == "tiff" {
		info.Orientation = exifOrientation(data)
	}
	w, h := sb.Dx(), sb.Dy()
	if info.Orientation >= 5 { // rotated a quarter turn: sides swap
		w, h = h, w
	}
	info.Width, info.Height = w, h
	// Scale in the stored orientation, then turn upright.
	sw, sh := sb.Dx(), sb.Dy()
	if longest := max(w, h); longest > maxSide {
		f := float64(maxSide) / float64(longest)
		sw, sh = max(1, int(float64(sw)*f+0.5)), max(1, int(float64(sh)*f+0.5))
		info.Scaled = true
	}
	dst := image.NewRGBA(image.Rect(0, 0, sw, sh))
	op := draw.Src
	if o, ok := src.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		// A white background under transparent images, as a viewer shows them.
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		op = draw.Over
	}
	if info.Scaled {
		// ApproxBiLinear is several times faster than BiLinear on large
		// photos and indistinguishable at display size.
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), op, nil)
	} else {
		draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, op)
	}
	return orient(dst, info.Orientation), info, nil
}

type decodeFunc func(io.Reader) (image.Image, error)
type configFunc func(io.Reader) (image.Config, error)

// imageCodec picks the decoder from the content's signature, never from the
// file name.
func imageCodec(data []byte) (decodeFunc, configFunc, string) {
	switch sniffContent(data) {
	case TypePNG:
		return png.Decode, png.DecodeConfig, "png"
	case TypeJPEG:
		return jpeg.Decode, jpeg.DecodeConfig, "jpeg"
	case TypeGIF:
		return gif.Decode, gif.DecodeConfig, "gif"
	case TypeTIFF:
		return tiff.Decode, tiff.DecodeConfig, "tiff"
	case TypeBMP:
		return bmp.Decode, bmp.DecodeConfig, "bmp"
	}
	return nil, nil, ""
}

// imageError classifies a decoder error; cutShort says the file's end
// marker is missing (checked only once the header has been read).
func imageError(err error, cutShort bool) *Error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || cutShort {
		return newError(KindTruncated, err, "the image is incomplete (it may not have finished downloading)")
	}
	switch err.(type) {
	case png.UnsupportedError, jpeg.UnsupportedError, tiff.UnsupportedError:
		return newError(KindUnsupported, err, "the image uses a format feature Triage Desk cannot show")
	}
	return newError(KindCorrupt, err, "the image is damaged")
}

// imageTruncated reports an image whose end marker is missing.
func imageTruncated(format string, data []byte) bool {
	tail := bytes.TrimRight(data[max(0, len(data)-64):], "\x00\r\n ")
	switch format {
	case "png":
		return !bytes.Contains(tail, []byte("IEND"))
	case "jpeg":
		return !bytes.HasSuffix(tail, []byte{0xFF, 0xD9})
	case "gif":
		return !bytes.HasSuffix(tail, []byte{0x3B})
	}
	return false
}

// bytesPerPixel estimates the decoded memory per pixel for a colour model.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.YCbCrModel:
		return 3
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// orient turns img upright for an EXIF orientation (1-8).
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // stored rotated 90 anticlockwise: turn clockwise
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // stored rotated 90 clockwise: turn anticlockwise
				dx, dy = y, w-1-x
			}
			si := y*img.Stride + 4*x
			di := dy*out.Stride + 4*dx
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}
