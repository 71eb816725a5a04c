package triage

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// LocalStatus is a worklist row's local state: a draft, or the state of its
// latest decision in the outbox.
type LocalStatus string

// The local statuses.
const (
	LocalNone     LocalStatus = ""
	LocalDraft    LocalStatus = "draft"
	LocalQueued   LocalStatus = "queued"
	LocalSending  LocalStatus = "sending"
	LocalSent     LocalStatus = "sent"
	LocalConflict LocalStatus = "conflict"
	LocalFailed   LocalStatus = "failed"
)

// LocalStatusOf maps an outbox state to the worklist status.
func LocalStatusOf(s OutboxState) LocalStatus {
	switch s {
	case OutboxQueued:
		return LocalQueued
	case OutboxSending:
		return LocalSending
	case OutboxSent:
		return LocalSent
	case OutboxConflict:
		return LocalConflict
	case OutboxFailed:
		return LocalFailed
	}
	return LocalNone
}

// Decided reports whether the referral has a decision queued, being sent
// or sent: "…and next" passes over it.
func (s LocalStatus) Decided() bool {
	return s == LocalQueued || s == LocalSending || s == LocalSent
}

// Label is the status as shown in the worklist.
func (s LocalStatus) Label() string {
	switch s {
	case LocalDraft:
		return "Draft"
	case LocalQueued:
		return "Queued"
	case LocalSending:
		return "Sending"
	case LocalSent:
		return "Sent"
	case LocalConflict:
		return "Conflict"
	case LocalFailed:
		return "Failed"
	}
	return ""
}

// Row is a worklist item with what the app knows locally about it: the
// derived review-by date, its local status and whether its documents are
// stored for offline reading.
type Row struct {
	WorklistItem
	ReviewBy     time.Time   `json:"reviewBy,omitzero"`
	Local        LocalStatus `json:"local,omitempty"`
	OfflineReady bool        `json:"offlineReady,omitempty"`
}

// Filter selects worklist rows. Empty fields match everything; within a
// field any listed value matches.
type Filter struct {
	Priorities         []Priority
	Types              []ReferralType
	Specialties        []string // specialty codes
	Services           []string // service ids
	ChangedSinceReview bool
	LocalStatuses      []LocalStatus
	// Text matches a UBRN or NHS number, with or without spaces.
	Text string
}

// IsZero reports whether the filter matches everything.
func (f Filter) IsZero() bool {
	return len(f.Priorities) == 0 && len(f.Types) == 0 && len(f.Specialties) == 0 &&
		len(f.Services) == 0 && !f.ChangedSinceReview && len(f.LocalStatuses) == 0 &&
		strings.TrimSpace(f.Text) == ""
}

// Match reports whether the row passes the filter.
func (f Filter) Match(r *Row) bool {
	return f.matcher()(r)
}

func (f Filter) matcher() func(*Row) bool {
	text := NormalizeNHSNumber(strings.TrimSpace(f.Text))
	return func(r *Row) bool {
		if len(f.Priorities) > 0 && !slices.Contains(f.Priorities, r.Priority) {
			return false
		}
		if len(f.Types) > 0 && !slices.Contains(f.Types, r.Type) {
			return false
		}
		if len(f.Specialties) > 0 && !slices.Contains(f.Specialties, r.Specialty.Code) {
			return false
		}
		if len(f.Services) > 0 && !slices.Contains(f.Services, r.Service.ID) {
			return false
		}
		if f.ChangedSinceReview && !r.ContextStatus.ChangedSinceReview() {
			return false
		}
		if len(f.LocalStatuses) > 0 && !slices.Contains(f.LocalStatuses, r.Local) {
			return false
		}
		if text != "" && !strings.Contains(r.UBRN, text) && !strings.Contains(r.NHSNumber, text) {
			return false
		}
		return true
	}
}

// Column is a worklist column that rows can be sorted by.
type Column int

// The sortable worklist columns.
const (
	ColumnPriority Column = iota
	ColumnType
	ColumnUBRN
	ColumnNHSNumber
	ColumnSpecialty
	ColumnService
	ColumnReceived
	ColumnDaysWaiting
	ColumnReviewBy
	ColumnChanged
	ColumnLocalStatus
	ColumnOffline
)

// Sort orders worklist rows by a column. The zero Sort is the clinical
// default: 2WW first, then urgent, then routine, oldest pathway start first.
type Sort struct {
	Column     Column
	Descending bool
}

func boolRank(b bool) int64 {
	if b {
		return 0
	}
	return 1
}

// timeKey orders zero (unknown) times last, at one-second resolution.
func timeKey(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64 >> 24
	}
	return t.Unix()
}

// sortKey is a compact copy of what one row sorts by, so sorting moves small
// values through contiguous memory instead of chasing pointers into large
// rows.
type sortKey struct {
	num int64 // primary key: a number, or the rank of a text value
	tie int64 // clinical tie-break: priority rank, then oldest pathway start
	idx int   // the row; its UBRN breaks any remaining tie
}

// text returns the text a text column sorts by, and whether the column is a
// text column.
func (s Sort) text(r *Row) (string, bool) {
	switch s.Column {
	case ColumnType:
		return string(r.Type), true
	case ColumnUBRN:
		return r.UBRN, true
	case ColumnNHSNumber:
		return r.NHSNumber, true
	case ColumnSpecialty:
		return r.Specialty.Label(), true
	case ColumnService:
		return r.Service.Label(), true
	case ColumnLocalStatus:
		return string(r.Local), true
	}
	return "", false
}

func (s Sort) number(r *Row) int64 {
	switch s.Column {
	case ColumnPriority:
		return int64(r.Priority.Rank())
	case ColumnReceived:
		return timeKey(r.Received())
	case ColumnDaysWaiting:
		// Most days waiting first means the oldest pathway start first.
		return timeKey(r.PathwayStart)
	case ColumnReviewBy:
		return timeKey(r.ReviewBy)
	case ColumnChanged:
		return boolRank(r.ContextStatus.ChangedSinceReview())
	case ColumnOffline:
		return boolRank(r.OfflineReady)
	}
	return 0
}

// FilterSort returns the rows that pass the filter, in the sort's order. Ties
// on the sort column fall back to the clinical order (priority, oldest
// pathway start, UBRN), so the order is total and the same on every run. The
// input is not modified; the result holds pointers into it.
func FilterSort(rows []Row, f Filter, s Sort) []*Row {
	match := f.matcher()
	keys := make([]sortKey, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if match(r) {
			keys = append(keys, sortKey{num: s.number(r), tie: int64(r.Priority.Rank())<<40 | timeKey(r.PathwayStart), idx: i})
		}
	}
	if _, isText := s.text(&Row{}); isText {
		s.rankText(rows, keys)
	}
	sign := 1
	if s.Descending {
		sign = -1
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if c := cmp.Compare(a.num, b.num); c != 0 {
			return sign * c
		}
		if c := cmp.Compare(a.tie, b.tie); c != 0 {
			return c
		}
		return strings.Compare(rows[a.idx].UBRN, rows[b.idx].UBRN)
	})
	out := make([]*Row, len(keys))
	for i := range keys {
		out[i] = &rows[keys[i].idx]
	}
	return out
}

// rankText sets each key's primary number to the rank of the row's text among
// the distinct values, so the sort compares integers.
func (s Sort) rankText(rows []Row, keys []sortKey) {
	distinct := map[string]int64{}
	for i := range keys {
		t, _ := s.text(&rows[keys[i].idx])
		distinct[t] = 0
	}
	values := make([]string, 0, len(distinct))
	for v := range distinct {
		values = append(values, v)
	}
	slices.Sort(values)
	for i, v := range values {
		distinct[v] = int64(i)
	}
	for i := range keys {
		t, _ := s.text(&rows[keys[i].idx])
		keys[i].num = distinct[t]
	}
}

// Counts summarises a worklist for the header line
// ("42 to review · 5 2WW · 3 queued").
type Counts struct {
	ToReview int
	TwoWeek  int
	Urgent   int
	Changed  int
	ByLocal  map[LocalStatus]int
}

// Count summarises rows. A row counts as "to review" until its decision has
// been sent.
func Count(rows []Row) Counts {
	c := Counts{ByLocal: map[LocalStatus]int{}}
	for i := range rows {
		r := &rows[i]
		c.ByLocal[r.Local]++
		if r.Local == LocalSent {
			continue
		}
		c.ToReview++
		switch r.Priority {
		case PriorityTwoWeekWait:
			c.TwoWeek++
		case PriorityUrgent:
			c.Urgent++
		}
		if r.ContextStatus.ChangedSinceReview() {
			c.Changed++
		}
	}
	return c
}
