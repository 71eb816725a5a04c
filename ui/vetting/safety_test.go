package vetting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// TestDataAsOfTurnsAmberThenRedOnERSsClock: the header card's "data as
// of" is plain while the data is younger than the sync interval, an amber
// badge when older, a red one when more than a day old, and the age is
// measured on e-RS's clock: a computer whose clock runs two hours slow
// does not make old data look fresh.
func TestDataAsOfTurnsAmberThenRedOnERSsClock(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	p := h.open(h.rows()[0].UBRN)
	asOf := p.asOfTime()
	if asOf.IsZero() {
		t.Fatal("the open referral has no e-RS time")
	}
	say := func(now time.Time, offset time.Duration) string {
		h.v.now = func() time.Time { return now }
		h.v.sync.ServerOffset = offset
		p.refreshAsOf()
		return strings.Join(texts(p.asOf), " ")
	}
	interval := h.v.syncInterval()
	if got := say(asOf.Add(time.Minute), 0); !strings.HasPrefix(got, "Data as of ") || strings.Contains(got, "older") || strings.Contains(got, "more than") {
		t.Errorf("fresh data shows %q", got)
	}
	if got := say(asOf.Add(interval+time.Minute), 0); !strings.Contains(got, "older than the") {
		t.Errorf("data older than the sync interval shows %q, want the amber badge", got)
	}
	if got := say(asOf.Add(25*time.Hour), 0); !strings.Contains(got, "more than a day old") {
		t.Errorf("data 25 hours old shows %q, want the red badge", got)
	}
	// This computer's clock is two hours behind e-RS's: by its own clock
	// the data is a minute old, by e-RS's it is two hours old.
	if got := say(asOf.Add(time.Minute), 2*time.Hour); !strings.Contains(got, "older than the") {
		t.Errorf("with the local clock two hours slow the header shows %q, want the amber badge", got)
	}
}

// TestCRIOnScreenIsTheOpenPatients: the CRI drawn beside the header card
// is the open referral's: its text has the header's NHS number, and after
// opening another patient's referral the new CRI has the new patient's
// number and not the first one's.
func TestCRIOnScreenIsTheOpenPatients(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rows := h.rows()
	first := rows[0]
	var second triage.Row
	for _, r := range rows[1:] {
		if r.NHSNumber != first.NHSNumber {
			second = r
			break
		}
	}
	find := func(q string) string {
		v := h.v.panel.viewer
		v.Find(q)
		h.waitFor("the search", func() bool { return v.FindInfo() != "Searching…" })
		return v.FindInfo()
	}
	p := h.open(first.UBRN)
	h.waitCRI()
	if !strings.Contains(strings.Join(texts(p.header), " "), triage.FormatNHSNumber(first.NHSNumber)) {
		t.Fatal("the header card does not show the first patient")
	}
	if got := find(triage.FormatNHSNumber(first.NHSNumber)); got == "Not found" || got == "Search failed" {
		t.Errorf("the first patient's NHS number in their CRI: %q", got)
	}
	h.open(second.UBRN)
	h.waitCRI()
	if got := find(triage.FormatNHSNumber(second.NHSNumber)); got == "Not found" || got == "Search failed" {
		t.Errorf("the second patient's NHS number in their CRI: %q", got)
	}
	if got := find(triage.FormatNHSNumber(first.NHSNumber)); got != "Not found" {
		t.Errorf("the first patient's NHS number in the second patient's CRI: %q", got)
	}
}

// TestUnreadableCRIShowsWhyNotABlankPage: a CRI that cannot be displayed
// (here truncated in the cache) shows "This document could not be
// displayed" with the reason, the e-RS ids to report it and "Save a copy";
// never an empty viewer.
func TestUnreadableCRIShowsWhyNotABlankPage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.rows()[1]
	ctx := context.Background()
	meta, data, err := apptest.Store(h.ws).Document(ctx, row.UBRN, app.CRIDocumentID)
	if err != nil {
		t.Fatalf("the synced CRI: %v", err)
	}
	meta.Size = int64(len(data) / 3)
	if err := apptest.Store(h.ws).PutDocument(ctx, row.UBRN, meta, data[:len(data)/3]); err != nil {
		t.Fatal(err)
	}
	if meta.Kind != app.DocumentCRI {
		t.Fatalf("document kind %q", meta.Kind)
	}
	p := h.open(row.UBRN)
	h.waitFor("the CRI area", func() bool {
		return strings.Contains(strings.Join(texts(p.viewerArea), " "), "could not be displayed")
	})
	shown := strings.Join(texts(p.viewerArea), " | ")
	for _, want := range []string{"This document could not be displayed", "e-RS ids: UBRN " + widgets.UBRNText(row.UBRN), "Save a copy"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the CRI area lacks %q: %s", want, shown)
		}
	}
	if p.viewer != nil {
		t.Error("a PDF viewer is showing for a document that could not be opened")
	}
}
