package vetting

import (
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// rejectFormWithReason opens a booked referral's reject form with the
// first reason chosen.
func rejectFormWithReason(t *testing.T) (*harness, *referralPanel, *decisionForm) {
	t.Helper()
	h := newHarness(t, harnessOptions{})
	p := h.open(h.booked(false).UBRN)
	h.typeKeys("r")
	f := p.decision.form
	if f == nil || f.kind != triage.DecisionReject {
		t.Fatal("R did not open the reject form")
	}
	f.reason.SetSelectedIndex(0)
	return h, p, f
}

// TestConfirmSaysTheOperationInWords: the confirm step says what is sent
// to e-RS in words, not as if the operation number were a reason code.
func TestConfirmSaysTheOperationInWords(t *testing.T) {
	h, p, f := rejectFormWithReason(t)
	f.comments.SetText("Please refer to the community service first.")
	h.shortcut(ctrlEnter)
	if p.decision.confirm == nil {
		t.Fatalf("no confirm step: %q", f.Problem(triage.FieldComments))
	}
	text := p.decision.confirm.Text()
	if strings.Contains(text, "(e-RS A014)") || !strings.Contains(text, "sent to e-RS as a rejection (A014)") {
		t.Errorf("confirm step: %s", text)
	}
}

// TestCommentCountAgreesWithTheError: the counter under the comment box
// and the message on review count the same characters (what is sent: the
// comment without its leading and trailing spaces and new lines).
func TestCommentCountAgreesWithTheError(t *testing.T) {
	h, _, f := rejectFormWithReason(t)
	f.comments.SetText(strings.Repeat("x", 2149) + "\n")
	if want := "2149 / 2000 characters – 149 too many"; f.counter.Text != want {
		t.Errorf("counter %q, want %q", f.counter.Text, want)
	}
	h.shortcut(ctrlEnter)
	if got := f.Problem(triage.FieldComments); !strings.Contains(got, "these are 2149") || !strings.Contains(got, "by 149") {
		t.Errorf("comment message %q", got)
	}
}

// TestReviewByTodayIsNotOverdue: a referral due for review today is not
// overdue until the day is over, whatever the time of day.
func TestReviewByTodayIsNotOverdue(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 30, 0, 0, time.Local)
	today := time.Date(2026, 3, 10, 0, 0, 0, 0, time.Local)
	for _, c := range []struct {
		rb   time.Time
		want bool
	}{
		{today, false},
		{today.Add(23 * time.Hour), false},
		{today.AddDate(0, 0, 1), false},
		{today.AddDate(0, 0, -1), true},
		{today.Add(-time.Minute), true},
		{time.Time{}, false},
	} {
		if got := reviewOverdue(c.rb, now); got != c.want {
			t.Errorf("review by %v at %v: overdue %v, want %v", c.rb, now, got, c.want)
		}
	}
	// The worklist's Review-by column says so too.
	wl := &WorklistPanel{now: func() time.Time { return now }}
	for col := range columns {
		if columns[col].sort != triage.ColumnReviewBy {
			continue
		}
		if text, _ := wl.cellText(&triage.Row{ReviewBy: today}, col); strings.Contains(text, "overdue") {
			t.Errorf("review by today shown as %q", text)
		}
		if text, _ := wl.cellText(&triage.Row{ReviewBy: today.AddDate(0, 0, -1)}, col); !strings.Contains(text, "overdue") {
			t.Errorf("review by yesterday shown as %q", text)
		}
	}
}
