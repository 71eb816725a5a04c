package vetting

import (
	"image"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestOpenedCRIIsDraftedThenDrawnAtFullResolution: a referral opened
// without its page 1 drawn ahead shows page 1 first as a quick drawing at
// draftScale of the viewer's resolution, stretched to the page's size, and
// then, without anything else happening, at the viewer's full resolution;
// the neighbours are drawn ahead only after that.
func TestOpenedCRIIsDraftedThenDrawnAtFullResolution(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.firstRow(func(r triage.Row) bool { return r.OfflineReady })
	// Opened as a click does; page 1 arrives through the loop, which runs
	// only while the test waits, so the hook below sees it.
	h.v.Open(row.UBRN)
	p := h.v.panel
	var first image.Rectangle
	var draft, prefetched bool
	p.onCRIShown = func() {
		pg := p.viewer.pages[0]
		first, draft = pg.img.Image.Bounds(), pg.draft
		prefetched = len(h.v.ready) > 0 || h.v.prefetchCancel != nil
	}
	v := h.waitCRI()
	if !draft {
		t.Fatal("page 1 was first shown at full resolution: no quick drawing")
	}
	if prefetched {
		t.Error("the neighbours were drawn ahead before page 1 was sharp")
	}
	h.waitFor("page 1 at full resolution", func() bool { return v.sharp[0] })
	pg := v.pages[0]
	if pg.draft || pg.img.Image == nil {
		t.Fatalf("page 1 after the refinement: draft %v, image %v", pg.draft, pg.img.Image != nil)
	}
	w, ht := v.sizes[0].Pixels(v.dpi())
	got := pg.img.Image.Bounds()
	if got.Dx() != w || got.Dy() != ht {
		t.Fatalf("page 1 is %dx%d pixels, want %dx%d (the viewer's resolution)", got.Dx(), got.Dy(), w, ht)
	}
	if first.Dx() > w*3/4 || first.Dx() < w/4 {
		t.Errorf("the quick drawing was %dx%d pixels, want about half of %dx%d", first.Dx(), first.Dy(), w, ht)
	}
	if inked, _ := pageInk(pg.img.Image.(*image.RGBA)); inked < 0.002 {
		t.Errorf("page 1 at full resolution is blank (%.4f inked)", inked)
	}
	// On screen, the drawing always fills the page's place.
	if pg.img.Size() != v.pageSize(0) {
		t.Errorf("page 1 image is %v on screen, the page %v", pg.img.Size(), v.pageSize(0))
	}
	h.waitFor("the neighbours drawn ahead", func() bool { return len(h.v.ready) > 0 })
}
