package triage

import (
	"maps"
	"slices"
)

// WorklistChangeKind is how one referral on a worklist differs from the
// previous pull.
type WorklistChangeKind int

// The kinds of worklist change.
const (
	// WorklistUnchanged: on both lists at the same version and context
	// status.
	WorklistUnchanged WorklistChangeKind = iota
	// WorklistNew: not on the previous list.
	WorklistNew
	// WorklistChanged: on both lists, at another version or context status.
	WorklistChanged
)

// WorklistChange is one item of the new worklist compared with the old.
type WorklistChange struct {
	// UBRN is the item's canonical UBRN (NormalizeUBRN).
	UBRN string
	// Item is the item as the new list has it.
	Item WorklistItem
	// Kind is how it differs from the old list.
	Kind WorklistChangeKind
	// ContextChanged is whether it was on the old list with another context
	// status (the referral must be downloaded again even at the same
	// version).
	ContextChanged bool
}

// WorklistDiff is how a worklist changed between two pulls.
type WorklistDiff struct {
	// Items has one change per item of the new list, in its order.
	Items []WorklistChange
	// Left are the canonical UBRNs on the old list but not the new one,
	// sorted.
	Left []string
	// New and Changed count the items of those kinds.
	New, Changed int
}

// WorklistByUBRN indexes items by canonical UBRN; a later item with the
// same UBRN replaces an earlier one.
func WorklistByUBRN(items []WorklistItem) map[string]WorklistItem {
	m := make(map[string]WorklistItem, len(items))
	for _, it := range items {
		m[NormalizeUBRN(it.UBRN)] = it
	}
	return m
}

// DiffWorklist compares the new worklist with the old: which items are new,
// which changed (another version or context status) and which left. UBRNs
// are compared in canonical form, however each list writes them.
func DiffWorklist(old, new []WorklistItem) WorklistDiff {
	prev := WorklistByUBRN(old)
	d := WorklistDiff{Items: make([]WorklistChange, 0, len(new))}
	still := make(map[string]bool, len(new))
	for _, it := range new {
		c := WorklistChange{UBRN: NormalizeUBRN(it.UBRN), Item: it}
		still[c.UBRN] = true
		p, seen := prev[c.UBRN]
		switch {
		case !seen:
			c.Kind = WorklistNew
			d.New++
		case p.Version != it.Version || p.ContextStatus != it.ContextStatus:
			c.Kind = WorklistChanged
			c.ContextChanged = p.ContextStatus != it.ContextStatus
			d.Changed++
		}
		d.Items = append(d.Items, c)
	}
	for _, u := range slices.Sorted(maps.Keys(prev)) {
		if !still[u] {
			d.Left = append(d.Left, u)
		}
	}
	return d
}
