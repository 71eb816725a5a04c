package vetting

import (
	"fmt"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// formatSize writes a byte count as "840 bytes", "12 KB" or "1.2 MB".
func formatSize(n int64) string {
	switch {
	case n <= 0:
		return "size unknown"
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%d KB", (n+512)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// fileTypeLabel names a content type in plain words.
func fileTypeLabel(contentType string) string {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case "application/pdf":
		return "PDF"
	case "image/png":
		return "PNG image"
	case "image/jpeg", "image/jpg":
		return "JPEG image"
	case "image/tiff":
		return "TIFF image"
	case "image/gif":
		return "GIF image"
	case "image/bmp":
		return "BMP image"
	case "text/plain":
		return "Text"
	case "text/rtf", "application/rtf":
		return "Rich text"
	case "text/html":
		return "Web page"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return "Word document"
	case "application/msword":
		return "Word 97 document"
	case "":
		return "Unknown type"
	}
	return ct
}

// changedLabel is the worklist's "changed since review" badge text.
func changedLabel(s triage.RequestContextStatus) string {
	switch {
	case s.LetterChanged() && s.PriorityChanged():
		return "Letter+priority"
	case s.LetterChanged():
		return "Letter changed"
	case s.PriorityChanged():
		return "Priority changed"
	}
	return ""
}

// plural writes "1 referral" / "3 referrals".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// reviewOverdue reports whether a referral due for review by rb is overdue
// at now: only once the day it is due has passed (a review-by date of
// today is not overdue yet).
func reviewOverdue(rb, now time.Time) bool {
	if rb.IsZero() {
		return false
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.Local().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	}
	return day(rb).Before(day(now))
}
