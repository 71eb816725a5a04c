package vetting

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

// twoPageLetter makes a synthetic two-page A4 letter whose first page ends
// with the medication and allergies, as a referral letter often does.
func twoPageLetter(t testing.TB) []byte {
	t.Helper()
	type font struct {
		Name string  `json:"name"`
		Size float64 `json:"size"`
	}
	type text struct {
		Value string     `json:"value"`
		Pos   [2]float64 `json:"pos"`
		Font  font       `json:"font"`
	}
	page := func(lines ...text) map[string]any { return map[string]any{"content": map[string]any{"text": lines}} }
	f := font{Name: "Helvetica", Size: 12}
	desc := map[string]any{"paper": "A4P", "origin": "UpperLeft", "pages": map[string]any{
		"1": page(text{"Dear Doctor, re: synthetic patient (test data)", [2]float64{56, 60}, f},
			text{"Current medication: amlodipine 5 mg once daily", [2]float64{56, 760}, f},
			text{"Allergies: penicillin (rash)", [2]float64{56, 790}, f}),
		"2": page(text{"Page two: plan and follow-up", [2]float64{56, 60}, f}),
	}}
	js, err := json.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	api.DisableConfigDir()
	if err := api.Create(nil, bytes.NewReader(js), &out, nil); err != nil {
		t.Fatalf("make the letter: %v", err)
	}
	return out.Bytes()
}

// TestPageDownNeverSkipsTheFootOfAPage: on a letter whose page is taller
// than the viewer, Page Down moves by one viewport (less a small overlap),
// so the foot of page 1 (medication, allergies) is shown before page 2;
// repeated presses reach the end without any jump larger than the view,
// and Page Up comes back the same way.
func TestPageDownNeverSkipsTheFootOfAPage(t *testing.T) {
	v, loop, _ := showInViewer(t, twoPageLetter(t), 560, 520)
	loop.RunFor(100 * time.Millisecond)

	h := v.scroll.Size().Height
	page1 := v.pageSize(0).Height
	if page1 <= h {
		t.Fatalf("page 1 is %v high in a %v-high view: the letter must be taller than the view", page1, h)
	}
	maxY := v.box.MinSize().Height - h
	var offsets []float32
	for range 20 {
		before := v.scroll.Offset.Y
		v.PageDown()
		after := v.scroll.Offset.Y
		if after-before > h {
			t.Fatalf("Page Down from %v jumped to %v: more than the %v-high view, so part of the letter was never shown", before, after, h)
		}
		if after == before {
			break
		}
		if after-before < h/2 {
			t.Errorf("Page Down from %v moved only to %v in a %v-high view", before, after, h)
		}
		offsets = append(offsets, after)
	}
	if len(offsets) == 0 || offsets[len(offsets)-1] != maxY {
		t.Fatalf("Page Down stopped at %v, want the end at %v", offsets, maxY)
	}
	// The foot of page 1 was on screen before page 2's top reached the top.
	foot := v.tops[0] + page1
	shown := false
	for _, y := range offsets {
		if y < v.tops[1]-pageGap && y+h >= foot {
			shown = true
		}
	}
	if !shown {
		t.Errorf("the foot of page 1 (at %v) was never on screen (offsets %v, view %v high)", foot, offsets, h)
	}
	if got := v.PageLabel(); got != "Page 2 of 2" {
		t.Errorf("at the end: %q", got)
	}
	for range 20 {
		before := v.scroll.Offset.Y
		v.PageUp()
		if d := before - v.scroll.Offset.Y; d > h {
			t.Fatalf("Page Up from %v jumped to %v", before, v.scroll.Offset.Y)
		}
		if v.scroll.Offset.Y == before {
			break
		}
	}
	if v.scroll.Offset.Y != 0 {
		t.Errorf("Page Up stopped at %v, want the top", v.scroll.Offset.Y)
	}
}
