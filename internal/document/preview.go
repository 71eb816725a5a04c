package document

import (
	"context"
	"image"
	"log/slog"
)

// PreviewKind says how the UI should show a preview.
type PreviewKind string

// The preview kinds.
const (
	PreviewPDF      PreviewKind = "pdf"      // Preview.PDF pages
	PreviewImage    PreviewKind = "image"    // Preview.Image
	PreviewText     PreviewKind = "text"     // Preview.Text
	PreviewMetadata PreviewKind = "metadata" // type, size and name only: offer "Open with another program"
)

// OpenElsewhereNote is shown with a metadata-only preview.
const OpenElsewhereNote = "Triage Desk cannot show this type of file. Use \"Open with another program\" to view it."

// Preview is a kind-specific preview of one file.
type Preview struct {
	Kind PreviewKind
	Type FileType // what the content really is
	// Name and DeclaredType are as given; Mismatch reports that they named
	// a different type than the content shows (the UI may say so).
	Name         string
	DeclaredType string
	Mismatch     bool
	Size         int64

	PDF *PDF // PreviewPDF: the open document; Close the preview to release it

	Image     image.Image // PreviewImage: upright, scaled for display
	ImageInfo ImageInfo

	Text TextResult // PreviewText

	Note string // PreviewMetadata: what the clinician can do instead
}

// Close releases the preview's PDF, if any. It is safe on nil and twice.
func (p *Preview) Close() error {
	if p == nil || p.PDF == nil {
		return nil
	}
	return p.PDF.Close()
}

// Preview sniffs data (the declared contentType and the file name are hints
// only: a "letter.pdf" that is really a PNG previews as an image) and
// returns a preview of the right kind: PDFs are validated and opened on the
// engine, images decoded with limits and scaled to maxSide (0 means
// DefaultDisplayMax), text-like files reduced to plain text, and anything
// else described by metadata. A file whose declared type Triage Desk can
// show but whose content is unrecognisable is an *Error of kind
// KindCorrupt; every other failure is an *Error too (or ctx's error while
// waiting for the PDF engine). e may be nil when no PDF engine is running:
// PDFs then fail with KindUnavailable. The name is never logged.
func (e *Engine) Preview(ctx context.Context, name, contentType string, data []byte, maxSide int) (*Preview, error) {
	t, mismatch := DetectType(name, contentType, data)
	p := &Preview{Type: t, Name: name, DeclaredType: contentType, Mismatch: mismatch, Size: int64(len(data))}
	if len(data) == 0 {
		return nil, newError(KindEmpty, nil, "the file is empty")
	}
	logger := slog.Default()
	if e != nil {
		logger = e.opts.Logger
	}
	logger.Debug("preview", "type", t, "bytes", len(data), "mismatch", mismatch)
	var err error
	switch t {
	case TypePDF:
		if e == nil {
			return nil, &Error{Kind: KindUnavailable, Reason: "the PDF viewer is not running"}
		}
		p.Kind = PreviewPDF
		p.PDF, err = e.Open(ctx, data)
	case TypePNG, TypeJPEG, TypeGIF, TypeTIFF, TypeBMP:
		p.Kind = PreviewImage
		p.Image, p.ImageInfo, err = DecodeImage(data, maxSide)
	case TypeText:
		p.Kind = PreviewText
		p.Text, err = PlainText(data, contentType)
	case TypeHTML:
		p.Kind = PreviewText
		p.Text, err = HTMLText(data, contentType)
	case TypeXML:
		p.Kind = PreviewText
		p.Text, err = XMLText(data, contentType)
		if err != nil { // not well-formed: still show it as text
			p.Text, err = PlainText(data, contentType)
		}
	case TypeRTF:
		p.Kind = PreviewText
		p.Text, err = RTFText(data)
	case TypeDOCX:
		p.Kind = PreviewText
		p.Text, err = DOCXText(data)
	default:
		if mismatch && showable(declaredType(name, contentType)) {
			return nil, newError(KindCorrupt, nil, "the file is damaged or is not the %s it claims to be", declaredType(name, contentType).Label())
		}
		p.Kind = PreviewMetadata
		p.Note = OpenElsewhereNote
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// showable reports types Triage Desk displays itself.
func showable(t FileType) bool {
	switch t {
	case TypePDF, TypePNG, TypeJPEG, TypeGIF, TypeTIFF, TypeBMP, TypeText, TypeHTML, TypeRTF, TypeXML, TypeDOCX:
		return true
	}
	return false
}
