package vetting

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/style"
)

// Viewer limits.
const (
	minZoom      = 0.25
	maxZoom      = 5
	zoomStep     = 1.25
	pageGap      = 8
	keepRendered = 2 // pages either side of the view whose bitmaps are kept (the rest are drawn again, from the page cache or PDFium)
	maxFindHits  = 500
	// draftScale is the resolution, relative to the viewer's, at which a
	// newly opened referral's page 1 is first drawn: in about half the
	// time, then at once again at full resolution.
	draftScale = 0.5
)

// pdfViewer shows one open PDF as continuous pages: zoom in and out, fit
// width, "page n of m" and find. Pages are drawn off the UI goroutine at the
// canvas scale × the zoom's DPI, only when they come into view, and every
// drawing stops when the viewer is closed (the selection moved on). A
// viewer belongs to one document: a different document gets a new viewer.
type pdfViewer struct {
	b      *bridge.Bridge
	ctx    context.Context
	cancel context.CancelFunc
	pdf    *document.PDF

	sizes    []document.Size
	pages    []*pageView
	tops     []float32 // each page's top within the scrolled content
	zoom     float32
	fit      bool
	fitWidth float32 // the viewer width the zoom was fitted to
	gen      int     // bumped on every zoom change; older drawings are dropped

	box       *fyne.Container
	scroll    *container.Scroll
	pageLabel *widget.Label
	zoomLabel *widget.Label
	find      *keyEntry
	findInfo  *widget.Label
	hits      []document.Hit
	hit       int
	query     string
	obj       fyne.CanvasObject

	// onPageShown is called once for each page drawn on screen (tests and
	// the measurement harness).
	onPageShown func(page int)
	shown       map[int]bool
	// onPageSharp is called once for each page drawn at the viewer's full
	// resolution (after a draft, or at once).
	onPageSharp func(page int)
	sharp       map[int]bool
}

// newPDFViewer builds a viewer for pdf under parent (its drawings stop when
// parent ends). first, if not nil, is page 1 drawn at zoom (fyne units per
// PDF point) so it shows at once. The viewer closes pdf when it is closed.
func newPDFViewer(b *bridge.Bridge, parent context.Context, pdf *document.PDF, zoom float32, fit bool, first *image.RGBA, extraTools fyne.CanvasObject) *pdfViewer {
	ctx, cancel := context.WithCancel(parent)
	v := &pdfViewer{b: b, ctx: ctx, cancel: cancel, pdf: pdf, zoom: zoom, fit: fit, shown: map[int]bool{}, sharp: map[int]bool{}}
	n := pdf.PageCount()
	v.sizes = make([]document.Size, n)
	v.pages = make([]*pageView, n)
	objs := make([]fyne.CanvasObject, n)
	for i := range n {
		v.sizes[i], _ = pdf.PageSize(i)
		v.pages[i] = newPageView()
		objs[i] = container.NewCenter(v.pages[i].obj)
	}
	v.box = container.New(&pagesLayout{v: v}, objs...)
	v.scroll = container.NewScroll(v.box)
	v.scroll.OnScrolled = func(fyne.Position) { v.viewMoved() }
	v.pageLabel = widget.NewLabel("")
	v.zoomLabel = widget.NewLabel("")
	v.find = newKeyEntry()
	v.find.SetPlaceHolder("Find in document")
	v.find.OnSubmitted = func(q string) { v.Find(q) }
	v.findInfo = widget.NewLabel("")
	prev := widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { v.nextHit(-1) })
	next := widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { v.nextHit(1) })
	zoomOut := widget.NewButtonWithIcon("", theme.ZoomOutIcon(), v.ZoomOut)
	zoomIn := widget.NewButtonWithIcon("", theme.ZoomInIcon(), v.ZoomIn)
	fitBtn := widget.NewButtonWithIcon("Fit width", theme.ViewFullScreenIcon(), v.FitWidth)
	tools := container.NewHBox(zoomOut, v.zoomLabel, zoomIn, fitBtn, v.pageLabel)
	findBox := container.NewBorder(nil, nil, nil, container.NewHBox(v.findInfo, prev, next), v.find)
	var title fyne.CanvasObject = layout.NewSpacer()
	if extraTools != nil {
		title = extraTools
	}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, tools, title), findBox)
	backdrop := canvas.NewRectangle(style.Color(style.ColorNamePage))
	v.obj = container.NewBorder(top, nil, nil, nil, container.New(&viewLayout{v: v}, backdrop, v.scroll))
	v.layoutPages()
	if first != nil && n > 0 {
		v.pages[0].setImage(first, v.gen)
		v.pageShown(0)
		v.pageSharp(0)
	}
	v.updateLabels()
	return v
}

// Object returns the viewer's canvas object.
func (v *pdfViewer) Object() fyne.CanvasObject { return v.obj }

// Close stops every drawing and closes the document (off the UI
// goroutine: closing waits for a drawing in progress to stop).
func (v *pdfViewer) Close() {
	v.cancel()
	pdf := v.pdf
	v.b.Go(func(context.Context) { _ = pdf.Close() })
}

// pageCount returns the number of pages.
func (v *pdfViewer) pageCount() int { return len(v.pages) }

// layoutPages sizes every page for the zoom and works out their tops.
func (v *pdfViewer) layoutPages() {
	v.tops = make([]float32, len(v.pages))
	y := float32(pageGap)
	for i, p := range v.pages {
		s := v.pageSize(i)
		p.setSize(s)
		v.tops[i] = y
		y += s.Height + pageGap
	}
	v.box.Refresh()
}

func (v *pdfViewer) pageSize(i int) fyne.Size {
	s := v.sizes[i]
	return fyne.NewSize(float32(math.Round(s.Width*float64(v.zoom))), float32(math.Round(s.Height*float64(v.zoom))))
}

// dpi is the resolution pages are drawn at: the zoom (fyne units per
// point) × 72 × the canvas scale, so pages stay sharp on high-DPI screens.
func (v *pdfViewer) dpi() float64 {
	scale := float32(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.obj); c != nil {
		scale = c.Scale()
	}
	return math.Max(1, math.Min(2400, math.Round(float64(v.zoom*scale)*72)))
}

// visible returns the first and last page in view.
func (v *pdfViewer) visible() (first, last int) {
	top := v.scroll.Offset.Y
	h := v.scroll.Size().Height
	if h <= 0 {
		h = 800
	}
	first, last = -1, -1
	for i := range v.pages {
		pTop, pBottom := v.tops[i], v.tops[i]+v.pageSize(i).Height
		if pBottom >= top && pTop <= top+h {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		first, last = 0, 0
	}
	return first, last
}

// current returns the page the reader is on: the one covering a point a
// third of the way down the view.
func (v *pdfViewer) current() int {
	y := v.scroll.Offset.Y + v.scroll.Size().Height/3
	cur := 0
	for i, t := range v.tops {
		if t <= y {
			cur = i
		}
	}
	return cur
}

// viewMoved draws the pages that came into view, drops far ones and
// updates "page n of m".
func (v *pdfViewer) viewMoved() {
	if v.ctx.Err() != nil || len(v.pages) == 0 {
		return
	}
	first, last := v.visible()
	for i := max(0, first-1); i <= min(len(v.pages)-1, last+1); i++ {
		v.render(i)
	}
	for i, p := range v.pages {
		if i < first-keepRendered || i > last+keepRendered {
			p.clear()
		}
	}
	v.updateLabels()
}

// render draws page i off the UI goroutine unless it is drawn (or being
// drawn) at the current zoom.
func (v *pdfViewer) render(i int) {
	p := v.pages[i]
	if p.gen == v.gen && ((p.img.Image != nil && !p.draft) || p.pending || p.failed) {
		return
	}
	p.pending = true
	gen, dpi := v.gen, v.dpi()
	bridge.Run(v.b, v.ctx, func(ctx context.Context) (*image.RGBA, error) {
		return v.pdf.Render(ctx, i, dpi)
	}, func(img *image.RGBA, err error) {
		if gen != v.gen {
			return // zoomed since: a newer drawing is on its way
		}
		p.pending = false
		if err != nil {
			p.setError(document.DisplayMessage(err), gen)
			return
		}
		p.setImage(img, gen)
		v.pageShown(i)
		v.pageSharp(i)
	})
}

func (v *pdfViewer) pageShown(i int) {
	if !v.shown[i] {
		v.shown[i] = true
		if v.onPageShown != nil {
			v.onPageShown(i)
		}
	}
}

func (v *pdfViewer) pageSharp(i int) {
	if !v.sharp[i] {
		v.sharp[i] = true
		if v.onPageSharp != nil {
			v.onPageSharp(i)
		}
	}
}

func (v *pdfViewer) updateLabels() {
	if len(v.pages) == 0 {
		v.pageLabel.SetText("No pages")
		return
	}
	v.pageLabel.SetText(fmt.Sprintf("Page %d of %d", v.current()+1, len(v.pages)))
	v.zoomLabel.SetText(fmt.Sprintf("%d%%", int(math.Round(float64(v.zoom)*100))))
}

// PageLabel returns "Page n of m" as shown.
func (v *pdfViewer) PageLabel() string { return v.pageLabel.Text }

// setZoom changes the zoom, keeping the current page in view.
func (v *pdfViewer) setZoom(z float32, fit bool) {
	z = float32(math.Max(minZoom, math.Min(maxZoom, float64(z))))
	v.fit = fit
	if z == v.zoom {
		return
	}
	cur := v.current()
	v.zoom = z
	v.gen++
	v.layoutPages()
	for _, p := range v.pages {
		p.stale()
	}
	v.scrollTo(cur, 0)
}

// ZoomIn enlarges the pages one step.
func (v *pdfViewer) ZoomIn() { v.setZoom(v.zoom*zoomStep, false) }

// ZoomOut shrinks the pages one step.
func (v *pdfViewer) ZoomOut() { v.setZoom(v.zoom/zoomStep, false) }

// FitWidth fits the widest page to the viewer's width.
func (v *pdfViewer) FitWidth() {
	if w := v.scroll.Size().Width; w > 0 {
		v.fitWidth = w
		v.setZoom(fitZoom(v.sizes, w), true)
	}
}

// resized refits the pages when the viewer's width changed in fit mode.
func (v *pdfViewer) resized(width float32) {
	if v.fit && width > 50 && (width-v.fitWidth > 8 || v.fitWidth-width > 8) {
		v.fitWidth = width
		v.setZoom(fitZoom(v.sizes, width), true)
		v.viewMoved()
	}
}

// viewLayout stacks the backdrop and the pages, and tells the viewer when
// its width changed (to keep fitting the width).
type viewLayout struct{ v *pdfViewer }

func (l *viewLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	l.v.resized(size.Width)
}

func (l *viewLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(120, 120)
}

// fitZoom is the zoom at which the widest page fills width (less a margin
// and the scroll bar).
func fitZoom(sizes []document.Size, width float32) float32 {
	widest := 0.0
	for _, s := range sizes {
		widest = math.Max(widest, s.Width)
	}
	if widest <= 0 {
		return 1
	}
	avail := float64(width) - 2*pageGap - float64(theme.ScrollBarSize()) - 4
	return float32(math.Max(minZoom, math.Min(maxZoom, avail/widest)))
}

// scrollTo brings page i to the top of the view, dy further down.
func (v *pdfViewer) scrollTo(i int, dy float32) {
	if i < 0 || i >= len(v.pages) {
		return
	}
	v.scrollToY(v.tops[i] - pageGap + dy)
}

// scrollToY scrolls so y is at the top of the view, kept within the
// document.
func (v *pdfViewer) scrollToY(y float32) {
	maxY := v.box.MinSize().Height - v.scroll.Size().Height
	y = float32(math.Max(0, math.Min(float64(y), math.Max(0, float64(maxY)))))
	v.scroll.Offset = fyne.NewPos(v.scroll.Offset.X, y)
	v.scroll.Refresh()
	v.viewMoved()
}

// pageStep is how far Page Down and Page Up move: one view's height less a
// small overlap, so the reader keeps their place and no part of a page
// taller than the view is ever skipped.
func (v *pdfViewer) pageStep() float32 {
	h := v.scroll.Size().Height
	if h <= 0 {
		return 0
	}
	return max(1, h-min(48, h/8))
}

// PageDown moves down by one view (less a small overlap), never past
// anything not yet shown.
func (v *pdfViewer) PageDown() { v.scrollToY(v.scroll.Offset.Y + v.pageStep()) }

// PageUp moves up by one view (less a small overlap).
func (v *pdfViewer) PageUp() { v.scrollToY(v.scroll.Offset.Y - v.pageStep()) }

// FocusFind puts the keyboard in the find box.
func (v *pdfViewer) FocusFind() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.obj); c != nil {
		c.Focus(v.find)
	}
}

// Find searches the document off the UI goroutine and shows the first
// match. Searching for the same text again moves to the next match.
func (v *pdfViewer) Find(q string) {
	if q != "" && q == v.query && len(v.hits) > 0 {
		v.nextHit(1)
		return
	}
	v.query = q
	v.hits, v.hit = nil, 0
	v.markHits()
	if q == "" {
		v.findInfo.SetText("")
		return
	}
	v.findInfo.SetText("Searching…")
	bridge.Run(v.b, v.ctx, func(ctx context.Context) ([]document.Hit, error) {
		return v.pdf.Find(ctx, q, maxFindHits)
	}, func(hits []document.Hit, err error) {
		if q != v.query {
			return
		}
		v.hits = hits
		switch {
		case err != nil && len(hits) == 0:
			v.findInfo.SetText("Search failed")
		case len(hits) == 0:
			v.findInfo.SetText("Not found")
		default:
			v.showHit()
		}
	})
}

// FindInfo returns the match count as shown ("2 of 5").
func (v *pdfViewer) FindInfo() string { return v.findInfo.Text }

func (v *pdfViewer) nextHit(d int) {
	if len(v.hits) == 0 {
		return
	}
	v.hit = (v.hit + d + len(v.hits)) % len(v.hits)
	v.showHit()
}

func (v *pdfViewer) showHit() {
	h := v.hits[v.hit]
	v.findInfo.SetText(fmt.Sprintf("%d of %d", v.hit+1, len(v.hits)))
	v.markHits()
	dy := float32(0)
	if len(h.Rects) > 0 {
		dy = float32(h.Rects[0].Y0)*v.zoom - v.scroll.Size().Height/3
	}
	v.scrollTo(h.Page, max(0, dy))
}

// markHits highlights the current match.
func (v *pdfViewer) markHits() {
	for i, p := range v.pages {
		var rects []document.Rect
		if len(v.hits) > 0 && v.hits[v.hit].Page == i {
			rects = v.hits[v.hit].Rects
		}
		p.setMarks(rects, v.zoom)
	}
}

// findColour highlights a match: translucent yellow over the page.
var findColour = color.NRGBA{R: 0xff, G: 0xc8, B: 0x00, A: 0x70}

// pagesLayout stacks the pages with a gap, centred.
type pagesLayout struct{ v *pdfViewer }

func (l *pagesLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for i, o := range objs {
		ps := l.v.pageSize(i)
		o.Move(fyne.NewPos(0, l.v.tops[i]))
		o.Resize(fyne.NewSize(max(size.Width, ps.Width), ps.Height))
	}
}

func (l *pagesLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	w, h := float32(0), float32(pageGap)
	for i := range l.v.pages {
		ps := l.v.pageSize(i)
		w = max(w, ps.Width+2*pageGap)
		h += ps.Height + pageGap
	}
	return fyne.NewSize(w, h)
}

// pageView is one page: a white sheet, the drawn image when there is one,
// the find highlights, and a message if the page could not be drawn.
type pageView struct {
	sheet   *canvas.Rectangle
	img     *canvas.Image
	msg     *widget.Label
	marks   *fyne.Container
	obj     *fyne.Container
	size    fyne.Size
	gen     int
	pending bool
	failed  bool
	draft   bool // the image is a quick drawing at lower resolution
}

func newPageView() *pageView {
	p := &pageView{sheet: canvas.NewRectangle(color.White), img: &canvas.Image{FillMode: canvas.ImageFillStretch, ScaleMode: canvas.ImageScaleSmooth},
		msg: widget.NewLabel(""), marks: container.NewWithoutLayout()}
	p.msg.Wrapping = fyne.TextWrapWord
	p.msg.Alignment = fyne.TextAlignCenter
	p.msg.Hide()
	p.obj = container.New(&fixedLayout{p: p}, p.sheet, p.img, p.marks, p.msg)
	return p
}

func (p *pageView) setSize(s fyne.Size) {
	p.size = s
	p.obj.Refresh()
}

func (p *pageView) setImage(img image.Image, gen int) {
	p.img.Image = img
	p.gen = gen
	p.draft = false
	p.failed = false
	p.msg.Hide()
	p.img.Refresh()
}

func (p *pageView) setError(msg string, gen int) {
	p.gen = gen
	p.failed = true
	p.draft = false
	p.msg.SetText(msg)
	p.msg.Show()
}

// stale marks the drawing as from an older zoom: it stays (stretched)
// until the new one arrives.
func (p *pageView) stale() { p.pending = false }

// clear drops the bitmap of a page far out of view.
func (p *pageView) clear() {
	if p.img.Image != nil && !p.pending {
		p.img.Image = nil
		p.gen = -1
		p.img.Refresh()
	}
}

func (p *pageView) setMarks(rects []document.Rect, zoom float32) {
	objs := make([]fyne.CanvasObject, len(rects))
	for i, r := range rects {
		m := canvas.NewRectangle(findColour)
		m.Move(fyne.NewPos(float32(r.X0)*zoom, float32(r.Y0)*zoom))
		m.Resize(fyne.NewSize(float32(r.X1-r.X0)*zoom, float32(r.Y1-r.Y0)*zoom))
		objs[i] = m
	}
	p.marks.Objects = objs
	p.marks.Refresh()
}

// fixedLayout gives a page its size and stretches the sheet, image and
// message over it.
type fixedLayout struct{ p *pageView }

func (l *fixedLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(l.p.size)
	}
}

func (l *fixedLayout) MinSize([]fyne.CanvasObject) fyne.Size { return l.p.size }
