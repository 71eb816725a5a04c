package triage

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func sampleRows() []Row {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	return []Row{
		{WorklistItem: WorklistItem{UBRN: "000000000001", NHSNumber: "9990000018", Priority: PriorityRoutine, Type: ReferralTypeAppointment,
			Specialty: Coding{Code: "CARDIOLOGY"}, Service: Service{ID: "S1", Name: "Cardiology Clinic"}, PathwayStart: t0,
			ContextStatus: ContextNeverReviewed}, Local: LocalQueued},
		{WorklistItem: WorklistItem{UBRN: "000000000002", NHSNumber: "9990000026", Priority: PriorityTwoWeekWait, Type: ReferralTypeTriageDeferral,
			Specialty: Coding{Code: "DERMATOLOGY"}, Service: Service{ID: "S2", Name: "Skin Cancer RAS"}, PathwayStart: t0.AddDate(0, 0, 5),
			ContextStatus: ContextLetterChanged}, OfflineReady: true},
		{WorklistItem: WorklistItem{UBRN: "000000000003", NHSNumber: "9990000034", Priority: PriorityUrgent, Type: ReferralTypeAppointment,
			Specialty: Coding{Code: "CARDIOLOGY"}, Service: Service{ID: "S1", Name: "Cardiology Clinic"}, PathwayStart: t0.AddDate(0, 0, 2),
			ContextStatus: ContextPriorityChanged}, Local: LocalSent},
		{WorklistItem: WorklistItem{UBRN: "000000000004", NHSNumber: "9990000042", Priority: PriorityTwoWeekWait, Type: ReferralTypeAppointment,
			Specialty: Coding{Code: "GASTRO"}, Service: Service{ID: "S3", Name: "Endoscopy"}, PathwayStart: t0.AddDate(0, 0, 1),
			ContextStatus: ContextNeverReviewed}, Local: LocalConflict},
	}
}

func ubrns(rs []*Row) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.UBRN[10:]
	}
	return out
}

func TestFilterSortDefaultIsClinicalOrder(t *testing.T) {
	got := ubrns(FilterSort(sampleRows(), Filter{}, Sort{}))
	// 2WW first (oldest pathway start first), then urgent, then routine.
	if want := []string{"04", "02", "03", "01"}; !slices.Equal(got, want) {
		t.Errorf("default order %v, want %v", got, want)
	}
}

func TestFilterSortColumns(t *testing.T) {
	tests := []struct {
		sort Sort
		want []string
	}{
		{Sort{Column: ColumnUBRN}, []string{"01", "02", "03", "04"}},
		{Sort{Column: ColumnUBRN, Descending: true}, []string{"04", "03", "02", "01"}},
		{Sort{Column: ColumnPriority, Descending: true}, []string{"01", "03", "04", "02"}},
		{Sort{Column: ColumnDaysWaiting}, []string{"01", "04", "03", "02"}},
		{Sort{Column: ColumnService}, []string{"03", "01", "04", "02"}},
		{Sort{Column: ColumnChanged}, []string{"02", "03", "04", "01"}},
		{Sort{Column: ColumnOffline}, []string{"02", "04", "03", "01"}},
		{Sort{Column: ColumnLocalStatus}, []string{"02", "04", "01", "03"}},
		{Sort{Column: ColumnType}, []string{"04", "03", "01", "02"}},
		{Sort{Column: ColumnNHSNumber}, []string{"01", "02", "03", "04"}},
		{Sort{Column: ColumnSpecialty}, []string{"03", "01", "02", "04"}},
	}
	for _, tt := range tests {
		if got := ubrns(FilterSort(sampleRows(), Filter{}, tt.sort)); !slices.Equal(got, tt.want) {
			t.Errorf("sort %+v: %v, want %v", tt.sort, got, tt.want)
		}
	}
}

func TestFilterSortFilters(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"priority", Filter{Priorities: []Priority{PriorityTwoWeekWait}}, []string{"04", "02"}},
		{"type", Filter{Types: []ReferralType{ReferralTypeTriageDeferral}}, []string{"02"}},
		{"specialty", Filter{Specialties: []string{"CARDIOLOGY"}}, []string{"03", "01"}},
		{"service", Filter{Services: []string{"S3", "S2"}}, []string{"04", "02"}},
		{"changed since review", Filter{ChangedSinceReview: true}, []string{"02", "03"}},
		{"local status", Filter{LocalStatuses: []LocalStatus{LocalNone, LocalQueued}}, []string{"02", "01"}},
		{"UBRN", Filter{Text: "000000000003"}, []string{"03"}},
		{"NHS number with spaces", Filter{Text: "999 000 0042"}, []string{"04"}},
		{"NHS number partial", Filter{Text: "00000"}, []string{"04", "02", "03", "01"}},
		{"no match", Filter{Text: "123456"}, []string{}},
		{"combined", Filter{Priorities: []Priority{PriorityTwoWeekWait}, Types: []ReferralType{ReferralTypeAppointment}}, []string{"04"}},
	}
	for _, tt := range tests {
		if got := ubrns(FilterSort(sampleRows(), tt.f, Sort{})); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if tt.f.IsZero() {
			t.Errorf("%s: filter reports zero", tt.name)
		}
	}
	if !(Filter{Text: "  "}).IsZero() {
		t.Error("blank filter not zero")
	}
}

func TestCount(t *testing.T) {
	c := Count(sampleRows())
	if c.ToReview != 3 || c.TwoWeek != 2 || c.Urgent != 0 || c.Changed != 1 || c.ByLocal[LocalQueued] != 1 || c.ByLocal[LocalSent] != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestOutboxStates(t *testing.T) {
	for _, s := range OutboxStates {
		if s.Unsent() == s.Terminal() && s != OutboxDiscarded && s != OutboxSent {
			t.Errorf("%s both/neither unsent and terminal", s)
		}
		if s != OutboxDiscarded && LocalStatusOf(s).Label() == "" {
			t.Errorf("%s has no worklist label", s)
		}
	}
	if OutboxSent.Unsent() || !OutboxConflict.Unsent() || !OutboxDiscarded.Terminal() {
		t.Error("state classification wrong")
	}
}

func TestDaysWaiting(t *testing.T) {
	w := WorklistItem{PathwayStart: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	if d := w.DaysWaiting(time.Date(2026, 11, 21, 11, 0, 0, 0, time.UTC)); d != 19 {
		t.Errorf("days waiting %d", d)
	}
	if d := w.DaysWaiting(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)); d != 0 {
		t.Errorf("negative days waiting %d", d)
	}
}

// syntheticRows builds n worklist rows with a realistic mix of priorities,
// specialties, services and local statuses.
func syntheticRows(n int) []Row {
	rng := rand.New(rand.NewPCG(42, 42))
	specs := []string{"CARDIOLOGY", "DERMATOLOGY", "GASTRO", "ENT", "UROLOGY", "NEUROLOGY", "RHEUMATOLOGY", "GYNAECOLOGY"}
	locals := []LocalStatus{LocalNone, LocalNone, LocalNone, LocalDraft, LocalQueued, LocalSent, LocalConflict}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]Row, n)
	for i := range rows {
		p := PriorityRoutine
		switch x := rng.IntN(100); {
		case x < 10:
			p = PriorityTwoWeekWait
		case x < 35:
			p = PriorityUrgent
		}
		ty := ReferralTypeAppointment
		if rng.IntN(2) == 0 {
			ty = ReferralTypeTriageDeferral
		}
		svc := rng.IntN(12)
		rows[i] = Row{WorklistItem: WorklistItem{
			UBRN: fmt.Sprintf("%012d", rng.Int64N(1e12)), NHSNumber: SyntheticNHSNumber(rng), Priority: p, Type: ty,
			Specialty: Coding{Code: specs[svc%len(specs)]}, Service: Service{ID: fmt.Sprint(11000 + svc), Name: fmt.Sprintf("Service %d", svc)},
			PathwayStart:  t0.Add(time.Duration(rng.IntN(300*24)) * time.Hour),
			ContextStatus: RequestContextStatuses[rng.IntN(len(RequestContextStatuses))],
		}, Local: locals[rng.IntN(len(locals))], OfflineReady: rng.IntN(3) > 0}
	}
	return rows
}

func TestFilterSortLargeIsTotalOrder(t *testing.T) {
	rows := syntheticRows(5000)
	for _, col := range []Column{ColumnPriority, ColumnService, ColumnReviewBy, ColumnLocalStatus} {
		a := FilterSort(rows, Filter{}, Sort{Column: col})
		b := FilterSort(rows, Filter{}, Sort{Column: col})
		if len(a) != len(rows) || !slices.Equal(ubrns(a), ubrns(b)) {
			t.Fatalf("column %d: order not deterministic", col)
		}
	}
}

// BenchmarkWorklistFilterSort10k measures one filter and sort of 10,000
// worklist rows, as done on every keystroke in the search box and every
// column-header click. Goal: at most 5 ms.
func BenchmarkWorklistFilterSort10k(b *testing.B) {
	rows := syntheticRows(10_000)
	f := Filter{Priorities: []Priority{PriorityTwoWeekWait, PriorityUrgent, PriorityRoutine}, LocalStatuses: []LocalStatus{LocalNone, LocalDraft, LocalQueued, LocalConflict}, Text: "9"}
	b.ReportAllocs()
	for b.Loop() {
		out := FilterSort(rows, f, Sort{Column: ColumnService, Descending: true})
		if len(out) == 0 {
			b.Fatal("nothing matched")
		}
	}
}
