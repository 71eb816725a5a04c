package vetting

import (
	"bytes"
	"context"
	"image"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/style"
)

// showInViewer opens the PDF data in a viewer fitted to width, in a test
// window width × height, and returns the viewer, the loop that runs its
// drawings and the engine.
func showInViewer(t *testing.T, data []byte, width, height float32) (*pdfViewer, *bridge.Loop, *document.Engine) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(style.NewTheme(nil))
	ctx := context.Background()
	eng := document.Start(ctx, document.Options{CacheDir: pdfCache})
	t.Cleanup(func() { eng.Close() })
	pdf, err := eng.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	loop := bridge.NewLoop()
	b := bridge.New(bridge.Options{Post: loop.Post})
	t.Cleanup(b.Close)
	sizes := make([]document.Size, pdf.PageCount())
	for i := range sizes {
		sizes[i], _ = pdf.PageSize(i)
	}
	v := newPDFViewer(b, ctx, pdf, fitZoom(sizes, width), true, nil, nil)
	t.Cleanup(v.Close)
	w := test.NewWindow(v.Object())
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(width, height))
	return v, loop, eng
}

// openLongLetter shows the 50-page synthetic letter in a viewer 560 units
// wide and 800 high.
func openLongLetter(t *testing.T) (*pdfViewer, *bridge.Loop, *document.Engine) {
	t.Helper()
	v, loop, eng := showInViewer(t, textPDF(50), 560, 800)
	v.viewMoved()
	return v, loop, eng
}

// heldPages returns the pages whose drawn image the viewer holds.
func heldPages(v *pdfViewer) []int {
	var held []int
	for i, p := range v.pages {
		if p.img.Image != nil {
			held = append(held, i)
		}
	}
	return held
}

// TestPagingALongLetterKeepsOnlyPagesNearTheView pages through a 50-page
// letter: at every step the viewer holds the images of at most the pages
// in view and keepRendered either side (never the whole letter), and the
// pages far behind have been let go.
func TestPagingALongLetterKeepsOnlyPagesNearTheView(t *testing.T) {
	v, loop, _ := openLongLetter(t)
	if v.pageCount() != 50 {
		t.Fatalf("%d pages", v.pageCount())
	}
	most := 0
	for pg := range 50 {
		v.scrollTo(pg, 0)
		if !loop.RunUntil(30*time.Second, func() bool { return v.pages[pg].img.Image != nil }) {
			t.Fatalf("page %d not drawn", pg+1)
		}
		first, last := v.visible()
		held := heldPages(v)
		if limit := last - first + 1 + 2*keepRendered; len(held) > limit {
			t.Fatalf("on page %d (pages %d-%d in view) the viewer holds %d page images %v, more than %d", pg+1, first+1, last+1, len(held), held, limit)
		}
		for _, i := range held {
			if i < first-keepRendered || i > last+keepRendered {
				t.Fatalf("on page %d (pages %d-%d in view) the viewer still holds page %d", pg+1, first+1, last+1, i+1)
			}
		}
		most = max(most, len(held))
	}
	if most > 2+2*keepRendered {
		t.Errorf("the viewer held up to %d page images", most)
	}
}

// TestScrollingBackRedrawsADroppedPage: after paging to the end of a
// 50-page letter, page 1's image has been dropped; scrolling back to the
// top draws it again, and what is shown is page 1 (the same pixels as page
// 1 drawn on its own, not blank and not another page).
func TestScrollingBackRedrawsADroppedPage(t *testing.T) {
	v, loop, eng := openLongLetter(t)
	for pg := range 50 {
		v.scrollTo(pg, 0)
		if !loop.RunUntil(30*time.Second, func() bool { return v.pages[pg].img.Image != nil }) {
			t.Fatalf("page %d not drawn", pg+1)
		}
	}
	if v.pages[0].img.Image != nil {
		t.Fatal("page 1's image is still held at the end of the letter")
	}
	v.scrollTo(0, 0)
	if !loop.RunUntil(30*time.Second, func() bool { return v.pages[0].img.Image != nil }) {
		t.Fatal("page 1 was not drawn again")
	}
	got, ok := v.pages[0].img.Image.(*image.RGBA)
	if !ok {
		t.Fatalf("page 1 is a %T", v.pages[0].img.Image)
	}
	// Page 1 and page 50 drawn on their own, from a separate opening of
	// the same letter (so nothing comes from the viewer's drawings).
	ctx := context.Background()
	pdf, err := eng.Open(ctx, textPDF(50))
	if err != nil {
		t.Fatal(err)
	}
	defer pdf.Close()
	want, err := pdf.Render(ctx, 0, v.dpi())
	if err != nil {
		t.Fatal(err)
	}
	last, err := pdf.Render(ctx, 49, v.dpi())
	if err != nil {
		t.Fatal(err)
	}
	if inked, _ := pageInk(got); inked < 0.005 {
		t.Fatalf("page 1 redrawn blank (%.4f of pixels inked)", inked)
	}
	if got.Bounds() != want.Bounds() || !bytes.Equal(got.Pix, want.Pix) {
		t.Fatalf("page 1 redrawn %v differs from page 1 drawn on its own %v", got.Bounds(), want.Bounds())
	}
	if bytes.Equal(got.Pix, last.Pix) {
		t.Fatal("page 1 redrawn shows page 50")
	}
}

// pageInk returns the share of pixels that are not white and the number of
// distinct grey levels.
func pageInk(img *image.RGBA) (inked float64, levels int) {
	seen := map[uint8]bool{}
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 0xFF || img.Pix[i+1] != 0xFF || img.Pix[i+2] != 0xFF {
			n++
		}
		seen[img.Pix[i]] = true
	}
	return float64(n) / float64(len(img.Pix)/4), len(seen)
}
