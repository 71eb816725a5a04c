package main

import (
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestDecisionFlags: decide's and outbox amend's words, in any case, build
// the decision; any other word is a usage error naming what is allowed.
func TestDecisionFlags(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		kind    string
		args    []string
		want    triage.Decision
		wantErr string
	}{
		{kind: "ACCEPT", want: triage.Decision{Kind: triage.DecisionAccept}},
		{kind: "reject", args: []string{"--reason", " OTHER ", "--comment", "Seen elsewhere.", "--pas-cancelled", "Yes"},
			want: triage.Decision{Kind: triage.DecisionReject, Reason: triage.Coding{Code: "OTHER"}, Comments: "Seen elsewhere.", AppointmentCancelledInPAS: &yes}},
		{kind: "redirect", args: []string{"--pas-cancelled", "false", "--priority", "2WW"},
			want: triage.Decision{Kind: triage.DecisionRedirect, AppointmentCancelledInPAS: &no, NewPriority: triage.PriorityTwoWeekWait}},
		{kind: "triage", args: []string{"--outcome", "book-later", "--priority", "urgent"},
			want: triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeAcceptReferBookLater, NewPriority: triage.PriorityUrgent}},
		{kind: "review", args: []string{"--outcome", "return-with-advice"},
			want: triage.Decision{Kind: triage.DecisionReviewOutcome, Outcome: triage.OutcomeReturnToReferrerWithAdvice}},
		{kind: "defer", wantErr: `"defer" is not a decision: use accept, reject, redirect or review`},
		{kind: "reject", args: []string{"--pas-cancelled", "maybe"}, wantErr: "--pas-cancelled must be yes or no"},
		{kind: "redirect", args: []string{"--priority", "soon"}, wantErr: "--priority must be routine, urgent or 2ww"},
		{kind: "review", args: []string{"--outcome", "later"}, wantErr: "--outcome must be return or book-later"},
	} {
		fs := flag.NewFlagSet("decide", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var df decisionFlags
		df.add(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got, err := df.decision("100000000001", tc.kind)
		if tc.wantErr != "" {
			var ue usageError
			if !errors.As(err, &ue) || err.Error() != tc.wantErr {
				t.Errorf("%s %v: error %v, want the usage error %q", tc.kind, tc.args, err, tc.wantErr)
			}
			continue
		}
		tc.want.UBRN = "100000000001"
		if err != nil || !sameDecision(got, tc.want) {
			t.Errorf("%s %v: %+v, %v; want %+v", tc.kind, tc.args, got, err, tc.want)
		}
	}
}

func sameDecision(a, b triage.Decision) bool {
	pas := func(p *bool) string {
		if p == nil {
			return "unset"
		}
		return map[bool]string{true: "yes", false: "no"}[*p]
	}
	return a.UBRN == b.UBRN && a.Kind == b.Kind && a.Reason == b.Reason && a.Comments == b.Comments &&
		pas(a.AppointmentCancelledInPAS) == pas(b.AppointmentCancelledInPAS) && a.NewPriority == b.NewPriority && a.Outcome == b.Outcome
}
