package document

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klippa-app/go-pdfium/requests"
)

func TestCRIRendersWithTextAndPixels(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	p, err := e.Open(ctx, criPDF())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	if got := p.PageCount(); got != 3 {
		t.Fatalf("page count = %d, want 3", got)
	}
	sz, _ := p.PageSize(0)
	if sz.Width != 595 || sz.Height != 842 {
		t.Errorf("page size = %v, want 595x842 points", sz)
	}
	img, err := p.Render(ctx, 0, 150)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	w, h := sz.Pixels(150)
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("image %v, want %dx%d", img.Bounds(), w, h)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0xFF {
			t.Fatalf("pixel %d is not opaque (alpha %d)", i/4, img.Pix[i])
		}
	}
	inked, levels := pixelStats(img)
	if inked < 0.002 || inked > 0.2 || levels < 10 {
		t.Errorf("page looks blank or wrong: %.4f of pixels inked, %d grey levels", inked, levels)
	}
	text, err := p.Text(ctx, 0)
	if err != nil {
		t.Fatalf("text: %v", err)
	}
	if !strings.Contains(text, "Reason for referral") {
		t.Errorf("page text lacks the reason heading: %q", text)
	}
	hits, err := p.Find(ctx, "allergies", 0)
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	if len(hits) != 2 || hits[0].Page != 2 || hits[1].Page != 2 || len(hits[0].Rects) == 0 {
		t.Fatalf("find allergies = %+v, want the heading and the line on page 3, with rectangles", hits)
	}
	r := hits[0].Rects[0]
	if !(r.X0 >= 50 && r.X1 > r.X0 && r.Y1 > r.Y0 && r.Y0 > 0 && r.Y1 < 842) {
		t.Errorf("hit rectangle %+v not on the page", r)
	}
	t.Logf("render ok: %.4f inked, %d levels, %d hits", inked, levels, len(hits))
}

func TestTwoHundredPagesStayUnderCacheCap(t *testing.T) {
	const capBytes = 24 << 20
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir(), CacheBytes: capBytes})
	defer e.Close()
	pages := make([][]string, 200)
	for i := range pages {
		pages[i] = []string{fmt.Sprintf("# Page %d", i+1), "Results of investigations follow."}
	}
	ctx := context.Background()
	p, err := e.Open(ctx, textPDF(pages, 0))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	if p.PageCount() != 200 {
		t.Fatalf("pages = %d", p.PageCount())
	}
	var rendered int64
	for i := range p.PageCount() {
		img, err := p.Render(ctx, i, 72)
		if err != nil {
			t.Fatalf("render page %d: %v", i+1, err)
		}
		rendered += int64(len(img.Pix))
		if st := e.CacheStats(); st.Bytes > capBytes {
			t.Fatalf("after page %d the cache holds %d bytes, over the %d cap", i+1, st.Bytes, capBytes)
		}
	}
	st := e.CacheStats()
	if st.PeakBytes > capBytes || st.Evictions == 0 || rendered < 4*capBytes {
		t.Fatalf("cache stats %+v after rendering %d bytes of pages", st, rendered)
	}
	// The most recent page is served from the cache, an early one is not.
	before := e.CacheStats().Hits
	if _, err := p.Render(ctx, 199, 72); err != nil {
		t.Fatal(err)
	}
	if e.CacheStats().Hits != before+1 {
		t.Errorf("last page was not served from the cache")
	}
	p.Close()
	if st := e.CacheStats(); st.Bytes != 0 || st.Entries != 0 {
		t.Errorf("closing the document left %d bytes in the cache", st.Bytes)
	}
	t.Logf("200 pages: %d MB rendered, cache peak %d MB (cap %d MB), %d evictions", rendered>>20, st.PeakBytes>>20, capBytes>>20, st.Evictions)
}

// countdownCtx reports cancellation after its Err method has been asked n
// times: a deterministic way to cancel a render part-way through.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// busyPDF has one page with thousands of small filled squares, so PDFium's
// progressive renderer asks to pause many times while drawing it.
func busyPDF() []byte {
	var cs strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&cs, "%.2f %.2f %.2f rg %d %d 4 4 re f\n", float64(i%7)/7, float64(i%11)/11, float64(i%13)/13, 20+(i*7)%550, 20+(i*13)%800)
	}
	var b pdfBuilder
	b.add("<< /Type /Catalog /Pages 2 0 R >>")
	b.add("<< /Type /Pages /Kids [4 0 R] /Count 1 >>")
	b.add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", cs.Len(), cs.String()))
	b.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>")
	return b.bytes(1)
}

func TestRenderCancelledPartWayIsAbandoned(t *testing.T) {
	e := testEngine(t)
	p, err := e.Open(context.Background(), busyPDF())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	ctx := &countdownCtx{Context: context.Background()}
	ctx.n.Store(3) // pass the queue checks, then cancel inside PDFium's loop
	img, err := p.Render(ctx, 0, 150)
	if !errors.Is(err, context.Canceled) || img != nil {
		t.Fatalf("render = %v, %v; want context.Canceled and no image", img != nil, err)
	}
	// The instance is still healthy and nothing half-drawn was cached.
	img, err = p.Render(context.Background(), 0, 150)
	if err != nil {
		t.Fatalf("render after cancel: %v", err)
	}
	if inked, _ := pixelStats(img); inked < 0.05 {
		t.Errorf("page after cancel looks blank: %.3f inked", inked)
	}
}

func TestPendingRendersLeaveTheQueueOnCancel(t *testing.T) {
	e := testEngine(t)
	p, err := e.Open(context.Background(), criPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Hold the instance as a long render would, queue renders, then cancel.
	if err := p.w.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := p.Render(ctx, i%3, float64(100+i))
			errs <- err
		}()
	}
	cancel()
	for range 10 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("queued render returned %v, want context.Canceled", err)
		}
	}
	p.w.release()
	if _, err := p.Render(context.Background(), 0, 100); err != nil {
		t.Fatalf("render after cancelled queue: %v", err)
	}
}

func TestConcurrentDocumentsRenderSafely(t *testing.T) {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir(), Instances: 2})
	defer e.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for d := range 4 {
		wg.Go(func() {
			p, err := e.Open(ctx, criPDF())
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			for i := range 3 {
				img, err := p.Render(ctx, i, float64(60+d))
				if err != nil {
					errs <- err
					return
				}
				if inked, _ := pixelStats(img); inked == 0 {
					errs <- fmt.Errorf("doc %d page %d blank", d, i)
				}
				if _, err := p.Text(ctx, i); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClosedDocumentAndEngine(t *testing.T) {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir()})
	p, err := e.Open(context.Background(), criPDF())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Render(context.Background(), 5, 100); KindOf(err) != KindUnsupported {
		t.Errorf("page out of range: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("close engine: %v", err)
	}
	if _, err := p.Render(context.Background(), 0, 100); KindOf(err) != KindClosed {
		t.Errorf("render after engine close: %v, want KindClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("close document after engine: %v", err)
	}
	if _, err := e.Open(context.Background(), criPDF()); KindOf(err) != KindUnavailable {
		t.Errorf("open after close: %v, want KindUnavailable", err)
	}
}

func TestFailedInstanceIsReplacedAndDocumentsReopen(t *testing.T) {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir()})
	defer e.Close()
	ctx := context.Background()
	a, err := e.Open(ctx, criPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := e.Open(ctx, busyPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := e.workers[0]
	// Kill the instance under the documents, as a trap inside PDFium would.
	if err := w.inst.Kill(); err != nil {
		t.Fatal(err)
	}
	img, err := a.Render(ctx, 1, 72)
	if err != nil {
		t.Fatalf("render after the instance died: %v", err)
	}
	if inked, _ := pixelStats(img); inked == 0 {
		t.Error("blank page after recovery")
	}
	if w.gen != 1 {
		t.Errorf("instance generation %d, want 1 replacement", w.gen)
	}
	if text, err := a.Text(ctx, 2); err != nil || !strings.Contains(text, "Allergies") {
		t.Errorf("text after recovery: %q, %v", text, err)
	}
	if _, err := b.Render(ctx, 0, 72); err != nil {
		t.Errorf("second document after recovery: %v", err)
	}
}

func TestWASMSeesNoHostFiles(t *testing.T) {
	e := testEngine(t)
	path, err := filepath.Abs(benchPDF)
	if err != nil {
		t.Fatal(err)
	}
	w := e.workers[0]
	if err := w.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.release()
	res, err := w.inst.OpenDocument(&requests.OpenDocument{FilePath: &path})
	if err == nil {
		w.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: res.Document})
		t.Fatalf("PDFium opened %s from the host disk; its file system must be empty", path)
	}
}

func TestHugePageIsDrawnWithinThePixelLimit(t *testing.T) {
	var b pdfBuilder
	b.add("<< /Type /Catalog /Pages 2 0 R >>")
	b.add("<< /Type /Pages /Kids [4 0 R] /Count 1 >>")
	cs := "0 0 1 rg 0 0 7200 7200 re f BT /F1 800 Tf 100 3000 Td (Huge) Tj ET"
	b.add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cs), cs))
	b.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /Resources << /Font << /F1 5 0 R >> >> /Contents 3 0 R >>")
	b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir(), MaxRenderPixels: 4_000_000})
	defer e.Close()
	p, err := e.Open(context.Background(), b.bytes(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	img, err := p.Render(context.Background(), 0, 150) // 30000 × 30000 pixels asked for
	if err != nil {
		t.Fatal(err)
	}
	if px := img.Bounds().Dx() * img.Bounds().Dy(); px > 4_000_000 || img.Bounds().Dx() < 1900 {
		t.Fatalf("drawn at %v (%d pixels), want at most 4,000,000", img.Bounds(), px)
	}
	if inked, _ := pixelStats(img); inked < 0.2 {
		t.Errorf("huge page drawn blank: %.3f inked", inked)
	}
}

func TestCloseReleasesQueuedCallers(t *testing.T) {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir()})
	p, err := e.Open(context.Background(), criPDF())
	if err != nil {
		t.Fatal(err)
	}
	w := e.workers[0]
	if err := w.acquire(context.Background()); err != nil { // a long call in flight
		t.Fatal(err)
	}
	queued := make(chan error)
	go func() {
		_, err := p.Render(context.Background(), 0, 72) // no deadline of its own
		queued <- err
	}()
	closed := make(chan error)
	go func() { closed <- e.Close() }()
	if err := <-queued; KindOf(err) != KindClosed {
		t.Errorf("queued render after Close: %v, want KindClosed", err)
	}
	w.release() // the in-flight call ends; Close can finish
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestTextReadInOneCallMatchesCharacterByCharacter checks that a page's
// text, read in one call into PDFium, is what go-pdfium's
// character-by-character GetPageText gives, on every page of the CRI.
func TestTextReadInOneCallMatchesCharacterByCharacter(t *testing.T) {
	ctx := context.Background()
	p, err := testEngine(t).Open(ctx, criPDF())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	for i := range p.PageCount() {
		got, err := p.Text(ctx, i)
		if err != nil {
			t.Fatalf("text of page %d: %v", i+1, err)
		}
		var want string
		if err := p.do(ctx, func() error {
			pg, err := p.w.inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: p.doc, Index: i})
			if err != nil {
				return err
			}
			defer p.w.inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: pg.Page})
			res, err := p.w.inst.GetPageText(&requests.GetPageText{Page: requests.Page{ByReference: &pg.Page}})
			if err != nil {
				return err
			}
			want = res.Text
			return nil
		}); err != nil {
			t.Fatalf("page %d character by character: %v", i+1, err)
		}
		if got != want || want == "" {
			t.Errorf("page %d: %q, want %q", i+1, got, want)
		}
	}
}
