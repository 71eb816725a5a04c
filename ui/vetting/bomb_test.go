package vetting

import (
	"context"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// A CRI whose page inflates to 1 GiB (generated here, about 1 MB) is
// refused within the viewer's limits: the CRI area says it is too large to
// draw safely, offers "Save a copy" and the e-RS ids, and shows no viewer.
func TestBombCRIShowsTooLargeToDrawWithSaveACopy(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.rows()[1]
	ctx := context.Background()
	meta, _, err := apptest.Store(h.ws).Document(ctx, row.UBRN, app.CRIDocumentID)
	if err != nil {
		t.Fatalf("the synced CRI: %v", err)
	}
	bomb := testutil.ContentBombPDF(1 << 30)
	if err := apptest.Store(h.ws).PutDocument(ctx, row.UBRN, meta, bomb); err != nil {
		t.Fatal(err)
	}
	p := h.open(row.UBRN)
	h.waitFor("the CRI area", func() bool {
		return strings.Contains(strings.Join(texts(p.viewerArea), " "), "could not be displayed")
	})
	shown := strings.Join(texts(p.viewerArea), " | ")
	for _, want := range []string{"This document could not be displayed: too large to draw safely.", "e-RS ids: UBRN " + widgets.UBRNText(row.UBRN), "Save a copy"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the CRI area lacks %q: %s", want, shown)
		}
	}
	if p.viewer != nil {
		t.Error("a PDF viewer is showing for a document refused as too large")
	}
}
