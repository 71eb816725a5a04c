package document

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var disablePdfcpuConfig sync.Once

// pdfcpuConf returns a fresh pdfcpu configuration in relaxed validation mode.
// The first call stops pdfcpu from creating a configuration folder under the
// user's config directory.
func pdfcpuConf() *model.Configuration {
	disablePdfcpuConfig.Do(api.DisableConfigDir)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return conf
}

// PDFInfo is what validation learned about a PDF.
type PDFInfo struct {
	Pages     int  // page count from the page tree
	Encrypted bool // encrypted with an empty user password (opens without one)
	Version   string
}

// ValidatePDF checks data with pdfcpu before anything renders it. It returns
// an *Error of kind KindEmpty, KindTruncated, KindEncrypted (a password is
// needed), KindTooLarge (more than maxPages pages; 0 means DefaultMaxPages)
// or KindCorrupt (anything else unreadable, including input that is not a
// PDF at all). It never panics.
func ValidatePDF(data []byte, maxPages int) (info PDFInfo, err error) {
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return info, newError(KindEmpty, nil, "the file is empty")
	}
	head := data[:min(len(data), 1024)]
	if !bytes.Contains(head, []byte("%PDF-")) {
		return info, newError(KindCorrupt, nil, "the file is not a PDF")
	}
	defer func() {
		if r := recover(); r != nil {
			info, err = PDFInfo{}, newError(KindCorrupt, fmt.Errorf("pdfcpu panic: %v", r), "the PDF is damaged")
		}
	}()
	ctx, rerr := api.ReadContext(bytes.NewReader(data), pdfcpuConf())
	if rerr != nil {
		return info, classifyPDFError(data, rerr)
	}
	if ctx.XRefTable == nil {
		return info, newError(KindCorrupt, nil, "the PDF is damaged")
	}
	if verr := api.ValidateContext(ctx); verr != nil {
		// A page tree claiming far more pages than it holds is refused as
		// too large, saying what it claims.
		if ctx.PageCount > maxPages {
			return info, newError(KindTooLarge, verr, "the PDF says it has %d pages, more than the %d Triage Desk will open", ctx.PageCount, maxPages)
		}
		return info, classifyPDFError(data, verr)
	}
	info.Pages = ctx.PageCount
	info.Encrypted = ctx.Encrypt != nil
	if v := ctx.HeaderVersion; v != nil {
		info.Version = v.String()
	}
	switch {
	case info.Pages <= 0:
		return info, newError(KindCorrupt, nil, "the PDF has no pages")
	case info.Pages > maxPages:
		return info, newError(KindTooLarge, nil, "the PDF says it has %d pages, more than the %d Triage Desk will open", info.Pages, maxPages)
	}
	return info, nil
}

// classifyPDFError turns a pdfcpu read or validation failure into an *Error.
func classifyPDFError(data []byte, err error) *Error {
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return newError(KindEncrypted, err, "the PDF is protected by a password")
	case errors.Is(err, pdfcpu.ErrUnsupportedEncryptionFeature):
		return newError(KindEncrypted, err, "the PDF is encrypted in a way Triage Desk cannot open")
	case isTruncated(data):
		return newError(KindTruncated, err, "the file is incomplete (it may not have finished downloading)")
	}
	return newError(KindCorrupt, err, "the PDF is damaged or uses features Triage Desk cannot read")
}

// isTruncated reports a PDF whose end-of-file marker is missing from its
// last kilobyte: the usual sign of a download or copy cut short.
func isTruncated(data []byte) bool {
	tail := data[max(0, len(data)-1024):]
	return !bytes.Contains(tail, []byte("%%EOF"))
}
