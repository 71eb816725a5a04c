package triage

import "time"

// Calendar counts working days: Monday to Friday, excluding bank holidays.
// The zero Calendar has no bank holidays.
type Calendar struct {
	holidays map[civilDate]bool
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// NewCalendar returns a calendar that treats the given days as holidays. Only
// the date part of each time matters.
func NewCalendar(holidays ...time.Time) Calendar {
	c := Calendar{holidays: make(map[civilDate]bool, len(holidays))}
	for _, h := range holidays {
		c.holidays[dateOf(h)] = true
	}
	return c
}

// IsWorkingDay reports whether t falls on a weekday that is not a holiday.
func (c Calendar) IsWorkingDay(t time.Time) bool {
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.holidays[dateOf(t)]
}

// AddWorkingDays returns the date n working days after start (the day itself
// does not count), at midnight in start's location. With n = 0 it returns
// start's own date.
func (c Calendar) AddWorkingDays(start time.Time, n int) time.Time {
	y, m, d := start.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, start.Location())
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.IsWorkingDay(t) {
			n--
		}
	}
	return t
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
