package document

import (
	"context"
	"strings"
	"testing"
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
