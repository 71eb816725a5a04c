package triage

import "time"

// Calendar counts working days: Monday to Friday, excluding bank holidays.
// The zero Calendar has no bank holidays.
type Calendar struct {
	// holidays holds each holiday as its day number (days since
	// 1970-01-01, the date alone).
	holidays map[int64]bool
}

// dayNumber is the date of t (in t's location) as days since 1970-01-01.
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

const secondsPerDay = 24 * 60 * 60

// NewCalendar returns a calendar that treats the given days as holidays. Only
// the date part of each time matters.
func NewCalendar(holidays ...time.Time) Calendar {
	c := Calendar{holidays: make(map[int64]bool, len(holidays))}
	for _, h := range holidays {
		c.holidays[dayNumber(h)] = true
	}
	return c
}

// IsWorkingDay reports whether t falls on a weekday that is not a holiday.
func (c Calendar) IsWorkingDay(t time.Time) bool { return c.workingDay(dayNumber(t)) }

// workingDay reports whether day number n is a weekday that is not a
// holiday. 1970-01-01 was a Thursday.
func (c Calendar) workingDay(n int64) bool {
	switch time.Weekday(((n+4)%7 + 7) % 7) {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.holidays[n]
}

// AddWorkingDays returns the date n working days after start (the day itself
// does not count), at midnight in start's location. With n = 0 it returns
// start's own date. It counts day numbers, not times, so no time zone is
// consulted per day: the worklist works out every row's review-by date
// with it at start-up.
func (c Calendar) AddWorkingDays(start time.Time, n int) time.Time {
	day := dayNumber(start)
	for n > 0 {
		day++
		if c.workingDay(day) {
			n--
		}
	}
	y, m, d := time.Unix(day*secondsPerDay, 0).UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, start.Location())
}

// EnglandAndWalesBankHolidays returns the bank holidays in England and Wales
// for 2025 to 2027, the default holiday list. Deployments can add their own
// through the machine policy.
func EnglandAndWalesBankHolidays() []time.Time {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	return []time.Time{
		d(2025, 1, 1), d(2025, 4, 18), d(2025, 4, 21), d(2025, 5, 5), d(2025, 5, 26), d(2025, 8, 25), d(2025, 12, 25), d(2025, 12, 26),
		d(2026, 1, 1), d(2026, 4, 3), d(2026, 4, 6), d(2026, 5, 4), d(2026, 5, 25), d(2026, 8, 31), d(2026, 12, 25), d(2026, 12, 28),
		d(2027, 1, 1), d(2027, 3, 26), d(2027, 3, 29), d(2027, 5, 3), d(2027, 5, 31), d(2027, 8, 30), d(2027, 12, 27), d(2027, 12, 28),
	}
}

// ReviewBy derives the date by which a referral should be reviewed. e-RS has
// no review-by field; the PRIORITY reference data gives the working days
// within which a patient can expect contact (triageContactDays for referrals
// awaiting triage or booked, deferToProviderContactDays for Appointment Slot
// Issues deferrals), counted from when the clinical information was first
// submitted (or the pathway start). A booked referral must also be reviewed
// before its appointment, so the earlier of the two applies. ok is false when
// the reference data has no figure for the priority or the item has no date.
func ReviewBy(item WorklistItem, rd *ReferenceData, cal Calendar) (time.Time, bool) {
	start := item.Received()
	if start.IsZero() {
		return time.Time{}, false
	}
	deferred := item.List == ListAppointmentSlotIssues
	days, ok := rd.ContactDays(item.Priority, deferred)
	if !ok {
		return time.Time{}, false
	}
	due := cal.AddWorkingDays(start, days)
	if !item.AppointmentStart.IsZero() {
		y, m, d := item.AppointmentStart.In(start.Location()).Date()
		appt := time.Date(y, m, d, 0, 0, 0, 0, start.Location())
		if appt.Before(due) {
			due = appt
		}
	}
	return due, true
}
