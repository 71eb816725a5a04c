package vetting

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// laptop is a common NHS laptop screen: the window must fit on it.
var laptop = fyne.NewSize(1280, 800)

// checkFits fails if the window's content needs more than the laptop
// screen (the window would grow past it).
func (h *harness) checkFits(what string) {
	h.t.Helper()
	h.settle()
	if m := h.win.Content().MinSize(); m.Width > laptop.Width || m.Height > laptop.Height {
		h.t.Errorf("%s: the window needs %.0f×%.0f, more than a %.0f×%.0f screen", what, m.Width, m.Height, laptop.Width, laptop.Height)
	}
}

// TestExcludedSearchDoesNotGrowTheWindow: a search the filters exclude
// shows its empty-state text wrapped across the worklist, not one
// character per line in a window taller than the screen.
func TestExcludedSearchDoesNotGrowTheWindow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	h.checkFits("the worklist")
	r := h.booked(false)
	h.v.list.kind.SetSelected("RAS")
	h.v.list.search.SetText(r.UBRN)
	h.settle()
	if !h.v.list.empty.Visible() {
		t.Fatal("no empty-state text for a search the filters exclude")
	}
	h.checkFits("a search the filters exclude")
	if w := h.v.list.empty.Size().Width; w < 200 {
		t.Errorf("the empty-state text is %.0f wide: it does not wrap across the worklist", w)
	}
}

// TestLongAttachmentNameDoesNotWidenTheWindow: a 3000-character file name
// attached to a decision wraps or is cut short inside the form.
func TestLongAttachmentNameDoesNotWidenTheWindow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	ras := h.firstRow(func(r triage.Row) bool {
		return r.Type == triage.ReferralTypeTriageDeferral && r.Local == triage.LocalNone
	})
	p := h.open(ras.UBRN)
	h.typeKeys("t")
	f := p.decision.form
	if f == nil || f.files == nil {
		t.Fatal("no triage-outcome form with an attachment")
	}
	h.checkFits("the triage-outcome form")
	name := strings.Repeat("x", 2996) + ".pdf"
	f.files.AttachFrom(name, io.NopCloser(strings.NewReader("%PDF-1.4 a letter")))
	h.waitFor("the attachment", func() bool { return len(f.files.Files()) > 0 })
	h.checkFits("a 3000-character file name")
}

// TestPreviewAndRelatedReferralDoNotWidenTheWindow: previewing each
// attachment (a wide image or PDF page) and opening a related referral's
// letter keep the window within a 1280×800 screen; the preview is scaled
// or scrolled inside the viewer.
func TestPreviewAndRelatedReferralDoNotWidenTheWindow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(laptop)
	ctx := context.Background()
	st := apptest.Store(h.ws)
	withDocs := h.firstRow(func(r triage.Row) bool {
		ref, err := st.Referral(ctx, r.UBRN)
		return err == nil && len(ref.Referral.Documents) >= 2
	})
	ref, _ := st.Referral(ctx, withDocs.UBRN)
	// The first attachment becomes a PDF letter, the second a very wide
	// scanned image.
	_, letter, err := st.Document(ctx, withDocs.UBRN, app.CRIDocumentID)
	if err != nil {
		t.Fatal(err)
	}
	var wide bytes.Buffer
	if err := png.Encode(&wide, image.NewRGBA(image.Rect(0, 0, 6000, 400))); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		data []byte
		typ  string
	}{{letter, "application/pdf"}, {wide.Bytes(), "image/png"}} {
		d := ref.Referral.Documents[i]
		meta := app.DocumentMeta{ID: d.ID, Kind: app.DocumentAttachment, Title: d.Title, ContentType: c.typ, Availability: triage.AvailabilityAvailable}
		if err := st.PutDocument(ctx, withDocs.UBRN, meta, c.data); err != nil {
			t.Fatal(err)
		}
	}
	p := h.open(withDocs.UBRN)
	h.waitCRI()
	h.checkFits("an open referral")
	previews := buttonsIn(p.attachments, "Preview")
	if len(previews) < 2 {
		t.Fatalf("%d attachments to preview", len(previews))
	}
	for _, b := range previews {
		b.OnTapped()
		h.waitFor("the preview", func() bool {
			return !strings.Contains(strings.Join(texts(p.viewerArea), " "), "Opening the attachment")
		})
		h.checkFits("a previewed attachment (" + p.showing + ")")
	}
	row := h.firstRow(func(r triage.Row) bool {
		ref, err := apptest.Store(h.ws).Referral(ctx, r.UBRN)
		return err == nil && len(ref.Referral.RelatedUBRNs) > 0
	})
	p = h.open(row.UBRN)
	if p.showing != "cri" {
		h.buttonIn(p.viewerArea, "Back to this referral").OnTapped()
	}
	h.waitCRI()
	rel := p.referral().UBRNsToRead()[1]
	h.buttonIn(p.related, "UBRN "+widgets.UBRNText(rel)).OnTapped()
	h.waitFor("the related referral's CRI", func() bool {
		return p.showing == "related:"+rel && p.viewer != nil && len(p.viewer.pages) > 0 && p.viewer.pages[0].img.Image != nil
	})
	h.checkFits("a related referral's letter")
	h.buttonIn(p.viewerArea, "Back to this referral").OnTapped()
	h.waitFor("the referral's own CRI", func() bool { return p.showing == "cri" && p.viewer != nil })
	h.checkFits("back on the referral's own letter")
}

// buttonsIn lists the buttons inside obj whose text starts with text.
func buttonsIn(obj fyne.CanvasObject, text string) []*widget.Button {
	var out []*widget.Button
	uitest.WalkObjects(obj, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, text) {
			out = append(out, b)
		}
	})
	return out
}

// TestLargerTextFitsALaptopScreen: with a referral open, the window needs
// no more than a 1280×800 screen at every text size up to Largest (at
// Larger, the worklist's filters once needed 1291 px: three columns of the
// widest filter).
func TestLargerTextFitsALaptopScreen(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.open(h.booked(true).UBRN)
	h.waitCRI()
	for _, ts := range []config.TextSize{config.TextNormal, config.TextLarger, config.TextLargest} {
		fyne.CurrentApp().Settings().SetTheme(style.NewTheme(&config.Settings{TextSize: ts}))
		h.settle()
		if min := h.win.Content().MinSize(); min.Width > 1280 || min.Height > 800 {
			t.Errorf("%s text: the window needs %.0f×%.0f, more than a 1280×800 screen", ts, min.Width, min.Height)
		}
	}
}

// TestTallHeaderAndBannersFitALaptopScreen: at Largest text, with the
// "changed in e-RS" strip in the referral's header and a three-line
// banner above everything (a conflict naming the referral and patient),
// the window still needs no more than a 1280×800 screen: the header
// scrolls inside its half of the panel instead of growing the window (it
// needed 933 px at Larger).
func TestTallHeaderAndBannersFitALaptopScreen(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := h.booked(true).UBRN
	p := h.open(u)
	h.waitCRI()
	p.noteChanged(p.referral().Version + 1) // as when the engine finds a newer version
	if len(p.changed.Objects) == 0 {
		t.Fatal("no changed-in-e-RS strip")
	}
	banner, _ := widgets.BannerStrip(theme.ErrorIcon(), strings.Repeat("Not sent: referral UBRN 1001 0000 0306 (NHS number 999 275 5598) had already been actioned in e-RS. ", 3),
		theme.ColorNameError, widget.NewButton("Review in the outbox", nil))
	h.frame.SetBanner(frame.BannerConflict, banner)
	for _, ts := range []config.TextSize{config.TextLarger, config.TextLargest} {
		fyne.CurrentApp().Settings().SetTheme(style.NewTheme(&config.Settings{TextSize: ts}))
		h.win.Resize(laptop) // the header's lines wrap at the laptop's width
		h.settle()
		if min := h.win.Content().MinSize(); min.Height > laptop.Height || min.Width > laptop.Width {
			t.Errorf("%s text with a tall header and banner: the window needs %.0f×%.0f, more than a 1280×800 screen", ts, min.Width, min.Height)
		}
		// The strip stays in view: not inside the header's scroll, and
		// on the screen.
		uitest.WalkObjects(p.header, func(o fyne.CanvasObject) {
			if o == p.changed {
				t.Errorf("%s text: the changed-in-e-RS strip is inside the header, which scrolls", ts)
			}
		})
		at := fyne.CurrentApp().Driver().AbsolutePositionForObject(p.changed)
		if !p.changed.Visible() || at.Y+p.changed.Size().Height > laptop.Height || p.changed.Size().Height < 10 {
			t.Errorf("%s text: the changed-in-e-RS strip is at y %.0f, %.0f px tall: not in view on a 1280×800 screen", ts, at.Y, p.changed.Size().Height)
		}
	}
}
