package vetting

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// TestRelatedReferralsLetterIsLabelledWithItsOwnUBRN: opening a related
// referral's CRI from the referral view labels it, above the document and
// across the whole viewer, as a related referral with its own UBRN, in
// full (never cut short with "…"), on a 1280×800 screen; Back returns to
// the open referral's own letter.
func TestRelatedReferralsLetterIsLabelledWithItsOwnUBRN(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.win.Resize(fyne.NewSize(1240, 680))
	ctx := context.Background()
	row := h.firstRow(func(r triage.Row) bool {
		ref, err := apptest.Store(h.ws).Referral(ctx, r.UBRN)
		return err == nil && len(ref.Referral.RelatedUBRNs) > 0
	})
	p := h.open(row.UBRN)
	h.waitCRI()
	rel := p.referral().UBRNsToRead()[1]
	h.buttonIn(p.related, "UBRN "+widgets.UBRNText(rel)).OnTapped()
	h.waitFor("the related referral's CRI", func() bool {
		return p.showing == "related:"+rel && p.viewer != nil && len(p.viewer.pages) > 0 && p.viewer.pages[0].img.Image != nil
	})
	h.settle()
	drawn := strings.Join(renderedTexts(p.viewerArea), " ")
	if !strings.Contains(drawn, "UBRN "+widgets.UBRNText(rel)) || !strings.Contains(strings.ToLower(drawn), "related referral") {
		t.Errorf("the related referral's letter is not labelled with its own UBRN, in full: %q", drawn)
	}
	if !strings.Contains(drawn, widgets.UBRNText(row.UBRN)) {
		t.Errorf("the label does not say which referral the header is for: %q", drawn)
	}
	// The label is never truncated, whatever the width.
	uitest.WalkObjects(p.viewerArea, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, widgets.UBRNText(rel)) && l.Truncation != fyne.TextTruncateOff {
			t.Errorf("the label %q may be truncated", l.Text)
		}
	})
	h.buttonIn(p.viewerArea, "Back to this referral").OnTapped()
	h.waitFor("the referral's own CRI", func() bool { return p.showing == "cri" && p.viewer != nil })
	if strings.Contains(strings.Join(renderedTexts(p.viewerArea), " "), widgets.UBRNText(rel)) {
		t.Error("the related referral's label stayed on the referral's own letter")
	}
}
