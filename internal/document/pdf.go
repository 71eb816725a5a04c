package document

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
)

// PDF is an open PDF document on one PDFium instance. Its methods are safe
// for concurrent use; calls are served one at a time by the instance, and a
// caller whose context ends stops waiting at once. Close it when the
// clinician leaves the document.
type PDF struct {
	e     *Engine
	w     *worker
	id    uint64
	gen   int // the worker generation doc belongs to (guarded by the slot)
	doc   references.FPDF_DOCUMENT
	sizes []Size
	info  PDFInfo
	// data is kept alive while PDFium may read from it.
	data []byte

	mu     sync.Mutex
	closed bool
}

// Size is a page size in PDF points (1/72 inch), after the page's rotation.
type Size struct {
	Width, Height float64
}

// Pixels is the size in pixels when drawn at dpi.
func (s Size) Pixels(dpi float64) (w, h int) {
	return max(1, int(math.Round(s.Width*dpi/72))), max(1, int(math.Round(s.Height*dpi/72)))
}

// Rect is a rectangle on a page in points, measured from the page's top-left
// corner (X to the right, Y down), ready to scale by dpi/72 onto a rendered
// image.
type Rect struct {
	X0, Y0, X1, Y1 float64
}

// Hit is one match of a search: its page (0-based) and the rectangles
// covering the matched text (one per line it spans).
type Hit struct {
	Page  int
	Rects []Rect
}

// Open validates data with pdfcpu and opens it on a PDFium instance,
// waiting for the engine to be ready. The engine keeps a reference to data
// until Close: do not modify it. Errors: an *Error (KindEmpty,
// KindTruncated, KindCorrupt, KindEncrypted, KindTooLarge, KindUnavailable)
// or ctx's error.
func (e *Engine) Open(ctx context.Context, data []byte) (*PDF, error) {
	if int64(len(data)) > e.opts.MaxFileBytes {
		return nil, newError(KindTooLarge, nil, "the file is %s, larger than the %s Triage Desk will open", byteSize(int64(len(data))), byteSize(e.opts.MaxFileBytes))
	}
	info, err := ValidatePDF(data, e.opts.MaxPages)
	if err != nil {
		return nil, err
	}
	if err := e.Wait(ctx); err != nil {
		return nil, err
	}
	w, err := e.pickWorker()
	if err != nil {
		return nil, err
	}
	if err := w.acquire(ctx); err != nil {
		e.unpick(w)
		return nil, err
	}
	defer w.release()
	if err := e.ensureInstance(w); err != nil {
		e.unpick(w)
		return nil, err
	}
	p := &PDF{e: e, w: w, id: e.nextID.Add(1), info: info, data: data, gen: w.gen}
	err, limited := e.guarded(w, p.open)
	if err != nil {
		e.unpick(w)
		if !limited && isInstanceFailure(err) {
			// The file broke the instance: a fresh one for the next caller.
			e.retire(w, err)
		}
		return nil, err
	}
	return p, nil
}

// open runs with the worker's slot held.
func (p *PDF) open() (err error) {
	inst := p.w.inst
	res, err := inst.OpenDocument(&requests.OpenDocument{File: &p.data})
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "password") {
			return newError(KindEncrypted, err, "the PDF is protected by a password")
		}
		return newError(KindCorrupt, err, "the PDF is damaged or uses features Triage Desk cannot read")
	}
	p.doc = res.Document
	defer func() {
		if err != nil {
			_, _ = inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: p.doc})
		}
	}()
	pc, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: p.doc})
	if err != nil {
		return newError(KindCorrupt, err, "the PDF's pages could not be counted")
	}
	switch n := pc.PageCount; {
	case n <= 0:
		return newError(KindCorrupt, nil, "the PDF has no pages")
	case n > p.e.opts.MaxPages:
		return newError(KindTooLarge, nil, "the PDF says it has %d pages, more than the %d Triage Desk will open", n, p.e.opts.MaxPages)
	}
	p.sizes = make([]Size, pc.PageCount)
	for i := range p.sizes {
		sz, err := inst.FPDF_GetPageSizeByIndexF(&requests.FPDF_GetPageSizeByIndexF{Document: p.doc, Index: i})
		if err != nil {
			return newError(KindCorrupt, err, "page %d of the PDF is damaged", i+1)
		}
		p.sizes[i] = Size{Width: float64(sz.Size.Width), Height: float64(sz.Size.Height)}
		if !(p.sizes[i].Width > 0 && p.sizes[i].Height > 0) || p.sizes[i].Width > maxPagePoints || p.sizes[i].Height > maxPagePoints {
			return newError(KindCorrupt, nil, "page %d of the PDF has an impossible size", i+1)
		}
	}
	return nil
}

// maxPagePoints bounds a page side: PDF allows 14,400 units, times a
// generous user-unit scale.
const maxPagePoints = 14400 * 10

// PageCount is the number of pages.
func (p *PDF) PageCount() int { return len(p.sizes) }

// Info is what validation learned about the file.
func (p *PDF) Info() PDFInfo { return p.info }

// PageSize returns page i's size (0-based). It fails with an *Error of kind
// KindUnsupported for a page out of range.
func (p *PDF) PageSize(i int) (Size, error) {
	if i < 0 || i >= len(p.sizes) {
		return Size{}, pageRangeError(i, len(p.sizes))
	}
	return p.sizes[i], nil
}

func pageRangeError(i, n int) *Error {
	return newError(KindUnsupported, nil, "there is no page %d (the document has %d)", i+1, n)
}

// do runs f on the document's instance with its slot held, after checking
// the document and engine are open.
func (p *PDF) do(ctx context.Context, f func() error) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return &Error{Kind: KindClosed, Reason: "the document was closed"}
	}
	if err := p.e.Wait(ctx); err != nil {
		if KindOf(err) == KindUnavailable {
			return &Error{Kind: KindClosed, Reason: "the PDF viewer has been shut down", Err: err}
		}
		return err
	}
	if err := p.w.acquire(ctx); err != nil {
		return err
	}
	defer p.w.release()
	// If the instance fails (a WebAssembly trap, say), replace it, reopen
	// the document and try once more. A call stopped at the deadline or the
	// memory cap is not tried again: the document itself is the problem.
	for attempt := 0; ; attempt++ {
		if err := p.e.ensureInstance(p.w); err != nil {
			return err
		}
		if p.gen != p.w.gen {
			if err, _ := p.e.guarded(p.w, p.reopen); err != nil {
				return err
			}
		}
		err, limited := p.e.guarded(p.w, f)
		if limited || !isInstanceFailure(err) || attempt == 1 {
			return err
		}
		p.e.retire(p.w, err)
	}
}

// reopen opens the document again on a replaced instance. Call with the
// slot held.
func (p *PDF) reopen() error {
	res, err := p.w.inst.OpenDocument(&requests.OpenDocument{File: &p.data})
	if err != nil {
		return newError(KindRender, err, "the document could not be reopened after a problem in the PDF viewer")
	}
	p.doc, p.gen = res.Document, p.w.gen
	return nil
}

// Render draws page i (0-based) at dpi and returns an opaque RGBA image. A
// page that would exceed MaxRenderPixels is drawn at a lower DPI to fit.
// Results are cached (shared by all callers: do not modify the image). If
// ctx ends while waiting or drawing, Render returns ctx's error promptly and
// the partial drawing is discarded. Other failures are an *Error
// (KindRender, KindClosed, KindUnsupported for a bad page number); Render
// never returns a nil or blank image in place of an error.
func (p *PDF) Render(ctx context.Context, i int, dpi float64) (*image.RGBA, error) {
	if i < 0 || i >= len(p.sizes) {
		return nil, pageRangeError(i, len(p.sizes))
	}
	if !(dpi >= 1 && dpi <= 2400) {
		return nil, newError(KindUnsupported, nil, "%g DPI is outside the 1-2400 range", dpi)
	}
	key := pageKey{doc: p.id, page: i, dpi: dpi}
	if img := p.e.cache.get(key); img != nil {
		return img, nil
	}
	w, h := p.sizes[i].Pixels(dpi)
	if limit := p.e.opts.MaxRenderPixels; w*h > limit {
		scale := math.Sqrt(float64(limit) / float64(w*h))
		w, h = max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale))
	}
	var img *image.RGBA
	err := p.do(ctx, func() error {
		var err error
		img, err = p.renderLocked(ctx, i, w, h)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.e.cache.put(key, img)
	return img, nil
}

// renderLocked draws with PDFium's progressive renderer, which asks between
// steps whether to pause: it pauses when ctx has ended, and the drawing is
// then abandoned.
func (p *PDF) renderLocked(ctx context.Context, index, w, h int) (img *image.RGBA, err error) {
	inst := p.w.inst
	fail := func(cause error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return newError(KindRender, cause, "page %d could not be drawn", index+1)
	}
	pg, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: p.doc, Index: index})
	if err != nil {
		return nil, fail(err)
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: pg.Page})
	page := requests.Page{ByReference: &pg.Page}

	bitmap, err := p.w.pageBitmap(w, h)
	if err != nil {
		return nil, fail(err)
	}
	defer p.w.doneBitmap()
	buf, err := inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bitmap})
	if err != nil {
		return nil, fail(err)
	}
	stride, err := inst.FPDFBitmap_GetStride(&requests.FPDFBitmap_GetStride{Bitmap: bitmap})
	if err != nil {
		return nil, fail(err)
	}
	if stride.Stride < 4*w || len(buf.Buffer) < stride.Stride*(h-1)+4*w {
		return nil, fail(errors.New("bitmap buffer smaller than the page"))
	}
	// White paper. The buffer is a view of WebAssembly memory, so filling
	// it from Go runs at native speed.
	fillFF(buf.Buffer)
	pause := func() bool { return ctx.Err() != nil }
	st, err := inst.FPDF_RenderPageBitmap_Start(&requests.FPDF_RenderPageBitmap_Start{
		Bitmap: bitmap, Page: page, SizeX: w, SizeY: h,
		Flags:                  enums.FPDF_RENDER_FLAG_ANNOT | enums.FPDF_RENDER_FLAG_REVERSE_BYTE_ORDER,
		NeedToPauseNowCallback: pause,
	})
	if err != nil {
		return nil, fail(err)
	}
	defer inst.FPDF_RenderPage_Close(&requests.FPDF_RenderPage_Close{Page: page})
	status := st.RenderStatus
	for status == enums.FPDF_RENDER_STATUS_TOBECONTINUED {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := inst.FPDF_RenderPage_Continue(&requests.FPDF_RenderPage_Continue{Page: page, NeedToPauseNowCallback: pause})
		if err != nil {
			return nil, fail(err)
		}
		status = c.RenderStatus
	}
	if status != enums.FPDF_RENDER_STATUS_DONE {
		return nil, fail(fmt.Errorf("render status %d", status))
	}
	// Drawing may have grown WebAssembly memory, which moves it: fetch the
	// view again, then copy the pixels out before the bitmap is reused.
	if buf, err = inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bitmap}); err != nil {
		return nil, fail(err)
	}
	if len(buf.Buffer) < stride.Stride*(h-1)+4*w {
		return nil, fail(errors.New("bitmap buffer smaller than the page"))
	}
	img = image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		copy(img.Pix[y*img.Stride:y*img.Stride+4*w], buf.Buffer[y*stride.Stride:])
	}
	return img, nil
}

// fillFF sets every byte of b to 0xFF (opaque white in RGBx).
func fillFF(b []byte) {
	if len(b) == 0 {
		return
	}
	b[0] = 0xFF
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// Text returns the text of page i (0-based) for "find in document" and
// copying. A page of scanned images has no text (""). Errors: an *Error
// (KindRender, KindClosed, KindUnsupported) or ctx's error.
func (p *PDF) Text(ctx context.Context, i int) (string, error) {
	if i < 0 || i >= len(p.sizes) {
		return "", pageRangeError(i, len(p.sizes))
	}
	var text string
	err := p.do(ctx, func() error {
		inst := p.w.inst
		pg, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: p.doc, Index: i})
		if err != nil {
			return newError(KindRender, err, "the text of page %d could not be read", i+1)
		}
		defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: pg.Page})
		text, err = pageText(inst, pg.Page)
		if err != nil {
			return newError(KindRender, err, "the text of page %d could not be read", i+1)
		}
		return nil
	})
	return text, err
}

// pageText reads a loaded page's text in one call into PDFium. (go-pdfium's
// GetPageText asks for it a character at a time, and each call into the
// WebAssembly module allocates a few kilobytes: a 50-page letter left
// nearly a gigabyte of garbage.) Characters PDFium reports as NUL are left
// out, as GetPageText leaves them out.
func pageText(inst pdfium.Pdfium, page references.FPDF_PAGE) (string, error) {
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: requests.Page{ByReference: &page}})
	if err != nil {
		return "", fmt.Errorf("load text page: %w", err)
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	n, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil {
		return "", fmt.Errorf("count characters: %w", err)
	}
	if n.Count <= 0 {
		return "", nil
	}
	res, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: 0, Count: n.Count})
	if err != nil {
		return "", fmt.Errorf("get text: %w", err)
	}
	return strings.ReplaceAll(res.Text, "\x00", ""), nil
}

// DocumentText opens a PDF, returns the text of every page (pages joined
// by a newline) and closes it: the text the identity cross-check reads.
// Errors: Open's and Text's.
func (e *Engine) DocumentText(ctx context.Context, data []byte) (string, error) {
	p, err := e.Open(ctx, data)
	if err != nil {
		return "", err
	}
	defer p.Close()
	var b strings.Builder
	for i := range p.PageCount() {
		t, err := p.Text(ctx, i)
		if err != nil {
			return "", err
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// Find searches every page for query (case-insensitive) and returns each
// match with the rectangles to highlight. It stops at maxHits matches (0
// means 1000). An empty query finds nothing. Errors: an *Error or ctx's
// error; the instance is released between pages so rendering is not held up.
func (p *PDF) Find(ctx context.Context, query string, maxHits int) ([]Hit, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if maxHits <= 0 {
		maxHits = 1000
	}
	var hits []Hit
	for i := range p.sizes {
		err := p.do(ctx, func() error {
			found, err := p.findOnPage(i, query, maxHits-len(hits))
			hits = append(hits, found...)
			return err
		})
		if err != nil {
			return hits, err
		}
		if len(hits) >= maxHits {
			break
		}
	}
	return hits, nil
}

func (p *PDF) findOnPage(i int, query string, limit int) ([]Hit, error) {
	inst := p.w.inst
	fail := func(err error) error {
		return newError(KindRender, err, "page %d could not be searched", i+1)
	}
	pg, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: p.doc, Index: i})
	if err != nil {
		return nil, fail(err)
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: pg.Page})
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: requests.Page{ByReference: &pg.Page}})
	if err != nil {
		return nil, fail(err)
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	sh, err := inst.FPDFText_FindStart(&requests.FPDFText_FindStart{TextPage: tp.TextPage, Find: query})
	if err != nil {
		return nil, fail(err)
	}
	defer inst.FPDFText_FindClose(&requests.FPDFText_FindClose{Search: sh.Search})
	height := p.sizes[i].Height
	var hits []Hit
	for len(hits) < limit {
		next, err := inst.FPDFText_FindNext(&requests.FPDFText_FindNext{Search: sh.Search})
		if err != nil {
			return hits, fail(err)
		}
		if !next.GotMatch {
			break
		}
		idx, err := inst.FPDFText_GetSchResultIndex(&requests.FPDFText_GetSchResultIndex{Search: sh.Search})
		if err != nil {
			return hits, fail(err)
		}
		cnt, err := inst.FPDFText_GetSchCount(&requests.FPDFText_GetSchCount{Search: sh.Search})
		if err != nil {
			return hits, fail(err)
		}
		nr, err := inst.FPDFText_CountRects(&requests.FPDFText_CountRects{TextPage: tp.TextPage, StartIndex: idx.Index, Count: cnt.Count})
		if err != nil {
			return hits, fail(err)
		}
		hit := Hit{Page: i}
		for r := range max(0, nr.Count) {
			rc, err := inst.FPDFText_GetRect(&requests.FPDFText_GetRect{TextPage: tp.TextPage, Index: r})
			if err != nil {
				return hits, fail(err)
			}
			hit.Rects = append(hit.Rects, Rect{X0: rc.Left, Y0: height - rc.Top, X1: rc.Right, Y1: height - rc.Bottom})
		}
		hits = append(hits, hit)
	}
	return hits, nil
}

// Close releases the document in PDFium and drops its cached pages. It is
// safe to call more than once and after the engine has closed.
func (p *PDF) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.e.cache.dropDoc(p.id)
	defer p.e.unpick(p.w)
	p.e.mu.Lock()
	engineClosed := p.e.closed
	p.e.mu.Unlock()
	if engineClosed {
		return nil // the pool closed every document
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultCloseTimeout)
	defer cancel()
	if err := p.w.acquire(ctx); err != nil {
		return fmt.Errorf("close pdf: %w", err)
	}
	defer p.w.release()
	if p.gen != p.w.gen {
		return nil // its instance was replaced and took the document with it
	}
	if _, err := p.w.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: p.doc}); err != nil {
		return fmt.Errorf("close pdf: %w", err)
	}
	p.data = nil
	return nil
}
