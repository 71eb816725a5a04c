package vetting

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/patientbanner"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// referralData is what one background read of the cache returns for the
// referral view: everything shown about the referral comes from this one
// cached copy.
type referralData struct {
	view app.ReferralView
	rd   triage.ReferenceData
}

// criResult is a cached CRI opened and its first page drawn, off the UI
// goroutine.
type criResult struct {
	ubrn    string
	width   float32 // the viewer width page 1 was fitted to
	data    []byte
	pdf     *document.PDF
	first   *image.RGBA
	draft   bool // first is drawn at draftScale of the viewer's resolution
	zoom    float32
	missing bool // not downloaded yet
}

// referralPanel is the right-hand side for one open referral: the header
// card, the document viewer (its CRI, an attachment, or a related
// referral's CRI), the attachments, the related referrals and the decision
// panel. A panel is made for one referral and thrown away when another is
// opened: nothing in it is ever reused for a different patient.
type referralPanel struct {
	v      *Vetting
	ubrn   string
	ctx    context.Context
	cancel context.CancelFunc

	data   referralData
	loaded bool
	err    error

	header    *fyne.Container
	bannerBox *fyne.Container
	// banner is the patient banner (PDS), nil until it is read.
	banner     *triage.Banner
	asOf       *fyne.Container
	changed    *fyne.Container
	viewerArea *fyne.Container
	// viewerPane holds viewerArea: it never asks for more width than the
	// split gives it, so a wide preview scrolls inside the pane and never
	// widens the window past the screen.
	viewerPane  *container.Scroll
	showing     string // "cri", "attachment:<id>" or "related:<ubrn>"
	viewer      *pdfViewer
	attachments *fyne.Container
	related     *fyne.Container
	decision    *decisionPanel
	side        *fyne.Container
	split       *container.Split
	obj         fyne.CanvasObject

	// onCRIShown is called when page 1 of the referral's CRI is on screen.
	onCRIShown func()
	// criStarted is set once the referral's CRI is being read.
	criStarted bool
	// bannerStarted is set once the patient banner is being read.
	bannerStarted bool
	// shown are called once the referral is shown (whenShown).
	shown []func(*referralPanel)
}

// whenShown calls fn once the referral's details are on screen (at once
// if they are).
func (p *referralPanel) whenShown(fn func(*referralPanel)) {
	if p.loaded {
		fn(p)
		return
	}
	p.shown = append(p.shown, fn)
}

func newReferralPanel(v *Vetting, ubrn string) *referralPanel {
	ctx, cancel := context.WithCancel(v.b.Context())
	p := &referralPanel{v: v, ubrn: ubrn, ctx: ctx, cancel: cancel}
	loading := widget.NewLabel("Opening the referral…")
	p.header = container.NewStack(widgets.Card(container.NewPadded(loading)))
	p.viewerArea = container.NewStack(messagePanel(theme.DocumentIcon(), "Loading the clinical information…", nil))
	p.attachments = container.NewVBox()
	p.related = container.NewVBox()
	p.side = container.NewVBox()
	sideScroll := container.NewVScroll(container.NewPadded(p.side))
	p.viewerPane = container.NewHScroll(p.viewerArea)
	p.split = container.NewHSplit(p.viewerPane, sideScroll)
	p.split.Offset = v.sideSplit
	// The header takes at most half the height (scrolling inside beyond
	// that), so larger text or a banner never pushes the window past the
	// screen.
	// The "changed in e-RS" strip sits under the header, outside its
	// scroll, so it is in view however tall the header is.
	p.changed = container.NewStack()
	p.obj = widgets.NewCappedTop(p.header, container.NewBorder(p.changed, nil, nil, nil, p.split), 0.5)
	return p
}

// Object returns the panel's canvas object.
func (p *referralPanel) Object() fyne.CanvasObject { return p.obj }

// close stops everything the panel started and keeps the draft.
func (p *referralPanel) close() {
	if p.decision != nil {
		p.decision.keepDraft()
	}
	p.closeViewer()
	p.cancel()
}

// load reads the referral from the cache off the UI goroutine and shows
// it; its CRI is opened and page 1 drawn at the same time, on another
// goroutine (both read the same cached referral's data, by UBRN). The
// patient banner is read once page 1 is drawn (startBanner).
func (p *referralPanel) load() {
	a := p.v.app
	if !p.criStarted {
		p.loadCRI()
	}
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (referralData, error) {
		v, err := a.Referral(ctx, p.ubrn)
		if err != nil {
			return referralData{}, err
		}
		rd, err := a.ReferenceData(ctx)
		if err != nil && !errors.Is(err, app.ErrNotFound) {
			return referralData{}, err
		}
		return referralData{view: v, rd: rd}, nil
	}, func(d referralData, err error) {
		if err != nil {
			p.err = err
			p.header.Objects = []fyne.CanvasObject{widgets.Card(container.NewPadded(errorText(triage.ErrorMessage(err))))}
			p.header.Refresh()
			p.setViewer(messagePanel(theme.ErrorIcon(), "This referral cannot be shown. "+triage.ErrorMessage(err), nil), "cri")
			return
		}
		p.show(d)
	})
}

// show fills the panel from one cached copy of the referral.
func (p *referralPanel) show(d referralData) {
	p.data, p.loaded = d, true
	p.header.Objects = []fyne.CanvasObject{p.buildHeader()}
	p.header.Refresh()
	p.fillAttachments()
	p.fillRelated()
	p.decision = newDecisionPanel(p)
	p.side.Objects = []fyne.CanvasObject{
		p.decision.Object(),
		widget.NewSeparator(),
		sectionTitle(fmt.Sprintf("Attachments (%d)", len(d.view.Referral.Referral.Documents))), p.attachments,
		widget.NewSeparator(),
		sectionTitle(fmt.Sprintf("Related referrals (%d)", len(d.view.Referral.Referral.RelatedUBRNs))), p.related,
	}
	p.side.Refresh()
	fns := p.shown
	p.shown = nil
	for _, fn := range fns {
		fn(p)
	}
}

// referral is the cached referral the panel shows.
func (p *referralPanel) referral() *triage.Referral { return &p.data.view.Referral.Referral }

// buildHeader is the always-visible card: who and what the referral is,
// its e-RS state and how old the data is.
func (p *referralPanel) buildHeader() fyne.CanvasObject {
	r := p.referral()
	ubrn := widget.NewLabelWithStyle("UBRN "+widgets.UBRNText(r.UBRN), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	kind := r.Type.Label()
	if r.Type == triage.ReferralTypeAppointment {
		switch r.Booking() {
		case triage.BookingDirect:
			kind += " (directly bookable)"
		case triage.BookingIndirect:
			kind += " (indirectly bookable)"
		}
	}
	// Who the patient is is never truncated; the rest gives way (or
	// wraps) so the window fits a 1280-pixel screen.
	line1 := container.NewHBox(container.NewCenter(priorityBadge(r.Priority)), container.NewCenter(ubrn))

	what := widget.NewLabel(r.Specialty.Label() + " · " + r.Service.Label())
	what.Truncation = fyne.TextTruncateEllipsis
	line2 := container.NewBorder(nil, nil, nil, container.NewCenter(plainBadge(kind)), what)

	state := "e-RS state: " + r.State.State.Label()
	if !r.State.Reason.IsZero() {
		state += " – " + r.State.Reason.Label()
	}
	if c := strings.TrimSpace(r.State.Comments); c != "" {
		state += ". Comments: “" + c + "”"
	}
	stateLabel := widget.NewLabel(state)
	stateLabel.Wrapping = fyne.TextWrapWord

	reviewBy := "Review by: not known (no reference data yet)"
	if row, ok := p.v.list.Row(r.UBRN); ok {
		rb := row.ReviewBy
		if rb.IsZero() {
			rb, _ = triage.ReviewBy(row.WorklistItem, &p.data.rd, p.v.calendar())
		}
		if !rb.IsZero() {
			reviewBy = "Review by " + widgets.DayText(rb)
			if reviewOverdue(rb, p.v.now()) {
				reviewBy += " (overdue)"
			}
		}
	}
	p.asOf = container.NewStack()
	p.refreshAsOf()
	p.changed.Objects = nil
	p.changed.Refresh()
	line3 := container.NewBorder(nil, nil, nil, container.NewCenter(p.asOf), stateLabel)
	line4 := container.NewHBox(widget.NewLabel("Pathway start "+widgets.DayText(r.PathwayStart)), widget.NewLabel(reviewBy))
	p.bannerBox = container.NewStack(p.bannerObject(patientbanner.New))
	lines := []fyne.CanvasObject{p.bannerBox, widget.NewSeparator(), line1, line2, line3, line4}
	if needs := r.Needs(); needs != "" {
		// The patient's needs (interpreter, transport, advocacy) affect
		// how and where they can be seen: shown in full, never cut short.
		n := widget.NewLabelWithStyle("Patient needs: "+needs, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		n.Wrapping = fyne.TextWrapWord
		lines = append(lines, container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil, n))
	}
	if m := mismatchStrip(p.data.view.Mismatches); m != nil {
		lines = append(lines, m)
	}
	return widgets.Card(container.NewVBox(lines...))
}

// mismatchStrip says where e-RS's worklist and the referral's details
// disagree, side by side, with what to do; nil when they agree. The
// referral type shown is the worklist's (e-RS states it there); the other
// values are shown both ways, never picked.
func mismatchStrip(ms []triage.Mismatch) fyne.CanvasObject {
	if len(ms) == 0 {
		return nil
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s – worklist: %s; referral details: %s", m.Field, m.Worklist, m.Referral)
	}
	msg := "e-RS's worklist and this referral's details disagree: " + strings.Join(parts, " · ") + "."
	if triage.PatientMismatch(ms) {
		msg += " They name different patients, so no decision can be made here: refresh, and if they still differ, decide in the e-RS web application."
	} else {
		msg += " The referral type shown is the worklist's. Refresh (Ctrl+R) to check again before deciding."
	}
	return colourBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, wrappedLabel(msg)), style.ColorNameUrgent)
}

// asOfTime is e-RS's time of the cached referral (the response's Date),
// never the local clock; the worklist's time when the referral has none.
//
// A worklist read later than the referral that lists it at the same
// version confirms the cached referral is still e-RS's copy: its data is as
// of that worklist, so a referral opened while online and in sync is never
// shown as older than the sync interval.
func (p *referralPanel) asOfTime() time.Time {
	t := p.data.view.Referral.ServerTime
	list := p.v.list.asOf
	if t.IsZero() {
		return list
	}
	if row, ok := p.v.list.Row(p.ubrn); ok && list.After(t) && row.Version > 0 && row.Version == p.referral().Version {
		return list
	}
	return t
}

// refreshAsOf redraws "data as of HH:MM" (e-RS's time): amber when older
// than the sync interval, red when more than a day old (a computer offline
// since yesterday). The age is measured on e-RS's clock
// (triage.FreshnessOf), and the words say it too.
func (p *referralPanel) refreshAsOf() {
	if p.asOf == nil || !p.loaded {
		return
	}
	asOf, now := p.asOfTime(), p.v.now()
	text := "Data as of " + widgets.ClockText(asOf, now)
	offline := ""
	if p.v.sync.State == app.SyncOffline {
		offline = " · offline"
	}
	var obj fyne.CanvasObject
	switch triage.FreshnessOf(asOf, now, p.v.sync.ServerOffset, p.v.syncInterval()) {
	case triage.Unknown:
		obj = colourBadge("Data as of: unknown"+offline, style.ColorNameUrgent, color.Black)
	case triage.VeryStale:
		obj = colourBadge(text+" · more than a day old"+offline, style.ColorNameTwoWeek, color.White)
	case triage.Stale:
		obj = colourBadge(text+" · older than the "+shortDuration(p.v.syncInterval())+" sync"+offline, style.ColorNameUrgent, color.Black)
	default:
		obj = widget.NewLabel(text + offline)
	}
	p.asOf.Objects = []fyne.CanvasObject{obj}
	p.asOf.Refresh()
}

// noteChanged says the referral changed in e-RS while open, with a reload
// button (the clinician's draft is kept).
func (p *referralPanel) noteChanged(version int) {
	if p.changed == nil || version == p.referral().Version {
		return
	}
	msg := widget.NewLabel(fmt.Sprintf("This referral changed in e-RS while it was open (version %d → %d). Reload to see the current version; your draft is kept.", p.referral().Version, version))
	msg.Wrapping = fyne.TextWrapWord
	btn := widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { p.v.reopen(p.ubrn) })
	p.changed.Objects = []fyne.CanvasObject{colourBox(container.NewBorder(nil, nil, nil, btn, msg), style.ColorNameUrgent)}
	p.changed.Refresh()
}

// reloadDetails shows the referral as now cached (after e-RS applied the
// clinician's own decision): the header card and attachments are redrawn;
// the document on screen and the decision panel stay.
func (p *referralPanel) reloadDetails() {
	a := p.v.app
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (app.ReferralView, error) {
		return a.Referral(ctx, p.ubrn)
	}, func(view app.ReferralView, err error) {
		if err != nil {
			return // the next event tries again; what is shown stays
		}
		p.data.view = view
		p.header.Objects = []fyne.CanvasObject{p.buildHeader()}
		p.header.Refresh()
		p.fillAttachments()
	})
}

// viewerWidth is the width available to the document.
func (p *referralPanel) viewerWidth() float32 {
	if w := p.viewerPane.Size().Width; w > 50 {
		return w
	}
	return p.v.lastViewerWidth
}

// loadCRI opens the referral's CRI and draws page 1 off the UI goroutine,
// then shows it.
func (p *referralPanel) loadCRI() {
	p.criStarted = true
	p.openCRI(p.ubrn, nil)
}

// openCRI shows the CRI cached under ubrn (the referral's own, or a related
// referral's with a "back" bar).
func (p *referralPanel) openCRI(ubrn string, back fyne.CanvasObject) {
	showing := "cri"
	if ubrn != p.ubrn {
		showing = "related:" + ubrn
	}
	width, scale := p.viewerWidth(), p.v.canvasScale()
	if showing == "cri" {
		// Opened next from the worklist: page 1 may already be drawn.
		if res := p.v.takeReady(ubrn); res != nil {
			p.closeWith(p.ctx, res.pdf)
			p.showCRI(*res, nil, showing, back)
			p.startBanner()
			return
		}
	}
	p.setViewer(messagePanel(theme.DocumentIcon(), "Loading the clinical information…", back), showing)
	a := p.v.app
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (criResult, error) {
		res, err := readCRI(ctx, a, ubrn, width, scale, true)
		if res.pdf != nil {
			p.closeWith(p.ctx, res.pdf)
		}
		return res, err
	}, func(res criResult, err error) {
		defer p.startBanner() // page 1 is drawn, or cannot be
		if p.showing != showing {
			return // the clinician opened something else meanwhile
		}
		p.showCRI(res, err, showing, back)
	})
}

// readCRI reads the CRI cached under ubrn from the encrypted store, opens
// it and draws page 1 to fit width (off the UI goroutine). With draft,
// page 1 is drawn at draftScale of the viewer's resolution, which takes
// about half the time, so it is on screen sooner: the viewer draws it
// again at full resolution at once. missing is set when it has not been
// downloaded. The caller owns res.pdf.
func readCRI(ctx context.Context, a *app.Workspace, ubrn string, width, scale float32, draft bool) (criResult, error) {
	res := criResult{ubrn: ubrn, width: width}
	_, data, err := a.Document(ctx, ubrn, app.CRIDocumentID)
	if errors.Is(err, app.ErrNotFound) {
		res.missing = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.data = data
	pdf, err := a.Documents(ctx).Open(ctx, data)
	if err != nil {
		return res, err
	}
	res.pdf = pdf
	sizes := make([]document.Size, pdf.PageCount())
	for i := range sizes {
		sizes[i], _ = pdf.PageSize(i)
	}
	res.zoom = fitZoom(sizes, width)
	if pdf.PageCount() > 0 {
		dpi := float64(res.zoom*scale) * 72
		if draft {
			dpi = math.Max(1, math.Round(dpi*draftScale))
		}
		img, err := pdf.Render(ctx, 0, dpi)
		switch {
		case err == nil:
			res.first, res.draft = img, draft
		case document.KindOf(err) == document.KindTooLarge:
			// A page past the viewer's time or memory limit: say so with
			// "Save a copy" rather than draw it again page by page.
			pdf.Close()
			res.pdf = nil
			return res, err
		}
	}
	return res, nil
}

// showCRI puts a CRI read by readCRI in the viewer area: the document, or
// why it cannot be shown (never a blank page).
func (p *referralPanel) showCRI(res criResult, err error, showing string, back fyne.CanvasObject) {
	ubrn := res.ubrn
	ids := fmt.Sprintf("e-RS ids: UBRN %s, clinical referral information (A007)", widgets.UBRNText(ubrn))
	switch {
	case err != nil:
		p.setViewer(documentError(document.DisplayMessage(err), ids, p.saveCopyAction(res.data, "Clinical referral information "+ubrn, ".pdf"), back), showing)
	case res.missing:
		msg := "The clinical information for this referral has not been downloaded yet. Triage Desk is fetching it from e-RS and will show it here as soon as it arrives."
		if p.v.sync.State != app.SyncOnline {
			msg = "The clinical information for this referral has not been downloaded yet, and Triage Desk cannot reach e-RS now. It will be downloaded and shown here when the connection returns."
		}
		p.setViewer(messagePanel(theme.DownloadIcon(), msg+"\n"+ids, back), showing)
	default:
		title := widget.NewLabelWithStyle("Clinical referral information", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		// The title gives way before the zoom and page controls, so the
		// window fits a 1280-pixel screen; whose letter it is, when it is
		// not the open referral's, is said in full above the document
		// (back).
		title.Truncation = fyne.TextTruncateEllipsis
		v := newPDFViewer(p.v.b, p.ctx, res.pdf, res.zoom, true, nil, title)
		v.fitWidth = res.width
		if showing == "cri" {
			v.onPageShown = func(page int) {
				if page == 0 && p.onCRIShown != nil {
					p.onCRIShown()
				}
			}
			// The neighbours' page 1 is drawn ahead once this page 1 is
			// sharp, so drawing them never delays it.
			v.onPageSharp = func(page int) {
				if page == 0 {
					p.v.prefetchNeighbours(p.ubrn, res.width)
				}
			}
		}
		if res.first != nil && res.pdf.PageCount() > 0 {
			v.pages[0].setImage(res.first, v.gen)
			v.pages[0].draft = res.draft
		}
		p.setPDFViewer(v, showing, back)
		if res.first != nil {
			v.pageShown(0)
			if !res.draft {
				v.pageSharp(0)
			}
		}
	}
}

// closeWith closes the document when ctx ends, on a goroutine the Bridge
// owns (so it is joined at exit).
func (p *referralPanel) closeWith(ctx context.Context, c interface{ Close() error }) {
	p.v.b.Go(func(context.Context) {
		<-ctx.Done()
		_ = c.Close()
	})
}

// setViewer puts obj in the viewer area (closing any document viewer).
func (p *referralPanel) setViewer(obj fyne.CanvasObject, showing string) {
	p.closeViewer()
	p.showing = showing
	p.viewerArea.Objects = []fyne.CanvasObject{obj}
	p.viewerArea.Refresh()
}

// setPDFViewer puts a document viewer in the viewer area, under top (nil
// for none) across the whole width.
func (p *referralPanel) setPDFViewer(v *pdfViewer, showing string, top fyne.CanvasObject) {
	obj := v.Object()
	if top != nil {
		obj = container.NewBorder(top, nil, nil, nil, obj)
	}
	p.setViewer(obj, showing)
	p.viewer = v
	v.viewMoved()
}

func (p *referralPanel) closeViewer() {
	if p.viewer != nil {
		p.viewer.Close()
		p.viewer = nil
	}
}

// backBar offers the way back to the referral's own CRI.
func (p *referralPanel) backBar(what string) fyne.CanvasObject {
	btn := widget.NewButtonWithIcon("Back to this referral's clinical information", theme.NavigateBackIcon(), p.loadCRI)
	return container.NewBorder(nil, nil, btn, nil, middleLabel(what, fyne.TextStyle{Bold: true}))
}

// relatedBar says, across the whole viewer and in full (it wraps, it is
// never cut short), that the letter below is a related referral's, with
// its own UBRN and the UBRN of the referral in the header, and offers the
// way back to the open referral's own letter.
func (p *referralPanel) relatedBar(ubrn string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(fmt.Sprintf("Related referral UBRN %s – this is that referral's clinical information, not the letter of UBRN %s shown in the header above.",
		widgets.UBRNText(ubrn), widgets.UBRNText(p.ubrn)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	btn := widget.NewButtonWithIcon("Back to this referral's clinical information", theme.NavigateBackIcon(), p.loadCRI)
	strip := colourBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, l), style.ColorNameUrgent)
	return container.NewVBox(strip, container.NewHBox(btn))
}
