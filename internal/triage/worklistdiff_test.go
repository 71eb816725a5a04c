package triage

import (
	"slices"
	"testing"
)

func TestDiffWorklist(t *testing.T) {
	item := func(u string, v int, cs RequestContextStatus) WorklistItem {
		return WorklistItem{UBRN: u, Version: v, ContextStatus: cs}
	}
	type want struct {
		kinds          []WorklistChangeKind
		contextChanged []bool
		left           []string
		nw, changed    int
	}
	for _, tc := range []struct {
		name     string
		old, new []WorklistItem
		want     want
	}{
		{name: "both empty", want: want{kinds: []WorklistChangeKind{}, contextChanged: []bool{}}},
		{name: "first pull", new: []WorklistItem{item("100000000001", 1, ""), item("100000000002", 1, "")},
			want: want{kinds: []WorklistChangeKind{WorklistNew, WorklistNew}, contextChanged: []bool{false, false}, nw: 2}},
		{name: "nothing changed", old: []WorklistItem{item("100000000001", 1, ContextNeverReviewed)},
			new:  []WorklistItem{item("100000000001", 1, ContextNeverReviewed)},
			want: want{kinds: []WorklistChangeKind{WorklistUnchanged}, contextChanged: []bool{false}}},
		{name: "new version", old: []WorklistItem{item("100000000001", 1, "")}, new: []WorklistItem{item("100000000001", 2, "")},
			want: want{kinds: []WorklistChangeKind{WorklistChanged}, contextChanged: []bool{false}, changed: 1}},
		{name: "context status changed at the same version",
			old:  []WorklistItem{item("100000000001", 3, ContextNeverReviewed)},
			new:  []WorklistItem{item("100000000001", 3, ContextLetterChanged)},
			want: want{kinds: []WorklistChangeKind{WorklistChanged}, contextChanged: []bool{true}, changed: 1}},
		{name: "left, sorted", old: []WorklistItem{item("100000000003", 1, ""), item("100000000001", 1, ""), item("100000000002", 1, "")},
			new:  []WorklistItem{item("100000000002", 1, "")},
			want: want{kinds: []WorklistChangeKind{WorklistUnchanged}, contextChanged: []bool{false}, left: []string{"100000000001", "100000000003"}}},
		{name: "all left", old: []WorklistItem{item("100000000001", 1, "")},
			want: want{kinds: []WorklistChangeKind{}, contextChanged: []bool{}, left: []string{"100000000001"}}},
		{name: "UBRNs compared however written", old: []WorklistItem{item("1000 0000 0001", 1, "")},
			new:  []WorklistItem{item("100000000001", 1, ""), item("1000-0000-0002", 1, "")},
			want: want{kinds: []WorklistChangeKind{WorklistUnchanged, WorklistNew}, contextChanged: []bool{false, false}, nw: 1}},
		{name: "mixed", old: []WorklistItem{item("100000000001", 1, ""), item("100000000002", 1, ""), item("100000000004", 1, "")},
			new: []WorklistItem{item("100000000003", 1, ""), item("100000000002", 2, ""), item("100000000001", 1, "")},
			want: want{kinds: []WorklistChangeKind{WorklistNew, WorklistChanged, WorklistUnchanged}, contextChanged: []bool{false, false, false},
				left: []string{"100000000004"}, nw: 1, changed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DiffWorklist(tc.old, tc.new)
			kinds, ctx := []WorklistChangeKind{}, []bool{}
			for i, c := range d.Items {
				kinds, ctx = append(kinds, c.Kind), append(ctx, c.ContextChanged)
				if c.UBRN != NormalizeUBRN(tc.new[i].UBRN) || c.Item != tc.new[i] {
					t.Errorf("item %d = %q %+v, want the new list's %+v", i, c.UBRN, c.Item, tc.new[i])
				}
			}
			if !slices.Equal(kinds, tc.want.kinds) || !slices.Equal(ctx, tc.want.contextChanged) {
				t.Errorf("kinds %v context %v, want %v %v", kinds, ctx, tc.want.kinds, tc.want.contextChanged)
			}
			if !slices.Equal(d.Left, tc.want.left) || d.New != tc.want.nw || d.Changed != tc.want.changed {
				t.Errorf("left %v new %d changed %d, want %v %d %d", d.Left, d.New, d.Changed, tc.want.left, tc.want.nw, tc.want.changed)
			}
		})
	}
}

func TestWorklistByUBRN(t *testing.T) {
	m := WorklistByUBRN([]WorklistItem{{UBRN: "1000 0000 0001", Version: 1}, {UBRN: "100000000001", Version: 2}, {UBRN: "100000000002"}})
	if len(m) != 2 || m["100000000001"].Version != 2 {
		t.Errorf("WorklistByUBRN = %v", m)
	}
}
