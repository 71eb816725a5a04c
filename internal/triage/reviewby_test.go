package triage

import (
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestAddWorkingDays(t *testing.T) {
	cal := NewCalendar(EnglandAndWalesBankHolidays()...)
	tests := []struct {
		name  string
		start time.Time
		n     int
		want  time.Time
	}{
		{"same day", day(2026, 11, 18), 0, day(2026, 11, 18)},
		{"midweek", day(2026, 11, 18), 2, day(2026, 11, 20)},
		{"over a weekend", day(2026, 11, 20), 1, day(2026, 11, 23)},
		{"from a Saturday", day(2026, 11, 21), 1, day(2026, 11, 23)},
		{"over Christmas", day(2026, 12, 24), 1, day(2026, 12, 29)},
		{"over Easter", day(2026, 4, 2), 1, day(2026, 4, 7)},
		{"time of day dropped", time.Date(2026, 11, 18, 16, 30, 0, 0, time.UTC), 1, day(2026, 11, 19)},
	}
	for _, tt := range tests {
		if got := cal.AddWorkingDays(tt.start, tt.n); !got.Equal(tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, got.Format(time.DateOnly), tt.want.Format(time.DateOnly))
		}
	}
	var plain Calendar
	if got := plain.AddWorkingDays(day(2026, 12, 24), 1); !got.Equal(day(2026, 12, 25)) {
		t.Errorf("calendar without holidays skipped Christmas: %s", got)
	}
	custom := NewCalendar(day(2026, 11, 19))
	if got := custom.AddWorkingDays(day(2026, 11, 18), 1); !got.Equal(day(2026, 11, 20)) {
		t.Errorf("injected holiday not skipped: %s", got)
	}
}

func TestReviewBy(t *testing.T) {
	rd := testRefData()
	cal := NewCalendar(EnglandAndWalesBankHolidays()...)
	base := WorklistItem{List: ListReferralsForReview, ClinicalInfoFirstSubmitted: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}

	tests := []struct {
		name   string
		mutate func(*WorklistItem)
		want   time.Time
		ok     bool
	}{
		{"2WW triage: 2 working days", func(w *WorklistItem) { w.Priority = PriorityTwoWeekWait }, day(2026, 11, 18), true},
		{"urgent triage: 5 working days", func(w *WorklistItem) { w.Priority = PriorityUrgent }, day(2026, 11, 23), true},
		{"routine: 40 working days over Christmas", func(w *WorklistItem) { w.Priority = PriorityRoutine }, day(2027, 1, 14), true},
		{"deferred urgent: 10 working days", func(w *WorklistItem) { w.Priority = PriorityUrgent; w.List = ListAppointmentSlotIssues }, day(2026, 11, 30), true},
		{"appointment earlier than the contact days", func(w *WorklistItem) {
			w.Priority = PriorityRoutine
			w.AppointmentStart = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
		}, day(2026, 11, 25), true},
		{"falls back to pathway start", func(w *WorklistItem) {
			w.Priority = PriorityTwoWeekWait
			w.ClinicalInfoFirstSubmitted = time.Time{}
			w.PathwayStart = day(2026, 11, 20)
		}, day(2026, 11, 24), true},
		{"unknown priority", func(w *WorklistItem) { w.Priority = "X" }, time.Time{}, false},
		{"no dates", func(w *WorklistItem) { w.Priority = PriorityUrgent; w.ClinicalInfoFirstSubmitted = time.Time{} }, time.Time{}, false},
	}
	for _, tt := range tests {
		w := base
		tt.mutate(&w)
		got, ok := ReviewBy(w, rd, cal)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: got %s %v, want %s %v", tt.name, got.Format(time.DateOnly), ok, tt.want.Format(time.DateOnly), tt.ok)
		}
	}
	if _, ok := ReviewBy(base, &ReferenceData{}, cal); ok {
		t.Error("review-by without reference data")
	}
}

// TestAddWorkingDaysMatchesCountingDayByDay: counting by day numbers gives
// the date that stepping one calendar day at a time in the start's own
// time zone gives, for starts across five years (clock changes, leap
// days, bank holidays, any time of day) in London and UTC.
func TestAddWorkingDaysMatchesCountingDayByDay(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatalf("load Europe/London: %v", err)
	}
	holidays := EnglandAndWalesBankHolidays()
	cal := NewCalendar(holidays...)
	isHoliday := map[string]bool{}
	for _, h := range holidays {
		isHoliday[h.Format(time.DateOnly)] = true
	}
	stepping := func(start time.Time, n int) time.Time {
		y, m, d := start.Date()
		t := time.Date(y, m, d, 0, 0, 0, 0, start.Location())
		for n > 0 {
			t = t.AddDate(0, 0, 1)
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && !isHoliday[t.Format(time.DateOnly)] {
				n--
			}
		}
		return t
	}
	for _, loc := range []*time.Location{london, time.UTC} {
		for start := time.Date(2024, 1, 1, 23, 30, 0, 0, loc); start.Year() < 2029; start = start.Add(17 * time.Hour) {
			for _, n := range []int{0, 1, 5, 14, 31} {
				got, want := cal.AddWorkingDays(start, n), stepping(start, n)
				if !got.Equal(want) || got.Location() != loc {
					t.Fatalf("%d working days after %s: got %s, want %s", n, start, got, want)
				}
			}
		}
	}
}

// BenchmarkReviewByFor5000Rows works out the review-by date of 5,000
// worklist rows, as the worklist does at start-up.
func BenchmarkReviewByFor5000Rows(b *testing.B) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	cal := NewCalendar(EnglandAndWalesBankHolidays()...)
	starts := make([]time.Time, 5000)
	for i := range starts {
		starts[i] = time.Date(2026, 6, 1, 9, 0, 0, 0, london).Add(time.Duration(i) * 37 * time.Minute)
	}
	for b.Loop() {
		for _, s := range starts {
			cal.AddWorkingDays(s, 14)
		}
	}
}
