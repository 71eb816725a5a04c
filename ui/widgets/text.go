package widgets

import (
	"strings"
	"time"
)

// ClockText writes a time as "14:05" when it is today (local time), and
// "02 Mar 14:05" otherwise; "never" when unknown.
func ClockText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	lt, ln := t.Local(), now.Local()
	if lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay() {
		return lt.Format("15:04")
	}
	return lt.Format("02 Jan 15:04")
}

// DayText writes a day as "02 Jan 2006" (local time); "–" when unknown.
func DayText(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Local().Format("02 Jan 2006")
}

// UBRNText groups a UBRN in fours ("0000 1234 5678").
func UBRNText(u string) string {
	n := strings.ReplaceAll(u, " ", "")
	if len(n) != 12 {
		return u
	}
	return n[:4] + " " + n[4:8] + " " + n[8:]
}

// WrapText breaks s into lines of about width characters, for dialogs.
func WrapText(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
